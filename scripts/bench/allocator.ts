/**
 * Allocator benchmark on Mesos's own shapes, rebuilt from its sources (apache/mesos):
 *
 * - DeclineOffers (`src/tests/hierarchical_allocator_tests.cpp`,
 *   `HierarchicalAllocator_BENCHMARK_Test.DeclineOffers`): frameworks in role `*`; agents of
 *   `cpus:24;mem:4096;disk:4096;ports:[31000-32000]`, agent i already running, for framework
 *   i mod F, `cpus:16;mem:2014;disk:1024` and the ports of `fragment([31000-32000], 16)`
 *   (31000, 31002, …, 31028 and 31030-32000). Every round's offers are declined with a filter
 *   that carries the declined resources (refuse for ever) before the next round; rounds 0–3.
 * - LargeAndSmallQuota (`src/tests/hierarchical_allocator_benchmarks.cpp`,
 *   `BENCHMARK_HierarchicalAllocator_WithQuotaParam.LargeAndSmallQuota/2`): 2,500 roles with quota
 *   `cpus:1;mem:1024;disk:1024` and 500 with `cpus:4;mem:4096;disk:4096` (guarantee = limit, the
 *   benchmark's `createQuota`), one framework each; 3,000 empty agents of `cpus:2;mem:2048;disk:2048`.
 *   Cycle 1 makes 3,500 offers; cycle 2 runs with those offers outstanding and makes none.
 *
 *   node dist/scripts/bench/allocator.js                  # table
 *   node dist/scripts/bench/allocator.js --json           # one JSON object per case and round
 *   node dist/scripts/bench/allocator.js --only DeclineOffers-1000x100 --runs 3
 *   node dist/scripts/bench/allocator.js --compare /path/to/other/dist/master/allocator/index.js
 *
 * Two figures per round: `allocate()` alone (`allocate_ms`, `cpu_ms`; building the benchmark's own
 * snapshot is not timed) and the whole cycle of a real MasterState (`whole_cycle_ms`,
 * `whole_cycle_cpu_ms`, `snapshot_ms`, `apply_ms`, `apply_cpu_ms`). Each case runs in a
 * child process of its own; a warm-up sequence runs first, then `runs` sequences, and each round's
 * figure is the median over the sequences. With `--compare`, every case is also run with the
 * allocator module given (for example a build of an earlier commit) in the same invocation.
 */
import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import type {
  AllocateFn,
  AllocationPlan,
  AllocatorAgent,
  AllocatorFramework,
  AllocatorRole,
  AllocatorSnapshot,
  RefusalFilter,
} from '../../master/allocator/types.js';
import { Resources } from '../../sdk/resources/resources.js';
import { seededRng } from '../../sdk/util/random.js';
import { type CycleTiming, WholeCycle } from './sim/whole-cycle.js';

const NOW = 1_700_000_000_000;
/** Mesos's `--min_allocatable_resources` default. */
const MIN_ALLOCATABLE = () => [Resources.parse('cpus:0.01'), Resources.parse('mem:32')];

export const DECLINE_AGENT = 'cpus:24;mem:4096;disk:4096;ports:[31000-32000]';

/** Mesos's `fragment(bounds, n)`: single ports at begin, begin+2, …, the last range running to the end. */
export function fragmentPorts(begin: number, end: number, n: number): string {
  const parts: string[] = [];
  for (let i = 0; i < n; i++) {
    const b = begin + 2 * i;
    parts.push(i === n - 1 ? `${b}-${end}` : `${b}-${b}`);
  }
  return `ports:[${parts.join(',')}]`;
}

/** What each agent already runs in DeclineOffers: 16 tasks' worth, with 16 port fragments. */
export const DECLINE_USED = `cpus:16;mem:2014;disk:1024;${fragmentPorts(31000, 32000, 16)}`;

/** A DeclineOffers cluster: snapshots for successive rounds, filters added by `decline`. */
export class DeclineOffersShape {
  private readonly filters: RefusalFilter[][];
  private readonly held: Resources[];
  /** Each agent's total, one value per agent kept across rounds (as the master keeps `total`). */
  private readonly totals: Resources[];
  /** What each agent runs, one value per agent kept across rounds (as the master keeps `used`). */
  private readonly used: Resources[];

