// Issue 3: every flag and advice, checked in the kernel's own accounting
// (/proc/self/smaps VmFlags and Rss), plus placement, split/merge of
// reservations, and adopting existing memory.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Advice, MmapFlags, MmapOptions, UnsafeMmapFlags } from '../src';
import { emulator, isLinux, isWindows, kernelSeesUs, kibWithVmFlag, leavesMapCount, notUnderQemu, onlyLinux, permissionsAt, rss, sanitizer, smapsAt, underWine, windowsFacts, wineLacks } from './helpers';
import { is32Bit, notIn32Bit, notUnderQemuMapCount, underQemu32 } from './helpers';
import { notUnderQemu32Smaps, qemuLacks, underQemu } from './helpers';

const P = MmapOptions.pageSize();
const MiB = 2 ** 20;

function vmFlags(address: bigint): string[] {
  return smapsAt(address)!.vmFlags;
}

const kernelOnly = isLinux ? notUnderQemu : onlyLinux;
// Windows keeps these facts in the working set (QueryWorkingSetEx) and the
// commit charge (GetProcessMemoryInfo).
const accountingRead = kernelSeesUs || isWindows;
const accounting = isWindows ? "Windows: the working set and commit charge" : kernelOnly;
// Under qemu-user the kernel's accounting is read too, and each test that
// needs what qemu keeps to itself says what (qemuLacks); for a 32-bit guest
// smaps cannot be read at all (notUnderQemu32Smaps).
const accountingReadHere = accountingRead || underQemu;
const accountingHere = underQemu ? 'under qemu-user: per test, what it does not pass to the kernel' : accounting;
const noWindowsCounterpart = (name: string) =>
  `skipped on Windows: it has no counterpart of ${name}, which memmap accepts there and ignores`;
const windowsPages = (address: bigint, count: number) => windowsFacts().pages(address, count);
const every = (count: number, bit: number) => Array<number>(count).fill(bit);

