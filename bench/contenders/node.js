'use strict';
/**
 * Runs one contender on one case in a fresh Node process and prints one JSON
 * line: {ok, seconds | rss…, checksum} or {ok: false, reason}. A case may
 * return a promise, to let the event loop turn. The ping-pong and ring-queue
 * cases start this program again as their partner process, and the shared-sum
 * and ring-queue cases as their workers.
 *
 *   node contenders/node.js '<json of {case, contender, variant, path, size, count, round}>'
 */
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync, spawn } = require('node:child_process');
const { once } = require('node:events');
const { setImmediate: nextTurn } = require('node:timers/promises');
const { Worker, isMainThread, parentPort, workerData } = require('node:worker_threads');
const work = require('../lib/work');
const { FLOOR_ADDON } = require('../lib/setup');

const { Unsupported, secondsSince } = work;
const PAGE = 4096;

function memmap() {
  return require(path.join(__dirname, '..', '..'));
}

function mmapIo() {
  return require('@riaskov/mmap-io');
}

/** The Node-API floor, bench/c/floor.c, as run.js compiled it. */
function floorAddon() {
  return require(FLOOR_ADDON);
}

/** A fresh process warms the JIT on a small workload before the timed one. */
function warm(fn, times = 200) {
  for (let i = 0; i < times; i++) fn();
}

// mmap-io hands sizes through a C int; catch its silent truncation.
function mmapIoMap(size, prot, flags, fd) {
  const m = mmapIo();
  const bytes = m.map(size, prot, flags, fd);
  if (bytes.length !== size) {
    throw new Unsupported(`asked for ${size} bytes, got ${bytes.length} (size passes through a C int)`);
  }
  return bytes;
}

const MAP_ANONYMOUS = 0x20;
const MADV_HUGEPAGE = 14;

