/**
 * Allocator benchmark: the time of ONE full allocation cycle (`allocate(snapshot, rng)`), median of
 * several runs (see `timedRuns`) after warm-up runs (see `warmups`), for cluster sizes Mesos
 * published figures for.
 *
 *   node dist/scripts/bench/allocator.js            # table
 *   node dist/scripts/bench/allocator.js --json     # one JSON object per line
 *   node dist/scripts/bench/allocator.js --runs 9 --only 10000x1000
 *
 * Each case runs in a child process of its own (same node, same flags), so that one case's JIT
 * state and heap do not colour the next one's time and peak RSS.
 *
 * Every run gets a freshly built snapshot (distinct `Resources` objects per agent, as the master
 * builds them), so nothing carries over between runs; the snapshot build is timed on its own and
 * reported apart. (No forced GC in between: after a forced full collection V8 sweeps lazily during
 * the next allocations, which would charge the cycle for it.) Half the agents run tasks (a framework holds cpus:4;mem:16384 there), and every
 * framework is active and unsuppressed, so every agent with free resources is offered.
 */
import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { allocate } from '../../master/allocator/index.js';
import type {
  AllocatorAgent,
  AllocatorFramework,
  AllocatorRole,
  AllocatorSnapshot,
} from '../../master/allocator/types.js';
import { Resources } from '../../sdk/resources/resources.js';
import { seededRng } from '../../sdk/util/random.js';

interface Case {
  name: string;
  agents: number;
  frameworks: number;
  roles: number;
  quota: boolean;
  targetMs: number;
  /** Mesos's published cycle time for the same shape, when there is one. */
  mesosMs: number | null;
  mesosNote: string;
}

const CASES: Case[] = [
  {
    name: '1000x100',
    agents: 1000,
    frameworks: 100,
    roles: 1,
    quota: false,
    targetMs: 10,
    mesosMs: null,
    mesosNote: '',
  },
  {
    name: '10000x1000',
    agents: 10_000,
    frameworks: 1000,
    roles: 1,
    quota: false,
    targetMs: 100,
    mesosMs: 1060,
    mesosNote: 'Mesos 1.8 (2018 allocator optimisations)',
  },
  {
    name: '20000x2000',
    agents: 20_000,
    frameworks: 2000,
    roles: 1,
    quota: false,
    targetMs: 400,
    mesosMs: 3800,
    mesosNote: 'Mesos 1.8',
  },
  {
    name: 'quota 3000x3000',
    agents: 3000,
    frameworks: 3000,
    roles: 3000,
    quota: true,
    targetMs: 1500,
    mesosMs: 15_390,
    mesosNote: 'Mesos quota benchmark, 3,000 agents x 3,000 roles',
  },
];

const AGENT_TOTAL = 'cpus:16;mem:65536;disk:1000000;ports:[31000-32000]';
const TASK = 'cpus:4;mem:16384';
const GUARANTEE = 'cpus:8;mem:32768';

