/**
 * A single-producer single-consumer byte queue in shared memory, between
 * processes or workers: {@link RingQueue}.
 *
 * One {@link SharedMemory} of `G + capacity` bytes (`G` being
 * {@link MmapOptions.allocationGranularity}): a header in the first `G`
 * bytes, mapped shared, and the data from offset `G`, mapped as a
 * double-mapped ring ({@link MmapOptions.mapRing}), so that every copy in or
 * out, up to `capacity` bytes, is one contiguous copy even across the end.
 *
 * Header (32-bit words, little or big endian as the machine is: both ends
 * run on one machine):
 *
 * | offset | word | written by |
 * | --- | --- | --- |
 * | 0 | magic `0x51474e52` ("RNGQ"), stored last by `create()` | creator |
 * | 4 | layout version (1) | creator |
 * | 8 | capacity | creator |
 * | 12 | header size `G` | creator |
 * | 16 | closed (0 or 1) | either end |
 * | 128 | head: bytes written, modulo `M` | producer |
 * | 132 | a reader may sleep: raised by the reader, lowered by the producer | both |
 * | 136 | data signal: bumped to wake a reader | producer, `close()` |
 * | 256 | tail: bytes read, modulo `M` | consumer |
 * | 260 | a writer may sleep: raised by the writer, lowered by the consumer | both |
 * | 264 | space signal: bumped to wake a writer | consumer, `close()` |
 *
 * Head and tail sit on cache lines (128 bytes apart, for arm64's larger
 * lines) of their own. `M` is the largest multiple of `capacity` that is at
 * most 2^32 (2^32 itself for a power of two), so that `position % capacity`
 * stays right when a position wraps: `used = (head - tail) mod M`.
 *
 * Waiting: a side that must wait raises its flag (`Atomics.store`), reads
 * the signal word, checks its condition once more, and only then waits on
 * the signal word with the value it read. The other side publishes its
 * position (`Atomics.store`), then reads the flag, and only if it is up
 * lowers it (`Atomics.exchange`), bumps the signal and notifies. Every one
 * of these is sequentially consistent, so either the waiter sees the new
 * position or the publisher sees the flag: no wake-up is lost, the fast
 * path makes no system call, and a sleeper is notified once, however many
 * publishes come before it runs again (a waiter count instead notified on
 * each of them: 35% slower for 64 KiB records, measured). Only the publisher
 * lowers a flag, since another waiter may have raised it too; a flag left up
 * (a waiter that timed out or died) costs one needless notify. `close()`
 * always bumps both signals and notifies. (A notify costs about 4 µs on
 * Linux, a load of the flag 20 ns: notifying on every publish would make a
 * 4 KiB write and read several times slower.)
 *
 * No side spins before it sleeps: on a machine with more runnable threads
 * than cores (measured on two loaded cores), a spin of 20 µs doubled the
 * round trip of small messages between two processes, as it takes the core
 * the other side needs.
 * @packageDocumentation
 */
import { fail, failUnreadable } from './errors';
import { MmapMut, MmapRing, SharedMappingToken } from './handles';
import { MmapOptions } from './options';
import { SharedMemory } from './shared';
import { checkSize, describe } from './validate';

/** Options of {@link RingQueue.create}. */
export interface RingQueueOptions {
  /** A name other processes {@link RingQueue.open} it by (the rules of {@link SharedMemory.create}). */
  readonly name?: string;
  /** Seal the object's size (as `SharedMemory.create()`'s `seal`): Linux and FreeBSD, anonymous queues. */
  readonly seal?: boolean;
}

/** @internal The `kind` of every {@link RingQueueToken}. */
export const RING_QUEUE_TOKEN = 'memmap.ring-queue';

/** What {@link RingQueue.share} returns: plain data for a worker's {@link RingQueue.fromShared}. */
export interface RingQueueToken {
  /** Always `'memmap.ring-queue'`. */
  readonly kind: 'memmap.ring-queue';
  /** The header's mapping. */
  readonly header: SharedMappingToken;
  /** The data ring's mapping. */
  readonly ring: SharedMappingToken;
}

/**
 * What {@link RingQueue.waitReadable} and {@link RingQueue.waitWritable}
 * answer: `'ready'` (the condition holds), `'closed'` (the queue was closed:
 * for reading, closed and drained), `'timed-out'`.
 */
export type QueueWaitResult = 'ready' | 'closed' | 'timed-out';

/** The largest capacity: positions must stay unambiguous in 32 bits. */
const MAX_CAPACITY = 2 ** 30;
const MAGIC = 0x51474e52;
const VERSION = 1;