describe.skipIf(!accountingReadHere)(`flags in the kernel's accounting (${accountingHere})`, () => {
  // The last column: why qemu-user cannot show the flag, if it cannot.
  const cases: [string, MmapFlags, string, string?][] = [
    ['NO_RESERVE', MmapFlags.NO_RESERVE, 'nr'],
    ['NO_CORE_DUMP', MmapFlags.NO_CORE_DUMP, 'dd', qemuLacks.madvise('MADV_DONTDUMP', 'dd')],
    ['LOCKED', MmapFlags.LOCKED, 'lo'],
    ['TRANSPARENT_HUGE_PAGES', MmapFlags.TRANSPARENT_HUGE_PAGES, 'hg', qemuLacks.madvise('MADV_HUGEPAGE', 'hg')],
    ['SEQUENTIAL', MmapFlags.SEQUENTIAL, 'sr', qemuLacks.madvise('MADV_SEQUENTIAL', 'sr')],
    ['RANDOM_ACCESS', MmapFlags.RANDOM_ACCESS, 'rr', qemuLacks.madvise('MADV_RANDOM', 'rr')],
    // Since Linux 6.7 MAP_STACK also marks the area "no huge pages".
    ['STACK', MmapFlags.STACK, 'nh', qemuLacks.mapStack],
  ];
  for (const [name, flag, vmFlag, qemuReason] of cases) {
    if (isWindows && name === 'LOCKED') {
      it.skipIf(underWine)(`LOCKED locks every page into the working set${underWine ? ` (skipped: ${wineLacks.lockedBit})` : ''}`, () => {
        // 16 pages: within the default working-set quota VirtualLock allows.
        const plain = new MmapOptions(16 * P).mapMut();
        expect(windowsPages(plain.start, 16).locked).toEqual(every(16, 0));
        plain.unmap();
        const mapping = new MmapOptions(16 * P).withFlags(flag).mapMut();
        expect(windowsPages(mapping.start, 16).locked).toEqual(every(16, 1));
        mapping.unmap();
      });
      continue;
    }
    if (isWindows) {
      it.skip(`${name} shows VmFlag ${vmFlag} (${noWindowsCounterpart(name)})`, () => {});
      continue;
    }
    const qemuSkip = underQemu && (qemuReason !== undefined || underQemu32);
    it.skipIf(qemuSkip)(`${name} shows VmFlag ${vmFlag}${qemuSkip ? ` (skipped: ${qemuReason ?? notUnderQemu32Smaps})` : ''}`, () => {
      const plain = new MmapOptions(MiB).mapMut();
      expect(vmFlags(plain.start)).not.toContain(vmFlag);
      plain.unmap();
      const mapping = new MmapOptions(MiB).withFlags(flag).mapMut();
      expect(vmFlags(mapping.start)).toContain(vmFlag);
      mapping.unmap();
    });
  }

  const populateNote = isWindows
    ? underWine ? ` (skipped: ${wineLacks.prefetch})` : ''
    : ` (not under the sanitizers, whose own read-write areas may merge with the mapping's in smaps${underQemu ? `; skipped: ${qemuLacks.mapPopulate}` : ''})`;
  it.skipIf(sanitizer || (isWindows && underWine) || underQemu)(`POPULATE makes every page resident at once${populateNote}`, () => {
    if (isWindows) {
      const plain = new MmapOptions(16 * P).mapMut();
      expect(windowsPages(plain.start, 16).valid).toEqual(every(16, 0));
      plain.unmap();
      const mapping = new MmapOptions(16 * P).withFlags(MmapFlags.POPULATE).mapMut();
      expect(windowsPages(mapping.start, 16).valid).toEqual(every(16, 1));
      mapping.unmap();
      return;
    }
    const plain = new MmapOptions(4 * MiB).mapMut();
    expect(smapsAt(plain.start)!.fields.Rss).toBe(0);
    plain.unmap();
    const mapping = new MmapOptions(4 * MiB).withFlags(MmapFlags.POPULATE).mapMut();
    expect(smapsAt(mapping.start)!.fields.Rss).toBe(4 * 1024);
    mapping.unmap();
  });

  it('WILLNEED and DONTNEED map and leave the pages usable', () => {
    for (const flag of [MmapFlags.WILLNEED, MmapFlags.DONTNEED]) {
      const mapping = new MmapOptions(MiB).withFlags(flag).mapMut();
      mapping.bytes[0] = 1;
      expect(mapping.bytes[0]).toBe(1);
      mapping.unmap();
    }
  });

  const stepNote = isWindows ? ` (Windows: VirtualLock past the working-set quota${underWine ? `; skipped: ${wineLacks.workingSetQuota}; ${wineLacks.commitCharge}` : ''})` : '';
  it.skipIf(isWindows && underWine)(`a step that fails after mmap (madvise) unmaps before throwing${stepNote}`, () => {
    if (isWindows) {
      // VirtualLock of more than the working-set quota (a few hundred KiB
      // by default) fails once the pages are committed. A leaked mapping
      // would keep its 64 MiB of commit charge.
      const before = windowsFacts().counters().privateUsage;
      expect(() => new MmapOptions(64 * MiB).withFlags(MmapFlags.LOCKED).mapMut()).toThrow(
        expect.objectContaining({ code: 'ENOMEM', syscall: 'VirtualLock' }),
      );
      expect(windowsFacts().counters().privateUsage - before).toBeLessThan(16 * MiB);
      return;
    }
    // Locked pages cannot be dropped: MADV_DONTNEED fails with EINVAL. A
    // leaked mapping would stay locked, so count locked memory.
    const locked = kibWithVmFlag('lo');
    expect(() => new MmapOptions(MiB).withFlags(MmapFlags.LOCKED, MmapFlags.DONTNEED).mapMut()).toThrow(
      expect.objectContaining({ code: 'EINVAL', syscall: 'madvise' }),
    );
    expect(kibWithVmFlag('lo')).toBe(locked);
  });
});

