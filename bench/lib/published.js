'use strict';
/**
 * The goal that no case gets slower than in the last published run: the
 * results file as it was before this run, the one docs/benchmarks.md shows.
 * Runs are not interleaved with the published one, and this VM's speed
 * drifts between sessions (its syscalls cost half as much again on some
 * days), so memmap's change is set against the machine's: the median change
 * of every reference row both runs measured (C, the Node-API floor, the
 * case's own baselines; not peers, which change with their versions). A
 * median, so that one reference's noisy run does not decide. Only a case
 * with no such row compares memmap's medians alone.
 */
const fs = require('node:fs');

const REFERENCE_ROLES = new Set(['c', 'floor', 'reference']);

/** The published results by case id (none when there is no results file yet). */
function readPublished(file) {
  if (!fs.existsSync(file)) return new Map();
  const { cases } = JSON.parse(fs.readFileSync(file, 'utf8'));
  return new Map(cases.map((result) => [result.id, result]));
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** How much slower the machine ran the case's reference rows now than then (a factor), or undefined. */
function machineChange(result, before) {
  const changes = result.contenders.flatMap((row) => {
    if (!REFERENCE_ROLES.has(row.role) || !(row.median > 0)) return [];
    const then = before.contenders.find((earlier) => earlier.name === row.name);
    return then?.median > 0 ? [row.median / then.median] : [];
  });
  return changes.length === 0 ? undefined : median(changes);
}

/**
 * The target "no slower than published" of one case, or undefined when the
 * published run has nothing to compare with: no such case, memmap did not
 * run there, or it did other work (other sizes, as with --quick).
 * `measuredNoise`: the case's own account ({ against, text }) of its noise
 * across runs, from an interleaved comparison of builds, for a miss larger
 * than one run shows; used only against the published run it was measured
 * against (its date).
 */
function publishedTarget(result, before, measuredNoise) {
  if (before === undefined || JSON.stringify(before.work) !== JSON.stringify(result.work)) return undefined;
  const then = before.contenders.find((row) => row.role === 'memmap');
  const now = result.contenders.find((row) => row.role === 'memmap');
  if (!then?.ok || !(then.median > 0)) return undefined;
  const published = `no slower than the published run of ${before.run.date.slice(0, 10)}`;
  const change = now.ok ? now.median / then.median : undefined;
  const machine = machineChange(result, before);
  const [text, ratio] =
    machine === undefined
      ? [`${published}, median to median`, change]
      : [`${published}, against the machine's change on the reference rows`, change === undefined ? undefined : change / machine];
  const met = ratio === undefined ? undefined : ratio <= 1;
  const noise = measuredNoise?.against === before.run.date ? measuredNoise.text : undefined;
  const whyMissed = met === false ? (withinScatter(ratio, now, then, change, machine) ?? noise) : undefined;
  return { text, vs: 'published', max: 1, ratio, met, whyMissed };
}

/**
 * A miss smaller than memmap's own round-to-round scatter (in this run or
 * the published one) is not a measured slowdown: says so, with the numbers.
 * A larger one gets no explanation here.
 */
function withinScatter(ratio, now, then, change, machine) {
  // This VM's rounds are often bimodal (a process runs fast or about 1.5x
  // slower throughout), so the scatter is the slowest round over the fastest.
  const range = (row) => (row.samples?.length ? Math.max(...row.samples) / Math.min(...row.samples) : 1);
  const scatter = Math.max(range(now), range(then));
  if (!(ratio < scatter)) return undefined;
  const machineText = machine === undefined ? '' : `, the reference rows by ${machine.toFixed(2)}`;
  return (
    `memmap's median changed by a factor of ${change.toFixed(2)} since the published run${machineText}; ` +
    `memmap's own rounds in one run differ by up to ${scatter.toFixed(3)}x (slowest over fastest), ` +
    `more than this ${ratio.toFixed(3)}x: within this machine's noise, not a measured slowdown.`
  );
}

module.exports = { readPublished, publishedTarget };