  constructor(
    readonly agents: number,
    readonly frameworks: number,
  ) {
    this.filters = Array.from({ length: frameworks }, () => []);
    const n = new Array<number>(frameworks).fill(0);
    for (let a = 0; a < agents; a++) n[a % frameworks]++;
    // What each framework holds (scalars: the sorters' shares do not look at ports).
    this.held = n.map((k) => Resources.scalars({ cpus: 16 * k, mem: 2014 * k, disk: 1024 * k }));
    this.totals = Array.from({ length: agents }, () => Resources.parse(DECLINE_AGENT));
    this.used = Array.from({ length: agents }, () => Resources.parse(DECLINE_USED));
  }

  /**
   * A snapshot as the master builds one: each agent's total and allocated values kept from one
   * round to the next while nothing changed them (every offer was declined), as the master's
   * snapshot keeps them (master/state/offers.ts agentView).
   */
  snapshot(): AllocatorSnapshot {
    const agents: AllocatorAgent[] = [];
    for (let a = 0; a < this.agents; a++) {
      agents.push({
        id: `agent-${a}`,
        hostname: `agent-${a}`,
        total: this.totals[a],
        allocated: this.used[a],
        attributes: {},
        active: true,
      });
    }
    const frameworks: AllocatorFramework[] = [];
    for (let f = 0; f < this.frameworks; f++) {
      frameworks.push({
        id: `framework-${f}`,
        roles: ['*'],
        suppressedRoles: [],
        allocated: this.held[f].isEmpty() ? {} : { '*': this.held[f] },
        filters: this.filters[f].slice(),
        active: true,
      });
    }
    return { now: NOW, agents, frameworks, roles: [], minAllocatable: MIN_ALLOCATABLE() };
  }

  /** Every offer declined, refusing the same resources on that agent for ever. */
  decline(plan: AllocationPlan): void {
    for (const o of plan.offers) {
      const f = Number(o.frameworkId.slice('framework-'.length));
      this.filters[f].push({ agentId: o.agentId, expiresAt: Number.MAX_SAFE_INTEGER, resources: o.resources });
    }
  }

  filterCount(): number {
    let n = 0;
    for (const list of this.filters) n += list.length;
    return n;
  }
}

export interface QuotaShapeSize {
  small: number;
  large: number;
}

/** LargeAndSmallQuota: roles, agents (small/5 + large×5), and the second cycle with the offers outstanding. */
export class LargeAndSmallQuotaShape {
  readonly agents: number;
  private outstanding: AllocationPlan | null = null;
  private readonly totals: Resources[];

  constructor(readonly size: QuotaShapeSize) {
    this.agents = Math.floor(size.small / 5) + size.large * 5;
    this.totals = Array.from({ length: this.agents }, () => Resources.parse('cpus:2;mem:2048;disk:2048'));
  }

  get roles(): number {
    return this.size.small + this.size.large;
  }

  snapshot(): AllocatorSnapshot {
    const roles: AllocatorRole[] = [];
    const frameworks: AllocatorFramework[] = [];
    const heldBy = new Map<string, Resources>();
    const onAgent = new Map<string, Resources>();
    for (const o of this.outstanding?.offers ?? []) {
      // An allocator built elsewhere (--compare) has its own Resources class: take the entries.
      const r = o.resources instanceof Resources ? o.resources : Resources.from((o.resources as Resources).toList());
      heldBy.set(o.frameworkId, (heldBy.get(o.frameworkId) ?? Resources.empty()).plus(r));
      onAgent.set(o.agentId, (onAgent.get(o.agentId) ?? Resources.empty()).plus(r));
    }
    const add = (name: string, fw: string, quota: string) => {
      const q = Resources.parse(quota);
      roles.push({ name, weight: 1, quota: { guarantee: q, limit: Resources.parse(quota) } });
      const held = heldBy.get(fw);
      frameworks.push({
        id: fw,
        roles: [name],
        suppressedRoles: [],
        allocated: held ? { [name]: held } : {},
        filters: [],
        active: true,
      });
    };
    for (let i = 0; i < this.size.small; i++)
      add(`smallQuotaRole${i}`, `framework_small_${i}`, 'cpus:1;mem:1024;disk:1024');
    for (let i = 0; i < this.size.large; i++)
      add(`largeQuotaRole${i}`, `framework_large_${i}`, 'cpus:4;mem:4096;disk:4096');
    const agents: AllocatorAgent[] = [];
    for (let a = 0; a < this.agents; a++) {
      const id = `agent-${a}`;
      agents.push({
        id,
        hostname: id,
        total: this.totals[a],
        allocated: onAgent.get(id) ?? Resources.empty(),
        attributes: {},
        active: true,
      });
    }
    return { now: NOW, agents, frameworks, roles, minAllocatable: MIN_ALLOCATABLE() };
  }

