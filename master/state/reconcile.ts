/**
 * Explicit and implicit reconciliation (RECONCILE), and the questions held after a failover.
 *
 * A task the master knows is answered at once with its latest state. A task it does not know, on
 * an agent that has not re-registered with this leader yet, may still come back with that agent:
 * Mesos sends no answer then, and the framework asks again after a backoff (the SDK's driver waits
 * 1 s, then 2 s, ...), so a framework that reconciles at re-subscription, as it should, learns of
 * its tasks only at its next round after their agents are back. Here such a question is held
 * instead and answered the moment the question can be: when the agent re-registers (with the state
 * it reported), is marked unreachable or gone (with that), or, for a task named without an agent,
 * when no remembered agent is still awaited. Asking again is harmless: a held question is held
 * once. Held questions are bounded; past the bound a question is left unanswered, as in Mesos.
 */
import { type TaskState as State, TaskState, type TaskStatus } from '../../sdk/protocol/types.js';
import { type FrameworkEntry, type TaskEntry, taskKey } from '../registry.js';
import type { Core } from './core.js';
import type { Effects } from './effects.js';
import { latest, sendUpdate } from './tasks.js';

/** Questions held at once, over every framework and agent. */
export const MAX_HELD_RECONCILE = 500_000;

export interface TaskRef {
  task_id: string;
  agent_id?: string;
}

/**
 * The questions held for one awaited agent, in the order asked: the asking framework and the task
 * key (framework id and task id, as the task map is keyed: the key hashed once when asked is the
 * key looked up when answered). A failover holds one question per task (50,000), mostly a handful
 * per agent: a map and a set per agent and framework were 55,000 collections made, promoted and
 * dropped in the burst; two arrays per agent, searched for a repeat while short, are not.
 */
interface AgentQuestions {
  frameworks: string[];
  taskIds: string[];
  keys: string[];
  /** The keys, once the list is long enough that a linear search for a repeat would cost more. */
  index?: Set<string>;
}

/** Questions per agent searched linearly for a repeat; past this, through a set. */
const LINEAR_SEARCH_MAX = 32;

interface Held {
  /** Agent id → the questions about its tasks. */
  byAgent: Map<string, AgentQuestions>;
  /** Framework id → task ids asked about without an agent id. */
  anyAgent: Map<string, Set<string>>;
  count: number;
}

const heldByCore = new WeakMap<Core, Held>();

function heldOf(s: Core): Held {
  let h = heldByCore.get(s);
  if (!h) {
    h = { byAgent: new Map(), anyAgent: new Map(), count: 0 };
    heldByCore.set(s, h);
  }
  return h;
}

/**
 * While agents are still awaited after a failover: the seconds until the last held question is
 * answered at the latest (the agent re-register window closes, and every agent still awaited is
 * marked unreachable). Told to a framework in SUBSCRIBED, so that its reconciler does not ask again
 * what is held (a repeated question only finds it held: at 50,000 tasks, tens of thousands of
 * questions decoded and looked up for nothing, in the middle of the failover's burst). A question
 * past the bound on held questions is not held: the framework's next round after the hold asks it.
 */
export function reconcileHoldSeconds(s: Core): number | undefined {
  if (s.recovering.size === 0 || s.electedAt === undefined) return undefined;
  if (heldReconcileQuestions(s) >= MAX_HELD_RECONCILE) return undefined;
  const left = s.electedAt + s.cfg.agentReregisterTimeoutMs - s.nowMs();
  return left > 0 ? Math.ceil(left / 1000) : undefined;
}

/** Questions held now (tests, metrics). */
export function heldReconcileQuestions(s: Core): number {
  return heldByCore.get(s)?.count ?? 0;
}

/** Leadership lost: nothing held is answered by this master any more. */
export function clearReconcileHold(s: Core): void {
  heldByCore.delete(s);
}

/** Holds a question about a task on an awaited agent, once (a repeated question is held already). */
function holdForAgent(h: Held, agentId: string, frameworkId: string, taskId: string, key: string): void {
  let q = h.byAgent.get(agentId);
  if (!q) {
    q = { frameworks: [], taskIds: [], keys: [] };
    h.byAgent.set(agentId, q);
  }
  if (q.index ? q.index.has(key) : q.keys.includes(key)) return;
  if (h.count >= MAX_HELD_RECONCILE) return;
  q.frameworks.push(frameworkId);
  q.taskIds.push(taskId);
  q.keys.push(key);
  if (q.index) q.index.add(key);
  else if (q.keys.length > LINEAR_SEARCH_MAX) q.index = new Set(q.keys);
  h.count++;
}

function hold(h: Held, into: Map<string, Set<string>>, frameworkId: string, taskId: string): void {
  let set = into.get(frameworkId);
  if (!set) {
    set = new Set();
    into.set(frameworkId, set);
  }
  if (set.has(taskId) || h.count >= MAX_HELD_RECONCILE) return;
  set.add(taskId);
  h.count++;
}

