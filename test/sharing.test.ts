// Memory shared across threads and processes: SharedMemory objects, share()
// and fromShared() between workers, sharedBuffer(), and wait/notify.
import * as fs from 'node:fs';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { Mmap, MmapError, MmapFlags, MmapMut, MmapOptions, SharedMemory } from '../src';
import { codeOf, collectUntil, emulator, exitCodeOf, fdCount, isLinux, isWindows, nextMessage, startChild, startWorker, underQemu } from './helpers';

const P = MmapOptions.pageSize();
const G = MmapOptions.allocationGranularity();
const hasSharedBuffers = (() => {
  try {
    new MmapOptions(P).mapMut().sharedBuffer();
    return true;
  } catch (error) {
    return (error as MmapError).code !== 'ERR_MMAP_UNSUPPORTED';
  }
})();
const noSharedBuffers = `this runtime (Node.js ${process.versions.node}) lacks node_api_create_external_sharedarraybuffer (Node.js 24.16+, 26.1+)`;
const posixOnly = 'descriptors, /dev/shm and seals are POSIX (Windows sections are handles, fixed in size)';
const noDescriptorOnWindows = 'Windows has no C runtime descriptor over a section for a child\'s stdio: a named object is the way there';
const linuxSeals = 'seals are Linux memfd\'s (FreeBSD\'s too; macOS has none; a Windows section is fixed in size)';
const skipped = (skip: boolean, reason: string) => (skip ? ` (skipped: ${reason})` : '');
const slow = emulator !== undefined;

