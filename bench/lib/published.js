'use strict';
/**
 * The goal that no case gets slower than in the last published run: the
 * results file as it was before this run, the one docs/benchmarks.md shows.
 * Runs are not interleaved with the published one, and this VM's speed
 * drifts between sessions (its syscalls cost half as much again on some
 * days), so memmap is compared through a contender both runs measured in
 * the same rounds as memmap: the Node-API floor (same runtime, same
 * process start), else C, else the case's own reference (memmap / reference
 * now, against memmap / reference then).
 * Only a case with none compares medians.
 */
const fs = require('node:fs');

/** The published results by case id (none when there is no results file yet). */
function readPublished(file) {
  if (!fs.existsSync(file)) return new Map();
  const { cases } = JSON.parse(fs.readFileSync(file, 'utf8'));
  return new Map(cases.map((result) => [result.id, result]));
}

const REFERENCE_ROLES = ['floor', 'c', 'reference'];

/** The floor, C or another reference row that both runs measured, in that order of preference. */
function sharedReference(result, before) {
  const rank = (row) => REFERENCE_ROLES.indexOf(row.role);
  const candidates = result.contenders.filter((row) => rank(row) >= 0).sort((a, b) => rank(a) - rank(b));
  for (const row of candidates) {
    if (!(row.ratio > 0)) continue;
    const then = before.contenders.find((earlier) => earlier.name === row.name);
    if (then?.ratio > 0) return { label: row.label, now: row.ratio, then: then.ratio };
  }
  return undefined;
}

/**
 * The target "no slower than published" of one case, or undefined when the
 * published run has nothing to compare with: no such case, memmap did not
 * run there, or it did other work (other sizes, as with --quick).
 */
function publishedTarget(result, before) {
  if (before === undefined || JSON.stringify(before.work) !== JSON.stringify(result.work)) return undefined;
  const then = before.contenders.find((row) => row.role === 'memmap');
  const now = result.contenders.find((row) => row.role === 'memmap');
  if (!then?.ok || !(then.median > 0)) return undefined;
  const published = `no slower than the published run of ${before.run.date.slice(0, 10)}`;
  const reference = sharedReference(result, before);
  const [text, ratio] =
    reference === undefined
      ? [`${published}, median to median`, now.ok ? now.median / then.median : undefined]
      : [`${published}, relative to ${reference.label}`, now.ok ? reference.now / reference.then : undefined];
  return { text, vs: 'published', max: 1, ratio, met: ratio === undefined ? undefined : ratio <= 1 };
}

module.exports = { readPublished, publishedTarget };
