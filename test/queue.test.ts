// RingQueue: a single-producer single-consumer byte queue over a double-mapped
// ring in shared memory, between processes and workers.
import { describe, expect, it } from 'vitest';
import { MmapError, MmapOptions, SharedMemory } from '../src';
import { RingQueue, RingQueueOptions } from '../src/queue';
import { codeOf, emulator, isWindows, nextMessage, startChild, startWorker } from './helpers';

const G = MmapOptions.allocationGranularity();
const slow = emulator !== undefined;
const noDescriptorOnWindows = "Windows has no C runtime descriptor over a section for a child's stdio: a named queue is the way there";
const skipped = (skip: boolean, reason: string) => (skip ? ` (skipped: ${reason})` : '');
let names = 0;
const freshName = () => `memmap-q${process.pid}-${names++}`;

/** A deterministic byte stream: byte `i` of it. */
const streamByte = (i: number) => (i * 2654435761) >>> 24;

// The streaming scripts, shared by processes and workers: records of
// `record` bytes whose 32-bit words count up from record * words; the
// consumer checks every word and answers a sum of them.
const PRODUCE = (record: number, count: number) => `
  const words = new Uint32Array(${record} / 4);
  let sum = 0;
  for (let i = 0; i < ${count}; i++) {
    for (let j = 0; j < words.length; j++) words[j] = i * words.length + j;
    for (let j = 0; j < words.length; j++) sum = (sum + words[j]) >>> 0;
    queue.write(words);
  }
  queue.close();`;
const CONSUME = (record: number) => `
  const words = new Uint32Array(${record} / 4);
  const bytes = new Uint8Array(words.buffer);
  let sum = 0, records = 0, bad = -1;
  for (;;) {
    let filled = 0;
    while (filled < bytes.length) {
      const got = queue.readInto(bytes.subarray(filled));
      if (got === 0) break;
      filled += got;
    }
    if (filled === 0) break;
    if (filled !== bytes.length && bad < 0) bad = records;
    for (let j = 0; j < words.length; j++) {
      if (words[j] !== ((records * words.length + j) >>> 0) && bad < 0) bad = records;
      sum = (sum + words[j]) >>> 0;
    }
    records++;
  }`;

/** The sum PRODUCE computes, for `count` records of `record` bytes. */
function expectedSum(record: number, count: number): number {
  const n = (record / 4) * count;
  // Sum of 0..n-1, modulo 2^32, in bigints to stay exact.
  return Number(((BigInt(n) * BigInt(n - 1)) / 2n) % 2n ** 32n);
}