export function reconcile(s: Core, out: Effects, fw: FrameworkEntry, tasks: TaskRef[]): void {
  const now = s.nowSecs();
  if (tasks.length === 0) {
    for (const key of fw.tasks) {
      const t = s.tasks.get(key);
      if (t) answerKnown(s, out, fw, t, now);
    }
    return;
  }
  for (const q of tasks) ask(s, out, fw, q.task_id, q.agent_id, now);
}

function ask(
  s: Core,
  out: Effects,
  fw: FrameworkEntry,
  taskId: string,
  agentId: string | undefined,
  now: number,
): void {
  askByKey(s, out, fw, taskId, taskKey(fw.id, taskId), agentId, now);
}

/** One question (`key`: the task's key), answered now, held until its agent is settled, or answered as unknown. */
function askByKey(
  s: Core,
  out: Effects,
  fw: FrameworkEntry,
  taskId: string,
  key: string,
  agentId: string | undefined,
  now: number,
): void {
  const known = s.tasks.get(key) ?? fw.completedByKey.get(key);
  if (known) {
    answerKnown(s, out, fw, known, now);
    return;
  }
  // Its agent may still re-register with it: answered when that is settled (see above).
  // Without an agent id, any agent still re-registering could be the one holding it.
  if (agentId ? s.recovering.has(agentId) : s.recovering.size > 0) {
    const h = heldOf(s);
    if (agentId) holdForAgent(h, agentId, fw.id, taskId, key);
    else hold(h, h.anyAgent, fw.id, taskId);
    return;
  }
  unknownTask(s, out, fw, agentId === undefined ? { task_id: taskId } : { task_id: taskId, agent_id: agentId }, now);
}

/**
 * The task's latest status, as a reconciliation answer: no uuid (nothing to acknowledge), reason
 * REASON_RECONCILIATION, the time now. Built in one copy without undefined fields (a failover
 * answers 50,000 of these in a burst: a spread and then a second copy to drop the undefined ones
 * were a tenth of the new leader's own work).
 */
function answerKnown(s: Core, out: Effects, fw: FrameworkEntry, t: TaskEntry, now: number): void {
  const from = latest(s, t) as unknown as Record<string, unknown>;
  const status: Record<string, unknown> = {};
  for (const k in from) {
    const v = from[k];
    if (v !== undefined && k !== 'uuid' && Object.hasOwn(from, k)) status[k] = v;
  }
  status.reason = 'REASON_RECONCILIATION';
  status.timestamp = now;
  out.toScheduler(fw.peer?.id, { type: 'UPDATE', update: { status: status as unknown as TaskStatus } });
}

function unknownTask(s: Core, out: Effects, fw: FrameworkEntry, q: TaskRef, now: number): void {
  const agent = q.agent_id ? s.agents.get(q.agent_id) : undefined;
  let state: State;
  if (agent?.state === 'gone') state = fw.partitionAware ? TaskState.GONE_BY_OPERATOR : TaskState.LOST;
  else if (agent?.state === 'unreachable') state = fw.partitionAware ? TaskState.UNREACHABLE : TaskState.LOST;
  else if (agent) state = fw.partitionAware ? TaskState.GONE : TaskState.LOST;
  else state = fw.partitionAware ? TaskState.UNKNOWN : TaskState.LOST;
  sendUpdate(out, fw, {
    task_id: q.task_id,
    agent_id: q.agent_id,
    state,
    message: 'reconciliation: task unknown to the master',
    reason: 'REASON_RECONCILIATION',
    source: 'SOURCE_MASTER',
    timestamp: now,
  });
}

/**
 * The agent is no longer awaited (it re-registered with its tasks, or was marked unreachable or
 * gone): the questions held for it are answered now, and those held without an agent once no
 * remembered agent is awaited any more.
 */
export function agentSettled(s: Core, out: Effects, agentId: string): void {
  const h = heldByCore.get(s);
  if (!h) return;
  const q = h.byAgent.get(agentId);
  if (q) {
    h.byAgent.delete(agentId);
    h.count -= q.keys.length;
    const now = s.nowSecs();
    let fw: FrameworkEntry | undefined;
    for (let i = 0; i < q.keys.length; i++) {
      const frameworkId = q.frameworks[i];
      if (fw?.id !== frameworkId) fw = s.frameworks.get(frameworkId);
      if (!fw) continue; // gone meanwhile (torn down): nobody to answer
      askByKey(s, out, fw, q.taskIds[i], q.keys[i], agentId, now);
    }
  }
  if (s.recovering.size === 0 && h.anyAgent.size > 0) {
    const any = h.anyAgent;
    h.anyAgent = new Map();
    answerAnyAgent(s, out, h, any);
  }
}

/** Asks again the questions held without an agent id, now that no agent is awaited any more. */
function answerAnyAgent(s: Core, out: Effects, h: Held, byFw: Map<string, Set<string>>): void {
  const now = s.nowSecs();
  for (const [frameworkId, ids] of byFw) {
    h.count -= ids.size;
    const fw = s.frameworks.get(frameworkId);
    if (!fw) continue; // gone meanwhile (torn down): nobody to answer
    for (const taskId of ids) ask(s, out, fw, taskId, undefined, now);
  }
}