describe('SharedMemory objects', () => {
  it('an anonymous object: size, no name, a descriptor, mapped twice over the same pages', () => {
    const shm = SharedMemory.create(2 * G);
    expect(shm.size).toBe(2 * G);
    expect(shm.name).toBeNull();
    expect(shm.closed).toBe(false);
    expect(typeof shm.handle).toBe('bigint');
    const a = new MmapOptions(2 * G).withSharedMemory(shm).mapMut();
    const b = new MmapOptions(G).withSharedMemory(shm, G).map();
    a.bytes[G + 5] = 77;
    expect(b.bytes[5]).toBe(77);
    expect(a.bytes[0]).toBe(0);
    shm.close();
    expect(shm.closed).toBe(true);
    // The mappings outlive the object.
    a.bytes[G + 6] = 78;
    expect(b.bytes[6]).toBe(78);
    expect(codeOf(() => shm.fd)).toBe('ERR_MMAP_CLOSED');
    expect(codeOf(() => new MmapOptions(G).withSharedMemory(shm).mapMut())).toBe('ERR_MMAP_CLOSED');
    shm.close(); // idempotent
    a.unmap();
    b.unmap();
  });

  it('COPY_ON_WRITE maps a private copy; SHARED with it, or withFile() too, is refused', () => {
    using shm = SharedMemory.create(G);
    const shared = new MmapOptions(G).withSharedMemory(shm).mapMut();
    const own = new MmapOptions(G).withSharedMemory(shm).withFlags(MmapFlags.COPY_ON_WRITE).mapMut();
    shared.bytes[0] = 1;
    expect(own.bytes[0]).toBe(1); // not yet copied
    own.bytes[0] = 2;
    expect(shared.bytes[0]).toBe(1);
    expect(codeOf(() => own.wait(0, 2, 0))).toBe('ERR_MMAP_NOT_SHARED');
    expect(
      codeOf(() => new MmapOptions(G).withSharedMemory(shm).withFlags(MmapFlags.COPY_ON_WRITE, MmapFlags.SHARED).mapMut()),
    ).toBe('ERR_INVALID_ARG_VALUE');
    expect(codeOf(() => new MmapOptions(G).withSharedMemory(shm).withFile(0).mapMut())).toBe('ERR_INVALID_ARG_VALUE');
    shared.unmap();
    own.unmap();
  });

  it('bad input: names, sizes, offsets, ranges, options and non-objects get coded errors', () => {
    for (const name of ['', '.hidden', 'a/b', 'x'.repeat(31), 'naïve', 'back\\slash', 7, null]) {
      expect(codeOf(() => SharedMemory.create(G, { name: name as string }))).toBe('ERR_MMAP_INVALID_NAME');
      expect(codeOf(() => SharedMemory.open(name as string))).toBe('ERR_MMAP_INVALID_NAME');
      expect(codeOf(() => SharedMemory.unlink(name as string))).toBe('ERR_MMAP_INVALID_NAME');
    }
    for (const size of [0, -1, 1.5, NaN, '4096']) {
      expect(codeOf(() => SharedMemory.create(size as number))).toBe('ERR_MMAP_INVALID_SIZE');
    }
    expect(codeOf(() => SharedMemory.create(G, { seal: 'yes' as unknown as boolean }))).toBe('ERR_INVALID_ARG_TYPE');
    const hostile = {
      get name(): string {
        throw new Error('no');
      },
    };
    expect(codeOf(() => SharedMemory.create(G, hostile))).toBe('ERR_INVALID_ARG_VALUE');
    expect(codeOf(() => SharedMemory.fromFd(-1))).toBe('ERR_INVALID_ARG_TYPE');
    expect(codeOf(() => new MmapOptions(G).withSharedMemory({} as SharedMemory))).toBe('ERR_INVALID_ARG_TYPE');
    using shm = SharedMemory.create(G);
    expect(codeOf(() => new MmapOptions(G).withSharedMemory(shm, 1))).toBe('ERR_MMAP_INVALID_OFFSET');
    expect(codeOf(() => new MmapOptions(2 * G).withSharedMemory(shm).mapMut())).toBe('ERR_MMAP_BEYOND_EOF');
    expect(codeOf(() => new MmapOptions(G).withSharedMemory(shm, G).mapMut())).toBe('ERR_MMAP_BEYOND_EOF');
    expect(codeOf(() => SharedMemory.open('memmap-never-made-' + process.pid))).toBe(isWindows ? 'ENOENT' : 'ENOENT');
  });

  it('a named object opens by name, is exclusive, and unlinks', () => {
    const name = `memmap-t${process.pid}`;
    const made = SharedMemory.create(G, { name });
    expect(made.name).toBe(name);
    expect(codeOf(() => SharedMemory.create(G, { name }))).toBe('EEXIST');
    const opened = SharedMemory.open(name);
    expect(opened.size).toBe(G);
    const a = new MmapOptions(G).withSharedMemory(made).mapMut();
    const b = new MmapOptions(G).withSharedMemory(opened).mapMut();
    a.bytes[9] = 9;
    expect(b.bytes[9]).toBe(9);
    const readOnly = SharedMemory.open(name, { readOnly: true });
    expect(codeOf(() => new MmapOptions(G).withSharedMemory(readOnly).mapMut())).toMatch(/^E(ACCES|RROR_ACCESS_DENIED)|EACCES/);
    expect(new MmapOptions(G).withSharedMemory(readOnly).map().bytes[9]).toBe(9);
    SharedMemory.unlink(name);
    if (!isWindows) expect(codeOf(() => SharedMemory.open(name))).toBe('ENOENT');
    for (const shm of [made, opened, readOnly]) shm.close();
    a.unmap();
    b.unmap();
  });

  it.skipIf(!isLinux)(`seal: a sealed memfd cannot be resized; named objects cannot be sealed${skipped(!isLinux, linuxSeals)}`, () => {
    using shm = SharedMemory.create(G, { seal: true });
    expect(shm.sealed).toBe(true);
    expect(() => fs.ftruncateSync(shm.fd, 0)).toThrow(expect.objectContaining({ code: 'EPERM' }));
    expect(() => fs.ftruncateSync(shm.fd, 2 * G)).toThrow(expect.objectContaining({ code: 'EPERM' }));
    using unsealed = SharedMemory.create(G);
    expect(unsealed.sealed).toBe(false);
    expect(codeOf(() => SharedMemory.create(G, { seal: true, name: `memmap-s${process.pid}` }))).toBe('ERR_MMAP_UNSUPPORTED');
    expect(codeOf(() => SharedMemory.open(`memmap-s${process.pid}`))).toBe('ENOENT'); // nothing was left behind
  });

  it.skipIf(isWindows)(`descriptors are close-on-exec, fromFd() takes a copy, and nothing leaks${skipped(isWindows, posixOnly)}`, async () => {
    const before = fdCount();
    const shm = SharedMemory.create(G);
    expect(fdCount()).toBe(before + 1);
    const flags = fs.readFileSync(`/proc/self/fdinfo/${shm.fd}`, 'utf8').match(/flags:\s+(\d+)/)![1]!;
    expect(parseInt(flags, 8) & 0o2000000).not.toBe(0); // O_CLOEXEC
    const copy = SharedMemory.fromFd(shm.fd);
    expect(copy.fd).not.toBe(shm.fd);
    copy.close();
    expect(fs.fstatSync(shm.fd).size).toBe(G); // still open
    shm.close();
    expect(fdCount()).toBe(before);
    // A pipe is not shared memory; a closed descriptor is not open.
    const [pipeRead] = [fs.openSync('/dev/null', 'r')];
    expect(codeOf(() => SharedMemory.fromFd(pipeRead))).toBe('EINVAL');
    fs.closeSync(pipeRead);
    expect(codeOf(() => SharedMemory.fromFd(pipeRead))).toBe('EBADF');
    // Failures leave nothing open; a dropped object is closed by the collector.
    for (let i = 0; i < 20; i++) codeOf(() => SharedMemory.create(G, { seal: true, name: `memmap-f${process.pid}` }));
    (() => {
      for (let i = 0; i < 20; i++) SharedMemory.create(G);
    })();
    expect(await collectUntil(() => fdCount() === before)).toBe(true);
  });
});

