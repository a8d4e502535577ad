/** `/ping`, `/v2/info`, `/v2/leader` (GET, DELETE to abdicate), `/metrics`. */
import type { AgoraPlugin } from 'agora/sdk';
import { allApps } from '../core/groups.js';
import { isActive } from '../core/instances.js';
import { UnknownId } from '../errors.js';
import { type MarathonHttpContext, READ, WRITE } from './context.js';

export function miscRoutes(ctx: MarathonHttpContext): AgoraPlugin {
  return async (app) => {
    app.get('/ping', { config: { action: 'view_health' } }, async (_req, reply) =>
      reply.type('text/plain').send('pong'),
    );
    app.get('/v2/info', { config: { action: READ } }, async () => ctx.info());
    app.get('/v2/leader', { config: { action: READ } }, async () => {
      const l = ctx.leader();
      if (!l.leader) throw new UnknownId('There is no leader');
      return { leader: l.leader };
    });
    app.delete('/v2/leader', { config: { action: WRITE } }, async () => {
      if (!(await ctx.abdicate())) throw new UnknownId('There is no leader');
      return { message: 'Leadership abdicated' };
    });
    app.get('/metrics', { config: { action: READ } }, async () => {
      const s = ctx.service();
      const sch = s.scheduler;
      const active = [...sch.instances.values()].filter(isActive);
      const gauges: Record<string, { value: number }> = {
        'marathon.apps.active.gauge': { value: allApps(s.root).length },
        'marathon.deployments.active.gauge': { value: sch.deployments.length },
        'marathon.instances.running.gauge': { value: active.filter((i) => i.state === 'TASK_RUNNING').length },
        'marathon.instances.staged.gauge': { value: active.filter((i) => i.state !== 'TASK_RUNNING').length },
        'marathon.instances.launch-overdue.gauge': { value: [...sch.demand.values()].reduce((a, b) => a + b, 0) },
        'marathon.http.event-streams.active.gauge': { value: s.events.size },
        'marathon.mesos.offers.suppressed.gauge': { value: sch.suppressed ? 1 : 0 },
      };
      const counters: Record<string, { count: number }> = {
        'marathon.tasks.launched.counter': { count: sch.launchedTotal },
        'marathon.http.event-streams.dropped.counter': { count: s.events.dropped },
      };
      for (const [type, n] of s.events.counts) counters[`marathon.events.${type}.counter`] = { count: n };
      return { version: '4.0.0', gauges, counters, histograms: {}, meters: {}, timers: {} };
    });
  };
}
