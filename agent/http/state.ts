/** `GET /state` (also `/slave(1)/state`): Mesos's agent state shape. */
import { Type } from 'typebox';
import { type AgoraPlugin, taskUser, viewer } from '../../sdk/http/index.js';
import { Resources, resourcesObject } from '../../sdk/resources/resources.js';
import { AGENT_VERSION } from '../agent.js';
import type { AgentHttpOptions, AgentView } from './context.js';

const TERMINAL = new Set(['TASK_FINISHED', 'TASK_FAILED', 'TASK_KILLED', 'TASK_ERROR', 'TASK_LOST']);

export const AgentStateResponse = Type.Object({
  id: Type.Optional(Type.String()),
  version: Type.String(),
  master_hostname: Type.Optional(Type.String()),
  resources: Type.Record(Type.String(), Type.Union([Type.Number(), Type.String()])),
  attributes: Type.Record(Type.String(), Type.String()),
  containerizers: Type.Array(Type.String()),
  registered: Type.Boolean(),
  start_time: Type.Number(),
  /** Each `{id, name, executors: [{id, tasks, completed_tasks}]}`, tasks as built below. */
  frameworks: Type.Array(Type.Unknown()),
  pending_status_updates: Type.Integer(),
});

/** May the caller see a framework (by its user) or a task (by its user)? Everything by default. */
export type StateViewer = (action: 'view_frameworks' | 'view_tasks', user: string | undefined) => boolean;

export function agentState(agent: AgentView, may: StateViewer = () => true) {
  const frameworks = new Map<string, { id: string; name: string; tasks: unknown[]; completed: unknown[] }>();
  for (const t of agent.tasks.values()) {
    if (!may('view_frameworks', t.framework.user || undefined)) continue;
    let f = frameworks.get(t.framework.id);
    if (!f) {
      f = { id: t.framework.id, name: t.framework.name, tasks: [], completed: [] };
      frameworks.set(t.framework.id, f);
    }
    if (!may('view_tasks', taskUser(t.task.command, t.framework.user))) continue;
    const json = {
      id: t.task.task_id,
      name: t.task.name,
      framework_id: t.framework.id,
      state: t.state,
      resources: resourcesObject(Resources.from(t.task.resources)),
      sandbox: t.sandbox,
      containerizer: t.containerizer,
      container: t.handle ? { id: t.handle.id, pid: t.handle.pid } : undefined,
      statuses: t.latest ? [t.latest] : [],
      unacknowledged_updates: t.pending.length,
    };
    (TERMINAL.has(t.state) ? f.completed : f.tasks).push(json);
  }
  return {
    id: agent.agentId,
    version: AGENT_VERSION,
    master_hostname: agent.masterInfo?.pid,
    resources: resourcesObject(agent.resources),
    attributes: agent.attributes,
    containerizers: agent.containerizers.map((c) => c.name),
    registered: agent.connected,
    start_time: agent.startedAt / 1000,
    frameworks: [...frameworks.values()].map((f) => ({
      id: f.id,
      name: f.name,
      executors: [{ id: '', tasks: f.tasks, completed_tasks: f.completed }],
    })),
    pending_status_updates: agent.updates.pendingCount(),
  };
}

export const stateRoutes: AgoraPlugin<AgentHttpOptions> = async (app, { agent }) => {
  for (const url of ['/state', '/slave(1)/state']) {
    app.get(url, { config: { action: 'view_state' }, schema: { response: { 200: AgentStateResponse } } }, async (req) =>
      agentState(agent, viewer(app, req)),
    );
  }
};
