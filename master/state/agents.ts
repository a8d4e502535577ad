/**
 * Agents: admission (durable before REGISTERED), re-registration after a disconnection or a
 * master failover, pings, and the two ways an agent leaves (unreachable, or marked gone by an
 * operator). One agent per connection; an agent id is never taken over by a second connection
 * while the first is alive; an id the cluster never issued is refused.
 */
import type { AgentMessage } from '../../sdk/protocol/messages.js';
import { isTerminal, TaskState } from '../../sdk/protocol/types.js';
import { DEFAULT_ROLE, type Resource, Resources } from '../../sdk/resources/resources.js';
import { type AgentRecord, frameworkRecordProblem } from '../registrar.js';
import { type AgentEntry, type AgentState, newAgentEntry, taskKey } from '../registry.js';
import type { Core } from './core.js';
import type { Effects } from './effects.js';
import { adoptFramework } from './frameworks.js';
import { executorInUse, joinGroup } from './groups.js';
import { rescindAgentOffers } from './offers.js';
import { agentSettled } from './reconcile.js';
import { shareRecovered, taskResources, unreadableResources } from './task-resources.js';
import {
  addTask,
  applyState,
  completedEntry,
  masterStatus,
  rememberCompleted,
  roleOfTask,
  sendUpdate,
} from './tasks.js';

export function agentRecord(a: AgentEntry): AgentRecord {
  const rec: AgentRecord = {
    info: { ...a.info, id: a.id },
    total: a.total.toList(),
    state: a.state === 'unreachable' || a.state === 'gone' ? a.state : 'admitted',
  };
  if (a.unreachableAt !== undefined) rec.unreachable_time = a.unreachableAt;
  if (a.principal !== undefined) rec.principal = a.principal;
  return rec;
}

function refuse(s: Core, out: Effects, conn: string, why: string, fields: Record<string, unknown>): void {
  s.counters.agentRegistrationsRefused++;
  out.log('warn', `agent registration refused: ${why}`, { conn, ...fields });
}

/**
 * An agent's reported resources, or undefined (refused and closed) when they are out of range:
 * amounts that overflow could never be persisted nor allocated. The wire schema refuses them first;
 * this holds for anything that reaches the state by another way.
 */
function agentResources(s: Core, out: Effects, conn: string, list: Resource[]): Resources | undefined {
  let total: Resources;
  let why: string | undefined;
  try {
    total = taskResources(list);
    why = unreadableResources(total);
  } catch (e) {
    why = (e as Error).message;
  }
  if (!why) return total!;
  refuse(s, out, conn, 'resources out of range', { why });
  out.close(conn, 1008, 'resources out of range');
  return undefined;
}

export function onRegister(s: Core, out: Effects, conn: string, m: Extract<AgentMessage, { type: 'REGISTER' }>) {
  const c = s.agentConns.get(conn);
  if (!c) return;
  if (c.agentId || c.registering) {
    refuse(s, out, conn, 'this connection already carries an agent', { agentId: c.agentId });
    return;
  }
  const total = agentResources(s, out, conn, m.agent.resources);
  if (!total) return;
  const id = s.newId('S', (x) => s.agents.has(x));
  const entry = newAgentEntry({ ...m.agent, id }, total, 'active', s.nowSecs(), m.version);
  entry.principal = c.principal;
  c.registering = true;
  c.pending = entry;
  out.persistAgent(agentRecord(entry), conn);
}

/** The durable write of a REGISTER finished: admit the agent if its connection is still there. */
export function onAdmitted(s: Core, out: Effects, conn: string): void {
  const abandoned = s.abandonedAgents.get(conn);
  if (abandoned !== undefined) {
    // Its connection closed before REGISTERED: the agent never learnt the id and will register
    // anew. Its record goes, or the next leader would wait for an agent never admitted.
    s.abandonedAgents.delete(conn);
    out.forgetAgent(abandoned);
    out.log('info', 'a new agent left before it was admitted; its record is removed', { agentId: abandoned });
    return;
  }
  const c = s.agentConns.get(conn);
  const entry = c?.pending;
  if (!c || !entry) return;
  c.registering = false;
  c.pending = undefined;
  if (!s.leading) return;
  entry.peer = { id: conn };
  s.agents.set(entry.id, entry);
  c.agentId = entry.id;
  out.log('info', 'agent registered', {
    agentId: entry.id,
    hostname: entry.info.hostname,
    resources: entry.total.toString(),
  });
  out.toAgent(conn, { type: 'REGISTERED', agent_id: entry.id, master_info: s.cfg.info });
  s.requestAllocation(out, entry.id);
}

