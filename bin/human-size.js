// Sizes for people: 4096 -> "4K", 1572864 -> "1.5M", 31457280 -> "30M".
'use strict';

const UNITS = ['B', 'K', 'M', 'G', 'T', 'P', 'E'];

// One decimal below 10 (where it tells 1.5M from 1M), none above.
function humanSize(bytes) {
  let value = Number(bytes);
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const digits = value < 10 && !Number.isInteger(value) ? 1 : 0;
  return `${value.toFixed(digits)}${UNITS[unit]}`;
}

module.exports = { humanSize };
