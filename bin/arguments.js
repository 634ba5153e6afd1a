// Reading a command's arguments: switches, pids, and "--" to end the options.
'use strict';

// A command line memmap does not understand: main prints the message, then
// the help of the command.
class UsageError extends Error {}

const HELP_SWITCHES = { '-h': 'help', '--help': 'help' };

/**
 * Splits `args` into the switches in `switches` (spelling -> option name,
 * such as { '-x': 'extended' }; -h and --help are always known) and the
 * positionals. After "--" every argument is a positional, even one that
 * begins with "-".
 */
function parseArguments(command, args, switches = {}) {
  const known = { ...HELP_SWITCHES, ...switches };
  const options = Object.fromEntries(Object.values(known).map((name) => [name, false]));
  const positionals = [];
  let optionsEnded = false;
  for (const arg of args) {
    if (optionsEnded || !arg.startsWith('-')) positionals.push(arg);
    else if (arg === '--') optionsEnded = true;
    else if (Object.hasOwn(known, arg)) options[known[arg]] = true;
    else throw new UsageError(`memmap ${command}: unknown option ${arg}`);
  }
  return { options, positionals };
}

function refusePositionalsBeyond(command, positionals, count) {
  if (positionals.length > count) throw new UsageError(`memmap ${command}: unexpected argument ${positionals[count]}`);
}

// Process ids are unsigned 32-bit numbers on every supported system.
function parsePid(text) {
  const pid = Number(text);
  if (!/^[0-9]+$/.test(text) || pid < 1 || pid > 0xffff_ffff) {
    throw new UsageError(`memmap areas: pid must be a process id (a positive integer), got ${JSON.stringify(text)}`);
  }
  return pid;
}

module.exports = { parseArguments, parsePid, refusePositionalsBeyond, UsageError };
