/**
 * `/v2/pods`: Marathon's pods, each instance launched as one task group (LAUNCH_GROUP):
 * list, create (201, Location, Marathon-Deployment-Id), get, update (PUT), delete (202), status
 * (`{id}::status`, `::status` for all), versions, and killing one instance (`::instances/{id}`).
 */

import type { AgoraPlugin } from 'agora/sdk';
import { Type } from 'typebox';
import { updateGroup } from '../core/groups.js';
import { type Instance, isActive } from '../core/instances.js';
import { allPods, type PodDef } from '../core/pods.js';
import type { MarathonService } from '../core/service.js';
import { absoluteId, type Json, normalisePod, parentOf } from '../core/spec.js';
import { AlreadyExists, UnknownId } from '../errors.js';
import { flag, type MarathonHttpContext, READ, WRITE } from './context.js';

const Query = Type.Object({ force: Type.Optional(Type.String({ maxLength: 8 })) });
const Params = Type.Object({ '*': Type.String({ maxLength: 2000 }) });

function putPod(s: MarathonService, pod: Json) {
  return updateGroup(
    s.root,
    parentOf(pod.id),
    (g) => ({ ...g, pods: [...g.pods.filter((p: Json) => p.id !== pod.id), pod] }),
    s.nowIso(),
  );
}

function removePod(s: MarathonService, id: string) {
  return updateGroup(
    s.root,
    parentOf(id),
    (g) => ({ ...g, pods: g.pods.filter((p: Json) => p.id !== id) }),
    s.nowIso(),
  );
}

function instanceStatus(i: Instance, pod: PodDef): Record<string, unknown> {
  const state = i.state === 'TASK_RUNNING' ? 'STABLE' : isActive(i) ? 'STAGING' : 'TERMINAL';
  return {
    id: i.taskId,
    status: state,
    statusSince: i.startedAt ?? i.stagedAt,
    agentHostname: i.host,
    agentId: i.agentId,
    specReference: `/v2/pods${pod.id}::versions/${i.version}`,
    containers: Object.entries(i.groupTasks ?? {}).map(([taskId, st]) => ({
      name: taskId.slice(taskId.lastIndexOf('.') + 1),
      containerId: taskId,
      status: st,
      statusSince: i.startedAt ?? i.stagedAt,
      conditions: [],
    })),
  };
}

function podStatus(s: MarathonService, pod: PodDef): Record<string, unknown> {
  const instances = s.scheduler.instancesOf(pod.id).filter(isActive);
  const running = instances.filter((i) => i.state === 'TASK_RUNNING').length;
  const deploying = s.scheduler.deployments.some((d) => d.affectedApps.includes(pod.id));
  return {
    id: pod.id,
    spec: pod,
    status: deploying ? 'DEPLOYING' : running >= pod.scaling.instances ? 'STABLE' : 'DEGRADED',
    statusSince: pod.version,
    instances: instances.map((i) => instanceStatus(i, pod)),
    terminationHistory: [],
    lastUpdated: s.nowIso(),
    lastChanged: pod.version,
  };
}

function parse(rest: string): { id: string; sub?: string; arg?: string } {
  const m = /^(.*?)::(status|versions|instances)(?:\/(.+))?$/.exec(rest);
  if (m) return { id: absoluteId(m[1] || '/'), sub: m[2], arg: m[3] && decodeURIComponent(m[3]) };
  return { id: absoluteId(rest) };
}

export function podRoutes(ctx: MarathonHttpContext): AgoraPlugin {
  return async (app) => {
    const find = (s: MarathonService, id: string) => {
      const pod = allPods(s.root).find((p) => p.id === id);
      if (!pod) throw new UnknownId(`Pod '${id}' does not exist`);
      return pod;
    };
    app.get('/v2/pods', { config: { action: READ } }, async () => allPods(ctx.service().root));
    app.post(
      '/v2/pods',
      { config: { action: WRITE }, schema: { querystring: Query, body: Type.Unknown() } },
      async (req, reply) => {
        const s = ctx.service();
        const pod = normalisePod(req.body, s.nowIso(), s.role);
        if (allPods(s.root).some((p) => p.id === pod.id) || s.findApp(pod.id))
          throw new AlreadyExists(`A pod with id [${pod.id}] already exists.`);
        const d = await s.deploy(putPod(s, pod), { force: flag(req.query.force) });
        return reply
          .status(201)
          .header('location', `/v2/pods${pod.id}`)
          .header('marathon-deployment-id', d.id)
          .send(find(s, pod.id));
      },
    );
    app.get('/v2/pods/*', { config: { action: READ }, schema: { params: Params } }, async (req) => {
      const s = ctx.service();
      const { id, sub, arg } = parse(req.params['*']);
      if (sub === 'status' && id === '/') return allPods(s.root).map((p) => podStatus(s, p));
      const pod = find(s, id);
      if (sub === 'status') return podStatus(s, pod);
      if (sub === 'versions' && arg) {
        const v = arg === pod.version ? pod : await s.repo.loadAppVersion(id, arg);
        if (!v) throw new UnknownId(`Pod '${id}' does not exist in version ${arg}`);
        return v;
      }
      if (sub === 'versions') {
        await s.flush();
        const kept = await s.repo.appVersions(id);
        return [...new Set([...kept, pod.version])].sort().reverse();
      }
      return pod;
    });
    app.put(
      '/v2/pods/*',
      { config: { action: WRITE }, schema: { params: Params, querystring: Query, body: Type.Unknown() } },
      async (req, reply) => {
        const s = ctx.service();
        const { id } = parse(req.params['*']);
        const exists = allPods(s.root).some((p) => p.id === id);
        const pod = normalisePod({ ...(req.body as Json), id }, s.nowIso(), s.role);
        const d = await s.deploy(putPod(s, pod), { force: flag(req.query.force) });
        return reply
          .status(exists ? 200 : 201)
          .header('marathon-deployment-id', d.id)
          .send(find(s, id));
      },
    );
    app.delete(
      '/v2/pods/*',
      { config: { action: WRITE }, schema: { params: Params, querystring: Query } },
      async (req, reply) => {
        const s = ctx.service();
        const { id, sub, arg } = parse(req.params['*']);
        const pod = find(s, id);
        if (sub === 'instances') {
          const i = s.scheduler.instancesOf(id).find((x) => x.taskId === arg && isActive(x));
          if (!i) throw new UnknownId(`Instance '${arg}' of pod '${id}' does not exist`);
          const out = instanceStatus(i, pod);
          s.scheduler.killInstance(i, 'killed by the API');
          s.scheduler.converge();
          return out;
        }
        const d = await s.deploy(removePod(s, id), { force: flag(req.query.force) });
        return reply.status(202).header('marathon-deployment-id', d.id).send({});
      },
    );
  };
}