export function onAdmissionFailed(s: Core, out: Effects, conn: string, message: string): void {
  if (s.abandonedAgents.delete(conn)) return;
  const c = s.agentConns.get(conn);
  if (!c?.pending) return;
  c.registering = false;
  c.pending = undefined;
  out.log('error', 'could not admit the agent durably; it will retry', { err: message });
  out.close(conn, 1011, 'registrar unavailable; retry');
}

export function onReregister(
  s: Core,
  out: Effects,
  conn: string,
  m: Extract<AgentMessage, { type: 'REREGISTER' }>,
): void {
  const c = s.agentConns.get(conn);
  if (!c) return;
  const id = m.agent.id;
  if (c.registering || (c.agentId && c.agentId !== id)) {
    refuse(s, out, conn, 'this connection already carries another agent', { agentId: c.agentId, claimed: id });
    return;
  }
  const entry = s.agents.get(id);
  if (!entry) {
    // Never issued by this cluster (every admitted agent is in the registrar): refuse it.
    refuse(s, out, conn, 'unknown agent id', { agentId: id });
    out.toAgent(conn, {
      type: 'SHUTDOWN',
      message: `agent id ${id} is unknown to this cluster; start the agent with a fresh --work_dir to register as a new agent`,
    });
    out.close(conn, 1008, 'unknown agent id');
    return;
  }
  if (entry.state === 'gone') {
    out.log('warn', 'an agent marked gone tried to re-register; telling it to shut down', { agentId: id });
    out.toAgent(conn, {
      type: 'SHUTDOWN',
      message: `agent ${id} was marked gone by an operator; start it with a fresh --work_dir to join as a new agent`,
    });
    out.close(conn, 1000, 'agent is gone');
    return;
  }
  if (entry.peer && entry.peer.id !== conn && s.agentConns.has(entry.peer.id)) {
    refuse(s, out, conn, 'the agent is connected on another live connection', { agentId: id });
    out.close(conn, 1008, 'agent id in use by a live connection');
    return;
  }
  const wasUnreachable = entry.state === 'unreachable';
  const before = agentRecord(entry);
  const reported = agentResources(s, out, conn, m.agent.resources);
  if (!reported) return;
  const known = taskResources(entry.info.resources);
  if (known !== reported && !known.equals(reported)) s.setAgentTotal(entry, reported); // its static resources changed
  entry.info = { ...m.agent };
  entry.version = m.version;
  entry.peer = { id: conn };
  c.agentId = id;
  entry.state = 'active';
  entry.missedPings = 0;
  entry.lastPingSeq = entry.pongSeq;
  entry.reregisteredAt = s.nowSecs();
  entry.unreachableAt = undefined;
  entry.principal ??= c.principal; // an id not yet bound (older record) binds to its first principal
  // Its first re-registration with a new leader: frameworks it reports that this leader does not
  // know are adopted rather than shut down (frameworks.ts adoptFramework).
  const settling = s.recovering.delete(id);
  if (settling) adoptReportedFrameworks(s, out, m);
  // The registrar already holds this record unless something in it changed (a failover of
  // thousands of agents should not cost thousands of writes).
  const record = agentRecord(entry);
  if (!sameJson(record, before)) out.persistAgent(record);
  // Only tasks this master placed before the re-registration can be missing from its report (an
  // agent awaited after a failover has none yet: nothing to compare).
  const placedBefore = entry.tasks.size > 0;
  const batch: Batch | undefined = fitsWhole(entry, m.tasks) ? { entries: [], values: [] } : undefined;
  for (const rec of m.tasks) recoverTask(s, out, entry, conn, rec, wasUnreachable, batch);
  // An agent with nothing booked yet that reports one task uses exactly that task's value (shared
  // with every task of its shape): agents of one shape then hand the allocator one value, which it
  // matches by identity instead of walking every agent's entries in its first cycle.
  if (batch && batch.values.length === 1 && entry.used.isEmpty()) entry.used = batch.values[0];
  else if (batch && batch.entries.length > 0) entry.used = entry.used.plus(batch.entries);
  if (placedBefore) dropUnreported(s, out, entry, m.tasks);
  if (settling) agentSettled(s, out, id);
  // After a failover every remembered agent comes back at once: one line each at debug, and one
  // at info when the last is back (5,000 synchronous lines on stderr cost the new leader more than
  // taking the agents back). An agent coming back on its own is worth a line.
  out.log(settling ? 'debug' : 'info', 'agent re-registered', { agentId: id, tasks: m.tasks.length, wasUnreachable });
  if (settling && s.recovering.size === 0) {
    out.log('info', 'every agent remembered at the election has re-registered or been settled', {
      agents: s.agents.size,
      tasks: s.tasks.size,
      secondsSinceElection: s.electedAt === undefined ? undefined : (s.nowMs() - s.electedAt) / 1000,
    });
  }
  out.toAgent(conn, { type: 'REREGISTERED', agent_id: id, master_info: s.cfg.info });
  s.requestAllocation(out, id);
}

