// What a prebuild is built from, and the record of which inputs each target's
// prebuild was built from (prebuilds/inputs.sha256): record-inputs.js writes
// it after `npm run prebuild`, check-prebuilds.js (npm's prepack) reads it.
// A content hash, not file times: a checkout, a rebase or a copy sets times
// without changing what a build would make, and an edit reverted is the
// same input again.
'use strict';
const { spawnSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

// Everything build.sh reads that decides what it makes: the sources and
// binding.gyp (through gyp.js), the build script and its settings
// (toolchain.sh: toolchain versions, the glibc floor, file names), and the files it
// compiles or links in. A directory stands for every file under it.
const INPUTS = [
  'native',
  'binding.gyp',
  'scripts/cross/build.sh',
  'scripts/cross/toolchain.sh',
  'scripts/cross/gyp.js',
  'scripts/cross/glibc-floor.cc',
  'scripts/cross/glibc-floor.h',
  'scripts/cross/linux-exports.map',
];
const RECORD = 'prebuilds/inputs.sha256';

function sha256(data) {
  return crypto.createHash('sha256').update(data).digest('hex');
}

/** Every input file, relative to root with '/' separators, sorted. */
function inputFiles(root) {
  const files = [];
  const visit = (relative) => {
    const stat = fs.statSync(path.join(root, relative));
    if (!stat.isDirectory()) return void files.push(relative);
    for (const name of fs.readdirSync(path.join(root, relative))) visit(`${relative}/${name}`);
  };
  for (const input of INPUTS) visit(input);
  return files.sort();
}

/** One hash of every input file's name and content. */
function inputsHash(root) {
  return sha256(inputFiles(root).map((file) => `${file}\0${sha256(fs.readFileSync(path.join(root, file)))}\n`).join(''));
}

/** [{ target, file }] for every target `npm run prebuild` builds, file relative to prebuilds/, from toolchain.sh. */
function prebuildTargets(root) {
  const child = spawnSync('bash', ['-c', '. scripts/cross/toolchain.sh && for t in $ALL_TARGETS; do echo "$t $(prebuild_path "$t")"; done'],
    { cwd: root, encoding: 'utf8' });
  if (child.status !== 0) throw new Error(`sourcing scripts/cross/toolchain.sh failed (${child.error?.message ?? `exit ${child.status}`}): ${child.stderr}`);
  return child.stdout.trim().split('\n').map((line) => {
    const [target, file] = line.split(' ');
    return { target, file };
  });
}

/** The record: Map target -> { inputs, sha256, file } (inputs hash, the prebuild's own hash, its path in prebuilds/). */
function readRecord(root) {
  const record = new Map();
  let text;
  try {
    text = fs.readFileSync(path.join(root, RECORD), 'utf8');
  } catch (error) {
    if (error.code === 'ENOENT') return record;
    throw error;
  }
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const [target, inputs, sha256OfFile, file] = line.split(/\s+/);
    record.set(target, { inputs, sha256: sha256OfFile, file });
  }
  return record;
}

function writeRecord(root, record) {
  const lines = [
    '# Which inputs each prebuild was built from: target, sha256 of the inputs',
    '# (scripts/cross/prebuild-inputs.js lists them), sha256 of the prebuild, file.',
    '# Written by scripts/cross/record-inputs.js; checked by scripts/check-prebuilds.js.',
    ...[...record].sort(([a], [b]) => a.localeCompare(b))
      .map(([target, { inputs, sha256: sha256OfFile, file }]) => `${target} ${inputs} ${sha256OfFile} ${file}`),
  ];
  fs.writeFileSync(path.join(root, RECORD), lines.join('\n') + '\n');
}

module.exports = { INPUTS, RECORD, sha256, inputFiles, inputsHash, prebuildTargets, readRecord, writeRecord };
