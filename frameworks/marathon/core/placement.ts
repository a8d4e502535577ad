/**
 * Placement of one instance on one offer, as a pipeline of checkers, each rejection under a named
 * reason (Marathon's `/v2/queue` reasons): role, constraints, then cpus, mem, disk, gpus, ports.
 * Pure. `sdk/placement/` (wip/marathon-model) is the shared pipeline; this is the interface the
 * service calls, with Marathon's constraint semantics: LIKE/UNLIKE are full regex matches, only
 * UNLIKE accepts an agent without the attribute.
 */

import type { Offer, Resource } from 'agora/sdk';
import { meetsConstraint, parseConstraint } from 'agora/sdk';
import type { AppDef } from './spec.js';

export const Reason = {
  UnfulfilledRole: 'UnfulfilledRole',
  UnfulfilledConstraint: 'UnfulfilledConstraint',
  InsufficientCpus: 'InsufficientCpus',
  InsufficientMemory: 'InsufficientMemory',
  InsufficientDisk: 'InsufficientDisk',
  InsufficientGpus: 'InsufficientGpus',
  InsufficientPorts: 'InsufficientPorts',
  DeclinedByBackoff: 'DeclinedByBackoff',
} as const;
export type Reason = (typeof Reason)[keyof typeof Reason];
export const ALL_REASONS: Reason[] = Object.values(Reason);

/** What is left of an offer while instances are packed onto it: amounts per resource name and role. */
export class OfferPool {
  readonly scalars = new Map<string, Map<string, number>>();
  /** Free ports by role. */
  readonly ports = new Map<string, number[][]>();

  constructor(readonly offer: Offer) {
    for (const r of offer.resources) {
      const role = r.role ?? '*';
      if (role !== '*' && role !== offer.allocation_role) continue;
      if (r.type === 'SCALAR') {
        const m = this.scalars.get(r.name) ?? new Map<string, number>();
        m.set(role, (m.get(role) ?? 0) + (r.scalar?.value ?? 0));
        this.scalars.set(r.name, m);
      } else if (r.type === 'RANGES' && r.name === 'ports') {
        const list = this.ports.get(role) ?? [];
        for (const x of r.ranges?.range ?? []) list.push([x.begin, x.end]);
        this.ports.set(role, list);
      }
    }
  }

  scalar(name: string, roles: string[]): number {
    const m = this.scalars.get(name);
    if (!m) return 0;
    let sum = 0;
    for (const r of roles) sum += m.get(r) ?? 0;
    return sum;
  }

  /** Takes `amount` of `name` from `roles` in order; the resources taken. */
  takeScalar(name: string, amount: number, roles: string[]): Resource[] {
    const out: Resource[] = [];
    let left = Math.round(amount * 1000) / 1000;
    const m = this.scalars.get(name);
    if (!m || left <= 0) return out;
    for (const role of roles) {
      const have = m.get(role) ?? 0;
      const take = Math.min(have, left);
      if (take <= 0) continue;
      m.set(role, Math.round((have - take) * 1000) / 1000);
      left = Math.round((left - take) * 1000) / 1000;
      out.push({ name, type: 'SCALAR', scalar: { value: take }, ...(role !== '*' ? { role } : {}) });
      if (left <= 0) break;
    }
    return out;
  }

  freePorts(roles: string[]): number {
    let n = 0;
    for (const r of roles) for (const [b, e] of this.ports.get(r) ?? []) n += e - b + 1;
    return n;
  }

