// Facts about this process from the kernel's own accounting, for checking
// what a mapping really is rather than what the library says it is; and
// child processes and workers that run memmap in scripts of their own.
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { formatPermissions, MemoryAreas, MmapError } from '../src';

export const isLinux = process.platform === 'linux';
export const onlyLinux = 'needs /proc/self/maps and /proc/self/smaps (Linux only)';

/** The emulator running the suite, as scripts/cross/run.sh says: 'wine', 'qemu-user' or undefined (also when set empty, as for a native target). */
export const emulator = process.env.MEMMAP_TEST_EMULATOR || undefined;
/** Whether the kernel sees what we ask: qemu-user keeps madvise, MAP_STACK, MAP_POPULATE, mlock2 and MAP_HUGETLB to itself. */
export const kernelSeesUs = isLinux && emulator !== 'qemu-user';
export const notUnderQemu = 'qemu-user does not pass madvise, MAP_STACK, MAP_POPULATE, mlock2 or MAP_HUGETLB to the kernel';
/** Whether the suite runs under qemu-user (any guest), which keeps some requests to itself: see the `qemuLacks` reasons. */
export const underQemu = emulator === 'qemu-user';
/**
 * What qemu-user 7.2 does not pass to the kernel, per test, each seen as the
 * test's failure under qemu-aarch64 (its /proc/self/smaps is the host's).
 */
export const qemuLacks = {
  /** madvise() succeeds but reaches the kernel for none of these: the VmFlag does not show. */
  madvise: (advice: string, vmFlag: string) =>
    `qemu-user 7.2 does not pass madvise(${advice}) to the kernel: it returns 0 and no \`${vmFlag}\` VmFlag shows`,
  mapStack: 'qemu-user 7.2 does not pass MAP_STACK to the kernel: no `nh` VmFlag',
  mapPopulate: 'qemu-user 7.2 does not pass MAP_POPULATE to the kernel: Rss stays 0 until the pages are touched',
  mapHugetlb: 'qemu-user 7.2 does not pass MAP_HUGETLB to the kernel: a mapping or reservation of 2 MiB pages fails with EINVAL from qemu',
  mlock2: 'qemu-user 7.2 does not implement mlock2 (ENOSYS), so lockOnFault() throws ERR_MMAP_UNSUPPORTED (lock and unlock, mlock and munlock, do reach the kernel)',
  madvRemove: 'qemu-user 7.2 does not pass madvise(MADV_REMOVE) to the kernel: it returns 0 and the shared page keeps its data',
  mapsProtections:
    "qemu-user 7.2's /proc/self/maps spreads PROT_EXEC to the next page: after makeExecNoFlush() a page the model holds r--p shows r-xp",
  /** Not a lack: what qemu-user does pass, so the tests that need it run. */
  passesDontNeed: 'qemu-user 7.2 passes madvise(MADV_DONTNEED) to the kernel for a guest with the host page size',
};

/** How many bits this process's pointers and size_t have: 32 on arm (armv7) and ia32. */
export const addressBits = process.arch === 'arm' || process.arch === 'ia32' ? 32 : 64;
export const is32Bit = addressBits === 32;
/** qemu-user 7.2 truncates the file offset of a 32-bit guest's mmap2 to 32 bits. */
export const qemuCutsOffsets = emulator === 'qemu-user' && (process.arch === 'arm' || process.arch === 'ia32');
export const notUnderQemu32Offsets =
  "qemu-user 7.2 cuts a 32-bit guest's mmap offset to 32 bits (its target_mmap() takes an abi_ulong), although the guest's mmap2 call carries the right page offset (QEMU_STRACE shows 0x100001 for 4 GiB + 4 KiB)";
export const notIn32Bit = 'a 32-bit process has 4 GiB of address space: sizes above it throw ERR_MMAP_INVALID_SIZE (test/address-width.test.ts)';
/** qemu-user translates only the guest's own /proc/self/maps; a 32-bit guest's addresses sit at an offset in the host's view. */
export const qemuShowsHostMaps = emulator === 'qemu-user' && is32Bit;
/** Whether a 32-bit guest runs under qemu-user, whose /proc/self/maps for it is an emulation over one host reservation of its 4 GiB. */
export const underQemu32 = emulator === 'qemu-user' && is32Bit;
export const notUnderQemu32NoAccess =
  "qemu-user's /proc/self/maps leaves out a 32-bit guest's inaccessible (PROT_NONE) area where the host merged it into qemu's own PROT_NONE reservation of the guest's 4 GiB";
