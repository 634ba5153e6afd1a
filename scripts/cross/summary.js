#!/usr/bin/env node
// Reads a vitest JSON report and prints, for one target, every skipped test
// (its title carries the reason), every failure, and then the counts line
//   <target>: N passed, N failed, N skipped
// Exits 1 if anything failed or the report is missing (vitest did not finish).
//   node summary.js <target> <report.json>
'use strict';
const fs = require('node:fs');

const [target, file] = process.argv.slice(2);
let report;
try {
  report = JSON.parse(fs.readFileSync(file, 'utf8'));
} catch (error) {
  console.log(`${target}: no test report (${error.message}): vitest did not finish`);
  process.exit(1);
}
const counts = { passed: 0, failed: 0, skipped: 0 };
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
      const reason = (test.failureMessages[0] ?? '').split('\n')[0];
      console.log(`${target}: FAILED ${where} > ${test.fullName}: ${reason}`);
    } else {
      counts.skipped += 1;
      console.log(`${target}: skipped ${where} > ${test.fullName}`);
    }
  }
}
console.log(`${target}: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`);
process.exit(counts.failed > 0 || !report.success ? 1 : 0);