describe('page sizes', () => {
  it('a size that is not a supported page size is ERR_MMAP_INVALID_SIZE', () => {
    const sizes = MmapOptions.pageSizes();
    expect(sizes[0]).toBe(P);
    expect([...sizes].sort((a, b) => a - b)).toEqual(sizes);
    for (const bad of [4 * MiB + 4096, P / 2, 0, -P, 1.5 * P]) {
      expect(() => new MmapOptions(2 * MiB).withPageSize(bad)).toThrow(expect.objectContaining({ code: 'ERR_MMAP_INVALID_SIZE' }));
    }
  });
});

// Windows has large pages only committed, for a process holding
// SeLockMemoryPrivilege: without it, mapping them is refused with EPERM.
const windowsLargePages = isWindows && !underWine && windowsFacts().lockedPrivilege();
const noLargePagesHere = underWine ? wineLacks.largePages : 'this process lacks SeLockMemoryPrivilege, which Windows large pages need';

describe.skipIf(!accountingReadHere)(`huge pages (${accountingHere})`, () => {
  const control = '/proc/sys/vm/nr_hugepages';
  const hugeSize = 2 * MiB;
  const original = fs.existsSync(control) ? fs.readFileSync(control, 'utf8').trim() : null;
  let writable = false;
  try {
    fs.accessSync(control, fs.constants.W_OK);
    writable = MmapOptions.pageSizes().includes(hugeSize);
  } catch {
    writable = false;
  }
  afterAll(() => {
    if (writable && original !== null) fs.writeFileSync(control, original);
  });

  it.skipIf((isWindows && !windowsLargePages) || underQemu)(`a huge-page mapping must be a whole number of huge pages, and splits only at huge pages${isWindows && !windowsLargePages ? ` (skipped: ${noLargePagesHere})` : underQemu ? ` (skipped: ${qemuLacks.mapHugetlb})` : ''}`, () => {
    expect(() => new MmapOptions(MiB).withPageSize(hugeSize).mapMut()).toThrow(
      expect.objectContaining({ code: 'ERR_MMAP_INVALID_SIZE' }),
    );
    if (isWindows) {
      // Windows cannot reserve large pages: the rule shows on committed ones.
      const mapping = new MmapOptions(2 * hugeSize).withPageSize(hugeSize).mapMut();
      expect(() => mapping.splitOff(P)).toThrow(expect.objectContaining({ code: 'ERR_MMAP_INVALID_OFFSET' }));
      mapping.splitOff(hugeSize).unmap();
      mapping.unmap();
      return;
    }
    // A reservation shows the rule without needing reserved huge pages.
    const reserved = new MmapOptions(2 * hugeSize).withPageSize(hugeSize).reserveNone();
    expect(() => reserved.splitOff(P)).toThrow(expect.objectContaining({ code: 'ERR_MMAP_INVALID_OFFSET' }));
    reserved.splitOff(hugeSize).unmap();
    reserved.unmap();
  });

  it.skipIf((isWindows && underWine) || underQemu32)(`the base page size means ordinary pages, not the default huge page${isWindows && underWine ? ` (skipped: ${wineLacks.largePages})` : underQemu32 ? ` (skipped: ${notUnderQemu32Smaps})` : ''}`, () => {
    const mapping = new MmapOptions(MiB).withPageSize(P).mapMut();
    if (isWindows) {
      mapping.bytes.fill(1);
      const pages = windowsPages(mapping.start, MiB / P);
      expect(pages.valid).toEqual(every(MiB / P, 1));
      expect(pages.largePage).toEqual(every(MiB / P, 0));
      mapping.unmap();
      return;
    }
    expect(smapsAt(mapping.start)!.fields.KernelPageSize).toBe(P / 1024);
    mapping.unmap();
  });

  const realHugePagesNote = isWindows
    ? `Windows: EPERM without SeLockMemoryPrivilege${underWine ? `; skipped: ${wineLacks.largePages}` : ''}`
    : `needs a writable ${control}${underQemu ? `; skipped: ${qemuLacks.mapHugetlb}` : ''}`;
  it.skipIf(isWindows ? underWine : !writable || underQemu)(`2 MiB pages: ENOMEM with none reserved, then real huge pages (${realHugePagesNote})`, () => {
    if (isWindows) {
      if (!windowsLargePages) {
        expect(() => new MmapOptions(hugeSize).withPageSize(hugeSize).mapMut()).toThrow(
          expect.objectContaining({ code: 'EPERM' }),
        );
        return;
      }
      for (const options of [new MmapOptions(hugeSize).withPageSize(hugeSize), new MmapOptions(hugeSize).withFlags(MmapFlags.HUGE_PAGES)]) {
        const mapping = options.mapMut();
        mapping.bytes[hugeSize - 1] = 1;
        expect(windowsPages(mapping.start, hugeSize / P).largePage).toEqual(every(hugeSize / P, 1));
        mapping.unmap();
      }
      return;
    }
    fs.writeFileSync(control, '0');
    expect(() => new MmapOptions(hugeSize).withPageSize(hugeSize).mapMut()).toThrow(
      expect.objectContaining({ code: 'ENOMEM' }),
    );
    fs.writeFileSync(control, '4');
    if (Number(fs.readFileSync(control, 'utf8')) < 1) {
      console.log('skipped: the kernel could not reserve a 2 MiB huge page');
      return;
    }
    const mapping = new MmapOptions(hugeSize).withPageSize(hugeSize).mapMut();
    mapping.bytes[hugeSize - 1] = 1;
    const smaps = smapsAt(mapping.start)!;
    expect(smaps.fields.KernelPageSize).toBe(2048);
    expect(smaps.vmFlags).toContain('ht');
    mapping.unmap();
    const byFlag = new MmapOptions(hugeSize).withFlags(MmapFlags.HUGE_PAGES).mapMut();
    expect(smapsAt(byFlag.start)!.vmFlags).toContain('ht');
    byFlag.unmap();
  });

  const remapNote = isWindows ? 'Windows cannot reserve large pages, nor grow them' : underQemu ? qemuLacks.mapHugetlb : '';
  it.skipIf(isWindows || underQemu)(`remap() resizes a huge-page reservation by whole huge pages${remapNote ? ` (skipped: ${remapNote})` : ''}`, () => {
    const reserved = new MmapOptions(2 * hugeSize).withPageSize(hugeSize).reserveNone();
    expect(() => reserved.remap(hugeSize + P)).toThrow(expect.objectContaining({ code: 'ERR_MMAP_INVALID_SIZE' }));
    reserved.remap(hugeSize);
    expect(reserved.size).toBe(hugeSize);
    // Linux's mremap refuses to grow hugetlb pages: this goes by hand.
    reserved.remap(3 * hugeSize, { mayMove: true });
    expect(reserved.size).toBe(3 * hugeSize);
    expect(() => reserved.splitOff(P)).toThrow(expect.objectContaining({ code: 'ERR_MMAP_INVALID_OFFSET' }));
    reserved.unmap();
  });

  it.skipIf(isWindows || !writable || underQemu)(`remap() grows and shrinks real 2 MiB pages, keeping their bytes (${isWindows ? 'skipped: Windows cannot grow large pages' : `needs a writable ${control}${underQemu ? `; skipped: ${qemuLacks.mapHugetlb}` : ''}`})`, () => {
    fs.writeFileSync(control, '8');
    if (Number(fs.readFileSync(control, 'utf8')) < 6) {
      console.log('skipped: the kernel could not reserve six 2 MiB huge pages');
      return;
    }
    const mapping = new MmapOptions(2 * hugeSize).withPageSize(hugeSize).mapMut();
    mapping.bytes[0] = 7;
    mapping.bytes[2 * hugeSize - 1] = 8;
    mapping.remap(4 * hugeSize, { mayMove: true });
    expect(mapping.size).toBe(4 * hugeSize);
    expect([mapping.bytes[0], mapping.bytes[2 * hugeSize - 1], mapping.bytes[4 * hugeSize - 1]]).toEqual([7, 8, 0]);
    expect(smapsAt(mapping.start + BigInt(3 * hugeSize))!.fields.KernelPageSize).toBe(2048);
    mapping.remap(hugeSize);
    expect(mapping.size).toBe(hugeSize);
    expect(mapping.bytes[0]).toBe(7);
    mapping.unmap();
  });

  it.skipIf(isWindows || !writable || underQemu)(`remap() grows committed huge pages made inaccessible with their commit charge, a reservation's without (VmFlag nr; ${isWindows ? 'skipped: Windows cannot grow large pages' : `needs a writable ${control}${underQemu ? `; skipped: ${qemuLacks.mapHugetlb}` : ''}`})`, () => {
    fs.writeFileSync(control, '8');
    if (Number(fs.readFileSync(control, 'utf8')) < 4) {
      console.log('skipped: the kernel could not reserve four 2 MiB huge pages');
      return;
    }
    // Linux grows huge pages by hand (mremap refuses them): the pages gained
    // are mapped anew, with the flags remap() gives them.
    const inaccessible = new MmapOptions(hugeSize).withPageSize(hugeSize).mapMut().makeNone();
    inaccessible.remap(2 * hugeSize, { mayMove: true });
    expect(smapsAt(inaccessible.start + BigInt(hugeSize))!.vmFlags).not.toContain('nr');
    inaccessible.unmap();
    const reserved = new MmapOptions(hugeSize).withPageSize(hugeSize).reserveNone();
    reserved.remap(2 * hugeSize, { mayMove: true });
    expect(smapsAt(reserved.start + BigInt(hugeSize))!.vmFlags).toContain('nr');
    reserved.unmap();
  });
});