/** Each case: contender name → function(params) → result. */
const cases = {
  lifecycle: {
    memmap({ count }) {
      const { MmapOptions } = memmap();
      const once = () => {
        const page = new MmapOptions(PAGE).mapMut();
        page.bytes[0] = 1;
        page.unmap();
      };
      warm(once, count / 10);
      const start = process.hrtime.bigint();
      for (let i = 0; i < count; i++) once();
      return { seconds: secondsSince(start), checksum: count };
    },
    // memmap's shape: one native call maps and returns the buffer, one unmaps.
    floor({ count }) {
      const floor = floorAddon();
      const once = () => {
        const buffer = floor.map(PAGE);
        new Uint8Array(buffer)[0] = 1;
        floor.unmap(buffer);
      };
      warm(once, count / 10);
      const start = process.hrtime.bigint();
      for (let i = 0; i < count; i++) once();
      return { seconds: secondsSince(start), checksum: count };
    },
    mmapio({ count }) {
      const m = mmapIo();
      // No unmap: the pages go when the garbage collector frees the Buffer.
      const once = () => {
        const page = m.map(PAGE, m.PROT_READ | m.PROT_WRITE, m.MAP_PRIVATE | MAP_ANONYMOUS, -1);
        page[0] = 1;
      };
      warm(once, count / 10);
      const start = process.hrtime.bigint();
      for (let i = 0; i < count; i++) once();
      return { seconds: secondsSince(start), checksum: count, note: 'no unmap: freed by the GC' };
    },
  },

  random: {
    memmap({ path: file, size, count }) {
      const { MmapOptions } = memmap();
      const slots = work.randomSlots(count, size / 8 - 1);
      warmXor();
      const fd = fs.openSync(file, 'r');
      const mapping = new MmapOptions(size).withFile(fd).map();
      fs.closeSync(fd);
      const words = work.wordsOf(mapping.bytes);
      const start = process.hrtime.bigint();
      const checksum = work.xorSlots(words, slots);
      const seconds = secondsSince(start);
      mapping.unmap();
      return { seconds, checksum };
    },
    fs({ path: file, size, count }) {
      const slots = work.randomSlots(count, size / 8 - 1);
      const fd = fs.openSync(file, 'r');
      const buffer = Buffer.alloc(8);
      const words = work.wordsOf(buffer);
      const read = (n) => {
        let acc = 0;
        for (let i = 0; i < n; i++) {
          fs.readSync(fd, buffer, 0, 8, slots[i] * 8);
          acc ^= words[0] ^ words[1];
        }
        return acc >>> 0;
      };
      warm(() => read(100), 20);
      const start = process.hrtime.bigint();
      const checksum = read(count);
      const seconds = secondsSince(start);
      fs.closeSync(fd);
      return { seconds, checksum };
    },
    mmapio({ path: file, size, count }) {
      const m = mmapIo();
      const slots = work.randomSlots(count, size / 8 - 1);
      warmXor();
      const fd = fs.openSync(file, 'r');
      const bytes = mmapIoMap(size, m.PROT_READ, m.MAP_PRIVATE, fd);
      fs.closeSync(fd);
      const words = work.wordsOf(bytes);
      const start = process.hrtime.bigint();
      const checksum = work.xorSlots(words, slots);
      return { seconds: secondsSince(start), checksum };
    },
  },

  scan: {
    memmap({ path: file, size }) {
      const { MmapOptions } = memmap();
      warm(() => work.sumWords(new Uint32Array(16384)));
      const fd = fs.openSync(file, 'r');
      const mapping = new MmapOptions(size).withFile(fd).map();
      fs.closeSync(fd);
      const words = work.wordsOf(mapping.bytes);
      const start = process.hrtime.bigint();
      const checksum = work.sumWords(words);
      const seconds = secondsSince(start);
      mapping.unmap();
      return { seconds, checksum };
    },
    heap({ path: file }) {
      warm(() => work.sumWords(new Uint32Array(16384)));
      const words = work.wordsOf(fs.readFileSync(file));
      const start = process.hrtime.bigint();
      const checksum = work.sumWords(words);
      return { seconds: secondsSince(start), checksum };
    },
    fs({ path: file, size }) {
      const chunk = Buffer.alloc(1 << 20);
      const words = work.wordsOf(chunk);
      warm(() => work.sumWords(new Uint32Array(16384)));
      const fd = fs.openSync(file, 'r');
      const start = process.hrtime.bigint();
      let sum = 0;
      for (let offset = 0; offset < size; offset += chunk.length) {
        fs.readSync(fd, chunk, 0, chunk.length, offset);
        sum = (sum + work.sumWords(words)) | 0;
      }
      const seconds = secondsSince(start);
      fs.closeSync(fd);
      return { seconds, checksum: sum >>> 0 };
    },
    mmapio({ path: file, size }) {
      const m = mmapIo();
      warm(() => work.sumWords(new Uint32Array(16384)));
      const fd = fs.openSync(file, 'r');
      const bytes = mmapIoMap(size, m.PROT_READ, m.MAP_PRIVATE, fd);
      fs.closeSync(fd);
      const words = work.wordsOf(bytes);
      const start = process.hrtime.bigint();
      const checksum = work.sumWords(words);
      return { seconds: secondsSince(start), checksum };
    },
  },

  firstByte: {
    memmap({ path: file, size }) {
      const { MmapOptions } = memmap();
      const start = process.hrtime.bigint();
      const fd = fs.openSync(file, 'r');
      const mapping = new MmapOptions(size).withFile(fd).map();
      fs.closeSync(fd);
      const last = mapping.bytes[size - 1];
      mapping.unmap();
      return { seconds: secondsSince(start), checksum: last };
    },
    fs({ path: file, size }) {
      const start = process.hrtime.bigint();
      const bytes = fs.readFileSync(file);
      const last = bytes[size - 1];
      return { seconds: secondsSince(start), checksum: last };
    },
    mmapio({ path: file, size }) {
      const m = mmapIo();
      const start = process.hrtime.bigint();
      const fd = fs.openSync(file, 'r');
      const bytes = mmapIoMap(size, m.PROT_READ, m.MAP_PRIVATE, fd);
      fs.closeSync(fd);
      const last = bytes[size - 1];
      return { seconds: secondsSince(start), checksum: last, note: 'no unmap: freed by the GC' };
    },
    floor({ path: file, size }) {
      const floor = floorAddon();
      const start = process.hrtime.bigint();
      const fd = fs.openSync(file, 'r');
      const buffer = floor.map(size, fd);
      fs.closeSync(fd);
      const last = new Uint8Array(buffer)[size - 1];
      floor.unmap(buffer);
      return { seconds: secondsSince(start), checksum: last };
    },
  },

  // firstByte with loading the library timed as well, and on its own.
  requireFirstByte: {
    memmap({ path: file, size }) {
      const start = process.hrtime.bigint();
      const { MmapOptions } = memmap();
      const requireSeconds = secondsSince(start);
      const fd = fs.openSync(file, 'r');
      const mapping = new MmapOptions(size).withFile(fd).map();
      fs.closeSync(fd);
      const last = mapping.bytes[size - 1];
      mapping.unmap();
      return { seconds: secondsSince(start), requireSeconds, checksum: last };
    },
    mmapio({ path: file, size }) {
      const start = process.hrtime.bigint();
      const m = mmapIo();
      const requireSeconds = secondsSince(start);
      const fd = fs.openSync(file, 'r');
      const bytes = mmapIoMap(size, m.PROT_READ, m.MAP_PRIVATE, fd);
      fs.closeSync(fd);
      const last = bytes[size - 1];
      return { seconds: secondsSince(start), requireSeconds, checksum: last, note: 'no unmap: freed by the GC' };
    },
    floor({ path: file, size }) {
      const start = process.hrtime.bigint();
      const floor = floorAddon();
      const requireSeconds = secondsSince(start);
      const fd = fs.openSync(file, 'r');
      const buffer = floor.map(size, fd);
      fs.closeSync(fd);
      const last = new Uint8Array(buffer)[size - 1];
      floor.unmap(buffer);
      return { seconds: secondsSince(start), requireSeconds, checksum: last };
    },
  },

  faults: {
    memmap({ variant, size }) {
      const { MmapOptions, MmapFlags } = memmap();
      warm(() => work.touchPages(new Uint8Array(PAGE * 4)));
      const options = new MmapOptions(size);
      if (variant === 'populate') options.withFlags(MmapFlags.POPULATE);
      if (variant === 'thp') options.withFlags(MmapFlags.TRANSPARENT_HUGE_PAGES);
      if (variant === 'huge2m') options.withPageSize(2 << 20);
      const start = process.hrtime.bigint();
      const mapping = options.mapMut();
      const checksum = work.touchPages(mapping.bytes);
      mapping.unmap();
      return { seconds: secondsSince(start), checksum };
    },
    mmapio({ variant, size }) {
      const m = mmapIo();
      if (variant === 'huge2m') throw new Unsupported('no MAP_HUGETLB page size selection');
      warm(() => work.touchPages(new Uint8Array(PAGE * 4)));
      let flags = m.MAP_PRIVATE | MAP_ANONYMOUS;
      if (variant === 'populate') flags |= m.MAP_POPULATE;
      const start = process.hrtime.bigint();
      const bytes = mmapIoMap(size, m.PROT_READ | m.PROT_WRITE, flags, -1);
      if (variant === 'thp') m.advise(bytes, MADV_HUGEPAGE);
      const checksum = work.touchPages(bytes);
      return { seconds: secondsSince(start), checksum, note: 'no unmap: freed by the GC' };
    },
  },

  flush: {
    memmap({ path: file, size, round }) {
      const { MmapOptions, MmapFlags } = memmap();
      const fd = fs.openSync(file, 'r+');
      const mapping = new MmapOptions(size).withFile(fd).withFlags(MmapFlags.SHARED).mapMut();
      fs.closeSync(fd);
      const start = process.hrtime.bigint();
      mapping.bytes.fill(round & 0xff);
      mapping.flush();
      const seconds = secondsSince(start);
      mapping.unmap();
      return { seconds, checksum: round & 0xff };
    },
    fs({ path: file, size, round }) {
      const fd = fs.openSync(file, 'r+');
      const buffer = Buffer.alloc(size);
      const start = process.hrtime.bigint();
      buffer.fill(round & 0xff);
      for (let offset = 0; offset < size; ) offset += fs.writeSync(fd, buffer, offset, size - offset, offset);
      fs.fsyncSync(fd);
      const seconds = secondsSince(start);
      fs.closeSync(fd);
      return { seconds, checksum: round & 0xff };
    },
    mmapio({ path: file, size, round }) {
      const m = mmapIo();
      const fd = fs.openSync(file, 'r+');
      const bytes = mmapIoMap(size, m.PROT_READ | m.PROT_WRITE, m.MAP_SHARED, fd);
      fs.closeSync(fd);
      const start = process.hrtime.bigint();
      bytes.fill(round & 0xff);
      m.sync(bytes, 0, size, true);
      return { seconds: secondsSince(start), checksum: round & 0xff };
    },
  },

  calls: {
    memmap({ count, variant }) {
      // numbers: true, as koffi and the floor return numbers: no bigint per call.
      const add = generatedAdd().asFunction(0, { args: [variant, variant], returns: variant, numbers: true });
      return timeCalls(add, count, 1);
    },
    koffi({ count, variant }) {
      const koffi = require('koffi');
      // koffi 3.3 crashes calling a raw function pointer before it has loaded
      // any library; loading the main program sets it up.
      koffi.load(null);
      const code = generatedAdd();
      const type = variant === 'i64' ? 'int64_t' : 'int32_t';
      const add = koffi.decode(code.start, koffi.proto(`${type} add(${type}, ${type})`));
      const result = timeCalls(add, count, 1);
      code.unmap(); // also keeps the code alive, out of the garbage collector's reach, until here
      return result;
    },
    js({ count }) {
      const add = (a, b) => a + b;
      return timeCalls(add, count, 1);
    },
    floor({ count, variant }) {
      const floor = floorAddon();
      return timeCalls(variant === 'i64' ? floor.addInt64 : floor.addInt32, count, 1);
    },
  },

  memory: {
    memmap({ path: file, size }) {
      const { MmapOptions } = memmap();
      const { MAX_LENGTH } = require('node:buffer').constants;
      const before = process.memoryUsage();
      const fd = fs.openSync(file, 'r');
      const mapping = new MmapOptions(size).withFile(fd).map();
      fs.closeSync(fd);
      // Node 20 caps one ArrayBuffer at 4 GiB: reach the rest through windows.
      const window = Math.min(size, 2 ** 30, MAX_LENGTH);
      let sum = 0;
      for (let base = 0; base < size; base += window) {
        const bytes = mapping.view(base, Math.min(window, size - base));
        const first = Math.ceil(base / (100 * PAGE)) * 100 * PAGE - base;
        for (let offset = first; offset < bytes.length; offset += 100 * PAGE) sum += bytes[offset];
      }
      return memoryResult(before, sum);
    },
    fs({ path: file }) {
      const before = process.memoryUsage();
      const bytes = fs.readFileSync(file);
      return memoryResult(before, work.readEveryNthPage(bytes, 100));
    },
    mmapio({ path: file, size }) {
      const m = mmapIo();
      const before = process.memoryUsage();
      const fd = fs.openSync(file, 'r');
      const bytes = mmapIoMap(size, m.PROT_READ, m.MAP_PRIVATE, fd);
      fs.closeSync(fd);
      return memoryResult(before, work.readEveryNthPage(bytes, 100));
    },
  },

  // The bounds-checked copying accessors (read(), getUint32()) against
  // unguarded copies of the same bytes.
  guarded: {
    // `unguarded` runs the same code on the addon built without the fault guard.
    memmap: guardedReads,
    unguarded: guardedReads,
    views({ variant, path: file, size, count }) {
      const { MmapOptions } = memmap();
      const fd = fs.openSync(file, 'r');
      const mapping = new MmapOptions(size).withFile(fd).map();
      fs.closeSync(fd);
      const bytes = mapping.bytes;
      const data = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const slots = work.randomSlots(count, size / 8 - 1);
      const read =
        variant === 'read'
          ? (at) => { const copy = bytes.slice(at, at + 8); return copy[0] ^ copy[7]; }
          : (at) => data.getUint32(at, true) ^ data.getUint32(at + 4, true);
      return timeSlots(slots, read);
    },
  },

  // The same loop three times: each mapping dropped for the garbage
  // collector's finalizers to unmap, unmapped on the spot, or mapped and
  // unmapped by the floor.
  gcRelease: {
    memmap({ count }) {
      const { MmapOptions } = memmap();
      return timeMappings(count, () => {
        const page = new MmapOptions(PAGE).mapMut();
        page.bytes[0] = 1;
      });
    },
    unmap({ count }) {
      const { MmapOptions } = memmap();
      return timeMappings(count, () => {
        const page = new MmapOptions(PAGE).mapMut();
        page.bytes[0] = 1;
        page.unmap();
      });
    },
    floor({ count }) {
      const floor = floorAddon();
      return timeMappings(count, () => {
        const buffer = floor.map(PAGE);
        new Uint8Array(buffer)[0] = 1;
        floor.unmap(buffer);
      });
    },
  },

  // Two processes take turns `count` times (after untimed warm-up turns);
  // the partner is this program again, as the `pingPongPartner` case.
  pingPong: {
    memmap: ({ count }) => pingPong(count, 'memmap'),
    pipe: ({ count }) => pingPong(count, 'pipe'),
  },
  pingPongPartner: {
    memmap({ count }) {
      const { MmapOptions, SharedMemory } = memmap();
      const shm = SharedMemory.fromFd(3);
      const mapping = new MmapOptions(PAGE).withSharedMemory(shm).mapMut();
      shm.close();
      const word = new Int32Array(mapping.buffer, 0, 1);
      // Turn i: the word is 2i until the other side makes it 2i + 1; answer 2i + 2.
      for (let i = 0; i < count; i++) {
        while (Atomics.load(word, 0) !== 2 * i + 1) waitTurn(mapping, 2 * i);
        Atomics.store(word, 0, 2 * i + 2);
        mapping.notify(0);
      }
      mapping.unmap();
      return { checksum: count };
    },
    pipe({ count, path: dir }) {
      const input = fs.openSync(path.join(dir, 'to-partner'), 'r');
      const output = fs.openSync(path.join(dir, 'from-partner'), 'w');
      const byte = Buffer.alloc(1);
      for (let i = 0; i < count; i++) {
        if (fs.readSync(input, byte, 0, 1, null) !== 1) throw new Error(`the pipe closed after ${i} turns`);
        fs.writeSync(output, byte, 0, 1, null);
      }
      fs.closeSync(input);
      fs.closeSync(output);
      return { checksum: count };
    },
  },

  sharedSum: {
    memmap: ({ size }) => sumInWorkers(size, 2),
    one: ({ size }) => sumInWorkers(size, 1),
  },

  // A partner process writes `count` records (after untimed warm-up ones);
  // this process reads them. The partner is this program again, as the
  // `ringQueuePartner` case; the postMessage row uses a worker instead.
  ringQueue: {
    memmap: ({ count }) => streamFromPartner(count, 'memmap'),
    pipe: ({ count }) => streamFromPartner(count, 'pipe'),
    postMessage: ({ count }) => streamFromWorker(count),
  },
  ringQueuePartner: {
    memmap({ count }) {
      const queue = ringQueue().fromFd(3);
      const record = new Uint32Array(RECORD / 4);
      for (let i = 0; i < count; i++) {
        record[0] = i;
        queue.write(record);
      }
      queue.close();
      queue.unmap();
      return { checksum: count };
    },
    pipe({ count, path: dir }) {
      const output = fs.openSync(path.join(dir, 'stream'), 'w');
      const record = Buffer.alloc(RECORD);
      for (let i = 0; i < count; i++) {
        record.writeUInt32LE(i, 0);
        for (let done = 0; done < RECORD; ) done += fs.writeSync(output, record, done, RECORD - done, null);
      }
      fs.closeSync(output);
      return { checksum: count };
    },
  },
};