// Word indices (byte offset / 4).
const W_MAGIC = 0;
const W_VERSION = 1;
const W_CAPACITY = 2;
const W_HEADER_SIZE = 3;
const W_CLOSED = 4;
const W_HEAD = 32;
const W_READERS = 33;
const W_DATA_SIGNAL = 34;
const W_TAIL = 64;
const W_WRITERS = 65;
const W_SPACE_SIGNAL = 66;
const DATA_SIGNAL = W_DATA_SIGNAL * 4;
const SPACE_SIGNAL = W_SPACE_SIGNAL * 4;

const MAKE = Symbol('RingQueue');

// Intrinsic getters: they read internal slots, so a Proxy or an own
// property cannot run code or lie about a view's extent.
const typedArrayPrototype = Object.getPrototypeOf(Uint8Array.prototype) as object;
const getter = (from: object, name: string) => Object.getOwnPropertyDescriptor(from, name)!.get!;
const typedArrayTag = getter(typedArrayPrototype, Symbol.toStringTag as unknown as string);
const typedArrayBuffer = getter(typedArrayPrototype, 'buffer');
const typedArrayOffset = getter(typedArrayPrototype, 'byteOffset');
const typedArrayLength = getter(typedArrayPrototype, 'byteLength');
const dataViewBuffer = getter(DataView.prototype, 'buffer');
const dataViewOffset = getter(DataView.prototype, 'byteOffset');
const dataViewLength = getter(DataView.prototype, 'byteLength');

/** The bytes of any TypedArray or DataView, as a Uint8Array over the same memory. */
function bytesOf(value: unknown, what: string): Uint8Array {
  if (typeof value === 'object' && value !== null && ArrayBuffer.isView(value)) {
    if (typedArrayTag.call(value) !== undefined) {
      try {
        return new Uint8Array(typedArrayBuffer.call(value), typedArrayOffset.call(value), typedArrayLength.call(value));
      } catch {
        // A view of a detached buffer cannot be viewed again.
        fail('ERR_INVALID_ARG_VALUE', `${what} is detached: it has no memory to read or write`);
      }
    }
    // isView() without a typed array's tag: a DataView (a detached one throws on byteLength).
    const buffer = dataViewBuffer.call(value) as ArrayBufferLike;
    let offset = 0;
    let length = 0;
    try {
      offset = dataViewOffset.call(value);
      length = dataViewLength.call(value);
    } catch {
      // Detached: nothing to read or write.
    }
    return new Uint8Array(buffer, offset, length);
  }
  fail('ERR_INVALID_ARG_TYPE', `${what} must be a TypedArray or DataView, got ${describe(value)}`);
}

/** A timeout in milliseconds: undefined or Infinity for none, else a non-negative number. */
function checkTimeout(value: unknown): number {
  if (value === undefined) return Infinity;
  if (typeof value !== 'number' || Number.isNaN(value)) fail('ERR_INVALID_ARG_TYPE', `timeoutMs must be a number, got ${describe(value)}`);
  return Math.max(value, 0);
}

/** A byte count for a read: a positive safe integer (undefined: the capacity). */
function checkRoom(into: Uint8Array): void {
  if (into.length === 0) fail('ERR_MMAP_INVALID_SIZE', 'target must have room for at least one byte (0 means the end of the queue)');
}

function checkMax(value: unknown, capacity: number): number {
  if (value === undefined) return capacity;
  return Math.min(checkSize(value, 'max'), capacity);
}

/** What an end is doing, so that overlapping calls on one end are refused. */
const IDLE = 0;
const BUSY = 1;

/** What {@link RingQueue.openHandles} needs. */
interface Parts {
  readonly header: MmapMut;
  readonly ring: MmapRing;
  readonly shm: SharedMemory | null;
}

/** Opens the header and ring of `shm` and checks that they are a queue's; closes what it opened on failure. */
function mapQueue(shm: SharedMemory): Parts {
  const G = MmapOptions.allocationGranularity();
  let header: MmapMut | undefined;
  try {
    const size = shm.size;
    if (size < 2 * G) fail('ERR_INVALID_ARG_VALUE', `a RingQueue's shared memory is at least ${2 * G} bytes, this one is ${size}: not a RingQueue`);
    header = new MmapOptions(G).withSharedMemory(shm, 0).mapMut();
    const capacity = checkHeader(header);
    if (size !== G + capacity) {
      fail('ERR_INVALID_ARG_VALUE', `the shared memory is ${size} bytes, not the ${G + capacity} a RingQueue of capacity ${capacity} has: not a RingQueue`);
    }
    const ring = new MmapOptions(capacity).withSharedMemory(shm, G).mapRing();
    return { header, ring, shm };
  } catch (error) {
    header?.unmap();
    shm.close();
    throw error;
  }
}

