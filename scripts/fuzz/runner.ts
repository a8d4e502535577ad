/**
 * One lane of the fuzz run: its own master, agent and fixture, its own fast-check seed, and the
 * loop that sends each input, checks the answer, compares the state around refused input, and
 * restarts the cluster after a crash. Lanes share one findings table.
 */
import fc from 'fast-check';
import { checkHttp, checkWs, type Problem, type ProblemKind, type WsMemory, wsAccepted } from './checks.js';
import { Cluster } from './cluster.js';
import { type RunningFixture, startFixture } from './fixture.js';
import type { HttpInput } from './http-gen.js';
import { checkMesos, mesosAccepted, mesosMaybeAccepting } from './mesos-checks.js';
import type { MesosInput } from './mesos-gen.js';
import { MesosStream, sendMesos, subscribeBody } from './mesos-send.js';
import { HealthProbe, invariants, refusalChanges, type Snapshot, snapshot } from './observe.js';
import { sendHttp, sendWs, type Target } from './send.js';
import type { WsInput } from './ws-gen.js';

export type Input = HttpInput | WsInput | MesosInput;

export interface FuzzOptions {
  inputs: number;
  seed: number;
  /** Stop generating after this long (the count may not be reached). */
  timeLimitMs: number;
  /** Refused-by-shape inputs compared together (inputs are taken in chunks of twice this). */
  batch: number;
  /** Among inputs that may be accepted, every this-many-th gets a state comparison of its own. */
  sampleEvery: number;
  /** Shrink each finding's input against the live cluster. */
  minimise: boolean;
  /** Replays allowed per finding while shrinking. */
  shrinkReplays: number;
  /** Time allowed for shrinking all findings. */
  shrinkTimeMs: number;
  /** Share of WebSocket sessions among inputs, 0..1. */
  wsShare: number;
  /** A fresh cluster every this many inputs of a lane, so fake agents and frameworks do not pile up. */
  restartEvery: number;
  /** Independent clusters fuzzed side by side (each with its own seed: seed, seed+1, ...). */
  lanes: number;
  /** Which surfaces to fuzz: `classic` (master and agent routes, WebSocket), `mesos` (v1 scheduler HTTP API). */
  surfaces: string[];
  log: (line: string) => void;
}

export interface Finding {
  kind: ProblemKind;
  signature: string;
  count: number;
  /** The lane's seed and the fast-check run index of the first input that showed it. */
  seed: number;
  firstIndex: number;
  input: Input;
  observed: string;
  minimised?: Input;
  minimisedObserved?: string;
  shrinkReplays?: number;
}

/** What all lanes add up. */
export interface Shared {
  findings: Map<string, Finding>;
  byKind: Record<string, number>;
  sent: number;
  crashes: number;
  compared: number;
  unattributed: number;
  unattributedSamples: string[];
  unsendable: number;
  started: number;
  /** Milliseconds spent, by activity (sending each kind of input, snapshots, restarts). */
  timeMs: Record<string, number>;
}

/** Adds the time `fn` takes to `shared.timeMs[what]`. */
export async function timed<T>(shared: Shared, what: string, fn: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  try {
    return await fn();
  } finally {
    shared.timeMs[what] = (shared.timeMs[what] ?? 0) + performance.now() - t0;
  }
}

/** One line that names an input, for logs and the `/health` attribution. */
export function describe(input: Input): string {
  if (input.kind === 'http')
    return `${input.label} ${input.method} ${input.surface} ${input.target.slice(0, 80)}${input.body ? ` body=${JSON.stringify(input.body).slice(0, 80)}` : ''}`;
  if (input.kind === 'mesos')
    return `${input.label}${input.subscribe ? ' (subscribed)' : ''} ${input.calls
      .map(
        (c) =>
          `[${c.type} fw=${c.fw} stream=${c.stream}${c.contentType === 'application/json' ? '' : ` ct=${JSON.stringify(c.contentType)?.slice(0, 30)}`}${c.chunked ? ' chunked' : ''} ${JSON.stringify(c.body).slice(0, 120)}]`,
      )
      .join(' ')}`;
  return `${input.label} ${input.endpoint} ${JSON.stringify(input.frames).slice(0, 160)}`;
}

export interface Outcome {
  problems: Problem[];
  /** The master accepted something that may change state. */
  accepted: boolean;
}

export class Runner {
  cluster: Cluster;
  fixture?: RunningFixture;
  /** A framework subscribed through Mesos's v1 scheduler HTTP API, holding its stream all along. */
  mfix?: MesosStream;
  private mfixErrors = 0;
  health: HealthProbe;
  mem: WsMemory = { issuedAgentIds: new Set(), chosenFrameworkIds: new Set(), realAgentId: '' };
  seenIds = new Set<string>();
  restarts = 0;
  /** Invariant signatures seen often enough: no more restarts for them. */
  muted = new Map<string, number>();

