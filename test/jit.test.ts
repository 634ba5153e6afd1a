// Issue 4: executable memory, W^X by default, and calling generated code.
import { describe, expect, it } from 'vitest';
import { MmapOptions, UnsafeMmapFlags } from '../src';
import { is32Bit, permissionsAt } from './helpers';

const P = MmapOptions.pageSize();

const u32le = (...words: number[]) => words.flatMap((w) => [w & 0xff, (w >>> 8) & 0xff, (w >>> 16) & 0xff, w >>> 24]);

// The same four functions for each calling convention:
//   add(a: i64, b: i64) -> i64, sub(a, b) -> i64 (same length as add, to patch in place),
//   addf(a: f64, b: f64) -> f64, mixed(a: i64, b: f64) -> f64 = a + b;
// and, where an i32 argument does not take the register an i64 would (32-bit
// conventions), add32(a: i32, b: i32) -> i32; elsewhere add serves.
const CODE: Record<string, { add: number[]; sub: number[]; addf: number[]; mixed: number[]; add32?: number[] } | undefined> = {
  'sysv-x64': {
    add: [0x48, 0x89, 0xf8, 0x48, 0x01, 0xf0, 0xc3], // mov rax, rdi; add rax, rsi; ret
    sub: [0x48, 0x89, 0xf8, 0x48, 0x29, 0xf0, 0xc3], // mov rax, rdi; sub rax, rsi; ret
    addf: [0xf2, 0x0f, 0x58, 0xc1, 0xc3], // addsd xmm0, xmm1; ret
    mixed: [0xf2, 0x48, 0x0f, 0x2a, 0xcf, 0xf2, 0x0f, 0x58, 0xc1, 0xc3], // cvtsi2sd xmm1, rdi; addsd xmm0, xmm1; ret
  },
  'win-x64': {
    add: [0x48, 0x89, 0xc8, 0x48, 0x01, 0xd0, 0xc3], // mov rax, rcx; add rax, rdx; ret
    sub: [0x48, 0x89, 0xc8, 0x48, 0x29, 0xd0, 0xc3], // mov rax, rcx; sub rax, rdx; ret
    addf: [0xf2, 0x0f, 0x58, 0xc1, 0xc3], // addsd xmm0, xmm1; ret
    mixed: [0xf2, 0x48, 0x0f, 0x2a, 0xc1, 0xf2, 0x0f, 0x58, 0xc1, 0xc3], // cvtsi2sd xmm0, rcx; addsd xmm0, xmm1; ret
  },
  aarch64: {
    add: u32le(0x8b010000, 0xd65f03c0), // add x0, x0, x1; ret
    sub: u32le(0xcb010000, 0xd65f03c0), // sub x0, x0, x1; ret
    addf: u32le(0x1e612800, 0xd65f03c0), // fadd d0, d0, d1; ret
    mixed: u32le(0x9e620001, 0x1e612800, 0xd65f03c0), // scvtf d1, x0; fadd d0, d0, d1; ret
  },
  // AAPCS with VFP arguments, ARM state: an i64 in a register pair (r0:r1, r2:r3), doubles in d0-d7.
  armhf: {
    add: u32le(0xe0900002, 0xe0a11003, 0xe12fff1e), // adds r0, r0, r2; adc r1, r1, r3; bx lr
    sub: u32le(0xe0500002, 0xe0c11003, 0xe12fff1e), // subs r0, r0, r2; sbc r1, r1, r3; bx lr
    addf: u32le(0xee300b01, 0xe12fff1e), // vadd.f64 d0, d0, d1; bx lr
    // VFP converts 32-bit integers only: a's low word (r0), which holds the test's value.
    mixed: u32le(0xee010a10, 0xeeb81bc1, 0xee300b01, 0xe12fff1e), // vmov s2, r0; vcvt.f64.s32 d1, s2; vadd.f64 d0, d0, d1; bx lr
    add32: u32le(0xe0800001, 0xe12fff1e), // add r0, r0, r1; bx lr
  },
  // cdecl: every argument on the stack from [esp+4]; i64 results in edx:eax, doubles in st(0).
  'cdecl-x86': {
    add: [0x8b, 0x44, 0x24, 0x04, 0x8b, 0x54, 0x24, 0x08, 0x03, 0x44, 0x24, 0x0c, 0x13, 0x54, 0x24, 0x10, 0xc3], // mov eax, [esp+4]; mov edx, [esp+8]; add eax, [esp+12]; adc edx, [esp+16]; ret
    sub: [0x8b, 0x44, 0x24, 0x04, 0x8b, 0x54, 0x24, 0x08, 0x2b, 0x44, 0x24, 0x0c, 0x1b, 0x54, 0x24, 0x10, 0xc3], // ... sub eax, [esp+12]; sbb edx, [esp+16]; ret
    addf: [0xdd, 0x44, 0x24, 0x04, 0xdc, 0x44, 0x24, 0x0c, 0xc3], // fld qword [esp+4]; fadd qword [esp+12]; ret
    mixed: [0xdf, 0x6c, 0x24, 0x04, 0xdc, 0x44, 0x24, 0x0c, 0xc3], // fild qword [esp+4]; fadd qword [esp+12]; ret
    add32: [0x8b, 0x44, 0x24, 0x04, 0x03, 0x44, 0x24, 0x08, 0xc3], // mov eax, [esp+4]; add eax, [esp+8]; ret
  },
};
const abi =
  process.arch === 'arm64'
    ? 'aarch64'
    : process.arch === 'x64'
      ? process.platform === 'win32'
        ? 'win-x64'
        : 'sysv-x64'
      : process.arch === 'arm'
        ? 'armhf'
        : process.arch === 'ia32'
          ? 'cdecl-x86'
          : 'none';
