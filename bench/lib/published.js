'use strict';
/**
 * The goal that no case gets slower than in the last published run: the
 * results file as it was before this run, the one docs/benchmarks.md shows.
 * Runs are not interleaved with the published one, so this compares medians,
 * not same-round ratios, and the machine's mood weighs on it.
 */
const fs = require('node:fs');

/** The published results by case id (none when there is no results file yet). */
function readPublished(file) {
  if (!fs.existsSync(file)) return new Map();
  const { cases } = JSON.parse(fs.readFileSync(file, 'utf8'));
  return new Map(cases.map((result) => [result.id, result]));
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
  const ratio = now.ok ? now.median / then.median : undefined;
  return {
    text: `no slower than the published run of ${before.run.date.slice(0, 10)}, median to median`,
    vs: 'published',
    max: 1,
    ratio,
    met: ratio === undefined ? undefined : ratio <= 1,
  };
}

module.exports = { readPublished, publishedTarget };