describe.runIf(isWindows)('Windows sections', () => {
  it('hold their size by construction (seal is accepted), and have no descriptor to pass', () => {
    using shm = SharedMemory.create(G, { seal: true });
    expect(shm.sealed).toBe(true);
    expect(SharedMemory.create(G).sealed).toBe(true);
    expect(codeOf(() => shm.fd)).toBe('ERR_MMAP_UNSUPPORTED');
    expect(typeof shm.handle).toBe('bigint');
  });
});

describe('two processes', () => {
  it.skipIf(isWindows)(`share an anonymous object through an inherited descriptor${skipped(isWindows, noDescriptorOnWindows)}`, async () => {
    using shm = SharedMemory.create(G);
    const mine = new MmapOptions(G).withSharedMemory(shm).mapMut();
    mine.bytes.set([1, 2, 3], 100);
    const proc = startChild(
      `const shm = memmap.SharedMemory.fromFd(3);
       const m = new memmap.MmapOptions(shm.size).withSharedMemory(shm).mapMut();
       process.stdout.write(JSON.stringify(Array.from(m.bytes.subarray(100, 103))));
       m.bytes[200] = 42;`,
      { stdio: [shm.fd] },
    );
    const { code, stdout, stderr } = await proc.output;
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual([1, 2, 3]);
    expect(mine.bytes[200]).toBe(42);
    mine.unmap();
  });

  it('share a named object opened by name', async () => {
    const name = `memmap-n${process.pid}`;
    using shm = SharedMemory.create(G, { name });
    const mine = new MmapOptions(G).withSharedMemory(shm).mapMut();
    try {
      const proc = startChild(
        `const shm = memmap.SharedMemory.open(${JSON.stringify(name)});
         const m = new memmap.MmapOptions(shm.size).withSharedMemory(shm).mapMut();
         m.bytes[7] = m.bytes[6] + 1;`,
      );
      mine.bytes[6] = 41;
      const { code, stderr } = await proc.output;
      expect(stderr).toBe('');
      expect(code).toBe(0);
      expect(mine.bytes[7]).toBe(42);
    } finally {
      SharedMemory.unlink(name);
      mine.unmap();
    }
  });

  it.skipIf(!isLinux)(`a sealed memfd survives the other process trying to truncate it: EPERM, and no SIGBUS here${skipped(!isLinux, linuxSeals)}`, async () => {
    using shm = SharedMemory.create(4 * P, { seal: true });
    const mine = new MmapOptions(4 * P).withSharedMemory(shm).mapMut();
    mine.fill(5);
    const proc = startChild(
      `const fs = require('node:fs');
       try { fs.ftruncateSync(3, 0); console.log('truncated'); } catch (error) { console.log(error.code); }`,
      { stdio: [shm.fd] },
    );
    const { stdout, stderr } = await proc.output;
    expect(stderr).toBe('');
    expect(stdout.trim()).toBe('EPERM');
    // Every page is still there to read.
    expect(mine.bytes.every((byte) => byte === 5)).toBe(true);
    mine.unmap();
  });

  it('wait/notify: a ping-pong of 10,000 rounds between two processes loses no wake-up', async () => {
    const rounds = slow ? 2_000 : 10_000;
    const name = `memmap-p${process.pid}`;
    using shm = SharedMemory.create(G, { name });
    const mine = new MmapOptions(G).withSharedMemory(shm).mapMut();
    const word = new Int32Array(mine.buffer, 0, 1);
    // The other side answers every odd value with the next even one.
    const proc = startChild(
      `const shm = memmap.SharedMemory.open(${JSON.stringify(name)});
       const m = new memmap.MmapOptions(shm.size).withSharedMemory(shm).mapMut();
       const word = new Int32Array(m.buffer, 0, 1);
       let lost = 0;
       for (let i = 0; i < ${rounds}; i++) {
         while (Atomics.load(word, 0) !== 2 * i + 1) {
           if (m.wait(0, 2 * i, 10000) === 'timed-out') lost++;
           if (lost > 0) break;
         }
         if (lost > 0) break;
         Atomics.store(word, 0, 2 * i + 2);
         m.notify(0);
       }
       console.log(JSON.stringify({ lost }));`,
    );
    let lost = 0;
    try {
      for (let i = 0; i < rounds && lost === 0; i++) {
        Atomics.store(word, 0, 2 * i + 1);
        mine.notify(0);
        while (Atomics.load(word, 0) === 2 * i + 1) {
          if (mine.wait(0, 2 * i + 1, 10000) === 'timed-out') {
            lost++;
            break;
          }
        }
      }
      const { stdout, stderr } = await proc.output;
      expect(stderr).toBe('');
      expect(lost).toBe(0);
      expect(JSON.parse(stdout)).toEqual({ lost: 0 });
      expect(Atomics.load(word, 0)).toBe(2 * rounds);
    } finally {
      proc.kill();
      SharedMemory.unlink(name);
      mine.unmap();
    }
  }, 120_000);
});

