// Compiled by `npm test` (tsc -p test/tsconfig.json), never run: each line
// marked with an expect-error directive must fail to compile, or tsc says so.
import { type FunctionSignature, MmapOptions, UnsafeMmapFlags } from '../src';

const readOnly = new MmapOptions(4096).map();
const first: number = readOnly.bytes[0];
// @ts-expect-error Mmap#bytes is read-only
readOnly.bytes[0] = 1;
// @ts-expect-error no fill() on read-only bytes
readOnly.bytes.fill(0);
// @ts-expect-error no set() on read-only bytes
readOnly.view(0, 16).set([1]);
// @ts-expect-error subarray() stays read-only
readOnly.bytes.subarray(0, 4)[0] = 1;

const writable = new MmapOptions(4096).mapMut();
writable.bytes[0] = first;

// @ts-expect-error a reservation has no bytes
void new MmapOptions(4096).reserveMut().bytes;
// @ts-expect-error an inaccessible mapping has no bytes
void new MmapOptions(4096).mapNone().bytes;

const code = new MmapOptions(4096).withUnsafeFlags(UnsafeMmapFlags.JIT).mapExecMut();
const add = code.asFunction(0, { args: ['i64', 'f64'], returns: 'i64' });
const sum: bigint = add(1n, 2.5);
// @ts-expect-error f64 arguments are numbers
add(1n, 2n);
// @ts-expect-error i64 results are bigints
const wrong: number = add(1, 2);
void sum;
void wrong;
const addNumbers = code.asFunction(0, { args: ['i64', 'i64'], returns: 'i64', numbers: true });
const small: number = addNumbers(1, 2);
// @ts-expect-error with numbers: true, i64 results are numbers
const notBig: bigint = addNumbers(1, 2);
void small;
void notBig;
const pointer: bigint = code.asFunction(0, { args: [], returns: 'ptr', numbers: false })();
void pointer;
declare const numbersAtRunTime: boolean;
const addEither = code.asFunction(0, { args: ['i64'], returns: 'i64', numbers: numbersAtRunTime });
const either: number | bigint = addEither(1);
// @ts-expect-error with numbers only a boolean, an i64 result may be a bigint
const notSurelyNumber: number = addEither(1);
// @ts-expect-error with numbers only a boolean, an i64 result may be a number
const notSurelyBig: bigint = addEither(1);
const loose: FunctionSignature & { returns: 'u64' } = { args: [], returns: 'u64', numbers: true };
// @ts-expect-error with numbers typed boolean | undefined, a u64 result may be a number
const looseNotBig: bigint = code.asFunction(0, loose)();
void either;
void notSurelyNumber;
void notSurelyBig;
void looseNotBig;
