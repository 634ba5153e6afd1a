// `memmap areas` as text: the default table with totals by kind, or with -x
// pmap -x's columns and its "total kB" line.
'use strict';

const { humanSize } = require('./human-size');

// pmap's header: "<pid>:   <command line>".
function headerOf(report) {
  return `${report.pid}:   ${report.commandLine ?? '(unknown command line)'}`;
}

// Every address of a table is as wide as its widest, and at least 8 digits.
function addressFormatter(areas) {
  const width = Math.max(8, ...areas.map((area) => area.end.toString(16).length));
  return { width, format: (value) => value.toString(16).padStart(width, '0') };
}

function defaultTable(report) {
  const address = addressFormatter(report.areas);
  const lines = [headerOf(report)];
  lines.push(`${'START-END'.padEnd(2 * address.width + 1)} ${'SIZE'.padStart(6)} PERM ${'OFFSET'.padEnd(8)} PATH`);
  for (const area of report.areas) {
    const offset = area.fileOffset === null ? '-' : area.fileOffset.toString(16).padStart(8, '0');
    lines.push(
      `${address.format(area.start)}-${address.format(area.end)} ${humanSize(area.size).padStart(6)} ` +
        `${area.permissions} ${offset.padEnd(8)} ${area.path ?? ''}`.trimEnd(),
    );
  }
  lines.push('', `${'KIND'.padEnd(10)} ${'AREAS'.padStart(6)} ${'SIZE'.padStart(7)}`);
  for (const [kind, { areas, size }] of Object.entries(report.totalsByKind)) {
    if (areas > 0) lines.push(`${kind.padEnd(10)} ${String(areas).padStart(6)} ${humanSize(size).padStart(7)}`);
  }
  lines.push(`${'total'.padEnd(10)} ${String(report.total.areas).padStart(6)} ${humanSize(report.total.size).padStart(7)}`);
  return lines;
}

// Sizes in whole KiB, as pmap -x prints them (areas are whole pages, so
// nothing is lost); "-" where the figure is unknown.
function kib(bytes) {
  return bytes === null ? '-' : String(bytes / 1024n);
}

function extendedTable(report) {
  const address = addressFormatter(report.areas);
  const rows = report.areas.map((area) => ({
    address: address.format(area.start),
    numbers: [kib(area.size), kib(area.usage?.rss ?? null), kib(area.usage?.dirty ?? null), kib(area.usage?.swap ?? null)],
    mode: area.permissions,
    mapping: area.path ?? '[ anon ]',
  }));
  const { size, rss, dirty, swap } = report.total;
  const totals = [kib(size), kib(rss), kib(dirty), kib(swap)];
  const titles = ['Kbytes', 'RSS', 'Dirty', 'Swap'];
  // pmap's columns are 7 wide; wider only for a number that needs it.
  const widths = titles.map((_, column) =>
    Math.max(7, ...[totals, ...rows.map((row) => row.numbers)].map((numbers) => numbers[column].length)),
  );
  const numbers = (values) => values.map((value, column) => value.padStart(widths[column])).join(' ');
  const lines = [headerOf(report), `${'Address'.padEnd(address.width)} ${numbers(titles)} Mode Mapping`];
  for (const row of rows) lines.push(`${row.address} ${numbers(row.numbers)} ${row.mode} ${row.mapping}`);
  lines.push([address.width, ...widths].map((width) => '-'.repeat(width)).join(' '));
  lines.push(`${'total kB'.padEnd(address.width)} ${numbers(totals)}`);
  return lines;
}

/** One process's block of `memmap areas` output, ending in a newline. */
function areasText(report) {
  return (report.extended ? extendedTable(report) : defaultTable(report)).join('\n') + '\n';
}

module.exports = { areasText };