describe('share() and fromShared() between threads', () => {
  it('workers read pages the main thread no longer holds; the last handle unmaps', async () => {
    const mapping = new MmapOptions(4 * P).mapMut();
    mapping.bytes.set([10, 20, 30]);
    const token = mapping.share();
    expect(token).toEqual({ kind: 'memmap.shared-mapping', id: expect.any(Number), type: 'MmapMut', size: 4 * P });
    const workers = [0, 1].map((n) =>
      startWorker(
        `const mapping = MmapOptions.fromShared(workerData.token);
         parentPort.postMessage(mapping.constructor.name);
         parentPort.once('message', () => {
           mapping.bytes[100 + workerData.n] = mapping.bytes[0] + mapping.bytes[1] + mapping.bytes[2];
           parentPort.postMessage(Array.from(mapping.bytes.subarray(0, 3)));
           parentPort.once('message', () => {
             mapping.unmap();
             parentPort.postMessage('unmapped');
           });
         });`,
        { token, n },
      ),
    );
    expect(await Promise.all(workers.map(nextMessage))).toEqual(['MmapMut', 'MmapMut']);
    // The main thread lets go first; the workers' handles keep the pages.
    const again = MmapOptions.fromShared(token) as MmapMut;
    mapping.unmap();
    for (const w of workers) w.postMessage('go');
    expect(await Promise.all(workers.map(nextMessage))).toEqual([[10, 20, 30], [10, 20, 30]]);
    expect([again.bytes[100], again.bytes[101]]).toEqual([60, 60]);
    again.unmap();
    for (const w of workers) w.postMessage('unmap');
    expect(await Promise.all(workers.map(nextMessage))).toEqual(['unmapped', 'unmapped']);
    await Promise.all(workers.map((w) => w.terminate()));
    expect(codeOf(() => MmapOptions.fromShared(token))).toBe('ERR_MMAP_CLOSED');
  });

  it("a worker's exit or terminate() never unmaps pages another thread holds", async () => {
    const mapping = new MmapOptions(P).mapMut();
    mapping.bytes[0] = 1;
    const token = mapping.share();
    const ended = startWorker(`MmapOptions.fromShared(workerData).bytes[1] = 2; parentPort.postMessage('done');`, token);
    const [, code] = await Promise.all([nextMessage(ended), exitCodeOf(ended)]);
    expect(code).toBe(0);
    const stuck = startWorker(
      // Ready from a later turn: a worker terminated in the very turn that
      // made a view keeps its pages for the life of the process, to be safe
      // (docs/ARCHITECTURE.md), which would keep them shared here.
      `const m = MmapOptions.fromShared(workerData); m.bytes[2] = 3;
       setTimeout(() => parentPort.postMessage('ready'), 10);
       setInterval(() => m.bytes[3]++, 1);`,
      token,
    );
    await nextMessage(stuck);
    await stuck.terminate();
    expect(Array.from(mapping.bytes.subarray(0, 3))).toEqual([1, 2, 3]);
    // Only the main thread holds them now: it can change them again.
    mapping.makeReadOnly().unmap();
  });

  it('while another handle holds the pages, makeX(), split, merge, intoRaw() and commit() throw ERR_MMAP_SHARED', () => {
    // Sizes in allocation granules: Windows places mappings only there.
    const mapping = new MmapOptions(4 * G).mapMut();
    const next = new MmapOptions(G).withAddress(mapping.end).mapMut();
    const token = mapping.share();
    const other = MmapOptions.fromShared(token) as MmapMut;
    expect(codeOf(() => mapping.makeReadOnly())).toBe('ERR_MMAP_SHARED');
    expect(codeOf(() => mapping.splitOff(P))).toBe('ERR_MMAP_SHARED');
    expect(codeOf(() => other.splitTo(P))).toBe('ERR_MMAP_SHARED');
    if (next.start === mapping.end) expect(codeOf(() => mapping.merge(next))).toBe('ERR_MMAP_SHARED');
    expect(codeOf(() => mapping.intoRaw())).toBe('ERR_MMAP_SHARED');
    expect(codeOf(() => other.makeExec())).toBe('ERR_MMAP_SHARED');
    // Both handles are unharmed.
    mapping.bytes[0] = 1;
    expect(other.bytes[0]).toBe(1);
    const reserved = new MmapOptions(G).reserveMut();
    const reservedToken = reserved.share();
    const reservedOther = MmapOptions.fromShared(reservedToken);
    expect(reservedOther.constructor.name).toBe('ReservedMut');
    expect(codeOf(() => reserved.commit())).toBe('ERR_MMAP_SHARED');
    reservedOther.unmap();
    reserved.commit().unmap();
    // Once the other handle is gone, the last holder owns the pages alone:
    // changes work again, and the old token is withdrawn.
    other.unmap();
    const readOnly = mapping.makeReadOnly();
    expect(readOnly.bytes[0]).toBe(1);
    expect(codeOf(() => MmapOptions.fromShared(token))).toBe('ERR_MMAP_CLOSED');
    readOnly.unmap();
    next.unmap();
  });

  it('the handle type travels: a read-only handle comes back read-only, and tokens are checked', () => {
    const readOnly = new MmapOptions(P).map();
    const token = readOnly.share();
    expect(token.type).toBe('Mmap');
    const copy = MmapOptions.fromShared(token);
    expect(copy.constructor.name).toBe('Mmap');
    expect(readOnly.share().id).toBe(token.id); // one id per shared region
    copy.unmap();
    readOnly.unmap();
    expect(codeOf(() => MmapOptions.fromShared(token))).toBe('ERR_MMAP_CLOSED');
    expect(codeOf(() => MmapOptions.fromShared({ ...token, id: 2 ** 40 }))).toBe('ERR_MMAP_CLOSED');
    expect(codeOf(() => MmapOptions.fromShared({ ...token, id: -1 }))).toBe('ERR_MMAP_CLOSED');
    expect(codeOf(() => MmapOptions.fromShared({ ...token, kind: 'other' } as never))).toBe('ERR_INVALID_ARG_TYPE');
    expect(codeOf(() => MmapOptions.fromShared(null as never))).toBe('ERR_INVALID_ARG_VALUE');
    const hostile = {
      get kind(): never {
        throw new Error('no');
      },
    };
    expect(codeOf(() => MmapOptions.fromShared(hostile as never))).toBe('ERR_INVALID_ARG_VALUE');
  });

  it('a handle from fromShared() dropped without unmap() lets go of the pages when collected', async () => {
    const mapping = new MmapOptions(P).mapMut();
    mapping.bytes[0] = 9;
    const token = mapping.share();
    (() => {
      const dropped = MmapOptions.fromShared(token) as MmapMut;
      expect(dropped.bytes[0]).toBe(9);
    })();
    // Refused while the dropped handle holds the pages; once it is
    // collected, this handle is the last holder and may change them.
    let readOnly: Mmap | undefined;
    const changed = await collectUntil(() => {
      if (readOnly !== undefined) return true;
      try {
        readOnly = mapping.makeReadOnly();
        return true;
      } catch (error) {
        expect((error as MmapError).code).toBe('ERR_MMAP_SHARED');
        return false;
      }
    });
    expect(changed).toBe(true);
    expect(readOnly!.bytes[0]).toBe(9);
    readOnly!.unmap();
  });
});

