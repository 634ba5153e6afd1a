#!/usr/bin/env node
// Prints what binding.gyp lists for a target OS, one item a line, so that the
// hand-written cross builds compile exactly what node-gyp would:
//   node scripts/cross/gyp.js sources|defines <gyp OS: linux, win, mac, ...>
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const [what, os] = process.argv.slice(2);
if (!['sources', 'defines'].includes(what) || !os) {
  console.error('usage: gyp.js sources|defines <OS>');
  process.exit(2);
}
const gyp = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'binding.gyp'), 'utf8'));
const [target] = gyp.targets;
const items = [...(target[what] ?? [])];
for (const [condition, settings] of target.conditions ?? []) {
  if (condition === `OS=='${os}'`) items.push(...(settings[what] ?? []));
}
process.stdout.write(items.join('\n') + '\n');
