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
  | 'ERR_INVALID_ARG_TYPE'
  | 'ERR_INVALID_ARG_VALUE';

/**
 * An error from memmap. `code` is one of {@link MmapErrorCode}, or for a
 * failed system call the errno name, with `errno` (negative, as in Node's
 * `fs` errors) and `syscall` set.
 */
export class MmapError extends Error {
  /** What went wrong, as a stable string. */
  readonly code: MmapErrorCode | string;
  /** For system-call failures: the negative errno value. */
  readonly errno?: number;
  /** For system-call failures: the call that failed. */
  readonly syscall?: string;
  /** For `ERR_MMAP_FAULT`: the offset in the mapping where the fault happened. */
  declare readonly offset?: number;
  /** For `ERR_MMAP_FAULT`: the signal (`SIGBUS`, `SIGSEGV`) or Windows exception that was raised. */
  declare readonly signal?: string;

  /** @param code - the error code; @param message - what was wrong and what was expected */
  constructor(code: MmapErrorCode | string, message: string, errno?: number, syscall?: string) {
    super(message);
    this.name = 'MmapError';
    this.code = code;
    if (errno !== undefined) this.errno = errno;
    if (syscall !== undefined) this.syscall = syscall;
  }
}

/** @internal Throws an MmapError; typed `never` for control flow. */
export function fail(code: MmapErrorCode, message: string): never {
  throw new MmapError(code, message);
}
