/**
 * Task groups (LAUNCH_GROUP) in the master's state answers, as Mesos shows them: the group's
 * DEFAULT executor (its id, its own resources) is listed once (classic `frameworks[].executors`,
 * v1 GET_EXECUTORS and GET_STATE's `get_executors`), and each task of the group names it as its
 * `executor_id`. Tasks launched alone keep Mesos's command executor model (not listed; the
 * classic `executor_id` is the task id). Pure reads of the master's live groups.
 */
import { taskUser } from '../../sdk/http/index.js';
import { Resources, resourcesObject } from '../../sdk/resources/resources.js';
import type { Master } from '../master.js';
import type { GroupEntry } from '../state/groups.js';
import { id, type Json, v1Resources } from './operator-v1-json.js';

type Groups = Pick<Master, 'groups'>;
type May = (action: string, object: string | undefined) => boolean;

/** Each live group task's key → its group. */
export function groupsByTask(master: Groups): Map<string, GroupEntry> {
  const out = new Map<string, GroupEntry>();
  for (const g of master.groups) for (const k of g.live) out.set(k, g);
  return out;
}

/** The live groups of one framework. */
export function groupsOf(master: Groups, frameworkId: string): GroupEntry[] {
  return master.groups.filter((g) => g.frameworkId === frameworkId);
}

/** A group's executor as the classic `/master/state` lists it under its framework. */
export function classicExecutor(g: GroupEntry): Json {
  return {
    executor_id: g.executor.executor_id,
    name: g.executor.name ?? '',
    framework_id: g.frameworkId,
    slave_id: g.agentId,
    agent_id: g.agentId,
    type: 'DEFAULT',
    role: g.role,
    resources: resourcesObject(Resources.from(g.executor.resources)),
    ...(g.executor.container ? { container: g.executor.container } : {}),
    ...(g.executor.labels ? { labels: g.executor.labels.labels } : {}),
  };
}

/** A group's executor as v1 GET_EXECUTORS lists it: `{agent_id, executor_info}`. */
export function v1Executor(g: GroupEntry): Json {
  const info: Json = {
    executor_id: id(g.executor.executor_id),
    framework_id: id(g.frameworkId),
    type: 'DEFAULT',
    resources: v1Resources(Resources.from(g.executor.resources)),
  };
  if (g.executor.name) info.name = g.executor.name;
  if (g.executor.container) info.container = g.executor.container;
  if (g.executor.labels) info.labels = { labels: g.executor.labels.labels };
  return { agent_id: id(g.agentId), executor_info: info };
}

/**
 * GET_EXECUTORS: the live groups' executors the caller may see (view_frameworks and
 * view_executors on the framework's user, as Mesos filters executors).
 */
export function getExecutors(master: Pick<Master, 'groups' | 'frameworks'>, may: May): Json {
  const executors: Json[] = [];
  for (const g of master.groups) {
    const user = master.frameworks.get(g.frameworkId)?.info.user || undefined;
    if (!may('view_frameworks', user) || !may('view_executors', taskUser(undefined, user))) continue;
    executors.push(v1Executor(g));
  }
  return { executors };
}