/**
 * Tasks this master placed on the agent that the agent does not report: their RUN_TASK was written
 * to a connection that died before the agent read it (the agent re-registers on a new connection,
 * and nothing is sent to that one before this point). Nobody would ever report them, so their
 * resources stayed booked and their frameworks waited forever for an update: they end now as
 * TASK_DROPPED (partition-aware frameworks) or TASK_LOST, and the framework may launch them again.
 */
function dropUnreported(
  s: Core,
  out: Effects,
  entry: AgentEntry,
  reported: Extract<AgentMessage, { type: 'REREGISTER' }>['tasks'],
): void {
  if (entry.tasks.size === 0) return;
  const seen = new Set<string>();
  for (const rec of reported) seen.add(taskKey(rec.framework_id, rec.task.task_id));
  for (const key of [...entry.tasks]) {
    if (seen.has(key)) continue;
    const t = s.tasks.get(key);
    if (!t || t.agentId !== entry.id || isTerminal(t.state)) continue;
    const fw = s.frameworks.get(t.frameworkId);
    const status = masterStatus(
      s,
      t,
      fw?.partitionAware ? TaskState.DROPPED : TaskState.LOST,
      `agent ${entry.id} re-registered without this task: its launch never reached the agent`,
      'REASON_AGENT_DISCONNECTED',
    );
    out.log('warn', 'agent re-registered without a task the master placed there; ending it', {
      agentId: entry.id,
      taskId: t.task.task_id,
    });
    applyState(s, out, t, status);
    if (fw) sendUpdate(out, fw, status);
  }
}

/** Frameworks with live tasks on a re-registering agent that this leader neither knows nor tore down. */
function adoptReportedFrameworks(s: Core, out: Effects, m: Extract<AgentMessage, { type: 'REREGISTER' }>): void {
  const unknown = new Set<string>();
  for (const t of m.tasks) {
    if (isTerminal(t.state) || s.frameworks.has(t.framework_id) || unknown.has(t.framework_id)) continue;
    if (!s.isCompletedFramework(t.framework_id)) unknown.add(t.framework_id);
  }
  for (const id of unknown) {
    const reported = m.frameworks.find((f) => f.id === id);
    const info = { ...(reported ?? { name: '' }), id };
    const why = frameworkRecordProblem({ info, completed: false });
    if (why) {
      out.log('warn', 'a reported framework cannot be recorded; not adopted', { frameworkId: id, why });
      continue;
    }
    adoptFramework(s, out, info);
  }
}

/**
 * Whether everything the agent reports running fits in what it has left, all together (the usual
 * case: a master booked those tasks there). Then each task need not be checked against the agent's
 * capacity one by one, building the agent's use again for every task: its use grows once, by the
 * sum of those recovered. Task groups (whose executor is booked with the first of their tasks)
 * always take the task-by-task path.
 */
function fitsWhole(entry: AgentEntry, tasks: Extract<AgentMessage, { type: 'REREGISTER' }>['tasks']): boolean {
  const all: Resource[] = [];
  for (const rec of tasks) {
    if (rec.group) return false;
    if (!isTerminal(rec.state)) for (const r of rec.task.resources) all.push(r);
  }
  try {
    return entry.total.contains(entry.used.plus(all));
  } catch {
    return false; // an entry that does not add up: the task-by-task path refuses it with its reason
  }
}

/** Two plain JSON values (a record before and after) hold the same data. */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ak = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const bk = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (ak.length !== bk.length) return false;
  for (const k of ak) {
    if (!sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  }
  return true;
}