export const notUnderQemuMapCount =
  "qemu-user's /proc/self/maps splits and merges V8's own code (rwxp) and heap areas from one read to the next, so the count moves without memmap (seen for 32-bit guests, and for arm64 in eight tries in a row)";
/** qemu-user 7.2 reports a 32-bit guest's SIGBUS a page past the byte that faulted (SIGSEGV it reports right). */
export const qemuMisplacesSigbus = emulator === 'qemu-user' && is32Bit;
export const notUnderQemu32Sigbus =
  "qemu-user 7.2 reports a 32-bit guest's SIGBUS one page past the faulting byte (si_addr 0x3f6b9010 for a read of a truncated file at 0x3f6b8010; its SIGSEGV addresses are right), so the fault guard cannot see that the fault is in the range it guards and the process dies";
export const notUnderQemu32Smaps =
  "qemu-user 7.2's /proc/self/smaps is the host's own, untranslated: a 32-bit guest's mapping at 0x3a5c0000 (so listed in its /proc/self/maps) falls there in the host's ---p area 0x37d81000-0x3a5c1000, so the VmFlags and sizes read for it are another area's";
export const notUnderQemu32MapLimit =
  'qemu-user 7.2 for a 32-bit guest allocates host memory itself when the guest maps: at the map-count limit its GSlice allocation fails ("***MEMORY-ERROR***: qemu-arm: GSlice: failed to allocate 496 bytes") and it aborts the guest';
export const notUnderQemu32Maps =
  "qemu-user translates only the guest's own /proc/self/maps: another process's /proc/<pid>/maps is the host's view of qemu, where a 32-bit guest's addresses are offset by qemu's guest base";

export const isWindows = process.platform === 'win32';
export const underWine = emulator === 'wine';

/** One 0/1 per page, from QueryWorkingSetEx. */
export interface WorkingSetPages {
  /** In the working set: resident. */
  valid: number[];
  /** Locked into the working set (VirtualLock). */
  locked: number[];
  /** Backed by a large page. */
  largePage: number[];
}

/**
 * Windows' own accounting of this process's memory, through
 * test/windows/memory-facts.c: the Windows counterpart of /proc/self/smaps.
 */
export interface WindowsMemoryFacts {
  /** QueryWorkingSetEx of `count` pages from `address`. */
  pages(address: bigint, count: number): WorkingSetPages;
  /** VirtualQuery of the region holding `address` (state MEM_COMMIT 0x1000, MEM_RESERVE 0x2000, MEM_FREE 0x10000). */
  region(address: bigint): { base: bigint; allocationBase: bigint; size: number; state: number; protect: number; type: number };
  /** GetProcessMemoryInfo: commit charge (`privateUsage`) and working set, in bytes. */
  counters(): { privateUsage: number; workingSet: number };
  /** GetProcessHandleCount. */
  handleCount(): number;
  /** The regions of the whole address space that are not free (reserved or committed), and their bytes. */
  addressSpace(): { regions: number; bytes: number };
  /** Whether SeLockMemoryPrivilege, which large pages need, is enabled in the process token. */
  lockedPrivilege(): boolean;
  /** Writes where nothing is mapped: an access violation outside every memmap handle. Never returns. */
  accessViolation(): never;
}

export const MEM_COMMIT = 0x1000;
export const MEM_RESERVE = 0x2000;
export const MEM_FREE = 0x10000;

/**
 * What Wine 8 does not model of Windows' accounting, each tried under Wine
 * (the tests that need it skip with this as their reason).
 */
export const wineLacks = {
  lockedBit: 'Wine 8 does not model the working set\'s Locked bit (QueryWorkingSetEx reports no page locked after VirtualLock)',
  workingSetQuota: 'Wine 8 does not model the working-set quota (VirtualLock of 64 MiB succeeds)',
  commitCharge: "Wine 8 does not model commit charge (GetProcessMemoryInfo's PrivateUsage does not move when 64 MiB are committed)",
  prefetch: "Wine 8's PrefetchVirtualMemory brings no page into the working set",
  pageOut: 'Wine 8 does not take pages out of the working set on VirtualUnlock of unlocked pages',
  largePages: 'Wine 8 does not model large pages (VirtualAlloc refuses MEM_LARGE_PAGES with ERROR_INVALID_PARAMETER)',
  handleCount: 'Wine 8 does not model handle counts (GetProcessHandleCount reports 0, also after CreateFile)',
} as const;

/** The module windowsFacts() loads, for a child process to load itself. */
export const windowsFactsFile = path.join(__dirname, 'windows', 'build', process.arch, 'memory-facts.node');

let windowsMemoryFacts: WindowsMemoryFacts | undefined;

