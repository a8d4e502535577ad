/**
 * Roles as operators see and change them: names (Mesos's rules, hierarchical with `/`), weights
 * and quota. The request bodies are TypeBox schemas (the HTTP layer validates them and they give
 * the types below); what a schema cannot say (role-name rules, guarantee <= limit, scalars only,
 * totals in range) is checked by the pure functions here. Each returns the next roles map and
 * leaves its input alone, so a refused request changes nothing.
 */
import { type Static, Type } from 'typebox';
import { DEFAULT_ROLE, ResourceError, Resources } from '../sdk/resources/resources.js';
import { MAX_ROLE_LENGTH, roleNameProblem } from '../sdk/resources/roles.js';
import type { AllocatorRole, RoleQuota } from './allocator/types.js';
import { InvalidRoleRequest, UnknownQuota } from './errors.js';

/** Largest quantity a quota may name (Mesos keeps scalars as fixed-point int64: about 9.2e15). */
export const MAX_QUOTA_QUANTITY = 1e15;
/** Weights are positive; bounded so that a weighted share stays a finite, comparable number. */
export const MIN_WEIGHT = 0.0001;
export const MAX_WEIGHT = 1_000_000;
export const MAX_ROLE_NAME = MAX_ROLE_LENGTH;
/** Most entries in one `PUT /weights`. */
export const MAX_WEIGHT_ENTRIES = 1000;
/** Most resource names in one quota guarantee or limit. */
export const MAX_QUOTA_RESOURCES = 32;

export const RoleName = Type.String({ minLength: 1, maxLength: MAX_ROLE_NAME });
const Quantity = Type.Number({ minimum: 0, maximum: MAX_QUOTA_QUANTITY });
const ResourceName = Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_.-]*$', maxLength: 64 });

export const WeightsBody = Type.Array(
  Type.Object(
    { role: RoleName, weight: Type.Number({ minimum: MIN_WEIGHT, maximum: MAX_WEIGHT }) },
    { additionalProperties: false },
  ),
  { maxItems: MAX_WEIGHT_ENTRIES },
);
export type WeightsBody = Static<typeof WeightsBody>;

/** A quota's resources in any of Mesos's forms: `[Resource]`, `'cpus:2;mem:1024'` or `{cpus: 2}`. */
const QuotaResources = Type.Union([
  Type.Array(
    Type.Object(
      {
        name: ResourceName,
        type: Type.Literal('SCALAR'),
        scalar: Type.Object({ value: Quantity }, { additionalProperties: false }),
        role: Type.Optional(Type.String({ maxLength: MAX_ROLE_NAME })),
      },
      { additionalProperties: false },
    ),
    { maxItems: MAX_QUOTA_RESOURCES },
  ),
  Type.String({ maxLength: 4096 }),
  Type.Record(ResourceName, Quantity, { maxProperties: MAX_QUOTA_RESOURCES }),
]);

