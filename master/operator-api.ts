/**
 * The master's role endpoints, in Mesos's shapes: `GET /roles`, `GET|PUT /weights`,
 * `GET|POST /quota`, `DELETE /quota/:role`. A bad request gets 400 with `{message, code}` and
 * changes nothing.
 */
import type { FastifyInstance } from 'fastify';
import { DEFAULT_ROLE, Resources, resourcesObject } from '../sdk/resources/resources.js';
import type { AllocatorRole } from './allocator/types.js';
import type { Master } from './master.js';
import { dominantShare, removeQuota, setQuota, setWeights, weightsView } from './roles.js';

export interface RoleView {
  name: string;
  weight: number;
  frameworks: string[];
  allocated: Resources;
  offered: Resources;
  reserved: Resources;
  dominantShare: number;
  quota?: { guarantee?: Resources; limit?: Resources };
}

/** Every role that has a weight, quota, reservation, framework, task or offer. */
export function roleViews(master: Master): RoleView[] {
  const views = new Map<string, RoleView>();
  const view = (name: string): RoleView => {
    let v = views.get(name);
    if (!v) {
      const r = master.roles.get(name);
      v = {
        name,
        weight: r?.weight ?? 1,
        frameworks: [],
        allocated: Resources.empty(),
        offered: Resources.empty(),
        reserved: Resources.empty(),
        dominantShare: 0,
        quota: r?.quota,
      };
      views.set(name, v);
    }
    return v;
  };
  view(DEFAULT_ROLE);
  for (const r of master.roles.keys()) view(r);
  let total = Resources.empty();
  for (const a of master.agents.values()) {
    if (a.state === 'unreachable' || a.state === 'gone') continue;
    total = total.plus(a.total);
    for (const role of a.total.roles())
      if (role !== DEFAULT_ROLE) {
        const v = view(role);
        v.reserved = v.reserved.plus(a.total.reservedFor(role));
      }
  }
  for (const f of master.frameworks.values()) for (const role of f.roles) view(role).frameworks.push(f.id);
  for (const t of master.tasks.values()) {
    const v = view(t.role);
    v.allocated = v.allocated.plus(t.resources);
  }
  for (const o of master.offers.values()) {
    const v = view(o.role);
    v.offered = v.offered.plus(o.resources);
  }
  const totals = total.scalarTotals();
  for (const v of views.values()) v.dominantShare = dominantShare(v.allocated.plus(v.offered), totals);
  return [...views.values()].sort((a, b) => a.name.localeCompare(b.name));
}

function quotaJson(role: string, q: { guarantee?: Resources; limit?: Resources }, consumed?: Resources) {
  return {
    role,
    guarantee: q.guarantee?.toList() ?? [],
    guarantees: q.guarantee?.scalarTotals() ?? {},
    limits: q.limit?.scalarTotals() ?? {},
    ...(consumed ? { consumed: consumed.scalarTotals() } : {}),
  };
}

export class OperatorCallError extends Error {
  constructor(
    message: string,
    readonly statusCode: number,
    readonly code: string,
  ) {
    super(message);
  }
}

export function registerOperatorRoutes(http: FastifyInstance, ready: () => Master): void {
  // Mesos's v1 operator API, for the calls Agora implements: MARK_AGENT_GONE.
  http.post('/api/v1', async (req) => {
    const body = req.body as { type?: unknown; mark_agent_gone?: { agent_id?: { value?: unknown } } } | undefined;
    if (!body || typeof body !== 'object') {
      throw new OperatorCallError(
        'expected a JSON operator call, e.g. {"type": "MARK_AGENT_GONE", ...}',
        400,
        'AGORA_MASTER_INVALID_OPERATOR_CALL',
      );
    }
    if (body.type !== 'MARK_AGENT_GONE') {
      throw new OperatorCallError(
        `unsupported operator call ${JSON.stringify(body.type)}; supported: MARK_AGENT_GONE`,
        400,
        'AGORA_MASTER_INVALID_OPERATOR_CALL',
      );
    }
    const id = body.mark_agent_gone?.agent_id?.value;
    if (typeof id !== 'string' || id === '') {
      throw new OperatorCallError(
        'MARK_AGENT_GONE needs mark_agent_gone.agent_id.value',
        400,
        'AGORA_MASTER_INVALID_OPERATOR_CALL',
      );
    }
    const outcome = await ready().markGone(id);
    if (outcome === 'unknown') throw new OperatorCallError(`unknown agent ${id}`, 404, 'AGORA_MASTER_UNKNOWN_AGENT');
    return {};
  });

  http.get('/roles', async () => ({
    roles: roleViews(ready()).map((v) => ({
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
  }));

  http.get('/weights', async () => weightsView(ready().roles));
  // Changes are made on a copy, made durable, then swapped in: a bad or failed request changes nothing.
  const change = async <T>(fn: (roles: Map<string, AllocatorRole>) => T): Promise<T> => {
    const master = ready();
    const next = new Map(master.roles);
    const out = fn(next);
    await master.changeRoles(next);
    return out;
  };
  http.put('/weights', async (req) => change((roles) => setWeights(roles, req.body)));

  http.get('/quota', async () => {
    const master = ready();
    const consumed = new Map(roleViews(master).map((v) => [v.name, v.allocated.plus(v.offered)]));
    return {
      infos: [...master.roles.values()]
        .filter((r) => r.quota)
        .map((r) => quotaJson(r.name, r.quota!, consumed.get(r.name))),
    };
  });
  http.post('/quota', async (req) => {
    const { role, quota } = await change((roles) => setQuota(roles, req.body));
    return quotaJson(role, quota);
  });
  http.delete<{ Params: { '*': string } }>('/quota/*', async (req) => {
    await change((roles) => removeQuota(roles, decodeURIComponent(req.params['*'])));
    return {};
  });
}
