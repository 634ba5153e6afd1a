#!/usr/bin/env node
// memmap: the memory areas of a process (a cross-platform pmap), and the page
// sizes of this system.
'use strict';

const { formatPermissions, MemoryAreas, MmapError, MmapOptions } = require('../dist');

const HELP = {
  memmap: `Usage: memmap <command> [options]

Commands:
  areas [pid] [--json]   the memory areas of a process
  page-sizes [--json]    the page sizes of this system

Run "memmap <command> --help" for a command's details.
`,
  areas: `Usage: memmap areas [pid] [--json]

Lists the memory areas of process <pid> (of memmap itself without one), one
line each: address range, size, protection (r, w, x, then p for private or s
for shared), file offset and path; then the totals by kind: file, anonymous,
heap, stack and other (pseudo areas such as [vdso]).

  --json   print {pid, areas, totals} as JSON; addresses, sizes and offsets
           are hex strings ("0x7f..."), as they do not fit a JSON number
`,
  'page-sizes': `Usage: memmap page-sizes [--json]

Prints the base page size, the allocation granularity (the alignment of
mapping addresses and file offsets) and each huge page size with how many
pages of it are free.

  --json   print {basePage, allocationGranularity, hugePages: [{size, free}]}
           as JSON (free is null where the system does not say)
`,
};

const EXIT_FAILED = 1;
const EXIT_USAGE = 2;

// A command line memmap does not understand: the message, then the help.
class UsageError extends Error {}
// An error the user can act on: its message alone is printed.
class Failure extends Error {}

function parseArguments(command, args, positionals) {
  const options = { json: false, help: false, positionals: [] };
  for (const arg of args) {
    if (arg === '--json') options.json = true;
    else if (arg === '--help' || arg === '-h') options.help = true;
    else if (arg.startsWith('-')) throw new UsageError(`memmap ${command}: unknown option ${arg}`);
    else options.positionals.push(arg);
  }
  if (options.positionals.length > positionals) {
    throw new UsageError(`memmap ${command}: unexpected argument ${options.positionals[positionals]}`);
  }
  return options;
}

function parsePid(text) {
  const pid = Number(text);
  if (!/^[0-9]+$/.test(text) || pid < 1 || pid > 0xffff_ffff) {
    throw new UsageError(`memmap areas: pid must be a process id (a positive integer), got ${JSON.stringify(text)}`);
  }
  return pid;
}

// 4096 -> "4K", 1572864 -> "1.5M", 31457280 -> "30M": one decimal below 10.
function humanSize(bytes) {
  const units = ['B', 'K', 'M', 'G', 'T', 'P', 'E'];
  let value = Number(bytes);
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const digits = value < 10 && !Number.isInteger(value) ? 1 : 0;
  return `${value.toFixed(digits)}${units[unit]}`;
}

function hex(value) {
  return `0x${value.toString(16)}`;
}

const KINDS = ['file', 'anonymous', 'heap', 'stack', 'other'];

function kindOf(area) {
  const path = area.path;
  if (path === null || path.startsWith('[anon')) return 'anonymous'; // Linux names anonymous areas [anon:name]
  if (path === '[heap]') return 'heap';
  if (path.startsWith('[stack')) return 'stack';
  if (path.startsWith('[')) return 'other';
  return 'file';
}

function totalsOf(areas) {
  const totals = Object.fromEntries(KINDS.map((kind) => [kind, { areas: 0, size: 0n }]));
  for (const area of areas) {
    const total = totals[kindOf(area)];
    total.areas += 1;
    total.size += area.end - area.start;
  }
  return totals;
}

function areasTable(pid, areas) {
  const width = Math.max(8, ...areas.map((area) => area.end.toString(16).length));
  const address = (value) => value.toString(16).padStart(width, '0');
  const lines = [`${pid === undefined ? `memmap (pid ${process.pid})` : `pid ${pid}`}: ${areas.length} areas`];
  lines.push(`${'START-END'.padEnd(2 * width + 1)} ${'SIZE'.padStart(6)} PERM ${'OFFSET'.padEnd(8)} PATH`);
  for (const area of areas) {
    const offset = area.fileOffset === null ? '-' : area.fileOffset.toString(16).padStart(8, '0');
    lines.push(
      `${address(area.start)}-${address(area.end)} ${humanSize(area.end - area.start).padStart(6)} ` +
        `${formatPermissions(area)} ${offset.padEnd(8)} ${area.path ?? ''}`.trimEnd(),
    );
  }
  const totals = totalsOf(areas);
  lines.push('', `${'KIND'.padEnd(10)} ${'AREAS'.padStart(6)} ${'SIZE'.padStart(7)}`);
  let all = 0n;
  for (const kind of KINDS) {
    const { areas: count, size } = totals[kind];
    all += size;
    if (count > 0) lines.push(`${kind.padEnd(10)} ${String(count).padStart(6)} ${humanSize(size).padStart(7)}`);
  }
  lines.push(`${'total'.padEnd(10)} ${String(areas.length).padStart(6)} ${humanSize(all).padStart(7)}`);
  return lines.join('\n') + '\n';
}