const RECORD = 64 * 1024;
const RING_CAPACITY = 1 << 20;
const WARM_RECORDS = 16;
/** Records the producer worker may have in flight, and how many the reader acknowledges at once. */
const WINDOW = RING_CAPACITY / RECORD;
const ACK_EVERY = WINDOW / 2;

/** RingQueue: from the package once it exports it, else from its compiled module. */
function ringQueue() {
  return memmap().RingQueue ?? require(path.join(__dirname, '..', '..', 'dist', 'queue.js')).RingQueue;
}

/**
 * Reads WARM_RECORDS + count records of 64 KiB from a partner process,
 * timing the last `count`: through a RingQueue of 1 MiB whose descriptor is
 * the partner's descriptor 3 (readInto, blocking), or through a FIFO
 * (readSync). Each record starts with its index as a 32-bit word; the
 * checksum is the sum of the timed records' indices, modulo 2^32.
 */
async function streamFromPartner(count, variant) {
  const total = WARM_RECORDS + count;
  const into = Buffer.alloc(RECORD);
  let readRecord;
  let extraFds = [];
  let dir;
  let cleanUp = () => {};
  let queue;
  if (variant === 'memmap') {
    queue = ringQueue().create(RING_CAPACITY);
    extraFds = [queue.fd];
    readRecord = () => {
      let filled = 0;
      while (filled < RECORD) {
        const got = queue.readInto(into.subarray(filled));
        if (got === 0) throw new Error('the queue ended early');
        filled += got;
      }
    };
    cleanUp = () => queue.unmap();
  } else {
    dir = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'memmap-bench-'));
    execFileSync('mkfifo', [path.join(dir, 'stream')]);
  }
  const partner = spawn(process.execPath, [__filename, JSON.stringify({ case: 'ringQueuePartner', contender: variant, count: total, path: dir })], {
    stdio: ['ignore', 'pipe', 'inherit', ...extraFds],
  });
  let stdout = '';
  partner.stdout.on('data', (chunk) => (stdout += chunk));
  const closed = once(partner, 'close');
  try {
    if (variant === 'pipe') {
      // Blocks until the partner opens the other end.
      const input = fs.openSync(path.join(dir, 'stream'), 'r');
      readRecord = () => {
        for (let filled = 0; filled < RECORD; ) {
          const got = fs.readSync(input, into, filled, RECORD - filled, null);
          if (got === 0) throw new Error('the pipe closed early');
          filled += got;
        }
      };
      cleanUp = () => fs.closeSync(input);
    }
    let checksum = 0;
    const check = (i) => {
      if (into.readUInt32LE(0) !== i) throw new Error(`record ${i} came as ${into.readUInt32LE(0)}`);
    };
    for (let i = 0; i < WARM_RECORDS; i++) {
      readRecord();
      check(i);
    }
    const start = process.hrtime.bigint();
    for (let i = WARM_RECORDS; i < total; i++) {
      readRecord();
      check(i);
      checksum = (checksum + i) >>> 0;
    }
    const seconds = secondsSince(start);
    if (queue !== undefined && queue.read() !== null) throw new Error('more than the records came');
    cleanUp();
    await closed;
    const answer = JSON.parse(stdout.trim().split('\n').pop() ?? '{}');
    if (!answer.ok) throw new Error(`the partner failed: ${answer.reason ?? stdout}`);
    return { seconds, checksum };
  } finally {
    partner.kill();
    if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The same records from a worker, each a fresh ArrayBuffer transferred with
 * postMessage(); the worker keeps at most WINDOW in flight, and this thread
 * hands back credit every ACK_EVERY records.
 */
async function streamFromWorker(count) {
  const total = WARM_RECORDS + count;
  const worker = new Worker(__filename, { workerData: { kind: 'streamProducer', count: total } });
  try {
    let received = 0;
    let checksum = 0;
    let start;
    await new Promise((resolve, reject) => {
      worker.on('error', reject);
      worker.on('message', (buffer) => {
        const index = new Uint32Array(buffer, 0, 1)[0];
        if (buffer.byteLength !== RECORD || index !== received) {
          reject(new Error(`record ${received} came as ${index} of ${buffer.byteLength} bytes`));
          return;
        }
        if (received >= WARM_RECORDS) checksum = (checksum + index) >>> 0;
        received++;
        if (received === WARM_RECORDS) start = process.hrtime.bigint();
        if (received === total) resolve();
        else if (received % ACK_EVERY === 0) worker.postMessage(ACK_EVERY);
      });
    });
    return { seconds: secondsSince(start), checksum };
  } finally {
    await worker.terminate();
  }
}

/** The worker of streamFromWorker: posts `count` records, WINDOW at most in flight. */
function produceToParent({ count }) {
  let credit = WINDOW;
  let next = 0;
  const pump = () => {
    for (; credit > 0 && next < count; credit--, next++) {
      const buffer = new ArrayBuffer(RECORD);
      new Uint32Array(buffer, 0, 1)[0] = next;
      parentPort.postMessage(buffer, [buffer]);
    }
  };
  parentPort.on('message', (more) => {
    credit += more;
    pump();
  });
  pump();
}

const WARM_TURNS = 1000;
// A side stuck this long has lost its partner: fail rather than hang.
const TURN_TIMEOUT_MS = 10_000;

function waitTurn(mapping, value) {
  if (mapping.wait(0, value, TURN_TIMEOUT_MS) === 'timed-out') {
    throw new Error(`no turn within ${TURN_TIMEOUT_MS} ms (word ${value})`);
  }
}

/**
 * Hands the turn to a partner process and waits for it back, `count` times
 * after WARM_TURNS untimed ones (they also cover the partner's start-up):
 * through wait()/notify() on a SharedMemory mapped in both (passed as the
 * partner's descriptor 3), or one byte each way over two FIFOs. The checksum
 * is the number of turns the partner says it answered.
 */
async function pingPong(count, variant) {
  const total = WARM_TURNS + count;
  let turn;
  let extraFds = [];
  let dir;
  let cleanUp;
  if (variant === 'memmap') {
    const { MmapOptions, SharedMemory } = memmap();
    const shm = SharedMemory.create(PAGE);
    const mapping = new MmapOptions(PAGE).withSharedMemory(shm).mapMut();
    const word = new Int32Array(mapping.buffer, 0, 1);
    extraFds = [shm.fd];
    turn = (i) => {
      Atomics.store(word, 0, 2 * i + 1);
      mapping.notify(0);
      while (Atomics.load(word, 0) === 2 * i + 1) waitTurn(mapping, 2 * i + 1);
    };
    cleanUp = () => {
      shm.close();
      mapping.unmap();
    };
  } else {
    dir = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'memmap-bench-'));
    execFileSync('mkfifo', [path.join(dir, 'to-partner'), path.join(dir, 'from-partner')]);
  }
  const partner = spawn(process.execPath, [__filename, JSON.stringify({ case: 'pingPongPartner', contender: variant, count: total, path: dir })], {
    stdio: ['ignore', 'pipe', 'inherit', ...extraFds],
  });
  let stdout = '';
  partner.stdout.on('data', (chunk) => (stdout += chunk));
  const closed = once(partner, 'close');
  try {
    if (variant === 'pipe') {
      // Opening a FIFO blocks until the other end opens it: both sides open in the same order.
      const output = fs.openSync(path.join(dir, 'to-partner'), 'w');
      const input = fs.openSync(path.join(dir, 'from-partner'), 'r');
      const byte = Buffer.alloc(1);
      turn = (i) => {
        byte[0] = i;
        fs.writeSync(output, byte, 0, 1, null);
        if (fs.readSync(input, byte, 0, 1, null) !== 1 || byte[0] !== (i & 0xff)) throw new Error(`no answer to turn ${i}`);
      };
      cleanUp = () => {
        fs.closeSync(output);
        fs.closeSync(input);
      };
    }
    for (let i = 0; i < WARM_TURNS; i++) turn(i);
    const start = process.hrtime.bigint();
    for (let i = WARM_TURNS; i < total; i++) turn(i);
    const seconds = secondsSince(start);
    cleanUp();
    await closed;
    const answer = JSON.parse(stdout.trim().split('\n').pop() ?? '{}');
    if (!answer.ok) throw new Error(`the partner failed: ${answer.reason ?? stdout}`);
    return { seconds, checksum: answer.checksum };
  } finally {
    partner.kill();
    if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
  }
}

