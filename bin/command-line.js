// The command line of a process, for the "<pid>:   <command line>" header
// that pmap prints above the areas.
'use strict';

const { execFileSync } = require('node:child_process');
const fs = require('node:fs');

/** The arguments of process `pid` joined by spaces, or null where memmap cannot learn them. */
function commandLineOf(pid) {
  switch (process.platform) {
    case 'linux':
      return fromProcfs(pid);
    case 'darwin':
    case 'freebsd':
      return fromPs(pid);
    default:
      // Windows keeps another process's command line in that process's own
      // memory (its PEB), which memmap does not read.
      return pid === process.pid ? [process.argv[0], ...process.execArgv, ...process.argv.slice(1)].join(' ') : null;
  }
}

// /proc/<pid>/cmdline holds the arguments, each ended by a NUL (proc(5)).
// Kernel threads and zombies have none; ps shows those by name in brackets,
// and so does memmap.
function fromProcfs(pid) {
  try {
    const args = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    if (args.at(-1) === '') args.pop();
    if (args.length > 0) return args.join(' ');
    return `[${fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trimEnd()}]`;
  } catch {
    return null; // the process has exited since its areas were read
  }
}

// macOS and FreeBSD have no procfs by default; their ps asks the kernel
// (sysctl KERN_PROCARGS2 / kern.proc.args). "args=" prints the arguments
// with no header line.
function fromPs(pid) {
  try {
    const output = execFileSync('ps', ['-o', 'args=', '-p', String(pid)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return output.trim() || null;
  } catch {
    return null; // ps exits with 1 when the process has gone
  }
}

module.exports = { commandLineOf };
