#!/usr/bin/env node
// The end of `npm run test:cross`: reads the seconds each target took to build
// (prebuild.sh's PREBUILD_TIMES file: target, seconds) and the rows run.sh
// wrote, one per run (target, what ran, vitest JSON report or "-", seconds,
// exit status; tab-separated), prints every skipped test of each report (its
// title carries the reason) and every failure, then one table:
//   target | how | passed | failed | skipped | build s | run s | result
// A target built but never run is listed as compiled and linked only.
// Exits 1 if any run failed or a report is missing (vitest did not finish).
//   node summary.js <build-times.tsv> <rows.tsv>
'use strict';
const fs = require('node:fs');

function countReport(target, file) {
  let report;
  try {
    report = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    console.log(`${target}: no test report (${error.message}): vitest did not finish`);
    return null;
  }
  const counts = { passed: 0, failed: 0, skipped: 0, success: report.success };
  for (const suite of report.testResults) {
    const where = suite.name.replace(/\\/g, '/').replace(/^.*?\/(test\/)/, '$1');
    if (suite.status === 'failed' && suite.assertionResults.length === 0) {
      counts.failed += 1;
      console.log(`${target}: FAILED TO RUN ${where}: ${suite.message.split('\n')[0]}`);
    }
    for (const test of suite.assertionResults) {
      if (test.status === 'passed') {
        counts.passed += 1;
      } else if (test.status === 'failed') {
        counts.failed += 1;
        console.log(`${target}: FAILED ${where} > ${test.fullName}: ${(test.failureMessages[0] ?? '').split('\n')[0]}`);
      } else {
        counts.skipped += 1;
        console.log(`${target}: skipped ${where} > ${test.fullName}`);
      }
    }
  }
  return counts;
}

const readTsv = (file) => fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((line) => line.split('\t'));
const buildSeconds = new Map(readTsv(process.argv[2]));
const rows = readTsv(process.argv[3]);
for (const target of buildSeconds.keys()) {
  if (!rows.some(([ran]) => ran === target)) rows.push([target, 'compiled and linked only', '-', '-', '0']);
}
const table = [['target', 'how', 'passed', 'failed', 'skipped', 'build s', 'run s', 'result']];
let failed = false;
for (const [target, how, report, seconds, status] of rows) {
  const counts = report === '-' ? null : countReport(target, report);
  const ok = status === '0' && (report === '-' || (counts !== null && counts.failed === 0 && counts.success));
  failed ||= !ok;
  const cell = (value) => (counts ? String(value) : '-');
  table.push([target, how, cell(counts?.passed), cell(counts?.failed), cell(counts?.skipped), buildSeconds.get(target) ?? '-', seconds,
    !ok ? 'FAILED' : report === '-' && seconds === '-' ? 'built' : 'ok']);
}
const widths = table[0].map((_, column) => Math.max(...table.map((row) => row[column].length)));
console.log('');
for (const [index, row] of table.entries()) {
  console.log(`| ${row.map((value, column) => value.padEnd(widths[column])).join(' | ')} |`);
  if (index === 0) console.log(`| ${widths.map((width) => '-'.repeat(width)).join(' | ')} |`);
}
process.exit(failed ? 1 : 0);
