/**
 * Placement as a pipeline of checkers run on each offer: `check(offer, spec, ctx) → ok | {reason}`.
 * The first checker that refuses names the reason the offer was not used; a {@link RejectionTally}
 * counts offers per reason (and per constraint), which is what "why is my app waiting?" shows
 * (`/v2/queue`'s `processedOffersSummary`, with Marathon's reason names).
 *
 * Order, as Marathon's reason funnel (`NoOfferMatchReason.reasonFunnel`): launch backoff, role,
 * constraints (in the order the app declares them), cpus, mem, disk, gpus, ports. When every checker passes, the result says which
 * resources to take (scalars from the app's role before `*`, ports lowest first) and what is left,
 * through the SDK's offer helpers (`sdk/offers` take) where the roles allow.
 *
 * Pure: the clock reading comes in through the context.
 */
import { take as offerTake, type TaskNeed } from '../offers/index.js';
import { DEFAULT_ROLE, fixed, type Range, type Resource, Resources } from '../resources/index.js';
import {
  type AgentView,
  type Constraint,
  constraintLabel,
  meetsConstraint,
  type PlacedInstance,
} from './constraint.js';

/** Named reasons, as Marathon's `NoOfferMatchReason` (plus the backoff that Marathon only logs). */
export const RejectionReason = {
  DeclinedByBackoff: 'DeclinedByBackoff',
  UnfulfilledRole: 'UnfulfilledRole',
  UnfulfilledConstraint: 'UnfulfilledConstraint',
  InsufficientCpus: 'InsufficientCpus',
  InsufficientMemory: 'InsufficientMemory',
  InsufficientDisk: 'InsufficientDisk',
  InsufficientGpus: 'InsufficientGpus',
  InsufficientPorts: 'InsufficientPorts',
} as const;
export type RejectionReason = (typeof RejectionReason)[keyof typeof RejectionReason];
/** Every reason in pipeline order: Marathon's `NoOfferMatchReason.reasonFunnel` (the order `/v2/queue` lists them), backoff first. */
export const REJECTION_REASONS: readonly RejectionReason[] = Object.values(RejectionReason);

/** What one instance needs. */
export interface PlacementSpec {
  cpus: number;
  mem: number;
  disk: number;
  gpus: number;
  /** Host ports: 0 asks for any free port, another number for exactly that one. */
  ports: readonly number[];
  /** Roles whose resources may be used; default: the spec's role and `*`. */
  acceptedResourceRoles?: readonly string[];
  /** The role the framework allocates in (default `*`). */
  role?: string;
  constraints: readonly Constraint[];
  /** Instance count wanted (GROUP_BY spreads it). */
  instances: number;
}

/** An offer (or an agent's free resources) as placement sees it. */
export interface OfferView extends AgentView {
  resources: Resources | readonly Resource[];
}

export interface PlacementContext {
  /** Instances of the same run spec already placed (including ones placed earlier in this round). */
  placed: readonly PlacedInstance[];
  /** Now, and the end of the spec's launch backoff (both in ms; no backoff when absent). */
  nowMs?: number;
  backoffUntilMs?: number;
}

export type CheckResult = { ok: true } | { ok: false; reason: RejectionReason; detail?: string };

/** The offer's resources the spec may use (already filtered by role). */
export interface CheckInput {
  offer: OfferView;
  usable: Resources;
}

export interface Checker {
  readonly name: string;
  check(input: CheckInput, spec: PlacementSpec, ctx: PlacementContext): CheckResult;
}

export type PlacementResult =
  | {
      ok: true;
      /** The resources the instance books (each with the role it comes from). */
      resources: Resource[];
      /** Host ports, in the order of `spec.ports` (a 0 replaced by the port chosen). */
      ports: number[];
      /** What is left of the offer's resources for the next instance. */
      left: Resources;
    }
  | { ok: false; reason: RejectionReason; detail?: string };

const OK: CheckResult = { ok: true };

