// Runs every example in turn (`npm run demo`) and fails if any of them does.
'use strict';

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

// The counter keeps its count in this file (examples/counter.js). The demo
// starts it from zero, whatever an earlier demo left there.
const COUNTER_FILE = path.join(os.tmpdir(), 'memmap-counter.bin');

const EXAMPLES = [
  { file: 'counter.js', note: 'a new count: run number 1' },
  { file: 'counter.js', note: 'again: the count went on in the file' },
  { file: 'shared-counter.js', note: 'two processes at once, one shared mapping' },
  { file: 'sparse.js' },
  { file: 'jit.js' },
  { file: 'areas.js' },
];

fs.rmSync(COUNTER_FILE, { force: true });

const failed = [];
for (const { file, note } of EXAMPLES) {
  console.log(`\n$ node examples/${file}${note ? `    # ${note}` : ''}`);
  const { status, signal, error } = spawnSync(process.execPath, [path.join(__dirname, file)], { stdio: 'inherit' });
  if (status !== 0) failed.push(`${file} (${error?.message ?? (signal ? `signal ${signal}` : `exit code ${status}`)})`);
}

if (failed.length > 0) {
  console.error(`\ndemo: ${failed.length} example(s) failed: ${failed.join(', ')}`);
  process.exitCode = 1;
} else {
  console.log(`\ndemo: all ${EXAMPLES.length} runs succeeded`);
}
