/**
 * The fuzz run: a real master and agent, a fixture framework with a running task, then N generated
 * inputs (fast-check, one seed), each checked as it comes back, with the state projection compared
 * around every batch of refused input and `/health` probed throughout. Findings are grouped by
 * signature; each group's first input is then shrunk by replaying fast-check's smaller candidates
 * against the live cluster until none reproduces.
 */
import fc from 'fast-check';
import {
  checkHttp,
  checkWs,
  learnRoutes,
  type Problem,
  type ProblemKind,
  type WsMemory,
  wsAccepted,
} from './checks.js';
import { Cluster } from './cluster.js';
import { type RunningFixture, startFixture } from './fixture.js';
import { type HttpInput, httpInput } from './http-gen.js';
import { HealthProbe, invariants, refusalChanges, type Snapshot, snapshot } from './observe.js';
import { ROUTES, routeName } from './routes.js';
import { closeAllHttp, sendHttp, sendWs, type Target } from './send.js';
import { type WsInput, wsInput } from './ws-gen.js';

export type Input = HttpInput | WsInput;

export interface FuzzOptions {
  inputs: number;
  seed: number;
  /** Stop generating after this long (the count may not be reached). */
  timeLimitMs: number;
  /** Inputs between two state comparisons. */
  batch: number;
  /** Shrink each finding's input against the live cluster. */
  minimise: boolean;
  /** Replays allowed per finding while shrinking. */
  shrinkReplays: number;
  /** Share of WebSocket sessions among inputs, 0..1. */
  wsShare: number;
  /** A fresh cluster every this many inputs, so fake agents and frameworks do not pile up. */
  restartEvery: number;
  log: (line: string) => void;
}

export const DEFAULTS: FuzzOptions = {
  inputs: 100_000,
  seed: 42,
  timeLimitMs: 60 * 60_000,
  batch: 25,
  minimise: true,
  shrinkReplays: 60,
  wsShare: 0.35,
  restartEvery: 5000,
  log: () => {},
};

export interface Finding {
  kind: ProblemKind;
  signature: string;
  count: number;
  /** Index of the first input that showed it (fast-check run index: replay with --seed S and this path). */
  firstIndex: number;
  input: Input;
  observed: string;
  minimised?: Input;
  minimisedObserved?: string;
  shrinkReplays?: number;
}

export interface FuzzResult {
  seed: number;
  inputsRequested: number;
  inputsSent: number;
  byKind: Record<string, number>;
  crashes: number;
  answersWithoutCode: number;
  serverErrors: number;
  stateChangesAfterRefusal: number;
  refusedBatchesCompared: number;
  unattributedChanges: number;
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

export function inputArbitrary(wsShare: number): fc.Arbitrary<Input> {
  const w = Math.round(wsShare * 100);
  return fc.oneof(
    { weight: 100 - w, arbitrary: httpInput as fc.Arbitrary<Input> },
    { weight: w, arbitrary: wsInput as fc.Arbitrary<Input> },
  );
}

/** One line that names an input, for logs and the `/health` attribution. */
export function describe(input: Input): string {
  if (input.kind === 'http')
    return `${input.label} ${input.method} ${input.surface} ${input.target.slice(0, 80)}${input.body ? ` body=${JSON.stringify(input.body).slice(0, 80)}` : ''}`;
  return `${input.label} ${input.endpoint} ${JSON.stringify(input.frames).slice(0, 160)}`;
}

interface Outcome {
  problems: Problem[];
  /** The master accepted something that may change state. */
  accepted: boolean;
}

class Runner {
  cluster = new Cluster();
  fixture?: RunningFixture;
  health: HealthProbe;
  findings = new Map<string, Finding>();
  mem: WsMemory = { issuedAgentIds: new Set(), chosenFrameworkIds: new Set(), realAgentId: '' };
  seenIds = new Set<string>();
  restarts = 0;
  /** Invariant signatures seen often enough: no more restarts for them. */
  muted = new Map<string, number>();

