/**
 * Tasks: booking a task on its agent and framework, recording its states (never backwards, so a
 * stale update cannot undo a newer one), retiring it when it ends, and routing status updates from
 * agents to frameworks and acknowledgements back, each only through the agent that holds the task.
 */
import { isTerminal, type TaskRecord, TaskState, type TaskStatus } from '../../sdk/protocol/types.js';
import { DEFAULT_ROLE, Resources } from '../../sdk/resources/resources.js';
import {
  type AgentEntry,
  addAllocation,
  type FrameworkEntry,
  MAX_COMPLETED_TASKS_PER_FRAMEWORK,
  subtractAllocation,
  type TaskEntry,
  taskKey,
} from '../registry.js';
import type { Core } from './core.js';
import type { Effects } from './effects.js';
import { leaveGroup } from './groups.js';

/** How far along a task is; a status update never moves the master's record to a lower rank. */
const RANK: Partial<Record<TaskState, number>> = {
  [TaskState.STAGING]: 0,
  [TaskState.STARTING]: 1,
  [TaskState.RUNNING]: 2,
  [TaskState.KILLING]: 3,
};

/** Whether `next` would move a task in `current` backwards (or out of a terminal state). */
export function isStale(current: TaskState, next: TaskState): boolean {
  if (isTerminal(current)) return true;
  if (isTerminal(next)) return false;
  return (RANK[next] ?? 0) < (RANK[current] ?? 0);
}

export function addTask(
  s: Core,
  agent: AgentEntry,
  fw: FrameworkEntry,
  task: TaskEntry['task'],
  role: string,
  state: TaskState,
  /**
   * Already built by the caller: the task's resources, and the agent's use with them added
   * (`usedAfter` undefined: the caller adds the task to the agent's use itself, once for many).
   */
  known?: { resources: Resources; usedAfter: Resources | undefined },
): TaskEntry {
  const key = taskKey(fw.id, task.task_id);
  const resources = known?.resources ?? Resources.from(task.resources);
  const entry: TaskEntry = {
    key,
    task,
    frameworkId: fw.id,
    agentId: agent.id,
    role,
    resources,
    state,
    statuses: [{ state, timestamp: s.nowSecs() }],
  };
  s.tasks.set(key, entry);
  agent.tasks.add(key);
  fw.tasks.add(key);
  if (!known) agent.used = agent.used.plus(resources);
  else if (known.usedAfter) agent.used = known.usedAfter;
  addAllocation(fw, role, resources);
  bumpState(s, undefined, state);
  return entry;
}

export function bumpState(s: Core, from: TaskState | undefined, to: TaskState): void {
  if (from) s.counters.tasks[from] = (s.counters.tasks[from] ?? 1) - 1;
  s.counters.tasks[to] = (s.counters.tasks[to] ?? 0) + 1;
}

/** Records a new state; a terminal one releases the task's resources and retires it. */
export function applyState(s: Core, out: Effects, t: TaskEntry, status: TaskStatus): void {
  const wasGone = isTerminal(t.state) || t.state === TaskState.UNREACHABLE;
  if (t.state !== status.state) {
    bumpState(s, t.state, status.state);
    t.statuses.push({ state: status.state, timestamp: status.timestamp, healthy: status.healthy });
  }
  t.state = status.state;
  t.status = status;
  const nowGone = isTerminal(status.state) || status.state === TaskState.UNREACHABLE;
  if (nowGone && !wasGone) {
    const agent = s.agents.get(t.agentId);
    const fw = s.frameworks.get(t.frameworkId);
    if (agent) {
      agent.used = agent.used.minus(t.resources);
      agent.tasks.delete(t.key);
    }
    if (fw) {
      subtractAllocation(fw, t.role, t.resources);
      fw.tasks.delete(t.key);
      rememberCompleted(fw, t);
    }
    leaveGroup(s, t);
    s.tasks.delete(t.key);
    s.requestAllocation(out, t.agentId);
  }
}

export function rememberCompleted(fw: FrameworkEntry, t: TaskEntry): void {
  fw.completedTasks.push(t);
  fw.completedByKey.set(t.key, t);
  if (fw.completedTasks.length > MAX_COMPLETED_TASKS_PER_FRAMEWORK) {
    const old = fw.completedTasks.shift();
    if (old && fw.completedByKey.get(old.key) === old) fw.completedByKey.delete(old.key);
  }
}

export function masterStatus(
  s: Core,
  t: Pick<TaskEntry, 'task' | 'agentId'>,
  state: TaskState,
  message: string,
  reason?: string,
): TaskStatus {
  return stripUndefined({
    task_id: t.task.task_id,
    state,
    message,
    reason,
    source: 'SOURCE_MASTER',
    agent_id: t.agentId,
    timestamp: s.nowSecs(),
  });
}