describe('operations on a live mapping', () => {
  const lockNote = isWindows
    ? `Windows: the working set's Locked bit; no lock on fault there${underWine ? `; skipped: ${wineLacks.lockedBit}` : ''}`
    : `${underQemu32 ? `skipped: ${notUnderQemu32Smaps}` : underQemu ? `skipped: ${qemuLacks.mlock2}` : kernelOnly}; not under ASan, which turns mlock and munlock into no-ops`;
  it.skipIf(isWindows ? underWine : !kernelSeesUs || sanitizer)(`lock, unlock and lockOnFault show in VmFlags (${lockNote})`, () => {
    if (isWindows) {
      const mapping = new MmapOptions(4 * P).mapMut();
      mapping.lock(P, P);
      expect(windowsPages(mapping.start, 4).locked).toEqual([0, 1, 0, 0]);
      mapping.unlock(P, P);
      expect(windowsPages(mapping.start, 4).locked).toEqual([0, 0, 0, 0]);
      // Windows locks only pages that are there.
      expect(() => mapping.lockOnFault()).toThrow(expect.objectContaining({ code: 'ERR_MMAP_UNSUPPORTED' }));
      mapping.unmap();
      return;
    }
    const mapping = new MmapOptions(4 * P).mapMut();
    mapping.lock(P, P);
    expect(vmFlags(mapping.start + BigInt(P))).toContain('lo');
    expect(vmFlags(mapping.start)).not.toContain('lo');
    mapping.unlock(P, P);
    expect(vmFlags(mapping.start + BigInt(P))).not.toContain('lo');
    mapping.lockOnFault();
    expect(vmFlags(mapping.start)).toEqual(expect.arrayContaining(['lo', 'lf']));
    mapping.unlock();
    mapping.unmap();
  });

  const adviceNote = underQemu ? `skipped: ${qemuLacks.madvise('MADV_RANDOM, MADV_SEQUENTIAL, MADV_HUGEPAGE and the rest', 'rr')}` : accounting;
  it.skipIf(!accountingRead)(`advice reaches the kernel (${adviceNote})`, () => {
    if (isWindows) {
      // dontNeed decommits and commits again: fresh pages, out of the
      // working set. Windows keeps no access-pattern advice at all.
      const mapping = new MmapOptions(4 * P).mapMut();
      mapping.bytes.fill(7);
      expect(windowsPages(mapping.start, 4).valid).toEqual(every(4, 1));
      mapping.advise('dontNeed', P, 2 * P);
      expect(windowsPages(mapping.start, 4).valid).toEqual([1, 0, 0, 1]);
      for (const advice of ['random', 'sequential', 'hugePage', 'noHugePage', 'dontFork', 'dontDump', 'mergeable'] as Advice[]) {
        expect(() => mapping.advise(advice), advice).toThrow(expect.objectContaining({ code: 'ERR_MMAP_UNSUPPORTED' }));
      }
      for (const advice of ['normal', 'willNeed', 'free', 'pageOut'] as Advice[]) mapping.advise(advice);
      mapping.unmap();
      return;
    }
    const shown: [Advice, string, Advice][] = [
      ['random', 'rr', 'normal'],
      ['sequential', 'sr', 'normal'],
      ['hugePage', 'hg', 'noHugePage'],
      ['noHugePage', 'nh', 'hugePage'],
      ['dontFork', 'dc', 'doFork'],
      ['dontDump', 'dd', 'doDump'],
      ['mergeable', 'mg', 'unmergeable'],
    ];
    const mapping = new MmapOptions(4 * P).mapMut();
    for (const [advice, vmFlag, undo] of shown) {
      mapping.advise(advice);
      expect(vmFlags(mapping.start), advice).toContain(vmFlag);
      mapping.advise(undo);
      expect(vmFlags(mapping.start), undo).not.toContain(vmFlag);
    }
    for (const advice of ['willNeed', 'free', 'cold', 'pageOut'] as Advice[]) mapping.advise(advice);
    mapping.unmap();
  });

  it.skipIf(!isWindows || underWine)(`pageOut takes pages out of the working set and willNeed brings them back (Windows: QueryWorkingSetEx${underWine ? `; skipped: ${wineLacks.pageOut}, and ${wineLacks.prefetch}` : isWindows ? '' : '; Linux checks its advice in VmFlags above'})`, () => {
    const mapping = new MmapOptions(4 * P).mapMut();
    mapping.bytes.fill(7);
    mapping.advise('pageOut');
    expect(windowsPages(mapping.start, 4).valid).toEqual(every(4, 0));
    mapping.advise('willNeed');
    expect(windowsPages(mapping.start, 4).valid).toEqual(every(4, 1));
    expect(mapping.bytes[3 * P]).toBe(7);
    mapping.unmap();
  });

  it('dontNeed on private anonymous memory reads back zeros', () => {
    const mapping = new MmapOptions(2 * P).mapMut();
    mapping.bytes.fill(7);
    mapping.advise('dontNeed', 0, P);
    expect(mapping.bytes[0]).toBe(0);
    expect(mapping.bytes[P]).toBe(7);
    mapping.unmap();
  });

  it.skipIf(!kernelSeesUs)(`remove on shared anonymous memory frees it; the kernel refuses it on private memory (${isWindows ? 'skipped on Windows: it has no MADV_REMOVE, and advise(\'remove\') throws ERR_MMAP_UNSUPPORTED, checked below' : underQemu ? `skipped: ${qemuLacks.madvRemove}` : kernelOnly})`, () => {
    const shared = new MmapOptions(P).withFlags(MmapFlags.SHARED).mapMut();
    shared.bytes[0] = 3;
    shared.advise('remove');
    expect(shared.bytes[0]).toBe(0);
    shared.unmap();
    const priv = new MmapOptions(P).mapMut();
    expect(() => priv.advise('remove')).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    priv.unmap();
  });

  it.skipIf(isLinux)('advice the platform lacks throws ERR_MMAP_UNSUPPORTED (Linux has every advice)', () => {
    const mapping = new MmapOptions(P).mapMut();
    expect(() => mapping.advise('remove')).toThrow(expect.objectContaining({ code: 'ERR_MMAP_UNSUPPORTED' }));
    mapping.unmap();
  });

  it('advice names are checked; ranges default to the whole handle and are bounds-checked', () => {
    const mapping = new MmapOptions(2 * P).mapMut();
    expect(() => mapping.advise('later' as Advice)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    expect(() => mapping.advise('normal', P, P + 1)).toThrow(expect.objectContaining({ code: 'ERR_MMAP_OUT_OF_BOUNDS' }));
    mapping.advise('normal', 1, 1);
    mapping.flushIcache();
    mapping.unmap();
  });
});

describe('placement', () => {
  it('withAddress is a hint: a free address is honoured', () => {
    const probe = new MmapOptions(4 * P).mapNone();
    const address = probe.start;
    probe.unmap();
    const mapping = new MmapOptions(4 * P).withAddress(address).mapMut();
    expect(mapping.start).toBe(address);
    mapping.unmap();
  });

  it('MAP_FIXED places the mapping exactly, replacing what was there', () => {
    const first = new MmapOptions(P).mapMut();
    first.bytes[0] = 9;
    const raw = first.intoRaw();
    const fixed = new MmapOptions(P).withAddress(raw.address).withUnsafeFlags(UnsafeMmapFlags.MAP_FIXED).mapMut();
    expect(fixed.start).toBe(raw.address);
    expect(fixed.bytes[0]).toBe(0);
    fixed.unmap();
  });

  it('withAlignment gives an aligned start and leaks no reservation', async () => {
    const mapAligned = () => {
      for (const alignment of [64 * 1024, 2 * MiB, 64 * MiB]) {
        const mapping = new MmapOptions(3 * P).withAlignment(alignment).mapMut();
        expect(mapping.start % BigInt(alignment)).toBe(0n);
        mapping.bytes[3 * P - 1] = 1;
        mapping.unmap();
      }
    };
    if (emulator === 'qemu-user') console.log(`placement: the map count is not compared (${notUnderQemuMapCount})`);
    if (kernelSeesUs || isWindows) expect(await leavesMapCount(mapAligned)).toBe(true);
    else mapAligned();
  });
});

describe('sparse reservations', () => {
  it.skipIf(is32Bit)(`reserve 64 GiB, commit pages one at a time, unmap pieces independently${is32Bit ? ` (skipped: ${notIn32Bit})` : ''}`, () => {
    const rest = new MmapOptions(64 * 2 ** 30).reserveMut();
    const pieces = [];
    for (let i = 0; i < 16; i++) {
      const page = rest.splitTo(P).commit();
      page.bytes[0] = i + 1;
      pieces.push(page);
    }
    expect(pieces.map((piece) => piece.bytes[0])).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
    expect(pieces[1].start).toBe(pieces[0].end);
    expect(rest.start).toBe(pieces[15].end);
    const gone = pieces[3].start;
    pieces[3].unmap();
    if (isLinux || isWindows) expect(permissionsAt(gone)).toBeNull();
    expect(pieces[2].bytes[0]).toBe(3);
    expect(pieces[4].bytes[0]).toBe(5);
    for (const piece of pieces) piece.unmap();
    rest.unmap();
  });

  it.skipIf(emulator === 'wine' || is32Bit)(`resident memory grows only with committed, touched pages (Wine: its own 16 MiB of bookkeeping per 64 GiB reservation hides this${is32Bit ? `; skipped: ${notIn32Bit}` : ''})`, () => {
    const before = rss();
    const rest = new MmapOptions(64 * 2 ** 30).reserveMut();
    const pages = Array.from({ length: 16 }, () => rest.splitTo(P).commit());
    for (const page of pages) page.bytes[0] = 1;
    expect(rss() - before).toBeLessThan(8 * MiB);
    for (const page of pages) page.unmap();
    rest.unmap();
  });

  it('merged reservations commit as one', () => {
    const low = new MmapOptions(4 * P).reserveMut();
    const high = low.splitOff(2 * P);
    low.merge(high);
    const whole = low.commit();
    expect(whole.size).toBe(4 * P);
    whole.bytes[4 * P - 1] = 1;
    whole.unmap();
  });

  it.skipIf(!isLinux)(`a file reservation and an adjacent anonymous one do not merge (commit would swap the file for zeros)${isLinux ? '' : ' (Linux only: places a file view by address hint at a page boundary)'}`, () => {
    const f = fs.openSync(path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'memmap-')), 'data'), 'w+');
    fs.writeSync(f, Buffer.alloc(P, 0x41));
    const anonymous = new MmapOptions(2 * P).reserveMut();
    const upper = anonymous.splitOff(P);
    const address = upper.start;
    upper.unmap();
    // A free address: the kernel honours the hint.
    const file = new MmapOptions(P).withFile(f).withAddress(address).reserveMut();
    expect(file.start).toBe(address);
    expect(() => anonymous.merge(file)).toThrow(expect.objectContaining({ code: 'ERR_MMAP_BACKING_MISMATCH' }));
    expect(file.commit().bytes[0]).toBe(0x41);
    anonymous.unmap();
    fs.closeSync(f);
  });

  it('merging handles of different protection or type fails, leaving both usable', () => {
    const low = new MmapOptions(2 * P).mapMut();
    const high = low.splitOff(P).makeReadOnly();
    expect(() => low.merge(high as never)).toThrow(expect.objectContaining({ code: 'ERR_MMAP_ATTRIBUTE_MISMATCH' }));
    const highMut = high.makeMut();
    const flagged = new MmapOptions(P).withFlags(MmapFlags.NO_CORE_DUMP).mapMut();
    expect(() => low.merge(flagged)).toThrow(expect.objectContaining({ code: 'ERR_MMAP_MUST_BE_ADJACENT' }));
    low.merge(highMut);
    expect(low.size).toBe(2 * P);
    low.unmap();
    flagged.unmap();
  });
});