/** Mesos's old `/quota` body (`guarantee: [Resource]`) and the 1.9+ QuotaConfig form (`guarantees`, `limits`). */
export const QuotaBody = Type.Object(
  {
    role: RoleName,
    guarantee: Type.Optional(QuotaResources),
    guarantees: Type.Optional(QuotaResources),
    limit: Type.Optional(QuotaResources),
    limits: Type.Optional(QuotaResources),
    force: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type QuotaBody = Static<typeof QuotaBody>;

/** Mesos's role-name rule: the SDK's one, used by the wire schemas, SUBSCRIBE and these routes alike. */
export { roleNameProblem };

function checkRole(name: string): string {
  const why = roleNameProblem(name);
  if (why) throw new InvalidRoleRequest(why);
  return name;
}

export interface WeightEntry {
  role: string;
  weight: number;
}

/** The roles with these weights (all entries checked before any is applied). Weight 1 is the default. */
export function withWeights(
  roles: ReadonlyMap<string, AllocatorRole>,
  entries: WeightsBody,
): Map<string, AllocatorRole> {
  for (const e of entries) checkRole(e.role);
  const next = new Map(roles);
  for (const { role, weight } of entries) next.set(role, { ...(next.get(role) ?? { name: role, weight: 1 }), weight });
  return next;
}

export function weightsView(roles: ReadonlyMap<string, AllocatorRole>): WeightEntry[] {
  return [...roles.values()].filter((r) => r.weight !== 1).map((r) => ({ role: r.name, weight: r.weight }));
}

type QuotaResources = Static<typeof QuotaResources>;

function quotaResources(v: QuotaResources | undefined, what: string): Resources | undefined {
  if (v === undefined) return undefined;
  let r: Resources;
  try {
    if (Array.isArray(v)) r = Resources.from(v);
    else if (typeof v === 'string') r = Resources.parse(v);
    else r = Resources.scalars(v);
  } catch (e) {
    if (e instanceof ResourceError) throw new InvalidRoleRequest(`${what}: ${e.message}`);
    throw e;
  }
  for (const x of r.toList()) {
    if (x.type !== 'SCALAR' || (x.role ?? DEFAULT_ROLE) !== DEFAULT_ROLE) {
      throw new InvalidRoleRequest(`${what} may hold only unreserved scalar resources (cpus, mem, disk, gpus)`);
    }
  }
  if (r.toList().length > MAX_QUOTA_RESOURCES) {
    throw new InvalidRoleRequest(`${what} names more than ${MAX_QUOTA_RESOURCES} resources`);
  }
  for (const [name, q] of Object.entries(r.scalarTotals())) {
    if (!Number.isFinite(q) || q < 0 || q > MAX_QUOTA_QUANTITY) {
      throw new InvalidRoleRequest(`${what} of ${name} must be between 0 and ${MAX_QUOTA_QUANTITY}, got ${q}`);
    }
  }
  return r;
}

/** The roles with this role's quota set (replacing any it had). Quota is on unreserved scalars only. */
export function withQuota(
  roles: ReadonlyMap<string, AllocatorRole>,
  body: QuotaBody,
): { roles: Map<string, AllocatorRole>; role: string; quota: RoleQuota } {
  const role = checkRole(body.role);
  if (role === DEFAULT_ROLE) throw new InvalidRoleRequest("quota cannot be set on the default role '*'");
  // Each side in one form only: with both, one would be silently ignored (found by the fuzzer).
  if (body.guarantee !== undefined && body.guarantees !== undefined)
    throw new InvalidRoleRequest(
      "give 'guarantee' (a resource list) or 'guarantees' (a name → quantity map), not both",
    );
  if (body.limit !== undefined && body.limits !== undefined)
    throw new InvalidRoleRequest("give 'limit' (a resource list) or 'limits' (a name → quantity map), not both");
  const guarantee = quotaResources(body.guarantee ?? body.guarantees, 'guarantee');
  const limit = quotaResources(body.limit ?? body.limits, 'limit');
  if (!guarantee && !limit) throw new InvalidRoleRequest('give a guarantee (guarantees) or a limit (limits), or both');
  if (guarantee && limit) {
    const limits = limit.scalarTotals();
    for (const [name, g] of Object.entries(guarantee.scalarTotals())) {
      const l = limits[name];
      if (l !== undefined && g > l)
        throw new InvalidRoleRequest(`guarantee of ${name} (${g}) is above its limit (${l})`);
    }
  }
  const quota: RoleQuota = {};
  if (guarantee) quota.guarantee = guarantee;
  if (limit) quota.limit = limit;
  const next = new Map(roles);
  next.set(role, { ...(next.get(role) ?? { name: role, weight: 1 }), quota });
  return { roles: next, role, quota };
}

/** The roles without this role's quota; refused when it has none. */
export function withoutQuota(roles: ReadonlyMap<string, AllocatorRole>, role: string): Map<string, AllocatorRole> {
  const r = roles.get(checkRole(role));
  if (!r?.quota) throw new UnknownQuota(`role '${role}' has no quota`);
  const next = new Map(roles);
  next.set(role, { name: r.name, weight: r.weight });
  return next;
}

/** max over scalars of allocated/total: the role's dominant share (unweighted, as Mesos reports it). */
export function dominantShare(allocated: Resources, total: Record<string, number>): number {
  let share = 0;
  for (const [name, v] of Object.entries(allocated.scalarTotals())) {
    const t = total[name];
    if (t && t > 0) share = Math.max(share, v / t);
  }
  return share;
}
