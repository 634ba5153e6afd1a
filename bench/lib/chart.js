'use strict';
/**
 * The chart of a run's ratios: a vega-lite spec built from the results,
 * rendered to SVG by vega without a browser, and rasterised to PNG by resvg.
 */
const fs = require('node:fs');
const { execFileSync } = require('node:child_process');
const opentype = require('opentype.js');
const { roundRatios } = require('./stats');

const SERIES = {
  c: 'memmap ÷ C',
  peer: 'memmap ÷ its fastest peer (named on the bar)',
  floor: 'memmap ÷ the Node-API floor (a minimal addon doing the same)',
  baseline: "memmap ÷ the case's own baseline (named on the bar)",
};
const COLORS = ['#4c78a8', '#f58518', '#b279a2', '#54a24b'];

const PLOT_WIDTH = 560;
const FONT_SIZE = 11;
const LABEL_GAP = 6;
const FOOTER_LINE_HEIGHT = 15;

const formatRatio = (ratio) => `${ratio.toFixed(2)}x`;

/**
 * What the chart shows of one case: a bar per comparison that ran, and for
 * each that did not, a note in its place and the reasons as a footnote.
 */
function comparisonsOf(result) {
  const mine = result.contenders.find((row) => row.role === 'memmap');
  if (!mine.ok) {
    return { bars: [], missing: [{ series: 'c', text: 'memmap did not run', reasons: [`memmap: ${mine.reason}`] }] };
  }
  const bars = [];
  const missing = [];
  const against = (series, row, named) => {
    if (row.ok) {
      const rounds = roundRatios(mine.samples, row.samples);
      bars.push({ series, ratio: row.ratio, low: Math.min(...rounds), high: Math.max(...rounds), named });
    } else {
      missing.push({ series, text: `${row.label} did not run`, reasons: [`${row.label}: ${row.reason}`] });
    }
  };
  const c = result.contenders.find((row) => row.role === 'c');
  if (c !== undefined) against('c', c);
  const peers = result.contenders.filter((row) => row.role === 'peer');
  const fastestPeer = peers.find((row) => row.ok && row.label === result.bestPeer);
  if (fastestPeer !== undefined) against('peer', fastestPeer, fastestPeer.label);
  else if (peers.length > 0) missing.push({ series: 'peer', text: 'no peer ran', reasons: peers.map((row) => `${row.label}: ${row.reason}`) });
  const floor = result.contenders.find((row) => row.role === 'floor');
  if (floor !== undefined) against('floor', floor);
  // The case's own baseline is the reference its targets are set against.
  for (const target of result.targets) {
    const row = result.contenders.find((contender) => contender.name === target.vs);
    if (row?.role === 'reference') against('baseline', row, row.label);
  }
  if (bars.length === 0 && missing.length === 0) {
    missing.push({ series: 'c', text: 'nothing to compare with', reasons: ['the case has no C baseline, peer or target'] });
  }
  return { bars, missing };
}

/** The runs the results come from, each with the cases it measured, the largest first. */
function runsOf(report) {
  const runs = new Map();
  for (const result of report.cases) {
    const run = runs.get(result.run.date) ?? { ...result.run, cases: [] };
    run.cases.push(result);
    runs.set(result.run.date, run);
  }
  return [...runs.values()].sort((a, b) => b.cases.length - a.cases.length);
}

const describeRun = (run) => `${run.quick ? 'quick run (sizes scaled down)' : 'full run'} of ${run.date.slice(0, 10)}, ${run.rounds} rounds`;

/**
 * The system's sans-serif font, regular and bold, as fontconfig picks it. The
 * PNG is drawn in it and text is measured in it: without a canvas, vega only
 * guesses widths (0.8 em a character), which leaves wide empty margins.
 * Browsers showing the SVG fall back to their own sans-serif, which is
 * narrower than DejaVu Sans, fontconfig's usual pick, so nothing overflows.
 */
