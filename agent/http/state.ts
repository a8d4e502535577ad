/**
 * `GET /state` (also `/slave(1)/state`, `/state.json`): Mesos 1.11's agent state shape, as its web
 * UI reads it. A task launched alone runs under Mesos's command executor model: one executor per
 * task, whose id is the task's id (the master's `/master/state` says the same `executor_id`), its
 * directory the task's sandbox. The tasks of a group (LAUNCH_GROUP) run under their group's one
 * DEFAULT executor: its id, its resources (its own plus its live tasks', as Mesos counts them),
 * its directory the group's. A task stays under its executor (in `completed_tasks` once over) until its last
 * update is acknowledged. Agora's own fields (`sandbox`, `containerizer`, `container`,
 * `unacknowledged_updates`, `pending_status_updates`) stay beside Mesos's.
 */
import { hostname as osHostname } from 'node:os';
import { dirname } from 'node:path';
import { Type } from 'typebox';
import { type AgoraPlugin, taskUser, viewer } from '../../sdk/http/index.js';
import { DEFAULT_ROLE, Resources, resourcesObject } from '../../sdk/resources/resources.js';
import { AGENT_VERSION } from '../agent.js';
import type { AgentTask } from '../task.js';
import type { AgentHttpOptions, AgentView } from './context.js';

const TERMINAL = new Set([
  'TASK_FINISHED',
  'TASK_FAILED',
  'TASK_KILLED',
  'TASK_ERROR',
  'TASK_LOST',
  'TASK_DROPPED',
  'TASK_GONE',
  'TASK_GONE_BY_OPERATOR',
]);

const ResourcesObject = Type.Record(Type.String(), Type.Union([Type.Number(), Type.String()]));
export const AgentStateResponse = Type.Object({
  id: Type.Optional(Type.String()),
  pid: Type.String(),
  hostname: Type.String(),
  version: Type.String(),
  build_date: Type.String(),
  build_time: Type.Number(),
  build_user: Type.String(),
  master_hostname: Type.Optional(Type.String()),
  resources: ResourcesObject,
  unreserved_resources: ResourcesObject,
  reserved_resources: Type.Record(Type.String(), ResourcesObject),
  reserved_resources_allocated: Type.Record(Type.String(), ResourcesObject),
  resource_providers: Type.Array(Type.Unknown()),
  attributes: Type.Record(Type.String(), Type.String()),
  flags: Type.Record(Type.String(), Type.String()),
  containerizers: Type.Array(Type.String()),
  registered: Type.Boolean(),
  start_time: Type.Number(),
  /** Each with `executors` (and `completed_executors`), tasks as built below. */
  frameworks: Type.Array(Type.Unknown()),
  completed_frameworks: Type.Array(Type.Unknown()),
  pending_status_updates: Type.Integer(),
});

/** May the caller see a framework (by its user) or a task (by its user)? Everything by default. */
export type StateViewer = (action: 'view_frameworks' | 'view_tasks', user: string | undefined) => boolean;

/** Where this agent answers, for `pid` and `hostname`. */
export interface AgentAddress {
  hostname: string;
  port: number;
  ip: string;
}

export interface BuildInfoLike {
  build_date: string;
  build_time: number;
  build_user: string;
}

function reservedByRole(r: Resources): Record<string, Record<string, number | string>> {
  const out: Record<string, Record<string, number | string>> = {};
  for (const role of r.roles()) if (role !== DEFAULT_ROLE) out[role] = resourcesObject(r.reservedFor(role));
  return out;
}

/** The resources of the tasks that still hold them. */
function allocated(agent: AgentView): Resources {
  let out = Resources.empty();
  for (const t of agent.tasks.values()) if (!TERMINAL.has(t.state)) out = out.plus(Resources.from(t.task.resources));
  return out;
}

/** The host of a `name@host:port` pid. */
function pidHost(pid: string | undefined): string | undefined {
  if (!pid) return undefined;
  const at = pid.slice(pid.indexOf('@') + 1);
  const colon = at.lastIndexOf(':');
  return colon > 0 ? at.slice(0, colon) : at;
}

function taskJson(t: AgentTask, agentId: string | undefined, role: string) {
  return {
    id: t.task.task_id,
    name: t.task.name,
    framework_id: t.framework.id,
    executor_id: t.group?.executor.executor_id ?? t.task.task_id,
    slave_id: agentId ?? '',
    state: t.state,
    role,
    resources: resourcesObject(Resources.from(t.task.resources)),
    statuses: t.latest ? [t.latest] : [],
    labels: t.task.labels?.labels ?? [],
    directory: t.sandbox,
    sandbox: t.sandbox,
    containerizer: t.containerizer,
    container: t.handle ? { id: t.handle.id, pid: t.handle.pid } : undefined,
    unacknowledged_updates: t.pending.length,
  };
}

/** The command executor Mesos would have run for this task. */
function executorJson(t: AgentTask, agentId: string | undefined, role: string) {
  const json = taskJson(t, agentId, role);
  const done = TERMINAL.has(t.state);
  return {
    id: t.task.task_id,
    name: `Command Executor (Task: ${t.task.task_id}) (Command: ${(t.task.command?.value ?? '').slice(0, 64)})`,
    source: t.task.task_id,
    framework_id: t.framework.id,
    type: 'COMMAND',
    role,
    container: t.handle?.id ?? '',
    directory: t.sandbox,
    resources: resourcesObject(done ? Resources.empty() : Resources.from(t.task.resources)),
    tasks: done ? [] : [json],
    queued_tasks: [],
    completed_tasks: done ? [json] : [],
  };
}

