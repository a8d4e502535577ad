/**
 * Roles as operators see and change them: names (Mesos's rules, hierarchical with `/`), weights
 * and quota, and the `/roles` view with each role's allocated and offered resources and dominant
 * share. Changes are validated as a whole before any is applied, so a bad request changes nothing.
 */
import { DEFAULT_ROLE, ResourceError, Resources } from '../sdk/resources/resources.js';
import type { AllocatorRole, RoleQuota } from './allocator/types.js';

export class RoleError extends Error {
  readonly statusCode = 400;
  constructor(
    message: string,
    readonly code = 'AGORA_MASTER_INVALID_ROLE_REQUEST',
  ) {
    super(message);
  }
}

/** Mesos's role name rules; returns why a name is invalid, or undefined. */
export function roleNameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string' || name.length === 0) return 'a role name must be a non-empty string';
  if (name === DEFAULT_ROLE) return undefined;
  if (name.length > 256) return 'a role name must be at most 256 characters';
  if (name.startsWith('/') || name.endsWith('/')) return `role '${name}' must not start or end with '/'`;
  for (const part of name.split('/')) {
    if (part === '' || part === '.' || part === '..') return `role '${name}' has an empty, '.' or '..' component`;
    if (part.startsWith('-')) return `role '${name}' has a component starting with '-'`;
    if (
      part === '*' ||
      /[\s\\*]/.test(part) ||
      [...part].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)
    ) {
      return `role '${name}' contains whitespace, '*', '\\' or a control character`;
    }
  }
  return undefined;
}

function checkRole(name: unknown): string {
  const why = roleNameProblem(name);
  if (why) throw new RoleError(why);
  return name as string;
}

export interface WeightEntry {
  role: string;
  weight: number;
}

/** Applies weights atomically: all entries are checked first. Weight 1 is the default. */
export function setWeights(roles: Map<string, AllocatorRole>, entries: unknown): WeightEntry[] {
  if (!Array.isArray(entries)) throw new RoleError('expected a JSON array like [{"role": "web", "weight": 2.0}]');
  const checked: WeightEntry[] = entries.map((e, i) => {
    if (typeof e !== 'object' || e === null) throw new RoleError(`entry ${i} is not an object`);
    const { role, weight } = e as { role?: unknown; weight?: unknown };
    const name = checkRole(role);
    if (typeof weight !== 'number' || !Number.isFinite(weight) || weight <= 0) {
      throw new RoleError(`weight for role '${name}' must be a number > 0, got ${JSON.stringify(weight)}`);
    }
    return { role: name, weight };
  });
  for (const { role, weight } of checked) {
    const r = roles.get(role) ?? { name: role, weight: 1 };
    roles.set(role, { ...r, weight });
  }
  return checked;
}

export function weightsView(roles: ReadonlyMap<string, AllocatorRole>): WeightEntry[] {
  return [...roles.values()].filter((r) => r.weight !== 1).map((r) => ({ role: r.name, weight: r.weight }));
}

function parseResourceField(v: unknown, what: string): Resources | undefined {
  if (v === undefined || v === null) return undefined;
  try {
    if (Array.isArray(v)) return Resources.from(v as never);
    if (typeof v === 'string') return Resources.parse(v);
    if (typeof v === 'object') {
      // Mesos 1.9+ QuotaConfig form: {"cpus": 2, "mem": 1024}
      const entries = Object.entries(v as Record<string, unknown>);
      for (const [k, x] of entries) {
        if (typeof x !== 'number') throw new ResourceError(`'${k}' must be a number`);
      }
      return Resources.scalars(Object.fromEntries(entries) as Record<string, number>);
    }
  } catch (e) {
    throw new RoleError(`${what}: ${(e as Error).message}`);
  }
  throw new RoleError(`${what} must be a list of resources, a text form like 'cpus:2;mem:1024', or {"cpus": 2}`);
}

/**
 * Sets a role's quota. Accepts Mesos's old `/quota` body (`{role, guarantee: [Resource]}`) and the
 * QuotaConfig form (`{role, guarantees: {cpus: 2}, limits: {cpus: 4}}`). Quota is on scalars only.
 */
export function setQuota(roles: Map<string, AllocatorRole>, body: unknown): { role: string; quota: RoleQuota } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new RoleError(
      'expected a JSON object like {"role": "web", "guarantees": {"cpus": 2}, "limits": {"cpus": 4}}',
    );
  }
  const b = body as Record<string, unknown>;
  const role = checkRole(b.role);
  if (role === DEFAULT_ROLE) throw new RoleError("quota cannot be set on the default role '*'");
  const guarantee = parseResourceField(b.guarantee ?? b.guarantees, 'guarantee');
  const limit = parseResourceField(b.limit ?? b.limits, 'limit');
  if (!guarantee && !limit) throw new RoleError('give a guarantee (guarantees) or a limit (limits), or both');
  for (const [what, r] of [
    ['guarantee', guarantee],
    ['limit', limit],
  ] as const) {
    if (r?.toList().some((x) => x.type !== 'SCALAR' || (x.role ?? DEFAULT_ROLE) !== DEFAULT_ROLE)) {
      throw new RoleError(`${what} may hold only unreserved scalar resources (cpus, mem, disk, gpus)`);
    }
  }
  if (guarantee && limit) {
    for (const [name, g] of Object.entries(guarantee.scalarTotals())) {
      const l = limit.scalarTotals()[name];
      if (l !== undefined && g > l) throw new RoleError(`guarantee of ${name} (${g}) is above its limit (${l})`);
    }
  }
  const quota: RoleQuota = {};
  if (guarantee) quota.guarantee = guarantee;
  if (limit) quota.limit = limit;
  const r = roles.get(role) ?? { name: role, weight: 1 };
  roles.set(role, { ...r, quota });
  return { role, quota };
}

export function removeQuota(roles: Map<string, AllocatorRole>, role: string): void {
  const r = roles.get(checkRole(role));
  if (!r?.quota) throw new RoleError(`role '${role}' has no quota`, 'AGORA_MASTER_UNKNOWN_QUOTA');
  roles.set(role, { name: r.name, weight: r.weight });
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
