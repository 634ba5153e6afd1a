// `memmap areas [-x] [--json] [pid...]`: the memory areas of processes.
'use strict';

const { HELP } = require('./help');
const { parseArguments, parsePid } = require('./arguments');
const { readReport } = require('./areas-report');
const { areasText } = require('./areas-text');
const { reportJson } = require('./areas-json');
const { readFailureMessage } = require('./read-failures');

/**
 * Runs the command, writing through `io` ({ out, err }). Returns whether
 * every process could be read: one that cannot is reported on stderr and
 * the others are still listed.
 */
function areasCommand(args, io) {
  const { options, positionals } = parseArguments('areas', args, {
    '-x': 'extended',
    '--extended': 'extended',
    '--json': 'json',
  });
  if (options.help) {
    io.out(HELP.areas);
    return true;
  }
  // Every pid is checked before any is read, so a typo prints nothing else.
  const pids = positionals.map(parsePid);
  const reports = [];
  let everyProcessRead = true;
  for (const pid of pids.length > 0 ? pids : [undefined]) {
    let report;
    try {
      report = readReport(pid, options.extended);
    } catch (error) {
      io.err(readFailureMessage(error, pid));
      everyProcessRead = false;
      continue;
    }
    // Text goes out process by process, a blank line between two blocks.
    if (!options.json) io.out((reports.length > 0 ? '\n' : '') + areasText(report));
    reports.push(report);
  }
  // One process is one JSON object; several are an array in the order of
  // their pids, without those that failed (their errors went to stderr).
  if (options.json && pids.length > 1) io.out(JSON.stringify(reports.map(reportJson), null, 2) + '\n');
  else if (options.json && reports.length === 1) io.out(JSON.stringify(reportJson(reports[0]), null, 2) + '\n');
  return everyProcessRead;
}

module.exports = { areasCommand };
