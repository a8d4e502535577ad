/**
 * `GET /master/state` (also `/state`, `/master/state.json`): Mesos's state shape (state-json.ts),
 * with only the frameworks (view_frameworks, by the framework's user) and tasks (view_tasks, by
 * the task's user) the caller may see.
 */
import { Type } from 'typebox';
import { type AgoraPlugin, taskUser, viewer } from '../../sdk/http/index.js';
import { taskKey } from '../registry.js';
import { masterState } from '../state-json.js';
import { type MasterHttpOptions, ready } from './context.js';

const List = Type.Array(Type.Unknown());
/** The top level; entries of the lists are as state-json.ts builds them. */
export const MasterStateResponse = Type.Object({
  version: Type.String(),
  id: Type.String(),
  pid: Type.String(),
  hostname: Type.String(),
  leader: Type.Optional(Type.String()),
  leader_info: Type.Optional(Type.Unknown()),
  /** When this master last became the leader; absent while it never has. */
  elected_time: Type.Optional(Type.Number()),
  start_time: Type.Number(),
  activated_slaves: Type.Integer(),
  deactivated_slaves: Type.Integer(),
  unreachable_slaves: Type.Integer(),
  slaves: List,
  unreachable_agents: List,
  gone_agents: Type.Array(Type.String()),
  frameworks: List,
  completed_frameworks: List,
});

type FrameworkJson = { id: string; user?: string; tasks: { id: string }[]; completed_tasks: { id: string }[] };

export const stateRoutes: AgoraPlugin<MasterHttpOptions> = async (app, opts) => {
  for (const url of ['/master/state', '/state', '/master/state.json']) {
    app.get(
      url,
      { config: { action: 'view_state' }, schema: { response: { 200: MasterStateResponse } } },
      async (req) => {
        const master = ready(opts);
        const state = masterState(master);
        const may = viewer(app, req);
        const visible = (list: unknown[]) =>
          (list as FrameworkJson[])
            .filter((f) => may('view_frameworks', f.user || undefined))
            .map((f) => {
              const entry = master.frameworks.get(f.id) ?? master.completedFrameworks.find((c) => c.id === f.id);
              const done = new Map((entry?.completedTasks ?? []).map((t) => [t.task.task_id, t]));
              const user = (id: string) =>
                taskUser((master.tasks.get(taskKey(f.id, id)) ?? done.get(id))?.task.command, f.user);
              return {
                ...f,
                tasks: f.tasks.filter((t) => may('view_tasks', user(t.id))),
                completed_tasks: f.completed_tasks.filter((t) => may('view_tasks', user(t.id))),
              };
            });
        return {
          ...state,
          frameworks: visible(state.frameworks),
          completed_frameworks: visible(state.completed_frameworks),
        };
      },
    );
  }
};