function areasJson(pid, areas) {
  const totals = totalsOf(areas);
  return (
    JSON.stringify(
      {
        pid: pid ?? process.pid,
        areas: areas.map((area) => ({
          start: hex(area.start),
          end: hex(area.end),
          size: hex(area.end - area.start),
          allocationBase: hex(area.allocationBase),
          protection: area.protection,
          permissions: formatPermissions(area),
          shareMode: area.shareMode,
          kind: kindOf(area),
          path: area.path,
          fileOffset: area.fileOffset === null ? null : hex(area.fileOffset),
        })),
        totals: Object.fromEntries(KINDS.map((kind) => [kind, { areas: totals[kind].areas, size: hex(totals[kind].size) }])),
      },
      null,
      2,
    ) + '\n'
  );
}

function areasCommand(args) {
  const options = parseArguments('areas', args, 1);
  if (options.help) return HELP.areas;
  const pid = options.positionals.length > 0 ? parsePid(options.positionals[0]) : undefined;
  let areas;
  try {
    areas = MemoryAreas.open(pid);
  } catch (error) {
    if (!(error instanceof MmapError)) throw error;
    const whose = pid === undefined ? 'memmap itself' : `process ${pid}`;
    if (error.code === 'ESRCH') throw new Failure(`memmap areas: no process with pid ${pid}`);
    if (error.code === 'EPERM' || error.code === 'EACCES') {
      throw new Failure(
        `memmap areas: not permitted to read the memory areas of ${whose} (${error.code}); ` +
          'run memmap as the same user as the process, or with administrator rights',
      );
    }
    throw new Failure(`memmap areas: ${error.message}`);
  }
  return options.json ? areasJson(pid, areas) : areasTable(pid, areas);
}

function pageSizesCommand(args) {
  const options = parseArguments('page-sizes', args, 0);
  if (options.help) return HELP['page-sizes'];
  const basePage = MmapOptions.pageSize();
  const hugePages = MmapOptions.pageSizes()
    .filter((size) => size !== basePage)
    .map((size) => ({ size, free: MmapOptions.freeHugePages(size) }));
  const allocationGranularity = MmapOptions.allocationGranularity();
  if (options.json) return JSON.stringify({ basePage, allocationGranularity, hugePages }, null, 2) + '\n';
  const bytes = (size) => `${humanSize(size)} (${size} bytes)`;
  const lines = [`base page               ${bytes(basePage)}`, `allocation granularity  ${bytes(allocationGranularity)}`];
  if (hugePages.length === 0) lines.push('huge pages              none');
  hugePages.forEach(({ size, free }, index) => {
    const label = index === 0 ? 'huge pages' : '';
    lines.push(`${label.padEnd(24)}${bytes(size)}: ${free === null ? 'free count unknown' : `${free} free`}`);
  });
  return lines.join('\n') + '\n';
}

const COMMANDS = { areas: areasCommand, 'page-sizes': pageSizesCommand };

function main(argv) {
  const [command, ...args] = argv;
  if (command === '--help' || command === '-h') return { output: HELP.memmap, status: 0 };
  try {
    if (command === undefined) throw new UsageError('memmap: missing command');
    const run = COMMANDS[command];
    if (run === undefined) throw new UsageError(`memmap: unknown command ${JSON.stringify(command)}`);
    return { output: run(args), status: 0 };
  } catch (error) {
    if (error instanceof UsageError) return { error: `${error.message}\n\n${HELP[command] ?? HELP.memmap}`, status: EXIT_USAGE };
    if (error instanceof Failure) return { error: `${error.message}\n`, status: EXIT_FAILED };
    throw error;
  }
}

// Piped into `head`, the rest of the output is simply not wanted.
process.stdout.on('error', (error) => {
  if (error.code !== 'EPIPE') throw error;
});

const result = main(process.argv.slice(2));
if (result.output) process.stdout.write(result.output);
if (result.error) process.stderr.write(result.error);
process.exitCode = result.status;
