// Machine code generated at run time and called from JavaScript: a function
// that adds two 64-bit integers, written into a writable page, which is then
// made executable (never both at once) and called.
//
//   node examples/jit.js
'use strict';

const { MmapOptions } = require('..');

const CODE = {
  x64:
    process.platform === 'win32'
      ? [0x48, 0x89, 0xc8, 0x48, 0x01, 0xd0, 0xc3] // mov rax, rcx; add rax, rdx; ret (Windows x64)
      : [0x48, 0x89, 0xf8, 0x48, 0x01, 0xf0, 0xc3], // mov rax, rdi; add rax, rsi; ret (System V)
  arm64: [0x00, 0x00, 0x01, 0x8b, 0xc0, 0x03, 0x5f, 0xd6], // add x0, x0, x1; ret
};

const code = CODE[process.arch];
if (code === undefined) {
  console.log(`jit: skipped, no machine code for ${process.arch} in this example`);
  process.exit(0);
}

const page = new MmapOptions(MmapOptions.pageSize()).mapMut();
page.bytes.set(code);
// makeExec() turns the pages read+execute (and flushes the instruction cache):
// the writable handle is consumed, so nothing can write the code any more.
const executable = page.makeExec();
const add = executable.asFunction(0, { args: ['i64', 'i64'], returns: 'i64' });

console.log(`jit: add(40, 2) = ${add(40n, 2n)}`);
executable.unmap(); // from here on add() throws ERR_MMAP_CLOSED instead of running freed code