  /** The offers stay outstanding (neither accepted nor declined), as in the Mesos benchmark. */
  keep(plan: AllocationPlan): void {
    this.outstanding = plan;
  }
}

// ------------------------------------------------------------------ cases and Mesos's figures

interface MesosFigure {
  ms: number;
  source: string;
}

interface Case {
  name: string;
  kind: 'DeclineOffers' | 'LargeAndSmallQuota';
  agents: number;
  frameworks: number;
  roles: number;
  rounds: number;
  quota?: QuotaShapeSize;
  /** Mesos's published figure per round, when there is one. */
  mesos: (MesosFigure | null)[];
}

const MESOS_DECLINE_10K =
  'apache/mesos commit 6ef0df93f (2018-09-21), DeclineOffers/21 (10,000 agents, 1,000 frameworks), rounds 0-2 "after", --enable-optimize; cross-machine';
/**
 * Mesos's addSlave ends with an allocation for the agent (`allocate(slaveId)` at that commit), so
 * each agent's first offers are made inside "Added 10000 agents" and Mesos's round 0 begins by
 * declining them: Mesos's round i is this benchmark's round i + 1, and this benchmark's round 0
 * (agents never seen, no filter yet) is the first allocation inside Mesos's agent-adding phase.
 */
const MESOS_DECLINE_10K_ADDED =
  'apache/mesos commit 6ef0df93f (2018-09-21), DeclineOffers/21, "Added 10000 agents in 1.61secs" (every addSlave and the first allocation it triggers, which is this round), --enable-optimize; cross-machine';
const MESOS_QUOTA = 'apache/mesos commit 73033130d (2019-08-22), LargeAndSmallQuota/2, "after" figures; cross-machine';

const CASES: Case[] = [
  {
    name: 'DeclineOffers-1000x100',
    kind: 'DeclineOffers',
    agents: 1000,
    frameworks: 100,
    roles: 1,
    rounds: 4,
    mesos: [null, null, null, null],
  },
  {
    name: 'DeclineOffers-10000x1000',
    kind: 'DeclineOffers',
    agents: 10_000,
    frameworks: 1000,
    roles: 1,
    rounds: 4,
    // Shifted by one round: see MESOS_DECLINE_10K_ADDED.
    mesos: [
      { ms: 1610, source: MESOS_DECLINE_10K_ADDED },
      { ms: 1060, source: MESOS_DECLINE_10K },
      { ms: 1060, source: MESOS_DECLINE_10K },
      { ms: 1060, source: MESOS_DECLINE_10K },
    ],
  },
  {
    name: 'LargeAndSmallQuota-3000',
    kind: 'LargeAndSmallQuota',
    agents: 3000,
    frameworks: 3000,
    roles: 3000,
    rounds: 2,
    quota: { small: 2500, large: 500 },
    mesos: [
      { ms: 15_385, source: MESOS_QUOTA },
      { ms: 13_719, source: MESOS_QUOTA },
    ],
  },
];

interface RoundResult {
  ms: number[];
  cpu: number[];
  offers: number;
  filters: number;
  /** The whole cycle a master runs (snapshot, allocate, booking, messages), per run. */
  whole: number[];
  wholeCpu: number[];
  snapshot: number[];
  apply: number[];
  applyCpu: number[];
  encodeCpu: number[];
  faults: number[];
  allocateFaults: number[];
  applyFaults: number[];
  wholeOffers: number;
}

/** One sequence of rounds on a fresh cluster; returns per-round time, offers and filters. */
interface Round {
  ms: number;
  cpu: number;
  offers: number;
  filters: number;
}

