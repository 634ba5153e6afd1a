// The hostile-input sweep of issue 11 ("every throw has a code"), run in a
// child process by hostile.test.ts, so that a call that kills the process is
// named instead of taking the test runner down: the child prints each call
// before making it, then what was wrong with it.
//
// Every public entry point is called with each hostile value in each argument
// position while the other arguments are valid, and every method and getter
// also on receivers of the wrong kind. A throw, or the rejection of a
// returned promise, must be an Error with a string `code`: an MmapError, or
// one of Node's own argument errors. Whatever a call maps is unmapped after
// it, and on Linux the kernel's count of the process's areas must not move.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { types } from 'node:util';
import * as api from '../src';
import {
  Handle,
  MappedHandle,
  MemoryAreas,
  Mmap,
  MmapError,
  MmapFlags,
  MmapMut,
  MmapNone,
  MmapOptions,
  MmapRing,
  MmapSpan,
  MmapSpanMut,
  Reserved,
  ReservedHandle,
  ReservedMut,
  ReservedNone,
  RingQueue,
  SharedMemory,
  UnsafeMmapFlags,
} from '../src';
import type { RawMapping } from '../src';
import { fdCount, isLinux, isWindows, onlyLinux, underWine, windowsFacts, wineLacks } from './helpers';

const P = MmapOptions.pageSize();
/** Every fixture handle has two pages: room for splitOff(P) and for merging the pieces back. */
const SIZE = 2 * P;
/** The allocation granularity: a ring's size, and a queue's capacity, are multiples of it (64 KiB on Windows). */
const G = MmapOptions.allocationGranularity();

/** The codes a thrown error may carry without being an MmapError: Node's own argument errors. */
const NODE_ARGUMENT_CODES = new Set(['ERR_INVALID_ARG_TYPE', 'ERR_INVALID_ARG_VALUE', 'ERR_OUT_OF_RANGE']);

/** What the child prints, one line each: the kind, then tab-separated fields (JSON for findings and the summary). */
export type SweepLine =
  | { kind: 'call'; key: string; label: string }
  | { kind: 'finding'; finding: Finding }
  | { kind: 'done'; summary: SweepSummary };

/** Something wrong with one call. */
export interface Finding {
  /** The call's place in the sweep: its top-level index, then `.n` for the n-th call on what it returned. */
  readonly key: string;
  readonly label: string;
  /**
   * `uncoded`: it threw or rejected with something other than an Error with a string code.
   * `baseline`: with every argument valid it failed, and not by the OS's refusal: the sweep's own arguments are wrong.
   * `setup`: the sweep could not build its receiver or arguments.
   * `cleanup`: what it made could not be unmapped, or pages it gave up could not be taken back.
   * `leak`: the process's count of areas moved during it, every time it was repeated.
   */
  readonly kind: 'uncoded' | 'baseline' | 'setup' | 'cleanup' | 'leak';
  /** What was thrown, and the first place in src/ it passed through. */
  readonly what: string;
}

/** The child's last line. */
export interface SweepSummary {
  /** Calls made (skipped ones not counted). */
  readonly calls: number;
  /** Members reachable on the public classes and exports that the sweep has no arguments for. */
  readonly unknownMembers: readonly string[];
  /** Parts of the sweep this platform cannot run, each with the reason. */
  readonly skippedParts: readonly string[];
  /** Open descriptors before and after the run; undefined with `countsNotChecked`. */
  readonly descriptors?: readonly [number, number];
  /** Why the kernel's counts were not checked. */
  readonly countsNotChecked?: string;
  /** Why the descriptors (Windows: handles) were not counted, where only they were not. */
  readonly descriptorsNotChecked?: string;
}

/** What the parent asks: start at top-level call `from`, skip the calls in `skip` (they killed the process). */
export interface SweepOptions {
  readonly from: number;
  readonly skip: readonly string[];
  /** Where to put the file withFile() maps; the parent removes it, even after a crash. */
  readonly directory: string;
}

// ---------------------------------------------------------------------------
// The hostile values.

/** An argument or a receiver: how labels show it, and how to make a fresh one for a call. */
interface Arg {
  readonly show: string;
  /** `owner` is the class whose member is called. */
  readonly make: (arena: Arena, owner: Constructor) => unknown;
}

const literal = (show: string, value: unknown): Arg => ({ show, make: () => value });
const fresh = (show: string, make: Arg['make']): Arg => ({ show: `<${show}>`, make });

/** What the hostile values themselves throw: a plain Error without a code, so that one escaping a call is reported. */
const hostileError = (where: string) => new Error(`thrown by the hostile value's ${where}`);

const TRAPS = [
  'apply', 'construct', 'defineProperty', 'deleteProperty', 'get', 'getOwnPropertyDescriptor',
  'getPrototypeOf', 'has', 'isExtensible', 'ownKeys', 'preventExtensions', 'set', 'setPrototypeOf',
] as const;

function throwingProxy(): object {
  const handler = Object.fromEntries(TRAPS.map((trap) => [trap, () => { throw hostileError(`${trap} trap`); }]));
  return new Proxy({}, handler);
}

function revokedProxy(): object {
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  return proxy;
}

function unconvertible(): object {
  const refuse = (how: string) => () => { throw hostileError(how); };
  return { valueOf: refuse('valueOf'), toString: refuse('toString'), [Symbol.toPrimitive]: refuse('Symbol.toPrimitive') };
}

/** Names the library might read from an object it is given. */
const GETTER_NAMES = [
  'fd', 'args', 'returns', 'byteLength', 'byteOffset', 'buffer', 'length', 'protection', 'shareMode', 'address', 'size', 'start', 'end',
];

function throwingGetters(): object {
  const getters = GETTER_NAMES.map((name) => [name, { get() { throw hostileError(`${name} getter`); }, enumerable: true }]);
  return Object.defineProperties({}, Object.fromEntries(getters));
}

function detachedBytes(): Uint8Array {
  const bytes = new Uint8Array(16);
  structuredClone(bytes.buffer, { transfer: [bytes.buffer] });
  return bytes;
}