/** The capacity in a queue's header; ERR_INVALID_ARG_VALUE when it is not one. */
function checkHeader(header: MmapMut): number {
  const G = MmapOptions.allocationGranularity();
  const words = new Int32Array(header.buffer, 0, 128);
  if (Atomics.load(words, W_MAGIC) !== MAGIC) fail('ERR_INVALID_ARG_VALUE', 'this shared memory is not a RingQueue (no magic number in its header)');
  const version = Atomics.load(words, W_VERSION);
  if (version !== VERSION) fail('ERR_INVALID_ARG_VALUE', `this RingQueue has layout version ${version}; this memmap knows version ${VERSION}`);
  const capacity = Atomics.load(words, W_CAPACITY);
  const headerSize = Atomics.load(words, W_HEADER_SIZE);
  if (headerSize !== G || capacity <= 0 || capacity > MAX_CAPACITY || capacity % G !== 0) {
    fail('ERR_INVALID_ARG_VALUE', `this RingQueue's header is damaged (capacity ${capacity}, header size ${headerSize})`);
  }
  return capacity;
}

// Set in RingQueue's static block, where the private fields are in reach.
// Methods reach the end through these, never through `this.something()`.
let checked: (value: unknown) => RingQueue;
let live: (value: unknown) => RingQueue;
let used: (queue: RingQueue) => number;
let checkOpen: (queue: RingQueue) => void;
let enterWrite: (queue: RingQueue) => void;
let enterRead: (queue: RingQueue) => void;
let checkNeed: (queue: RingQueue, bytes: unknown) => number;
/** How much of `left` bytes to write in one piece at most, and at least. */
let piece: (queue: RingQueue, left: number) => [number, number];
/**
 * Copies up to `most` bytes of `source` from `from` in, if at least `least`
 * fit, publishes them, and wakes a waiting reader; returns how many (0: no room).
 */
let put: (queue: RingQueue, source: Uint8Array, from: number, most: number, least: number) => number;
/** Takes up to `max` bytes (a copy, or into `into`, returning the count); null when empty. */
let take: (queue: RingQueue, max: number, into: Uint8Array | null) => Uint8Array | number | null;
let drainedAndClosed: (queue: RingQueue) => boolean;
/** The reading methods' loop: takes up to `limit` bytes (into `into`, or a new array) once there are any; `end` once closed and drained. */
let receive: <End>(queue: RingQueue, limit: number, into: Uint8Array | null, end: End) => Uint8Array | number | End;
let receiveAsync: <End>(queue: RingQueue, limit: number, into: Uint8Array | null, end: End) => Promise<Uint8Array | number | End>;
let waitForData: (queue: RingQueue, timeout: number) => void;
let waitForDataAsync: (queue: RingQueue, timeout: number) => Promise<void>;
/** Waits for `need` bytes of room (the reader wakes it after each read, whatever it freed). */
let waitForSpace: (queue: RingQueue, need: number, timeout: number) => void;
let waitForSpaceAsync: (queue: RingQueue, need: number, timeout: number) => Promise<void>;

/**
 * One end of a single-producer single-consumer byte queue in shared memory.
 *
 * Every end can read, write and close; the contract is that one thread
 * (in any process) writes and one thread reads. Overlapping calls of one
 * kind on one end (a second `readAsync()` before the first settled) throw
 * `ERR_MMAP_BUSY`. Bytes come out in the order they went in; a write of
 * at most `capacity` bytes goes in at once (a reader asking for enough
 * gets it whole), a larger one in pieces as room frees up.
 *
 * Ending: {@link RingQueue.close} marks the queue closed for both ends
 * (reads drain what is left, then end; writes throw `ERR_MMAP_CLOSED`).
 * {@link RingQueue.unmap} only lets go of this end. A process that dies
 * closes nothing: whoever learns of it (a parent's `'exit'` event) calls
 * `close()` on its own end, which wakes the other side; a blocked
 * synchronous call can only be woken that way from another thread or
 * process, so a thread that must notice by itself waits with
 * {@link RingQueue.waitWritable} or {@link RingQueue.waitReadable} and a
 * timeout, and then uses the non-blocking `tryWrite()` / `tryRead()`.
 */
export class RingQueue implements Disposable {
  #header: MmapMut | null;
  #ring: MmapRing | null;
  #shm: SharedMemory | null;
  readonly #words: Int32Array;
  readonly #capacity: number;
  /** Positions count modulo this: the largest multiple of the capacity up to 2^32. */
  readonly #modulus: number;
  #reading = IDLE;
  #writing = IDLE;