function systemSansSerif() {
  const find = (pattern) => {
    try {
      return execFileSync('fc-match', ['-f', '%{file}', pattern], { encoding: 'utf8' });
    } catch (error) {
      throw new Error(`the chart needs fontconfig's fc-match and a sans-serif font (apt-get install fontconfig fonts-dejavu-core): ${error.message}`);
    }
  };
  const load = (file) => {
    const bytes = fs.readFileSync(file);
    return opentype.parse(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  };
  const files = [find('sans-serif'), find('sans-serif:bold')];
  const [regular, bold] = files.map(load);
  return {
    family: regular.names.fontFamily.en,
    files,
    width: (text, size, weight) => (weight === 'bold' || weight >= 600 ? bold : regular).getAdvanceWidth(text, size),
  };
}

/** Splits text into lines no wider than `width` pixels, at spaces. */
function wrap(text, width, font) {
  const lines = [''];
  for (const word of text.split(' ')) {
    const line = lines.at(-1);
    if (line === '') lines[lines.length - 1] = word;
    else if (font.width(`${line} ${word}`, FONT_SIZE) <= width) lines[lines.length - 1] = `${line} ${word}`;
    else lines.push(word);
  }
  return lines;
}

/**
 * A log domain that holds every whisker, the line at 1 and, to the right of
 * each bar, its label. The right end is raised until the widest label fits:
 * a label starting at log position p ends at
 * (p − left) / (right − left) · width + its own width.
 */
function logDomain(bars, notes, font) {
  const margin = 0.1;
  const left = Math.log10(Math.min(1, ...bars.map((bar) => bar.low))) - margin;
  const labels = [
    ...bars.map((bar) => ({ at: bar.labelAt, text: bar.label })),
    ...notes.map((note) => ({ at: 1, text: note.note })),
  ];
  let right = Math.log10(Math.max(1, ...bars.map((bar) => bar.high)));
  for (const label of labels) {
    const room = 1 - (font.width(label.text, FONT_SIZE) + LABEL_GAP) / PLOT_WIDTH;
    right = Math.max(right, left + (Math.log10(label.at) - left) / room);
  }
  return [10 ** left, 10 ** (right + margin)];
}

/** Axis ticks at 1, 2 and 5 times the powers of ten inside the domain. */
function ticks([low, high]) {
  const values = [];
  for (let power = Math.floor(Math.log10(low)); power <= Math.ceil(Math.log10(high)); power++) {
    for (const step of [1, 2, 5]) {
      const value = step * 10 ** power;
      if (value >= low && value <= high) values.push(Number(value.toPrecision(1)));
    }
  }
  return values;
}

function spec(report, font) {
  const runs = runsOf(report);
  const mainRun = runs[0];
  const rows = [];
  const bars = [];
  const notes = [];
  const footnotes = [];
  for (const result of report.cases) {
    const row = `${result.number}. ${result.shortTitle}${result.run.date === mainRun.date ? '' : ` (${result.run.quick ? 'quick run' : 'other run'})`}`;
    rows.push(row);
    const { bars: caseBars, missing } = comparisonsOf(result);
    for (const bar of caseBars) {
      bars.push({
        row,
        series: SERIES[bar.series],
        ratio: bar.ratio,
        low: bar.low,
        high: bar.high,
        label: bar.named === undefined ? formatRatio(bar.ratio) : `${formatRatio(bar.ratio)} vs ${bar.named}`,
        labelAt: Math.max(1, bar.high),
      });
    }
    for (const absent of missing) {
      footnotes.push(`${footnotes.length + 1}. ${result.shortTitle}, ${absent.text}: ${absent.reasons.join('; ')}.`);
      notes.push({ row, series: SERIES[absent.series], note: `${absent.text} (note ${footnotes.length})` });
    }
  }
  const domain = logDomain(bars, notes, font);
  const otherRuns = runs.slice(1).map((run) => `Rows marked "${run.quick ? 'quick run' : 'other run'}": the ${describeRun(run)}.`);
  const { machine } = report;
  const footer = [
    ...footnotes,
    `${otherRuns.length > 0 ? 'Other rows' : 'All rows'}: the ${describeRun(mainRun)}; Node ${machine.node}, Bun ${machine.bun}, ${machine.cpu} (${machine.cores} cores).`,
    ...otherRuns,
    'Figures and every contender: docs/benchmarks.md.',
  ].flatMap((paragraph) => wrap(paragraph, PLOT_WIDTH, font));
  const x = {
    type: 'quantitative',
    scale: { type: 'log', domain, nice: false },
    axis: {
      title: '← memmap faster · memmap ÷ the other, log scale · memmap slower →',
      titleFontSize: 12,
      titleFontWeight: 'normal',
      values: ticks(domain),
      labelExpr: "datum.value + 'x'",
      labelFontSize: FONT_SIZE,
    },
  };
  const ratios = { filter: 'isValid(datum.ratio)' };
  const text = { type: 'text', align: 'left', baseline: 'middle', dx: LABEL_GAP, fontSize: FONT_SIZE };
  const whiskerEnd = { type: 'tick', color: '#222', size: 7, thickness: 1, opacity: 1 };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: 'memmap against C, its fastest peer, the Node-API floor and its own baselines',
      subtitle: [
        "Bar: the median over rounds of memmap's time ÷ the other's in the same round (for memory: its growth of the resident set).",
        'Left of 1, memmap is faster (or smaller). Whisker: the lowest to the highest round.',
      ],
      anchor: 'start',
      fontSize: 16,
      subtitleFontSize: 12,
      subtitlePadding: 6,
      offset: 12,
    },
    config: {
      font: `${font.family}, sans-serif`,
      view: { stroke: '#ddd' },
      axis: { gridColor: '#eaeaea' },
      legend: { labelFontSize: 12, labelLimit: 0, symbolType: 'square' },
    },
    vconcat: [
      {
        data: { values: [...bars, ...notes] },
        // One panel a case, as tall as the comparisons it has.
        facet: {
          row: {
            field: 'row',
            type: 'nominal',
            sort: rows,
            title: null,
            // `left` lines horizontal row labels up on their right
            // (https://github.com/vega/vega-lite/issues/5547).
            header: { labelAngle: 0, labelAlign: 'left', labelBaseline: 'middle', labelFontSize: 12, labelPadding: 10 },
          },
        },
        spacing: 5,
        resolve: { scale: { y: 'independent' } },
        spec: {
          width: PLOT_WIDTH,
          height: { step: 17 },
          encoding: { y: { field: 'series', type: 'nominal', sort: Object.values(SERIES), axis: null } },
          layer: [
            {
              // Bars grow from 1 (parity) towards the ratio: left is memmap ahead.
              transform: [ratios],
              mark: { type: 'bar', height: { band: 0.8 }, opacity: 1 },
              encoding: {
                x: { ...x, field: 'ratio' },
                x2: { datum: 1 },
                color: {
                  field: 'series',
                  type: 'nominal',
                  scale: { domain: Object.values(SERIES), range: COLORS },
                  legend: { title: null, orient: 'top', direction: 'vertical' },
                },
              },
            },
            // A bar at parity has no length; this tick still shows where its median is.
            {
              transform: [ratios],
              mark: { type: 'tick', thickness: 2, size: 12, opacity: 1 },
              encoding: { x: { ...x, field: 'ratio' }, color: { field: 'series', type: 'nominal' } },
            },
            { transform: [ratios], mark: { type: 'rule', color: '#222' }, encoding: { x: { ...x, field: 'low' }, x2: { field: 'high' } } },
            { transform: [ratios], mark: whiskerEnd, encoding: { x: { ...x, field: 'low' } } },
            { transform: [ratios], mark: whiskerEnd, encoding: { x: { ...x, field: 'high' } } },
            {
              transform: [ratios],
              mark: { ...text, color: '#222' },
              encoding: { x: { ...x, field: 'labelAt' }, text: { field: 'label' } },
            },
            {
              transform: [{ filter: 'isValid(datum.note)' }],
              mark: { ...text, fontStyle: 'italic', color: '#666' },
              encoding: { x: { ...x, datum: 1 }, text: { field: 'note' } },
            },
            {
              mark: { type: 'rule', color: '#333', strokeDash: [4, 3] },
              encoding: { x: { ...x, datum: 1 }, y: null },
            },
          ],
        },
      },
      {
        width: PLOT_WIDTH,
        height: footer.length * FOOTER_LINE_HEIGHT,
        data: { values: [{ footer }] },
        mark: { type: 'text', align: 'left', baseline: 'top', x: 0, y: 0, lineHeight: FOOTER_LINE_HEIGHT, fontSize: FONT_SIZE, color: '#444' },
        encoding: { text: { field: 'footer' } },
        view: { stroke: null },
      },
    ],
  };
}