function bytesWithThrowingByteLength(): Uint8Array {
  return Object.defineProperty(new Uint8Array(16), 'byteLength', { get() { throw hostileError('own byteLength getter'); } });
}

const HOSTILE: readonly Arg[] = [
  literal('undefined', undefined),
  literal('null', null),
  literal('true', true),
  literal('NaN', NaN),
  literal('-0', -0),
  literal('-1', -1),
  literal('0.5', 0.5),
  literal('2**32', 2 ** 32),
  literal('2**53', 2 ** 53),
  literal('Infinity', Infinity),
  literal('-Infinity', -Infinity),
  literal("'1'", '1'),
  literal('1n', 1n),
  literal('-1n', -1n),
  literal('2n**64n', 2n ** 64n),
  literal('Symbol()', Symbol('hostile')),
  fresh('{}', () => ({})),
  fresh('[]', () => []),
  fresh('Object.create(null)', () => Object.create(null)),
  fresh('a Proxy whose every trap throws', throwingProxy),
  fresh('a revoked Proxy', revokedProxy),
  fresh('an object whose valueOf, toString and Symbol.toPrimitive throw', unconvertible),
  fresh(`an object whose getters throw: ${GETTER_NAMES.join(', ')}`, throwingGetters),
  fresh('a function', () => function hostileFunction() {}),
  fresh('a detached Uint8Array', detachedBytes),
  fresh('a Uint8Array whose own byteLength getter throws', bytesWithThrowingByteLength),
  fresh('a DataView', () => new DataView(new ArrayBuffer(16))),
  fresh('a read-only memmap view', (arena) => arena.readOnlyView()),
];

// ---------------------------------------------------------------------------
// The public API, and valid arguments for all of it.

// Public classes have protected constructors (handles and spans are made by
// the library); the sweep calls them anyway, through this type.
type Constructor = Function & { readonly prototype: object };

const HANDLE_CLASSES = [MmapNone, Mmap, MmapMut, MmapRing, ReservedNone, Reserved, ReservedMut] as const;
const MAKERS = new Map<Function, (options: MmapOptions) => Handle>([
  [MmapNone, (options) => options.mapNone()],
  [Mmap, (options) => options.map()],
  [MmapMut, (options) => options.mapMut()],
  [MmapRing, (options) => options.mapRing()],
  [ReservedNone, (options) => options.reserveNone()],
  [Reserved, (options) => options.reserve()],
  [ReservedMut, (options) => options.reserveMut()],
]);
/** How a fixture handle of `owner`'s class is made; the abstract classes' fixtures are MmapMut. */
const makerOf = (owner: Function) => MAKERS.get(owner) ?? MAKERS.get(MmapMut)!;
/** The options a fixture handle of `owner`'s class is made with: a ring's size is a multiple of G, which SIZE need not be. */
const optionsFor = (owner: Function) => new MmapOptions(owner === MmapRing ? G : SIZE);

/** The classes whose instances' methods and getters are swept. */
const INSTANCE_CLASSES: readonly Constructor[] = [MmapOptions, ...HANDLE_CLASSES, MmapSpan, MmapSpanMut, SharedMemory, RingQueue];
/** Exported classes only the library instantiates, from a native object (a queue: a private key) no caller can reach. */
const LIBRARY_MADE: readonly Constructor[] = [
  Handle, MappedHandle, ReservedHandle, ...HANDLE_CLASSES, MmapSpan, MmapSpanMut, SharedMemory, RingQueue as unknown as Constructor,
];

const zero = literal('0', 0);
const RANGE = [zero, literal('P', P)];
const WINDOW = [zero, literal('16', 16)];
const sixteenBytes = fresh('a Uint8Array(16)', () => new Uint8Array(16));
const littleEndian = literal('true', true);
/** A page-aligned address hint; the OS may place the mapping elsewhere. */
const ADDRESS_HINT = 0x3f00_0000_0000n;
/** The descriptor of the file withFile() maps, open for the whole run. */
let sweepFile: number;

const GETTERS = new Set<PropertyKey>([
  'start', 'end', 'size', 'closed', 'bytes', 'buffer', 'offset', 'length', 'fd', 'handle', 'name', 'sealed', 'ringSize',
  // RingQueue
  'capacity', 'readable', 'writable',
]);
const MAP_METHODS = [
  'mapNone', 'map', 'mapExec', 'mapMut', 'mapExecMut', 'mapRing', 'reserveNone', 'reserve', 'reserveExec', 'reserveMut', 'reserveExecMut',
  'mapFromExisting',
] as const;

