// Two processes add to the same counters at the same time, through one file
// that both map shared: the kernel gives them the same physical pages.
//
// Atomics.add on such a page is atomic across the processes, because it is
// a single locked instruction on that memory. A read followed by a write (here
// through a DataView) is not: an increment the other process makes between
// the two is overwritten, and lost.
//
//   node examples/shared-counter.js [increments per process]    (default 1000000)
'use strict';

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { MmapFlags, MmapOptions } = require('..');

const PROCESSES = 2;
// The shared file: three 32-bit words, in the machine's byte order.
const ATOMIC = 0; // counted with Atomics.add
const PLAIN = 1; // counted with a DataView read, then a write
const STARTED = 2; // how many processes reached each start line
const SIZE = 3 * Int32Array.BYTES_PER_ELEMENT;

function mapShared(file) {
  const fd = fs.openSync(file, 'r+');
  try {
    return new MmapOptions(SIZE).withFile(fd).withFlags(MmapFlags.SHARED).mapMut();
  } finally {
    fs.closeSync(fd); // the mapping keeps the file's pages
  }
}

// What each child process runs.
function count(file, increments) {
  const mapping = mapShared(file);
  // Both views are the mapped page itself. The Int32Array starts at the
  // mapping's start, which is page aligned: Atomics need aligned elements.
  const words = new Int32Array(mapping.buffer);
  const data = new DataView(mapping.buffer);
  const plain = PLAIN * Int32Array.BYTES_PER_ELEMENT;
  const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

  // Each loop starts when both processes are ready: a process running alone
  // could finish before the other one begins, and then nothing would race.
  const startTogether = (line) => {
    Atomics.add(words, STARTED, 1);
    const deadline = Date.now() + 30_000;
    while (Atomics.load(words, STARTED) < line * PROCESSES) {
      if (Date.now() > deadline) throw new Error('shared-counter: the other process never arrived');
    }
  };

  startTogether(1);
  for (let i = 0; i < increments; i++) Atomics.add(words, ATOMIC, 1);
  startTogether(2);
  for (let i = 0; i < increments; i++) data.setInt32(plain, data.getInt32(plain, littleEndian) + 1, littleEndian);
  mapping.unmap();
}

function run(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [__filename, ...args], { stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`shared-counter: a counting process failed (${signal ?? `exit code ${code}`})`));
    });
  });
}

async function main() {
  const increments = Number(process.argv[2] ?? 1_000_000);
  if (!Number.isSafeInteger(increments) || increments < 1) throw new Error(`shared-counter: increments must be a positive integer, got ${process.argv[2]}`);
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'memmap-shared-counter-'));
  try {
    const file = path.join(directory, 'counters.bin');
    fs.writeFileSync(file, new Uint8Array(SIZE));
    await Promise.all(Array.from({ length: PROCESSES }, () => run(['--count', file, String(increments)])));

    const mapping = mapShared(file);
    const words = new Int32Array(mapping.buffer);
    const [atomic, plain] = [Atomics.load(words, ATOMIC), Atomics.load(words, PLAIN)];
    mapping.unmap();

    const expected = PROCESSES * increments;
    console.log(`shared-counter: ${PROCESSES} processes each added 1, ${increments} times, to two counters in one shared mapping`);
    console.log(`shared-counter:   Atomics.add          ${atomic} (expected ${expected})`);
    const lost = expected - plain;
    // How many the race loses depends on how the two loops overlap in time.
    const why = lost === 0 ? 'none lost this time; the race depends on timing' : `${lost} increments lost to the race`;
    console.log(`shared-counter:   DataView get + set   ${plain} (${why})`);
    if (atomic !== expected) throw new Error(`shared-counter: Atomics.add counted ${atomic}, not ${expected}`);
  } finally {
    fs.rmSync(directory, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--count') {
  count(process.argv[3], Number(process.argv[4]));
} else {
  main().catch((error) => {
    console.error(error);
    process.exitCode = 1;
  });
}