describe('adopting existing memory', () => {
  it('refuses without an address, for unmapped ranges, and for ranges a live handle owns', () => {
    expect(() => new MmapOptions(P).mapFromExisting()).toThrow(expect.objectContaining({ code: 'ERR_MMAP_MISSING_ADDRESS' }));
    const owned = new MmapOptions(2 * P).mapMut();
    expect(() => new MmapOptions(P).withAddress(owned.start + BigInt(P)).mapFromExisting()).toThrow(
      expect.objectContaining({ code: 'ERR_MMAP_INVALID_ADDRESS' }),
    );
    const raw = owned.intoRaw();
    const firstHalf = new MmapOptions(P).withAddress(raw.address).mapFromExisting();
    const secondHalf = new MmapOptions(P).withAddress(raw.address + BigInt(P)).mapFromExisting();
    secondHalf.unmap();
    // Now only partly mapped.
    expect(() => new MmapOptions(2 * P).withAddress(raw.address).mapFromExisting()).toThrow(
      expect.objectContaining({ code: 'ERR_MMAP_INVALID_ADDRESS' }),
    );
    firstHalf.unmap();
  });

  it('the flags travel through splits and makeX(): JIT survives a split', () => {
    const jit = new MmapOptions(2 * P).withUnsafeFlags(UnsafeMmapFlags.JIT).mapMut();
    const piece = jit.splitOff(P);
    const rwx = piece.makeExecMut();
    rwx.unmap();
    jit.makeReadOnly().makeExecMut().unmap();
  });
});
