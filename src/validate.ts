/**
 * Argument checks shared by the builder and the handles. Each names the value
 * that was wrong and what was expected.
 * @internal
 * @packageDocumentation
 */
import { describe, fail, MmapErrorCode } from './errors';

// Every message built here and by the callers names values through it.
export { describe };

/** A byte count: a positive safe integer. */
export function checkSize(value: unknown, what = 'size'): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    fail('ERR_MMAP_INVALID_SIZE', `${what} must be a positive safe integer, got ${describe(value)}`);
  }
  return value;
}

/** An offset or length: a non-negative safe integer. */
export function checkUint(value: unknown, what: string, code: MmapErrorCode = 'ERR_MMAP_OUT_OF_BOUNDS'): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    fail(code, `${what} must be a non-negative safe integer, got ${describe(value)}`);
  }
  return value;
}

/**
 * `[offset, offset + length)` inside `[0, size)`; length defaults to the rest.
 * Returns the length.
 */
export function checkRange(offset: number, length: number | undefined, size: number): number {
  checkUint(offset, 'offset');
  const actual = length === undefined ? Math.max(size - offset, 0) : checkUint(length, 'length');
  // Both are safe integers below 2^53, so the sum is exact in a double.
  if (offset > size || offset + actual > size) {
    fail('ERR_MMAP_OUT_OF_BOUNDS', `range offset ${offset}, length ${actual} exceeds the mapping's size ${size}`);
  }
  return actual;
}

/** A multiple of `unit` (a power of two). */
export function isMultiple(value: number | bigint, unit: number): boolean {
  return BigInt(value) % BigInt(unit) === 0n;
}

/** An address: a bigint that fits a pointer. */
export function checkAddress(value: unknown): bigint {
  if (typeof value !== 'bigint' || value < 0n || value >= 1n << 64n) {
    fail('ERR_MMAP_INVALID_ADDRESS', `address must be a bigint within 64 bits, got ${describe(value)}`);
  }
  return value;
}

/** Bits of `known`. */
export function checkFlags(value: unknown, known: number, what: string): number {
  // `&` works on 32 bits: anything wider is refused before it could alias.
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 0xffffffff || (value & ~known) !== 0) {
    fail('ERR_INVALID_ARG_VALUE', `${what} must be a combination of the ${what} bits, got ${describe(value)}`);
  }
  return value;
}
