/**
 * `POST /api/v1`: Mesos's v1 operator API (docs/mesos-operator-api.md). Reads: GET_HEALTH,
 * GET_VERSION, GET_FLAGS, GET_METRICS, GET_STATE, GET_AGENTS, GET_FRAMEWORKS, GET_TASKS,
 * GET_ROLES, GET_WEIGHTS, GET_MASTER, and SUBSCRIBE (a RecordIO event stream). Writes:
 * UPDATE_WEIGHTS, UPDATE_QUOTA, MARK_AGENT_GONE. Each call is authorized as its own action (the
 * route itself only authenticates), with the same ACLs as the classic endpoint that does the same.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type Static, Type } from 'typebox';
import { type AgoraPlugin, decideAccess, httpErrors, viewer } from '../../sdk/http/index.js';
import { type Resource, Resources } from '../../sdk/resources/resources.js';
import { resourceListProblem } from '../../sdk/resources/schema.js';
import { InvalidOperatorCall, NoLeader, ReservationRefused, TooManySubscribers, UnknownAgent } from '../errors.js';
import { type QuotaBody, withoutQuota, withQuota, withWeights } from '../roles.js';
import { metricsSnapshot } from '../state-json.js';
import { type MasterHttpOptions, ready } from './context.js';
import { loggingLevel, maintenanceSchedule, maintenanceStatus, noMasterFile, teardownFor } from './operator-admin.js';
import { getExecutors } from './operator-executors.js';
import { fromV1Resources, v1Flags, v1Metrics } from './operator-v1-json.js';
import type { Audience } from './operator-v1-stream.js';
import { getAgents, getFrameworks, getMaster, getRoles, getState, getTasks, getVersion } from './operator-v1-views.js';
import { changeRolesSerially } from './role-changes.js';
import { roleViews } from './role-views.js';

export const SUPPORTED_CALLS = [
  'GET_HEALTH',
  'GET_VERSION',
  'GET_FLAGS',
  'GET_METRICS',
  'GET_STATE',
  'GET_AGENTS',
  'GET_FRAMEWORKS',
  'GET_TASKS',
  'GET_ROLES',
  'GET_WEIGHTS',
  'GET_MASTER',
  'GET_EXECUTORS',
  'GET_QUOTA',
  'SUBSCRIBE',
  'UPDATE_WEIGHTS',
  'UPDATE_QUOTA',
  'MARK_AGENT_GONE',
  'RESERVE_RESOURCES',
  'UNRESERVE_RESOURCES',
  'TEARDOWN',
  'GET_MAINTENANCE_SCHEDULE',
  'GET_MAINTENANCE_STATUS',
  'GET_LOGGING_LEVEL',
  'LIST_FILES',
  'READ_FILE',
] as const;
export type SupportedCall = (typeof SUPPORTED_CALLS)[number];

const MAX_ITEMS = 1000;
const AgentId = Type.Object({ value: Type.String({ minLength: 1, maxLength: 256 }) }, { additionalProperties: false });
const Scalar = Type.Object({ value: Type.Number({ minimum: 0, maximum: 1e15 }) }, { additionalProperties: false });
const ScalarMap = Type.Record(Type.String({ maxLength: 64 }), Scalar, { maxProperties: 32 });
/** Mesos v1 resources, checked in depth by fromV1Resources and the resource rules after it. */
const V1ResourceList = Type.Array(Type.Record(Type.String({ maxLength: 64 }), Type.Unknown(), { maxProperties: 16 }), {
  maxItems: 1024,
});
const FilePath = Type.String({ minLength: 1, maxLength: 4096 });
const Duration = Type.Object({ nanoseconds: Type.Integer({ minimum: 0, maximum: 3.6e12 }) });

