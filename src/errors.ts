/**
 * Every error memmap throws is an {@link MmapError} with a `code`.
 * @packageDocumentation
 */

/**
 * The library's own error codes. Operating-system failures use the errno name
 * instead (`ENOMEM`, `EACCES`, `EBADF`, ...).
 */
export type MmapErrorCode =
  | 'ERR_MMAP_INVALID_SIZE'
  | 'ERR_MMAP_INVALID_OFFSET'
  | 'ERR_MMAP_INVALID_ALIGNMENT'
  | 'ERR_MMAP_INVALID_ADDRESS'
  | 'ERR_MMAP_MISSING_ADDRESS'
  | 'ERR_MMAP_UNSAFE_FLAG_NEEDED'
  | 'ERR_MMAP_CLOSED'
  | 'ERR_MMAP_OUT_OF_BOUNDS'
  | 'ERR_MMAP_BEYOND_EOF'
  | 'ERR_MMAP_VIEW_TOO_LARGE'
  | 'ERR_MMAP_MUST_BE_ADJACENT'
  | 'ERR_MMAP_ATTRIBUTE_MISMATCH'
  | 'ERR_MMAP_BACKING_MISMATCH'
  | 'ERR_MMAP_UNSUPPORTED'
  | 'ERR_MMAP_NOT_EXECUTABLE'
  | 'ERR_MMAP_ARGUMENT_COUNT'
  | 'ERR_MMAP_EXTERNAL_BUFFERS_UNSUPPORTED'
  | 'ERR_MMAP_UNPARSABLE_AREA'
  | 'ERR_MMAP_FAULT'
  | 'ERR_MMAP_VIEW_TRANSFERRED'
  | 'ERR_MMAP_BUSY'
  | 'ERR_MMAP_ASYNC_FAILED'
  | 'ERR_MMAP_SHARED'
  | 'ERR_MMAP_NOT_SHARED'
  | 'ERR_MMAP_INVALID_NAME'
  | 'ERR_MMAP_CANNOT_GROW_IN_PLACE'
  | 'ERR_INVALID_ARG_TYPE'
  | 'ERR_INVALID_ARG_VALUE'
  | 'ERR_OUT_OF_RANGE'
  | 'ERR_ILLEGAL_CONSTRUCTOR';

/**
 * An error from memmap. `code` is one of {@link MmapErrorCode}, or for a
 * failed system call the errno name, with `errno` (negative), `syscall`, and
 * `path` where a file was involved and the platform can name it, as Node's
 * `fs` errors have them: `ENOMEM: cannot allocate memory, mmap 64 GiB
 * (reserve)`. Fields that do not apply are absent, not `undefined`.
 */
export class MmapError extends Error {
  /** What went wrong, as a stable string: one of {@link MmapErrorCode}, or an errno name. */
  readonly code: MmapErrorCode | (string & {});
  /** For system-call failures: the negative errno value. */
  declare readonly errno?: number;
  /** For system-call failures: the call that failed. */
  declare readonly syscall?: string;
  /** For failures that involved a file: its path, where the platform can tell it. */
  declare readonly path?: string;
  /**
   * For `ERR_MMAP_FAULT`: the offset in the mapping where the fault happened,
   * or, when the other side of a copy faulted (itself a memmap view), where
   * the copy stood in this mapping.
   */
  declare readonly offset?: number;
  /** For `ERR_MMAP_FAULT`: the signal (`SIGBUS`, `SIGSEGV`) or Windows exception that was raised. */
  declare readonly signal?: string;

