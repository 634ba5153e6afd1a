/**
 * Signatures for calling generated machine code ({@link Mmap.asFunction}).
 * @packageDocumentation
 */
import { fail } from './errors';

/**
 * A C argument or result type: 32-bit integer, 64-bit signed or unsigned
 * integer, pointer, or double. Integers accept a number or a bigint; `i64`,
 * `u64` and `ptr` results are bigints.
 */
export type NativeType = 'i32' | 'i64' | 'u64' | 'ptr' | 'f64';

/** The C signature of generated code: up to six arguments and a result. */
export interface FunctionSignature {
  readonly args: readonly NativeType[];
  readonly returns: NativeType | 'void';
}

type JsValue<T extends NativeType | 'void'> = T extends 'i32' | 'f64'
  ? number
  : T extends 'void'
    ? void
    : bigint;
type JsArgument<T extends NativeType> = T extends 'f64' ? number : T extends 'i32' ? number : number | bigint;

/** The JavaScript function {@link Mmap.asFunction} returns for a signature. */
export type GeneratedFunction<S extends FunctionSignature> = (...args: JsArguments<S['args']>) => JsValue<S['returns']>;
type JsArguments<A extends readonly NativeType[]> = { -readonly [K in keyof A]: JsArgument<A[K]> };

// The order is the type codes of native/call.cc.
const TYPE_CODES = ['i32', 'i64', 'u64', 'ptr', 'f64', 'void'] as const;
const MAX_ARGUMENTS = 6;

function typeCode(value: unknown, what: string, allowVoid: boolean): number {
  const code = TYPE_CODES.indexOf(value as (typeof TYPE_CODES)[number]);
  if (code < 0 || (!allowVoid && value === 'void')) {
    const expected = TYPE_CODES.filter((name) => allowVoid || name !== 'void').join(', ');
    fail('ERR_INVALID_ARG_VALUE', `${what} must be one of ${expected}, got ${JSON.stringify(value)}`);
  }
  return code;
}

/** @internal The signature as native/call.cc reads it. */
export function encodeSignature(signature: FunctionSignature): { args: number[]; returns: number } {
  if (typeof signature !== 'object' || signature === null || !Array.isArray(signature.args)) {
    fail('ERR_INVALID_ARG_TYPE', 'signature must be an object { args: NativeType[], returns: NativeType | "void" }');
  }
  if (signature.args.length > MAX_ARGUMENTS) {
    fail('ERR_INVALID_ARG_VALUE', `at most ${MAX_ARGUMENTS} arguments are supported, got ${signature.args.length}`);
  }
  return {
    args: signature.args.map((type, index) => typeCode(type, `args[${index}]`, false)),
    returns: typeCode(signature.returns, 'returns', true),
  };
}