/** allocate() timed: wall time, and the process's CPU time (GC helper threads included). */
function timed(
  allocate: AllocateFn,
  snapshot: AllocatorSnapshot,
  seed: number,
): { plan: AllocationPlan; ms: number; cpu: number } {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const plan = allocate(snapshot, seededRng(seed));
  const ms = performance.now() - t0;
  const used = process.cpuUsage(c0);
  return { plan, ms, cpu: (used.user + used.system) / 1000 };
}

function sequence(c: Case, allocate: AllocateFn, seed: number): Round[] {
  const out: Round[] = [];
  if (c.kind === 'DeclineOffers') {
    const shape = new DeclineOffersShape(c.agents, c.frameworks);
    for (let r = 0; r < c.rounds; r++) {
      const snapshot = shape.snapshot();
      const filters = shape.filterCount();
      const { plan, ms, cpu } = timed(allocate, snapshot, seed + r);
      out.push({ ms, cpu, offers: plan.offers.length, filters });
      shape.decline(plan);
    }
  } else {
    const shape = new LargeAndSmallQuotaShape(c.quota ?? { small: 0, large: 0 });
    for (let r = 0; r < c.rounds; r++) {
      const { plan, ms, cpu } = timed(allocate, shape.snapshot(), seed + r);
      out.push({ ms, cpu, offers: plan.offers.length, filters: 0 });
      shape.keep(plan);
    }
  }
  return out;
}

/** A year: the declines' filters outlive the benchmark, as the shape's "refuse for ever" does. */
const REFUSE_SECONDS = 365 * 24 * 3600;

/**
 * The same rounds as `sequence`, but timing the whole cycle a real MasterState runs: expiring
 * offers and filters, taking the snapshot, allocate(), booking the offers and encoding the OFFERS
 * messages. DeclineOffers: every offer declined with a filter between rounds; LargeAndSmallQuota:
 * offers kept outstanding, so the second cycle has nothing left to offer.
 */
interface WholeKit {
  WholeCycle: typeof WholeCycle;
  DeclineOffersShape: typeof DeclineOffersShape;
  LargeAndSmallQuotaShape: typeof LargeAndSmallQuotaShape;
}

const THIS_KIT: WholeKit = { WholeCycle, DeclineOffersShape, LargeAndSmallQuotaShape };

/** The rounds of one sequence, and what adding its agents cost (builds from before it was timed: undefined). */
interface WholeRun {
  rounds: CycleTiming[];
  addAgentsMs?: number;
  addAgentsCpuMs?: number;
}

function wholeSequence(c: Case, allocate: AllocateFn, seed: number, kit: WholeKit = THIS_KIT): WholeRun {
  const snapshot =
    c.kind === 'DeclineOffers'
      ? new kit.DeclineOffersShape(c.agents, c.frameworks).snapshot()
      : new kit.LargeAndSmallQuotaShape(c.quota ?? { small: 0, large: 0 }).snapshot();
  const cycle = kit.WholeCycle.fromSnapshot(snapshot);
  const out: CycleTiming[] = [];
  for (let r = 0; r < c.rounds; r++) {
    out.push(cycle.run(allocate, seededRng(seed + r)));
    if (c.kind === 'DeclineOffers') cycle.declineAll(REFUSE_SECONDS);
  }
  const timedAdd = cycle as { addAgentsMs?: number; addAgentsCpuMs?: number };
  return { rounds: out, addAgentsMs: timedAdd.addAgentsMs, addAgentsCpuMs: timedAdd.addAgentsCpuMs };
}

/**
 * With `--compare <dist>/master/allocator/index.js`, the whole cycle of that build too: its
 * MasterState, its shapes (built with its own Resources class) and its allocator.
 */
