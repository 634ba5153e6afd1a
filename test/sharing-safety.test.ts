// Attacks on memory shared across threads and processes: forged and
// replayed tokens, races between share()/fromShared() and makeX() across
// workers, waits whose word goes away, waits piling up on the libuv pool,
// hostile arguments, weird descriptors and names, truncated objects.
// Whatever could kill the process runs in a child process.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Mmap, MmapError, MmapFlags, MmapMut, MmapOptions, SharedMappingToken, SharedMemory } from '../src';
import { areaAt, codeOf, collectUntil, emulator, fdCount, isLinux, isWindows, mapCount, nextMessage, notUnderQemu32Sigbus, startChild, startWorker, underQemu32 } from './helpers';

const P = MmapOptions.pageSize();
const root = path.join(__dirname, '..');
const posixOnly = 'descriptors, FIFOs, directories and /dev/shm are POSIX';
const linuxOnly = 'needs /proc/self/fd, /dev/shm and mkfifo (Linux)';
/** A child here that has not ended by then hangs: its timeout kills it (SIGTERM), which fails its test. */
const childTimeout = 10_000;
/** Every name this file makes starts so; none may be left in /dev/shm. */
const PREFIX = `memmap-ss${process.pid}-`;

const sharedAnon = (size = P) => new MmapOptions(size).withFlags(MmapFlags.SHARED).mapMut();

/** Keeps the 4 libuv pool threads busy for about `ms`: the next pool work starts after. */
const occupyPool = `
  const busyPool = new memmap.MmapOptions(memmap.MmapOptions.pageSize()).withFlags(memmap.MmapFlags.SHARED).mapMut();
  const blockers = [0, 1, 2, 3].map((i) => busyPool.waitAsync(4 * i, 0, 200));
`;

afterAll(() => {
  if (isWindows) return;
  const left = fs.readdirSync('/dev/shm').filter((name) => name.startsWith(PREFIX));
  for (const name of left) fs.rmSync(path.join('/dev/shm', name), { recursive: true, force: true });
  expect(left).toEqual([]);
});