// Each worker sums views of at most this many bytes (one view is capped by
// the runtime's ArrayBuffer limit).
const CHUNK = 64 << 20;

/** Calls `fn(view, offset)` for the views of `[offset, offset + length)`, chunk by chunk. */
function forEachChunk(mapping, offset, length, fn) {
  for (let at = offset; at < offset + length; at += CHUNK) fn(mapping.view(at, Math.min(CHUNK, offset + length - at)), at);
}

/**
 * Fills an anonymous mapping of `size` bytes with known words (untimed),
 * shares it with `count` workers, each of which maps the token with
 * fromShared() and warms up, then times from posting "go" to every
 * worker's sum of its equal share of the words. The checksum is the sum of
 * all words, modulo 2^32.
 */
async function sumInWorkers(size, count) {
  const { MmapOptions } = memmap();
  const mapping = new MmapOptions(size).mapMut();
  forEachChunk(mapping, 0, size, (view, offset) => {
    const words = work.wordsOf(view);
    for (let i = 0, n = offset >>> 2; i < words.length; i++, n++) words[i] = Math.imul(n, 0x9e3779b1);
  });
  const token = mapping.share();
  const share = size / count;
  const workers = Array.from({ length: count }, (_, k) => new Worker(__filename, { workerData: { token, offset: k * share, length: share } }));
  // Listened for from the start: a worker may exit before its sum is awaited.
  const exits = workers.map((worker) => once(worker, 'exit'));
  const next = (worker) =>
    new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
  try {
    await Promise.all(workers.map(next));
    const sums = Promise.all(workers.map(next));
    const start = process.hrtime.bigint();
    for (const worker of workers) worker.postMessage('go');
    const results = await sums;
    const seconds = secondsSince(start);
    await Promise.all(exits);
    return { seconds, checksum: results.reduce((sum, part) => (sum + part) | 0, 0) >>> 0 };
  } finally {
    await Promise.all(workers.map((worker) => worker.terminate()));
    mapping.unmap();
  }
}

