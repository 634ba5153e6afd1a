// The help texts: `memmap help [command]`, `memmap --help`, `<command> --help`,
// and the help printed after a usage error.
'use strict';

const HELP = {
  memmap: `Usage: memmap <command> [options] [--] [arguments]

Commands:
  areas [-x] [--json] [pid...]   the memory areas of processes (a cross-platform pmap)
  page-sizes [--json]            the page sizes of this system
  help [command]                 this help, or a command's

  --version   print memmap's version
  --help      this help

"--" ends a command's options. Run "memmap help <command>" for its details.
`,
  areas: `Usage: memmap areas [-x] [--json] [--] [pid...]

Lists the memory areas of each process <pid> (of memmap itself without one).
Each process's block begins with "<pid>:   <command line>", as pmap's does,
then has one line per area: address range, size, protection (r, w, x, then
p for private or s for shared), file offset and path; then the totals by
kind: file, anonymous, heap, stack and other (pseudo areas such as [vdso]).
A blank line separates the blocks of several processes.

  -x, --extended  pmap -x's layout: Address, Kbytes, RSS, Dirty and Swap (in
                  KiB), Mode (the protection as above) and Mapping (the path,
                  or "[ anon ]"), then a "total kB" line. RSS, Dirty and Swap
                  come from /proc/<pid>/smaps on Linux; on macOS, FreeBSD and
                  Windows memmap cannot tell them and prints "-".
  --json          print {pid, commandLine, areas, totals, total} as JSON, an
                  array of them for several pids. Sizes, file offsets and
                  (with -x) rss, dirty and swap are numbers of bytes, or
                  decimal strings above 2^53 - 1, where numbers lose digits;
                  addresses are hex strings ("0x7f..."); "permissions" is the
                  r-xp text of the "protection" bits.
  -h, --help      this help

The command line is read from /proc/<pid>/cmdline on Linux and from ps on
macOS and FreeBSD; Windows shows memmap's own only ("(unknown command line)"
for other processes, null in JSON).

Exit status: 0 when every process was read; 1 when one could not be (its
error goes to stderr and the others are still listed); 2 for a usage error.
`,
  'page-sizes': `Usage: memmap page-sizes [--json]

Prints the base page size, the allocation granularity (the alignment of
mapping addresses and file offsets) and each huge page size with how many
pages of it are free.

  --json   print {basePage, allocationGranularity, hugePages: [{size, free}]}
           as JSON (free is null where the system does not say)
`,
};

module.exports = { HELP };
