/**
 * The fuzz run: lanes of a real master and agent with a fixture framework and a running task,
 * each lane sending its share of N generated inputs (fast-check, one seed per lane) and checking
 * each answer, the state around refused input, invariants and `/health` latency. Findings are
 * grouped by signature across lanes; each group's first input is then shrunk against a live cluster.
 */
import fc from 'fast-check';
import { KIND_ORDER, learnRoutes, type ProblemKind } from './checks.js';
import { httpInput, httpInputFor } from './http-gen.js';
import { mesosInput } from './mesos-gen.js';
import { minimiseAll } from './minimise.js';
import { CHRONOS_ROUTES, MARATHON_ROUTES, ROUTES, type Route, routeName } from './routes.js';
import { type Finding, type FuzzOptions, type Input, Runner, runLane, type Shared } from './runner.js';
import { closeAllHttp } from './send.js';
import { wsInput } from './ws-gen.js';

export type { Finding, FuzzOptions, Input } from './runner.js';
export { describe } from './runner.js';

export const DEFAULTS: FuzzOptions = {
  inputs: 100_000,
  seed: 42,
  timeLimitMs: 60 * 60_000,
  batch: 25,
  sampleEvery: 3,
  minimise: true,
  shrinkReplays: 60,
  shrinkTimeMs: 300_000,
  wsShare: 0.35,
  restartEvery: 2500,
  lanes: 1,
  surfaces: ['classic', 'mesos'],
  log: () => {},
};

export interface FuzzResult {
  seed: number;
  lanes: number;
  inputsRequested: number;
  inputsSent: number;
  byKind: Record<string, number>;
  crashes: number;
  answersWithoutCode: number;
  serverErrors: number;
  stateChangesAfterRefusal: number;
  refusedBatchesCompared: number;
  unattributedChanges: number;
  /** What those changes were (a timer's doing, or a change that needs several inputs together). */
  unattributedSamples: string[];
  invariantViolations: number;
  expectationFailures: number;
  slowestHealthMs: number;
  slowestHealthWhile: string;
  healthFailures: number;
  restarts: number;
  /** Inputs the fuzzer itself failed to send (a bug in the fuzzer, not in Agora). */
  unsendable: number;
  staleRoutes: string[];
  durationMs: number;
  stoppedBy: 'count' | 'time';
  findings: Finding[];
}

/** All surfaces the fuzzer knows. */
export const SURFACES = ['classic', 'mesos', 'marathon', 'chronos'] as const;

/** The HTTP routes of the chosen surfaces. */
export function routesOf(surfaces: readonly string[]): Route[] {
  return [
    ...(surfaces.includes('classic') ? ROUTES : []),
    ...(surfaces.includes('marathon') ? MARATHON_ROUTES : []),
    ...(surfaces.includes('chronos') ? CHRONOS_ROUTES : []),
  ];
}

export function inputArbitrary(wsShare: number, surfaces: readonly string[] = SURFACES): fc.Arbitrary<Input> {
  const w = Math.round(wsShare * 100);
  const parts: { weight: number; arbitrary: fc.Arbitrary<Input> }[] = [];
  if (surfaces.includes('classic'))
    parts.push(
      { weight: 100 - w, arbitrary: httpInput as fc.Arbitrary<Input> },
      { weight: w, arbitrary: wsInput as fc.Arbitrary<Input> },
    );
  // Mesos's v1 scheduler API: as much as the classic surface together when both are fuzzed.
  if (surfaces.includes('mesos')) parts.push({ weight: 100, arbitrary: mesosInput as fc.Arbitrary<Input> });
  if (surfaces.includes('marathon'))
    parts.push({ weight: 100, arbitrary: httpInputFor(MARATHON_ROUTES) as fc.Arbitrary<Input> });
  if (surfaces.includes('chronos'))
    parts.push({ weight: 100, arbitrary: httpInputFor(CHRONOS_ROUTES) as fc.Arbitrary<Input> });
  if (parts.length === 0) throw new Error(`no surface to fuzz among ${surfaces.join(', ')}`);
  return fc.oneof(...parts.filter((p) => p.weight > 0));
}