/** Valid arguments of every public method, by name (the same for every class that has it). */
const ARGUMENTS = new Map<PropertyKey, readonly Arg[]>([
  // Handle
  ['unmap', []],
  [Symbol.dispose, []],
  ['intoRaw', []],
  ['splitOff', [literal('P', P)]],
  ['splitTo', [literal('P', P)]],
  ['merge', [fresh('the adjacent piece', (arena, owner) => arena.pair(owner)[1])]],
  ['share', []],
  // A shrink: every platform has it (macOS and FreeBSD cannot grow), and it needs no free address space.
  ['remap', [literal('P', P), fresh('{ mayMove: true }', () => ({ mayMove: true }))]],
  // MappedHandle
  ['residency', RANGE],
  ['lock', RANGE],
  ['lockOnFault', RANGE],
  ['unlock', RANGE],
  ['flush', RANGE],
  ['flushAsync', RANGE],
  ['advise', [literal("'normal'", 'normal'), ...RANGE]],
  ['flushIcache', []],
  ...['makeNone', 'makeReadOnly', 'makeExec', 'makeExecNoFlush', 'makeMut', 'makeExecMut'].map((name) => [name, []] as const),
  // The Reserved* handles
  ['commit', []],
  // Mmap, MmapMut and the spans
  ['asFunction', [zero, fresh("{ args: [], returns: 'void' }", () => ({ args: [], returns: 'void' }))]],
  // The word at 0 of a wait's receiver holds 1 (see validReceiver): `expected`
  // 0, and no hostile value, equals it, so no call blocks whatever its timeout.
  ['wait', [zero, zero, zero]],
  ['waitAsync', [zero, zero, zero]],
  ['notify', [zero, literal('1', 1)]],
  ['sharedBuffer', []],
  ['span', WINDOW],
  ['view', WINDOW],
  ['read', WINDOW],
  ['readInto', [zero, sixteenBytes]],
  ['write', [zero, sixteenBytes]],
  ['fill', [zero, zero, literal('16', 16)]],
  ['copyWithin', [zero, literal('16', 16), literal('32', 32)]],
  ['getInt8', [zero]],
  ['getUint8', [zero]],
  ...['Int16', 'Uint16', 'Int32', 'Uint32', 'BigInt64', 'BigUint64', 'Float32', 'Float64'].map((type) => [`get${type}`, [zero, littleEndian]] as const),
  ['setInt8', [zero, literal('1', 1)]],
  ['setUint8', [zero, literal('1', 1)]],
  ...['Int16', 'Uint16', 'Int32', 'Uint32', 'Float32', 'Float64'].map((type) => [`set${type}`, [zero, literal('1', 1), littleEndian]] as const),
  ...['BigInt64', 'BigUint64'].map((type) => [`set${type}`, [zero, literal('1n', 1n), littleEndian]] as const),
  // MmapOptions
  ['withFile', [fresh('a file descriptor', () => sweepFile), zero]],
  ['withSharedMemory', [fresh('a SharedMemory', (arena) => arena.sharedMemory()), zero]],
  // SharedMemory
  ['close', []],
  ['withFlags', [literal('MmapFlags.NO_RESERVE', MmapFlags.NO_RESERVE)]],
  ['withUnsafeFlags', [literal('UnsafeMmapFlags.JIT', UnsafeMmapFlags.JIT)]],
  ['withAddress', [literal(`0x${ADDRESS_HINT.toString(16)}n`, ADDRESS_HINT)]],
  ['withPageSize', [literal('P', P)]],
  ['withAlignment', [literal('4 * P', 4 * P)]],
  ...MAP_METHODS.map((name) => [name, []] as const),
]);

/**
 * Valid arguments of RingQueue's methods, where they differ from the
 * handles' of the same name. A queue receiver holds 16 bytes and has room
 * for more (see Arena.queue): no read, write or wait can block, whatever
 * its hostile argument (a timeout of undefined or Infinity is no limit).
 */
const QUEUE_ARGUMENTS = new Map<PropertyKey, readonly Arg[]>([
  ['write', [sixteenBytes]],
  ['tryWrite', [sixteenBytes]],
  ['writeAsync', [sixteenBytes]],
  ['read', [literal('16', 16)]],
  ['tryRead', [literal('16', 16)]],
  ['readAsync', [literal('16', 16)]],
  ['readInto', [sixteenBytes]],
  ['readIntoAsync', [sixteenBytes]],
  ['waitReadable', [zero]],
  ['waitReadableAsync', [zero]],
  ['waitWritable', [literal('1', 1), zero]],
  ['waitWritableAsync', [literal('1', 1), zero]],
]);

/** Valid arguments of `owner`'s member `key`. */
const argumentsOf = (owner: Constructor, key: PropertyKey) =>
  (owner === (RingQueue as unknown as Constructor) ? QUEUE_ARGUMENTS.get(key) : undefined) ?? ARGUMENTS.get(key);

const pid = literal('process.pid', process.pid);
const mappedAddress = fresh('the start of a mapping', (arena) => arena.receiver(MmapMut).start);
const mappedEnd = fresh('its end', (arena) => arena.receiver(MmapMut).end);

/** Valid arguments of the static methods and the plain functions, by label. */
const STATIC_ARGUMENTS = new Map<string, readonly Arg[]>([
  ['MmapOptions.pageSize', []],
  ['MmapOptions.allocationGranularity', []],
  ['MmapOptions.pageSizes', []],
  ['MmapOptions.freeHugePages', [literal('P', P)]],
  ['MemoryAreas.open', [pid]],
  ['MemoryAreas.query', [mappedAddress]],
  ['MemoryAreas.queryRange', [mappedAddress, mappedEnd]],
  ['MemoryAreas.queryProcess', [pid, mappedAddress]],
  ['MemoryAreas.queryProcessRange', [pid, mappedAddress, mappedEnd]],
  ['Handle.isHandle', [fresh('an MmapMut', (arena) => arena.receiver(MmapMut))]],
  ['MmapOptions.fromShared', [fresh('the token of a live handle', (arena) => arena.receiver(MmapMut).share())]],
  ['SharedMemory.create', [literal('P', P), fresh('{}', () => ({}))]],
  ['SharedMemory.open', [fresh('the name of a live object', (arena) => arena.namedSharedMemory())]],
  // Windows makes no descriptor over a section: there, a file's (refused, with its errno).
  ['SharedMemory.fromFd', [fresh('a shared memory descriptor', (arena) => (isWindows ? sweepFile : arena.sharedMemory().fd))]],
  ['SharedMemory.unlink', [fresh('the name of a live object', (arena) => arena.namedSharedMemory())]],
  ['RingQueue.create', [literal('G', G), fresh('{}', () => ({}))]],
  ['RingQueue.open', [fresh('the name of a live queue', (arena) => arena.namedQueue())]],
  // Windows: queues have no descriptor (queue.fd is ERR_MMAP_UNSUPPORTED); a file's is refused, with its errno.
  ['RingQueue.fromFd', [fresh("a queue's descriptor", (arena) => (isWindows ? sweepFile : arena.queue().fd))]],
  ['RingQueue.fromShared', [fresh('the token of a live queue', (arena) => arena.queue().share())]],
  ['RingQueue.unlink', [fresh('the name of a live queue', (arena) => arena.namedQueue())]],
  ['formatPermissions', [fresh("{ protection: 3, shareMode: 'private' }", () => ({ protection: 3, shareMode: 'private' }))]],
]);

