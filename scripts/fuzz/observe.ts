/**
 * What the fuzzer watches besides the answers: a projection of the cluster's state that refused
 * input must not change, invariants that hold whatever the input (the real agent stays itself,
 * no id breaks Mesos's rules, no file escapes the agent's work dir), and `/health` latency.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { keySegment } from '../../master/registrar.js';
import { text, validId, validRoleName } from './values.js';

// biome-ignore lint/suspicious/noExplicitAny: the fuzzer reads loosely typed JSON from the HTTP APIs
type Json = any;

async function getJson(url: string): Promise<Json> {
  const r = await fetch(url, { signal: AbortSignal.timeout(15_000) });
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return r.json();
}

export interface Snapshot {
  /** The projection compared before and after refused input (sorted, stable). */
  view: Record<string, unknown>;
  /** The raw master state, for invariants. */
  master: Json;
  agent: Json;
  /** Set when the registrar's framework records never matched the master's frameworks while snapshotting. */
  registrarDisagrees?: string;
}

function taskKeys(fws: Json[]): string[] {
  const out: string[] = [];
  for (const f of fws ?? [])
    for (const t of [...(f.tasks ?? []), ...(f.completed_tasks ?? [])]) out.push(`${f.id}/${t.id}`);
  return out.sort();
}

const VALUE_FILE = '@value.json';
const FRAMEWORK_KEYS = 'registrar/frameworks/';

/** The Store's keys under `dir` (a key is a directory holding a value file), as `a/b/c`. */
function storeKeys(dir: string, prefix = '', out: string[] = []): string[] {
  let entries: string[] = [];
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const e of entries) {
    if (e === VALUE_FILE) {
      if (prefix) out.push(prefix);
      continue;
    }
    if (e.startsWith('.')) continue;
    try {
      if (statSync(join(dir, e)).isDirectory()) storeKeys(join(dir, e), prefix ? `${prefix}/${e}` : e, out);
    } catch {
      // removed meanwhile
    }
  }
  return out;
}

/** How long a snapshot waits for the registrar's framework records to match the master's frameworks. */
const REGISTRAR_SETTLE_MS = 5_000;
/** The disagreement a snapshot last waited out: not waited for again (it would cost every snapshot the wait). */
let lastDisagreement: string | undefined;

/**
 * State that refused input must not change. Only what input can change: ids of agents, frameworks
 * and tasks (any state: timers move them between lists, and drop completed frameworks beyond the
 * cap, but never add one), weights, quota, the agent's id and tasks, and the registrar's keys. Not
 * counters, not times, not states.
 *
 * The registrar lags the master's memory by a write: a framework torn down by its failover timer
 * leaves memory at once and its record a moment later. So a snapshot is taken when the framework
 * records and the frameworks the master lists agree (waiting up to REGISTRAR_SETTLE_MS); one that
 * never agrees is reported by `invariants` (`registrarDisagrees`).
 */