describe('tokens: forged, replayed, of another process', () => {
  it('a token replayed after the pages were taken back, or re-shared, names nothing; ids are never reused', () => {
    const mapping = new MmapOptions(P).mapMut();
    mapping.bytes[0] = 0x5a;
    const first = mapping.share();
    const readOnly = mapping.makeReadOnly(); // the only holder: takes the pages back
    expect(codeOf(() => MmapOptions.fromShared(first))).toBe('ERR_MMAP_CLOSED');
    const mut = readOnly.makeMut();
    const second = mut.share();
    expect(second.id).toBeGreaterThan(first.id);
    expect(codeOf(() => MmapOptions.fromShared(first))).toBe('ERR_MMAP_CLOSED');
    const copy = MmapOptions.fromShared(second) as MmapMut;
    expect(copy.bytes[0]).toBe(0x5a);
    copy.unmap();
    mut.unmap();
    expect(codeOf(() => MmapOptions.fromShared(second))).toBe('ERR_MMAP_CLOSED');
    // A new mapping, maybe at the same address, gets a new id: the old token stays dead.
    const again = new MmapOptions(P).mapMut();
    const third = again.share();
    expect(third.id).toBeGreaterThan(second.id);
    expect(codeOf(() => MmapOptions.fromShared(second))).toBe('ERR_MMAP_CLOSED');
    again.unmap();
  });

  it('forged ids: non-integers, out of range, every id below the last one; all ERR_MMAP_CLOSED, nothing adopted', () => {
    const live = new MmapOptions(P).mapMut();
    const token = live.share();
    const forged = [0, -0, -1, 0.5, token.id + 0.5, NaN, Infinity, -Infinity, 2 ** 53, 2 ** 53 + 2, 2 ** 64, Number.MAX_VALUE, Number.MIN_VALUE];
    for (const id of forged) expect(codeOf(() => MmapOptions.fromShared({ ...token, id }))).toBe('ERR_MMAP_CLOSED');
    // The ids just before it, and the first ids a counter from 1 would give, name
    // pages that are gone (or never were), unless another test still holds them.
    let adopted = 0;
    const earlier = [...Array.from({ length: 1000 }, (_, i) => token.id - 1 - i), ...Array.from({ length: 1000 }, (_, i) => i + 1)];
    for (const id of earlier) {
      if (id < 1) continue;
      try {
        MmapOptions.fromShared({ ...token, id }).unmap();
        adopted++;
      } catch (error) {
        expect((error as MmapError).code).toBe('ERR_MMAP_CLOSED');
      }
    }
    expect(adopted).toBe(0);
    for (const id of ['1', 1n, { valueOf: () => token.id }, null]) {
      expect(codeOf(() => MmapOptions.fromShared({ ...token, id } as never))).toBe('ERR_INVALID_ARG_TYPE');
    }
    // Handle 'type' and 'size' are not trusted: the native description decides.
    const viaLie = MmapOptions.fromShared({ ...token, type: 'Mmap', size: 1 });
    expect(viaLie.constructor.name).toBe('MmapMut');
    expect((viaLie as MmapMut).size).toBe(P);
    viaLie.unmap();
    live.unmap();
  });

  it('a Proxy token whose trap ends the last holder while its id is read: ERR_MMAP_CLOSED, unmapped once', () => {
    const mapping = new MmapOptions(P).mapMut();
    const start = mapping.start;
    const token = mapping.share();
    let traps = 0;
    const hostile = new Proxy(token, {
      get(target, key, receiver) {
        traps++;
        if (key === 'id') mapping.unmap();
        return Reflect.get(target, key, receiver);
      },
    });
    expect(codeOf(() => MmapOptions.fromShared(hostile))).toBe('ERR_MMAP_CLOSED');
    expect(traps).toBe(2);
    expect(mapping.closed).toBe(true);
    if (isLinux) expect(areaAt(start)).toBeNull();
    expect(() => mapping.unmap()).not.toThrow();
    // And the other way: the trap takes the pages while another holder keeps them.
    const kept = new MmapOptions(P).mapMut();
    kept.bytes[1] = 3;
    const keptToken = kept.share();
    const holder = MmapOptions.fromShared(keptToken) as MmapMut;
    const adopted = MmapOptions.fromShared(
      new Proxy(keptToken, {
        get(target, key, receiver) {
          if (key === 'id') kept.unmap();
          return Reflect.get(target, key, receiver);
        },
      }),
    ) as MmapMut;
    expect(adopted.bytes[1]).toBe(3);
    holder.unmap();
    adopted.unmap();
    expect(codeOf(() => MmapOptions.fromShared(keptToken))).toBe('ERR_MMAP_CLOSED');
  });

  it('a token from another process names nothing here (README: ERR_MMAP_CLOSED "for a token of another process")', async () => {
    // Each process counts its ids from a random start of its own, so another
    // process's token names none of this process's shared regions.
    const mine = new MmapOptions(P).mapMut();
    mine.bytes[0] = 0x11;
    const myToken = mine.share();
    const other = await startChild(
      `const m = new memmap.MmapOptions(memmap.MmapOptions.pageSize()).mapMut();
       m.bytes[0] = 0x22;
       process.stdout.write(JSON.stringify(m.share()));`,
      { timeout: childTimeout },
    ).output;
    expect(other.code).toBe(0);
    const theirs = JSON.parse(other.stdout);
    expect(theirs.id).not.toBe(myToken.id);
    let adopted: MmapMut | undefined;
    try {
      expect(codeOf(() => (adopted = MmapOptions.fromShared(theirs) as MmapMut))).toBe('ERR_MMAP_CLOSED');
      // Nor does the id this process will hand out next, in the other process's reach.
      expect(codeOf(() => MmapOptions.fromShared({ ...myToken, id: myToken.id + 1 }))).toBe('ERR_MMAP_CLOSED');
    } finally {
      adopted?.unmap();
      mine.unmap();
    }
  });

  it('thousands of share() tokens: increasing safe-integer ids, no mapping left behind, every old token dead', async () => {
    await collectUntil(() => false, 3);
    const before = mapCount();
    const tokens: SharedMappingToken[] = [];
    let last = 0;
    for (let i = 0; i < 3000; i++) {
      const mapping = new MmapOptions(P).mapMut();
      const token = mapping.share();
      expect(token.id > last && Number.isSafeInteger(token.id)).toBe(true);
      last = token.id;
      if (i % 2 === 0) MmapOptions.fromShared(token).unmap();
      mapping.unmap();
      tokens.push(token);
    }
    // Dropped without unmap(): collected, and the pages go with the last holder.
    (() => {
      for (let i = 0; i < 200; i++) {
        const token = new MmapOptions(P).mapMut().share();
        MmapOptions.fromShared(token);
        tokens.push(token);
      }
    })();
    const dead = (token: SharedMappingToken) => {
      try {
        MmapOptions.fromShared(token).unmap();
        return false;
      } catch (error) {
        expect((error as MmapError).code).toBe('ERR_MMAP_CLOSED');
        return true;
      }
    };
    expect(await collectUntil(() => tokens.slice(3000).every(dead))).toBe(true);
    const alive = tokens.filter((token) => !dead(token));
    await collectUntil(() => false, 3);
    // A gross check only: V8's own areas come and go, and adjacent leaked pages would merge.
    if (isLinux) expect(mapCount()).toBeLessThanOrEqual(before + 64);
    expect(alive.map((token) => tokens.indexOf(token))).toEqual([]);
  });
});