function rolesOf(spec: PlacementSpec): string[] {
  const role = spec.role ?? DEFAULT_ROLE;
  const roles =
    spec.acceptedResourceRoles && spec.acceptedResourceRoles.length > 0
      ? spec.acceptedResourceRoles
      : [role, DEFAULT_ROLE];
  // The framework's own role first, then the others in the given order.
  return [...new Set(roles)].sort((a, b) => (a === role ? -1 : b === role ? 1 : 0));
}

function usableResources(all: Resources, spec: PlacementSpec): Resources {
  const roles = new Set(rolesOf(spec));
  return all.filter((r) => roles.has(r.role ?? DEFAULT_ROLE));
}

const scalarChecker = (
  name: string,
  resource: string,
  reason: RejectionReason,
  need: (s: PlacementSpec) => number,
): Checker => ({
  name,
  check({ usable }, spec) {
    const want = need(spec);
    if (want <= 0) return OK;
    const have = usable.scalar(resource);
    return have + 1e-9 >= want ? OK : { ok: false, reason, detail: `${resource}: wanted ${want}, offered ${have}` };
  },
});

/** Picks the ports: fixed ones must be offered; each 0 takes the lowest free one. Undefined when impossible. */
export function pickPorts(offered: readonly Range[], wanted: readonly number[]): number[] | undefined {
  const inRanges = (p: number) => offered.some((r) => p >= r.begin && p <= r.end);
  const fixedPorts = wanted.filter((p) => p !== 0);
  if (!fixedPorts.every(inRanges) || new Set(fixedPorts).size !== fixedPorts.length) return undefined;
  const used = new Set(fixedPorts);
  const out: number[] = [];
  let ri = 0;
  let next = offered[0]?.begin ?? 0;
  for (const p of wanted) {
    if (p !== 0) {
      out.push(p);
      continue;
    }
    let found: number | undefined;
    while (ri < offered.length && found === undefined) {
      const r = offered[ri];
      if (next < r.begin) next = r.begin;
      while (next <= r.end && used.has(next)) next++;
      if (next <= r.end) found = next++;
      else ri++;
    }
    if (found === undefined) return undefined;
    used.add(found);
    out.push(found);
  }
  return out;
}

/** The standard checkers, in Marathon's order. */
export const Checkers = {
  backoff: {
    name: 'backoff',
    check(_input, _spec, ctx) {
      if (ctx.backoffUntilMs === undefined || ctx.nowMs === undefined || ctx.nowMs >= ctx.backoffUntilMs) return OK;
      return {
        ok: false,
        reason: RejectionReason.DeclinedByBackoff,
        detail: `delayed for ${Math.ceil((ctx.backoffUntilMs - ctx.nowMs) / 1000)} s`,
      };
    },
  } satisfies Checker,
  role: {
    name: 'role',
    check({ usable }, spec) {
      if (!usable.isEmpty()) return OK;
      return {
        ok: false,
        reason: RejectionReason.UnfulfilledRole,
        detail: `no resources for roles ${rolesOf(spec).join(', ')}`,
      };
    },
  } satisfies Checker,
  cpus: scalarChecker('cpus', 'cpus', RejectionReason.InsufficientCpus, (s) => s.cpus),
  mem: scalarChecker('mem', 'mem', RejectionReason.InsufficientMemory, (s) => s.mem),
  disk: scalarChecker('disk', 'disk', RejectionReason.InsufficientDisk, (s) => s.disk),
  gpus: scalarChecker('gpus', 'gpus', RejectionReason.InsufficientGpus, (s) => s.gpus),
  ports: {
    name: 'ports',
    check({ usable }, spec) {
      if (spec.ports.length === 0) return OK;
      return pickPorts(usable.ranges('ports'), spec.ports)
        ? OK
        : {
            ok: false,
            reason: RejectionReason.InsufficientPorts,
            detail: `ports: wanted ${JSON.stringify(spec.ports)}`,
          };
    },
  } satisfies Checker,
  constraints: {
    name: 'constraints',
    check({ offer }, spec, ctx) {
      for (const c of spec.constraints) {
        if (!meetsConstraint(c, offer, ctx.placed, spec.instances)) {
          return { ok: false, reason: RejectionReason.UnfulfilledConstraint, detail: constraintLabel(c) };
        }
      }
      return OK;
    },
  } satisfies Checker,
} as const;