export const OperatorCall = Type.Object(
  {
    type: Type.String({ maxLength: 64 }),
    get_metrics: Type.Optional(Type.Object({ timeout: Type.Optional(Duration) }, { additionalProperties: false })),
    update_weights: Type.Optional(
      Type.Object(
        {
          weight_infos: Type.Array(
            Type.Object(
              {
                role: Type.String({ minLength: 1, maxLength: 256 }),
                weight: Type.Number({ minimum: 0, maximum: 1e6 }),
              },
              { additionalProperties: false },
            ),
            { maxItems: MAX_ITEMS },
          ),
        },
        { additionalProperties: false },
      ),
    ),
    update_quota: Type.Optional(
      Type.Object(
        {
          force: Type.Optional(Type.Boolean()),
          quota_configs: Type.Array(
            Type.Object(
              {
                role: Type.String({ minLength: 1, maxLength: 256 }),
                guarantees: Type.Optional(ScalarMap),
                limits: Type.Optional(ScalarMap),
              },
              { additionalProperties: false },
            ),
            { maxItems: MAX_ITEMS },
          ),
        },
        { additionalProperties: false },
      ),
    ),
    mark_agent_gone: Type.Optional(Type.Object({ agent_id: AgentId }, { additionalProperties: false })),
    reserve_resources: Type.Optional(
      Type.Object(
        {
          agent_id: AgentId,
          source: Type.Optional(V1ResourceList),
          resources: V1ResourceList,
        },
        { additionalProperties: false },
      ),
    ),
    unreserve_resources: Type.Optional(
      Type.Object({ agent_id: AgentId, resources: V1ResourceList }, { additionalProperties: false }),
    ),
    teardown: Type.Optional(Type.Object({ framework_id: AgentId }, { additionalProperties: false })),
    list_files: Type.Optional(Type.Object({ path: FilePath }, { additionalProperties: false })),
    read_file: Type.Optional(
      Type.Object(
        {
          path: FilePath,
          offset: Type.Integer({ minimum: 0, maximum: 2 ** 53 - 1 }),
          length: Type.Optional(Type.Integer({ minimum: 0, maximum: 2 ** 53 - 1 })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type OperatorCall = Static<typeof OperatorCall>;

/** The call's type, refused when Agora does not implement it. */
export function callType(call: OperatorCall): SupportedCall {
  if (!(SUPPORTED_CALLS as readonly string[]).includes(call.type)) {
    throw new InvalidOperatorCall(
      `unsupported operator call ${JSON.stringify(call.type)}; supported: ${SUPPORTED_CALLS.join(', ')}`,
    );
  }
  return call.type as SupportedCall;
}

/** The agent id a MARK_AGENT_GONE call names. */
export function markGoneTarget(call: OperatorCall): string {
  const id = call.mark_agent_gone?.agent_id.value;
  if (id === undefined) throw new InvalidOperatorCall('MARK_AGENT_GONE needs mark_agent_gone.agent_id.value');
  return id;
}

/** The quota bodies of an UPDATE_QUOTA (Mesos's QuotaConfig: scalar maps; both empty removes the quota). */
export function quotaBodies(call: OperatorCall): { role: string; body?: QuotaBody }[] {
  const u = call.update_quota;
  if (!u) throw new InvalidOperatorCall('UPDATE_QUOTA needs update_quota.quota_configs');
  const flat = (m?: Record<string, { value: number }>) =>
    m && Object.keys(m).length > 0 ? Object.fromEntries(Object.entries(m).map(([k, v]) => [k, v.value])) : undefined;
  return u.quota_configs.map((c) => {
    const guarantees = flat(c.guarantees);
    const limits = flat(c.limits);
    if (!guarantees && !limits) return { role: c.role };
    return {
      role: c.role,
      body: { role: c.role, ...(guarantees ? { guarantees } : {}), ...(limits ? { limits } : {}), force: u.force },
    };
  });
}

/** The agent and the resources an operator RESERVE_RESOURCES / UNRESERVE_RESOURCES names, validated. */
export function reservationsOf(
  call: OperatorCall,
  type: 'RESERVE_RESOURCES' | 'UNRESERVE_RESOURCES',
): { agentId: string; reserve: Resources; unreserve: Resources } {
  const body = type === 'RESERVE_RESOURCES' ? call.reserve_resources : call.unreserve_resources;
  const field = type.toLowerCase();
  if (!body) throw new InvalidOperatorCall(`${type} needs ${field}.agent_id and ${field}.resources`);
  let list: Resource[];
  try {
    list = fromV1Resources(body.resources);
  } catch (e) {
    throw new InvalidOperatorCall(`${field}.resources${(e as Error).message}`);
  }
  const why = resourceListProblem(list);
  if (why) throw new InvalidOperatorCall(`${field}.resources${why}`);
  const r = Resources.from(list);
  return type === 'RESERVE_RESOURCES'
    ? { agentId: body.agent_id.value, reserve: r, unreserve: Resources.empty() }
    : { agentId: body.agent_id.value, reserve: Resources.empty(), unreserve: r };
}

/** How each call is authorized: as the classic request that does the same thing. */
function accessOf(
  call: OperatorCall,
  type: SupportedCall,
): { action: string; method: string; url: string; body?: unknown }[] {
  switch (type) {
    case 'GET_HEALTH':
      return [{ action: 'view_health', method: 'GET', url: '/health' }];
    case 'GET_VERSION':
      return [{ action: 'view_version', method: 'GET', url: '/version' }];
    case 'GET_FLAGS':
      return [{ action: 'view_flags', method: 'GET', url: '/flags' }];
    case 'GET_METRICS':
      return [{ action: 'view_metrics', method: 'GET', url: '/metrics/snapshot' }];
    case 'GET_ROLES':
    case 'GET_WEIGHTS':
      return [{ action: 'view_roles', method: 'GET', url: '/roles' }];
    case 'GET_QUOTA':
      return [{ action: 'view_quota', method: 'GET', url: '/quota' }];
    case 'GET_LOGGING_LEVEL':
      return [{ action: 'view_flags', method: 'GET', url: '/logging/toggle' }];
    case 'LIST_FILES':
    case 'READ_FILE':
      return [{ action: 'view_state', method: 'GET', url: '/files/browse' }];
    case 'GET_MAINTENANCE_SCHEDULE':
    case 'GET_MAINTENANCE_STATUS':
      return [{ action: 'view_state', method: 'GET', url: '/master/maintenance/schedule' }];
    case 'TEARDOWN':
      // Decided on the framework's principal (teardown_frameworks) in the handler.
      return [{ action: 'view_state', method: 'POST', url: '/api/v1' }];
    case 'GET_EXECUTORS':
    case 'GET_STATE':
    case 'GET_AGENTS':
    case 'GET_FRAMEWORKS':
    case 'GET_TASKS':
    case 'GET_MASTER':
    case 'SUBSCRIBE':
      return [{ action: 'view_state', method: 'GET', url: '/master/state' }];
    case 'UPDATE_WEIGHTS':
      return [
        { action: 'update_weights', method: 'PUT', url: '/weights', body: call.update_weights?.weight_infos ?? [] },
      ];
    case 'UPDATE_QUOTA':
      return (call.update_quota?.quota_configs ?? []).map((c) => ({
        action: 'update_quota',
        method: 'POST',
        url: '/quota',
        body: { role: c.role },
      }));
    case 'MARK_AGENT_GONE':
      return [{ action: 'mark_agent_gone', method: 'POST', url: '/api/v1', body: call }];
    case 'RESERVE_RESOURCES':
    case 'UNRESERVE_RESOURCES':
      // Decided per role (reserve) or per reserver principal (unreserve) in the handler, through `permits`.
      return [{ action: 'view_state', method: 'POST', url: '/api/v1' }];
  }
}

export const operatorRoutes: AgoraPlugin<MasterHttpOptions> = async (app, opts) => {
  const authorize = async (req: FastifyRequest, reply: FastifyReply, call: OperatorCall, type: SupportedCall) => {
    for (const a of accessOf(call, type)) {
      const out = await decideAccess(
        app.authorizer,
        {
          method: a.method,
          url: a.url,
          headers: req.headers,
          ip: req.ip,
          body: a.body,
          authenticated: req.access ? { principal: req.access.principal } : undefined,
        },
        a.action,
      );
      if (req.access) req.access = { ...req.access, decision: out.decision, target: out.target ?? type };
      if (out.error) {
        if (out.error.statusCode === 401 && app.authorizer.challenge)
          void reply.header('www-authenticate', app.authorizer.challenge);
        throw out.error;
      }
    }
  };

  app.post('/api/v1', { config: { action: 'operator_api' }, schema: { body: OperatorCall } }, async (req, reply) => {
    const call = req.body;
    const type = callType(call);
    if (type === 'MARK_AGENT_GONE') markGoneTarget(call);
    if (type === 'TEARDOWN' && !call.teardown)
      throw new InvalidOperatorCall('TEARDOWN needs teardown.framework_id.value');
    if (type === 'LIST_FILES' && !call.list_files) throw new InvalidOperatorCall('LIST_FILES needs list_files.path');
    if (type === 'READ_FILE' && !call.read_file)
      throw new InvalidOperatorCall('READ_FILE needs read_file.path and read_file.offset');
    await authorize(req, reply, call, type);
    const may = viewer(app, req);
    switch (type) {
      case 'GET_HEALTH':
        return { type, get_health: { healthy: true } };
      case 'GET_VERSION':
        return { type, get_version: getVersion() };
      case 'GET_FLAGS':
        return { type, get_flags: { flags: v1Flags(opts.flags ?? {}) } };
      case 'GET_METRICS': {
        const m = ready(opts);
        const snap = metricsSnapshot(m);
        for (const v of roleViews(m)) snap[`allocator/mesos/roles/${v.name}/shares/dominant`] = v.dominantShare;
        Object.assign(snap, opts.events?.metrics() ?? {});
        return { type, get_metrics: { metrics: v1Metrics(snap) } };
      }
      case 'GET_STATE':
        return { type, get_state: getState(ready(opts), may) };
      case 'GET_AGENTS':
        return { type, get_agents: getAgents(ready(opts)) };
      case 'GET_FRAMEWORKS':
        return { type, get_frameworks: getFrameworks(ready(opts), may) };
      case 'GET_TASKS':
        return { type, get_tasks: getTasks(ready(opts), may) };
      case 'GET_ROLES':
        return { type, get_roles: getRoles(ready(opts), may) };
      case 'GET_WEIGHTS':
        return {
          type,
          get_weights: {
            weight_infos: [...ready(opts).roles.values()]
              .filter((r) => may('view_roles', r.name))
              .map((r) => ({ role: r.name, weight: r.weight })),
          },
        };
      case 'GET_MASTER':
        return { type, get_master: getMaster(ready(opts)) };
      case 'GET_EXECUTORS':
        // Task groups' DEFAULT executors; single tasks run under command executors, which Mesos does not list either.
        return { type, get_executors: getExecutors(ready(opts), may) };
      case 'GET_QUOTA': {
        const scalars = (r?: Resources) =>
          Object.fromEntries(Object.entries(r?.scalarTotals() ?? {}).map(([k, v]) => [k, { value: v }]));
        const configs = [...ready(opts).roles.values()]
          .filter((r) => r.quota && may('get_quotas', r.name))
          .map((r) => ({ role: r.name, guarantees: scalars(r.quota?.guarantee), limits: scalars(r.quota?.limit) }));
        return { type, get_quota: { status: { configs } } };
      }
      case 'SUBSCRIBE': {
        // Without ACLs everyone sees everything: the same bytes go to every subscriber.
        subscribe(opts, reply, may, {
          principal: req.access?.principal,
          may: app.authorizer.permits ? may : undefined,
        });
        // The answer is hijacked (a stream): the audit log is told here, as the hook would have.
        app.authorizer.answered?.({
          principal: req.access?.principal,
          action: 'operator_api',
          method: req.method,
          path: '/api/v1',
          target: 'SUBSCRIBE',
          decision: 'allow',
          status: 200,
          ip: req.ip,
        });
        return reply;
      }
      case 'UPDATE_WEIGHTS': {
        const infos = call.update_weights?.weight_infos;
        if (!infos) throw new InvalidOperatorCall('UPDATE_WEIGHTS needs update_weights.weight_infos');
        const master = ready(opts);
        await changeRolesSerially(master, (roles) => withWeights(roles, infos));
        return reply.code(200).send();
      }
      case 'UPDATE_QUOTA': {
        const bodies = quotaBodies(call);
        const master = ready(opts);
        await changeRolesSerially(master, (roles) => {
          let next = new Map(roles);
          for (const b of bodies) {
            if (b.body) next = withQuota(next, b.body).roles;
            else if (next.get(b.role)?.quota) next = withoutQuota(next, b.role);
          }
          return next;
        });
        return reply.code(200).send();
      }
      case 'RESERVE_RESOURCES':
      case 'UNRESERVE_RESOURCES': {
        const { agentId, reserve, unreserve } = reservationsOf(call, type);
        const principal = req.access?.principal;
        const permits = app.authorizer.permits?.bind(app.authorizer);
        if (permits) {
          for (const role of reserve.roles())
            if (!permits(principal, 'reserve_resources', role))
              throw new httpErrors.Forbidden(`not allowed to reserve resources for role '${role}'`);
          if (!unreserve.isEmpty() && !permits(principal, 'unreserve_resources', principal))
            throw new httpErrors.Forbidden('not allowed to unreserve resources');
        }
        const r = await ready(opts).changeReservations(agentId, reserve, unreserve);
        if (!r.ok) {
          if (r.unknown) throw new UnknownAgent(`unknown agent ${agentId}`);
          throw new ReservationRefused(r.reason);
        }
        return reply.code(202).send();
      }
      case 'TEARDOWN':
        await teardownFor(app, ready(opts), req.access?.principal, call.teardown?.framework_id.value ?? '');
        return reply.code(200).send();
      case 'GET_MAINTENANCE_SCHEDULE':
        return { type, get_maintenance_schedule: maintenanceSchedule() };
      case 'GET_MAINTENANCE_STATUS':
        return { type, get_maintenance_status: maintenanceStatus() };
      case 'GET_LOGGING_LEVEL':
        return { type, get_logging_level: loggingLevel(opts.loggingLevel?.() ?? 'info') };
      case 'LIST_FILES':
        return noMasterFile(call.list_files?.path ?? '');
      case 'READ_FILE':
        return noMasterFile(call.read_file?.path ?? '');
      case 'MARK_AGENT_GONE': {
        const id = markGoneTarget(call);
        const outcome = await ready(opts).markGone(id);
        if (outcome === 'unknown') throw new UnknownAgent(`unknown agent ${id}`);
        return reply.code(200).send();
      }
    }
  });
};

/** SUBSCRIBE: 200, then the RecordIO stream on the raw response until either side closes. */
function subscribe(
  opts: MasterHttpOptions,
  reply: FastifyReply,
  may: (action: string, object: string | undefined) => boolean,
  audience: Audience,
) {
  const master = ready(opts);
  const events = opts.events;
  if (!events) throw new NoLeader('the operator event stream is not available on this master');
  if (events.full()) throw new TooManySubscribers('too many operator API subscribers; retry later');
  const raw = reply.raw;
  reply.hijack();
  raw.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-cache' });
  raw.socket?.setNoDelay(true);
  const ok = events.subscribe(
    raw,
    () => ({
      type: 'SUBSCRIBED',
      subscribed: { get_state: getState(master, may), heartbeat_interval_seconds: events.heartbeatIntervalSeconds },
    }),
    // Each event is filtered by the same view ACLs as the snapshot.
    audience,
  );
  if (!ok) raw.end();
  reply.request.raw.once('close', () => {
    if (!raw.writableEnded) raw.end();
  });
}