describe('share()/fromShared() racing makeX() across threads', () => {
  it('a worker adopting in a loop while the main thread reprotects and re-shares in a loop: only ERR_MMAP_CLOSED or ERR_MMAP_SHARED, never a crash', async () => {
    const control = new Int32Array(new SharedArrayBuffer(16)); // [unused, stop, adopted, closed]
    // Ids are safe integers above 2^32: a 64-bit slot of their own.
    const ids = new BigInt64Array(new SharedArrayBuffer(8));
    let handle: MmapMut | Mmap = new MmapOptions(4 * P).mapMut();
    (handle as MmapMut).bytes.fill(0xab);
    Atomics.store(ids, 0, BigInt(handle.share().id));
    const racer = startWorker(
      `const control = new Int32Array(workerData.control);
       const ids = new BigInt64Array(workerData.ids);
       const other = [];
       parentPort.postMessage('ready');
       while (Atomics.load(control, 1) === 0) {
         const id = Number(Atomics.load(ids, 0));
         try {
           const mine = MmapOptions.fromShared({ kind: 'memmap.shared-mapping', id, type: 'MmapMut', size: 0 });
           if (mine.getUint8(4 * 4096 - 1) !== 0xab) other.push('bad byte');
           if (mine.size !== 4 * 4096) other.push('bad size');
           Atomics.add(control, 2, 1);
           mine.unmap();
         } catch (error) {
           if (error.code === 'ERR_MMAP_CLOSED') Atomics.add(control, 3, 1);
           else other.push(String(error.code || error));
         }
       }
       parentPort.postMessage(other);`,
      { control: control.buffer, ids: ids.buffer },
    );
    await nextMessage(racer);
    const refused: Record<string, number> = {};
    const deadline = performance.now() + 800;
    while (performance.now() < deadline || Atomics.load(control, 2) < 5) {
      try {
        const readOnly: Mmap = handle instanceof MmapMut ? handle.makeReadOnly() : (handle as Mmap);
        handle = readOnly.makeMut();
        Atomics.store(ids, 0, BigInt(handle.share().id));
      } catch (error) {
        const code = (error as MmapError).code;
        refused[code] = (refused[code] ?? 0) + 1;
      }
      if (performance.now() > deadline + 10_000) break;
    }
    Atomics.store(control, 1, 1);
    const otherErrors = await nextMessage(racer);
    await racer.terminate();
    expect(otherErrors).toEqual([]);
    expect(Object.keys(refused).filter((code) => code !== 'ERR_MMAP_SHARED')).toEqual([]);
    expect(Atomics.load(control, 2)).toBeGreaterThan(0);
    // The worker is gone: the main thread holds the pages alone again.
    const mut = handle instanceof MmapMut ? handle : (handle as Mmap).makeMut();
    expect(mut.getUint8(0)).toBe(0xab);
    mut.makeReadOnly().unmap();
  });

  it('workers terminated in the middle of fromShared() loops (copying accessors only) never keep the pages', async () => {
    const mapping = new MmapOptions(P).mapMut();
    mapping.setUint32(0, 77);
    const token = mapping.share();
    for (let round = 0; round < 4; round++) {
      const w = startWorker(
        `const held = [];
         parentPort.postMessage('go');
         for (let i = 0; ; i++) {
           const h = MmapOptions.fromShared(workerData);
           if (h.getUint32(0) !== 77) throw new Error('bad');
           if (i % 3 === 0) held.push(h); else h.unmap();
           if (held.length > 50) held.shift().unmap();
         }`,
        token,
      );
      await nextMessage(w);
      await new Promise((resolve) => setTimeout(resolve, 5 + round * 7));
      await w.terminate();
    }
    // Every worker's hold went with its environment.
    let readOnly: Mmap | undefined;
    const taken = await collectUntil(() => {
      if (readOnly !== undefined) return true;
      try {
        readOnly = mapping.makeReadOnly();
        return true;
      } catch (error) {
        expect((error as MmapError).code).toBe('ERR_MMAP_SHARED');
        return false;
      }
    }, 20);
    expect(taken).toBe(true);
    expect(readOnly!.getUint32(0)).toBe(77);
    expect(codeOf(() => MmapOptions.fromShared(token))).toBe('ERR_MMAP_CLOSED');
    readOnly!.unmap();
  });

  it('the owning thread unmaps and exits: the views of the fromShared() handle here stay valid; the last handle unmaps once', async () => {
    const owner = startWorker(
      `const m = new MmapOptions(2 * 4096).mapMut();
       m.bytes.fill(9);
       parentPort.postMessage(m.share());
       parentPort.once('message', () => { m.unmap(); parentPort.postMessage('unmapped'); });`,
      null,
    );
    const token = (await nextMessage(owner)) as SharedMappingToken;
    const here = MmapOptions.fromShared(token) as MmapMut;
    const view = here.view(P, 16);
    owner.postMessage('unmap');
    expect(await nextMessage(owner)).toBe('unmapped');
    await owner.terminate();
    expect(Array.from(view.subarray(0, 4))).toEqual([9, 9, 9, 9]);
    view[0] = 1;
    expect(here.bytes[P]).toBe(1);
    // Now the last holder: it can split, and merge back, and give the pages up.
    const start = here.start;
    const high = here.splitOff(P);
    expect(view.length).toBe(0);
    here.merge(high);
    expect(here.bytes[P]).toBe(1);
    expect(codeOf(() => MmapOptions.fromShared(token))).toBe('ERR_MMAP_CLOSED');
    const raw = here.intoRaw();
    const back = new MmapOptions(raw.size).withAddress(raw.address).mapFromExisting();
    expect(back.bytes[P]).toBe(1);
    back.unmap();
    if (isLinux) expect(areaAt(start)).toBeNull();
  });
});