describe('RingQueue in one thread', () => {
  it('keeps FIFO order through many wrap-arounds, with writes and reads of odd sizes crossing the end', () => {
    using queue = RingQueue.create(G);
    expect(queue.capacity).toBe(G);
    expect(queue.readable).toBe(0);
    expect(queue.writable).toBe(G);
    let written = 0;
    let read = 0;
    let seed = 12345;
    const random = (below: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return 1 + (seed % below);
    };
    // Around the ring a hundred times and more (G is 64 KiB on Windows).
    const total = Math.max(slow ? 4 * 1024 * 1024 : 32 * 1024 * 1024, 128 * G);
    let rounds = 0;
    while (read < total) {
      // Write odd sizes while they fit, then read odd amounts.
      for (;;) {
        const size = random(G - 1) | 1;
        const chunk = new Uint8Array(size);
        for (let i = 0; i < size; i++) chunk[i] = streamByte(written + i);
        if (!queue.tryWrite(chunk)) break;
        written += size;
      }
      const goal = random(queue.readable);
      let taken = 0;
      while (taken < goal) {
        const got = queue.read(random(G))!;
        for (let i = 0; i < got.length; i++) {
          if (got[i] !== streamByte(read + i)) throw new Error(`byte ${read + i} is ${got[i]}, not ${streamByte(read + i)}`);
        }
        read += got.length;
        taken += got.length;
      }
      rounds++;
    }
    expect(read).toBeGreaterThan(100 * G); // around the ring a hundred times and more
    expect(rounds).toBeGreaterThan(100);
  });

  it('positions wrap at 2^32 (a power-of-two capacity) or at the largest multiple of the capacity below it', () => {
    for (const capacity of [G, 3 * G]) {
      const name = freshName();
      const queue = RingQueue.create(capacity, { name });
      try {
        // Move both positions to just before the wrap, through the header.
        const shm = SharedMemory.open(name);
        const header = new MmapOptions(G).withSharedMemory(shm).mapMut();
        shm.close();
        const modulus = capacity * Math.floor(2 ** 32 / capacity);
        const words = new Int32Array(header.buffer);
        const start = modulus - 100;
        Atomics.store(words, 32, start | 0); // head
        Atomics.store(words, 64, start | 0); // tail
        expect(queue.readable).toBe(0);
        let written = 0;
        let read = 0;
        for (let round = 0; round < 20; round++) {
          const chunk = new Uint8Array(capacity - 7);
          for (let i = 0; i < chunk.length; i++) chunk[i] = streamByte(written + i);
          expect(queue.tryWrite(chunk)).toBe(true);
          written += chunk.length;
          expect(queue.readable).toBe(chunk.length);
          const got = queue.read()!;
          expect(got.length).toBe(chunk.length);
          expect(got.every((byte, i) => byte === streamByte(read + i))).toBe(true);
          read += got.length;
        }
        expect(Atomics.load(words, 32) >>> 0).toBe((start + written) % modulus);
        header.unmap();
      } finally {
        queue.unmap();
        RingQueue.unlink(name);
      }
    }
  });

  it('tryWrite is all or nothing and never blocks; tryRead answers null when empty', () => {
    using queue = RingQueue.create(G);
    expect(queue.tryRead()).toBeNull();
    expect(queue.tryWrite(new Uint8Array(G - 10).fill(1))).toBe(true);
    expect(queue.tryWrite(new Uint8Array(11))).toBe(false); // does not fit: nothing goes in
    expect(queue.readable).toBe(G - 10);
    expect(queue.tryWrite(new Uint8Array(10).fill(2))).toBe(true);
    expect(queue.writable).toBe(0);
    expect(queue.tryWrite(new Uint8Array(1))).toBe(false);
    expect(queue.tryWrite(new Uint8Array(0))).toBe(true);
    expect(queue.waitWritable(1, 0)).toBe('timed-out');
    expect(codeOf(() => queue.tryWrite(new Uint8Array(G + 1)))).toBe('ERR_MMAP_INVALID_SIZE');
    expect(queue.tryRead(G - 10)!.every((byte) => byte === 1)).toBe(true);
    const rest = new Uint16Array(8);
    expect(queue.readInto(rest)).toBe(10); // any view, filled from its start
    expect(Array.from(new Uint8Array(rest.buffer, 0, 10))).toEqual(new Array(10).fill(2));
    expect(queue.tryRead()).toBeNull();
    expect(queue.waitReadable(0)).toBe('timed-out');
    // Other views go in as their bytes; a DataView too.
    queue.write(new Float64Array([1.5]));
    queue.write(new DataView(new Uint8Array([9, 8, 7]).buffer, 1, 2));
    expect(Array.from(queue.read()!)).toEqual([...new Uint8Array(new Float64Array([1.5]).buffer), 8, 7]);
  });

  it('a write larger than the capacity goes in pieces while the other side reads', async () => {
    using queue = RingQueue.create(G);
    const big = new Uint8Array(5 * G + 123);
    for (let i = 0; i < big.length; i++) big[i] = streamByte(i);
    const received: Uint8Array[] = [];
    const reading = (async () => {
      for (;;) {
        const got = await queue.readAsync(7777);
        if (got === null) return;
        received.push(got);
      }
    })();
    await queue.writeAsync(big);
    queue.close();
    await reading;
    const all = Buffer.concat(received);
    expect(all.length).toBe(big.length);
    expect(all.equals(big)).toBe(true);
    expect(Math.max(...received.map((chunk) => chunk.length))).toBeLessThanOrEqual(7777);
  });

  it('close(): the reader drains what is left, then reads the end; writes throw ERR_MMAP_CLOSED, from either end', () => {
    const name = freshName();
    const writer = RingQueue.create(G, { name });
    const reader = RingQueue.open(name);
    RingQueue.unlink(name);
    writer.write(new Uint8Array([1, 2, 3]));
    writer.close();
    expect(writer.closed).toBe(true);
    expect(reader.closed).toBe(true);
    expect(codeOf(() => writer.write(new Uint8Array(1)))).toBe('ERR_MMAP_CLOSED');
    expect(codeOf(() => writer.tryWrite(new Uint8Array(1)))).toBe('ERR_MMAP_CLOSED');
    expect(codeOf(() => writer.write(new Uint8Array(0)))).toBe('ERR_MMAP_CLOSED');
    expect(writer.waitWritable()).toBe('closed');
    expect(reader.waitReadable()).toBe('ready'); // closed, but not drained
    expect(Array.from(reader.read(2)!)).toEqual([1, 2]);
    expect(Array.from(reader.read()!)).toEqual([3]);
    expect(reader.read()).toBeNull();
    expect(reader.readInto(new Uint8Array(4))).toBe(0);
    expect(reader.tryRead()).toBeNull();
    expect(reader.waitReadable()).toBe('closed');
    writer.close(); // idempotent
    writer.unmap();
    reader.unmap();
    // The reader may close too: the writer learns of it.
    using a = RingQueue.create(G);
    const b = RingQueue.fromShared(a.share());
    b.close();
    expect(codeOf(() => a.write(new Uint8Array(1)))).toBe('ERR_MMAP_CLOSED');
    expect(a.closed).toBe(true);
    b.unmap();
    expect(b.closed).toBe(true);
    expect(codeOf(() => b.read())).toBe('ERR_MMAP_CLOSED');
  });

  it('async forms leave the event loop free: timers fire while readAsync() and writeAsync() wait', async () => {
    using queue = RingQueue.create(G);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    try {
      const pending = queue.readAsync();
      await new Promise((resolve) => setTimeout(resolve, 60));
      expect(ticks).toBeGreaterThan(2);
      queue.write(new Uint8Array([42]));
      expect(Array.from((await pending)!)).toEqual([42]);
      // A full queue: writeAsync waits for room.
      queue.write(new Uint8Array(G));
      const before = ticks;
      let written = false;
      const writing = queue.writeAsync(new Uint8Array(100).fill(7)).then(() => (written = true));
      await new Promise((resolve) => setTimeout(resolve, 60));
      expect(ticks).toBeGreaterThan(before + 2);
      expect(written).toBe(false);
      expect(queue.read(200)!.length).toBe(200);
      await writing;
      expect(queue.readable).toBe(G - 200 + 100);
      expect(await queue.waitReadableAsync(10)).toBe('ready');
      expect(await queue.waitWritableAsync(1, 10)).toBe('ready');
      expect(await queue.waitWritableAsync(200, 30)).toBe('timed-out');
      // A source or target detached while its call waited: a coded error, and nothing moves.
      queue.read();
      queue.write(new Uint8Array(G));
      const source = new Uint8Array(64).fill(9);
      const detachedWrite = queue.writeAsync(source);
      structuredClone(source.buffer, { transfer: [source.buffer] });
      expect(queue.read(100)!.length).toBe(100);
      await expect(detachedWrite).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
      expect(queue.readable).toBe(G - 100);
      queue.read();
      const target = new Uint8Array(16);
      const detachedRead = queue.readIntoAsync(target);
      structuredClone(target.buffer, { transfer: [target.buffer] });
      queue.write(new Uint8Array(5));
      await expect(detachedRead).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
      expect(queue.readable).toBe(5);
      // A pending async call on an end that is unmapped rejects.
      using other = RingQueue.create(G);
      const orphan = other.readAsync();
      other.unmap();
      await expect(orphan).rejects.toMatchObject({ code: 'ERR_MMAP_CLOSED' });
    } finally {
      clearInterval(timer);
    }
  });

  it('one producer and one consumer per end: overlapping calls throw ERR_MMAP_BUSY', async () => {
    using queue = RingQueue.create(G);
    const pending = queue.readAsync();
    await expect(queue.readAsync()).rejects.toMatchObject({ code: 'ERR_MMAP_BUSY' });
    expect(codeOf(() => queue.tryRead())).toBe('ERR_MMAP_BUSY');
    expect(codeOf(() => queue.read())).toBe('ERR_MMAP_BUSY');
    queue.write(new Uint8Array(G));
    const writing = queue.writeAsync(new Uint8Array(1));
    expect(codeOf(() => queue.tryWrite(new Uint8Array(1)))).toBe('ERR_MMAP_BUSY');
    expect((await pending)!.length).toBe(G);
    await writing;
    expect(queue.read()!.length).toBe(1);
  });

  it('bad arguments get coded errors, and nothing is left behind', async () => {
    for (const capacity of [0, -G, 1.5, NaN, '4096', G + 1, G / 2, 2 ** 31, 2 ** 30 + G]) {
      expect(codeOf(() => RingQueue.create(capacity as number))).toBe('ERR_MMAP_INVALID_SIZE');
    }
    const hostile = {
      get name(): string {
        throw new Error('no');
      },
    };
    expect(codeOf(() => RingQueue.create(G, hostile))).toBe('ERR_INVALID_ARG_VALUE');
    expect(codeOf(() => RingQueue.create(G, { name: 'a/b' }))).toBe('ERR_MMAP_INVALID_NAME');
    expect(codeOf(() => RingQueue.open('.x'))).toBe('ERR_MMAP_INVALID_NAME');
    expect(codeOf(() => RingQueue.open(`memmap-never-${process.pid}`))).toBe('ENOENT');
    expect(codeOf(() => RingQueue.fromFd(-1))).toBe('ERR_INVALID_ARG_TYPE');
    expect(codeOf(() => new (RingQueue as unknown as new (key: unknown) => RingQueue)(Symbol('RingQueue')))).toBe('ERR_ILLEGAL_CONSTRUCTOR');
    // Shared memory that is not a queue.
    for (const size of [G, 2 * G, 3 * G]) {
      const name = freshName();
      const shm = SharedMemory.create(size, { name });
      try {
        expect(codeOf(() => RingQueue.open(name))).toBe('ERR_INVALID_ARG_VALUE');
      } finally {
        shm.close();
        SharedMemory.unlink(name);
      }
    }
    // A queue of one size is not a queue of another: the header and the object disagree.
    {
      const name = freshName();
      const real = RingQueue.create(G, { name });
      const shm = SharedMemory.open(name);
      const header = new MmapOptions(G).withSharedMemory(shm).mapMut();
      shm.close();
      new Int32Array(header.buffer)[2] = 2 * G; // capacity
      expect(codeOf(() => RingQueue.open(name))).toBe('ERR_INVALID_ARG_VALUE');
      new Int32Array(header.buffer)[1] = 99; // version
      expect(codeOf(() => RingQueue.open(name))).toMatch('ERR_INVALID_ARG_VALUE');
      header.unmap();
      real.unmap();
      RingQueue.unlink(name);
    }
    using queue = RingQueue.create(G);
    for (const bytes of ['abc', [1, 2], new ArrayBuffer(4), null, new Proxy(new Uint8Array(4), {})]) {
      expect(codeOf(() => queue.write(bytes as never))).toBe('ERR_INVALID_ARG_TYPE');
      expect(codeOf(() => queue.tryWrite(bytes as never))).toBe('ERR_INVALID_ARG_TYPE');
      expect(codeOf(() => queue.readInto(bytes as never))).toBe('ERR_INVALID_ARG_TYPE');
      await expect(queue.writeAsync(bytes as never)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
      await expect(queue.readIntoAsync(bytes as never)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    }
    for (const max of [0, -1, 1.5, '8', NaN]) {
      expect(codeOf(() => queue.read(max as number))).toBe('ERR_MMAP_INVALID_SIZE');
      expect(codeOf(() => queue.tryRead(max as number))).toBe('ERR_MMAP_INVALID_SIZE');
      await expect(queue.readAsync(max as number)).rejects.toMatchObject({ code: 'ERR_MMAP_INVALID_SIZE' });
    }
    expect(codeOf(() => queue.readInto(new Uint8Array(0)))).toBe('ERR_MMAP_INVALID_SIZE');
    expect(codeOf(() => queue.waitWritable(G + 1, 0))).toBe('ERR_MMAP_INVALID_SIZE');
    expect(codeOf(() => queue.waitReadable('5' as never))).toBe('ERR_INVALID_ARG_TYPE');
    expect(codeOf(() => RingQueue.prototype.read.call({}))).toBe('ERR_INVALID_ARG_TYPE');
    expect(codeOf(() => RingQueue.prototype.close.call(new Proxy(queue, {})))).toBe('ERR_INVALID_ARG_TYPE');
    expect(codeOf(() => RingQueue.fromShared({ kind: 'other' } as never))).toBe('ERR_INVALID_ARG_TYPE');
    expect(codeOf(() => RingQueue.fromShared(null as never))).toBe('ERR_INVALID_ARG_VALUE');
    const token = queue.share();
    expect(codeOf(() => RingQueue.fromShared({ ...token, header: token.ring }))).toBe('ERR_INVALID_ARG_TYPE');
    const fromToken = RingQueue.fromShared(token);
    expect(codeOf(() => fromToken.fd)).toBe('ERR_MMAP_UNSUPPORTED');
    expect(fromToken.name).toBeNull();
    fromToken.unmap();
    fromToken.unmap(); // idempotent
    expect(codeOf(() => fromToken.write(new Uint8Array(1)))).toBe('ERR_MMAP_CLOSED');
    // Nothing was written by the failed calls.
    expect(queue.readable).toBe(0);
    expect(queue.closed).toBe(false);
  });

  it('create() reads each option once, so a getter cannot answer the check one thing and the use another', () => {
    const name = freshName();
    const reads: PropertyKey[] = [];
    const options = new Proxy({} as RingQueueOptions, {
      get(_, key) {
        reads.push(key);
        // A second read of the name gets one SharedMemory refuses.
        if (key === 'name') return reads.filter((read) => read === 'name').length === 1 ? name : 'a/b';
        return key === 'seal' ? false : undefined;
      },
    });
    const queue = RingQueue.create(G, options);
    try {
      expect(reads.map(String).sort()).toEqual(['name', 'seal']);
      expect(queue.name).toBe(name);
    } finally {
      queue.unmap();
      RingQueue.unlink(name);
    }
  });
});

describe('RingQueue between processes', () => {
  const record = 64 * 1024;
  const count = slow ? 128 : 1024; // 64 MiB natively, 8 MiB under an emulator

  it.skipIf(isWindows)(
    `a child producer streams ${count} records of 64 KiB through an inherited descriptor, checked word by word${skipped(isWindows, noDescriptorOnWindows)}`,
    async () => {
      using queue = RingQueue.create(16 * record);
      const proc = startChild(`const queue = RingQueue.fromFd(3);\n${PRODUCE(record, count)}\nqueue.unmap();`, { stdio: [queue.fd] });
      const words = new Uint32Array(record / 4);
      const bytes = new Uint8Array(words.buffer);
      let sum = 0;
      let records = 0;
      let bad = -1;
      for (;;) {
        let filled = 0;
        while (filled < record) {
          const got = await queue.readIntoAsync(bytes.subarray(filled));
          if (got === 0) break;
          filled += got;
        }
        if (filled === 0) break;
        for (let j = 0; j < words.length; j++) {
          if (words[j] !== ((records * words.length + j) >>> 0) && bad < 0) bad = records;
          sum = (sum + words[j]) >>> 0;
        }
        records++;
      }
      const { code, stderr } = await proc.output;
      expect(stderr).toBe('');
      expect(code).toBe(0);
      expect(bad).toBe(-1);
      expect(records).toBe(count);
      expect(sum).toBe(expectedSum(record, count));
    },
  );

  it(`a child consumer opened by name reads ${count} records of 64 KiB this process writes`, async () => {
    const name = freshName();
    const queue = RingQueue.create(16 * record, { name });
    try {
      const proc = startChild(
        `const queue = RingQueue.open(${JSON.stringify(name)});\n${CONSUME(record)}\nconsole.log(JSON.stringify({ sum, records, bad }));`,
      );
      const words = new Uint32Array(record / 4);
      for (let i = 0; i < count; i++) {
        for (let j = 0; j < words.length; j++) words[j] = i * words.length + j;
        await queue.writeAsync(words);
      }
      queue.close();
      const { code, stdout, stderr } = await proc.output;
      expect(stderr).toBe('');
      expect(code).toBe(0);
      expect(JSON.parse(stdout)).toEqual({ sum: expectedSum(record, count), records: count, bad: -1 });
    } finally {
      queue.unmap();
      RingQueue.unlink(name);
    }
  });

  it('a consumer killed mid-stream: its parent sees the exit and close()s, which ends the waiting writeAsync() with ERR_MMAP_CLOSED', async () => {
    const name = freshName();
    const queue = RingQueue.create(4 * record, { name });
    try {
      // The child reads a few records, then dies without a word.
      const proc = startChild(
        `const queue = RingQueue.open(${JSON.stringify(name)});
         const into = new Uint8Array(${record});
         let total = 0;
         while (total < ${8 * record}) total += queue.readInto(into);
         process.kill(process.pid, 'SIGKILL');`,
      );
      proc.once('exit', () => queue.close());
      const words = new Uint8Array(record);
      let sent = 0;
      let error: MmapError | undefined;
      try {
        for (;;) {
          await queue.writeAsync(words);
          sent++;
        }
      } catch (caught) {
        error = caught as MmapError;
      }
      expect(error?.code).toBe('ERR_MMAP_CLOSED');
      expect(sent).toBeGreaterThanOrEqual(8);
      expect(sent).toBeLessThanOrEqual(8 + 4 + 1);
      const { signal } = await proc.output;
      expect(signal ?? 'SIGKILL').toBe('SIGKILL');
      // A synchronous producer that must notice by itself waits with a timeout.
      expect(queue.waitWritable(1, 0)).toBe('closed');
    } finally {
      queue.unmap();
      RingQueue.unlink(name);
    }
  }, 30_000);
});

describe('RingQueue between workers', () => {
  const record = 64 * 1024;
  const count = slow ? 64 : 512;

  it(`a producer worker and a consumer worker stream ${count} records of 64 KiB through share()/fromShared()`, async () => {
    const queue = RingQueue.create(8 * record);
    const token = queue.share();
    const consumer = startWorker(
      `const queue = RingQueue.fromShared(workerData);\n${CONSUME(record)}\nqueue.unmap();\nparentPort.postMessage({ sum, records, bad });`,
      token,
    );
    const producer = startWorker(`const queue = RingQueue.fromShared(workerData);\n${PRODUCE(record, count)}\nqueue.unmap();\nparentPort.postMessage('done');`, token);
    const [consumed, produced] = await Promise.all([nextMessage(consumer), nextMessage(producer)]);
    expect(produced).toBe('done');
    expect(consumed).toEqual({ sum: expectedSum(record, count), records: count, bad: -1 });
    await Promise.all([consumer.terminate(), producer.terminate()]);
    queue.unmap();
  });

  it('close() from this thread wakes a worker blocked in a synchronous write() of a full queue', async () => {
    using queue = RingQueue.create(G);
    const blocked = startWorker(
      `const queue = RingQueue.fromShared(workerData);
       queue.write(new Uint8Array(${G}));
       parentPort.postMessage('full');
       try { queue.write(new Uint8Array(1)); parentPort.postMessage('wrote'); }
       catch (error) { parentPort.postMessage(error.code); }`,
      queue.share(),
    );
    expect(await nextMessage(blocked)).toBe('full');
    const answer = nextMessage(blocked);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = Date.now();
    queue.close();
    expect(await answer).toBe('ERR_MMAP_CLOSED');
    expect(Date.now() - started).toBeLessThan(slow ? 5_000 : 1_000);
    await blocked.terminate();
  });
});