/** A worker of sumInWorkers: maps the token, warms up, says ready, sums its range on "go". */
function sumRange({ token, offset, length }) {
  const { MmapOptions } = memmap();
  const mapping = MmapOptions.fromShared(token);
  warm(() => work.sumWords(new Uint32Array(16384)));
  parentPort.once('message', () => {
    let sum = 0;
    forEachChunk(mapping, offset, length, (view) => {
      sum = (sum + work.sumWords(work.wordsOf(view))) | 0;
    });
    parentPort.postMessage(sum >>> 0);
    mapping.unmap();
  });
  parentPort.postMessage('ready');
}

const YIELD_EVERY = 1000;

/**
 * Runs `onePage` (map 4 KiB, write a byte into it, release it one way or
 * another) `count` times, yielding to the event loop every 1,000 pages; timed
 * until every page is unmapped again (see `drain`). Also reports the peak
 * growth of the resident set over that time, sampled at every yield.
 */
async function timeMappings(count, onePage) {
  let peakRss = 0;
  const sampleRss = () => {
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
  };
  const mapPages = async (n) => {
    for (let i = 1; i <= n; i++) {
      onePage();
      if (i % YIELD_EVERY === 0) {
        sampleRss();
        await nextTurn();
      }
    }
  };
  // Warm the loop up, then start from a collected heap with nothing left to unmap.
  await mapPages(count / 10);
  await drain();
  const rssBefore = process.memoryUsage.rss();
  peakRss = rssBefore;
  const start = process.hrtime.bigint();
  await mapPages(count);
  const collections = await drain(sampleRss);
  const seconds = secondsSince(start);
  return {
    seconds,
    checksum: count,
    peakRssGrowth: peakRss - rssBefore,
    note: `timed until unmapped: ${collections} gc() at the end`,
  };
}