/**
 * Windows' accounting of this process (Windows only). The module is built by
 * test/windows/build.sh, which scripts/cross/run.sh runs before the Windows
 * suite; under Wine the tests cannot run the Linux compiler themselves.
 */
export function windowsFacts(): WindowsMemoryFacts {
  if (!isWindows) throw new Error('windowsFacts() reads Windows accounting: Windows only');
  if (windowsMemoryFacts) return windowsMemoryFacts;
  const file = windowsFactsFile;
  if (!fs.existsSync(file)) {
    throw new Error(`${file} is missing: build it with \`bash test/windows/build.sh\` (MinGW-w64; scripts/cross/run.sh does)`);
  }
  const module = { exports: {} as WindowsMemoryFacts };
  process.dlopen(module, file);
  windowsMemoryFacts = module.exports;
  return windowsMemoryFacts;
}

/** The sanitizers the suite runs under (scripts/sanitize.sh sets it), or undefined. */
export const sanitizer = process.env.MEMMAP_TEST_SANITIZER;
/** Why a fault's exact offset is not checked under ASan. */
export const notUnderAsanMemmove =
  "under ASan, whose memmove copies byte by byte (from the end when the target lies above the source), a copy faults at another byte";

/** The /proc/self/maps line of the area containing `address`. */
export function areaAt(address: bigint): { start: bigint; end: bigint; perms: string; path: string } | null {
  for (const line of fs.readFileSync('/proc/self/maps', 'utf8').split('\n')) {
    const match = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (!match) continue;
    const start = BigInt(`0x${match[1]}`);
    const end = BigInt(`0x${match[2]}`);
    if (start <= address && address < end) return { start, end, perms: match[3], path: match[4] };
  }
  return null;
}

/**
 * The permissions of the area containing `address` as the OS itself shows
 * them (`r-xp` and the like), or null where nothing is mapped:
 * /proc/self/maps on Linux; on Windows memmap's MemoryAreas, over
 * VirtualQuery, which lists committed pages only. Undefined elsewhere.
 */
export function permissionsAt(address: bigint): string | null | undefined {
  if (isLinux) return areaAt(address)?.perms ?? null;
  if (process.platform !== 'win32') return undefined;
  const area = MemoryAreas.query(address);
  return area && formatPermissions(area);
}

/** The /proc/self/smaps fields of the area containing `address` (sizes in KiB, VmFlags as a list). */
export function smapsAt(address: bigint): { fields: Record<string, number>; vmFlags: string[] } | null {
  const lines = fs.readFileSync('/proc/self/smaps', 'utf8').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const header = /^([0-9a-f]+)-([0-9a-f]+) /.exec(lines[i]);
    if (!header) continue;
    const start = BigInt(`0x${header[1]}`);
    const end = BigInt(`0x${header[2]}`);
    if (address < start || address >= end) continue;
    const fields: Record<string, number> = {};
    let vmFlags: string[] = [];
    for (let j = i + 1; j < lines.length && !/^[0-9a-f]+-/.test(lines[j]); j++) {
      const field = /^(\w+):\s+(\d+) kB$/.exec(lines[j]);
      if (field) fields[field[1]] = Number(field[2]);
      if (lines[j].startsWith('VmFlags:')) vmFlags = lines[j].slice(8).trim().split(/\s+/);
    }
    return { fields, vmFlags };
  }
  return null;
}

/** KiB of the process's areas that carry VmFlag `flag` (for example `lo`, locked). */
export function kibWithVmFlag(flag: string): number {
  let total = 0;
  let size = 0;
  for (const line of fs.readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
    const field = /^Size:\s+(\d+) kB$/.exec(line);
    if (field) size = Number(field[1]);
    if (line.startsWith('VmFlags:') && line.slice(8).trim().split(/\s+/).includes(flag)) total += size;
  }
  return total;
}

/** How many areas the process has mapped (on Windows: regions that are not free, reserved ones too). */
export function mapCount(): number {
  if (isWindows) return windowsFacts().addressSpace().regions;
  return fs.readFileSync('/proc/self/maps', 'utf8').trim().split('\n').length;
}

/**
 * Whether `run` leaves the process's map count as it found it. V8 maps and
 * unmaps its own heap pages, and finalizers of earlier tests unmap theirs, so
 * the collector settles first and the whole run is tried again (three times, eight under an emulator): a
 * real leak changes the count every time.
 */
export async function leavesMapCount(run: () => void): Promise<boolean> {
  // Under an emulator V8's compiler threads run slowly enough to change their
  // own areas during most runs (seen under qemu-user on a loaded machine), and
  // under a sanitizer its runtime maps and unmaps its own (seen: three tries
  // in a row moved for safety.test.ts's bad-input sweep under ASan).
  const attempts = emulator || sanitizer ? 8 : 3;
  for (let attempt = 0; attempt < attempts; attempt++) {
    await collectUntil(() => false, 3);
    const before = mapCount();
    run();
    if (mapCount() === before) return true;
  }
  return false;
}