export const DEFAULT_PIPELINE: readonly Checker[] = [
  Checkers.backoff,
  Checkers.role,
  Checkers.constraints,
  Checkers.cpus,
  Checkers.mem,
  Checkers.disk,
  Checkers.gpus,
  Checkers.ports,
];

/** Runs the pipeline on one offer for one instance of `spec`. */
export function place(
  offer: OfferView,
  spec: PlacementSpec,
  ctx: PlacementContext,
  pipeline: readonly Checker[] = DEFAULT_PIPELINE,
): PlacementResult {
  const all = offer.resources instanceof Resources ? offer.resources : Resources.from(offer.resources);
  const usable = usableResources(all, spec);
  const input: CheckInput = { offer, usable };
  for (const c of pipeline) {
    const r = c.check(input, spec, ctx);
    if (!r.ok) return r;
  }
  return take(all, usable, spec);
}

/**
 * Places up to `max` instances on one offer, each on what the ones before left and with them
 * counted as placed (so UNIQUE, MAX_PER and GROUP_BY see them). Returns the fits and, when fewer
 * than `max` fit, the refusal that stopped it.
 */
export function packOffer(
  offer: OfferView,
  spec: PlacementSpec,
  ctx: PlacementContext,
  max: number,
  pipeline: readonly Checker[] = DEFAULT_PIPELINE,
): { placed: Extract<PlacementResult, { ok: true }>[]; stoppedBy?: Extract<PlacementResult, { ok: false }> } {
  const placed: Extract<PlacementResult, { ok: true }>[] = [];
  let resources: Resources = offer.resources instanceof Resources ? offer.resources : Resources.from(offer.resources);
  const placedSoFar: PlacedInstance[] = [...ctx.placed];
  const self: PlacedInstance = {
    agentId: offer.agentId,
    hostname: offer.hostname,
    attributes: offer.attributes,
    region: offer.region,
    zone: offer.zone,
  };
  while (placed.length < max) {
    const r = place({ ...offer, resources }, spec, { ...ctx, placed: placedSoFar }, pipeline);
    if (!r.ok) return { placed, stoppedBy: r };
    placed.push(r);
    placedSoFar.push(self);
    resources = r.left;
  }
  return { placed };
}

/** The SDK's reservation mode for the accepted roles, when it can express them. */
function sdkNeed(spec: PlacementSpec): TaskNeed | undefined {
  const role = spec.role ?? DEFAULT_ROLE;
  const roles = new Set(rolesOf(spec));
  const fixedPorts = spec.ports.filter((p) => p !== 0);
  const base: TaskNeed = {
    cpus: spec.cpus,
    mem: spec.mem,
    disk: spec.disk,
    gpus: spec.gpus,
    ports: fixedPorts,
    anyPorts: spec.ports.length - fixedPorts.length,
    role,
  };
  if (role === DEFAULT_ROLE)
    return roles.size === 1 && roles.has(DEFAULT_ROLE) ? { ...base, reservation: 'unreserved' } : undefined;
  if (roles.size === 2 && roles.has(role) && roles.has(DEFAULT_ROLE)) return { ...base, reservation: 'any' };
  if (roles.size === 1 && roles.has(role)) return { ...base, reservation: 'reserved' };
  if (roles.size === 1 && roles.has(DEFAULT_ROLE)) return { ...base, reservation: 'unreserved' };
  return undefined;
}