describe('wait() and notify() under attack', () => {
  it('hostile offset, expected, timeout and count (getters, valueOf, Proxies, BigInt) run no user code and get coded errors', async () => {
    const mapping = sharedAnon();
    let calls = 0;
    const trap = () => {
      calls++;
      mapping.unmap();
      return 0;
    };
    const hostile = [
      { valueOf: trap },
      { [Symbol.toPrimitive]: trap },
      new Proxy({}, { get: () => trap(), has: () => (trap(), true), getPrototypeOf: () => (trap(), null) }),
      Object.defineProperty({}, 'length', { get: trap }),
      0n,
      '0',
    ] as unknown as number[];
    for (const value of hostile) {
      expect(codeOf(() => mapping.wait(value, 0, 0))).toBe('ERR_MMAP_INVALID_OFFSET');
      expect(codeOf(() => mapping.wait(0, value, 0))).toBe('ERR_INVALID_ARG_VALUE');
      expect(codeOf(() => mapping.wait(0, 0, value))).toMatch(/^ERR_INVALID_ARG_(TYPE|VALUE)$/);
      expect(codeOf(() => mapping.notify(value))).toBe('ERR_MMAP_INVALID_OFFSET');
      expect(codeOf(() => mapping.notify(0, value))).toBe('ERR_INVALID_ARG_VALUE');
      await expect(mapping.waitAsync(value, 0, 0)).rejects.toMatchObject({ code: 'ERR_MMAP_INVALID_OFFSET' });
      await expect(mapping.waitAsync(0, value, 0)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
      await expect(mapping.waitAsync(0, 0, value)).rejects.toBeInstanceOf(MmapError);
    }
    expect(calls).toBe(0);
    expect(mapping.closed).toBe(false);
    // Odd but legal numbers: negative and huge timeouts, counts beyond 32 bits.
    for (const timeout of [-1, -0, -Infinity, Number.MIN_VALUE, 1e300]) expect(mapping.wait(0, 1, timeout)).toBe('not-equal');
    expect(mapping.wait(0, 0, -5)).toBe('timed-out');
    for (const count of [0, 2 ** 32 + 5, Infinity, Number.MAX_SAFE_INTEGER]) expect(mapping.notify(0, count)).toBe(0);
    expect(codeOf(() => mapping.wait(Number.MAX_SAFE_INTEGER - 3, 0, 0))).toBe('ERR_MMAP_OUT_OF_BOUNDS');
    mapping.unmap();
    await expect(mapping.waitAsync(0, 0, 0)).rejects.toMatchObject({ code: 'ERR_MMAP_CLOSED' });
    expect(codeOf(() => mapping.notify(0))).toBe('ERR_MMAP_CLOSED');
  });

  it('wait() and notify() on a read-only shared mapping work; inaccessible and reserved handles have neither', () => {
    using shm = SharedMemory.create(P);
    const writer = new MmapOptions(P).withSharedMemory(shm).mapMut();
    const readOnly = new MmapOptions(P).withSharedMemory(shm).map();
    writer.setUint32(0, 5, true);
    expect(readOnly.wait(0, 1, 0)).toBe('not-equal');
    expect(readOnly.wait(0, 5, 0)).toBe('timed-out');
    expect(readOnly.notify(0)).toBe(0);
    const none = readOnly.makeNone();
    expect('wait' in none || 'notify' in none || 'waitAsync' in none).toBe(false);
    none.unmap();
    writer.unmap();
    const reserved = new MmapOptions(P).withFlags(MmapFlags.SHARED).reserveMut();
    expect('wait' in reserved || 'notify' in reserved).toBe(false);
    reserved.unmap();
  });

  it('makeNone() while a waitAsync() is queued: the pool thread must not read the now inaccessible word (child process)', async () => {
    const result = await startChild(
      `${occupyPool}
       const m = new memmap.MmapOptions(memmap.MmapOptions.pageSize()).withFlags(memmap.MmapFlags.SHARED).mapMut();
       const pending = m.waitAsync(0, 0, 0); // runs once the pool is free, after this:
       let none;
       try { none = m.makeNone(); } catch (error) { console.log('refused', error.code); }
       pending.then((r) => console.log('resolved', r), (e) => console.log('rejected', e.code));
       Promise.all(blockers).then(() => setTimeout(() => { none?.unmap(); busyPool.unmap(); console.log('end'); }, 300));`,
      { timeout: childTimeout },
    ).output;
    expect(result.signal).toBeNull();
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/end/);
  });

  it('intoRaw() while a waitAsync() is queued, then the raw pages unmapped: no read of unmapped memory (child process)', async () => {
    const result = await startChild(
      `${occupyPool}
       const m = new memmap.MmapOptions(memmap.MmapOptions.pageSize()).withFlags(memmap.MmapFlags.SHARED).mapMut();
       const pending = m.waitAsync(0, 0, 0);
       pending.then((r) => console.log('resolved', r), (e) => console.log('rejected', e.code));
       try {
         const raw = m.intoRaw();
         new memmap.MmapOptions(raw.size).withAddress(raw.address).mapFromExisting().unmap();
       } catch (error) { console.log('refused', error.code); }
       Promise.all(blockers).then(() => setTimeout(() => { busyPool.unmap(); console.log('end'); }, 300));`,
      { timeout: childTimeout },
    ).output;
    expect(result.signal).toBeNull();
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/end/);
  });

  it('unmap() with many waitAsync() pending rejects them all with ERR_MMAP_CLOSED "within 250 ms" (README), not one pool turn each', async () => {
    const mapping = sharedAnon();
    const pending = Array.from({ length: 16 }, (_, i) => mapping.waitAsync(4 * i, 0).then(() => 'resolved', (error: MmapError) => error.code));
    await new Promise((resolve) => setTimeout(resolve, 30));
    const started = performance.now();
    mapping.unmap();
    const results = await Promise.all(pending);
    const took = performance.now() - started;
    expect(new Set(results)).toEqual(new Set(['ERR_MMAP_CLOSED']));
    expect(took).toBeLessThan(600);
  });

  it('pending waitAsync() calls do not starve the libuv pool: an fs call still answers promptly', async () => {
    const mapping = sharedAnon();
    const pending = Array.from({ length: 16 }, (_, i) => mapping.waitAsync(4 * i, 0).catch((error: MmapError) => error.code));
    await new Promise((resolve) => setTimeout(resolve, 30));
    let took: number;
    try {
      const started = performance.now();
      await fs.promises.stat(root);
      took = performance.now() - started;
    } finally {
      mapping.unmap();
      await Promise.all(pending);
    }
    expect(took).toBeLessThan(500);
  });

  it('terminate() of a worker with many waitAsync() pending is prompt, and drops its hold', async () => {
    const mapping = sharedAnon();
    const token = mapping.share();
    const w = startWorker(
      `const h = MmapOptions.fromShared(workerData);
       for (let i = 0; i < 24; i++) h.waitAsync(4 * i, 0);
       setTimeout(() => parentPort.postMessage('waiting'), 20);`,
      token,
    );
    await nextMessage(w);
    const started = performance.now();
    await w.terminate();
    const took = performance.now() - started;
    const readOnly = await (async () => {
      for (let i = 0; i < 50; i++) {
        try {
          return mapping.makeReadOnly();
        } catch (error) {
          expect((error as MmapError).code).toBe('ERR_MMAP_SHARED');
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      }
      return undefined;
    })();
    expect(readOnly).toBeDefined();
    readOnly?.unmap();
    expect(took).toBeLessThan(750);
  });

  it('process.exit() with many waitAsync() pending exits promptly and cleanly (child process)', async () => {
    const result = await startChild(
      `const m = new memmap.MmapOptions(memmap.MmapOptions.pageSize()).withFlags(memmap.MmapFlags.SHARED).mapMut();
       for (let i = 0; i < 24; i++) m.waitAsync(4 * i, 0);
       const started = Date.now();
       setTimeout(() => process.exit(0), 20);`,
      { timeout: childTimeout },
    ).output;
    expect(result.signal).toBeNull();
    expect(result.code).toBe(0);
    // The child's own start is in it too: under an emulator that alone takes a second.
    expect(result.ms).toBeLessThan(emulator ? 10_000 : 1000);
  });

  it('a pending waitAsync() keeps the process alive, as a pending read does (README); with a timeout the process ends when it does (child process)', async () => {
    // A wait for another process's notify is I/O: the process must not exit
    // under it. Without a timeout nothing ends it here: the child is killed.
    const forever = await startChild(
      `const m = new memmap.MmapOptions(memmap.MmapOptions.pageSize()).withFlags(memmap.MmapFlags.SHARED).mapMut();
       m.waitAsync(0, 0);`,
      { timeout: 1000 },
    ).output;
    expect(forever.signal).toBe('SIGTERM');
    const bounded = await startChild(
      `const m = new memmap.MmapOptions(memmap.MmapOptions.pageSize()).withFlags(memmap.MmapFlags.SHARED).mapMut();
       m.waitAsync(0, 0, 100).then((result) => process.stdout.write(result));`,
      { timeout: 5000 },
    ).output;
    expect(bounded.signal).toBeNull();
    expect(bounded.code).toBe(0);
    expect(bounded.stdout).toBe('timed-out');
  });
});

