// Faults: inside a copying accessor they become ERR_MMAP_FAULT and the
// process lives on; anywhere else they reach the handler that was there
// before ours (Node's WebAssembly traps included), and a crash in a live
// handle's pages says which handle on stderr.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { emulator, notUnderAsanMemmove, notUnderQemu32Sigbus, qemuMisplacesSigbus, sanitizer, windowsFacts, windowsFactsFile } from './helpers';
import { Mmap, MmapFlags, MmapMut, MmapOptions } from '../src';

const P = MmapOptions.pageSize();
const root = path.join(__dirname, '..');
const isWindows = process.platform === 'win32';
const noTruncate = 'Windows refuses to truncate a mapped file (ERROR_USER_MAPPED_FILE)';
const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'memmap-faults-'));
afterAll(() => fs.rmSync(directory, { recursive: true, force: true }));

function fileOf(pages: number, name: string): string {
  const file = path.join(directory, name);
  fs.writeFileSync(file, Buffer.alloc(pages * P, 0x5a));
  return file;
}

function fileOptions(file: string, pages: number, mode: 'r' | 'r+', map: (options: MmapOptions) => void): void {
  const fd = fs.openSync(file, mode);
  try {
    map(new MmapOptions(pages * P).withFile(fd).withFlags(MmapFlags.SHARED));
  } finally {
    fs.closeSync(fd);
  }
}

// Another process shrinks the file under our mapping.
function truncateElsewhere(file: string, size: number): void {
  execFileSync(process.execPath, ['-e', `require('node:fs').truncateSync(${JSON.stringify(file)}, ${size})`]);
}

// The test tsconfig has no DOM library, where the WebAssembly types live.
const { WebAssembly } = globalThis as unknown as {
  WebAssembly: {
    Module: new (bytes: Uint8Array) => object;
    Instance: new (module: object) => { exports: Record<string, unknown> };
    RuntimeError: ErrorConstructor;
  };
};

// (func (result i32) (i32.load (i32.const 70000))) with one 64 KiB page of memory.
const outOfBoundsWasm = Uint8Array.of(
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7f, // type: () -> i32
  0x03, 0x02, 0x01, 0x00, // function 0 of type 0
  0x05, 0x03, 0x01, 0x00, 0x01, // memory: min 1 page
  0x07, 0x05, 0x01, 0x01, 0x66, 0x00, 0x00, // export "f"
  0x0a, 0x0b, 0x01, 0x09, 0x00, 0x41, 0xf0, 0xa2, 0x04, 0x28, 0x02, 0x00, 0x0b, // i32.load (i32.const 70000)
);

// A readable page then an inaccessible one, adopted as one handle that
// believes both are writable: the situation another actor re-protecting part
// of our pages would create (MAP_FIXED over them is refused).
function inaccessibleSecondPage(): MmapMut {
  const first = new MmapOptions(2 * P).mapMut();
  const second = first.splitOff(P).makeNone();
  const start = first.intoRaw().address;
  second.intoRaw();
  return new MmapOptions(2 * P).withAddress(start).mapFromExisting();
}