  /** Takes the `wanted` ports (0: any free one), in order; undefined when they are not all free. */
  takePorts(wanted: number[], roles: string[]): { ports: number[]; resources: Resource[] } | undefined {
    const out: number[] = new Array(wanted.length).fill(0);
    const roleOf: string[] = new Array(wanted.length).fill('*');
    const taken = new Set<number>();
    const roleHolding = (p: number): string | undefined => {
      if (taken.has(p)) return undefined;
      for (const r of roles) for (const [b, e] of this.ports.get(r) ?? []) if (p >= b && p <= e) return r;
      return undefined;
    };
    for (let i = 0; i < wanted.length; i++) {
      if (wanted[i] === 0) continue;
      const role = roleHolding(wanted[i]);
      if (!role) return undefined;
      out[i] = wanted[i];
      roleOf[i] = role;
      taken.add(wanted[i]);
    }
    for (let i = 0; i < wanted.length; i++) {
      if (wanted[i] !== 0) continue;
      search: for (const r of roles) {
        for (const [b, e] of this.ports.get(r) ?? []) {
          for (let p = b; p <= e; p++) {
            if (taken.has(p)) continue;
            out[i] = p;
            roleOf[i] = r;
            taken.add(p);
            break search;
          }
        }
      }
      if (out[i] === 0) return undefined;
    }
    const resources: Resource[] = [];
    for (let i = 0; i < out.length; i++) {
      const port = out[i];
      const list = this.ports.get(roleOf[i]) ?? [];
      const at = list.findIndex(([b, e]) => port >= b && port <= e);
      const [b, e] = list[at];
      const pieces: number[][] = [];
      if (b < port) pieces.push([b, port - 1]);
      if (port < e) pieces.push([port + 1, e]);
      list.splice(at, 1, ...pieces);
      resources.push({
        name: 'ports',
        type: 'RANGES',
        ranges: { range: [{ begin: port, end: port }] },
        ...(roleOf[i] !== '*' ? { role: roleOf[i] } : {}),
      });
    }
    return { ports: out, resources };
  }
}

/** The host ports an app asks for, in order (0: any). */
export function requestedPorts(app: AppDef): number[] {
  const mappings = app.container?.portMappings as { hostPort?: number }[] | undefined;
  const bridged = app.networks.some((n) => n.mode !== 'host');
  if (bridged && mappings) return mappings.filter((m) => m.hostPort !== undefined).map((m) => m.hostPort ?? 0);
  return app.portDefinitions.map((p) => (app.requirePorts ? p.port : 0));
}

/** What placement knows about the instances already placed, for the constraints. */
export interface PlacedInstance {
  agentId: string;
  hostname: string;
  attributes: Record<string, string>;
}

/**
 * Whether one constraint holds for placing one more instance on `offer`: Marathon's semantics, from
 * the shared pipeline (sdk/placement `meetsConstraint`).
 */
export function constraintHolds(c: string[], offer: Offer, placed: PlacedInstance[], desired = 1): boolean {
  const parsed = parseConstraint(c);
  if (!parsed.ok) return false;
  const agent = { agentId: offer.agent_id, hostname: offer.hostname, attributes: offer.attributes };
  return meetsConstraint(parsed.constraint, agent, placed, desired);
}

export type Fit =
  | { ok: true; resources: Resource[]; ports: number[] }
  | { ok: false; reason: Reason; constraint?: string };

/** Runs the pipeline for one instance of `app` on what is left of an offer; takes the resources on success. */
export function place(app: AppDef, pool: OfferPool, placed: PlacedInstance[]): Fit {
  const offer = pool.offer;
  const role = app.role ?? offer.allocation_role;
  const accepted = app.acceptedResourceRoles;
  const roles = [...new Set(accepted && accepted.length > 0 ? accepted : ['*', role])].filter(
    (r) => r === '*' || r === offer.allocation_role,
  );
  if (roles.length === 0) return { ok: false, reason: Reason.UnfulfilledRole };
  for (const c of app.constraints) {
    if (!constraintHolds(c, offer, placed, app.instances))
      return { ok: false, reason: Reason.UnfulfilledConstraint, constraint: c.join(':') };
  }
  const needs: [string, number, Reason][] = [
    ['cpus', app.cpus, Reason.InsufficientCpus],
    ['mem', app.mem, Reason.InsufficientMemory],
    ['disk', app.disk, Reason.InsufficientDisk],
    ['gpus', app.gpus, Reason.InsufficientGpus],
  ];
  for (const [name, amount, reason] of needs)
    if (amount > 0 && pool.scalar(name, roles) + 1e-9 < amount) return { ok: false, reason };
  const wanted = requestedPorts(app);
  if (pool.freePorts(roles) < wanted.length) return { ok: false, reason: Reason.InsufficientPorts };
  const ports = wanted.length > 0 ? pool.takePorts(wanted, roles) : { ports: [], resources: [] };
  if (!ports) return { ok: false, reason: Reason.InsufficientPorts };
  const resources: Resource[] = [];
  for (const [name, amount] of needs) if (amount > 0) resources.push(...pool.takeScalar(name, amount, roles));
  resources.push(...ports.resources);
  return { ok: true, resources, ports: ports.ports };
}