/**
 * One task an agent reports on re-registration, checked before it is charged to anyone. With
 * `batch` (everything reported fits the agent: `fitsWhole`), its resources are added to `batch`
 * for the caller to add to the agent's use once, instead of the agent's use being built anew here.
 */
/** What a re-registration's tasks add to the agent's use when the whole report fits: their entries, and their values. */
interface Batch {
  entries: Resource[];
  values: Resources[];
}

function recoverTask(
  s: Core,
  out: Effects,
  entry: AgentEntry,
  conn: string,
  rec: Extract<AgentMessage, { type: 'REREGISTER' }>['tasks'][number],
  wasUnreachable: boolean,
  batch: Batch | undefined,
): void {
  const key = taskKey(rec.framework_id, rec.task.task_id);
  const held = s.tasks.get(key);
  if (held) {
    if (held.agentId !== entry.id) {
      out.log('warn', 'agent claims a task another agent holds; ignored', { agentId: entry.id, holder: held.agentId });
    }
    return;
  }
  const fw = s.frameworks.get(rec.framework_id);
  if (isTerminal(rec.state)) {
    // Ended, but its terminal update is not acknowledged yet: remember how it ended, so that
    // reconciliation answers with that state rather than "unknown" (which would invite a relaunch).
    if (fw && !fw.completedByKey.has(key)) rememberCompleted(fw, completedEntry(s, entry, fw, rec));
    return;
  }
  if (!fw) {
    // Torn down while the agent was away, or never known here: no phantom framework; its tasks go.
    out.log('warn', 'agent holds tasks of a framework this master does not know; shutting it down there', {
      agentId: entry.id,
      frameworkId: rec.framework_id,
    });
    out.toAgent(conn, { type: 'SHUTDOWN_FRAMEWORK', framework_id: rec.framework_id });
    return;
  }
  if (wasUnreachable && !fw.partitionAware) {
    // Already reported LOST to a framework that cannot take it back: kill it.
    out.toAgent(conn, { type: 'KILL_TASK', framework_id: fw.id, task_id: rec.task.task_id });
    return;
  }
  const res = taskResources(rec.task.resources);
  const role = roleOfTask(fw, res);
  // Built once here, kept by addTask; not at all when the whole report fits (see fitsWhole).
  const usedAfter = batch ? undefined : entry.used.plus(res);
  const why =
    role !== DEFAULT_ROLE && !fw.roles.includes(role)
      ? `uses resources of role '${role}', which the framework does not hold`
      : usedAfter && !entry.total.contains(usedAfter)
        ? `needs ${res}, more than the agent has left`
        : undefined;
  if (why) {
    out.log('warn', `agent reports a task that cannot be charged: ${why}; killing it`, {
      agentId: entry.id,
      frameworkId: fw.id,
      taskId: rec.task.task_id,
    });
    out.toAgent(conn, { type: 'KILL_TASK', framework_id: fw.id, task_id: rec.task.task_id });
    return;
  }
  if (rec.group) {
    const g = Resources.from(rec.group.executor.resources);
    // The executor is booked once per group: only for the first of its tasks reported.
    const booked = executorInUse(s, fw.id, entry.id, rec.group.executor.executor_id);
    if (!booked && !entry.total.contains(entry.used.plus(res).plus(g))) {
      out.log('warn', 'agent reports a task group that cannot be charged; killing the task', {
        agentId: entry.id,
        frameworkId: fw.id,
        taskId: rec.task.task_id,
      });
      out.toAgent(conn, { type: 'KILL_TASK', framework_id: fw.id, task_id: rec.task.task_id });
      return;
    }
  }
  shareRecovered(entry.id, rec);
  // A group's executor, when booked with this task, is added to the agent's use by joinGroup.
  const t = addTask(s, entry, fw, rec.task, role, rec.state, { resources: res, usedAfter });
  if (batch) {
    for (const r of rec.task.resources) batch.entries.push(r);
    batch.values.push(res);
  }
  if (rec.group) joinGroup(s, fw, t, rec.group.executor, rec.group.kill_group_on_task_failure !== false);
  if (rec.status) t.status = rec.status;
  if (wasUnreachable && fw.partitionAware) {
    sendUpdate(out, fw, { ...(rec.status ?? masterStatus(s, t, rec.state, 'agent came back')), uuid: undefined });
  }
}

export function onPong(s: Core, conn: string, seq: number): void {
  const id = s.agentConns.get(conn)?.agentId;
  const a = id ? s.agents.get(id) : undefined;
  if (!a || a.peer?.id !== conn) return;
  a.pongSeq = Math.max(a.pongSeq, Math.min(seq, a.lastPingSeq));
  a.missedPings = 0;
}