describe('faults inside the copying accessors', () => {
  it.skipIf(isWindows || sanitizer || qemuMisplacesSigbus)(`a file truncated by another process: ERR_MMAP_FAULT past the new end, the rest still usable (skipped on Windows: ${noTruncate}; and ${notUnderAsanMemmove}${qemuMisplacesSigbus ? `; skipped: ${notUnderQemu32Sigbus}` : ''})`, () => {
    const file = fileOf(4, 'truncated');
    let mapping!: MmapMut;
    fileOptions(file, 4, 'r+', (options) => (mapping = options.mapMut()));
    truncateElsewhere(file, P);

    const fault = (() => {
      try {
        mapping.read(2 * P + 16, 8);
      } catch (error) {
        return error as { code: string; offset: number; signal: string; message: string };
      }
      return null;
    })();
    expect(fault).toMatchObject({ code: 'ERR_MMAP_FAULT', offset: 2 * P + 16, signal: 'SIGBUS' });
    expect(fault?.message).toContain(`SIGBUS at offset ${2 * P + 16}`);
    // A read that starts below the end and runs past it faults at the first missing byte.
    expect(() => mapping.read(P - 4, 8)).toThrow(expect.objectContaining({ code: 'ERR_MMAP_FAULT', offset: P }));
    expect(() => mapping.getBigUint64(3 * P)).toThrow(expect.objectContaining({ code: 'ERR_MMAP_FAULT', offset: 3 * P }));
    expect(() => mapping.setUint32(2 * P, 1)).toThrow(expect.objectContaining({ code: 'ERR_MMAP_FAULT', offset: 2 * P }));
    expect(() => mapping.fill(1, P)).toThrow(expect.objectContaining({ code: 'ERR_MMAP_FAULT', offset: P }));

    // Alive, the signal mask restored (a second fault is caught too), and
    // the pages below the new end read and write as before.
    expect(mapping.read(0, 4)).toEqual(Uint8Array.of(0x5a, 0x5a, 0x5a, 0x5a));
    mapping.setUint16(P - 2, 0x0102);
    expect(mapping.getUint16(P - 2)).toBe(0x0102);
    mapping.flush(0, P);
    expect(fs.readFileSync(file).subarray(P - 2)).toEqual(Buffer.of(1, 2));
    mapping.unmap();
  });

  it.skipIf(sanitizer)(`a page made inaccessible under the handle: ERR_MMAP_FAULT with SIGSEGV (access violation on Windows; skipped ${notUnderAsanMemmove})`, () => {
    // A readable page then an inaccessible one, adopted as one handle that
    // believes both are writable: the situation another actor re-protecting
    // part of our pages would create (MAP_FIXED over them is refused).
    const first = new MmapOptions(2 * P).mapMut();
    const second = first.splitOff(P).makeNone();
    const start = first.intoRaw().address;
    second.intoRaw();
    const mapping = new MmapOptions(2 * P).withAddress(start).mapFromExisting();
    expect(() => mapping.getUint8(P + 3)).toThrow(
      expect.objectContaining({ code: 'ERR_MMAP_FAULT', offset: P + 3, signal: isWindows ? 'EXCEPTION_ACCESS_VIOLATION' : 'SIGSEGV' }),
    );
    expect(() => mapping.copyWithin(P, 0, 8)).toThrow(expect.objectContaining({ code: 'ERR_MMAP_FAULT', offset: P }));
    mapping.setUint8(P - 1, 7);
    expect(mapping.getUint8(P - 1)).toBe(7);
    mapping.unmap();
  });

  it.skipIf(qemuMisplacesSigbus)(`are claimed on the thread that faulted: a worker gets its own ERR_MMAP_FAULT (on Windows an access violation: ${noTruncate}${qemuMisplacesSigbus ? `; skipped: ${notUnderQemu32Sigbus}` : ''})`, async () => {
    const file = fileOf(2, 'worker');
    // Windows: the worker's second page is made inaccessible under a handle
    // that believes it readable, as in the test above.
    const script = `
      const { parentPort, workerData } = require('node:worker_threads');
      const fs = require('node:fs');
      const { MmapOptions } = require(workerData.root);
      let mapping;
      if (process.platform === 'win32') {
        const first = new MmapOptions(2 * workerData.page).mapMut();
        first.fill(90);
        const second = first.splitOff(workerData.page).makeNone();
        const start = first.intoRaw().address;
        second.intoRaw();
        mapping = new MmapOptions(2 * workerData.page).withAddress(start).mapFromExisting();
      } else {
        const fd = fs.openSync(workerData.file, 'r');
        mapping = new MmapOptions(2 * workerData.page).withFile(fd).map();
        fs.truncateSync(workerData.file, workerData.page);
      }
      try { mapping.read(workerData.page, 1); parentPort.postMessage('no fault'); }
      catch (error) { parentPort.postMessage(error.code + ' ' + error.offset + ' ' + mapping.getUint8(0)); }`;
    const worker = new Worker(script, { eval: true, workerData: { root, file, page: P } });
    const message = await new Promise((resolve, reject) => worker.once('message', resolve).once('error', reject));
    expect(message).toBe(`ERR_MMAP_FAULT ${P} 90`);
    await worker.terminate();
  });
});

// Whether this process catches SIGBUS (bit 7 of SigCgt): Node itself does not
// on Linux, so it says whether our handler is installed.
const catchesSigbus = (status: string) => (BigInt(`0x${/^SigCgt:\s*([0-9a-f]+)$/m.exec(status)?.[1]}`) & (1n << 6n)) !== 0n;
const onlyLinux = 'reads /proc/self/status (Linux only; Windows has no API that lists vectored exception handlers)';