/** Routes of the table that answer 404 to their own method: moved, so say so rather than fuzz nothing. */
async function staleRoutes(r: Runner, routes: Route[]): Promise<string[]> {
  const out: string[] = [];
  for (const route of routes) {
    if (route.path === '/v2/events') continue; // a stream that never ends; its sends show whether it is there
    const base =
      route.surface === 'master'
        ? r.cluster.master.url
        : route.surface === 'marathon'
          ? (r.cluster.marathon?.url ?? '')
          : route.surface === 'chronos'
            ? (r.cluster.chronos?.url ?? '')
            : r.cluster.agent.url;
    const res = await fetch(base + route.path.replace('*', 'fuzz-probe'), {
      method: route.method,
      redirect: 'manual',
      signal: AbortSignal.timeout(10_000),
    }).catch(() => undefined);
    const body = (await res?.text().catch(() => '')) ?? '';
    // DELETE /quota/fuzz-probe may answer 404 with an Agora code: the route is there.
    if (!res || (res.status === 404 && !/AGORA_|MARATHON_|CHRONOS_/.test(body))) out.push(routeName(route));
  }
  return out;
}

export async function runFuzz(partial: Partial<FuzzOptions> = {}): Promise<FuzzResult> {
  const opts: FuzzOptions = { ...DEFAULTS, ...partial };
  learnRoutes(routesOf(opts.surfaces));
  const shared: Shared = {
    findings: new Map(),
    byKind: {},
    sent: 0,
    crashes: 0,
    compared: 0,
    unattributed: 0,
    unattributedSamples: [],
    unsendable: 0,
    started: Date.now(),
    timeMs: {},
  };
  const lanes = Array.from({ length: Math.max(1, opts.lanes) }, (_, i) => new Runner(opts, shared, opts.seed + i));
  const arb = inputArbitrary(opts.wsShare, opts.surfaces);
  let stoppedBy: 'count' | 'time' = 'count';
  let stale: string[] = [];
  // A socket the server resets mid-write can surface as an unhandled 'error' in a client library;
  // that is the server refusing input, not the fuzzer failing: count it and go on.
  let resets = 0;
  const onSocketError = (e: Error & { code?: string }) => {
    if (e.code === 'ECONNRESET' || e.code === 'EPIPE') resets++;
    else throw e;
  };
  process.on('uncaughtException', onSocketError);
  try {
    await Promise.all(lanes.map((r) => r.startCluster()));
    stale = await staleRoutes(lanes[0], routesOf(opts.surfaces));
    for (const r of lanes) r.health.start();
    const share = (i: number) => Math.floor(opts.inputs / lanes.length) + (i < opts.inputs % lanes.length ? 1 : 0);
    const interrupted = await Promise.all(lanes.map((r, i) => runLane(r, share(i), arb)));
    if (interrupted.some(Boolean)) stoppedBy = 'time';
    for (const r of lanes) await r.health.stop();
    if (opts.minimise) await minimiseAll(lanes[0], opts, arb);
  } finally {
    process.off('uncaughtException', onSocketError);
    if (resets > 0) opts.log(`${resets} connections reset by the server while writing`);
    opts.log(
      `time spent (ms, summed over lanes): ${JSON.stringify(Object.fromEntries(Object.entries(shared.timeMs).map(([k, v]) => [k, Math.round(v)])))}`,
    );
    for (const r of lanes) {
      await r.health.stop();
      await r.fixture?.close();
      r.mfix?.close();
      await r.cluster.dispose();
    }
    closeAllHttp();
  }
  const findings = [...shared.findings.values()].sort(
    (a, b) => KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) || b.count - a.count,
  );
  const count = (k: ProblemKind) => findings.filter((f) => f.kind === k).reduce((n, f) => n + f.count, 0);
  const slowest = lanes.reduce((a, b) => (b.health.slowestMs > a.health.slowestMs ? b : a));
  return {
    seed: opts.seed,
    lanes: lanes.length,
    inputsRequested: opts.inputs,
    inputsSent: shared.sent,
    byKind: shared.byKind,
    crashes: shared.crashes,
    answersWithoutCode: count('no-code'),
    serverErrors: count('server-error'),
    stateChangesAfterRefusal: count('state-change'),
    refusedBatchesCompared: shared.compared,
    unattributedChanges: shared.unattributed,
    unattributedSamples: shared.unattributedSamples,
    invariantViolations: count('invariant'),
    expectationFailures: count('expectation'),
    slowestHealthMs: Math.round(slowest.health.slowestMs),
    slowestHealthWhile: slowest.health.slowestWhile,
    healthFailures: lanes.reduce((n, r) => n + r.health.failures, 0),
    restarts: lanes.reduce((n, r) => n + r.restarts, 0),
    unsendable: shared.unsendable,
    staleRoutes: stale,
    durationMs: Date.now() - shared.started,
    stoppedBy,
    findings,
  };
}
