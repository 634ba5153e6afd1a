#!/usr/bin/env node
'use strict';
/**
 * memmap's benchmarks against C, its peers (issue 7) and the Node-API floor
 * (issue 16).
 *
 *   npm run bench [-- --quick] [-- --rounds N] [-- --only id,id]
 *   npm run bench -- --chart-only
 *
 * Every measurement runs in a fresh process (Node, Bun or the C baseline),
 * contenders interleaved round by round, so ratios come from the same
 * moments of the same run. Each case is also compared with its result in
 * the results file as this run found it (the published run). Writes
 * bench/results/latest.json, docs/benchmarks.md, docs/benchmarks.svg and
 * docs/benchmarks.png. With --only, the cases run replace their earlier
 * results in latest.json and the other cases keep theirs, each case saying
 * which run it comes from.
 * --chart-only measures nothing: it redraws the chart from latest.json.
 */
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const setup = require('./lib/setup');
const { makeCases, MiB } = require('./lib/cases');
const { median, spread, pairedRatio } = require('./lib/stats');
const { readPublished, publishedTarget } = require('./lib/published');

const RESULTS_FILE = path.join(__dirname, 'results', 'latest.json');

function parseArgs(argv) {
  const options = { quick: false, rounds: 5, only: undefined, chartOnly: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--quick') options.quick = true;
    else if (arg === '--rounds') options.rounds = Number(argv[++i]);
    else if (arg === '--only') options.only = argv[++i].split(',');
    else if (arg === '--chart-only') options.chartOnly = true;
    else throw new Error(`unknown argument ${arg}; expected --quick, --rounds N, --only id,id or --chart-only`);
  }
  if (!Number.isInteger(options.rounds) || options.rounds < 1) {
    throw new Error(`--rounds must be a positive integer, got ${options.rounds}`);
  }
  return options;
}

/** Shows where the run is on one line of the terminal (or one line per step elsewhere). */
class Progress {
  #tty = process.stderr.isTTY;
  #started = Date.now();

