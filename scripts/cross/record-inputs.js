#!/usr/bin/env node
// Records, in prebuilds/inputs.sha256, that each named target's prebuild was
// just built from the inputs as they are now (prebuild-inputs.js says which
// and why), so that check-prebuilds.js can tell a fresh prebuild from a stale
// one. Run by scripts/prebuild.sh after every target it built:
//   node scripts/cross/record-inputs.js <target>...
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { RECORD, sha256, inputsHash, prebuildTargets, readRecord, writeRecord } = require('./prebuild-inputs');

const root = path.resolve(__dirname, '..', '..');
const names = process.argv.slice(2);
const targets = prebuildTargets(root);
if (names.length === 0) {
  console.error(`usage: record-inputs.js <target>... (${targets.map(({ target }) => target).join(' ')})`);
  process.exit(2);
}
const inputs = inputsHash(root);
const record = readRecord(root);
for (const name of names) {
  const target = targets.find(({ target }) => target === name);
  if (!target) {
    console.error(`record-inputs.js: unknown target '${name}', expected one of: ${targets.map(({ target }) => target).join(' ')}`);
    process.exit(2);
  }
  const file = path.join(root, 'prebuilds', target.file);
  if (!fs.existsSync(file)) {
    console.error(`record-inputs.js: ${name} has no prebuild at prebuilds/${target.file}: build it first`);
    process.exit(1);
  }
  record.set(name, { inputs, sha256: sha256(fs.readFileSync(file)), file: target.file });
}
writeRecord(root, record);
console.log(`recorded the inputs of ${names.join(' ')} in ${RECORD}`);