/**
 * A process id no process can have: above Linux's largest pid_max (2^22) and
 * a multiple of 4, as Windows pids are.
 */
export const NO_SUCH_PID = 0x7ffffffc;

/** Open file descriptors of this process. */
export function fdCount(): number {
  return fs.readdirSync('/proc/self/fd').length;
}

/** Resident set size in bytes, from the kernel. */
export function rss(): number {
  return process.memoryUsage.rss();
}

/** A temporary file of `size` bytes (zeros unless `bytes` says otherwise at the start). */
export function tempFile(size: number, bytes: ArrayLike<number> = []): { path: string; fd: number; close(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memmap-'));
  const file = path.join(dir, 'data');
  const fd = fs.openSync(file, 'w+');
  fs.ftruncateSync(fd, size);
  if (bytes.length) fs.writeSync(fd, Buffer.from(Array.from(bytes)), 0, bytes.length, 0);
  return {
    path: file,
    fd,
    close() {
      fs.closeSync(fd);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs the collector until `done()` holds, yielding so finalizers (which run on a later tick) get to run. */
export async function collectUntil(done: () => boolean, rounds = 50): Promise<boolean> {
  for (let i = 0; i < rounds && !done(); i++) {
    (globalThis as { gc?: () => void }).gc?.();
    await new Promise((resolve) => setImmediate(resolve));
  }
  return done();
}

/**
 * The built package (`npm run build:ts`) that child processes and workers
 * load: their scripts are plain JavaScript, which cannot import `src/` as the
 * tests do.
 */
export const builtPackage = require.resolve('..');

/** What every child and worker script starts with: `memmap` and the classes scripts name most. */
const loadMemmap = `const memmap = require(${JSON.stringify(builtPackage)});
const { MmapOptions, MmapError, RingQueue } = memmap;
`;

/** How a child process ended, and what it wrote. */
export interface ChildOutput {
  /** Its exit code; null when a signal ended it. */
  code: number | null;
  /** The signal that ended it (a crash, a kill, or its `timeout`), or null. */
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Milliseconds from its spawn to its end, its own start included (seconds under an emulator). */
  ms: number;
}

/** A running child process, and its output once it has ended and closed its pipes. */
export type Child = ChildProcess & { output: Promise<ChildOutput> };

/**
 * Runs `script` in a child Node process (in the repository, with this
 * process's environment) with `memmap` (the built package), `MmapOptions`,
 * `MmapError` and `RingQueue` in scope. Whatever could kill a process runs
 * there: a crash shows as a signal in its output.
 *
 * Its stdin, stdout and stderr are pipes; `stdio` gives it descriptors from 3
 * on (a shared memory object's `fd`, say). A child still running after
 * `timeout` ms (default: no limit) is killed with SIGTERM, for scripts that
 * might hang; under an emulator the child's start alone takes seconds.
 */
export function startChild(script: string, options: { stdio?: (number | 'pipe' | 'ignore')[]; timeout?: number } = {}): Child {
  const started = performance.now();
  const child = spawn(process.execPath, ['-e', `${loadMemmap}${script}`], {
    cwd: path.join(__dirname, '..'),
    stdio: ['pipe', 'pipe', 'pipe', ...(options.stdio ?? [])],
    timeout: options.timeout,
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const output = new Promise<ChildOutput>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr, ms: performance.now() - started })),
  );
  return Object.assign(child, { output });
}

/**
 * A worker thread running `script` with `parentPort`, `workerData` and, as
 * in {@link startChild}, `memmap`, `MmapOptions`, `MmapError` and `RingQueue`
 * in scope.
 */
export function startWorker(script: string, workerData: unknown): Worker {
  return new Worker(`const { parentPort, workerData } = require('node:worker_threads');\n${loadMemmap}${script}`, {
    eval: true,
    workerData,
  });
}

/** The next message `worker` posts; rejects with what it throws if that comes first. */
export function nextMessage(worker: Worker): Promise<unknown> {
  return new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
}

/** The exit code of `worker`, once it has exited. */
export function exitCodeOf(worker: Worker): Promise<number> {
  return new Promise((resolve) => worker.once('exit', resolve));
}

/** The code of the MmapError `run` throws (any other error is thrown on, failing the test); undefined if it returns. */
export function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    if (!(error instanceof MmapError)) throw error;
    return error.code;
  }
  return undefined;
}