const DRAIN_TURNS = 2;
const MAX_COLLECTIONS = 100;

/**
 * Forces full collections, each followed by two turns of the event loop (Node
 * runs the finalizers that unmap collected mappings from there), until one
 * frees no address space: the process's mapped size shrinks by a page for
 * every 4 KiB mapping unmapped, and V8 handing back pages of its own can only
 * make this go on longer. Collects at least once, so that both ways of
 * releasing pay the same final step. Returns the number of collections.
 */
async function drain(eachTurn = () => {}) {
  for (let collections = 1; collections <= MAX_COLLECTIONS; collections++) {
    const before = mappedPages();
    gc();
    for (let turn = 0; turn < DRAIN_TURNS; turn++) {
      eachTurn();
      await nextTurn();
    }
    if (mappedPages() >= before) return collections;
  }
  throw new Error(`address space still shrinking after ${MAX_COLLECTIONS} collections`);
}

/** The process's mapped size in pages (VmSize), from /proc/self/statm. */
function mappedPages() {
  return Number(fs.readFileSync('/proc/self/statm', 'utf8').split(' ', 1)[0]);
}

function timeSlots(slots, read) {
  const once = (n) => {
    let acc = 0;
    for (let i = 0; i < n; i++) acc ^= read(slots[i] * 8);
    return acc >>> 0;
  };
  warm(() => once(100), 50);
  const start = process.hrtime.bigint();
  const checksum = once(slots.length);
  return { seconds: secondsSince(start), checksum };
}