describe('SharedMemory under attack', () => {
  it.skipIf(!isLinux || underQemu32)(`a truncated (unsealed) object: copying accessors give ERR_MMAP_FAULT, futex calls a coded error (child process)${isLinux ? (underQemu32 ? ` (skipped: ${notUnderQemu32Sigbus})` : '') : ` (skipped: ${linuxOnly})`}`, async () => {
    const result = await startChild(
      `const fs = require('node:fs');
       const P = memmap.MmapOptions.pageSize();
       const shm = memmap.SharedMemory.create(2 * P);
       const m = new memmap.MmapOptions(2 * P).withSharedMemory(shm).mapMut();
       m.setUint32(0, 7);
       fs.ftruncateSync(shm.fd, 0);
       const codes = {};
       const code = (name, run) => { try { run(); codes[name] = 'none'; } catch (error) { codes[name] = error instanceof memmap.MmapError ? error.code : 'uncoded ' + error; } };
       code('read', () => m.read(0, 4));
       code('readInto', () => m.readInto(P, new Uint8Array(8)));
       code('getUint32', () => m.getUint32(P));
       code('getFloat64', () => m.getFloat64(8));
       code('setUint32', () => m.setUint32(P, 1));
       code('fill', () => m.fill(1));
       code('write', () => m.write(16, new Uint8Array(4)));
       code('copyWithin', () => m.copyWithin(0, P, P + 8));
       code('span', () => m.span(P, 16).getUint8(3));
       code('notify', () => m.notify(0));
       code('wait', () => m.wait(0, 0, 10));
       console.log(JSON.stringify(codes));
       m.unmap();
       shm.close();`,
      { timeout: childTimeout },
    ).output;
    expect(result.signal).toBeNull();
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const codes = JSON.parse(result.stdout);
    for (const name of ['read', 'readInto', 'getUint32', 'getFloat64', 'setUint32', 'fill', 'write', 'copyWithin', 'span']) {
      expect([name, codes[name]]).toEqual([name, 'ERR_MMAP_FAULT']);
    }
    for (const name of ['notify', 'wait']) expect([name, codes[name]]).toEqual([name, expect.stringMatching(/^(ERR_MMAP_FAULT|EFAULT)$/)]);
  });

  it.skipIf(!isLinux || underQemu32)(`a truncated object: wait() and waitAsync() with timeout 0 give a coded error, not SIGBUS (child process)${isLinux ? (underQemu32 ? ` (skipped: ${notUnderQemu32Sigbus})` : '') : ` (skipped: ${linuxOnly})`}`, async () => {
    for (const call of ['m.wait(0, 0, 0)', 'await m.waitAsync(0, 0, 0)']) {
      const result = await startChild(
        `const fs = require('node:fs');
         const P = memmap.MmapOptions.pageSize();
         const shm = memmap.SharedMemory.create(P);
         const m = new memmap.MmapOptions(P).withSharedMemory(shm).mapMut();
         fs.ftruncateSync(shm.fd, 0);
         (async () => {
           try { console.log('result', ${call}); } catch (error) { console.log('code', error.code); }
           m.unmap();
         })();`,
        { timeout: childTimeout },
      ).output;
      expect([call, result.signal]).toEqual([call, null]);
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/^code (ERR_MMAP_FAULT|EFAULT)$/m);
    }
  });

  it.skipIf(isWindows)(`weird descriptors: a directory, /dev/zero, a socket, a FIFO, stdin, a closed one: coded, nothing leaked${isWindows ? ` (skipped: ${posixOnly})` : ''}`, async () => {
    const before = fdCount();
    const dir = fs.openSync(root, 'r');
    const zero = fs.openSync('/dev/zero', 'r+');
    const fifoPath = path.join('/dev/shm', `${PREFIX}fifo-fd`);
    spawnSync('mkfifo', [fifoPath]);
    const fifo = fs.openSync(fifoPath, 'r+'); // Linux: O_RDWR on a FIFO never blocks
    const net = await import('node:net');
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const socket = (server as unknown as { _handle: { fd: number } })._handle.fd;
    try {
      for (const fd of [dir, zero, fifo, socket]) expect([fd, codeOf(() => SharedMemory.fromFd(fd))]).toEqual([fd, 'EINVAL']);
    } finally {
      server.close();
      for (const fd of [dir, zero, fifo]) fs.closeSync(fd);
      fs.rmSync(fifoPath, { force: true });
    }
    expect(codeOf(() => SharedMemory.fromFd(zero))).toBe('EBADF');
    expect(codeOf(() => SharedMemory.fromFd(0x7fffffff))).toBe('EBADF');
    for (const fd of [{ valueOf: () => 0 }, '0', 0n, 1.5, -0.5, 2 ** 31]) {
      expect(codeOf(() => SharedMemory.fromFd(fd as number))).toBe('ERR_INVALID_ARG_TYPE');
    }
    // A read-only file adopts, maps read-only, refuses read-write (EACCES); an empty one is BEYOND_EOF.
    const file = path.join(fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'memmap-')), 'f');
    fs.writeFileSync(file, Buffer.alloc(P, 3));
    fs.writeFileSync(`${file}0`, '');
    const readOnlyFd = fs.openSync(file, 'r');
    const emptyFd = fs.openSync(`${file}0`, 'r+');
    try {
      using readOnly = SharedMemory.fromFd(readOnlyFd);
      expect(codeOf(() => new MmapOptions(P).withSharedMemory(readOnly).mapMut())).toBe('EACCES');
      const mapped = new MmapOptions(P).withSharedMemory(readOnly).map();
      expect(mapped.bytes[5]).toBe(3);
      mapped.unmap();
      using empty = SharedMemory.fromFd(emptyFd);
      expect(empty.size).toBe(0);
      expect(codeOf(() => new MmapOptions(P).withSharedMemory(empty).map())).toBe('ERR_MMAP_BEYOND_EOF');
    } finally {
      fs.closeSync(readOnlyFd);
      fs.closeSync(emptyFd);
      fs.rmSync(path.dirname(file), { recursive: true, force: true });
    }
    // qemu-user for a 32-bit guest opened one of its own during this test (seen on armv7): the count is qemu's process's.
    if (!underQemu32) expect(fdCount()).toBe(before);
  });

  it.skipIf(!isLinux)(`a name taken by a symlink or a directory under /dev/shm: EEXIST on create, coded (not UNKNOWN) on open${isLinux ? '' : ` (skipped: ${linuxOnly})`}`, () => {
    const link = `${PREFIX}link`;
    const dir = `${PREFIX}dir`;
    fs.symlinkSync('/etc/hostname', path.join('/dev/shm', link));
    fs.mkdirSync(path.join('/dev/shm', dir));
    const before = fdCount();
    try {
      expect(codeOf(() => SharedMemory.create(P, { name: link }))).toBe('EEXIST');
      expect(codeOf(() => SharedMemory.create(P, { name: dir }))).toBe('EEXIST');
      // O_NOFOLLOW refuses the link: ELOOP, which must reach the user as such.
      expect(codeOf(() => SharedMemory.open(link))).toBe('ELOOP');
      expect(codeOf(() => SharedMemory.open(dir))).toBe('EISDIR');
      // A directory is not shared memory, read-only or not (fromFd() says EINVAL).
      expect(codeOf(() => SharedMemory.open(dir, { readOnly: true }).close())).toBe('EINVAL');
    } finally {
      fs.rmSync(path.join('/dev/shm', link), { force: true });
      fs.rmSync(path.join('/dev/shm', dir), { recursive: true, force: true });
    }
    expect(fdCount()).toBe(before);
  });

  it.skipIf(!isLinux)(`open() of a name another process made a FIFO does not hang the thread (child process)${isLinux ? '' : ` (skipped: ${linuxOnly})`}`, async () => {
    const name = `${PREFIX}fifo`;
    spawnSync('mkfifo', [path.join('/dev/shm', name)]);
    try {
      const result = await startChild(
        `for (const readOnly of [true, false]) {
           try { memmap.SharedMemory.open(${JSON.stringify(name)}, { readOnly }).close(); console.log('opened'); }
           catch (error) { console.log(error.code); }
         }`,
        // A child's start alone takes seconds under an emulator.
        { timeout: emulator ? 20_000 : 2000 },
      ).output;
      expect(result.signal).toBeNull(); // SIGTERM from its timeout: the open blocked
      expect(result.stdout.trim().split('\n')).toEqual(['EINVAL', 'EINVAL']);
    } finally {
      fs.rmSync(path.join('/dev/shm', name), { force: true });
    }
  });

  it('closed between withSharedMemory() and map(), or collected with live mappings: coded, the mappings live on, no descriptor left', async () => {
    const before = isLinux ? fdCount() : 0;
    const shm = SharedMemory.create(P);
    const options = new MmapOptions(P).withSharedMemory(shm);
    shm.close();
    expect(codeOf(() => options.mapMut())).toBe('ERR_MMAP_CLOSED');
    const target = SharedMemory.create(P);
    const proxy = new Proxy(target, {
      get() {
        throw new Error('trap ran');
      },
      has() {
        throw new Error('trap ran');
      },
    });
    expect(codeOf(() => new MmapOptions(P).withSharedMemory(proxy))).toBe('ERR_INVALID_ARG_TYPE');
    target.close();
    const mappings = (() => {
      const made = [];
      for (let i = 0; i < 10; i++) {
        const dropped = SharedMemory.create(P);
        const a = new MmapOptions(P).withSharedMemory(dropped).mapMut();
        const b = new MmapOptions(P).withSharedMemory(dropped).map();
        made.push([a, b] as const);
      }
      return made;
    })();
    if (isLinux) expect(await collectUntil(() => fdCount() === before)).toBe(true);
    for (const [a, b] of mappings) {
      a.setUint32(8, 0xdeadbeef);
      expect(b.getUint32(8)).toBe(0xdeadbeef);
      a.unmap();
      b.unmap();
    }
  });

  it('a named object and its name collide across processes; a failed create leaves no name and no descriptor', async () => {
    const name = `${PREFIX}collide`;
    const before = isLinux ? fdCount() : 0;
    const made = SharedMemory.create(P, { name });
    try {
      const result = await startChild(
        `const codes = [];
         for (let i = 0; i < 3; i++) { try { memmap.SharedMemory.create(4096, { name: ${JSON.stringify(name)} }); codes.push('made'); } catch (e) { codes.push(e.code); } }
         const opened = memmap.SharedMemory.open(${JSON.stringify(name)});
         const m = new memmap.MmapOptions(opened.size).withSharedMemory(opened).mapMut();
         m.setUint32(0, 0xfeed);
         console.log(JSON.stringify(codes));`,
        { timeout: childTimeout },
      ).output;
      expect(result.code).toBe(0);
      expect(JSON.parse(result.stdout)).toEqual(['EEXIST', 'EEXIST', 'EEXIST']);
      const mine = new MmapOptions(P).withSharedMemory(made).map();
      expect(mine.getUint32(0)).toBe(0xfeed);
      mine.unmap();
      if (!isWindows) {
        expect(codeOf(() => SharedMemory.create(P, { name: `${PREFIX}sealed`, seal: true }))).toBe('ERR_MMAP_UNSUPPORTED');
        expect(codeOf(() => SharedMemory.open(`${PREFIX}sealed`))).toBe('ENOENT');
      }
    } finally {
      made.close();
      SharedMemory.unlink(name);
    }
    if (!isWindows) expect(codeOf(() => SharedMemory.unlink(name))).toBe('ENOENT');
    if (isLinux) expect(fdCount()).toBe(before);
  });
});