  constructor(readonly opts: FuzzOptions) {
    this.health = new HealthProbe(
      () => [this.cluster.master?.url, this.cluster.agent?.url].filter(Boolean) as string[],
    );
  }

  target(): Target {
    const c = this.cluster;
    const prefix = this.fixture?.frameworkId.replace(/-F\d+$/, '') ?? 'none';
    const fakeAgent = [...this.mem.issuedAgentIds].find((id) => id !== c.agentId);
    return {
      masterUrl: c.master.url,
      agentUrl: c.agent.url,
      masterPort: c.master.port,
      agentPort: c.agent.port,
      agentWorkDir: c.agent.workDir,
      masterWorkDir: c.master.workDir,
      ids: {
        $AGENT: c.agentId,
        $FIXTURE_FW: this.fixture?.frameworkId,
        $FIXTURE_TASK: this.fixture?.taskId,
        $FAKE_AGENT: fakeAgent,
        $SANDBOX: this.fixture
          ? `${c.agent.workDir}/sandboxes/${encodeURIComponent(this.fixture.frameworkId)}/${this.fixture.taskId}`
          : undefined,
        '$ISSUED_FW:1': `${prefix}-F1`,
        '$ISSUED_FW:2': `${prefix}-F2`,
        '$ISSUED_FW:3': `${prefix}-F3`,
        $FW: undefined,
        $OFFER: undefined,
        $OWN_AGENT: undefined,
      },
    };
  }

  async startCluster(): Promise<void> {
    await this.fixture?.close();
    this.fixture = undefined;
    if (this.cluster.master) await this.cluster.restart();
    else await this.cluster.start();
    this.mem.realAgentId = this.cluster.agentId;
    this.mem.issuedAgentIds = new Set([this.cluster.agentId]);
    this.mem.chosenFrameworkIds = new Set();
    this.seenIds = new Set();
    this.fixture = await startFixture(this.cluster.master.port, this.cluster.agentId, this.cluster.agent.port);
  }

  async send(input: Input): Promise<Outcome> {
    this.health.current = describe(input);
    const t = this.target();
    if (input.kind === 'http') {
      const a = await sendHttp(input, t);
      return { problems: checkHttp(input, a), accepted: input.mutating && a.status > 0 && a.status < 400 };
    }
    const o = await sendWs(input, t);
    return { problems: checkWs(input, o, this.mem), accepted: wsAccepted(o) };
  }

  record(p: Problem, index: number, input: Input): void {
    const f = this.findings.get(p.signature);
    if (f) f.count++;
    else {
      this.findings.set(p.signature, {
        kind: p.kind,
        signature: p.signature,
        count: 1,
        firstIndex: index,
        input,
        observed: p.observed,
      });
      this.opts.log(
        `finding [${p.kind}] ${p.signature}\n    input #${index}: ${describe(input)}\n    observed: ${p.observed.slice(0, 300)}`,
      );
    }
  }

  async healthy(): Promise<string | undefined> {
    if (!this.cluster.alive()) {
      const dead = this.cluster.master.exited ? this.cluster.master : this.cluster.agent;
      const why =
        dead.tail
          .filter((l) => /error|Error|exception|at /.test(l))
          .slice(-3)
          .join(' | ') || dead.tail.slice(-2).join(' | ');
      return `${dead.name} exited ${JSON.stringify(dead.exited)}: ${why.slice(0, 400)}`;
    }
    for (const d of [this.cluster.master, this.cluster.agent]) {
      try {
        const r = await fetch(`${d.url}/health`, { signal: AbortSignal.timeout(20_000) });
        if (!r.ok) return `${d.name} /health answered ${r.status}`;
      } catch (e) {
        return `${d.name} /health did not answer: ${(e as Error).message}`;
      }
    }
    return undefined;
  }

  async snap(): Promise<Snapshot | undefined> {
    try {
      return await snapshot(this.cluster.master.url, this.cluster.agent.url, this.cluster.master.workDir);
    } catch {
      return undefined;
    }
  }

