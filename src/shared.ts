/**
 * Shared-memory objects: memory that several processes map at once.
 *
 * | platform | anonymous | named | `seal` |
 * | --- | --- | --- | --- |
 * | Linux | `memfd_create` | a file under `/dev/shm` (as `shm_open`) | anonymous objects: `F_SEAL_SHRINK`, `F_SEAL_GROW`, `F_SEAL_SEAL` |
 * | FreeBSD | `memfd_create` | `shm_open` | anonymous objects |
 * | macOS | `shm_open` of a random name, unlinked at once | `shm_open` | `ERR_MMAP_UNSUPPORTED` |
 * | Windows | a pagefile-backed section | the same, named `Local\<name>` | by construction: a section's size never changes |
 *
 * Map one with {@link MmapOptions.withSharedMemory}.
 * @packageDocumentation
 */
import { native } from './binding';
import { fail, failUnreadable } from './errors';
import { checkSize, describe } from './validate';

/** @internal The native side of a SharedMemory (native/shared_memory.h). */
export interface NativeSharedMemory {
  readonly fd: number;
  readonly handle: bigint;
  readonly size: number;
  readonly sealed: boolean;
  close(): void;
}

/** Options of {@link SharedMemory.create}. */
export interface SharedMemoryOptions {
  /**
   * A name other processes can {@link SharedMemory.open} it by: 1 to 30
   * characters of `A-Z a-z 0-9 . _ -`, not starting with `.` (the strictest
   * platform's rule, macOS's, everywhere). Without one the object is
   * anonymous: reachable only through its descriptor or handle.
   */
  readonly name?: string;
  /**
   * Make the size permanent, so that no process can ever truncate the object
   * under a mapping (which would kill readers with SIGBUS). Linux and
   * FreeBSD seal anonymous objects; Windows sections cannot change size
   * anyway; elsewhere, and for named objects on POSIX, `ERR_MMAP_UNSUPPORTED`.
   */
  readonly seal?: boolean;
}

const NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,29}$/;

function checkName(name: unknown): string {
  if (typeof name !== 'string' || !NAME.test(name)) {
    fail(
      'ERR_MMAP_INVALID_NAME',
      `a shared memory name must be 1 to 30 characters of A-Z, a-z, 0-9, '.', '_' and '-', not starting with '.', got ${describe(name)}`,
    );
  }
  return name;
}

/** @internal The native object behind a SharedMemory; `ERR_MMAP_CLOSED` once closed. */
export let nativeSharedMemory: (shm: unknown) => NativeSharedMemory;

// Only this module makes SharedMemory objects.
const MAKE = Symbol('SharedMemory');

// A brand check (no user code runs, not even a Proxy's trap).
let checked: (value: unknown) => SharedMemory;

/**
 * A shared-memory object. Map it with {@link MmapOptions.withSharedMemory};
 * the mappings outlive {@link SharedMemory.close}. An object not closed is
 * closed when it is garbage-collected. Its descriptor or handle is never
 * inherited by child processes unless passed on purpose (`fd` in
 * `child_process` `stdio`).
 */
export class SharedMemory implements Disposable {
  #native: NativeSharedMemory | null;
  readonly #name: string | null;
  readonly #size: number;