  /** Ends are made by {@link RingQueue.create}, `open()`, `fromFd()` and `fromShared()`: this constructor is not for calling. */
  private constructor(key: unknown, parts: Parts) {
    if (key !== MAKE) fail('ERR_ILLEGAL_CONSTRUCTOR', 'RingQueue ends are made by RingQueue.create(), open(), fromFd() and fromShared()');
    this.#header = parts.header;
    this.#ring = parts.ring;
    this.#shm = parts.shm;
    this.#words = new Int32Array(parts.header.buffer, 0, 128);
    this.#capacity = parts.ring.ringSize;
    this.#modulus = this.#capacity * Math.floor(2 ** 32 / this.#capacity);
  }

  /**
   * A new queue of `capacity` bytes (a multiple of
   * {@link MmapOptions.allocationGranularity}, at most 2^30:
   * `ERR_MMAP_INVALID_SIZE` otherwise), and this process's end of it.
   * With `name`, other processes {@link RingQueue.open} it by name
   * (exclusive: `EEXIST`); without, pass {@link RingQueue.fd} to a child
   * (POSIX) or {@link RingQueue.share} to a worker.
   */
  static create(capacity: number, options: RingQueueOptions = {}): RingQueue {
    let name: unknown;
    let seal: unknown;
    try {
      ({ name, seal } = options);
    } catch (cause) {
      failUnreadable('options', 'an object with name and seal', cause);
    }
    const G = MmapOptions.allocationGranularity();
    checkSize(capacity, 'capacity');
    if (capacity % G !== 0 || capacity > MAX_CAPACITY) {
      fail('ERR_MMAP_INVALID_SIZE', `capacity must be a multiple of the allocation granularity ${G} and at most 2^30, got ${capacity}`);
    }
    // The values read above, not the options again: SharedMemory checks them, with its own coded errors.
    const shm = SharedMemory.create(G + capacity, { name: name as string | undefined, seal: seal as boolean | undefined });
    let header: MmapMut | undefined;
    try {
      header = new MmapOptions(G).withSharedMemory(shm, 0).mapMut();
      const words = new Int32Array(header.buffer, 0, 128);
      Atomics.store(words, W_VERSION, VERSION);
      Atomics.store(words, W_CAPACITY, capacity);
      Atomics.store(words, W_HEADER_SIZE, G);
      Atomics.store(words, W_MAGIC, MAGIC); // last: open() trusts nothing before it
      const ring = new MmapOptions(capacity).withSharedMemory(shm, G).mapRing();
      return new RingQueue(MAKE, { header, ring, shm });
    } catch (error) {
      header?.unmap();
      shm.close();
      if (typeof name === 'string') {
        try {
          SharedMemory.unlink(name);
        } catch {
          // Already gone.
        }
      }
      throw error;
    }
  }

  /** An end of the queue another process created with `name` (after its `create()` returned). */
  static open(name: string): RingQueue {
    return new RingQueue(MAKE, mapQueue(SharedMemory.open(name)));
  }

  /**
   * An end of the queue whose descriptor ({@link RingQueue.fd}) this
   * process inherited (`child_process` `stdio`). POSIX; the descriptor
   * stays yours to close.
   */
  static fromFd(fd: number): RingQueue {
    return new RingQueue(MAKE, mapQueue(SharedMemory.fromFd(fd)));
  }

  /** Removes a queue's name (see {@link SharedMemory.unlink}); open ends live on. */
  static unlink(name: string): void {
    SharedMemory.unlink(name);
  }

  /**
   * An end in this thread over the same queue as the end that made
   * `token` with {@link RingQueue.share}: for workers of one process.
   */
  static fromShared(token: RingQueueToken): RingQueue {
    let kind: unknown;
    let headerToken: unknown;
    let ringToken: unknown;
    try {
      ({ kind, header: headerToken, ring: ringToken } = token);
    } catch (cause) {
      failUnreadable('token', 'a token from RingQueue.share()', cause);
    }
    if (kind !== RING_QUEUE_TOKEN) fail('ERR_INVALID_ARG_TYPE', `token must be what RingQueue.share() returned, got ${describe(token)}`);
    const header = MmapOptions.fromShared(headerToken as SharedMappingToken);
    let ring;
    try {
      ring = MmapOptions.fromShared(ringToken as SharedMappingToken);
    } catch (error) {
      header.unmap();
      throw error;
    }
    try {
      if (!(header instanceof MmapMut) || header instanceof MmapRing || !(ring instanceof MmapRing)) {
        fail('ERR_INVALID_ARG_TYPE', 'token must be what RingQueue.share() returned: its mappings are of the wrong types');
      }
      const capacity = checkHeader(header);
      if (ring.ringSize !== capacity) fail('ERR_INVALID_ARG_VALUE', `token's ring is ${ring.ringSize} bytes, its header says ${capacity}`);
      return new RingQueue(MAKE, { header, ring, shm: null });
    } catch (error) {
      header.unmap();
      ring.unmap();
      throw error;
    }
  }