/** Puts the ports chosen back in the positions of `spec.ports` (zeros replaced in order). */
function inSpecOrder(spec: PlacementSpec, chosen: readonly number[]): number[] {
  const fixedCount = spec.ports.filter((p) => p !== 0).length;
  const anyPorts = chosen.slice(fixedCount);
  let k = 0;
  return spec.ports.map((p) => (p !== 0 ? p : anyPorts[k++]));
}

function take(all: Resources, usable: Resources, spec: PlacementSpec): PlacementResult {
  const need = sdkNeed(spec);
  if (need) {
    const r = offerTake({ resources: all, allocation_role: spec.role ?? DEFAULT_ROLE }, need);
    if (r.ok) return { ok: true, resources: r.taken.toList(), ports: inSpecOrder(spec, r.ports), left: r.left };
  }
  // Roles the SDK helper does not express (several reserved roles): take from the usable ones here.
  const roles = rolesOf(spec);
  const out: Resource[] = [];
  for (const [name, want0] of [
    ['cpus', spec.cpus],
    ['mem', spec.mem],
    ['disk', spec.disk],
    ['gpus', spec.gpus],
  ] as const) {
    let want = fixed(want0);
    for (const role of roles) {
      if (want <= 0) break;
      const have = usable.scalar(name, role);
      const n = fixed(Math.min(have, want));
      if (n > 0) {
        out.push({ name, type: 'SCALAR', scalar: { value: n }, ...(role === DEFAULT_ROLE ? {} : { role }) });
        want = fixed(want - n);
      }
    }
  }
  let ports: number[] = [];
  if (spec.ports.length > 0) {
    ports = pickPorts(usable.ranges('ports'), spec.ports) ?? [];
    const byRole = new Map<string, Range[]>();
    for (const p of ports) {
      const role = roles.find((r) => usable.ranges('ports', r).some((x) => p >= x.begin && p <= x.end)) ?? DEFAULT_ROLE;
      const list = byRole.get(role) ?? [];
      list.push({ begin: p, end: p });
      byRole.set(role, list);
    }
    for (const [role, range] of byRole) {
      out.push({ name: 'ports', type: 'RANGES', ranges: { range }, ...(role === DEFAULT_ROLE ? {} : { role }) });
    }
  }
  return { ok: true, resources: out, ports, left: all.minus(out) };
}

/** Rejection counts by reason over the offers processed for one run spec (Marathon's queue summary). */
export class RejectionTally {
  processed = 0;
  used = 0;
  lastUsedAtMs?: number;
  lastUnusedAtMs?: number;
  private readonly byReason = new Map<RejectionReason, number>();
  private readonly byConstraint = new Map<string, number>();

  record(result: PlacementResult, atMs?: number): void {
    this.processed++;
    if (result.ok) {
      this.used++;
      if (atMs !== undefined) this.lastUsedAtMs = atMs;
      return;
    }
    if (atMs !== undefined) this.lastUnusedAtMs = atMs;
    this.byReason.set(result.reason, (this.byReason.get(result.reason) ?? 0) + 1);
    if (result.reason === RejectionReason.UnfulfilledConstraint && result.detail) {
      this.byConstraint.set(result.detail, (this.byConstraint.get(result.detail) ?? 0) + 1);
    }
  }

  get unused(): number {
    return this.processed - this.used;
  }

  count(reason: RejectionReason): number {
    return this.byReason.get(reason) ?? 0;
  }

  /**
   * Marathon's `rejectSummary…`: each reason in pipeline order with how many offers it declined and
   * how many reached it (an offer refused by an earlier checker never reached the later ones).
   */
  summary(): { reason: RejectionReason; declined: number; processed: number }[] {
    let reaching = this.processed;
    return REJECTION_REASONS.map((reason) => {
      const declined = this.count(reason);
      const row = { reason, declined, processed: reaching };
      reaching -= declined;
      return row;
    });
  }

  /** Offers refused per constraint (`hostname:UNIQUE` → 12). */
  constraints(): Record<string, number> {
    return Object.fromEntries(this.byConstraint);
  }
}