type TaskJson = ReturnType<typeof taskJson>;
type ExecutorJson = Omit<ReturnType<typeof executorJson>, 'type' | 'resources'> & {
  type: string;
  resources: Record<string, number | string>;
};

/** A task group's DEFAULT executor, holding the group's tasks (built up as they are met). */
class GroupExecutor {
  private resources: Resources;
  readonly tasks: TaskJson[] = [];
  readonly completed: TaskJson[] = [];
  constructor(
    private readonly first: AgentTask,
    private readonly role: string,
  ) {
    this.resources = Resources.from(first.group?.executor.resources ?? []);
  }

  add(t: AgentTask, json: TaskJson): void {
    if (TERMINAL.has(t.state)) this.completed.push(json);
    else {
      this.tasks.push(json);
      this.resources = this.resources.plus(Resources.from(t.task.resources));
    }
  }

  json(): ExecutorJson {
    const g = this.first.group;
    const live = this.tasks.length > 0;
    return {
      id: g?.executor.executor_id ?? '',
      name: g?.executor.name ?? '',
      source: '',
      framework_id: this.first.framework.id,
      type: 'DEFAULT',
      role: this.role,
      container: this.first.handle?.id ?? '',
      directory: g ? dirname(g.sharedDir) : this.first.sandbox,
      resources: resourcesObject(live ? this.resources : Resources.empty()),
      tasks: this.tasks,
      queued_tasks: [],
      completed_tasks: this.completed,
    };
  }
}

export function agentState(
  agent: AgentView,
  may: StateViewer = () => true,
  where?: AgentAddress,
  flags: Record<string, string> = {},
  build: BuildInfoLike = { build_date: '', build_time: 0, build_user: '' },
) {
  type Fw = {
    info: AgentTask['framework'];
    executors: (ExecutorJson | GroupExecutor)[];
    groups: Map<string, GroupExecutor>;
  };
  const frameworks = new Map<string, Fw>();
  for (const t of agent.tasks.values()) {
    if (!may('view_frameworks', t.framework.user || undefined)) continue;
    let f = frameworks.get(t.framework.id);
    if (!f) {
      f = { info: t.framework, executors: [], groups: new Map() };
      frameworks.set(t.framework.id, f);
    }
    if (!may('view_tasks', taskUser(t.task.command, t.framework.user))) continue;
    const role =
      Resources.from(t.task.resources)
        .roles()
        .find((r) => r !== DEFAULT_ROLE) ??
      t.framework.roles?.[0] ??
      DEFAULT_ROLE;
    if (t.group) {
      const eid = t.group.executor.executor_id;
      let g = f.groups.get(eid);
      if (!g) {
        g = new GroupExecutor(t, role);
        f.groups.set(eid, g);
        f.executors.push(g);
      }
      g.add(t, taskJson(t, agent.agentId, role));
    } else f.executors.push(executorJson(t, agent.agentId, role));
  }
  const host = where?.hostname ?? osHostname();
  const masterInfo = agent.masterInfo as { pid?: string; hostname?: string } | undefined;
  return {
    id: agent.agentId,
    pid: `slave(1)@${where?.ip ?? '127.0.0.1'}:${where?.port ?? 0}`,
    hostname: host,
    version: AGENT_VERSION,
    ...build,
    master_hostname: masterInfo?.hostname || pidHost(masterInfo?.pid),
    resources: resourcesObject(agent.resources),
    unreserved_resources: resourcesObject(agent.resources.unreserved()),
    reserved_resources: reservedByRole(agent.resources),
    reserved_resources_allocated: reservedByRole(allocated(agent)),
    resource_providers: [],
    attributes: agent.attributes,
    flags,
    containerizers: agent.containerizers.map((c) => c.name),
    registered: agent.connected,
    start_time: agent.startedAt / 1000,
    frameworks: [...frameworks.values()].map((f) => ({
      id: f.info.id,
      name: f.info.name,
      user: f.info.user ?? '',
      hostname: f.info.hostname ?? '',
      role: f.info.roles?.[0] ?? DEFAULT_ROLE,
      roles: f.info.roles ?? [DEFAULT_ROLE],
      failover_timeout: f.info.failover_timeout ?? 0,
      checkpoint: f.info.checkpoint ?? false,
      capabilities: (f.info.capabilities ?? []).map((c) => c.type),
      principal: f.info.principal ?? '',
      executors: f.executors.map((e) => (e instanceof GroupExecutor ? e.json() : e)),
      completed_executors: [],
    })),
    // Agora forgets a framework's tasks on the agent once their last update is acknowledged.
    completed_frameworks: [],
    pending_status_updates: agent.updates.pendingCount(),
  };
}

export const stateRoutes: AgoraPlugin<AgentHttpOptions> = async (app, opts) => {
  const where = (): AgentAddress => {
    const a = app.server.address();
    const port = typeof a === 'object' && a ? a.port : 0;
    const ip = typeof a === 'object' && a && a.address !== '0.0.0.0' && a.address !== '::' ? a.address : '127.0.0.1';
    return { hostname: opts.hostname ?? osHostname(), port, ip };
  };
  for (const url of ['/state', '/slave(1)/state', '/state.json', '/slave(1)/state.json']) {
    app.get(url, { config: { action: 'view_state' }, schema: { response: { 200: AgentStateResponse } } }, async (req) =>
      agentState(opts.agent, viewer(app, req), where(), opts.flags ?? {}, opts.build),
    );
  }
};