export function sendUpdate(out: Effects, fw: FrameworkEntry, status: TaskStatus): void {
  out.toScheduler(fw.peer?.id, { type: 'UPDATE', update: { status: stripUndefined(status) } });
}

export function latest(s: Core, t: TaskEntry): TaskStatus {
  return t.status ?? masterStatus(s, t, t.state, 'task is known to the master');
}

/** A live or completed task of this framework, by id. */
export function findTask(s: Core, fw: FrameworkEntry | undefined, frameworkId: string, taskId: string) {
  const key = taskKey(frameworkId, taskId);
  return s.tasks.get(key) ?? fw?.completedByKey.get(key);
}

/**
 * A status update from agent `agentId`. Updates for a task that another agent holds are dropped
 * (counted and logged), never forwarded. A stale update (lower state than the master's record) is
 * still forwarded, so the framework acknowledges it and the agent's stream moves on, but it does
 * not change the master's record.
 */
export function statusUpdate(s: Core, out: Effects, agentId: string, frameworkId: string, status: TaskStatus): void {
  s.counters.statusUpdates++;
  const agent = s.agents.get(agentId);
  const fw = s.frameworks.get(frameworkId);
  const known = findTask(s, fw, frameworkId, status.task_id);
  if (known && known.agentId !== agentId) {
    s.counters.statusUpdatesDropped++;
    out.log('warn', 'status update from an agent that does not hold the task; dropped', {
      agentId,
      holder: known.agentId,
      frameworkId,
      taskId: status.task_id,
    });
    return;
  }
  const update = { ...status, agent_id: agentId };
  const live = s.tasks.get(taskKey(frameworkId, status.task_id));
  if (live) {
    if (isStale(live.state, status.state)) {
      out.log('debug', 'stale status update; the master keeps the newer state', {
        taskId: status.task_id,
        kept: live.state,
        stale: status.state,
      });
    } else {
      applyState(s, out, live, update);
    }
  }
  if (!fw) {
    // Nobody will ever acknowledge this: the framework is gone. Acknowledge on its behalf.
    if (status.uuid) {
      out.toAgent(agent?.peer?.id, {
        type: 'ACK_UPDATE',
        framework_id: frameworkId,
        task_id: status.task_id,
        uuid: status.uuid,
      });
    }
    return;
  }
  sendUpdate(out, fw, update);
}

/** A framework's acknowledgement goes to the agent that holds the task, and only there. */
export function acknowledge(
  s: Core,
  out: Effects,
  fw: FrameworkEntry,
  ack: { agent_id: string; task_id: string; uuid: string },
): void {
  const known = findTask(s, fw, fw.id, ack.task_id);
  if (known && known.agentId !== ack.agent_id) {
    s.counters.acknowledgementsDropped++;
    out.log('warn', 'acknowledgement names an agent that does not hold the task; dropped', {
      frameworkId: fw.id,
      taskId: ack.task_id,
      named: ack.agent_id,
      holder: known.agentId,
    });
    return;
  }
  const a = s.agents.get(ack.agent_id);
  if (!a) {
    out.schedulerError(fw.peer?.id, 'AGORA_MASTER_UNKNOWN_AGENT', `cannot acknowledge: unknown agent ${ack.agent_id}`);
    return;
  }
  out.toAgent(a.peer?.id, { type: 'ACK_UPDATE', framework_id: fw.id, task_id: ack.task_id, uuid: ack.uuid });
}

/** The role a task is charged to: its reserved role if any, else the framework's first role. */
export function roleOfTask(fw: FrameworkEntry, resources: Resources): string {
  // The first reserved entry's role, found without building the list of roles.
  let reserved: string | undefined;
  resources.forEachEntry((r) => {
    if (reserved === undefined && r.role !== undefined && r.role !== DEFAULT_ROLE) reserved = r.role;
  });
  return reserved ?? fw.roles[0] ?? DEFAULT_ROLE;
}

export function completedEntry(s: Core, agent: AgentEntry, fw: FrameworkEntry, rec: TaskRecord): TaskEntry {
  const status = rec.status ?? masterStatus(s, { task: rec.task, agentId: agent.id }, rec.state, 'ended');
  const resources = Resources.from(rec.task.resources);
  return {
    key: taskKey(fw.id, rec.task.task_id),
    task: rec.task,
    frameworkId: fw.id,
    agentId: agent.id,
    role: roleOfTask(fw, resources),
    resources,
    state: rec.state,
    status,
    statuses: [{ state: rec.state, timestamp: status.timestamp }],
  };
}

export function stripUndefined<T extends object>(o: T): T {
  // for...in rather than Object.entries: no array per field (status updates are the bulk of what a
  // master sends). Only own fields: these are plain objects built from decoded frames or literals.
  const out = {} as Record<string, unknown>;
  const from = o as Record<string, unknown>;
  for (const k in from) {
    const v = from[k];
    if (v !== undefined && Object.hasOwn(from, k)) out[k] = v;
  }
  return out as T;
}
