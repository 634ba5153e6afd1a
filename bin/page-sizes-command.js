// `memmap page-sizes [--json]`: the page sizes of this system.
'use strict';

const { MmapOptions } = require('../dist');
const { HELP } = require('./help');
const { parseArguments, refusePositionalsBeyond } = require('./arguments');
const { humanSize } = require('./human-size');

function pageSizesCommand(args, io) {
  const { options, positionals } = parseArguments('page-sizes', args, { '--json': 'json' });
  if (options.help) {
    io.out(HELP['page-sizes']);
    return true;
  }
  refusePositionalsBeyond('page-sizes', positionals, 0);
  const basePage = MmapOptions.pageSize();
  const hugePages = MmapOptions.pageSizes()
    .filter((size) => size !== basePage)
    .map((size) => ({ size, free: MmapOptions.freeHugePages(size) }));
  const allocationGranularity = MmapOptions.allocationGranularity();
  if (options.json) {
    io.out(JSON.stringify({ basePage, allocationGranularity, hugePages }, null, 2) + '\n');
    return true;
  }
  const bytes = (size) => `${humanSize(size)} (${size} bytes)`;
  const lines = [`base page               ${bytes(basePage)}`, `allocation granularity  ${bytes(allocationGranularity)}`];
  if (hugePages.length === 0) lines.push('huge pages              none');
  hugePages.forEach(({ size, free }, index) => {
    const label = index === 0 ? 'huge pages' : '';
    lines.push(`${label.padEnd(24)}${bytes(size)}: ${free === null ? 'free count unknown' : `${free} free`}`);
  });
  io.out(lines.join('\n') + '\n');
  return true;
}

module.exports = { pageSizesCommand };
