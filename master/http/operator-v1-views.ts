/**
 * The v1 operator API's read answers (GET_STATE, GET_AGENTS, GET_FRAMEWORKS, GET_TASKS, GET_ROLES,
 * GET_MASTER, GET_VERSION) built from the master's read-only views, filtered by what the caller
 * may see (view_frameworks by the framework's user, view_tasks by the task's user). Pure reads.
 */
import { taskUser } from '../../sdk/http/index.js';
import type { MasterInfo } from '../../sdk/protocol/types.js';
import { Resources } from '../../sdk/resources/resources.js';
import type { Master } from '../master.js';
import type { FrameworkEntry, OfferEntry, TaskEntry } from '../registry.js';
import { BUILD_INFO } from './build-info.js';
import { getExecutors, groupsByTask } from './operator-executors.js';
import {
  type FrameworkHoldings,
  type Json,
  splitTasks,
  v1Agent,
  v1Framework,
  v1FrameworkInfo,
  v1Role,
  v1Task,
} from './operator-v1-json.js';
import { roleViews } from './role-views.js';

/** Whether the caller may see a framework / task of this OS user (undefined: none named). */
export type May = (action: string, object: string | undefined) => boolean;
export const everything: May = () => true;

/** The parts of the master these views read. */
export type MasterView = Pick<Master, 'agents' | 'frameworks' | 'completedFrameworks' | 'tasks' | 'offers'>;

export function holdings(master: MasterView, f: FrameworkEntry): FrameworkHoldings {
  let allocated = Resources.empty();
  for (const k of f.tasks) {
    const t = master.tasks.get(k);
    if (t) allocated = allocated.plus(t.resources);
  }
  const offers: OfferEntry[] = [];
  let offered = Resources.empty();
  for (const oid of f.offers) {
    const o = master.offers.get(oid);
    if (!o) continue;
    offers.push(o);
    offered = offered.plus(o.resources);
  }
  return { offers, allocated, offered };
}

const hostOf = (master: Master) => (agentId: string) => master.agents.get(agentId)?.info.hostname;

export function liveTasks(master: MasterView, f: FrameworkEntry): TaskEntry[] {
  const out: TaskEntry[] = [];
  for (const k of f.tasks) {
    const t = master.tasks.get(k);
    if (t) out.push(t);
  }
  return out;
}

function visibleFrameworks(master: Master, may: May) {
  const ok = (f: FrameworkEntry) => may('view_frameworks', f.info.user || undefined);
  return { active: [...master.frameworks.values()].filter(ok), completed: master.completedFrameworks.filter(ok) };
}

export function getFrameworks(master: Master, may: May = everything): Json {
  const { active, completed } = visibleFrameworks(master, may);
  const host = hostOf(master);
  return {
    frameworks: active.map((f) => v1Framework(f, holdings(master, f), host)),
    completed_frameworks: completed.map((f) => v1Framework(f, holdings(master, f), host)),
  };
}

export function getAgents(master: Master): Json {
  const agents = [...master.agents.values()].filter((a) => a.state === 'active' || a.state === 'disconnected');
  return { agents: agents.map(v1Agent), recovered_agents: [] };
}

export function getTasks(master: Master, may: May = everything): Json {
  const { active, completed } = visibleFrameworks(master, may);
  const groups = groupsByTask(master);
  const task = (t: TaskEntry) => {
    const g = groups.get(t.key);
    return g ? { ...v1Task(t), executor_id: { value: g.executor.executor_id } } : v1Task(t);
  };
  const out = { tasks: [] as Json[], unreachable_tasks: [] as Json[], completed_tasks: [] as Json[] };
  for (const f of [...active, ...completed]) {
    const seen = (t: TaskEntry) => may('view_tasks', taskUser(t.task.command, f.info.user));
    const s = splitTasks(liveTasks(master, f).filter(seen), f.completedTasks.filter(seen));
    out.tasks.push(...s.tasks.map(task));
    out.unreachable_tasks.push(...s.unreachable.map(task));
    out.completed_tasks.push(...s.completed.map(task));
  }
  return out;
}

export function getState(master: Master, may: May = everything): Json {
  return {
    get_tasks: getTasks(master, may),
    get_executors: getExecutors(master, may),
    get_frameworks: getFrameworks(master, may),
    get_agents: getAgents(master),
  };
}

export function getRoles(master: Master, may: May = everything): Json {
  return {
    roles: roleViews(master)
      .filter((v) => may('view_roles', v.name))
      .map(v1Role),
  };
}

/** An IPv4 address as Mesos's `MasterInfo.ip`: the network-order bytes read as a little-endian uint32. */
export function ipAsUint32(ip: string): number {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return 0;
  return ((parts[3] << 24) >>> 0) + (parts[2] << 16) + (parts[1] << 8) + parts[0];
}

export function v1MasterInfo(info: MasterInfo): Json {
  return {
    id: info.id,
    ip: ipAsUint32(info.address.ip),
    port: info.port,
    pid: info.pid,
    hostname: info.hostname,
    version: info.version,
    address: { hostname: info.address.hostname, ip: info.address.ip, port: info.address.port },
    capabilities: [{ type: 'AGENT_UPDATE' }],
  };
}

export function getMaster(master: Master): Json {
  const out: Json = { master_info: v1MasterInfo(master.info), start_time: master.startedAt / 1000 };
  if (master.electedAt !== undefined) out.elected_time = master.electedAt / 1000;
  return out;
}

export function getVersion(): Json {
  return { version_info: { ...BUILD_INFO } };
}

/** A framework's info as FRAMEWORK_REMOVED carries it. */
export function removedFrameworkInfo(f: FrameworkEntry): Json {
  return v1FrameworkInfo(f.info, f.roles);
}