  static {
    nativeSharedMemory = (shm) => checked(shm).#native ?? fail('ERR_MMAP_CLOSED', 'the SharedMemory was closed');
    checked = (value) => {
      if (typeof value !== 'object' || value === null || !(#native in value)) {
        fail('ERR_INVALID_ARG_TYPE', `expected a SharedMemory, got ${describe(value)}`);
      }
      return value;
    };
  }

  /** Objects are made by {@link SharedMemory.create}, `open()` and `fromFd()`: this constructor is not for calling. */
  private constructor(key: unknown, object: NativeSharedMemory, name: string | null) {
    if (key !== MAKE) fail('ERR_ILLEGAL_CONSTRUCTOR', 'SharedMemory objects are made by SharedMemory.create(), open() and fromFd()');
    this.#native = object;
    this.#name = name;
    this.#size = object.size;
  }

  /**
   * Creates an object of `size` bytes, zero-filled. Named objects are
   * created exclusively: `EEXIST` if the name is taken (and on POSIX they
   * stay until {@link SharedMemory.unlink}, like files).
   */
  static create(size: number, options: SharedMemoryOptions = {}): SharedMemory {
    let name: unknown;
    let seal: unknown;
    try {
      ({ name, seal } = options);
    } catch (cause) {
      failUnreadable('options', 'an object with name and seal', cause);
    }
    const bytes = checkSize(size);
    const checkedName = name === undefined ? null : checkName(name);
    if (seal !== undefined && typeof seal !== 'boolean') {
      fail('ERR_INVALID_ARG_TYPE', `options.seal must be a boolean, got ${describe(seal)}`);
    }
    return new SharedMemory(MAKE, native.shmCreate(checkedName ?? '', bytes, seal === true), checkedName);
  }

  /** Opens the named object another process created; read-only with `{ readOnly: true }`. */
  static open(name: string, options: { readonly readOnly?: boolean } = {}): SharedMemory {
    let readOnly: unknown;
    try {
      ({ readOnly } = options);
    } catch (cause) {
      failUnreadable('options', 'an object with readOnly', cause);
    }
    const checkedName = checkName(name);
    if (readOnly !== undefined && typeof readOnly !== 'boolean') {
      fail('ERR_INVALID_ARG_TYPE', `options.readOnly must be a boolean, got ${describe(readOnly)}`);
    }
    return new SharedMemory(MAKE, native.shmOpen(checkedName, readOnly !== true), checkedName);
  }

  /**
   * An object from a descriptor this process inherited (`child_process`
   * `stdio`) or opened. The object takes a duplicate: `fd` stays yours to
   * close. `EINVAL` for a descriptor that is not shared memory or a file.
   */
  static fromFd(fd: number): SharedMemory {
    if (!Number.isInteger(fd) || fd < 0 || fd > 0x7fffffff) {
      fail('ERR_INVALID_ARG_TYPE', `fd must be an open file descriptor, got ${describe(fd)}`);
    }
    return new SharedMemory(MAKE, native.shmAdopt(fd), null);
  }

  /**
   * Removes a name; objects already open or mapped live on. On Windows
   * a section goes with its last handle and view, and this does nothing.
   */
  static unlink(name: string): void {
    native.shmUnlink(checkName(name));
  }

  /**
   * The descriptor, to pass to a child process's `stdio` (POSIX: the
   * object's own; Windows: a C runtime descriptor over the section).
   */
  get fd(): number {
    return nativeSharedMemory(this).fd;
  }

  /** The OS handle: the descriptor on POSIX, the section `HANDLE` on Windows. */
  get handle(): bigint {
    return nativeSharedMemory(this).handle;
  }

  /** The size in bytes, as it was when the object was made or opened. */
  get size(): number {
    nativeSharedMemory(this);
    return this.#size;
  }

  /** The name, or `null` for an anonymous object (or one from a descriptor). */
  get name(): string | null {
    nativeSharedMemory(this);
    return this.#name;
  }

  /** Whether the size can never change (a sealed memfd; any Windows section). */
  get sealed(): boolean {
    return nativeSharedMemory(this).sealed;
  }

  /** Whether {@link SharedMemory.close} was called. */
  get closed(): boolean {
    return checked(this).#native === null;
  }

  /** Closes the descriptor or handle; mappings of the object stay. Idempotent. */
  close(): void {
    const shm = checked(this);
    const object = shm.#native;
    shm.#native = null;
    object?.close();
  }

  /** The same as {@link SharedMemory.close}, for `using`. */
  [Symbol.dispose](): void {
    SharedMemory.prototype.close.call(this);
  }
}
