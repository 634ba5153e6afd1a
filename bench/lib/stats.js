'use strict';
/** Medians, spreads and same-round ratios of the samples of one case. */

function median(values) {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** The range of the samples relative to their median. */
function spread(values) {
  if (values.length < 2) return 0;
  return (Math.max(...values) - Math.min(...values)) / median(values);
}

/**
 * Memmap's value divided by the other's value, round by round: contenders ran
 * back to back, so a slow moment of the machine weighs on both sides of each
 * ratio. A round either side lacks (a hole while running, null once read
 * back from the results file) is left out.
 */
function roundRatios(mine, theirs) {
  const ratios = [];
  for (let round = 0; round < Math.min(mine.length, theirs.length); round++) {
    if (Number.isFinite(mine[round]) && Number.isFinite(theirs[round]) && theirs[round] > 0) {
      ratios.push(mine[round] / theirs[round]);
    }
  }
  return ratios;
}

/** The median over rounds of the same-round ratios. */
function pairedRatio(mine, theirs) {
  return median(roundRatios(mine, theirs));
}

module.exports = { median, spread, roundRatios, pairedRatio };