// Runs the read loop on a small array first, so the timed loop is optimized code.
function warmXor() {
  const slots = work.randomSlots(1000, 31);
  const words = new Uint32Array(64);
  warm(() => work.xorSlots(words, slots));
}

/** The 64-bit add of baseline.c, in an executable memmap handle. */
function generatedAdd() {
  const { MmapOptions } = memmap();
  const code = {
    x64: [0x48, 0x8d, 0x04, 0x37, 0xc3], // lea rax, [rdi+rsi]; ret
    arm64: [0x00, 0x00, 0x01, 0x8b, 0xc0, 0x03, 0x5f, 0xd6], // add x0, x0, x1; ret
  }[process.arch];
  if (code === undefined) throw new Unsupported(`no generated add for ${process.arch}`);
  const page = new MmapOptions(PAGE).mapMut();
  page.bytes.set(code);
  return page.makeExec();
}

/** Random 8-byte reads through the copying accessors. */
function guardedReads({ variant, path: file, size, count }) {
  const { MmapOptions } = memmap();
  const fd = fs.openSync(file, 'r');
  const mapping = new MmapOptions(size).withFile(fd).map();
  fs.closeSync(fd);
  const slots = work.randomSlots(count, size / 8 - 1);
  const read =
    variant === 'read'
      ? (at) => { const copy = mapping.read(at, 8); return copy[0] ^ copy[7]; }
      : (at) => mapping.getUint32(at, true) ^ mapping.getUint32(at + 4, true);
  return timeSlots(slots, read);
}

function timeCalls(add, count, step) {
  const loop = (n) => {
    let sum = 0;
    for (let i = 0; i < n; i++) sum = add(sum, step);
    return sum;
  };
  warm(() => loop(1000), 100);
  const start = process.hrtime.bigint();
  const sum = loop(count);
  return { seconds: secondsSince(start), checksum: Number(sum) };
}

function memoryResult(before, checksum) {
  const after = process.memoryUsage();
  return {
    rss: after.rss,
    rssDelta: after.rss - before.rss,
    heapUsed: after.heapUsed,
    external: after.external,
    checksum,
  };
}

async function main() {
  const params = JSON.parse(process.argv[2]);
  const run = cases[params.case]?.[params.contender];
  let result;
  try {
    if (run === undefined) throw new Unsupported(`no ${params.contender} contender for ${params.case}`);
    result = { ok: true, ...(await run(params)) };
  } catch (error) {
    result = { ok: false, reason: error instanceof Unsupported ? error.message : `${error.code ?? error.name}: ${error.message}` };
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

// The workers of the sharedSum and ringQueue cases run this file too.
if (isMainThread) main();
else if (workerData.kind === 'streamProducer') produceToParent(workerData);
else sumRange(workerData);