  /** Violations of the input-independent invariants, plus writes outside the agent's work dir. */
  violations(s: Snapshot): (Problem & { needle?: string })[] {
    const out: (Problem & { needle?: string })[] = invariants(s, this.fixture, this.seenIds).map((v) => ({
      kind: 'invariant' as const,
      signature: v.invariant,
      observed: v.detail,
      needle: v.needle,
    }));
    const stray = this.cluster.strayEntries();
    if (stray.length > 0 && !this.seenIds.has(`stray:${stray.join()}`)) {
      this.seenIds.add(`stray:${stray.join()}`);
      out.push({
        kind: 'invariant',
        signature: "a write escaped the agent's work dir",
        observed: `new entries beside it: ${stray.join(', ')}`,
      });
    }
    return out;
  }
}

export async function runFuzz(partial: Partial<FuzzOptions> = {}): Promise<FuzzResult> {
  const opts: FuzzOptions = { ...DEFAULTS, ...partial };
  const r = new Runner(opts);
  const started = Date.now();
  learnRoutes(ROUTES);
  const byKind: Record<string, number> = {};
  let sent = 0;
  let crashes = 0;
  let compared = 0;
  let unattributed = 0;
  let unsendable = 0;
  let stoppedBy: 'count' | 'time' = 'count';
  const staleRoutes: string[] = [];
  try {
    await r.startCluster();
    // A route that answers 404 to its own method has moved: say so rather than fuzz nothing.
    for (const route of ROUTES) {
      const url =
        (route.surface === 'master' ? r.cluster.master.url : r.cluster.agent.url) +
        route.path.replace('*', 'fuzz-probe');
      const res = await fetch(url, {
        method: route.method,
        redirect: 'manual',
        signal: AbortSignal.timeout(10_000),
      }).catch(() => undefined);
      if (!res || res.status === 404) {
        const body = await res?.text().catch(() => '');
        if (!(route.path === '/quota/*' && body?.includes('AGORA'))) staleRoutes.push(routeName(route));
      } else await res.text().catch(() => '');
    }
    r.health.start();
    let baseline = await r.snap();
    /** Refused inputs since `baseline` was taken: the state must not have moved since. */
    let pending: { index: number; input: Input }[] = [];
    const recent: { index: number; input: Input }[] = [];
    const arb = inputArbitrary(opts.wsShare);
    let index = -1;
    const restart = async () => {
      r.restarts++;
      await r.startCluster();
      baseline = await r.snap();
      pending = [];
      recent.length = 0;
    };
    /** Checks health and invariants, compares the state with the baseline, and starts a new window. */
    const closeWindow = async (): Promise<void> => {
      const why = await r.healthy();
      if (why) {
        crashes++;
        const last = recent[recent.length - 1];
        if (last) r.record({ kind: 'crash', signature: crashSignature(why), observed: why }, last.index, last.input);
        await restart();
        return;
      }
      const now = await r.snap();
      if (!now) return;
      let broken = false;
      for (const v of r.violations(now)) {
        const culprit = blame(recent, v.needle);
        if (culprit) r.record(v, culprit.index, culprit.input);
        const n = (r.muted.get(v.signature) ?? 0) + 1;
        r.muted.set(v.signature, n);
        if (n <= 3 && /fixture|real agent/.test(v.signature)) broken = true;
      }
      if (pending.length > 0 && baseline) {
        compared++;
        if (refusalChanges(baseline.view, now.view).length > 0 && !(await attribute(r, pending))) unattributed++;
      }
      if (broken) await restart();
      else {
        baseline = pending.length > 0 ? ((await r.snap()) ?? now) : now;
        pending = [];
      }
    };
    const property = fc.asyncProperty(arb, async (input) => {
      index++;
      sent++;
      byKind[input.label] = (byKind[input.label] ?? 0) + 1;
      if (maybeAccepting(input) && pending.length > 0) await closeWindow();
      let o: Outcome;
      try {
        o = await r.send(input);
      } catch (e) {
        // The fuzzer could not even send it: say so once per kind of failure and go on.
        unsendable++;
        o = { problems: [], accepted: true };
        if (unsendable <= 5) opts.log(`could not send input #${index} (${describe(input)}): ${(e as Error).message}`);
      }
      for (const p of o.problems) r.record(p, index, input);
      recent.push({ index, input });
      if (recent.length > 50) recent.shift();
      if (!r.cluster.alive()) await closeWindow();
      else if (o.accepted) {
        // Accepted input may change state: the next window starts after it.
        baseline = await r.snap();
        pending = [];
        if (sent % 20 === 0) await closeWindow();
      } else {
        pending.push({ index, input });
        if (pending.length >= opts.batch) await closeWindow();
      }
      if (sent % opts.restartEvery === 0 && sent < opts.inputs) {
        await closeWindow();
        await restart();
      }
      if (sent % 1000 === 0)
        opts.log(
          `${sent}/${opts.inputs} inputs, ${r.findings.size} distinct findings, slowest /health ${Math.round(r.health.slowestMs)} ms, ${Math.round((Date.now() - started) / 1000)} s`,
        );
      return true;
    });
    const res = await fc.check(property, {
      numRuns: opts.inputs,
      seed: opts.seed,
      interruptAfterTimeLimit: opts.timeLimitMs,
      markInterruptAsFailure: false,
      endOnFailure: true,
    });
    if (res.failed)
      throw new Error(`the fuzz loop itself failed at input #${index}: ${String(res.errorInstance ?? '')}`, {
        cause: res.errorInstance,
      });
    await closeWindow();
    if (res.interrupted) stoppedBy = 'time';
    await r.health.stop();
    if (opts.minimise) await minimiseAll(r, opts, arb);
  } finally {
    await r.health.stop();
    await r.fixture?.close();
    await r.cluster.dispose();
    closeAllHttp();
  }
  const findings = [...r.findings.values()].sort((a, b) => kindOrder(a.kind) - kindOrder(b.kind) || b.count - a.count);
  const count = (k: ProblemKind) => findings.filter((f) => f.kind === k).reduce((n, f) => n + f.count, 0);
  return {
    seed: opts.seed,
    inputsRequested: opts.inputs,
    inputsSent: sent,
    byKind,
    crashes,
    answersWithoutCode: count('no-code'),
    serverErrors: count('server-error'),
    stateChangesAfterRefusal: count('state-change'),
    refusedBatchesCompared: compared,
    unattributedChanges: unattributed,
    invariantViolations: count('invariant'),
    expectationFailures: count('expectation'),
    slowestHealthMs: Math.round(r.health.slowestMs),
    slowestHealthWhile: r.health.slowestWhile,
    healthFailures: r.health.failures,
    restarts: r.restarts,
    unsendable,
    staleRoutes,
    durationMs: Date.now() - started,
    stoppedBy,
    findings,
  };
}

function crashSignature(why: string): string {
  return `crash: ${why.replace(/\d+/g, 'N').slice(0, 120)}`;
}

/** Could this input be accepted (and so legitimately change state)? Decided from its shape alone. */
function maybeAccepting(input: Input): boolean {
  if (input.kind === 'http') return input.mutating;
  return input.frames.some(
    (f) =>
      f.t === 'msg' &&
      ['SUBSCRIBE', 'REGISTER', 'REREGISTER'].includes((f.value as { type?: unknown })?.type as string),
  );
}

/** The latest recent input that carries the offending value (or the latest input at all). */
function blame(
  recent: { index: number; input: Input }[],
  needle: string | undefined,
): { index: number; input: Input } | undefined {
  if (needle !== undefined) {
    const quoted = JSON.stringify(needle);
    for (let i = recent.length - 1; i >= 0; i--) if (JSON.stringify(recent[i].input).includes(quoted)) return recent[i];
  }
  return recent[recent.length - 1];
}

const ORDER: ProblemKind[] = [
  'crash',
  'state-change',
  'invariant',
  'server-error',
  'expectation',
  'no-code',
  'no-answer',
  'slow',
];
function kindOrder(k: ProblemKind): number {
  return ORDER.indexOf(k);
}

/**
 * A refused batch changed state: replay its inputs one at a time, snapshot around each, and
 * record the ones that change state alone. False when none does (a timer moved something).
 */
async function attribute(r: Runner, batch: { index: number; input: Input }[]): Promise<boolean> {
  let found = false;
  for (const { index, input } of batch) {
    const before = await r.snap();
    const o = await r.send(input);
    await new Promise((res) => setTimeout(res, 50));
    const after = await r.snap();
    if (!before || !after || o.accepted) continue;
    const changes = refusalChanges(before.view, after.view);
    if (changes.length > 0) {
      found = true;
      r.record(
        {
          kind: 'state-change',
          signature: `refused input changed ${changes.map((c) => c.split(':')[0]).join(', ')}: ${input.kind === 'http' ? input.route : `ws ${input.endpoint}`}`,
          observed: changes.join('; '),
        },
        index,
        input,
      );
    }
  }
  return found;
}

/** Does `input` still show the finding `f`, replayed alone against the live cluster? */
async function reproduces(r: Runner, f: Finding, input: Input): Promise<string | undefined> {
  const fresh = f.kind === 'crash' || f.kind === 'invariant';
  if (fresh) {
    r.restarts++;
    await r.startCluster();
  }
  const before = f.kind === 'state-change' ? await r.snap() : undefined;
  const o = await r.send(input);
  const hit = o.problems.find((p) => p.signature === f.signature);
  if (hit) return hit.observed;
  if (f.kind === 'crash') {
    await new Promise((res) => setTimeout(res, 1500));
    const why = await r.healthy();
    return why && crashSignature(why) === f.signature ? why : undefined;
  }
  if (f.kind === 'invariant') {
    await new Promise((res) => setTimeout(res, 100));
    const s = await r.snap();
    const v = s && r.violations(s).find((p) => p.signature === f.signature);
    return v ? v.observed : undefined;
  }
  if (f.kind === 'state-change' && before && !o.accepted) {
    await new Promise((res) => setTimeout(res, 50));
    const after = await r.snap();
    const changes = after ? refusalChanges(before.view, after.view) : [];
    return changes.length > 0 ? changes.join('; ') : undefined;
  }
  return undefined;
}

/**
 * Shrinks each finding's first input with fast-check itself: the run is replayed at the finding's
 * index (`path`) with a property that fails while the finding reproduces, so fast-check walks the
 * arbitrary's smaller candidates and reports the smallest that still fails.
 */
async function minimiseAll(r: Runner, opts: FuzzOptions, arb: fc.Arbitrary<Input>): Promise<void> {
  const all = [...r.findings.values()];
  const deadline = Date.now() + Math.max(60_000, opts.timeLimitMs / 6);
  for (const f of all) {
    if (Date.now() > deadline) break;
    if (f.kind === 'no-answer' && f.count > 50) continue;
    const budget = f.kind === 'crash' || f.kind === 'invariant' ? Math.min(12, opts.shrinkReplays) : opts.shrinkReplays;
    let replays = 0;
    let last: { input: Input; observed: string } | undefined;
    if (!r.cluster.alive()) await r.startCluster();
    const prop = fc.asyncProperty(arb, async (input) => {
      if (replays >= budget || Date.now() > deadline) return true;
      replays++;
      const seen = await reproduces(r, f, input);
      if (seen) last = { input, observed: seen };
      return !seen;
    });
    await fc.check(prop, {
      seed: opts.seed,
      path: String(f.firstIndex),
      numRuns: f.firstIndex + 1,
      endOnFailure: false,
    });
    f.shrinkReplays = replays;
    if (last) {
      f.minimised = last.input;
      f.minimisedObserved = last.observed;
      opts.log(`minimised [${f.kind}] ${f.signature} in ${replays} replays:\n    ${describe(last.input)}`);
    }
    if (f.kind === 'crash' || f.kind === 'invariant') await r.startCluster();
  }
}