  show(text) {
    const elapsed = ((Date.now() - this.#started) / 1000).toFixed(0);
    const line = `[${elapsed}s] ${text}`;
    if (this.#tty) process.stderr.write(`\r\x1b[K${line.slice(0, process.stderr.columns - 1)}`);
    else process.stderr.write(`${line}\n`);
  }

  done() {
    if (this.#tty) process.stderr.write('\r\x1b[K');
  }
}

/** Runs one contender once; returns its parsed JSON line. */
function measure(tools, benchCase, contender, params, timeoutSeconds) {
  const kind = contender.kind ?? benchCase.kind ?? benchCase.id;
  const json = JSON.stringify({ case: kind, contender: contender.name, ...params });
  const [command, args] = {
    node: [process.execPath, ['--expose-gc', path.join(__dirname, 'contenders', 'node.js'), json]],
    bun: [tools.bun, [path.join(__dirname, 'contenders', 'bun.js'), json]],
    c: [tools.baseline, [kind, params.variant ?? '-', params.path ?? '-', String(params.size ?? 0), String(params.count ?? params.round)]],
  }[contender.runner];
  // A contender may load another build of the addon (node-gyp-build's override).
  const env = contender.addon ? { ...process.env, MEMMAP_PREBUILD: tools.addons[contender.addon] } : process.env;
  const child = spawnSync(command, args, { encoding: 'utf8', timeout: timeoutSeconds * 1000, env });
  if (child.error) return { ok: false, reason: `${child.error.code ?? child.error.message}` };
  const line = child.stdout.trim().split('\n').pop();
  try {
    return JSON.parse(line);
  } catch {
    const how = child.signal ? `killed by ${child.signal}` : `exit code ${child.status}`;
    return { ok: false, reason: `crashed (${how}) ${child.stderr.trim().split('\n').pop() ?? ''}`.trim() };
  }
}

/** The number one sample of a case is judged by: lower is better in every case. */
function sampleValue(benchCase, result) {
  if (benchCase.metric === 'rss') return result.rssDelta;
  if (benchCase.metric === 'perOp') return result.seconds / benchCase.work.count;
  return result.seconds;
}

function runCase(tools, benchCase, files, options, progress, index, total) {
  const contenders = benchCase.contenders.map((contender) => ({
    ...contender,
    samples: [],
    results: [],
    reason: contender.unsupported,
  }));
  const reasonToSkip = files.skip?.(benchCase);
  if (reasonToSkip !== undefined) {
    for (const contender of contenders) contender.reason ??= reasonToSkip;
  }
  const path_ = benchCase.file === undefined ? undefined : files[benchCase.file](benchCase.work.size);
  for (let round = 0; round < options.rounds; round++) {
    const checksums = new Map();
    for (const contender of contenders) {
      if (contender.reason !== undefined) continue;
      progress.show(`${index}/${total} ${benchCase.id} · round ${round + 1}/${options.rounds} · ${contender.label}`);
      const params = { ...benchCase.work, variant: contender.variant ?? benchCase.work.variant, path: path_, round: round + 1 };
      const result = measure(tools, benchCase, contender, params, options.quick ? 60 : 300);
      if (!result.ok) {
        contender.reason = result.reason;
        continue;
      }
      checksums.set(contender, result.checksum);
      contender.samples[round] = sampleValue(benchCase, result);
      contender.results[round] = result;
    }
    // Every contender did the same work, so they must agree with the C baseline (or memmap).
    const reference = contenders.find((c) => c.role === 'c' && checksums.has(c)) ?? [...checksums.keys()][0];
    const expected = checksums.get(reference);
    for (const [contender, checksum] of checksums) {
      if (checksum !== expected) {
        contender.reason = `wrong result: checksum ${checksum}, expected ${expected}`;
        contender.samples = [];
      }
    }
  }
  return summarize(benchCase, contenders);
}

function summarize(benchCase, contenders) {
  const ran = (contender) => contender.reason === undefined && contender.samples.length > 0;
  const mine = contenders.find((contender) => contender.role === 'memmap');
  const rows = contenders.map((contender) => {
    const values = contender.samples.filter((value) => value !== undefined);
    const runs = contender.results.filter(Boolean);
    const extra = runs.at(-1);
    return {
      name: contender.name,
      label: contender.label,
      role: contender.role,
      ok: ran(contender),
      reason: contender.reason,
      samples: contender.samples,
      median: median(values),
      spread: spread(values),
      ratio: ran(contender) && ran(mine) && contender !== mine ? pairedRatio(mine.samples, contender.samples) : undefined,
      note: extra?.note,
      heapUsed: extra?.heapUsed,
      rss: extra?.rss,
      peakRssGrowth: median(runs.map((result) => result.peakRssGrowth).filter((value) => value !== undefined)),
      requireSeconds: median(runs.map((result) => result.requireSeconds).filter((value) => value !== undefined)),
    };
  });
  const byName = (name) => rows.find((row) => row.name === name);
  const mineRow = rows.find((row) => row.role === 'memmap');
  const peers = rows.filter((row) => row.role === 'peer' && row.ok);
  const bestPeer = peers.reduce((best, row) => (best === undefined || row.median < best.median ? row : best), undefined);
  const targets = benchCase.targets.map((target) => {
    if (target.of !== undefined) {
      const value = mineRow.ok ? mineRow[target.of] : undefined;
      return { text: target.text, of: target.of, max: target.max, value, met: value === undefined ? undefined : value <= target.max, whyMissed: target.whyMissed };
    }
    const ratio = byName(target.vs)?.ratio;
    return { text: target.text, vs: target.vs, max: target.max, ratio, met: ratio === undefined ? undefined : ratio <= target.max, whyMissed: target.whyMissed };
  });
  if (bestPeer !== undefined) {
    targets.push({ text: 'ahead of every peer', vs: bestPeer.name, max: 1, ratio: bestPeer.ratio, met: bestPeer.ratio <= 1 });
  }
  return {
    id: benchCase.id,
    number: benchCase.number,
    shortTitle: benchCase.shortTitle,
    title: benchCase.title,
    metric: benchCase.metric,
    work: benchCase.work,
    contenders: rows,
    ratioToC: byName('c')?.ratio,
    ratioToBestPeer: bestPeer?.ratio,
    bestPeer: bestPeer?.label,
    ratioToFloor: rows.find((row) => row.role === 'floor')?.ratio,
    targets,
  };
}

function machine(tools) {
  const os = require('node:os');
  const bunVersion = spawnSync(tools.bun, ['--version'], { encoding: 'utf8' }).stdout?.trim();
  const cc = spawnSync(process.env.CC ?? 'cc', ['--version'], { encoding: 'utf8' }).stdout?.split('\n')[0];
  return {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    memory: os.totalmem(),
    os: `${os.type()} ${os.release()}`,
    kernel: os.version(),
    arch: process.arch,
    node: process.version,
    bun: bunVersion || 'unavailable',
    cc,
    transparentHugePages: readOrNull('/sys/kernel/mm/transparent_hugepage/enabled'),
  };
}

function readOrNull(file) {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return null;
  }
}

/**
 * The cases just run, together with the earlier results of the cases this run
 * left out (--only), in the order of the case list.
 */
function mergeWithEarlierResults(results, caseOrder) {
  if (!fs.existsSync(RESULTS_FILE)) return results;
  const earlier = JSON.parse(fs.readFileSync(RESULTS_FILE, 'utf8')).cases;
  const byId = new Map(earlier.filter((result) => caseOrder.includes(result.id)).map((result) => [result.id, result]));
  for (const result of results) byId.set(result.id, result);
  return caseOrder.filter((id) => byId.has(id)).map((id) => byId.get(id));
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  setup.ensureDependencies();
  const { writeReport, writeChart, verdict } = require('./lib/report');
  const docsDir = path.join(setup.ROOT, 'docs');
  if (options.chartOnly) {
    const written = await writeChart(JSON.parse(fs.readFileSync(RESULTS_FILE, 'utf8')), docsDir);
    console.log(`Wrote ${written.join(', ')} from ${path.relative(process.cwd(), RESULTS_FILE)}`);
    return;
  }
  setup.checkLibraryBuilt();
  setup.compileFloorAddon();
  const tools = {
    baseline: setup.compileBaseline(),
    bun: setup.bunPath(),
    addons: { unguarded: setup.buildUnguardedAddon() },
  };
  const cases = makeCases(options.quick).filter((c) => options.only === undefined || options.only.includes(c.id));
  const dir = setup.dataDir();
  const made = [];
  const remember = (file) => (made.push(file), file);
  const hugePagesNeeded = Math.max(0, ...cases.filter((c) => c.hugePages).map((c) => c.work.size / (2 * MiB)));
  const huge = hugePagesNeeded > 0 ? setup.reserveHugePages(hugePagesNeeded) : { restore() {} };
  const files = {
    data: (size) => remember(setup.dataFile(dir, size)),
    write: (size) => remember(setup.writeFile(dir, size)),
    sparse: (size) => remember(setup.sparseFile(dir, size)),
    skip: (benchCase) => (benchCase.hugePages ? huge.reason : undefined),
  };
  const progress = new Progress();
  const results = [];
  const date = new Date().toISOString();
  const published = readPublished(RESULTS_FILE);
  try {
    for (const [index, benchCase] of cases.entries()) {
      const result = runCase(tools, benchCase, files, options, progress, index + 1, cases.length);
      const noSlower = publishedTarget(result, published.get(result.id), benchCase.publishedNoise);
      if (noSlower !== undefined) result.targets.push(noSlower);
      results.push({ ...result, run: { date, quick: options.quick, rounds: options.rounds } });
    }
  } finally {
    huge.restore();
    for (const file of new Set(made)) fs.rmSync(file, { force: true });
    progress.done();
  }
  const caseOrder = makeCases(false).map((benchCase) => benchCase.id);
  const report = {
    machine: machine(tools),
    cases: options.only === undefined ? results : mergeWithEarlierResults(results, caseOrder),
  };
  fs.mkdirSync(path.dirname(RESULTS_FILE), { recursive: true });
  fs.writeFileSync(RESULTS_FILE, `${JSON.stringify(report, null, 2)}\n`);
  const written = await writeReport(report, docsDir);
  console.log(`Wrote bench/results/latest.json, ${written.join(', ')}`);
  for (const result of results) {
    const c = result.ratioToC === undefined ? '—' : `${result.ratioToC.toFixed(2)}x C`;
    const floor = result.ratioToFloor === undefined ? '—' : `${result.ratioToFloor.toFixed(2)}x floor`;
    const peer = result.ratioToBestPeer === undefined ? '—' : `${result.ratioToBestPeer.toFixed(2)}x ${result.bestPeer}`;
    console.log(`${result.id.padEnd(18)} memmap = ${c.padEnd(10)} ${floor.padEnd(12)} ${peer}`);
    for (const target of result.targets) console.log(`${' '.repeat(18)} ${verdict(target)}`);
  }
}

main().catch((error) => {
  console.error(error.stack ?? error);
  process.exitCode = 1;
});