export async function snapshot(
  masterUrl: string,
  agentUrl: string,
  masterWorkDir: string,
  marathonUrl?: string,
  chronosUrl?: string,
  settleMs = REGISTRAR_SETTLE_MS,
): Promise<Snapshot> {
  const storeDir = join(masterWorkDir, 'store');
  const settleBy = Date.now() + settleMs;
  let master: Json;
  let roles: Json;
  let weights: Json;
  let quota: Json;
  let agent: Json;
  let keys: string[];
  let registrarDisagrees: string | undefined;
  for (;;) {
    [master, roles, weights, quota, agent] = await Promise.all([
      getJson(`${masterUrl}/master/state`),
      getJson(`${masterUrl}/roles`),
      getJson(`${masterUrl}/weights`),
      getJson(`${masterUrl}/quota`),
      getJson(`${agentUrl}/state`),
    ]);
    keys = storeKeys(storeDir).sort();
    const held = new Set(
      [...(master.frameworks ?? []), ...(master.completed_frameworks ?? [])].map(
        (f: Json) => `${FRAMEWORK_KEYS}${keySegment(text(f.id))}`,
      ),
    );
    const recorded = keys.filter((k) => k.startsWith(FRAMEWORK_KEYS));
    const extra = recorded.filter((k) => !held.has(k));
    const missing = [...held].filter((k) => !recorded.includes(k));
    if (extra.length === 0 && missing.length === 0) {
      registrarDisagrees = undefined;
      break;
    }
    const why = `records without a framework: ${JSON.stringify(extra.slice(0, 3))}; frameworks without a record: ${JSON.stringify(missing.slice(0, 3))}`;
    // The same disagreement as the last snapshot reported: waited for once already.
    if (why === lastDisagreement) {
      registrarDisagrees = why;
      break;
    }
    if (Date.now() > settleBy) {
      registrarDisagrees = why;
      lastDisagreement = why;
      break;
    }
    await new Promise((res) => setTimeout(res, 50));
  }
  const agentIds = [
    ...(master.slaves ?? []).map((a: Json) => a.id),
    ...(master.unreachable_agents ?? []).map((a: Json) => a.id),
    ...(master.gone_agents ?? []),
  ].sort();
  const fws = [...(master.frameworks ?? []), ...(master.completed_frameworks ?? [])];
  const view = {
    'master agents': agentIds,
    'master frameworks': fws.map((f: Json) => f.id).sort(),
    'master tasks': taskKeys(fws),
    'master weights': JSON.stringify(
      [...(weights ?? [])].sort((a: Json, b: Json) => text(a.role).localeCompare(text(b.role))),
    ),
    'master quota': JSON.stringify(
      (quota.infos ?? [])
        .map((q: Json) => ({ role: q.role, guarantees: q.guarantees, limits: q.limits }))
        .sort((a: Json, b: Json) => text(a.role).localeCompare(text(b.role))),
    ),
    'master roles with weight or quota': (roles.roles ?? [])
      .filter((r: Json) => r.weight !== 1 || r.quota)
      .map((r: Json) => r.name)
      .sort(),
    'agent id': agent.id,
    'agent tasks': (agent.frameworks ?? [])
      .flatMap((f: Json) =>
        (f.executors ?? []).flatMap((e: Json) =>
          [...(e.tasks ?? []), ...(e.completed_tasks ?? [])].map((t: Json) => `${f.id}/${t.id}`),
        ),
      )
      .sort(),
    // Framework records come and go with the frameworks above (checked to agree): additions count.
    'registrar framework records': keys.filter((k) => k.startsWith(FRAMEWORK_KEYS)),
    // Agents, roles, secrets: nothing but accepted input adds or removes one.
    'registrar other records': JSON.stringify(keys.filter((k) => !k.startsWith(FRAMEWORK_KEYS))),
  };
  if (marathonUrl) {
    // Marathon: the app, pod and group ids it holds (deployments finish on their own: not compared).
    const [apps, pods, groups] = await Promise.all([
      getJson(`${marathonUrl}/v2/apps`),
      getJson(`${marathonUrl}/v2/pods`),
      getJson(`${marathonUrl}/v2/groups`),
    ]);
    const groupIds = (g: Json, out: string[] = []): string[] => {
      out.push(text(g?.id));
      for (const c of g?.groups ?? []) groupIds(c, out);
      return out;
    };
    Object.assign(view, {
      'marathon apps': (apps.apps ?? []).map((a: Json) => text(a.id)).sort(),
      'marathon pods': (Array.isArray(pods) ? pods : []).map((p: Json) => text(p.id)).sort(),
      'marathon groups': groupIds(groups).sort(),
    });
  }
  if (chronosUrl) {
    // Chronos/Metronome: the job names and ids it holds, with their schedules and parents.
    const [chronos, metronome] = await Promise.all([
      getJson(`${chronosUrl}/v1/scheduler/jobs`),
      getJson(`${chronosUrl}/v1/jobs?embed=schedules`),
    ]);
    Object.assign(view, {
      'chronos jobs': (Array.isArray(chronos) ? chronos : [])
        .map((j: Json) => `${text(j.name)} ${text(j.schedule ?? '')} ${JSON.stringify(j.parents ?? [])}`)
        .sort(),
      'metronome jobs': (Array.isArray(metronome) ? metronome : [])
        .map((j: Json) => `${text(j.id)} ${JSON.stringify(j.schedules ?? [])}`)
        .sort(),
    });
  }
  return { view, master, agent, registrarDisagrees };
}

