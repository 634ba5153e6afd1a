#!/usr/bin/env node
// npm's prepack: refuses to pack unless prebuilds/ holds every target's
// prebuild (scripts/cross/toolchain.sh lists them), each built from the sources as
// they are now (prebuilds/inputs.sha256, which scripts/cross/record-inputs.js
// writes at the end of `npm run prebuild`), and nothing else: a tarball
// without a target's prebuild makes its users compile, and a stale one ships
// code that the sources no longer say.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { INPUTS, RECORD, sha256, inputsHash, prebuildTargets, readRecord } = require('./cross/prebuild-inputs');

const root = path.resolve(__dirname, '..');
const targets = prebuildTargets(root);
const record = readRecord(root);
const inputs = inputsHash(root);
const problems = [];
const rebuild = [];
for (const { target, file } of targets) {
  const where = `prebuilds/${file}`;
  const recorded = record.get(target);
  let why = null;
  if (!fs.existsSync(path.join(root, 'prebuilds', file))) why = `missing ${target}: no ${where}`;
  else if (!recorded || recorded.file !== file) why = `stale ${target}: ${RECORD} has no build of ${where} recorded`;
  else if (recorded.inputs !== inputs) why = `stale ${target}: ${where} was built from other sources than these (${INPUTS.join(', ')})`;
  else if (recorded.sha256 !== sha256(fs.readFileSync(path.join(root, 'prebuilds', file)))) {
    why = `stale ${target}: ${where} is not the file its build recorded (changed or replaced since)`;
  }
  if (why) {
    problems.push(why);
    rebuild.push(target);
  }
}
// Anything else in prebuilds/ would be packed too.
const expected = new Set([...targets.map(({ file }) => file), path.relative('prebuilds', RECORD)]);
const walk = (relative) => fs.readdirSync(path.join(root, 'prebuilds', relative), { withFileTypes: true }).flatMap((entry) => {
  const child = relative ? `${relative}/${entry.name}` : entry.name;
  return entry.isDirectory() ? walk(child) : [child];
});
for (const file of fs.existsSync(path.join(root, 'prebuilds')) ? walk('') : []) {
  if (!expected.has(file)) problems.push(`not a prebuild of any target: prebuilds/${file} (delete it)`);
}
if (problems.length) {
  console.error(`check-prebuilds: refusing to pack, prebuilds/ is not what \`npm run prebuild\` makes from these sources:\n  ${problems.join('\n  ')}`);
  if (rebuild.length) {
    console.error(`Run \`npm run prebuild\`${rebuild.length < targets.length ? ` (or only these: PREBUILD_TARGETS="${rebuild.join(' ')}" npm run prebuild)` : ''}.`);
  }
  process.exit(1);
}
console.log(`check-prebuilds: all ${targets.length} prebuilds present and built from these sources`);