  /**
   * Arguments of other types throw `ERR_INVALID_ARG_TYPE`: an MmapError always has a string code.
   * @param code - the error code
   * @param message - what was wrong and what was expected
   * @param errno - for a failed system call, its negative errno
   * @param syscall - for a failed system call, its name
   */
  constructor(code: MmapErrorCode | (string & {}), message: string, errno?: number, syscall?: string) {
    const wrong = whatIsWrong(code, message, errno, syscall);
    if (wrong !== undefined) throw new MmapError('ERR_INVALID_ARG_TYPE', wrong);
    super(message);
    this.name = 'MmapError';
    this.code = code;
    // Only the fields that apply, so that util.inspect shows no `undefined`.
    if (errno !== undefined) Object.defineProperty(this, 'errno', { value: errno, enumerable: true });
    if (syscall !== undefined) Object.defineProperty(this, 'syscall', { value: syscall, enumerable: true });
  }
}

/** @internal Throws an MmapError; typed `never` for control flow. */
export function fail(code: MmapErrorCode, message: string): never {
  throw new MmapError(code, message);
}

/**
 * @internal Throws `ERR_INVALID_ARG_VALUE` for an argument whose reading
 * threw (a getter, a Proxy trap); what it threw is the error's `cause`.
 */
export function failUnreadable(what: string, expected: string, cause: unknown): never {
  const error = new MmapError('ERR_INVALID_ARG_VALUE', `${what} must be ${expected}, but reading it threw (see cause)`);
  Object.defineProperty(error, 'cause', { value: cause, writable: true, configurable: true });
  throw error;
}

/** What is wrong with MmapError's arguments, if anything. */
function whatIsWrong(code: unknown, message: unknown, errno: unknown, syscall: unknown): string | undefined {
  if (typeof code !== 'string') return `MmapError code must be a string, got ${describe(code)}`;
  if (typeof message !== 'string') return `MmapError message must be a string, got ${describe(message)}`;
  if (errno !== undefined && !Number.isSafeInteger(errno)) {
    return `MmapError errno must be an integer or undefined, got ${describe(errno)}`;
  }
  if (syscall !== undefined && typeof syscall !== 'string') {
    return `MmapError syscall must be a string or undefined, got ${describe(syscall)}`;
  }
  return undefined;
}

// The intrinsic getter answers from the typed array's internal slot, so
// neither an own `byteLength` property nor a Proxy runs user code through it.
const typedArrayPrototype = Object.getPrototypeOf(Uint8Array.prototype) as object;
const typedArrayName = Object.getOwnPropertyDescriptor(typedArrayPrototype, Symbol.toStringTag)!.get!;
const typedArrayByteLength = Object.getOwnPropertyDescriptor(typedArrayPrototype, 'byteLength')!.get!;
const LONGEST_STRING_SHOWN = 40;

/**
 * @internal `value` in words, for an error message. Runs no user code and never throws,
 * whatever the value: `String()` would call `toString`, `Symbol.toPrimitive`
 * or a Proxy's traps, any of which may throw or lie.
 */
export function describe(value: unknown): string {
  switch (typeof value) {
    case 'undefined':
      return 'undefined';
    case 'boolean':
      return String(value);
    case 'number':
      return Object.is(value, -0) ? '-0' : String(value);
    case 'bigint':
      return `${value}n`;
    case 'string':
      return value.length > LONGEST_STRING_SHOWN
        ? `a string of ${value.length} characters beginning ${JSON.stringify(value.slice(0, LONGEST_STRING_SHOWN))}`
        : JSON.stringify(value);
    case 'symbol':
      // String() of a symbol reads its description without conversion hooks.
      return String(value);
    case 'function':
      return 'a function';
    case 'object':
      return value === null ? 'null' : describeObject(value);
  }
}

function describeObject(value: object): string {
  const name = typedArrayName.call(value) as string | undefined;
  if (name !== undefined) return `a ${name} of ${typedArrayByteLength.call(value) as number} bytes`;
  // Like the getter, isView reads an internal slot and no Proxy trap.
  if (ArrayBuffer.isView(value)) return 'a DataView';
  try {
    // Throws only for a revoked Proxy.
    return Array.isArray(value) ? 'an array' : 'an object';
  } catch {
    return 'a revoked Proxy';
  }
}
