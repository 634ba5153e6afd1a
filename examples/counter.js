// A counter that survives restarts. It lives in a file mapped shared, so
// writing the mapped bytes writes the file: run this twice and it counts on.
//
//   node examples/counter.js [file]     (default: memmap-counter.bin in the temp directory)
'use strict';

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { MmapFlags, MmapOptions } = require('..');

const file = process.argv[2] ?? path.join(os.tmpdir(), 'memmap-counter.bin');
const SIZE = 8; // one little-endian 64-bit count

// Create the file on the first run, and never map past its end: touching a
// mapped page beyond the end of a file is a crash (SIGBUS), not an error.
const fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT);
if (fs.fstatSync(fd).size < SIZE) fs.ftruncateSync(fd, SIZE);
const counter = new MmapOptions(SIZE).withFile(fd).withFlags(MmapFlags.SHARED).mapMut();
fs.closeSync(fd); // the mapping holds the file's pages; the descriptor is done

// counter.buffer is the mapped memory itself (zero copy), so this reads and
// writes the file's bytes.
const count = new DataView(counter.buffer);
const run = count.getBigUint64(0, true) + 1n;
count.setBigUint64(0, run, true);

counter.flush(); // to the file now, rather than whenever the kernel writes it back
counter.unmap();
console.log(`counter: run number ${run}, kept in ${file}`);
