/**
 * `GET /master/state` (also `/state`, `/master/state.json`): Mesos's state shape (state-json.ts),
 * with only the frameworks (view_frameworks, by the framework's user) and tasks (view_tasks, by
 * the task's user) the caller may see.
 */
import { Type } from 'typebox';
import { type AgoraPlugin, taskUser, viewer } from '../../sdk/http/index.js';
import type { Master } from '../master.js';
import { taskKey } from '../registry.js';
import { masterState } from '../state-json.js';
import { BUILD_INFO } from './build-info.js';
import { type MasterHttpOptions, ready } from './context.js';
import { publicFlags } from './flags.js';
import { classicExecutor, groupsByTask, groupsOf } from './operator-executors.js';

const List = Type.Array(Type.Unknown());
/** The top level; entries of the lists are as state-json.ts builds them. */
export const MasterStateResponse = Type.Object({
  version: Type.String(),
  build_date: Type.String(),
  build_time: Type.Number(),
  build_user: Type.String(),
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
  flags: Type.Record(Type.String(), Type.String()),
  slaves: List,
  unreachable_agents: List,
  gone_agents: Type.Array(Type.String()),
  frameworks: List,
  completed_frameworks: List,
  orphan_tasks: List,
  unregistered_frameworks: List,
});

type TaskJson = { id: string; executor_id?: string };
type FrameworkJson = {
  id: string;
  executors?: unknown[];
  user?: string;
  tasks: TaskJson[];
  unreachable_tasks: TaskJson[];
  completed_tasks: TaskJson[];
};

/** The frameworks (and their tasks) of a state answer that the caller may see. */
export function visibleFrameworks(master: Master, may: (action: string, object: string | undefined) => boolean) {
  const groups = groupsByTask(master);
  return (list: unknown[]) =>
    (list as FrameworkJson[])
      .filter((f) => may('view_frameworks', f.user || undefined))
      .map((f) => {
        const entry = master.frameworks.get(f.id) ?? master.completedFrameworks.find((c) => c.id === f.id);
        const done = new Map((entry?.completedTasks ?? []).map((t) => [t.task.task_id, t]));
        const user = (id: string) =>
          taskUser((master.tasks.get(taskKey(f.id, id)) ?? done.get(id))?.task.command, f.user);
        const seen = (t: TaskJson) => may('view_tasks', user(t.id));
        // A task of a group runs under the group's DEFAULT executor, listed once under `executors`.
        const executorOf = (t: TaskJson): TaskJson => {
          const g = groups.get(taskKey(f.id, t.id));
          return g ? { ...t, executor_id: g.executor.executor_id } : t;
        };
        const executors = may('view_executors', f.user || undefined) ? groupsOf(master, f.id).map(classicExecutor) : [];
        return {
          ...f,
          executors,
          tasks: f.tasks.filter(seen).map(executorOf),
          unreachable_tasks: f.unreachable_tasks.filter(seen).map(executorOf),
          completed_tasks: f.completed_tasks.filter(seen),
        };
      });
}

export const stateRoutes: AgoraPlugin<MasterHttpOptions> = async (app, opts) => {
  for (const url of ['/master/state', '/state', '/master/state.json', '/state.json']) {
    app.get(
      url,
      { config: { action: 'view_state' }, schema: { response: { 200: MasterStateResponse } } },
      async (req) => {
        const master = ready(opts);
        const state = masterState(master);
        const visible = visibleFrameworks(master, viewer(app, req));
        return {
          ...state,
          build_date: BUILD_INFO.build_date,
          build_time: BUILD_INFO.build_time,
          build_user: BUILD_INFO.build_user,
          flags: publicFlags(opts.flags),
          frameworks: visible(state.frameworks),
          completed_frameworks: visible(state.completed_frameworks),
          orphan_tasks: [],
          unregistered_frameworks: [],
        };
      },
    );
  }
};