/** Valid arguments of the constructors callers use. */
const CONSTRUCTOR_ARGUMENTS = new Map<Constructor, readonly Arg[]>([
  [MmapOptions, [literal('2 * P', SIZE)]],
  [MmapError, [literal("'ERR_MMAP_CLOSED'", 'ERR_MMAP_CLOSED'), literal("'a message'", 'a message'), literal('-9', -9), literal("'munmap'", 'munmap')]],
  // Private to TypeScript only: JavaScript can call it.
  [MemoryAreas as unknown as Constructor, []],
]);

/** A handle constructor's second argument, valid in itself; only the native mapping before it cannot be given. */
const HANDLE_STATE = fresh('a valid state', () => ({ access: 3, flags: 0, unsafeFlags: 0, pageSize: P }));
/** RingQueue's constructor's second argument, valid in itself; only the private key before it cannot be given. */
const QUEUE_PARTS = fresh("a queue's header, ring and shared memory", (arena) => arena.queueParts());

/** What a library-made class's constructor takes after the native mapping (or key) the sweep cannot give. */
function libraryConstructorRest(cls: Constructor): readonly Arg[] {
  if (cls === MmapSpan || cls === MmapSpanMut) return WINDOW;
  if (cls === (RingQueue as unknown as Constructor)) return [QUEUE_PARTS];
  return [HANDLE_STATE];
}

// `ret` alone: a function of any signature returning void, safe to call with anything.
const RET_BY_ARCH: Record<string, readonly number[]> = { x64: [0xc3], arm64: [0xc0, 0x03, 0x5f, 0xd6] };
const RET = RET_BY_ARCH[process.arch];

// ---------------------------------------------------------------------------
// Fixtures: fresh for each call, and whatever the call made is unmapped after it.

class Arena {
  readonly #handles: Handle[] = [];
  readonly #sharedMemory: SharedMemory[] = [];
  readonly #queues: RingQueue[] = [];
  readonly #names: string[] = [];
  readonly #rawPages: { raw: RawMapping; adopted: boolean }[] = [];
  readonly #fixtures = new Map<string, unknown>();
  /** What dispose() could not undo. */
  readonly problems: string[] = [];
  /**
   * A call returned a SharedArrayBuffer over mapped pages: it cannot be
   * detached, and its pages go when it is collected, the one way to
   * release them (MmapMut.sharedBuffer() says so): after the call, a collection.
   */
  collectAfter = false;

