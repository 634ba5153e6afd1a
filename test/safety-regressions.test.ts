// Each hole a hostile but legal user found in memmap's promise (no
// JavaScript reaches freed or re-protected pages through our objects), kept
// closed. Sequences that could crash run in a child process, so that a crash
// fails the test instead of the run.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Mmap, MmapOptions, UnsafeMmapFlags } from '../src';
import { collectUntil, isLinux, onlyLinux, sanitizer } from './helpers';
import { notUnderQemu32MapLimit, notUnderQemu32Sigbus, qemuMisplacesSigbus, underQemu32 } from './helpers';

const P = MmapOptions.pageSize();
const G = MmapOptions.allocationGranularity();
const root = path.join(__dirname, '..');
const gc = () => (globalThis as { gc?: () => void }).gc!();
const code = (expected: string) => expect.objectContaining({ code: expected });

/** Runs `script` in a fresh node (memmap resolvable by name); its stdout parsed as JSON, or the way it died. */
function runChild(script: string, flags: string[] = []): { result?: unknown; status: number | null; signal: string | null; stderr: string } {
  const child = spawnSync(process.execPath, [...flags, '--expose-gc', '-e', script], { cwd: root, encoding: 'utf8' });
  const line = child.stdout.trim().split('\n').pop();
  return { result: child.status === 0 && line ? JSON.parse(line) : undefined, status: child.status, signal: child.signal, stderr: child.stderr };
}

// ArrayBuffer.prototype.transfer() is Node 22+, and behind a V8 flag on Node 20.
const transferFlags = typeof (ArrayBuffer.prototype as { transfer?: unknown }).transfer === 'function' ? [] : ['--harmony-rab-gsab-transfer'];

describe('the registry of live ranges', () => {
  it('an absorbed piece whose collected view awaits its finalizer never removes the entry of a later handle at its address', async () => {
    const whole = new MmapOptions(2 * G).mapMut();
    const second = whole.splitOff(G);
    const secondStart = second.start;
    let view: Uint8Array | undefined = second.view(0, 8);
    view[0] = 1;
    view = undefined;
    gc(); // the view is collected; its finalizer waits for a later turn
    whole.merge(second);
    const again = whole.splitOff(G); // starts where the absorbed piece did
    expect(again.start).toBe(secondStart);
    again.bytes[0] = 7;
    await collectUntil(() => false, 5); // the old finalizer runs now
    expect(() => new MmapOptions(G).withAddress(again.start).mapFromExisting()).toThrow(code('ERR_MMAP_INVALID_ADDRESS'));
    expect(() =>
      new MmapOptions(G).withAddress(again.start).withUnsafeFlags(UnsafeMmapFlags.MAP_FIXED).mapMut(),
    ).toThrow(code('ERR_MMAP_INVALID_ADDRESS'));
    expect(again.bytes[0]).toBe(7);
    again.unmap();
    whole.unmap();
  });

  it('a range given up with intoRaw() is adoptable at once, even while a collected view awaits its finalizer', () => {
    const handle = new MmapOptions(P).mapMut();
    let view: Uint8Array | undefined = handle.view(0, 8);
    view[0] = 9;
    view = undefined;
    gc();
    const raw = handle.intoRaw();
    const adopted = new MmapOptions(raw.size).withAddress(raw.address).mapFromExisting();
    expect(adopted.bytes[0]).toBe(9);
    adopted.unmap();
  });

  it('address 0 is refused before anything is mapped', () => {
    expect(() => new MmapOptions(P).withAddress(0n)).toThrow(code('ERR_MMAP_INVALID_ADDRESS'));
    expect(() => new MmapOptions(P).withAddress(0n).withUnsafeFlags(UnsafeMmapFlags.MAP_FIXED).mapMut()).toThrow(
      code('ERR_MMAP_INVALID_ADDRESS'),
    );
  });
});

describe('views moved out of our reach', () => {
  it("a view moved to the main thread keeps its pages mapped after its worker exits", () => {
    const script = `
      const { Worker } = require('node:worker_threads');
      const { MemoryAreas } = require('memmap');
      const worker = new Worker(\`
        const { parentPort } = require('node:worker_threads');
        const { MmapOptions } = require('memmap');
        const handle = new MmapOptions(MmapOptions.pageSize()).mapMut();
        handle.bytes[10] = 42;
        const moved = handle.buffer.transfer();
        parentPort.postMessage({ moved, start: handle.start }, [moved]);\`, { eval: true });
      worker.once('message', ({ moved, start }) => {
        worker.once('exit', async () => {
          for (let i = 0; i < 5; i++) { gc(); await new Promise((r) => setImmediate(r)); }
          console.log(JSON.stringify({ value: new Uint8Array(moved)[10], mapped: MemoryAreas.query(start) !== null }));
        });
      });`;
    const child = runChild(script, transferFlags);
    expect(child.stderr).toBe('');
    expect([child.signal, child.result]).toEqual([null, { value: 42, mapped: true }]);
  });

  it('intoRaw() refuses while a moved-out view may still reach the pages', () => {
    const script = `
      const { MmapOptions } = require('memmap');
      const handle = new MmapOptions(MmapOptions.pageSize()).mapMut();
      const moved = handle.buffer.transfer();
      let outcome;
      try { handle.intoRaw(); outcome = 'given up'; } catch (error) { outcome = error.code; }
      console.log(JSON.stringify({ outcome, closed: handle.closed }));`;
    expect(runChild(script, transferFlags).result).toEqual({ outcome: 'ERR_MMAP_VIEW_TRANSFERRED', closed: false });
  });
});

