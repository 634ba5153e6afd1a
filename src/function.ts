/**
 * Signatures for calling generated machine code ({@link Mmap.asFunction}).
 * @packageDocumentation
 */
import { describe, fail, failUnreadable } from './errors';

/**
 * A C argument or result type: 32-bit integer, 64-bit signed or unsigned
 * integer, pointer, or double. Integers accept a number or a bigint; `i64`,
 * `u64` and `ptr` results are bigints, or numbers with
 * {@link FunctionSignature.numbers}.
 */
export type NativeType = 'i32' | 'i64' | 'u64' | 'ptr' | 'f64';

/** The C signature of generated code: up to six arguments and a result. */
export interface FunctionSignature {
  /** The C types of the arguments, in order: at most six. */
  readonly args: readonly NativeType[];
  /** The C type of the result, or `'void'`. */
  readonly returns: NativeType | 'void';
  /**
   * `true`: an `i64`, `u64` or `ptr` result comes back as a number instead
   * of a bigint, which saves allocating a bigint per call; a result that a
   * number cannot hold exactly (beyond ±(2^53 − 1)) throws
   * `ERR_OUT_OF_RANGE`. Default `false`. Where the type of `numbers` is
   * `boolean` rather than `true` or `false`, such results are typed
   * `number | bigint`.
   */
  readonly numbers?: boolean;
}

// `Numbers extends true` distributes over a union: `numbers` typed as
// boolean (true at run time or not) gives number | bigint.
type JsValue<T extends NativeType | 'void', Numbers> = T extends 'i32' | 'f64'
  ? number
  : T extends 'void'
    ? void
    : Numbers extends true
      ? number
      : bigint;
type JsArgument<T extends NativeType> = T extends 'f64' ? number : T extends 'i32' ? number : number | bigint;

/** The JavaScript function {@link Mmap.asFunction} returns for a signature. */
export type GeneratedFunction<S extends FunctionSignature> = (...args: JsArguments<S['args']>) => JsValue<S['returns'], S['numbers']>;
type JsArguments<A extends readonly NativeType[]> = { -readonly [K in keyof A]: JsArgument<A[K]> };

// The order is the type codes of native/call.cc.
const TYPE_CODES = ['i32', 'i64', 'u64', 'ptr', 'f64', 'void'] as const;
const MAX_ARGUMENTS = 6;

function typeCode(value: unknown, what: string, allowVoid: boolean): number {
  const code = TYPE_CODES.indexOf(value as (typeof TYPE_CODES)[number]);
  if (code < 0 || (!allowVoid && value === 'void')) {
    const expected = TYPE_CODES.filter((name) => allowVoid || name !== 'void').join(', ');
    fail('ERR_INVALID_ARG_VALUE', `${what} must be one of ${expected}, got ${describe(value)}`);
  }
  return code;
}

const SIGNATURE = 'an object { args: NativeType[], returns: NativeType | "void", numbers?: boolean }';

/**
 * The signature's fields, each read once: a getter or Proxy could answer
 * differently on a second read, or throw on any read.
 */
function readSignature(signature: unknown): { args: unknown[]; returns: unknown; numbers: unknown } {
  if (typeof signature !== 'object' || signature === null) {
    fail('ERR_INVALID_ARG_TYPE', `signature must be ${SIGNATURE}, got ${describe(signature)}`);
  }
  let args: unknown;
  let returns: unknown;
  let numbers: unknown;
  let isArray = false;
  let count: unknown;
  try {
    ({ args, returns, numbers } = signature as { args: unknown; returns: unknown; numbers: unknown });
    isArray = Array.isArray(args); // throws for a revoked Proxy
    if (isArray) count = (args as unknown[]).length;
  } catch (error) {
    failUnreadable('signature', SIGNATURE, error);
  }
  if (!isArray) fail('ERR_INVALID_ARG_TYPE', `signature.args must be an array of NativeType, got ${describe(args)}`);
  if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0) {
    fail('ERR_INVALID_ARG_VALUE', `signature.args.length must be a count, got ${describe(count)}`);
  }
  if (count > MAX_ARGUMENTS) {
    fail('ERR_INVALID_ARG_VALUE', `at most ${MAX_ARGUMENTS} arguments are supported, got ${count}`);
  }
  const types: unknown[] = [];
  for (let index = 0; index < count; index++) {
    try {
      types.push((args as unknown[])[index]);
    } catch (error) {
      failUnreadable(`signature.args[${index}]`, 'a NativeType', error);
    }
  }
  return { args: types, returns, numbers };
}

/** @internal The signature as native/call.cc reads it. */
export function encodeSignature(signature: FunctionSignature): { args: number[]; returns: number; numbers: boolean } {
  const { args, returns, numbers } = readSignature(signature);
  if (numbers !== undefined && typeof numbers !== 'boolean') {
    fail('ERR_INVALID_ARG_TYPE', `signature.numbers must be a boolean, got ${describe(numbers)}`);
  }
  return {
    args: args.map((type, index) => typeCode(type, `args[${index}]`, false)),
    returns: typeCode(returns, 'returns', true),
    numbers: numbers === true,
  };
}