export interface Violation {
  /** Stable name, used in the finding's signature. */
  invariant: string;
  detail: string;
  /** The offending value, to find the input that carried it. */
  needle?: string;
}

export interface Fixture {
  agentId: string;
  agentPort: number;
  frameworkId: string;
  taskId: string;
  /** UPDATE events the fixture framework received for tasks it did not expect, or from another agent. */
  foreignUpdates: string[];
  connected(): boolean;
}

/** Invariants that hold whatever the input; checked on each snapshot. */
export function invariants(s: Snapshot, fx: Fixture | undefined, allIdsSeen: Set<string>): Violation[] {
  const out: Violation[] = [];
  const m = s.master;
  const fws = [...(m.frameworks ?? []), ...(m.completed_frameworks ?? [])];
  const agents = [...(m.slaves ?? []), ...(m.unreachable_agents ?? [])];
  if (s.registrarDisagrees !== undefined && !allIdsSeen.has(`registrar:${s.registrarDisagrees}`)) {
    allIdsSeen.add(`registrar:${s.registrarDisagrees}`);
    out.push({
      invariant: "the registrar's framework records disagree with the master's frameworks",
      detail: `never agreed within the settle time: ${s.registrarDisagrees}`,
    });
  }
  for (const f of fws) {
    if (!allIdsSeen.has(`fw:${f.id}`) && !validId(f.id)) {
      allIdsSeen.add(`fw:${f.id}`);
      out.push({
        invariant: 'invalid framework id admitted',
        detail: JSON.stringify(f.id).slice(0, 100),
        needle: f.id,
      });
    }
    for (const r of f.roles ?? [])
      if (!validRoleName(r) && !allIdsSeen.has(`role:${r}`)) {
        allIdsSeen.add(`role:${r}`);
        out.push({
          invariant: 'invalid role name admitted',
          detail: `framework ${f.id} role ${JSON.stringify(r).slice(0, 100)}`,
          needle: r,
        });
      }
    const own = new Set(f.roles ?? []);
    const extra = (f.suppressed_roles ?? []).filter((r: string) => !own.has(r));
    if (extra.length > 0 && !allIdsSeen.has(`suppress:${f.id}`)) {
      allIdsSeen.add(`suppress:${f.id}`);
      out.push({
        invariant: 'framework suppressed roles it does not hold',
        detail: `framework ${f.id} roles ${JSON.stringify(f.roles)} suppressed ${extra.length} others, e.g. ${JSON.stringify(extra.slice(0, 3))}`,
        needle: extra[0],
      });
    }
    for (const t of [...(f.tasks ?? []), ...(f.completed_tasks ?? [])])
      if (!validId(t.id) && !allIdsSeen.has(`task:${f.id}/${t.id}`)) {
        allIdsSeen.add(`task:${f.id}/${t.id}`);
        out.push({
          invariant: 'invalid task id admitted',
          detail: `framework ${JSON.stringify(f.id)} task ${JSON.stringify(t.id)} (${t.state})`,
          needle: t.id,
        });
      }
  }
  for (const a of agents) {
    if (!allIdsSeen.has(`agent:${a.id}`) && !validId(a.id)) {
      allIdsSeen.add(`agent:${a.id}`);
      out.push({ invariant: 'invalid agent id admitted', detail: JSON.stringify(a.id).slice(0, 100), needle: a.id });
    }
  }
  if (fx) {
    const real = agents.find((a: Json) => a.id === fx.agentId);
    if (!real)
      out.push({
        invariant: 'real agent lost',
        detail: `agent ${fx.agentId} is no longer in /master/state`,
        needle: '$AGENT',
      });
    else if (real.port !== fx.agentPort || real.state !== 'active')
      out.push({
        invariant: 'real agent displaced',
        detail: `master's record of ${fx.agentId}: state ${real.state}, port ${real.port} (real agent on ${fx.agentPort})`,
        needle: '$AGENT',
      });
    if (s.agent.id !== fx.agentId || s.agent.registered !== true)
      out.push({
        invariant: 'real agent displaced',
        detail: `agent /state says id ${s.agent.id}, registered ${s.agent.registered}`,
        needle: '$AGENT',
      });
    const fw = (m.frameworks ?? []).find((f: Json) => f.id === fx.frameworkId);
    const task = fw?.tasks?.find((t: Json) => t.id === fx.taskId);
    if (!fw?.connected)
      out.push({
        invariant: 'fixture framework disturbed',
        detail: fw ? 'disconnected' : 'gone from /master/state',
        needle: '$FIXTURE_FW',
      });
    else if (task?.state !== 'TASK_RUNNING')
      out.push({
        invariant: "another party changed the fixture task's state",
        detail: `task ${fx.taskId} is ${task ? `${task.state} on ${task.slave_id}` : 'gone'} in the master`,
        needle: '$FIXTURE_TASK',
      });
    if (fx.foreignUpdates.length > 0)
      out.push({
        invariant: 'status update from another agent reached the fixture framework',
        detail: fx.foreignUpdates.splice(0).slice(0, 3).join('; '),
        needle: '$FIXTURE_FW',
      });
  }
  return out;
}