describe('user code that runs while an argument is read', () => {
  it('asFunction() reads its signature before checking the handle: a getter that reprotects it gets ERR_MMAP_CLOSED', () => {
    const handle = new MmapOptions(P).mapMut();
    let readOnly: Mmap | undefined;
    const exec = handle.makeExec();
    const signature = {
      get args() {
        readOnly ??= exec.makeReadOnly();
        return [];
      },
      returns: 'void' as const,
    };
    expect(() => exec.asFunction(0, signature)).toThrow(code('ERR_MMAP_CLOSED'));
    readOnly!.unmap();
  });

  it('a function made before its handle was consumed throws ERR_MMAP_CLOSED', () => {
    // x86-64 and AArch64 "return" instructions; on other machines the function is never called.
    const ret = process.arch === 'arm64' ? [0xc0, 0x03, 0x5f, 0xd6] : [0xc3];
    const writable = new MmapOptions(P).mapMut();
    writable.bytes.set(ret);
    const exec = writable.makeExec();
    const fn = exec.asFunction(0, { args: [], returns: 'void' });
    exec.makeReadOnly().unmap();
    expect(() => fn()).toThrow(code('ERR_MMAP_CLOSED'));
  });

  it('a value whose valueOf would consume the handle mid-call is refused before any code of it runs', () => {
    const handle = new MmapOptions(P).mapMut();
    let ran = false;
    const value = {
      valueOf() {
        ran = true;
        handle.makeReadOnly().makeMut();
        return 0xab;
      },
    };
    expect(() => handle.setUint8(0, value as unknown as number)).toThrow(code('ERR_INVALID_ARG_TYPE'));
    expect([ran, handle.closed, handle.bytes[0]]).toEqual([false, false, 0]);
    handle.unmap();
  });

  it('a span made before its handle was consumed reaches nothing, whatever handle now holds the pages', () => {
    const handle = new MmapOptions(P).mapMut();
    const span = handle.span(0, 16);
    const successor = handle.makeReadOnly().makeMut();
    expect(() => span.setUint8(0, 1)).toThrow(code('ERR_MMAP_CLOSED'));
    expect(successor.bytes[0]).toBe(0);
    successor.unmap();
  });

  it('a view whose own byteLength lies cannot widen a span', () => {
    const handle = new MmapOptions(P).mapMut();
    const span = handle.span(0, 16);
    const target = new Uint8Array(64);
    Object.defineProperty(target, 'byteLength', { value: 8 });
    expect(() => span.readInto(0, target)).toThrow(code('ERR_MMAP_OUT_OF_BOUNDS'));
    handle.unmap();
  });
});

describe('both sides of a copy are guarded', () => {
  it('readInto() a read-only memmap view: ERR_MMAP_FAULT, and the process lives on', () => {
    const script = `
      const { MmapOptions } = require('memmap');
      const P = MmapOptions.pageSize();
      const rw = new MmapOptions(P).mapMut();
      rw.bytes.fill(3);
      const ro = new MmapOptions(P).map();
      let outcome;
      try { rw.readInto(0, ro.bytes); outcome = 'copied'; } catch (error) {
        // memmove may store in any order: the fault is somewhere in the copy.
        outcome = { code: error.code, inside: error.offset >= 0 && error.offset < P, names: /in the target/.test(error.message) };
      }
      console.log(JSON.stringify({ outcome, first: ro.bytes[0] }));`;
    const child = runChild(script);
    expect(child.signal).toBeNull();
    expect(child.result).toEqual({ outcome: { code: 'ERR_MMAP_FAULT', inside: true, names: true }, first: 0 });
  });

  it.skipIf(process.platform === 'win32' || qemuMisplacesSigbus)(
    `write() from a view of a truncated file: ERR_MMAP_FAULT, and the process lives on (skipped on Windows: it refuses to truncate a mapped file${qemuMisplacesSigbus ? `; skipped: ${notUnderQemu32Sigbus}` : ''})`,
    () => {
      const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'memmap-truncated-'));
      const file = { path: path.join(directory, 'data') };
      const script = `
        const fs = require('node:fs');
        const { MmapOptions, MmapFlags } = require('memmap');
        const P = MmapOptions.pageSize();
        const fd = fs.openSync(${JSON.stringify(file.path)}, 'w+');
        fs.ftruncateSync(fd, 2 * P);
        const source = new MmapOptions(2 * P).withFile(fd).withFlags(MmapFlags.SHARED).map();
        const view = source.view(0, 2 * P);
        fs.ftruncateSync(fd, P);
        const destination = new MmapOptions(2 * P).mapMut();
        let outcome;
        try { destination.write(0, view); outcome = 'copied'; } catch (error) { outcome = { code: error.code, offset: error.offset, signal: error.signal }; }
        console.log(JSON.stringify(outcome));`;
      const child = runChild(script);
      fs.rmSync(directory, { recursive: true, force: true });
      expect(child.signal).toBeNull();
      expect(child.result).toEqual({ code: 'ERR_MMAP_FAULT', offset: P, signal: 'SIGBUS' });
    },
  );

  it('zero-length copies with empty and detached views touch nothing', () => {
    const handle = new MmapOptions(P).mapMut();
    const other = new MmapOptions(P).mapMut();
    const detached = other.bytes;
    other.unmap();
    for (const view of [new Uint8Array(0), detached, new DataView(new ArrayBuffer(0))]) {
      expect(handle.readInto(P, view)).toBe(view);
      handle.write(P, view);
    }
    handle.fill(1, P, 0);
    handle.copyWithin(P, P, P);
    expect(handle.read(P, 0).length).toBe(0);
    handle.unmap();
  });
});

