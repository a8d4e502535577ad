/**
 * Task groups (LAUNCH_GROUP) in the master: each group's executor books its own resources once,
 * beside its tasks', on the agent and in the framework's allocation, from the launch until the
 * last of its tasks ends (or becomes unreachable); a re-registering agent that reports a group's
 * live tasks books it again. Each task of a group is an ordinary task with its own states.
 *
 * Kept beside the Core (as reregister.ts keeps its parts), keyed by framework, agent and
 * executor id.
 */
import type { ExecutorInfo } from '../../sdk/protocol/types.js';
import { Resources } from '../../sdk/resources/resources.js';
import { addAllocation, type FrameworkEntry, subtractAllocation, type TaskEntry } from '../registry.js';
import type { Core } from './core.js';

export interface GroupEntry {
  key: string;
  frameworkId: string;
  agentId: string;
  role: string;
  executor: ExecutorInfo;
  resources: Resources;
  killGroupOnTaskFailure: boolean;
  /** Keys of the group's tasks that have not ended. */
  live: Set<string>;
}

interface Groups {
  byKey: Map<string, GroupEntry>;
  byTask: Map<string, string>;
}

const groupsByCore = new WeakMap<Core, Groups>();

function groupsOf(s: Core): Groups {
  let g = groupsByCore.get(s);
  if (!g) {
    g = { byKey: new Map(), byTask: new Map() };
    groupsByCore.set(s, g);
  }
  return g;
}

export function groupKey(frameworkId: string, agentId: string, executorId: string): string {
  return `${frameworkId}\u0000${agentId}\u0000${executorId}`;
}

/** Whether the framework runs a live group with this executor id on this agent. */
export function executorInUse(s: Core, frameworkId: string, agentId: string, executorId: string): boolean {
  return groupsOf(s).byKey.has(groupKey(frameworkId, agentId, executorId));
}

/** The group of a task, if it belongs to one. */
export function groupOfTask(s: Core, taskKey: string): GroupEntry | undefined {
  const g = groupsOf(s);
  const k = g.byTask.get(taskKey);
  return k === undefined ? undefined : g.byKey.get(k);
}

/** Every live group (state views, tests). */
export function liveGroups(s: Core): GroupEntry[] {
  return [...groupsOf(s).byKey.values()];
}

/**
 * Books a group's executor on its agent and framework (once per group), and records `task` as
 * one of its live tasks. Returns the group.
 */
export function joinGroup(
  s: Core,
  fw: FrameworkEntry,
  task: TaskEntry,
  executor: ExecutorInfo,
  killGroupOnTaskFailure: boolean,
): GroupEntry {
  const g = groupsOf(s);
  const key = groupKey(fw.id, task.agentId, executor.executor_id);
  let entry = g.byKey.get(key);
  if (!entry) {
    const resources = Resources.from(executor.resources);
    entry = {
      key,
      frameworkId: fw.id,
      agentId: task.agentId,
      role: task.role,
      executor,
      resources,
      killGroupOnTaskFailure,
      live: new Set(),
    };
    g.byKey.set(key, entry);
    const agent = s.agents.get(task.agentId);
    if (agent) agent.used = agent.used.plus(resources);
    addAllocation(fw, task.role, resources);
  }
  entry.live.add(task.key);
  g.byTask.set(task.key, key);
  return entry;
}

/** A task of a group ended (or is unreachable): when it was the last, the executor's resources go back. */
export function leaveGroup(s: Core, task: TaskEntry): void {
  const g = groupsOf(s);
  const key = g.byTask.get(task.key);
  if (key === undefined) return;
  g.byTask.delete(task.key);
  const entry = g.byKey.get(key);
  if (!entry) return;
  entry.live.delete(task.key);
  if (entry.live.size > 0) return;
  g.byKey.delete(key);
  const agent = s.agents.get(entry.agentId);
  if (agent) agent.used = agent.used.minus(entry.resources);
  const fw = s.frameworks.get(entry.frameworkId);
  if (fw) subtractAllocation(fw, entry.role, entry.resources);
}
