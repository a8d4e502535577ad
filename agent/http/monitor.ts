/** `GET /monitor/statistics`: resource usage per running task, from its containerizer. */
import { Type } from 'typebox';
import type { AgoraPlugin } from '../../sdk/http/index.js';
import type { AgentHttpOptions } from './context.js';

const Statistics = Type.Array(
  Type.Object({
    framework_id: Type.String(),
    executor_id: Type.String(),
    executor_name: Type.String(),
    source: Type.String(),
    statistics: Type.Optional(Type.Unknown()),
  }),
);

export const monitorRoutes: AgoraPlugin<AgentHttpOptions> = async (app, { agent }) => {
  const statistics = async () => {
    const out = [];
    for (const t of agent.tasks.values()) {
      if (!t.handle || !t.containerizerRef || !t.container) continue;
      const statistics = await t.containerizerRef.usage(t.handle).catch(() => undefined);
      out.push({
        framework_id: t.framework.id,
        executor_id: t.task.task_id,
        executor_name: `Command Executor (Task: ${t.task.task_id})`,
        source: t.task.task_id,
        statistics: { timestamp: Date.now() / 1000, ...(statistics ?? {}) },
      });
    }
    return out;
  };
  // `/slave(1)/monitor/statistics` is the path Mesos's web UI asks for (`.json` as Mesos too).
  for (const url of ['/monitor/statistics', '/slave(1)/monitor/statistics', '/monitor/statistics.json']) {
    app.get(url, { config: { action: 'view_statistics' }, schema: { response: { 200: Statistics } } }, statistics);
  }
};