  /** Plain data to post to a worker, for {@link RingQueue.fromShared} there. */
  share(): RingQueueToken {
    const queue = live(this);
    return Object.freeze({ kind: RING_QUEUE_TOKEN, header: queue.#header!.share(), ring: queue.#ring!.share() });
  }

  /** The queue's capacity in bytes. */
  get capacity(): number {
    return live(this).#capacity;
  }

  /**
   * The descriptor of the queue's shared memory, for a child's `stdio`
   * (POSIX; on Windows `ERR_MMAP_UNSUPPORTED`: open by name there). An end
   * from {@link RingQueue.fromShared} has none (`ERR_MMAP_UNSUPPORTED`).
   */
  get fd(): number {
    const queue = live(this);
    if (queue.#shm === null) fail('ERR_MMAP_UNSUPPORTED', 'this end came from RingQueue.fromShared(): it has no descriptor; share() it instead');
    return queue.#shm.fd;
  }

  /** The queue's name, or `null` (anonymous, or an end from fromFd() or fromShared()). */
  get name(): string | null {
    const queue = live(this);
    return queue.#shm === null ? null : queue.#shm.name;
  }

  /** Whether the queue was closed (by either end), or this end unmapped. */
  get closed(): boolean {
    const queue = checked(this);
    return queue.#header === null || Atomics.load(queue.#words, W_CLOSED) !== 0;
  }

  /** How many bytes there are to read now. */
  get readable(): number {
    return used(live(this));
  }

  /** How many bytes could be written now without waiting. */
  get writable(): number {
    const queue = live(this);
    return queue.#capacity - used(queue);
  }

  /**
   * Writes all of `bytes` (any TypedArray or DataView), blocking this thread
   * while the queue is full. Up to `capacity` bytes go in at once; more go
   * in pieces. `ERR_MMAP_CLOSED` once the queue is closed (what went in
   * before stays readable).
   */
  write(bytes: ArrayBufferView): void {
    const source = bytesOf(bytes, 'bytes');
    const queue = live(this);
    enterWrite(queue);
    try {
      let done = 0;
      while (done < source.length) {
        const [most, least] = piece(queue, source.length - done);
        let wrote: number;
        while ((wrote = put(queue, source, done, most, least)) === 0) waitForSpace(queue, least, Infinity);
        done += wrote;
      }
      if (source.length === 0) checkOpen(queue);
    } finally {
      queue.#writing = IDLE;
    }
  }

  /**
   * Writes all of `bytes` if there is room for all of it now; never
   * blocks. `ERR_MMAP_INVALID_SIZE` for more than `capacity` bytes (they
   * could never fit), `ERR_MMAP_CLOSED` once the queue is closed.
   */
  tryWrite(bytes: ArrayBufferView): boolean {
    const source = bytesOf(bytes, 'bytes');
    const queue = live(this);
    if (source.length > queue.#capacity) {
      fail('ERR_MMAP_INVALID_SIZE', `${source.length} bytes can never fit in a queue of capacity ${queue.#capacity}; use write()`);
    }
    enterWrite(queue);
    try {
      if (source.length === 0) {
        checkOpen(queue);
        return true;
      }
      return put(queue, source, 0, source.length, source.length) !== 0;
    } finally {
      queue.#writing = IDLE;
    }
  }

  /**
   * {@link RingQueue.write} without blocking the thread: waits for room with
   * {@link MmapMut.waitAsync}. The caller must not change `bytes` until the
   * promise settles.
   */
  async writeAsync(bytes: ArrayBufferView): Promise<void> {
    const source = bytesOf(bytes, 'bytes');
    const queue = live(this);
    enterWrite(queue);
    try {
      let done = 0;
      while (done < source.length) {
        const [most, least] = piece(queue, source.length - done);
        let wrote: number;
        while ((wrote = put(queue, source, done, most, least)) === 0) await waitForSpaceAsync(queue, least, Infinity);
        done += wrote;
      }
      if (source.length === 0) checkOpen(queue);
    } finally {
      queue.#writing = IDLE;
    }
  }

  /**
   * A copy of 1 to `max` (default: `capacity`) bytes, blocking this thread
   * until there is at least one; `null` once the queue is closed and
   * drained.
   */
  read(max?: number): Uint8Array | null {
    const queue = live(this);
    return receive(queue, checkMax(max, queue.#capacity), null, null) as Uint8Array | null;
  }

  /**
   * Reads 1 to `target.byteLength` bytes into `target` (any TypedArray or
   * DataView, from its start), blocking until there is at least one;
   * returns how many, 0 once the queue is closed and drained.
   */
  readInto(target: ArrayBufferView): number {
    const into = bytesOf(target, 'target');
    const queue = live(this);
    checkRoom(into);
    return receive(queue, into.length, into, 0) as number;
  }

  /** A copy of 1 to `max` bytes if there are any now, else `null` (see {@link RingQueue.closed}); never blocks. */
  tryRead(max?: number): Uint8Array | null {
    const queue = live(this);
    const limit = checkMax(max, queue.#capacity);
    enterRead(queue);
    try {
      return take(queue, limit, null) as Uint8Array | null;
    } finally {
      queue.#reading = IDLE;
    }
  }

  /** {@link RingQueue.read} without blocking the thread: waits with {@link MmapMut.waitAsync}. */
  async readAsync(max?: number): Promise<Uint8Array | null> {
    const queue = live(this);
    return (await receiveAsync(queue, checkMax(max, queue.#capacity), null, null)) as Uint8Array | null;
  }

  /**
   * {@link RingQueue.readInto} without blocking the thread. The caller must
   * not use `target` until the promise settles.
   */
  async readIntoAsync(target: ArrayBufferView): Promise<number> {
    const into = bytesOf(target, 'target');
    const queue = live(this);
    checkRoom(into);
    return (await receiveAsync(queue, into.length, into, 0)) as number;
  }

  /**
   * Blocks until there is at least one byte to read (`'ready'`), the queue
   * is closed and drained (`'closed'`), or `timeoutMs` passed
   * (`'timed-out'`; default: no limit).
   */
  waitReadable(timeoutMs?: number): QueueWaitResult {
    const timeout = checkTimeout(timeoutMs);
    const queue = live(this);
    const deadline = performance.now() + timeout;
    for (;;) {
      if (used(queue) > 0) return 'ready';
      if (drainedAndClosed(queue)) return 'closed';
      const left = deadline - performance.now();
      if (left <= 0) return 'timed-out';
      waitForData(queue, left);
    }
  }

  /** {@link RingQueue.waitReadable} without blocking the thread. */
  async waitReadableAsync(timeoutMs?: number): Promise<QueueWaitResult> {
    const timeout = checkTimeout(timeoutMs);
    const queue = live(this);
    const deadline = performance.now() + timeout;
    for (;;) {
      if (used(queue) > 0) return 'ready';
      if (drainedAndClosed(queue)) return 'closed';
      const left = deadline - performance.now();
      if (left <= 0) return 'timed-out';
      await waitForDataAsync(queue, left);
    }
  }

  /**
   * Blocks until `bytes` (default 1, at most `capacity`) can be written
   * without waiting (`'ready'`), the queue is closed (`'closed'`), or
   * `timeoutMs` passed (`'timed-out'`; default: no limit).
   */
  waitWritable(bytes = 1, timeoutMs?: number): QueueWaitResult {
    const timeout = checkTimeout(timeoutMs);
    const queue = live(this);
    const need = checkNeed(queue, bytes);
    const deadline = performance.now() + timeout;
    for (;;) {
      if (Atomics.load(queue.#words, W_CLOSED) !== 0) return 'closed';
      if (queue.#capacity - used(queue) >= need) return 'ready';
      const left = deadline - performance.now();
      if (left <= 0) return 'timed-out';
      waitForSpace(queue, need, left);
    }
  }

  /** {@link RingQueue.waitWritable} without blocking the thread. */
  async waitWritableAsync(bytes = 1, timeoutMs?: number): Promise<QueueWaitResult> {
    const timeout = checkTimeout(timeoutMs);
    const queue = live(this);
    const need = checkNeed(queue, bytes);
    const deadline = performance.now() + timeout;
    for (;;) {
      if (Atomics.load(queue.#words, W_CLOSED) !== 0) return 'closed';
      if (queue.#capacity - used(queue) >= need) return 'ready';
      const left = deadline - performance.now();
      if (left <= 0) return 'timed-out';
      await waitForSpaceAsync(queue, need, left);
    }
  }

  /**
   * Closes the queue for both ends: the reader drains what is left and
   * then reads the end; writes throw `ERR_MMAP_CLOSED`. Wakes whoever
   * waits, in any process. Idempotent; the mappings stay until `unmap()`.
   */
  close(): void {
    const queue = live(this);
    const words = queue.#words;
    Atomics.store(words, W_CLOSED, 1);
    Atomics.add(words, W_DATA_SIGNAL, 1);
    Atomics.add(words, W_SPACE_SIGNAL, 1);
    queue.#header!.notify(DATA_SIGNAL);
    queue.#header!.notify(SPACE_SIGNAL);
  }

  /**
   * Lets go of this end: unmaps its mappings and closes its shared memory
   * object (a named queue keeps its name until {@link RingQueue.unlink}).
   * Does not close the queue. A pending async call rejects with
   * `ERR_MMAP_CLOSED`. Idempotent.
   */
  unmap(): void {
    const queue = checked(this);
    const header = queue.#header;
    const ring = queue.#ring;
    const shm = queue.#shm;
    queue.#header = null;
    queue.#ring = null;
    queue.#shm = null;
    try {
      ring?.unmap();
    } finally {
      try {
        header?.unmap();
      } finally {
        shm?.close();
      }
    }
  }

  /** The same as {@link RingQueue.unmap}, for `using`. */
  [Symbol.dispose](): void {
    RingQueue.prototype.unmap.call(this);
  }

  static {
    checked = (value) => {
      if (typeof value !== 'object' || value === null || !(#header in value)) {
        fail('ERR_INVALID_ARG_TYPE', `expected a RingQueue, got ${describe(value)}`);
      }
      return value;
    };
    live = (value) => {
      const queue = checked(value);
      if (queue.#header === null) fail('ERR_MMAP_CLOSED', 'this RingQueue end was unmapped');
      return queue;
    };
    used = (queue) => {
      if (queue.#header === null) fail('ERR_MMAP_CLOSED', 'this RingQueue end was unmapped');
      const words = queue.#words;
      const head = Atomics.load(words, W_HEAD) >>> 0;
      const tail = Atomics.load(words, W_TAIL) >>> 0;
      return head >= tail ? head - tail : head + queue.#modulus - tail;
    };
    checkOpen = (queue) => {
      if (queue.#header === null) fail('ERR_MMAP_CLOSED', 'this RingQueue end was unmapped');
      if (Atomics.load(queue.#words, W_CLOSED) !== 0) fail('ERR_MMAP_CLOSED', 'the RingQueue was closed');
    };
    enterWrite = (queue) => {
      if (queue.#writing !== IDLE) fail('ERR_MMAP_BUSY', 'a write is already under way on this RingQueue end (one producer)');
      queue.#writing = BUSY;
    };
    enterRead = (queue) => {
      if (queue.#reading !== IDLE) fail('ERR_MMAP_BUSY', 'a read is already under way on this RingQueue end (one consumer)');
      queue.#reading = BUSY;
    };
    checkNeed = (queue, bytes) => {
      const need = checkSize(bytes, 'bytes');
      if (need > queue.#capacity) fail('ERR_MMAP_INVALID_SIZE', `${need} bytes can never be free in a queue of capacity ${queue.#capacity}`);
      return need;
    };
    piece = (queue, left) => {
      const capacity = queue.#capacity;
      // Up to a capacity in one piece, whole; beyond, whatever room there is, as it frees up.
      return left <= capacity ? [left, left] : [capacity, 1];
    };
    put = (queue, source, from, most, least) => {
      checkOpen(queue);
      const words = queue.#words;
      const head = Atomics.load(words, W_HEAD) >>> 0;
      const tail = Atomics.load(words, W_TAIL) >>> 0;
      const modulus = queue.#modulus;
      const free = queue.#capacity - (head >= tail ? head - tail : head + modulus - tail);
      if (free < least) return 0;
      const length = Math.min(free, most);
      if (from + length > source.length) {
        // Its buffer was detached (or shrunk) while an async write waited: publish nothing stale.
        fail('ERR_INVALID_ARG_VALUE', 'bytes lost its memory (detached or shrunk) while the write waited');
      }
      const at = head % queue.#capacity;
      // A native copy under the fault guard: the source may itself be a
      // mapping's view of pages that fault (ERR_MMAP_FAULT, nothing published).
      queue.#ring!.write(at, from === 0 && length === source.length ? source : source.subarray(from, from + length));
      Atomics.store(words, W_HEAD, (head + length) % modulus | 0);
      // Only the publisher clears the flag, so one publish wakes a sleeper and the next ones pay nothing.
      if (Atomics.load(words, W_READERS) !== 0 && Atomics.exchange(words, W_READERS, 0) !== 0) {
        Atomics.add(words, W_DATA_SIGNAL, 1);
        queue.#header!.notify(DATA_SIGNAL);
      }
      return length;
    };
    take = (queue, max, into) => {
      if (queue.#header === null) fail('ERR_MMAP_CLOSED', 'this RingQueue end was unmapped');
      const words = queue.#words;
      const head = Atomics.load(words, W_HEAD) >>> 0;
      const tail = Atomics.load(words, W_TAIL) >>> 0;
      const modulus = queue.#modulus;
      const inUse = head >= tail ? head - tail : head + modulus - tail;
      if (inUse === 0) return null;
      if (into !== null && into.length < max) {
        // Its buffer was detached (or shrunk) while an async read waited: take nothing.
        fail('ERR_INVALID_ARG_VALUE', 'target lost its memory (detached or shrunk) while the read waited');
      }
      const length = Math.min(inUse, max);
      const at = tail % queue.#capacity;
      let result: Uint8Array | number;
      // Native copies under the fault guard: the target may be a read-only
      // mapping's view, and a peer may have truncated an unsealed object
      // (ERR_MMAP_FAULT, and nothing is taken).
      if (into === null) {
        result = queue.#ring!.readInto(at, new Uint8Array(length));
      } else {
        queue.#ring!.readInto(at, length === into.length ? into : into.subarray(0, length));
        result = length;
      }
      Atomics.store(words, W_TAIL, (tail + length) % modulus | 0);
      // Only the publisher clears the flag, so one publish wakes a sleeper and the next ones pay nothing.
      if (Atomics.load(words, W_WRITERS) !== 0 && Atomics.exchange(words, W_WRITERS, 0) !== 0) {
        Atomics.add(words, W_SPACE_SIGNAL, 1);
        queue.#header!.notify(SPACE_SIGNAL);
      }
      return result;
    };
    drainedAndClosed = (queue) => {
      // Closed is read first: a producer that wrote and then closed has its bytes counted by the second look.
      if (Atomics.load(queue.#words, W_CLOSED) === 0) return false;
      return used(queue) === 0;
    };
    // Each loop that may wait is written twice, blocking and async, on
    // purpose: one generator stepped by either runner cost about 12% of the
    // streaming throughput (bench ring-queue, interleaved runs).
    receive = (queue, limit, into, end) => {
      enterRead(queue);
      try {
        for (;;) {
          const got = take(queue, limit, into);
          if (got !== null) return got;
          if (drainedAndClosed(queue)) return end;
          waitForData(queue, Infinity);
        }
      } finally {
        queue.#reading = IDLE;
      }
    };
    receiveAsync = async (queue, limit, into, end) => {
      enterRead(queue);
      try {
        for (;;) {
          const got = take(queue, limit, into);
          if (got !== null) return got;
          if (drainedAndClosed(queue)) return end;
          await waitForDataAsync(queue, Infinity);
        }
      } finally {
        queue.#reading = IDLE;
      }
    };
    // The waits: raise the flag, read the signal, check once more, wait on the value read.
    // A waiter never lowers the flag (another waiter may have raised it too): a flag
    // left up costs the other side one needless notify.
    waitForData = (queue, timeout) => {
      const words = queue.#words;
      Atomics.store(words, W_READERS, 1);
      const seen = Atomics.load(words, W_DATA_SIGNAL);
      if (used(queue) > 0 || Atomics.load(words, W_CLOSED) !== 0) return;
      queue.#header!.wait(DATA_SIGNAL, seen, timeout);
    };
    waitForDataAsync = async (queue, timeout) => {
      const words = queue.#words;
      Atomics.store(words, W_READERS, 1);
      const seen = Atomics.load(words, W_DATA_SIGNAL);
      if (used(queue) > 0 || Atomics.load(words, W_CLOSED) !== 0) return;
      await queue.#header!.waitAsync(DATA_SIGNAL, seen, timeout);
    };
    waitForSpace = (queue, need, timeout) => {
      const words = queue.#words;
      Atomics.store(words, W_WRITERS, 1);
      const seen = Atomics.load(words, W_SPACE_SIGNAL);
      if (queue.#capacity - used(queue) >= need || Atomics.load(words, W_CLOSED) !== 0) return;
      queue.#header!.wait(SPACE_SIGNAL, seen, timeout);
    };
    waitForSpaceAsync = async (queue, need, timeout) => {
      const words = queue.#words;
      Atomics.store(words, W_WRITERS, 1);
      const seen = Atomics.load(words, W_SPACE_SIGNAL);
      if (queue.#capacity - used(queue) >= need || Atomics.load(words, W_CLOSED) !== 0) return;
      await queue.#header!.waitAsync(SPACE_SIGNAL, seen, timeout);
    };
  }
}
