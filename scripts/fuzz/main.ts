/**
 * `npm run fuzz` (after the build): starts a master and an agent on loopback and throws generated
 * input at every route and both WebSocket endpoints. Exit status 1 when a crash, an answer without
 * a code, or a state change after refused input was seen; 2 on a usage error.
 */
import { DEFAULTS, runFuzz, SURFACES } from './fuzz.js';
import { findingsText, resultJson, summaryTable } from './report.js';

const HELP = `Usage: node dist/scripts/fuzz/main.js [--inputs N] [--seed S] [--time-limit SECONDS] [--lanes N] [--surfaces LIST] [--json] [--no-minimise]

Starts a real master and agent (bin/agora, free loopback ports, throwaway work dirs) and sends
N generated inputs (default ${DEFAULTS.inputs}): HTTP requests to every master and agent route and
WebSocket sessions on /api/v1/agent and /api/v1/scheduler/ws. Checks that no process dies, every
refusal carries {code, message}, refused input changes no state, hostile input is refused, and
records the slowest /health answer. Prints a summary table and every distinct finding, shrunk.

  --inputs N           inputs to send (default ${DEFAULTS.inputs})
  --seed S             fast-check seed (default ${DEFAULTS.seed}); a finding's input #i replays with the same seed
  --time-limit SECONDS stop generating after this long (default ${DEFAULTS.timeLimitMs / 1000})
  --lanes N            independent clusters fuzzed side by side, seeds S, S+1, ... (default ${DEFAULTS.lanes})
  --surfaces LIST      comma-separated, among ${SURFACES.join(', ')} (default ${DEFAULTS.surfaces.join(',')}):
                       classic = master and agent routes and WebSocket; mesos = POST /api/v1/scheduler;
                       marathon = a Marathon (bin/agora marathon) on the lane's master, its /v2 API;
                       chronos = a Chronos (bin/agora chronos): /v1/scheduler/*, /scheduler/*, Metronome /v1/jobs*
  --ws-share F         share of WebSocket sessions among inputs, 0..1 (default ${DEFAULTS.wsShare})
  --no-minimise        report first inputs without shrinking them
  --shrink-time SECONDS time allowed for shrinking all findings (default ${DEFAULTS.shrinkTimeMs / 1000})
  --json               print the result as JSON instead of the table
  --quiet              no progress lines on stderr
  --help               this text`;

function fail(msg: string): never {
  console.error(`fuzz: ${msg}\n\n${HELP}`);
  process.exit(2);
}

function num(v: string | undefined, flag: string, min: number, max: number): number {
  const n = Number(v);
  if (v === undefined || !Number.isFinite(n) || n < min || n > max)
    fail(`${flag} needs a number in [${min}, ${max}], got ${v}`);
  return n;
}

const args = process.argv.slice(2);
const opts: Parameters<typeof runFuzz>[0] = {};
let json = false;
let quiet = false;
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--help' || a === '-h') {
    console.log(HELP);
    process.exit(0);
  } else if (a === '--inputs') opts.inputs = Math.floor(num(args[++i], a, 1, 10_000_000));
  else if (a === '--seed') opts.seed = Math.floor(num(args[++i], a, -(2 ** 31), 2 ** 31 - 1));
  else if (a === '--time-limit') opts.timeLimitMs = num(args[++i], a, 1, 24 * 3600) * 1000;
  else if (a === '--lanes') opts.lanes = Math.floor(num(args[++i], a, 1, 16));
  else if (a === '--ws-share') opts.wsShare = num(args[++i], a, 0, 1);
  else if (a === '--surfaces') {
    const list = (args[++i] ?? '').split(',').filter(Boolean);
    const bad = list.filter((x) => !(SURFACES as readonly string[]).includes(x));
    if (list.length === 0 || bad.length > 0) fail(`--surfaces takes a list among ${SURFACES.join(', ')}`);
    opts.surfaces = list;
  } else if (a === '--no-minimise') opts.minimise = false;
  else if (a === '--shrink-time') opts.shrinkTimeMs = num(args[++i], a, 1, 24 * 3600) * 1000;
  else if (a === '--json') json = true;
  else if (a === '--quiet') quiet = true;
  else fail(`unknown argument ${a}`);
}
if (!quiet) opts.log = (line) => console.error(line);

const result = await runFuzz(opts);
if (json) console.log(resultJson(result));
else console.log(`${summaryTable(result)}\n\nFindings\n${findingsText(result.findings) || '  none'}`);
const bad = result.crashes + result.answersWithoutCode + result.stateChangesAfterRefusal;
process.exit(bad > 0 ? 1 : 0);