/** Probes `/health` of both daemons at a steady pace and keeps the slowest answers. */
export class HealthProbe {
  slowestMs = 0;
  slowestWhile = '';
  samples = 0;
  failures = 0;
  /** Marathon's and Chronos's URLs, probed at `/ping` (they have no `/health`). */
  pingUrls?: () => (string | undefined)[];
  private stopped = false;
  private loop?: Promise<void>;
  /** Set by the runner: a description of the input being sent right now. */
  current = '';

  constructor(
    private readonly urls: () => string[],
    private readonly everyMs = 200,
  ) {}

  start(): void {
    this.loop = (async () => {
      while (!this.stopped) {
        await Promise.all(this.urls().map((u) => this.probe(u)));
        await new Promise((r) => setTimeout(r, this.everyMs));
      }
    })();
  }

  private async probe(url: string): Promise<void> {
    const started = performance.now();
    const what = this.current;
    try {
      const r = await fetch(`${url}${this.pingUrls?.().includes(url) ? '/ping' : '/health'}`, {
        signal: AbortSignal.timeout(30_000),
      });
      await r.text();
      if (!r.ok) this.failures++;
    } catch {
      this.failures++;
    }
    const ms = performance.now() - started;
    this.samples++;
    if (ms > this.slowestMs) {
      this.slowestMs = ms;
      this.slowestWhile = `${url.includes(':') ? url : ''} during ${what}`;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }
}

/**
 * What refused input must not do to the projection: add an id to any list, or change a value
 * (weights, quota, the agent's id, the registrar's record count). Ids leaving a list are not
 * counted: timers legitimately drop completed frameworks beyond the cap.
 */
export function refusalChanges(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const k of Object.keys(a)) {
    const x = a[k];
    const y = b[k];
    if (Array.isArray(x) && Array.isArray(y)) {
      const seen = new Set(x);
      const added = y.filter((v) => !seen.has(v));
      if (added.length > 0) out.push(`${k}: added ${JSON.stringify(added.slice(0, 3)).slice(0, 200)}`);
    } else if (JSON.stringify(x) !== JSON.stringify(y))
      out.push(`${k}: ${JSON.stringify(x)?.slice(0, 100)} -> ${JSON.stringify(y)?.slice(0, 100)}`);
  }
  return out;
}