describe('wait and notify', () => {
  const shared = () => new MmapOptions(P).withFlags(MmapFlags.SHARED).mapMut();

  it('not-equal at once, timed-out after the timeout, and coded errors for bad words', async () => {
    const mapping = shared();
    expect(mapping.wait(0, 1)).toBe('not-equal');
    expect(mapping.wait(0, 0, 0)).toBe('timed-out');
    const started = performance.now();
    expect(mapping.wait(4, 0, 60)).toBe('timed-out');
    expect(performance.now() - started).toBeGreaterThanOrEqual(59);
    expect(await mapping.waitAsync(8, 0, 30)).toBe('timed-out');
    expect(await mapping.waitAsync(8, 5, 30)).toBe('not-equal');
    expect(mapping.notify(0)).toBe(0);
    mapping.bytes[12] = 0xff;
    mapping.bytes[13] = 0xff;
    mapping.bytes[14] = 0xff;
    mapping.bytes[15] = 0xff;
    expect(mapping.wait(12, -1, 0)).toBe('timed-out'); // int32 and uint32 spellings of one word
    expect(mapping.wait(12, 0xffffffff, 0)).toBe('timed-out');
    expect(codeOf(() => mapping.wait(2, 0, 0))).toBe('ERR_MMAP_INVALID_OFFSET');
    expect(codeOf(() => mapping.wait(-4, 0, 0))).toBe('ERR_MMAP_INVALID_OFFSET');
    expect(codeOf(() => mapping.wait(P, 0, 0))).toBe('ERR_MMAP_OUT_OF_BOUNDS');
    expect(codeOf(() => mapping.notify(P - 2))).toBe('ERR_MMAP_INVALID_OFFSET');
    expect(codeOf(() => mapping.wait(0, 2 ** 32, 0))).toBe('ERR_INVALID_ARG_VALUE');
    expect(codeOf(() => mapping.wait(0, 0.5, 0))).toBe('ERR_INVALID_ARG_VALUE');
    expect(codeOf(() => mapping.wait(0, 0, '5' as unknown as number))).toBe('ERR_INVALID_ARG_TYPE');
    expect(codeOf(() => mapping.notify(0, -1))).toBe('ERR_INVALID_ARG_VALUE');
    await expect(mapping.waitAsync(1, 0)).rejects.toMatchObject({ code: 'ERR_MMAP_INVALID_OFFSET' });
    const own = new MmapOptions(P).mapMut();
    expect(codeOf(() => own.wait(0, 0, 0))).toBe('ERR_MMAP_NOT_SHARED');
    expect(codeOf(() => own.notify(0))).toBe('ERR_MMAP_NOT_SHARED');
    own.unmap();
    mapping.unmap();
    expect(codeOf(() => mapping.wait(0, 0, 0))).toBe('ERR_MMAP_CLOSED');
  });

  it('notify wakes as many waiters as it is told, in other threads, and says how many', async () => {
    const mapping = shared();
    const token = mapping.share();
    const waiters = [0, 1, 2].map(() =>
      startWorker(`const m = MmapOptions.fromShared(workerData); parentPort.postMessage(m.wait(0, 0, 20000));`, token),
    );
    const results = waiters.map(nextMessage);
    let woken = 0;
    const deadline = Date.now() + 15000;
    // Waiters arrive when they arrive: wake one at a time until two were.
    while (woken < 2 && Date.now() < deadline) {
      woken += mapping.notify(0, 1);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(woken).toBe(2);
    while (mapping.notify(0, 1) === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(await Promise.all(results)).toEqual(['ok', 'ok', 'ok']);
    await Promise.all(waiters.map((w) => w.terminate()));
    mapping.unmap();
  }, 30_000);

  it('waitAsync() is woken by a notify from a worker, and rejects when its handle is unmapped', async () => {
    const mapping = shared();
    const pending = mapping.waitAsync(0, 0);
    const notifier = startWorker(
      `const m = MmapOptions.fromShared(workerData);
       const word = new Int32Array(m.buffer, 0, 1);
       Atomics.store(word, 0, 1);
       parentPort.postMessage(m.notify(0));`,
      mapping.share(),
    );
    const notified = nextMessage(notifier);
    expect(await pending).toBe('ok');
    // waitAsync()'s thread, the word's only waiter, slept on it until the notify ('ok' above): it woke exactly that one.
    expect(await notified).toBe(1);
    await notifier.terminate();
    const orphaned = mapping.waitAsync(4, 0);
    mapping.unmap();
    await expect(orphaned).rejects.toMatchObject({ code: 'ERR_MMAP_CLOSED' });
  });

  it('a worker blocked in wait() can be terminated', async () => {
    const mapping = shared();
    const blocked = startWorker(`const m = MmapOptions.fromShared(workerData); parentPort.postMessage('waiting'); m.wait(0, 0);`, mapping.share());
    await nextMessage(blocked);
    const started = Date.now();
    await blocked.terminate();
    expect(Date.now() - started).toBeLessThan(underQemu ? 10_000 : 3_000);
    mapping.bytes[0] = 1; // still mapped here
    mapping.unmap();
  });
});

describe('sharedBuffer()', () => {
  it.skipIf(!hasSharedBuffers)(`a SharedArrayBuffer over the pages, for Atomics across workers (${noSharedBuffers})`, async () => {
    const mapping = new MmapOptions(P).mapMut();
    const buffer = mapping.sharedBuffer();
    expect(buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(buffer.byteLength).toBe(P);
    const words = new Int32Array(buffer);
    expect(codeOf(() => mapping.makeReadOnly())).toBe('ERR_MMAP_SHARED');
    expect(codeOf(() => mapping.intoRaw())).toBe('ERR_MMAP_SHARED');
    const other = new Worker(
      `const { parentPort, workerData } = require('node:worker_threads');
       const words = new Int32Array(workerData);
       Atomics.store(words, 1, 5);
       Atomics.notify(words, 1);
       Atomics.wait(words, 2, 0, 20000);
       parentPort.postMessage(words[2]);`,
      { eval: true, workerData: buffer },
    );
    expect(Atomics.wait(words, 1, 0, 20000)).not.toBe('timed-out');
    expect(mapping.bytes[4]).toBe(5);
    // The handle ends; the buffer keeps the pages.
    mapping.unmap();
    Atomics.store(words, 2, 7);
    Atomics.notify(words, 2);
    expect(await nextMessage(other)).toBe(7);
    await other.terminate();
  });

  it.skipIf(hasSharedBuffers)('without the runtime support: ERR_MMAP_UNSUPPORTED naming the Node.js versions', () => {
    const mapping = new MmapOptions(P).mapMut();
    let error: MmapError | undefined;
    try {
      mapping.sharedBuffer();
    } catch (caught) {
      error = caught as MmapError;
    }
    expect(error?.code).toBe('ERR_MMAP_UNSUPPORTED');
    expect(error?.message).toMatch(/24\.16\+ and 26\.1\+/);
    mapping.makeReadOnly().unmap(); // nothing was shared
  });
});
