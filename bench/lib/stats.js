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
 * The median over rounds of memmap's value divided by the other's value in
 * the same round: contenders ran back to back, so a slow moment of the
 * machine weighs on both sides of each ratio.
 */
function pairedRatio(mine, theirs) {
  const ratios = [];
  for (let round = 0; round < Math.min(mine.length, theirs.length); round++) {
    if (mine[round] !== undefined && theirs[round] !== undefined && theirs[round] > 0) {
      ratios.push(mine[round] / theirs[round]);
    }
  }
  return median(ratios);
}

module.exports = { median, spread, pairedRatio };