const code = CODE[abi];
const noCode = `no machine code in this test for ${process.platform}-${process.arch}`;

const I64_ADD = { args: ['i64', 'i64'], returns: 'i64' } as const;

/** Copies `bytes` into a fresh page and makes it executable. */
function compile(bytes: number[]) {
  const page = new MmapOptions(P).mapMut();
  page.bytes.set(bytes);
  return page.makeExec();
}

describe.skipIf(!code)(`generated code (${abi}${code ? '' : `: ${noCode}`})`, () => {
  it('add(2, 40) through makeExec() returns 42n', () => {
    const exec = compile(code!.add);
    if (permissionsAt(exec.start) !== undefined) expect(permissionsAt(exec.start)).toBe('r-xp');
    const add = exec.asFunction(0, I64_ADD);
    expect(add(2, 40)).toBe(42n);
    expect(add(2n ** 62n, 2n ** 62n - 1n)).toBe(2n ** 63n - 1n);
    expect(add(-5, 3)).toBe(-2n);
    exec.unmap();
  });

  it('code patched through a JIT (RWX) mapping runs after a flush', () => {
    const jit = new MmapOptions(P).withUnsafeFlags(UnsafeMmapFlags.JIT).mapExecMut();
    if (permissionsAt(jit.start) !== undefined) expect(permissionsAt(jit.start)).toBe('rwxp');
    jit.bytes.set(code!.add);
    jit.flushIcache();
    const run = jit.asFunction(0, I64_ADD);
    expect(run(2, 40)).toBe(42n);
    jit.bytes.set(code!.sub);
    jit.flushIcache();
    expect(run(2, 40)).toBe(-38n);
    jit.unmap();
  });

  it('double results and mixed integer/double arguments', () => {
    const addf = compile(code!.addf).asFunction(0, { args: ['f64', 'f64'], returns: 'f64' });
    expect(addf(1.5, 2.25)).toBe(3.75);
    const mixed = compile(code!.mixed).asFunction(0, { args: ['i64', 'f64'], returns: 'f64' });
    expect(mixed(40, 2.5)).toBe(42.5);
  });

  it('i32 results are numbers, sign-extended from 32 bits', () => {
    const add = compile(code!.add32 ?? code!.add).asFunction(0, { args: ['i32', 'i32'], returns: 'i32' });
    expect(add(2, 40)).toBe(42);
    expect(add(0x7fffffff, 1)).toBe(-0x80000000);
  });

  it('ptr results are the pointer alone (a 32-bit convention leaves another register in the upper half of a 64-bit result)', () => {
    const add = compile(code!.add32 ?? code!.add).asFunction(0, { args: ['i32', 'i32'], returns: 'ptr' });
    expect(add(2, 40)).toBe(42n);
  });

  it('numbers: true gives 64-bit results as numbers while they are safe integers, and ERR_OUT_OF_RANGE beyond', () => {
    const exec = compile(code!.add);
    const add = exec.asFunction(0, { ...I64_ADD, numbers: true });
    expect(add(2, 40)).toBe(42);
    expect(add(-5, 3)).toBe(-2);
    const max = Number.MAX_SAFE_INTEGER;
    expect(add(max - 1, 1)).toBe(max);
    expect(add(-max + 1, -1)).toBe(-max);
    expect(() => add(max, 1)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE', message: expect.stringContaining('9007199254740992') }));
    expect(() => add(-max, -1)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE', message: expect.stringContaining('-9007199254740992') }));
    const unsigned = exec.asFunction(0, { args: ['u64', 'u64'], returns: 'u64', numbers: true });
    expect(unsigned(2n ** 52n, 2n ** 52n - 1n)).toBe(max);
    // -1 + 0 as u64 is 2^64 - 1: far beyond a number's exact range.
    expect(() => unsigned(2n ** 64n - 1n, 0)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    // Without numbers: true the same function gives bigints, and false is the default.
    expect(exec.asFunction(0, { ...I64_ADD, numbers: false })(max, 1)).toBe(2n ** 53n);
    // Pointer-sized arguments: the 32-bit add where pointers have 32 bits.
    const pointers = compile(code!.add32 ?? code!.add);
    expect(pointers.asFunction(0, { args: ['ptr', 'ptr'], returns: 'ptr', numbers: true })(40, 2)).toBe(42);
    pointers.unmap();
    expect(() => exec.asFunction(0, { ...I64_ADD, numbers: 'yes' as unknown as boolean })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE', message: expect.stringContaining('signature.numbers') }),
    );
    exec.unmap();
  });

  it('once the handle is unmapped or consumed, the function throws instead of running', () => {
    const exec = compile(code!.add);
    const add = exec.asFunction(0, I64_ADD);
    const writable = exec.makeMut();
    expect(() => add(1, 2)).toThrow(expect.objectContaining({ code: 'ERR_MMAP_CLOSED' }));
    const again = writable.makeExec();
    const add2 = again.asFunction(0, I64_ADD);
    expect(add2(1, 2)).toBe(3n);
    again.unmap();
    expect(() => add2(1, 2)).toThrow(expect.objectContaining({ code: 'ERR_MMAP_CLOSED' }));
  });

  it('argument count and types are checked', () => {
    const exec = compile(code!.add);
    const add = exec.asFunction(0, I64_ADD) as unknown as (...args: unknown[]) => unknown;
    expect(() => add(1)).toThrow(expect.objectContaining({ code: 'ERR_MMAP_ARGUMENT_COUNT' }));
    expect(() => add(1, 2, 3)).toThrow(expect.objectContaining({ code: 'ERR_MMAP_ARGUMENT_COUNT' }));
    expect(() => add(1, 'x')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => add(1.5, 2)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => add(2n ** 64n, 2)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    const i32 = exec.asFunction(0, { args: ['i32', 'i32'], returns: 'i32' }) as unknown as (...args: unknown[]) => unknown;
    expect(() => i32(2 ** 33, 1)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    if (is32Bit) {
      // Not cut to its low 32 bits: that would point somewhere else entirely.
      const ptr = exec.asFunction(0, { args: ['ptr', 'ptr'], returns: 'ptr' }) as unknown as (...args: unknown[]) => unknown;
      expect(() => ptr(2n ** 32n, 1n)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
      expect(() => ptr(2 ** 32, 1)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    }
    exec.unmap();
  });
});

describe('W^X and signatures', () => {
  it('RWX needs UnsafeMmapFlags.JIT on every path', () => {
    const needed = expect.objectContaining({ code: 'ERR_MMAP_UNSAFE_FLAG_NEEDED' });
    expect(() => new MmapOptions(P).mapExecMut()).toThrow(needed);
    expect(() => new MmapOptions(P).reserveExecMut()).toThrow(needed);
    const mapping = new MmapOptions(P).mapMut();
    expect(() => mapping.makeExecMut()).toThrow(needed);
    const reserved = new MmapOptions(P).reserveMut();
    expect(() => reserved.makeExecMut()).toThrow(needed);
    mapping.unmap();
    reserved.unmap();
    new MmapOptions(P).withUnsafeFlags(UnsafeMmapFlags.JIT).reserveExecMut().commit().unmap();
  });

  it('a function over a data mapping is ERR_MMAP_NOT_EXECUTABLE', () => {
    const data = new MmapOptions(P).map();
    expect(() => data.asFunction(0, I64_ADD)).toThrow(expect.objectContaining({ code: 'ERR_MMAP_NOT_EXECUTABLE' }));
    const mut = new MmapOptions(P).mapMut();
    expect(() => mut.asFunction(0, I64_ADD)).toThrow(expect.objectContaining({ code: 'ERR_MMAP_NOT_EXECUTABLE' }));
    data.unmap();
    mut.unmap();
  });

  it('signatures are checked', () => {
    const exec = new MmapOptions(P).mapExec();
    const bad = (signature: unknown) => () => exec.asFunction(0, signature as never);
    expect(bad({ args: ['i8'], returns: 'i32' })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    expect(bad({ args: ['void'], returns: 'i32' })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    expect(bad({ args: Array(7).fill('i32'), returns: 'void' })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    expect(bad(null)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => exec.asFunction(P, I64_ADD)).toThrow(expect.objectContaining({ code: 'ERR_MMAP_OUT_OF_BOUNDS' }));
    exec.unmap();
  });
});
