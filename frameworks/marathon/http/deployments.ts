/** `/v2/deployments`, `/v2/tasks` (+ `POST /v2/tasks/delete`) and `/v2/queue` (+ `DELETE /v2/queue/{id}/delay`). */

import type { AgoraPlugin } from 'agora/sdk';
import { Type } from 'typebox';
import { deploymentJson } from '../core/deployments.js';
import { findApp } from '../core/groups.js';
import { isActive } from '../core/instances.js';
import { absoluteId } from '../core/spec.js';
import { UnknownId } from '../errors.js';
import { changeAnswer, flag, type MarathonHttpContext, READ, WRITE } from './context.js';
import { queueEntry, taskJson } from './views.js';

const Query = Type.Object({
  force: Type.Optional(Type.String({ maxLength: 8 })),
  scale: Type.Optional(Type.String({ maxLength: 8 })),
  wipe: Type.Optional(Type.String({ maxLength: 8 })),
  status: Type.Optional(
    Type.Union([Type.String({ maxLength: 32 }), Type.Array(Type.String({ maxLength: 32 }), { maxItems: 16 })]),
  ),
  embed: Type.Optional(
    Type.Union([Type.String({ maxLength: 200 }), Type.Array(Type.String({ maxLength: 200 }), { maxItems: 16 })]),
  ),
});
const IdParams = Type.Object({ id: Type.String({ maxLength: 200 }) });
const DeleteBody = Type.Object({ ids: Type.Array(Type.String({ maxLength: 500 }), { maxItems: 100_000 }) });

export function deploymentRoutes(ctx: MarathonHttpContext): AgoraPlugin {
  return async (app) => {
    app.get('/v2/deployments', { config: { action: READ } }, async () => {
      const s = ctx.service();
      return s.scheduler.deployments.map((d) =>
        deploymentJson(
          d,
          (a) => s.scheduler.waitingFor(a),
          (a) => s.scheduler.readinessOf(a),
        ),
      );
    });
    app.get('/v2/deployments/:id', { config: { action: READ }, schema: { params: IdParams } }, async (req) => {
      const s = ctx.service();
      const d = s.scheduler.deployments.find((x) => x.id === req.params.id);
      if (!d) throw new UnknownId(`DeploymentPlan ${req.params.id} does not exist`);
      return deploymentJson(
        d,
        (a) => s.scheduler.waitingFor(a),
        (a) => s.scheduler.readinessOf(a),
      );
    });
    app.delete(
      '/v2/deployments/:id',
      { config: { action: WRITE }, schema: { params: IdParams, querystring: Query } },
      async (req, reply) => {
        const s = ctx.service();
        const rollback = await s.cancelDeployment(req.params.id, flag(req.query.force));
        if (!rollback) return reply.status(202).send({});
        return changeAnswer(rollback);
      },
    );

    app.get('/v2/tasks', { config: { action: READ }, schema: { querystring: Query } }, async (req) => {
      const s = ctx.service();
      const wanted = (
        Array.isArray(req.query.status) ? req.query.status : req.query.status ? [req.query.status] : []
      ).map((x) => `TASK_${x.toUpperCase()}`);
      const tasks = [...s.scheduler.instances.values()]
        .filter(isActive)
        .filter((i) => wanted.length === 0 || wanted.includes(i.state))
        .map((i) => taskJson(i, findApp(s.root, i.appId)));
      return { tasks };
    });
    app.post(
      '/v2/tasks/delete',
      { config: { action: WRITE }, schema: { querystring: Query, body: DeleteBody } },
      async (req) => {
        const s = ctx.service();
        const known = req.body.ids.filter((id) => s.scheduler.instances.has(id));
        const before = known.map((id) => {
          const i = s.scheduler.instances.get(id);
          return i ? taskJson(i, findApp(s.root, i.appId)) : {};
        });
        const out = await s.killTasks(known, {
          scale: flag(req.query.scale),
          wipe: flag(req.query.wipe),
          force: flag(req.query.force),
        });
        if (out.deployment) return changeAnswer(out.deployment);
        return { tasks: before };
      },
    );

    app.get('/v2/queue', { config: { action: READ }, schema: { querystring: Query } }, async () => {
      const s = ctx.service();
      const queue = [...s.scheduler.demand.entries()]
        .map(([id, count]) => {
          const def = s.scheduler.specs.get(id);
          return def ? queueEntry(def, count, s.scheduler, ctx.clock.now()) : undefined;
        })
        .filter((x) => x !== undefined);
      return { queue };
    });
    app.delete(
      '/v2/queue/*',
      { config: { action: WRITE }, schema: { params: Type.Object({ '*': Type.String({ maxLength: 2000 }) }) } },
      async (req, reply) => {
        const s = ctx.service();
        const m = /^(.*)\/delay$/.exec(req.params['*']);
        if (!m) throw new UnknownId(`no route for DELETE /v2/queue/${req.params['*']}`);
        const id = absoluteId(m[1]);
        if (!s.scheduler.demand.has(id) && !s.scheduler.backoff.has(id))
          throw new UnknownId(`Application ${id} not found in tasks queue.`);
        s.scheduler.resetDelay(id);
        s.scheduler.converge();
        return reply.status(204).send();
      },
    );
  };
}
