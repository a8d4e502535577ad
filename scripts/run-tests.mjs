#!/usr/bin/env node
// Runs the compiled test suite with mocha and ends with one plain line, `N passed, N failed, N skipped`,
// so any CI reader can tell what ran.
//
// Most of the suite's time is integration tests waiting on real processes (timeouts, failovers,
// restarts), not computing, so by default it runs test files in parallel worker processes: the
// files whose last run took longest start first (test/durations.json), and each worker takes the
// next file when it is done with one. Every test that needs a daemon starts its own (ZooKeeper,
// masters, agents) on ports no other worker is handed (testkit/ports.ts), so files do not share one.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Mocha from 'mocha';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const DURATIONS = join(ROOT, 'test', 'durations.json');
const DEFAULT_JOBS = Math.min(3, availableParallelism() + 1);

const args = process.argv.slice(2);
if (args.includes('--help')) {
  console.log(
    'Usage: node scripts/run-tests.mjs [--grep RE] [--invert] [--jobs N] [--save-durations] [compiled test files...]\n' +
      'Runs dist/test/**/*.test.js by default (build first: npm run build).\n' +
      `  --jobs N          test files run at once, each in a worker process (default ${DEFAULT_JOBS} here:\n` +
      '                    the cores plus one, at most 3; or $AGORA_TEST_JOBS). --jobs 1 runs them in\n' +
      '                    this process, one after another, in path order.\n' +
      '  --save-durations  write how long each file took to test/durations.json (commit it), so that\n' +
      '                    later runs start the longest files first.',
  );
  process.exit(0);
}
const opts = { timeout: 60_000, reporter: 'spec' };
const files = [];
let jobs = Number(process.env.AGORA_TEST_JOBS ?? DEFAULT_JOBS);
let saveDurations = false;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--grep') opts.grep = args[++i];
  else if (args[i] === '--invert') opts.invert = true;
  else if (args[i] === '--jobs') jobs = Number(args[++i]);
  else if (args[i] === '--save-durations') saveDurations = true;
  else files.push(args[i]);
}
if (!(Number.isInteger(jobs) && jobs >= 1 && jobs <= 64)) {
  console.error(`--jobs (or AGORA_TEST_JOBS) must be a whole number from 1 to 64, not ${jobs}`);
  process.exit(2);
}
function findTests(dir) {
  let out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out = out.concat(findTests(p));
    else if (e.name.endsWith('.test.js')) out.push(p);
  }
  return out;
}
const list = (files.length > 0 ? files : findTests('dist/test').sort()).map((f) => resolve(f));
if (list.length === 0) {
  console.error('no compiled tests found under dist/test: run `npm run build` first');
  process.exit(1);
}
// One worker per file at most: more would only start idle processes.
jobs = Math.min(jobs, list.length);

/** Seconds each file took last time, keyed by its path under dist/test; {} when there is no record. */
function readDurations() {
  try {
    const d = JSON.parse(readFileSync(DURATIONS, 'utf8'));
    return d && typeof d === 'object' ? d : {};
  } catch {
    return {};
  }
}
const key = (file) => relative(join(ROOT, 'dist', 'test'), file);

let timings;
let portsDir;
if (jobs > 1) {
  // Longest first, so that no long file starts last and runs on alone; a file with no record
  // (a new one) counts as long, since nothing says it is not.
  const known = readDurations();
  const unknown = Math.max(0, ...Object.values(known).filter((v) => typeof v === 'number'));
  const weight = (f) => (typeof known[key(f)] === 'number' ? known[key(f)] : unknown + 1);
  list.sort((a, b) => weight(b) - weight(a) || a.localeCompare(b));
  // Workers claim the ports they hand out here (testkit/processes.ts), so no two share one.
  portsDir = mkdtempSync(join(tmpdir(), 'agora-test-ports-'));
  process.env.AGORA_TEST_PORTS_DIR = portsDir;
  timings = join(tmpdir(), `agora-test-timings-${process.pid}.jsonl`);
  rmSync(timings, { force: true });
  process.env.AGORA_TEST_TIMINGS = timings;
  Object.assign(opts, { parallel: true, jobs, require: [join(ROOT, 'scripts', 'test-timing.mjs')] });
  console.log(`running ${list.length} test files, ${jobs} at a time (--jobs 1 for one after another)`);
}

const mocha = new Mocha(opts);
for (const f of list) mocha.addFile(f);
if (jobs === 1) await mocha.loadFilesAsync();
const runner = mocha.run((failures) => {
  const s = runner.stats ?? {};
  if (portsDir) rmSync(portsDir, { recursive: true, force: true });
  if (timings && existsSync(timings)) {
    const took = {};
    for (const line of readFileSync(timings, 'utf8').split('\n')) {
      if (!line) continue;
      const { file, ms } = JSON.parse(line);
      took[key(file)] = Math.round(ms / 100) / 10;
    }
    rmSync(timings, { force: true });
    const slowest = Object.entries(took)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 5);
    console.log(`\nslowest files: ${slowest.map(([f, s]) => `${f} ${s} s`).join(', ')}`);
    if (saveDurations) {
      const sorted = Object.fromEntries(Object.entries(took).sort((a, b) => a[0].localeCompare(b[0])));
      writeFileSync(DURATIONS, `${JSON.stringify(sorted, null, 2)}\n`);
      console.log(`wrote ${Object.keys(sorted).length} file durations to ${relative(ROOT, DURATIONS)}`);
    }
  } else if (saveDurations) {
    console.log('--save-durations needs --jobs 2 or more (the workers record the durations)');
  }
  console.log(`\n${s.passes ?? 0} passed, ${failures} failed, ${s.pending ?? 0} skipped`);
  process.exitCode = failures > 0 ? 1 : 0;
  // Leftover handles (a test's server) must not keep CI waiting.
  setTimeout(() => process.exit(process.exitCode), 2000).unref();
});