  /** One fixture per key and call, so that a receiver and its arguments can share one. */
  once<T>(key: string, make: () => T): T {
    if (!this.#fixtures.has(key)) this.#fixtures.set(key, make());
    return this.#fixtures.get(key) as T;
  }

  track<H extends Handle>(handle: H): H {
    this.#handles.push(handle);
    return handle;
  }

  /** The valid receiver of `owner`'s methods. */
  receiver<C extends Constructor>(owner: C): C['prototype'] {
    return this.once(`receiver ${owner.name}`, (): object => {
      const cls: Constructor = owner;
      if (cls === MmapOptions) return new MmapOptions(SIZE);
      if (cls === MmapSpan) return this.receiver(Mmap).span(8, 64);
      if (cls === MmapSpanMut) return this.receiver(MmapMut).span(8, 64);
      if (cls === SharedMemory) return this.sharedMemory();
      if (cls === (RingQueue as unknown as Constructor)) return this.queue();
      return this.track(makerOf(cls)(optionsFor(cls)));
    }) as C['prototype'];
  }

  /** A handle of `owner`'s class made with UnsafeMmapFlags.JIT, which RWX pages need. */
  jitReceiver(owner: Constructor): Handle {
    const options = optionsFor(owner).withUnsafeFlags(UnsafeMmapFlags.JIT);
    return this.once(`jit ${owner.name}`, () => this.track(owner === MmapMut ? options.mapExecMut() : makerOf(owner)(options)));
  }

  /**
   * Two adjacent pieces of one mapping: merge's receiver and argument. A
   * ring cannot be split: two rings instead, which merge() refuses as rings
   * (ERR_MMAP_UNSUPPORTED) wherever they lie.
   */
  pair(owner: Constructor): [Handle, Handle] {
    return this.once(`pair ${owner.name}`, () => {
      if (owner === MmapRing) return [this.track(new MmapOptions(G).mapRing()), this.track(new MmapOptions(G).mapRing())];
      const low = this.track(makerOf(owner)(optionsFor(owner)));
      return [low, this.track(low.splitOff(P))];
    });
  }

  /** Pages given up with intoRaw(), for mapFromExisting(); taken back after the call unless it adopted them. */
  raw(): RawMapping {
    return this.once('raw', () => {
      const raw = new MmapOptions(P).mapMut().intoRaw();
      this.#rawPages.push({ raw, adopted: false });
      return raw;
    });
  }

  /** An anonymous SharedMemory of SIZE bytes, closed after the call. */
  sharedMemory(): SharedMemory {
    return this.once('shm', () => this.trackSharedMemory(SharedMemory.create(SIZE)));
  }

  /** The name of a live named SharedMemory, unlinked after the call. */
  namedSharedMemory(): string {
    return this.once('named shm', () => {
      const name = `memmap-sweep-${process.pid}`;
      this.#names.push(name);
      return this.trackSharedMemory(SharedMemory.create(SIZE, { name })).name!;
    });
  }

  trackSharedMemory(shm: SharedMemory): SharedMemory {
    this.#sharedMemory.push(shm);
    return shm;
  }

  /**
   * An anonymous RingQueue of capacity G holding 16 bytes, so that neither
   * a read (of any size) nor a write or wait for room of up to 16 bytes blocks.
   */
  queue(): RingQueue {
    return this.once('queue', () => {
      const queue = this.trackQueue(RingQueue.create(G));
      queue.write(new Uint8Array(16).fill(7));
      return queue;
    });
  }

  /** The name of a live named RingQueue, unlinked after the call. */
  namedQueue(): string {
    return this.once('named queue', () => {
      const name = `memmap-sweep-queue-${process.pid}`;
      this.#names.push(name);
      return this.trackQueue(RingQueue.create(G, { name })).name!;
    });
  }

  /** What RingQueue's constructor takes after its key: the header and ring of a queue-sized object, all let go after the call. */
  queueParts(): object {
    return this.once('queue parts', () => {
      const shm = this.trackSharedMemory(SharedMemory.create(2 * G));
      const header = this.track(new MmapOptions(G).withSharedMemory(shm, 0).mapMut());
      const ring = this.track(new MmapOptions(G).withSharedMemory(shm, G).mapRing());
      return { header, ring, shm };
    });
  }

  trackQueue(queue: RingQueue): RingQueue {
    this.#queues.push(queue);
    return queue;
  }

  /** A shared mapping of `owner`'s class whose word at offset 0 holds 1 (for wait and notify). */
  sharedReceiver(owner: Constructor): Handle {
    return this.once(`shared ${owner.name}`, () => {
      // A ring is shared memory already.
      const options = optionsFor(owner);
      const handle = this.track(owner === MmapRing ? options.mapRing() : options.withFlags(MmapFlags.SHARED).mapMut());
      handle.setUint32(0, 1);
      return owner === Mmap ? this.track(handle.makeReadOnly()) : handle;
    });
  }

  readOnlyView(): Uint8Array {
    return this.track(new MmapOptions(P).map()).view(0, 16) as Uint8Array;
  }

  /** A read+execute page holding a bare `ret` (only where RET is defined). */
  codePage(): Mmap {
    return this.once('code', () => {
      const page = new MmapOptions(P).mapMut();
      page.bytes.set(RET!);
      return this.track(page.makeExec());
    });
  }

  /** Takes what a successful call returned; returns the calls to make on a builder it returned. */
  take(result: unknown, label: string): Call[] {
    // A call may return what it was given (readInto returns its target): no Proxy trap may run here.
    if (types.isProxy(result)) return [];
    if (result instanceof SharedArrayBuffer) {
      this.collectAfter = true;
    } else if (result instanceof SharedMemory) {
      this.trackSharedMemory(result);
    } else if (result instanceof RingQueue) {
      this.trackQueue(result);
    } else if (result instanceof Handle) {
      this.track(result);
      for (const page of this.#rawPages) if (!result.closed && result.start === page.raw.address) page.adopted = true;
    } else if (isRawMapping(result)) {
      if (givesUpWhatNothingAdopts(label)) return [];
      this.#takeBack(result, `the pages ${label} gave up`);
    } else if (result instanceof MmapOptions) {
      return MAP_METHODS.map((name) => ({ label: `${label}.${name}()`, prepare: () => () => result[name]() }));
    }
    return [];
  }

  /** Unmaps everything the call made or was given; what could not be undone goes to `problems`. */
  dispose(): void {
    for (const queue of this.#queues) {
      try {
        queue.unmap();
      } catch (error) {
        this.problems.push(`unmap() of a RingQueue threw ${whatWasThrown(error)}`);
      }
    }
    for (const handle of this.#handles) {
      try {
        handle.unmap();
      } catch (error) {
        this.problems.push(`unmap() of a ${handle.constructor.name} threw ${whatWasThrown(error)}`);
      }
    }
    for (const page of this.#rawPages) if (!page.adopted) this.#takeBack(page.raw, 'a raw page nobody adopted');
    for (const shm of this.#sharedMemory) shm.close();
    for (const name of this.#names) {
      try {
        SharedMemory.unlink(name);
      } catch (error) {
        if ((error as MmapError).code !== 'ENOENT') this.problems.push(`unlink of ${name} threw ${whatWasThrown(error)}`);
      }
    }
  }

  #takeBack(raw: RawMapping, what: string): void {
    try {
      new MmapOptions(raw.size).withAddress(raw.address).mapFromExisting().unmap();
    } catch (error) {
      this.problems.push(`${what} could not be taken back (they stay mapped): ${whatWasThrown(error)}`);
    }
  }
}

/**
 * On Windows a reservation is address space with no pages (MEM_RESERVE),
 * which mapFromExisting() refuses as not mapped: what a reservation's
 * intoRaw() gives up, nothing can adopt, and it stays reserved (the caller's,
 * as intoRaw() says).
 */
function givesUpWhatNothingAdopts(label: string): boolean {
  return process.platform === 'win32' && /^Reserved\w*\.prototype\.intoRaw/.test(label);
}

/** Whether `value` is what intoRaw() returns; runs no getter. */
function isRawMapping(value: unknown): value is RawMapping {
  if (typeof value !== 'object' || value === null || Object.getPrototypeOf(value) !== Object.prototype) return false;
  const field = (name: string) => Object.getOwnPropertyDescriptor(value, name)?.value;
  return typeof field('address') === 'bigint' && typeof field('size') === 'number';
}

// ---------------------------------------------------------------------------
// The calls.

/** One call. `prepare` builds its receiver and arguments (a throw there is the sweep's fault) and returns the call itself. */
interface Call {
  readonly label: string;
  readonly prepare: (arena: Arena) => () => unknown;
  /** Every argument valid: it must succeed, or the hostile calls built on it test the wrong thing. */
  readonly baseline?: boolean;
  /** The follow-up calls on what it returned, instead of the arena taking it. */
  readonly then?: (result: unknown) => Call[];
}

/** A method or getter found on a public class's prototype chain. */
interface Member {
  readonly owner: Constructor;
  readonly key: PropertyKey;
  /** The prototype that defines it. */
  readonly home: object;
  readonly getter?: () => unknown;
  readonly method?: (...args: unknown[]) => unknown;
}

/** Every method and getter instances of `owner` have, each from the nearest prototype defining it. */
function membersOf(owner: Constructor): Member[] {
  const members = new Map<PropertyKey, Member>();
  for (let home = owner.prototype as object; home !== Object.prototype; home = Object.getPrototypeOf(home)) {
    for (const key of Reflect.ownKeys(home)) {
      if (key === 'constructor' || members.has(key)) continue;
      const { get, value } = Object.getOwnPropertyDescriptor(home, key)!;
      members.set(key, { owner, key, home, getter: get, method: typeof value === 'function' ? value : undefined });
    }
  }
  return [...members.values()];
}

/** Receivers that are not valid for `member`: never of a class that inherits it. */
function foreignReceivers(member: Member): Arg[] {
  const inherits = (other: Constructor) => other.prototype === member.home || Object.prototype.isPrototypeOf.call(member.home, other.prototype);
  return [
    literal('undefined', undefined),
    fresh('{}', () => ({})),
    fresh('Object.create(null)', () => Object.create(null)),
    fresh('a Proxy whose every trap throws', throwingProxy),
    fresh(`a Proxy of a valid ${member.owner.name}`, (arena, owner) => new Proxy(validReceiver(owner, member.key, arena), {})),
    ...INSTANCE_CLASSES.filter((other) => !inherits(other)).map((other) => fresh(`a ${other.name}`, (arena) => arena.receiver(other))),
  ];
}

/** The receiver a member's valid call needs. */
function validReceiver(owner: Constructor, key: PropertyKey, arena: Arena): object {
  if (key === 'asFunction') return owner === MmapMut ? arena.jitReceiver(MmapMut) : arena.once('exec', () => arena.track(new MmapOptions(SIZE).mapExec()));
  if (key === 'makeExecMut') return arena.jitReceiver(owner);
  if (key === 'wait' || key === 'waitAsync' || key === 'notify') return arena.sharedReceiver(owner);
  if (owner === SharedMemory) return arena.sharedMemory();
  if (owner === (RingQueue as unknown as Constructor)) return arena.queue();
  if (key === 'merge') return arena.pair(owner)[0];
  // SIZE need not be a multiple of G (Windows: 2 * 4 KiB against 64 KiB).
  if (key === 'mapRing') return new MmapOptions(G);
  if (key === 'mapExecMut' || key === 'reserveExecMut') return new MmapOptions(SIZE).withUnsafeFlags(UnsafeMmapFlags.JIT);
  if (key === 'mapFromExisting') return new MmapOptions(P).withAddress(arena.raw().address);
  return arena.receiver(owner);
}

/** How a call shows in findings: `label(args)`, or `label.call(receiver, args)` on a foreign receiver. */
function callLabel(label: string, receiver: string | undefined, args: readonly Arg[]): string {
  const shown = args.map((arg) => arg.show);
  return receiver === undefined ? `${label}(${shown.join(', ')})` : `${label}.call(${[receiver, ...shown].join(', ')})`;
}

const memberLabel = (owner: Constructor, key: PropertyKey) =>
  `${owner.name}.prototype${typeof key === 'symbol' ? `[${key.description}]` : `.${key}`}`;

/** `args` with position `index` replaced by `value`. */
const substitute = (args: readonly Arg[], index: number, value: Arg) => args.map((arg, at) => (at === index ? value : arg));

const build = (args: readonly Arg[], arena: Arena, owner: Constructor) => args.map((arg) => arg.make(arena, owner));

/** A function's calls: valid, then each hostile value in each position, then each foreign receiver. */
function* callsOf(
  label: string,
  fn: (...args: unknown[]) => unknown,
  owner: Constructor,
  validThis: (arena: Arena) => unknown,
  args: readonly Arg[],
  foreign: readonly Arg[],
): Generator<Call> {
  const call = (receiver: Arg | undefined, given: readonly Arg[], baseline = false): Call => ({
    label: callLabel(label, receiver?.show, given),
    baseline,
    prepare: (arena) => {
      const self = receiver ? receiver.make(arena, owner) : validThis(arena);
      const values = build(given, arena, owner);
      return () => fn.apply(self, values);
    },
  });
  yield call(undefined, args, true);
  for (let index = 0; index < args.length; index++) {
    for (const value of HOSTILE) yield call(undefined, substitute(args, index, value));
  }
  for (const receiver of foreign) yield call(receiver, args);
}

function* memberCalls(member: Member, unknown: string[]): Generator<Call> {
  const { owner, key } = member;
  const label = memberLabel(owner, key);
  const valid = (arena: Arena) => validReceiver(owner, key, arena);
  if (member.getter) {
    if (!GETTERS.has(key)) unknown.push(`${label} (getter)`);
    yield* callsOf(`${label} (get)`, member.getter, owner, valid, [], foreignReceivers(member));
    return;
  }
  const args = argumentsOf(owner, key);
  if (!member.method || !args) unknown.push(label);
  else yield* callsOf(label, member.method, owner, valid, args, foreignReceivers(member));
}

/** Every function-valued export and every static method: label, `this`, function. */
function* statics(): Generator<[string, unknown, (...args: unknown[]) => unknown]> {
  for (const [name, value] of Object.entries(api)) {
    if (typeof value !== 'function') continue;
    if (!/^class\b/.test(Function.prototype.toString.call(value))) {
      yield [name, undefined, value as (...args: unknown[]) => unknown];
      continue;
    }
    for (const key of Object.getOwnPropertyNames(value)) {
      const property = Object.getOwnPropertyDescriptor(value, key)!.value;
      if (typeof property === 'function') yield [`${name}.${key}`, value, property];
    }
  }
}

const STATIC_FOREIGN_THIS = [literal('undefined', undefined), fresh('{}', () => ({})), fresh('a Proxy whose every trap throws', throwingProxy)];

const construct = (cls: Constructor, given: readonly Arg[], more: Partial<Call> = {}): Call => ({
  label: `new ${cls.name}(${given.map((arg) => arg.show).join(', ')})`,
  prepare: (arena) => {
    const values = build(given, arena, cls);
    return () => Reflect.construct(cls, values);
  },
  ...more,
});

/** The constructors callers use: valid, then each position hostile. */
function* constructorCalls(cls: Constructor, args: readonly Arg[]): Generator<Call> {
  yield construct(cls, args, { baseline: true });
  for (let index = 0; index < args.length; index++) {
    for (const value of HOSTILE) yield construct(cls, substitute(args, index, value));
  }
}

/**
 * The constructors only the library calls, with each hostile value where it
 * passes a native mapping (the rest valid). One that makes an object anyway
 * must leave it failing with coded errors: each of its members, used
 * validly, is a follow-up call.
 */
function* libraryConstructorCalls(cls: Constructor, rest: readonly Arg[]): Generator<Call> {
  for (const value of HOSTILE) {
    const madeBy = construct(cls, [value, ...rest]).label;
    yield construct(cls, [value, ...rest], { then: (made) => membersOf(cls).map((member) => useOf(made, member, madeBy)) });
  }
}

/** A valid use of `member` on `made`, an object a constructor made from a hostile value; what it returns is not taken. */
function useOf(made: unknown, member: Member, madeBy: string): Call {
  const args = argumentsOf(member.owner, member.key) ?? [];
  const fn = member.getter ?? member.method!;
  const access = typeof member.key === 'symbol' ? `[${member.key.description}]` : `.${member.key}`;
  return {
    label: `(${madeBy})${access}${member.getter ? ' (get)' : `(${args.map((arg) => arg.show).join(', ')})`}`,
    prepare: (arena) => {
      const values = build(args, arena, member.owner);
      return () => fn.apply(made, values);
    },
    then: () => [],
  };
}

/** Generated code of each argument type, called with every hostile value and with the wrong count of arguments. */
function* generatedFunctionCalls(): Generator<Call> {
  for (const [type, valid] of [['i32', 1], ['i64', 1], ['u64', 1], ['ptr', 1], ['f64', 1.5]] as const) {
    const label = `asFunction(0, { args: ['${type}'], returns: 'void' })`;
    const call = (given: readonly Arg[], baseline = false): Call => ({
      label: callLabel(label, undefined, given),
      baseline,
      prepare: (arena) => {
        const fn = arena.codePage().asFunction(0, { args: [type], returns: 'void' }) as (...args: unknown[]) => unknown;
        const values = build(given, arena, Mmap);
        return () => fn(...values);
      },
    });
    const one = literal(String(valid), valid);
    yield call([one], true);
    for (const value of HOSTILE) yield call([value]);
    yield call([]);
    yield call([one, one]);
  }
}

/** Every call of the sweep, always in the same order: the parent resumes and skips by position. */
function* sweep(unknown: string[], skippedParts: string[]): Generator<Call> {
  for (const [cls, args] of CONSTRUCTOR_ARGUMENTS) yield* constructorCalls(cls, args);
  for (const cls of LIBRARY_MADE) yield* libraryConstructorCalls(cls, libraryConstructorRest(cls));
  for (const [label, self, fn] of statics()) {
    const args = STATIC_ARGUMENTS.get(label);
    if (!args) unknown.push(label);
    else yield* callsOf(label, fn, Object, () => self, args, STATIC_FOREIGN_THIS);
  }
  for (const owner of INSTANCE_CLASSES) for (const member of membersOf(owner)) yield* memberCalls(member, unknown);
  if (RET) yield* generatedFunctionCalls();
  else skippedParts.push(`calls of generated code: no machine code in this sweep for ${process.arch}`);
}

// ---------------------------------------------------------------------------
// Running it.

function write(line: SweepLine): void {
  const fields = line.kind === 'call' ? [line.key, line.label] : [JSON.stringify(line.kind === 'finding' ? line.finding : line.summary)];
  fs.writeSync(1, `${[line.kind, ...fields].join('\t').replace(/\n/g, ' ')}\n`);
}

/** What is wrong with a thrown value, or undefined for a coded error. */
function problemWith(thrown: unknown): string | undefined {
  if (types.isProxy(thrown) || !(thrown instanceof Error)) return `a non-Error: ${whatWasThrown(thrown)}`;
  const code = (thrown as { code?: unknown }).code;
  if (typeof code !== 'string') return `no code: ${whatWasThrown(thrown)}`;
  if (!(thrown instanceof MmapError) && !NODE_ARGUMENT_CODES.has(code)) return `a ${thrown.name} with a code of its own: ${whatWasThrown(thrown)}`;
  if (thrown.message === '') return `an empty message: ${whatWasThrown(thrown)}`;
  return undefined;
}

/**
 * Whether a valid call failed only because the OS or the platform refused
 * it (mlock of inaccessible pages is ENOMEM on Linux; lockOnFault is
 * unsupported on macOS): its arguments passed every check.
 */
function refusedByPlatform(thrown: unknown): boolean {
  return thrown instanceof MmapError && (thrown.errno !== undefined || thrown.code === 'ERR_MMAP_UNSUPPORTED');
}

const SOURCES = path.join(__dirname, '..', 'src') + path.sep;

/** A thrown value in words, with the first place in src/ it passed through. */
function whatWasThrown(thrown: unknown): string {
  if (types.isProxy(thrown)) return 'a Proxy';
  if (!(thrown instanceof Error)) return typeof thrown === 'object' && thrown !== null ? 'an object' : typeof thrown;
  const code = (thrown as { code?: unknown }).code;
  return `${thrown.name}${typeof code === 'string' ? ` [${code}]` : ''}: ${thrown.message}${firstSourceFrame(thrown.stack ?? '')}`;
}

/** ` at src/file.ts:line in function`, or nothing. The class before the function is left out: it is the receiver's, which varies. */
function firstSourceFrame(stack: string): string {
  for (const line of stack.split('\n')) {
    const at = line.indexOf(SOURCES);
    if (at < 0) continue;
    const [file, row] = line.slice(at + SOURCES.length).split(':');
    const fn = /^\s*at (?:.*\.)?(.+?) \(/.exec(line)?.[1];
    return ` at src/${file}:${row}${fn ? ` in ${fn}` : ''}`;
  }
  return '';
}

/** A full collection, and the turns that finalizers run in. */
async function collected(): Promise<void> {
  (globalThis as { gc?: () => void }).gc?.();
  for (let turn = 0; turn < 3; turn++) await new Promise((resolve) => setImmediate(resolve));
}

/** Makes `call` and reports what was wrong with it; returns the follow-up calls on what it returned. */
async function attempt(call: Call, key: string, report: (finding: Finding) => void): Promise<Call[]> {
  write({ kind: 'call', key, label: call.label });
  const arena = new Arena();
  const found = (kind: Finding['kind'], what: string) => report({ key, label: call.label, kind, what });
  try {
    let invoke: () => unknown;
    try {
      invoke = call.prepare(arena);
    } catch (error) {
      found('setup', whatWasThrown(error));
      return [];
    }
    let failure: { thrown: unknown; how: string } | undefined;
    let result: unknown;
    try {
      result = invoke();
    } catch (error) {
      failure = { thrown: error, how: 'threw' };
    }
    if (types.isPromise(result)) {
      try {
        result = await result;
      } catch (reason) {
        failure = { thrown: reason, how: 'rejected with' };
      }
    }
    if (!failure) return call.then ? call.then(result) : arena.take(result, call.label);
    const problem = problemWith(failure.thrown);
    if (problem) found('uncoded', `${failure.how} ${problem}`);
    if (call.baseline && !refusedByPlatform(failure.thrown)) found('baseline', `${failure.how} ${whatWasThrown(failure.thrown)}`);
    return [];
  } finally {
    arena.dispose();
    for (const problem of arena.problems) found('cleanup', problem);
    if (arena.collectAfter) await collected();
  }
}

/** The process's mapped areas, from the kernel: how many, and their bytes (adjacent areas alike merge into one). */
interface Census {
  readonly areas: number;
  readonly bytes: number;
}

function census(): Census {
  // Windows: every region that is not free, reserved ones too, as /proc/self/maps lists PROT_NONE areas.
  if (isWindows) {
    const { regions, bytes } = windowsFacts().addressSpace();
    return { areas: regions, bytes };
  }
  let areas = 0;
  let bytes = 0;
  for (const line of fs.readFileSync('/proc/self/maps', 'latin1').trim().split('\n')) {
    // malloc's brk heap and the main stack grow with garbage and recursion; mmap never places a mapping in them.
    if (line.endsWith('[heap]') || line.endsWith('[stack]')) continue;
    const [start, end] = line.slice(0, line.indexOf(' ')).split('-');
    areas++;
    bytes += parseInt(end, 16) - parseInt(start, 16);
  }
  return { areas, bytes };
}

/**
 * Whether calls leave mappings behind (or take some away), from the
 * kernel's counts. V8 and libuv map and unmap too, so counts that moved
 * during a call are only a suspicion: the call is repeated, and it leaks if
 * the counts move by the same amount on three repeats and never stay put.
 * No collection runs meanwhile: a mapping dropped for the collector to
 * unmap some time later is one the caller could not release.
 */
class LeakCheck {
  static readonly REPEATS = 4;
  static readonly AGREEING = 3;
  #last = census();

  /** Whether the counts moved since the last look. */
  moved(): boolean {
    const before = this.#last;
    this.#last = census();
    return before.areas !== this.#last.areas || before.bytes !== this.#last.bytes;
  }

  /** Repeats a suspect call; returns how each repeat moved the counts if it leaks. */
  async confirm(repeat: () => Promise<unknown>): Promise<string | undefined> {
    const moves = new Map<string, number>();
    for (let round = 0; round < LeakCheck.REPEATS; round++) {
      const before = census();
      await repeat();
      this.#last = census();
      if (this.#last.areas === before.areas && this.#last.bytes === before.bytes) return undefined;
      const move = `${signed(this.#last.areas - before.areas)} areas, ${signed(this.#last.bytes - before.bytes)} bytes`;
      moves.set(move, (moves.get(move) ?? 0) + 1);
      if (moves.get(move) === LeakCheck.AGREEING) return `${LeakCheck.AGREEING} repeats each moved the process's mappings by ${move}`;
    }
    return undefined;
  }
}

const signed = (count: number) => (count < 0 ? String(count) : `+${count}`);

/** Runs the sweep as `options` say, printing each call, each finding and the summary. */
export async function main(options: SweepOptions): Promise<void> {
  sweepFile = fs.openSync(path.join(options.directory, 'mapped'), 'w+');
  fs.ftruncateSync(sweepFile, SIZE);
  const skip = new Set(options.skip);
  const unknownMembers: string[] = [];
  const skippedParts: string[] = [];
  const report = (finding: Finding) => write({ kind: 'finding', finding });
  // Windows counts handles where Linux counts descriptors.
  const descriptors = isLinux ? fdCount : isWindows && !underWine ? () => windowsFacts().handleCount() : undefined;
  const descriptorsBefore = descriptors?.() ?? 0;
  const leaks = isLinux || isWindows ? new LeakCheck() : undefined;
  let calls = 0;
  const run = async (call: Call, key: string): Promise<void> => {
    if (skip.has(key)) return;
    calls++;
    const followUps = await attempt(call, key, report);
    if (leaks?.moved() && !givesUpWhatNothingAdopts(call.label)) {
      // Repeated quietly: its findings are reported already, and its follow-ups run once, below.
      const how = await leaks.confirm(() => attempt(call, key, () => {}));
      if (how) report({ key, label: call.label, kind: 'leak', what: how });
    }
    for (const [index, next] of followUps.entries()) await run(next, `${key}.${index}`);
  };
  if (leaks && isWindows) skippedParts.push("leak counts of a reservation's intoRaw() on Windows: what it gives up stays reserved, as nothing can adopt it");
  let index = 0;
  for (const call of sweep(unknownMembers, skippedParts)) {
    if (index >= options.from) await run(call, String(index));
    index++;
  }
  const counts = !leaks
    ? { countsNotChecked: onlyLinux }
    : descriptors
      ? { descriptors: [descriptorsBefore, descriptors()] as const }
      : { descriptorsNotChecked: wineLacks.handleCount };
  fs.closeSync(sweepFile);
  write({ kind: 'done', summary: { calls, unknownMembers, skippedParts, ...counts } });
}