/** The chart as SVG text, and as a PNG rendered from that SVG. */
async function renderChart(report) {
  const vega = await import('vega');
  const vegaLite = await import('vega-lite');
  const { Resvg } = require('@resvg/resvg-js');
  const font = systemSansSerif();
  // vega measures all text through textMetrics.width, which it lets callers
  // replace (vl-convert does the same); a text with a limit is cut to it.
  vega.textMetrics.width = (item, text) => {
    const width = font.width(text == null ? '' : String(text).trim(), vega.fontSize(item), item.fontWeight);
    return item.limit > 0 ? Math.min(width, item.limit) : width;
  };
  // The layers draw on the same rows, filtered apart; vega-lite cannot tell
  // and warns that it assumes just that when it sizes the panels.
  const defaultLogger = vega.logger(vega.Warn);
  const logger = Object.assign(Object.create(defaultLogger), {
    warn(...message) {
      if (!/^Detected faceted independent scales that union domain/.test(String(message[0]))) defaultLogger.warn(...message);
      return this;
    },
  });
  const view = new vega.View(vega.parse(vegaLite.compile(spec(report, font), { logger }).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  // resvg ignores its sans-serif setting when it loads the system's fonts, so
  // it is given the measured font's files alone.
  const png = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: 1.5 },
    font: { loadSystemFonts: false, fontFiles: font.files, defaultFontFamily: font.family },
  }).render().asPng();
  return { svg, png };
}

module.exports = { renderChart, runsOf, describeRun };