  constructor(
    readonly opts: FuzzOptions,
    readonly shared: Shared,
    readonly seed: number,
  ) {
    this.cluster = new Cluster(opts.surfaces.includes('marathon'), opts.surfaces.includes('chronos'));
    this.health = new HealthProbe(
      () =>
        [
          this.cluster.master?.url,
          this.cluster.agent?.url,
          this.cluster.marathon?.url,
          this.cluster.chronos?.url,
        ].filter(Boolean) as string[],
    );
    this.health.pingUrls = () => [this.cluster.marathon?.url, this.cluster.chronos?.url];
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
      marathonPort: c.marathon?.port,
      chronosPort: c.chronos?.port,
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
    this.mfix?.close();
    this.mfix = undefined;
    if (this.cluster.master) await this.cluster.restart();
    else await this.cluster.start();
    this.mem.realAgentId = this.cluster.agentId;
    this.mem.issuedAgentIds = new Set([this.cluster.agentId]);
    this.mem.chosenFrameworkIds = new Set();
    this.seenIds = new Set();
    this.fixture = await startFixture(this.cluster.master.port, this.cluster.agentId, this.cluster.agent.port);
    if (this.opts.surfaces.includes('mesos')) {
      this.mfix = await MesosStream.open(this.cluster.master.port, subscribeBody('fuzz-mesos-fixture'));
      if (!this.mfix.frameworkId)
        throw new Error(`the Mesos HTTP fixture did not subscribe: ${this.mfix.status} ${this.mfix.refusal}`);
      this.mfixErrors = 0;
    }
    this.cluster.markLayout();
  }

  async send(input: Input): Promise<Outcome> {
    this.health.current = describe(input);
    const t = this.target();
    if (input.kind === 'http') {
      const a = await sendHttp(input, t);
      return { problems: checkHttp(input, a), accepted: input.mutating && a.status > 0 && a.status < 400 };
    }
    if (input.kind === 'mesos') {
      const o = await sendMesos(input, t, this.mfix);
      return { problems: checkMesos(input, o), accepted: mesosAccepted(o) };
    }
    const o = await sendWs(input, t);
    return { problems: checkWs(input, o, this.mem), accepted: wsAccepted(o) };
  }

  record(p: Problem, index: number, input: Input): void {
    const f = this.shared.findings.get(p.signature);
    if (f) f.count++;
    else {
      this.shared.findings.set(p.signature, {
        kind: p.kind,
        signature: p.signature,
        count: 1,
        seed: this.seed,
        firstIndex: index,
        input,
        observed: p.observed,
      });
      this.opts.log(
        `finding [${p.kind}] ${p.signature}\n    input #${index} of seed ${this.seed}: ${describe(input)}\n    observed: ${p.observed.slice(0, 300)}`,
      );
    }
  }

  async healthy(): Promise<string | undefined> {
    const why = await this.healthyOnce();
    // A refused connection may be a process on its way out: give its exit a moment to be seen.
    if (why && this.cluster.alive()) await new Promise((res) => setTimeout(res, 500));
    return why && this.cluster.alive() ? why : why && (await this.healthyOnce());
  }

  private async healthyOnce(): Promise<string | undefined> {
    if (!this.cluster.alive()) {
      const dead = this.cluster.master.exited
        ? this.cluster.master
        : this.cluster.marathon?.exited
          ? this.cluster.marathon
          : this.cluster.chronos?.exited
            ? this.cluster.chronos
            : this.cluster.agent;
      // The error line and the frame that threw, not the last lines of the stack.
      let at = -1;
      for (let i = dead.tail.length - 1; i >= 0 && at < 0; i--)
        if (/^(\w*Error\b|Uncaught|FATAL)/.test(dead.tail[i].trim())) at = i;
      const why = (at >= 0 ? dead.tail.slice(at, at + 2) : dead.tail.slice(-3)).map((l) => l.trim()).join(' | ');
      return `${dead.name} exited ${JSON.stringify(dead.exited)}: ${why.slice(0, 400)}`;
    }
    for (const d of [this.cluster.master, this.cluster.agent, this.cluster.marathon, this.cluster.chronos]) {
      if (!d) continue;
      try {
        const r = await fetch(`${d.url}${d.name === 'marathon' || d.name === 'chronos' ? '/ping' : '/health'}`, {
          signal: AbortSignal.timeout(20_000),
        });
        if (!r.ok) return `${d.name} /health answered ${r.status}`;
      } catch (e) {
        return `${d.name} /health did not answer: ${(e as Error).message}`;
      }
    }
    return undefined;
  }

