// What /proc/<pid>/maps does not say about an area: how much of it is
// resident, dirty and swapped out. Linux lists these per area in
// /proc/<pid>/smaps (proc(5)); other systems return null from areaUsageOf.
'use strict';

const fs = require('node:fs');

/** The key under which areaUsageOf files the area [start, end). */
function areaKey(start, end) {
  return `${start}-${end}`;
}

/**
 * The usage of each area of process `pid`, by {@link areaKey}: { rss, dirty,
 * swap } in bytes (bigints), or null where the system offers no smaps.
 * Reading smaps needs the same permission as reading maps; a failure throws
 * the fs error (ENOENT once the process has exited).
 */
function areaUsageOf(pid) {
  if (process.platform !== 'linux') return null;
  const usage = new Map();
  let area = null;
  for (const line of fs.readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    // Each area begins with its maps line; its fields follow as "Name:  <n> kB".
    const header = /^([0-9a-f]+)-([0-9a-f]+) /.exec(line);
    if (header !== null) {
      area = { rss: 0n, dirty: 0n, swap: 0n };
      usage.set(areaKey(BigInt(`0x${header[1]}`), BigInt(`0x${header[2]}`)), area);
      continue;
    }
    const field = /^(\w+):\s+(\d+) kB$/.exec(line);
    if (area === null || field === null) continue;
    const bytes = BigInt(field[2]) * 1024n;
    if (field[1] === 'Rss') area.rss = bytes;
    // Dirty pages are counted apart by whether another process maps them too.
    else if (field[1] === 'Shared_Dirty' || field[1] === 'Private_Dirty') area.dirty += bytes;
    else if (field[1] === 'Swap') area.swap = bytes;
  }
  return usage;
}

module.exports = { areaKey, areaUsageOf };
