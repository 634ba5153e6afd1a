'use strict';
/**
 * Runs Bun.mmap on one case in a fresh Bun process; the same protocol as
 * contenders/node.js. Bun.mmap maps a file by path into a Uint8Array; it has
 * no anonymous memory, no unmap (the garbage collector unmaps) and no flush.
 *
 *   bun contenders/bun.js '<json of {case, variant, path, size, count, round}>'
 */
const work = require('../lib/work');

const { Unsupported, secondsSince } = work;

function warm(fn, times = 200) {
  for (let i = 0; i < times; i++) fn();
}

function map(file, size) {
  const bytes = Bun.mmap(file, { size, shared: false });
  if (bytes.length !== size) throw new Unsupported(`asked for ${size} bytes, got ${bytes.length}`);
  return bytes;
}

const cases = {
  random({ path: file, size, count }) {
    const slots = work.randomSlots(count, size / 8 - 1);
    const small = work.randomSlots(1000, 31);
    const scratch = new Uint32Array(64);
    warm(() => work.xorSlots(scratch, small));
    const words = work.wordsOf(map(file, size));
    const start = process.hrtime.bigint();
    const checksum = work.xorSlots(words, slots);
    return { seconds: secondsSince(start), checksum };
  },
  scan({ path: file, size }) {
    warm(() => work.sumWords(new Uint32Array(16384)));
    const words = work.wordsOf(map(file, size));
    const start = process.hrtime.bigint();
    const checksum = work.sumWords(words);
    return { seconds: secondsSince(start), checksum };
  },
  firstByte({ path: file, size }) {
    const start = process.hrtime.bigint();
    const bytes = map(file, size);
    const last = bytes[size - 1];
    return { seconds: secondsSince(start), checksum: last, note: 'no unmap: freed by the GC' };
  },
  memory({ path: file, size }) {
    const before = process.memoryUsage();
    const bytes = map(file, size);
    const checksum = work.readEveryNthPage(bytes, 100);
    const after = process.memoryUsage();
    return { rss: after.rss, rssDelta: after.rss - before.rss, heapUsed: after.heapUsed, checksum };
  },
};

function main() {
  const params = JSON.parse(process.argv[2]);
  let result;
  try {
    const run = cases[params.case];
    if (run === undefined) throw new Unsupported(`no Bun.mmap contender for ${params.case}`);
    result = { ok: true, ...run(params) };
  } catch (error) {
    result = { ok: false, reason: error instanceof Unsupported ? error.message : `${error.code ?? error.name}: ${error.message}` };
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main();