describe('faults that are not ours', () => {
  it.skipIf(process.platform !== 'linux' || emulator === 'qemu-user')(`the handler is installed by the first mapping, not by loading the module (skipped elsewhere: ${onlyLinux}; under qemu-user the signal dispositions are qemu's own)`, () => {
    const script = `
      const status = () => require('node:fs').readFileSync('/proc/self/status', 'utf8');
      const { MmapOptions } = require('memmap');
      const loaded = status();
      new MmapOptions(${P}).mapMut();
      console.log(JSON.stringify([loaded, status()]));`;
    const [loaded, mapped] = JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: root, encoding: 'utf8' }));
    expect(catchesSigbus(loaded)).toBe(false);
    expect(catchesSigbus(mapped)).toBe(true);
  });

  it("still reach Node's WebAssembly trap handler after ours is installed", () => {
    const file = fileOf(2, 'wasm');
    let mapping!: Mmap;
    fileOptions(file, 2, 'r', (options) => (mapping = options.map()));
    mapping.getUint8(0); // installs the handler, if no earlier test did
    if (process.platform === 'linux') expect(catchesSigbus(fs.readFileSync('/proc/self/status', 'utf8'))).toBe(true);
    const instance = new WebAssembly.Instance(new WebAssembly.Module(outOfBoundsWasm));
    const call = instance.exports.f as () => number;
    expect(call).toThrow(WebAssembly.RuntimeError);
    expect(call).toThrow('memory access out of bounds');
    // Ours is still the one installed: an accessor fault is still claimed
    // (on Windows, where a mapped file cannot shrink, an access violation;
    // under qemu for a 32-bit guest a SIGSEGV: `notUnderQemu32Sigbus`).
    if (!isWindows && !qemuMisplacesSigbus) {
      truncateElsewhere(file, P);
      expect(() => mapping.read(P, 1)).toThrow(expect.objectContaining({ code: 'ERR_MMAP_FAULT' }));
    } else {
      const inaccessible = inaccessibleSecondPage();
      expect(() => inaccessible.read(P, 1)).toThrow(expect.objectContaining({ code: 'ERR_MMAP_FAULT', signal: isWindows ? 'EXCEPTION_ACCESS_VIOLATION' : 'SIGSEGV' }));
      inaccessible.unmap();
    }
    mapping.unmap();
  });
});

// A Windows process killed by an unhandled access violation exits with the
// exception code as its status.
const accessViolation = { name: 'EXCEPTION_ACCESS_VIOLATION', status: 0xc0000005 };

describe('crash diagnostics', () => {
  const crash = (script: string) =>
    spawnSync(process.execPath, ['-e', `const { MmapOptions } = require('memmap');\n${script}`], {
      cwd: root,
      encoding: 'utf8',
    });
  const line = (signal: string, offset: number) =>
    new RegExp(
      `^memmap: ${signal} at 0x[0-9a-f]+, offset ${offset} of a live memmap handle \\[0x([0-9a-f]+), 0x([0-9a-f]+)\\) with protection read-only$`,
      'm',
    );

  it(`a write through a zero-copy view of read-only pages: one line, then the same death (on Windows: the vectored handler's line, then death by ${accessViolation.name})`, () => {
    const child = crash(`
      const mapping = new MmapOptions(${2 * P}).map();
      console.log(mapping.start.toString(16));
      new Uint8Array(mapping.buffer)[${P + 5}] = 1;
      console.log('survived');`);
    if (isWindows) expect(child.status).toBe(accessViolation.status);
    else expect(child.signal).toBe('SIGSEGV');
    expect(child.stdout).not.toContain('survived');
    const match = line(isWindows ? accessViolation.name : 'SIGSEGV', P + 5).exec(child.stderr);
    expect(match).not.toBeNull();
    const start = BigInt(`0x${match?.[1]}`);
    expect(start.toString(16)).toBe(child.stdout.trim());
    expect(BigInt(`0x${match?.[2]}`) - start).toBe(BigInt(2 * P));
  });

  it.skipIf(isWindows || qemuMisplacesSigbus)(`a zero-copy read of a truncated file dies by SIGBUS, named (skipped on Windows: ${noTruncate}, and this suite has no other way to provoke an in-page error${qemuMisplacesSigbus ? `; skipped: ${notUnderQemu32Sigbus}` : ''})`, () => {
    const file = fileOf(2, 'diagnostics');
    const child = crash(`
      const fs = require('node:fs');
      const fd = fs.openSync(${JSON.stringify(file)}, 'r');
      const mapping = new MmapOptions(${2 * P}).withFile(fd).map();
      fs.truncateSync(${JSON.stringify(file)}, ${P});
      console.log(mapping.bytes[${P + 9}]);`);
    expect(child.signal).toBe('SIGBUS');
    expect(child.stderr).toMatch(line('SIGBUS', P + 9));
  });

  it(`a fault outside every handle prints nothing and still kills (on Windows: an access violation at address 16, from test/windows/memory-facts.c)`, () => {
    if (isWindows) windowsFacts(); // fails here, and clearly, if the module is not built
    const fault = isWindows
      ? `const facts = { exports: {} }; process.dlopen(facts, ${JSON.stringify(windowsFactsFile)}); facts.exports.accessViolation();`
      : `process.kill(process.pid, 'SIGSEGV');`;
    const child = crash(`
      const mapping = new MmapOptions(${P}).map();
      mapping.getUint8(0);
      ${fault}
      setTimeout(() => console.log('survived'), 1000);`);
    if (isWindows) expect(child.status).toBe(accessViolation.status);
    else expect(child.signal).toBe('SIGSEGV');
    expect(child.stderr).not.toContain('memmap:');
    expect(child.stdout).not.toContain('survived');
  });
});
