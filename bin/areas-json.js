// `memmap areas --json`: addresses as hex strings, sizes as numbers of bytes.
'use strict';

const LARGEST_EXACT_NUMBER = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * A byte count as JSON: a number, or a decimal string above 2^53 - 1, where
 * a JSON number (a double) would silently round it. null stays null.
 */
function jsonSize(bytes) {
  if (bytes === null) return null;
  return bytes <= LARGEST_EXACT_NUMBER ? Number(bytes) : bytes.toString();
}

// Addresses are compared and read in hex, and few fit a double anyway.
function hex(address) {
  return `0x${address.toString(16)}`;
}

function totalJson(total) {
  const json = { areas: total.areas, size: jsonSize(total.size) };
  for (const field of ['rss', 'dirty', 'swap']) if (field in total) json[field] = jsonSize(total[field]);
  return json;
}

function areaJson(area, extended) {
  const json = {
    start: hex(area.start),
    end: hex(area.end),
    size: jsonSize(area.size),
    allocationBase: hex(area.allocationBase),
    protection: area.protection,
    permissions: area.permissions,
    shareMode: area.shareMode,
    kind: area.kind,
    path: area.path,
    fileOffset: area.fileOffset === null ? null : jsonSize(area.fileOffset),
  };
  if (extended) {
    json.rss = jsonSize(area.usage?.rss ?? null);
    json.dirty = jsonSize(area.usage?.dirty ?? null);
    json.swap = jsonSize(area.usage?.swap ?? null);
  }
  return json;
}

/** A report (see areas-report.js) as a plain object for JSON.stringify. */
function reportJson(report) {
  return {
    pid: report.pid,
    commandLine: report.commandLine,
    areas: report.areas.map((area) => areaJson(area, report.extended)),
    totals: Object.fromEntries(Object.entries(report.totalsByKind).map(([kind, total]) => [kind, totalJson(total)])),
    total: totalJson(report.total),
  };
}

module.exports = { jsonSize, reportJson };