async function kitOf(modulePath: string | undefined): Promise<WholeKit | undefined> {
  if (modulePath === undefined) return THIS_KIT;
  const tail = 'master/allocator/index.js';
  if (!modulePath.endsWith(tail)) return undefined;
  const root = modulePath.slice(0, -tail.length);
  try {
    const bench = (await import(pathToFileURL(`${root}scripts/bench/allocator.js`).href)) as Partial<WholeKit>;
    const sim = (await import(pathToFileURL(`${root}scripts/bench/sim/whole-cycle.js`).href)) as Partial<WholeKit>;
    if (!sim.WholeCycle || !bench.DeclineOffersShape || !bench.LargeAndSmallQuotaShape) return undefined;
    return {
      WholeCycle: sim.WholeCycle,
      DeclineOffersShape: bench.DeclineOffersShape,
      LargeAndSmallQuotaShape: bench.LargeAndSmallQuotaShape,
    };
  } catch {
    return undefined;
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function defaultRuns(c: Case): number {
  return c.agents >= 3000 ? 3 : 7;
}

async function child(c: Case, runs: number, modulePath: string | undefined, rebuild: boolean): Promise<void> {
  const loaded = (await import(
    modulePath ? pathToFileURL(modulePath).href : new URL('../../master/allocator/index.js', import.meta.url).href
  )) as { allocate: AllocateFn; createAllocate?: (o: { keepSorters?: boolean }) => AllocateFn };
  // --rebuild-sorters: this build's allocator without the sorters kept between cycles (sorter-keep.ts).
  const mod = rebuild && loaded.createAllocate ? { allocate: loaded.createAllocate({ keepSorters: false }) } : loaded;
  // The whole cycle runs the MasterState of the build the allocator comes from.
  const kit = await kitOf(modulePath);
  sequence(c, mod.allocate, 1); // warm-up
  if (kit) wholeSequence(c, mod.allocate, 1, kit);
  const rounds: RoundResult[] = Array.from({ length: c.rounds }, () => ({
    ms: [],
    cpu: [],
    offers: 0,
    filters: 0,
    whole: [],
    wholeCpu: [],
    snapshot: [],
    apply: [],
    applyCpu: [],
    encodeCpu: [],
    faults: [],
    allocateFaults: [],
    applyFaults: [],
    wholeOffers: 0,
  }));
  const addMs: number[] = [];
  const addCpu: number[] = [];
  for (let i = 0; i < runs; i++) {
    const seq = sequence(c, mod.allocate, 100 + 10 * i);
    seq.forEach((r, k) => {
      rounds[k].ms.push(r.ms);
      rounds[k].cpu.push(r.cpu);
      rounds[k].offers = r.offers;
      rounds[k].filters = r.filters;
    });
    if (kit) {
      const run = wholeSequence(c, mod.allocate, 100 + 10 * i, kit);
      if (run.addAgentsMs !== undefined) addMs.push(run.addAgentsMs);
      if (run.addAgentsCpuMs !== undefined) addCpu.push(run.addAgentsCpuMs);
      run.rounds.forEach((t, k) => {
        rounds[k].whole.push(t.whole_cycle_ms);
        // Builds from before the CPU figures were added report none.
        if (t.whole_cycle_cpu_ms !== undefined) rounds[k].wholeCpu.push(t.whole_cycle_cpu_ms);
        if (t.apply_cpu_ms !== undefined) rounds[k].applyCpu.push(t.apply_cpu_ms);
        if (t.encode_cpu_ms !== undefined) rounds[k].encodeCpu.push(t.encode_cpu_ms);
        if (t.faults !== undefined) {
          rounds[k].faults.push(t.faults);
          rounds[k].allocateFaults.push(t.allocate_faults);
          rounds[k].applyFaults.push(t.apply_faults);
        }
        rounds[k].snapshot.push(t.snapshot_ms);
        rounds[k].apply.push(t.apply_ms);
        rounds[k].wholeOffers = t.offers;
      });
    }
  }
  rounds.forEach((r, k) => {
    const mesos = c.mesos[k];
    console.log(
      JSON.stringify({
        case: c.kind,
        agents: c.agents,
        ...(c.kind === 'DeclineOffers' ? { frameworks: c.frameworks } : { roles: c.roles, frameworks: c.frameworks }),
        round: k,
        whole_cycle_ms: r.whole.length > 0 ? round2(median(r.whole)) : null,
        whole_cycle_cpu_ms: r.wholeCpu.length > 0 ? round2(median(r.wholeCpu)) : null,
        snapshot_ms: r.snapshot.length > 0 ? round2(median(r.snapshot)) : null,
        apply_ms: r.apply.length > 0 ? round2(median(r.apply)) : null,
        apply_cpu_ms: r.applyCpu.length > 0 ? round2(median(r.applyCpu)) : null,
        encode_cpu_ms: r.encodeCpu.length > 0 ? round2(median(r.encodeCpu)) : null,
        // Minor page faults of the whole cycle, of allocate() and of apply (median; null from builds before they were counted).
        faults: r.faults.length > 0 ? median(r.faults) : null,
        allocate_faults: r.allocateFaults.length > 0 ? median(r.allocateFaults) : null,
        apply_faults: r.applyFaults.length > 0 ? median(r.applyFaults) : null,
        whole_cycle_offers: r.whole.length > 0 ? r.wholeOffers : null,
        // The same in every round's line: the master handling every agent's REREGISTER before round 0.
        add_agents_ms: addMs.length > 0 ? round2(median(addMs)) : null,
        add_agents_cpu_ms: addCpu.length > 0 ? round2(median(addCpu)) : null,
        allocate_ms: round2(median(r.ms)),
        min_ms: round2(Math.min(...r.ms)),
        cpu_ms: round2(median(r.cpu)),
        offers: r.offers,
        filters: r.filters,
        runs,
        allocator: modulePath ?? 'this build',
        mesos_ms: mesos?.ms ?? null,
        mesos_source: mesos?.source ?? null,
      }),
    );
  });
}

function round2(v: number): number {
  return Math.round(v * 100) / 100;
}

function fmt(v: number | string | null | undefined): string {
  return typeof v === 'number' ? v.toFixed(1) : '-';
}

function pad(s: string, n: number, right = false): string {
  return right ? s.padEnd(n) : s.padStart(n);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    console.log(
      [
        'Usage: npm run bench:allocator -- [--json] [--only CASE] [--runs N] [--rounds N] [--compare OTHER/dist/master/allocator/index.js] [--rebuild-sorters]',
        `Mesos's DeclineOffers and LargeAndSmallQuota shapes; cases: ${CASES.map((c) => c.name).join(', ')}.`,
        'Prints the whole master cycle and allocate() alone per round (docs/benchmarks.md).',
        '--rebuild-sorters: this build rebuilds its sorters every cycle instead of keeping them (docs/allocator.md).',
        "--rounds N: N rounds instead of the case's own (Mesos's DeclineOffers round i is this benchmark's round i + 1: docs/allocator.md, \"Round 0\").",
      ].join('\n'),
    );
    return;
  }
  const json = args.includes('--json');
  const value = (flag: string) => {
    const i = args.indexOf(flag);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const runsGiven = value('--runs') ? Number(value('--runs')) : undefined;
  const roundsGiven = value('--rounds') ? Number(value('--rounds')) : undefined;
  if (roundsGiven !== undefined && !(Number.isInteger(roundsGiven) && roundsGiven >= 1 && roundsGiven <= 50))
    throw new Error('--rounds must be an integer from 1 to 50');
  const only = value('--only');
  const compare = value('--compare');
  const modulePath = value('--module');
  const cases = CASES.filter((c) => !only || c.name === only || c.kind === only).map((c) =>
    roundsGiven === undefined ? c : { ...c, rounds: roundsGiven },
  );
  if (cases.length === 0) throw new Error(`no case named ${only}; cases: ${CASES.map((c) => c.name).join(', ')}`);

  if (args.includes('--child')) {
    for (const c of cases) await child(c, runsGiven ?? defaultRuns(c), modulePath, args.includes('--rebuild-sorters'));
    return;
  }
  if (!json) {
    console.log(
      `allocator benchmark on Mesos's shapes: the whole master cycle, and allocate() alone; median of the runs per round after one warm-up sequence; each case in its own process (node ${process.version})`,
    );
    console.log(
      [
        pad('case', 20, true),
        pad('agents', 7),
        pad('fws', 5),
        pad('roles', 5),
        pad('round', 5),
        pad('filters', 8),
        pad('offers', 7),
        pad('whole ms', 9),
        pad('whole cpu', 9),
        pad('apply cpu', 9),
        pad('encode cpu', 10),
        pad('faults', 6),
        pad('allocate ms', 12),
        pad('cpu ms', 7),
        ...(compare ? [pad('cmp whole cpu', 13), pad('cmp apply cpu', 13), pad('cmp cpu', 8), pad('speed-up', 9)] : []),
        pad('Mesos ms', 9),
      ].join('  '),
    );
  }
  const runChild = (c: Case, runs: number, mod?: string) => {
    const out = execFileSync(
      process.execPath,
      [
        ...process.execArgv,
        process.argv[1],
        '--child',
        '--only',
        c.name,
        '--runs',
        String(runs),
        ...(roundsGiven === undefined ? [] : ['--rounds', String(roundsGiven)]),
        ...(mod ? ['--module', mod] : []),
        ...(!mod && args.includes('--rebuild-sorters') ? ['--rebuild-sorters'] : []),
      ],
      { encoding: 'utf8', maxBuffer: 1 << 22 },
    );
    return out
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, number | string | null>);
  };
  const sources = new Set<string>();
  for (const c of cases) {
    const runs = runsGiven ?? defaultRuns(c);
    const base = compare ? runChild(c, runs, compare) : [];
    const mine = runChild(c, runs);
    mine.forEach((r, k) => {
      if (json) {
        if (base[k]) console.log(JSON.stringify(base[k]));
        console.log(JSON.stringify(r));
        return;
      }
      if (typeof r.mesos_source === 'string') sources.add(r.mesos_source);
      const b = base[k];
      console.log(
        [
          pad(c.kind, 20, true),
          pad(String(c.agents), 7),
          pad(String(c.frameworks), 5),
          pad(String(c.roles), 5),
          pad(String(r.round), 5),
          pad(String(r.filters), 8),
          pad(String(r.offers), 7),
          pad(fmt(r.whole_cycle_ms), 9),
          pad(fmt(r.whole_cycle_cpu_ms), 9),
          pad(fmt(r.apply_cpu_ms), 9),
          pad(fmt(r.encode_cpu_ms), 10),
          pad(r.faults === null || r.faults === undefined ? '-' : String(Math.round(r.faults as number)), 6),
          pad((r.allocate_ms as number).toFixed(1), 12),
          pad((r.cpu_ms as number).toFixed(1), 7),
          ...(compare && b
            ? [
                pad(fmt(b.whole_cycle_cpu_ms), 13),
                pad(fmt(b.apply_cpu_ms), 13),
                pad((b.cpu_ms as number).toFixed(1), 8),
                pad(`${((b.cpu_ms as number) / Math.max(0.01, r.cpu_ms as number)).toFixed(1)}x`, 9),
              ]
            : []),
          pad(r.mesos_ms === null ? '-' : String(r.mesos_ms), 9),
        ].join('  '),
      );
    });
    const added = (r: Record<string, number | string | null> | undefined) =>
      r && typeof r.add_agents_ms === 'number'
        ? `${fmt(r.add_agents_ms)} ms wall, ${fmt(r.add_agents_cpu_ms)} ms CPU`
        : 'not timed';
    if (!json && mine.length > 0)
      console.log(
        `  ${c.kind} ${c.agents}: agents added before round 0 (every REREGISTER handled by the master, median): ${added(mine[0])}${compare ? `; compare: ${added(base[0])}` : ''}`,
      );
  }
  if (!json) {
    if (compare)
      console.log(
        `compare: the same cases with ${compare} (and, when it is a build's dist/master/allocator/index.js, that build's whole cycle), run in this invocation; speed-up: allocate() compare cpu / cpu (CPU time is steadier than wall time on a shared machine)`,
      );
    console.log(
      'whole ms / whole cpu: median wall / CPU time of the whole cycle a master runs (MasterState: expiry and snapshot, allocate(), booking the offers, encoding the OFFERS messages; declines carry a filter between rounds); apply cpu: the booking and messages part of it; encode cpu: encoding the OFFERS messages, part of apply (what the shell pays to send); faults: median minor page faults of the process over the whole cycle (each ~10-20 µs on a paravirtual guest). allocate ms: median wall time of allocate() alone on the same shape; cpu ms: median CPU time of the process during it (GC threads included).',
    );
    console.log('Mesos figures (no Mesos figure is published for DeclineOffers at 1,000 x 100):');
    for (const s of sources) console.log(`  ${s}`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
