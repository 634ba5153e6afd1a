// What `memmap areas` says when the areas of a process cannot be read: the
// process is gone, or the system will not show them.
'use strict';

const fs = require('node:fs');
const { MmapError } = require('../dist');

// capabilities(7): CAP_SYS_PTRACE is bit 19 of the capability sets.
const CAP_SYS_PTRACE = 19n;

function readOrNull(file) {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

// Why a Linux kernel refuses root: reading /proc/<pid>/maps or smaps passes
// the ptrace access check ("ptrace access mode" in ptrace(2)), not only the
// file's permissions, and root's uid alone does not satisfy it.
function linuxReasons() {
  const status = readOrNull('/proc/self/status');
  const capabilities = status === null ? null : /^CapEff:\s*([0-9a-f]+)$/m.exec(status);
  const scope = readOrNull('/proc/sys/kernel/yama/ptrace_scope');
  const facts = [];
  if (capabilities !== null) {
    const hasPtrace = (BigInt(`0x${capabilities[1]}`) >> CAP_SYS_PTRACE) & 1n;
    facts.push(`memmap ${hasPtrace ? 'has' : 'lacks'} CAP_SYS_PTRACE`);
  }
  facts.push(scope === null ? 'there is no Yama (no kernel.yama.ptrace_scope)' : `kernel.yama.ptrace_scope is ${scope.trim()}`);
  return [
    'Being root is not enough: the kernel lets a process read another one\'s memory map only if',
    'it passes the ptrace access check, which refuses even root when',
    '  - memmap lacks CAP_SYS_PTRACE (container runtimes drop it) and the process belongs to',
    '    another user or has made itself non-dumpable;',
    '  - Yama forbids it (kernel.yama.ptrace_scope 3 refuses everyone);',
    '  - the process lives outside memmap\'s user namespace (memmap runs in a container or',
    '    user namespace, the process on its host);',
    '  - a security module (AppArmor, SELinux) denies it.',
    `Here ${facts.join('; ')}.`,
  ];
}

function rootRefusalReasons() {
  if (process.platform === 'linux') return linuxReasons();
  if (process.platform === 'darwin') {
    return [
      'Being root is not enough: System Integrity Protection and the hardened runtime keep the',
      'task port (task_for_pid) of Apple\'s binaries, and of signed programs that do not allow',
      'debugging, even from root.',
    ];
  }
  return ['Being root is not enough: a jail or a security policy of the system can refuse even root.'];
}

/**
 * The message for `error`, thrown while reading process `pid` (memmap
 * itself when undefined). Anything but an error of the system or of memmap
 * is a bug and is thrown on.
 */
function readFailureMessage(error, pid) {
  const systemError = error instanceof MmapError || (error instanceof Error && typeof error.syscall === 'string');
  if (!systemError) throw error;
  const whose = pid === undefined ? 'memmap itself' : `process ${pid}`;
  // ENOENT: /proc/<pid> vanished between the reads of maps and smaps.
  if (error.code === 'ESRCH' || error.code === 'ENOENT') return `memmap areas: no process with pid ${pid}\n`;
  if (error.code !== 'EPERM' && error.code !== 'EACCES') return `memmap areas: ${error.message}\n`;
  if (process.geteuid?.() === 0) {
    const lines = [`memmap areas: the kernel refused to show root the memory areas of ${whose} (${error.code}).`];
    return [...lines, ...rootRefusalReasons()].join('\n') + '\n';
  }
  return (
    `memmap areas: not permitted to read the memory areas of ${whose} (${error.code}); ` +
    'run memmap as the same user as the process, or with administrator rights\n'
  );
}

module.exports = { readFailureMessage };
