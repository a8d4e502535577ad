/**
 * The role endpoints, in Mesos's shapes: `GET /roles`, `GET|PUT /weights`, `GET|POST /quota`,
 * `DELETE /quota/<role>`. Bodies are validated by their schemas (master/roles.ts) and by the
 * pure functions there; a change is made on a copy, made durable by `Master.changeRoles`, then
 * swapped in, one change at a time. A refused request changes nothing.
 */
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { type AgoraPlugin, viewer } from '../../sdk/http/index.js';
import { resourcesObject } from '../../sdk/resources/resources.js';
import type { AllocatorRole } from '../allocator/types.js';
import { QuotaBody, WeightsBody, weightsView, withoutQuota, withQuota, withWeights } from '../roles.js';
import { type MasterHttpOptions, ready } from './context.js';
import { changeRolesSerially } from './role-changes.js';
import { quotaJson, roleViews } from './role-views.js';

const Amounts = Type.Record(Type.String(), Type.Number());
const QuotaInfo = Type.Object({
  role: Type.String(),
  guarantee: Type.Array(Type.Unknown()),
  guarantees: Amounts,
  limits: Amounts,
  consumed: Type.Optional(Amounts),
});
const ResourcesObject = Type.Record(Type.String(), Type.Union([Type.Number(), Type.String()]));
export const RolesResponse = Type.Object({
  roles: Type.Array(
    Type.Object({
      name: Type.String(),
      weight: Type.Number(),
      frameworks: Type.Array(Type.String()),
      resources: ResourcesObject,
      allocated: ResourcesObject,
      offered: ResourcesObject,
      reserved: ResourcesObject,
      dominant_share: Type.Number(),
      quota: Type.Optional(QuotaInfo),
    }),
  ),
});
const WeightsResponse = Type.Array(Type.Object({ role: Type.String(), weight: Type.Number() }));
const Empty = Type.Object({});
/** The role is the rest of the path (roles may hold `/`); decoded once, by the router. */
const QuotaParams = Type.Object({ '*': Type.String({ maxLength: 1024 }) });

export const rolesRoutes: AgoraPlugin<MasterHttpOptions> = async (app, opts) => {
  /** Computes the next roles from the current ones and makes them durable, one change at a time. */
  const change = <T>(
    fn: (roles: ReadonlyMap<string, AllocatorRole>) => { roles: Map<string, AllocatorRole>; out: T },
  ) => changeRolesSerially(ready(opts), fn);

  const roles = async (req: FastifyRequest) => {
    const may = viewer(app, req);
    return {
      roles: roleViews(ready(opts))
        .filter((v) => may('view_roles', v.name))
        .map((v) => ({
          name: v.name,
          weight: v.weight,
          frameworks: v.frameworks,
          resources: resourcesObject(v.allocated.plus(v.offered)),
          allocated: resourcesObject(v.allocated),
          offered: resourcesObject(v.offered),
          reserved: resourcesObject(v.reserved),
          dominant_share: v.dominantShare,
          ...(v.quota ? { quota: quotaJson(v.name, v.quota, v.allocated.plus(v.offered)) } : {}),
        })),
    };
  };
  // `/master/roles` is the name Mesos's web UI asks for.
  for (const url of ['/roles', '/master/roles']) {
    app.get(url, { config: { action: 'view_roles' }, schema: { response: { 200: RolesResponse } } }, roles);
  }

  app.get(
    '/weights',
    { config: { action: 'view_roles' }, schema: { response: { 200: WeightsResponse } } },
    async (req) => {
      const may = viewer(app, req);
      return weightsView(ready(opts).roles).filter((w) => may('view_roles', w.role));
    },
  );
  app.put(
    '/weights',
    { config: { action: 'update_weights' }, schema: { body: WeightsBody, response: { 200: WeightsResponse } } },
    async (req) => change((roles) => ({ roles: withWeights(roles, req.body), out: req.body })),
  );

  app.get(
    '/quota',
    { config: { action: 'view_quota' }, schema: { response: { 200: Type.Object({ infos: Type.Array(QuotaInfo) }) } } },
    async (req) => {
      const may = viewer(app, req);
      const master = ready(opts);
      const consumed = new Map(roleViews(master).map((v) => [v.name, v.allocated.plus(v.offered)]));
      const infos = [];
      for (const r of master.roles.values())
        if (r.quota && may('get_quotas', r.name)) infos.push(quotaJson(r.name, r.quota, consumed.get(r.name)));
      return { infos };
    },
  );
  app.post(
    '/quota',
    { config: { action: 'update_quota' }, schema: { body: QuotaBody, response: { 200: QuotaInfo } } },
    async (req) =>
      change((roles) => {
        const r = withQuota(roles, req.body);
        return { roles: r.roles, out: quotaJson(r.role, r.quota) };
      }),
  );
  app.delete(
    '/quota/*',
    { config: { action: 'update_quota' }, schema: { params: QuotaParams, response: { 200: Empty } } },
    async (req) => change((roles) => ({ roles: withoutQuota(roles, req.params['*']), out: {} })),
  );
};