export function onAgentClosed(s: Core, out: Effects, conn: string): void {
  const c = s.agentConns.get(conn);
  s.agentConns.delete(conn);
  if (c?.pending) s.abandonedAgents.set(conn, c.pending.id);
  const a = c?.agentId ? s.agents.get(c.agentId) : undefined;
  if (!a || a.peer?.id !== conn) return;
  a.peer = undefined;
  if (a.state === 'active') a.state = 'disconnected';
  out.log('warn', 'agent disconnected; waiting for it to come back', { agentId: a.id });
  rescindAgentOffers(s, out, a.id);
}

/** One ping round: agents that missed too many pings become unreachable; the rest are pinged. */
export function pingRound(s: Core, out: Effects): void {
  if (!s.leading) return;
  for (const a of s.agents.values()) {
    if (a.state === 'unreachable' || a.state === 'gone' || s.recovering.has(a.id)) continue;
    if (a.lastPingSeq > a.pongSeq || !a.peer) a.missedPings++;
    if (a.missedPings >= s.cfg.maxAgentPingTimeouts) {
      markUnreachable(s, out, a);
      continue;
    }
    a.lastPingSeq++;
    out.toAgent(a.peer?.id, { type: 'PING', seq: a.lastPingSeq });
  }
}

/** An agent silent past the ping timeouts (or the re-register window): its tasks are reported unreachable (or lost). */
export function markUnreachable(s: Core, out: Effects, a: AgentEntry): void {
  out.log('warn', 'agent unreachable; reporting its tasks', { agentId: a.id, missedPings: a.missedPings });
  a.state = 'unreachable';
  a.unreachableAt = s.nowSecs();
  out.persistAgent(agentRecord(a));
  out.close(a.peer?.id, 1000, 'marked unreachable');
  a.peer = undefined;
  endAgentTasks(s, out, a, 'unreachable');
  s.counters.agentsRemoved++;
}

/**
 * An operator says the agent will never come back (Mesos MARK_AGENT_GONE): its tasks end as
 * TASK_GONE_BY_OPERATOR, it is told to shut down, and its id is refused from now on, durably.
 */
export function markGone(s: Core, out: Effects, a: AgentEntry): void {
  a.state = 'gone';
  out.persistAgent(agentRecord(a), `gone:${a.id}`);
  out.log('warn', 'agent marked gone by an operator', { agentId: a.id });
  out.toAgent(a.peer?.id, { type: 'SHUTDOWN', message: `agent ${a.id} was marked gone by an operator` });
  out.close(a.peer?.id, 1000, 'agent is gone');
  a.peer = undefined;
  const settling = s.recovering.delete(a.id);
  endAgentTasks(s, out, a, 'gone');
  if (settling) agentSettled(s, out, a.id);
}

function endAgentTasks(s: Core, out: Effects, a: AgentEntry, why: 'unreachable' | 'gone'): void {
  rescindAgentOffers(s, out, a.id);
  for (const key of [...a.tasks]) {
    const t = s.tasks.get(key);
    if (!t) continue;
    const fw = s.frameworks.get(t.frameworkId);
    const status =
      why === 'gone'
        ? masterStatus(
            s,
            t,
            fw?.partitionAware ? TaskState.GONE_BY_OPERATOR : TaskState.LOST,
            `agent ${a.id} was marked gone by an operator`,
            'REASON_AGENT_REMOVED_BY_OPERATOR',
          )
        : masterStatus(
            s,
            t,
            fw?.partitionAware ? TaskState.UNREACHABLE : TaskState.LOST,
            `agent ${a.id} is unreachable`,
            'REASON_AGENT_UNREACHABLE',
          );
    applyState(s, out, t, status);
    if (fw) sendUpdate(out, fw, status);
  }
}

/** An agent remembered by the registrar, waiting to re-register with this leader. */
export function recoveredAgent(s: Core, a: AgentRecord): AgentEntry {
  if (a.state === 'admitted') s.recovering.add(a.info.id);
  const state: AgentState = a.state === 'admitted' ? 'disconnected' : a.state;
  const entry = newAgentEntry(a.info, taskResources(a.total), state, s.nowSecs(), '');
  entry.unreachableAt = a.unreachable_time;
  entry.principal = a.principal;
  return entry;
}
