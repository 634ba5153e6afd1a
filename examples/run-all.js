// Runs every example in turn (`npm run demo`) and fails if any of them does.
'use strict';

const { spawnSync } = require('node:child_process');
const path = require('node:path');

// The counter runs twice: the second run continues the first one's count.
const EXAMPLES = ['counter.js', 'counter.js', 'sparse.js', 'jit.js', 'areas.js'];

const failed = [];
for (const example of EXAMPLES) {
  console.log(`\n$ node examples/${example}`);
  const { status, signal, error } = spawnSync(process.execPath, [path.join(__dirname, example)], { stdio: 'inherit' });
  if (status !== 0) failed.push(`${example} (${error?.message ?? (signal ? `signal ${signal}` : `exit code ${status}`)})`);
}

if (failed.length > 0) {
  console.error(`\ndemo: ${failed.length} example(s) failed: ${failed.join(', ')}`);
  process.exitCode = 1;
} else {
  console.log(`\ndemo: all ${EXAMPLES.length} runs succeeded`);
}