describe('a release the kernel refuses', () => {
  // At the map-count limit, unmapping the middle of an area needs one more
  // area than the kernel allows: munmap fails with ENOMEM.
  const noMapCountLimit = process.platform === 'win32'
    ? 'skipped on Windows: it has no limit like vm.max_map_count, and memmap releases a middle piece by decommitting it, which needs no new area'
    : !isLinux ? onlyLinux : underQemu32 ? `Linux: vm.max_map_count; skipped: ${notUnderQemu32MapLimit}` : 'Linux: vm.max_map_count';
  it.skipIf(!isLinux || underQemu32 || sanitizer)(`unmap() and makeNone() throw ENOMEM and the handle stays usable (${noMapCountLimit}; not under the sanitizers, whose runtime must map memory itself at the limit)`, () => {
    // Every path the check takes runs once before the limit is reached, and
    // V8 optimizes nothing (its compiler threads would need memory at the
    // limit): it cannot map memory itself there.
    const script = `
      const { MmapOptions } = require('memmap');
      const P = MmapOptions.pageSize();
      const attempt = (run) => { try { run(); return 'done'; } catch (error) { return error.code; } };
      const warm = [new MmapOptions(3 * P).mapMut(), new MmapOptions(3 * P).mapMut()];
      attempt(() => new MmapOptions(2 ** 52).reserveNone());
      attempt(() => warm[0].splitOff(P).makeNone());
      attempt(() => warm[1].splitOff(P).unmap());
      globalThis.gc();
      const whole = new MmapOptions(3 * P).mapMut();
      const middle = whole.splitOff(P);
      const last = middle.splitOff(P);
      // Alternating protections keep neighbours from merging into one area.
      const fillers = [];
      const fill = () => fillers.push(fillers.length % 2 ? new MmapOptions(P).mapNone() : new MmapOptions(P).map());
      for (;;) if (attempt(fill) === 'ENOMEM') break;
      const unmapAtLimit = attempt(() => middle.unmap());
      const makeNoneAtLimit = attempt(() => middle.makeNone());
      const stillOpen = !middle.closed;
      for (const filler of fillers.splice(0, 16)) filler.unmap();
      middle.bytes[0] = 5;
      const unmapAfter = attempt(() => middle.unmap());
      console.log(JSON.stringify({ unmapAtLimit, makeNoneAtLimit, stillOpen, unmapAfter, closed: middle.closed }));`;
    // V8 may still need memory of its own at the limit and end the process:
    // "Zone Allocation failed"; or Node's out-of-memory handler, printing its
    // backtrace, itself throws std::bad_alloc before it can say so; or V8's
    // collector finds no memory for its marking worklist and faults (SIGSEGV;
    // each seen in core dumps, a few runs in a hundred); or, under qemu-user,
    // the emulator's own allocation fails and it aborts. Such a run says
    // nothing about memmap and is tried again; a fault of memmap's own would
    // end every run. Every run that gets as far as memmap is checked in full.
    const runtimeOutOfMemory = (run: ReturnType<typeof runChild>) =>
      /Zone Allocation failed|^terminate called after throwing an instance of 'std::bad_alloc'|^\*\*\*MEMORY-ERROR\*\*\*: qemu-/m.test(run.stderr)
      || run.signal === 'SIGSEGV';
    let child = runChild(script, ['--no-opt', '--no-maglev']);
    for (let attempt = 1; attempt < 8 && runtimeOutOfMemory(child); attempt++) {
      child = runChild(script, ['--no-opt', '--no-maglev']);
    }
    expect(child.stderr).toBe('');
    expect(child.result).toEqual({ unmapAtLimit: 'ENOMEM', makeNoneAtLimit: 'ENOMEM', stillOpen: true, unmapAfter: 'done', closed: true });
  });
});
