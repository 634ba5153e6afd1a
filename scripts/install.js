#!/usr/bin/env node
// `npm install` entry: load a matching prebuild, else compile with node-gyp.
// node-gyp is pointed at the running Node's own headers when they are
// installed beside it, so that building never needs to download them.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const prefix = path.resolve(process.execPath, '..', '..');
if (!process.env.npm_config_nodedir && fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h'))) {
  process.env.npm_config_nodedir = prefix;
}
const bin = require.resolve('node-gyp-build/bin.js');
const result = spawnSync(process.execPath, [bin, ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(result.status ?? 1);