  /** Replays `window` one input at a time on the live (fresh) cluster; the first after which a process dies. */
  async findKiller(window: { index: number; input: Input }[]): Promise<{ index: number; input: Input } | undefined> {
    for (const w of window) {
      try {
        await this.send(w.input);
      } catch {
        // the fuzzer's own trouble: not the killer
      }
      await new Promise((res) => setTimeout(res, 100));
      if (!this.cluster.alive() || (await this.healthyOnce())) return w;
    }
    return undefined;
  }

  async snap(): Promise<Snapshot | undefined> {
    try {
      return await timed(this.shared, 'snapshot', () =>
        snapshot(
          this.cluster.master.url,
          this.cluster.agent.url,
          this.cluster.master.workDir,
          this.cluster.marathon?.url,
          this.cluster.chronos?.url,
        ),
      );
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
    if (this.mfix) {
      if (this.mfix.endedByServer && !this.seenIds.has('mfix:ended')) {
        this.seenIds.add('mfix:ended');
        out.push({
          kind: 'invariant',
          signature: "another framework's Mesos HTTP event stream ended",
          observed: `the fixture's stream ended; its last events: ${this.mfix.events
            .slice(-3)
            .map((e) => JSON.stringify(e).slice(0, 200))
            .join(' ')}`,
          needle: '$MFIX_FW',
        });
      }
      const errors = this.mfix.errors();
      if (errors.length > this.mfixErrors) {
        out.push({
          kind: 'invariant',
          signature: "another framework's Mesos HTTP event stream received an ERROR",
          observed: errors.slice(this.mfixErrors).join(' | ').slice(0, 400),
          needle: '$MFIX_FW',
        });
        this.mfixErrors = errors.length;
      }
      const fw = (s.master.frameworks ?? []).find((f: { id?: string }) => f.id === this.mfix?.frameworkId);
      if (!fw?.connected && !this.seenIds.has('mfix:gone')) {
        this.seenIds.add('mfix:gone');
        out.push({
          kind: 'invariant',
          signature: 'the Mesos HTTP fixture framework is no longer connected in /master/state',
          observed: JSON.stringify(fw ?? 'absent').slice(0, 300),
          needle: '$MFIX_FW',
        });
      }
    }
    const stray = this.cluster.strayEntries();
    if (stray.length > 0 && !this.seenIds.has(`stray:${stray.join()}`)) {
      this.seenIds.add(`stray:${stray.join()}`);
      out.push({
        kind: 'invariant',
        signature: "a write escaped the agent's work dir",
        observed: `new entries beside it: ${stray.join(', ')}`,
        // A task's sandbox did it: blame the latest launch.
        needle: 'LAUNCH',
      });
    }
    return out;
  }
}

/** Runs `inputs` generated inputs through one lane. Returns whether fast-check stopped on time. */
/**
 * Runs `inputs` generated inputs through one lane. Inputs are taken in chunks: first the ones
 * whose shape says they cannot be accepted (one state comparison around all of them), then the
 * ones that may be accepted (SUBSCRIBE, REGISTER, a mutating route), each `sampleEvery`-th of
 * which gets a comparison of its own when it is refused. Returns whether the time limit stopped it.
 */
export async function runLane(r: Runner, inputs: number, arb: fc.Arbitrary<Input>): Promise<boolean> {
  const { opts, shared } = r;
  let sent = 0;
  let baseline: Snapshot | undefined;
  /** Refused inputs since `baseline` was taken: the state must not have moved since. */
  let pending: { index: number; input: Input }[] = [];
  const recent: { index: number; input: Input }[] = [];
  let chunk: { index: number; input: Input }[] = [];
  let index = -1;
  const restart = async () => {
    r.restarts++;
    await timed(shared, 'restart', () => r.startCluster());
    baseline = undefined;
    pending = [];
    recent.length = 0;
  };
  /** Checks health and invariants, compares the state with the baseline, and ends the window. */
  const closeWindow = async (): Promise<void> => {
    const why = await r.healthy();
    if (why) {
      shared.crashes++;
      const known = shared.findings.get(crashSignature(why));
      if (known && known.count >= 2) {
        // A crash already attributed twice: count it against the latest input and go on.
        const last = recent[recent.length - 1];
        if (last) r.record({ kind: 'crash', signature: crashSignature(why), observed: why }, last.index, last.input);
        await restart();
        return;
      }
      const masterDied = !!r.cluster.master.exited;
      const recovery = masterDied ? await r.cluster.recoveryProblem() : undefined;
      const window = [...recent];
      await restart();
      // Which input was it? Replay the recent ones alone on a fresh cluster until one kills it.
      const culprit = (await r.findKiller(window)) ?? window[window.length - 1];
      if (culprit) {
        r.record({ kind: 'crash', signature: crashSignature(why), observed: why }, culprit.index, culprit.input);
        if (recovery)
          r.record(
            {
              kind: 'crash',
              signature: 'the master does not start again on its own work dir after that crash',
              observed: recovery,
            },
            culprit.index,
            culprit.input,
          );
      }
      await restart();
      return;
    }
    const now = await r.snap();
    let broken = false;
    if (now) {
      for (const v of r.violations(now)) {
        const culprit = blame(recent, v.needle);
        if (culprit) r.record(v, culprit.index, culprit.input);
        const n = (r.muted.get(v.signature) ?? 0) + 1;
        r.muted.set(v.signature, n);
        if (n <= 3 && /fixture|real agent/.test(v.signature)) broken = true;
      }
      if (pending.length > 0 && baseline) {
        shared.compared++;
        const changes = refusalChanges(baseline.view, now.view);
        if (changes.length > 0 && !(await timed(shared, 'attribution', () => attribute(r, pending)))) {
          shared.unattributed++;
          if (shared.unattributedSamples.length < 5) shared.unattributedSamples.push(changes.join('; '));
        }
      }
    }
    baseline = undefined;
    pending = [];
    if (broken) await restart();
  };
  const sendOne = async ({ index: i, input }: { index: number; input: Input }): Promise<void> => {
    let o: Outcome;
    try {
      o = await timed(shared, `send ${input.label}`, () => r.send(input));
    } catch (e) {
      // The fuzzer could not even send it: say so and go on.
      shared.unsendable++;
      o = { problems: [], accepted: true };
      if (shared.unsendable <= 5) opts.log(`could not send input #${i} (${describe(input)}): ${(e as Error).message}`);
    }
    for (const p of o.problems) r.record(p, i, input);
    recent.push({ index: i, input });
    if (recent.length > 50) recent.shift();
    if (o.accepted) {
      // State may change now: whatever window was open is lost.
      baseline = undefined;
      pending = [];
    } else if (baseline) pending.push({ index: i, input });
    if (!r.cluster.alive()) await closeWindow();
  };
  const processChunk = async (): Promise<void> => {
    const quiet = chunk.filter((c) => !maybeAccepting(c.input));
    const loud = chunk.filter((c) => maybeAccepting(c.input));
    chunk = [];
    // Writes the previous chunk's accepted input started (the registrar's) land before the window opens.
    await new Promise((res) => setTimeout(res, 100));
    baseline = await r.snap();
    for (const c of quiet) await sendOne(c);
    await closeWindow();
    for (let i = 0; i < loud.length; i++) {
      const compare = i % opts.sampleEvery === 0;
      if (compare) baseline = await r.snap();
      await sendOne(loud[i]);
      if (compare) await closeWindow();
    }
    if (
      Math.floor(sent / opts.restartEvery) !== Math.floor((sent - quiet.length - loud.length) / opts.restartEvery) &&
      sent < inputs
    )
      await restart();
  };
  const property = fc.asyncProperty(arb, async (input) => {
    index++;
    shared.sent++;
    sent++;
    shared.byKind[input.label] = (shared.byKind[input.label] ?? 0) + 1;
    chunk.push({ index, input });
    if (chunk.length >= opts.batch * 2) await processChunk();
    if (shared.sent % 1000 === 0)
      opts.log(
        `${shared.sent}/${opts.inputs} inputs, ${shared.findings.size} distinct findings, slowest /health ${Math.round(r.health.slowestMs)} ms (this lane), ${Math.round((Date.now() - shared.started) / 1000)} s`,
      );
    return true;
  });
  const res = await fc.check(property, {
    numRuns: inputs,
    seed: r.seed,
    interruptAfterTimeLimit: opts.timeLimitMs,
    markInterruptAsFailure: false,
    endOnFailure: true,
  });
  if (res.failed)
    throw new Error(`the fuzz loop itself failed at input #${index}: ${String(res.errorInstance ?? '')}`, {
      cause: res.errorInstance,
    });
  if (chunk.length > 0) await processChunk();
  return res.interrupted;
}

export function crashSignature(why: string): string {
  return `crash: ${why.replace(/\d+/g, 'N').slice(0, 120)}`;
}

/** Could this input be accepted (and so legitimately change state)? Decided from its shape alone. */
function maybeAccepting(input: Input): boolean {
  if (input.kind === 'http') return input.mutating;
  if (input.kind === 'mesos') return mesosMaybeAccepting(input);
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
          signature: `refused input changed ${changes.map((c) => c.split(':')[0]).join(', ')}: ${input.kind === 'http' ? input.route : input.kind === 'mesos' ? `mesos ${input.calls.map((c) => c.type).join(',')}` : `ws ${input.endpoint}`}`,
          observed: changes.join('; '),
        },
        index,
        input,
      );
    }
  }
  return found;
}
