#!/usr/bin/env node
// memmap: the memory areas of processes (a cross-platform pmap), and the page
// sizes of this system. This file picks the command and turns its outcome
// into an exit status.
'use strict';

const { version } = require('../package.json');
const { parseArguments, refusePositionalsBeyond, UsageError } = require('./arguments');
const { HELP } = require('./help');
const { areasCommand } = require('./areas-command');
const { pageSizesCommand } = require('./page-sizes-command');

const EXIT_FAILED = 1;
const EXIT_USAGE = 2;

function helpCommand(args, io) {
  const { options, positionals } = parseArguments('help', args);
  refusePositionalsBeyond('help', positionals, 1);
  const [topic] = positionals;
  if (options.help || topic === undefined || topic === 'help') io.out(HELP.memmap);
  else if (Object.hasOwn(HELP, topic) && topic !== 'memmap') io.out(HELP[topic]);
  else throw new UsageError(`memmap help: unknown command ${JSON.stringify(topic)}`);
  return true;
}

function versionCommand(args, io) {
  refusePositionalsBeyond('--version', args, 0);
  io.out(`memmap ${version}\n`);
  return true;
}

const COMMANDS = {
  areas: areasCommand,
  'page-sizes': pageSizesCommand,
  help: helpCommand,
  '--help': helpCommand,
  '-h': helpCommand,
  '--version': versionCommand,
};

/** Runs the command line `argv` (without node and this script) through `io`; returns the exit status. */
function main(argv, io) {
  const [command, ...args] = argv;
  try {
    if (command === undefined) throw new UsageError('memmap: missing command');
    if (!Object.hasOwn(COMMANDS, command)) throw new UsageError(`memmap: unknown command ${JSON.stringify(command)}`);
    return COMMANDS[command](args, io) ? 0 : EXIT_FAILED;
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.err(`${error.message}\n\n${Object.hasOwn(HELP, command) ? HELP[command] : HELP.memmap}`);
    return EXIT_USAGE;
  }
}

// Piped into `head`, the rest of the output is simply not wanted.
process.stdout.on('error', (error) => {
  if (error.code !== 'EPIPE') throw error;
});

process.exitCode = main(process.argv.slice(2), {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
});