function buildSnapshot(c: Case): AllocatorSnapshot {
  const roleName = (i: number) => (c.roles === 1 ? '*' : `role${i}`);
  const frameworks: AllocatorFramework[] = [];
  const held: Resources[] = [];
  for (let f = 0; f < c.frameworks; f++) {
    frameworks.push({
      id: `framework-${String(f).padStart(5, '0')}`,
      roles: [roleName(f % c.roles)],
      suppressedRoles: [],
      allocated: {},
      filters: [],
      active: true,
    });
    held.push(Resources.empty());
  }
  const agents: AllocatorAgent[] = [];
  const task = Resources.parse(TASK);
  for (let a = 0; a < c.agents; a++) {
    const busy = a % 2 === 0;
    if (busy) {
      const f = (a / 2) % c.frameworks;
      held[f] = held[f].plus(task);
    }
    agents.push({
      id: `agent-${a}`,
      hostname: `host-${a}.example`,
      total: Resources.parse(AGENT_TOTAL),
      allocated: busy ? Resources.parse(TASK) : Resources.empty(),
      attributes: { rack: `r${a % 40}` },
      active: true,
    });
  }
  for (let f = 0; f < c.frameworks; f++) {
    if (!held[f].isEmpty()) frameworks[f].allocated = { [roleName(f % c.roles)]: held[f] };
  }
  const roles: AllocatorRole[] = [];
  if (c.quota) {
    for (let r = 0; r < c.roles; r++) {
      roles.push({ name: roleName(r), weight: 1, quota: { guarantee: Resources.parse(GUARANTEE) } });
    }
  }
  return {
    now: 1_700_000_000_000,
    agents,
    frameworks,
    roles,
    minAllocatable: [Resources.parse('cpus:0.01'), Resources.parse('mem:32')],
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

interface Result {
  c: Case;
  medianMs: number;
  minMs: number;
  /** CPU time of the cycles (process-wide, so GC helper threads count): far below wall time = waiting for a core. */
  medianCpuMs: number;
  buildMs: number;
  offers: number;
  peakRssMb: number;
}

/**
 * Warm-up runs before timing: at least one, and enough that the JIT has seen about 50,000 agents
 * (a master runs the allocator every second, so the steady state is what matters; one warm-up
 * over 1,000 agents leaves much of the code unoptimised).
 */
function warmups(c: Case): number {
  return Math.max(1, Math.ceil(50_000 / c.agents));
}

/** Timed runs: at least 5, and more for small cases (cheap, and a median of more is steadier). */
function timedRuns(c: Case): number {
  return Math.max(5, Math.ceil(20_000 / c.agents));
}

function runCase(c: Case, runs: number): Result {
  const times: number[] = [];
  const cpu: number[] = [];
  const builds: number[] = [];
  let offers = 0;
  // Sampled per case (resourceUsage().maxRSS is the whole process's peak, earlier cases included).
  let peakRss = process.memoryUsage().rss;
  const warm = warmups(c);
  for (let i = 0; i < runs + warm; i++) {
    const t0 = performance.now();
    const snapshot = buildSnapshot(c);
    const built = performance.now() - t0;
    const c1 = process.cpuUsage();
    const t1 = performance.now();
    const plan = allocate(snapshot, seededRng(42 + i));
    const t2 = performance.now();
    const used = process.cpuUsage(c1);
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    if (i < warm) continue;
    builds.push(built);
    times.push(t2 - t1);
    cpu.push((used.user + used.system) / 1000);
    offers = plan.offers.length;
  }
  return {
    c,
    medianMs: median(times),
    minMs: Math.min(...times),
    medianCpuMs: median(cpu),
    buildMs: median(builds),
    offers,
    peakRssMb: peakRss / (1024 * 1024),
  };
}

function pad(s: string, n: number, right = false): string {
  return right ? s.padEnd(n) : s.padStart(n);
}

function measure(c: Case, runs: number): Record<string, unknown> {
  const r = runCase(c, runs);
  const ratio = c.mesosMs ? r.medianMs / c.mesosMs : null;
  return {
    case: c.name,
    agents: c.agents,
    frameworks: c.frameworks,
    roles: c.roles,
    quota: c.quota,
    median_ms: round(r.medianMs),
    min_ms: round(r.minMs),
    cpu_ms: round(r.medianCpuMs),
    target_ms: c.targetMs,
    mesos_ms: c.mesosMs,
    ratio_vs_mesos: ratio === null ? null : round(ratio, 4),
    snapshot_build_ms: round(r.buildMs),
    peak_rss_mb: round(r.peakRssMb, 0),
    offers: r.offers,
    runs,
    warmup_runs: warmups(c),
  };
}

function main(): void {
  const args = process.argv.slice(2);
  const json = args.includes('--json');
  const runsAt = args.indexOf('--runs');
  const runsGiven = runsAt >= 0 ? Number(args[runsAt + 1]) : undefined;
  const onlyAt = args.indexOf('--only');
  const only = onlyAt >= 0 ? args[onlyAt + 1] : undefined;
  const cases = CASES.filter((c) => !only || c.name === only);
  if (cases.length === 0) throw new Error(`no case named ${only}; cases: ${CASES.map((c) => c.name).join(', ')}`);

  // `--child`: measure the one case here and print its JSON line (used by the parent below).
  if (args.includes('--child')) {
    for (const c of cases) console.log(JSON.stringify(measure(c, runsGiven ?? timedRuns(c))));
    return;
  }
  if (!json) {
    console.log(
      `allocator benchmark: one allocate() cycle; median of ${runsGiven ?? '>= 5'} runs (small cases: runs over >= 20,000 agents) after warm-up runs over >= 50,000 agents; each case in its own process (node ${process.version})`,
    );
    console.log(
      [
        pad('case', 16, true),
        pad('median ms', 10),
        pad('cpu ms', 7),
        pad('target ms', 10),
        pad('Mesos ms', 9),
        pad('vs Mesos', 9),
        pad('build ms', 9),
        pad('peak RSS MB', 12),
        pad('offers', 8),
      ].join('  '),
    );
  }
  for (const c of cases) {
    // A fresh process per case: its own JIT warm-up and its own peak RSS.
    const runs = runsGiven ?? timedRuns(c);
    const out = execFileSync(
      process.execPath,
      [...process.execArgv, process.argv[1], '--child', '--only', c.name, '--runs', String(runs)],
      {
        encoding: 'utf8',
        maxBuffer: 1 << 20,
      },
    );
    const r = JSON.parse(out.trim().split('\n').pop() ?? '{}') as Record<string, number | string | null>;
    if (json) {
      console.log(JSON.stringify(r));
      continue;
    }
    const ratio = r.ratio_vs_mesos as number | null;
    console.log(
      [
        pad(c.name, 16, true),
        pad((r.median_ms as number).toFixed(1), 10),
        pad((r.cpu_ms as number).toFixed(1), 7),
        pad(String(c.targetMs), 10),
        pad(c.mesosMs === null ? '-' : String(c.mesosMs), 9),
        pad(ratio === null ? '-' : `${(ratio * 100).toFixed(1)}%`, 9),
        pad((r.snapshot_build_ms as number).toFixed(0), 9),
        pad(String(r.peak_rss_mb), 12),
        pad(String(r.offers), 8),
      ].join('  '),
    );
  }
  if (!json) {
    console.log('Mesos figures: 10000x1000 and 20000x2000 from Mesos 1.8 allocator benchmarks (after the 2018');
    console.log('optimisations); quota 3000x3000 from the Mesos quota allocation benchmark. Different machines.');
    console.log('cpu ms: CPU time of the cycle (median); well below median ms means the process waited for a core.');
  }
}

function round(v: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

main();
