// What `memmap areas` knows about one process: its command line, its areas
// (each with its kind and, for -x, its usage) and the totals. The text and
// JSON outputs are both drawn from this report.
'use strict';

const { formatPermissions, MemoryAreas } = require('../dist');
const { commandLineOf } = require('./command-line');
const { areaKey, areaUsageOf } = require('./smaps');

// The order of the totals in both outputs.
const KINDS = ['file', 'anonymous', 'heap', 'stack', 'other'];

function kindOf(area) {
  const path = area.path;
  if (path === null || path.startsWith('[anon')) return 'anonymous'; // Linux names anonymous areas [anon:name]
  if (path === '[heap]') return 'heap';
  if (path.startsWith('[stack')) return 'stack';
  if (path.startsWith('[')) return 'other';
  return 'file';
}

// The sum of the known values, or null when none is known.
function sumOfKnown(values) {
  const known = values.filter((value) => value !== null);
  return known.length === 0 ? null : known.reduce((sum, value) => sum + value, 0n);
}

function totalOf(areas, extended) {
  const total = { areas: areas.length, size: areas.reduce((sum, area) => sum + area.size, 0n) };
  if (!extended) return total;
  for (const field of ['rss', 'dirty', 'swap']) total[field] = sumOfKnown(areas.map((area) => area.usage?.[field] ?? null));
  return total;
}

/**
 * Reads process `pid` (memmap itself when undefined). `usage` is null on
 * areas without figures: every area where the system has no smaps, and any
 * area that changed between the reads of maps and smaps.
 * Throws what MemoryAreas.open or the read of smaps throws.
 */
function readReport(pid, extended) {
  const ownPid = pid ?? process.pid;
  // Without a pid MemoryAreas asks for this process's own areas, which macOS
  // allows where task_for_pid(own pid) may need privileges.
  const osAreas = MemoryAreas.open(pid);
  const usage = extended ? areaUsageOf(ownPid) : null;
  const areas = osAreas.map((area) => ({
    ...area,
    size: area.end - area.start,
    permissions: formatPermissions(area),
    kind: kindOf(area),
    usage: usage?.get(areaKey(area.start, area.end)) ?? null,
  }));
  const totalsByKind = Object.fromEntries(
    KINDS.map((kind) => [kind, totalOf(areas.filter((area) => area.kind === kind), extended)]),
  );
  return {
    pid: ownPid,
    commandLine: commandLineOf(ownPid),
    extended,
    areas,
    totalsByKind,
    total: totalOf(areas, extended),
  };
}

module.exports = { readReport };
