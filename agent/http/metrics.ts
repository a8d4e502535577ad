/**
 * The agent's `/metrics/snapshot` (also `/slave(1)/metrics/snapshot`), `/flags`, `/version`:
 * Mesos's key names (`slave/tasks_running`, `slave/cpus_total`, ...), as its web UI and scrapers
 * read them.
 */
import { Type } from 'typebox';
import type { AgoraPlugin } from '../../sdk/http/index.js';
import { Resources } from '../../sdk/resources/resources.js';
import type { AgentHttpOptions, AgentView } from './context.js';

const STATES = [
  'staging',
  'starting',
  'running',
  'killing',
  'finished',
  'failed',
  'killed',
  'lost',
  'error',
  'gone',
  'dropped',
  'unreachable',
];

export function agentMetrics(agent: AgentView, nowMs: number): Record<string, number> {
  const counts: Record<string, number> = {};
  let used = Resources.empty();
  for (const t of agent.tasks.values()) {
    const s = t.state.replace(/^TASK_/, '').toLowerCase();
    counts[s] = (counts[s] ?? 0) + 1;
    if (['staging', 'starting', 'running', 'killing'].includes(s)) used = used.plus(Resources.from(t.task.resources));
  }
  const m: Record<string, number> = {
    'slave/registered': agent.connected ? 1 : 0,
    'slave/uptime_secs': (nowMs - agent.startedAt) / 1000,
    'slave/frameworks_active': new Set([...agent.tasks.values()].map((t) => t.framework.id)).size,
    'slave/executors_running': counts.running ?? 0,
    'slave/status_updates_pending': agent.updates.pendingCount(),
  };
  for (const s of STATES) m[`slave/tasks_${s}`] = counts[s] ?? 0;
  for (const name of ['cpus', 'mem', 'disk', 'gpus']) {
    const t = agent.resources.scalar(name);
    const u = used.scalar(name);
    m[`slave/${name}_total`] = t;
    m[`slave/${name}_used`] = u;
    m[`slave/${name}_percent`] = t > 0 ? u / t : 0;
  }
  return m;
}

/** Flags whose values are never shown (they hold secrets rather than name a file). */
const SECRET_FLAG = /secret|password|token/i;

export const metricsRoutes: AgoraPlugin<AgentHttpOptions> = async (app, opts) => {
  for (const url of ['/metrics/snapshot', '/slave(1)/metrics/snapshot']) {
    app.get(
      url,
      { config: { action: 'view_metrics' }, schema: { response: { 200: Type.Record(Type.String(), Type.Number()) } } },
      async () => agentMetrics(opts.agent, Date.now()),
    );
  }
  for (const url of ['/flags', '/slave(1)/flags']) {
    app.get(url, { config: { action: 'view_flags' } }, async () => {
      const flags: Record<string, string> = {};
      for (const [k, v] of Object.entries(opts.flags ?? {}))
        flags[k] = SECRET_FLAG.test(k) && !k.endsWith('_file') ? '(redacted)' : v;
      return { flags };
    });
  }
  app.get('/version', { config: { action: 'view_version' } }, async () => ({ ...opts.build }));
};
