/**
 * Does a task's need fit an offer, and taking it: pure functions over an offer's resources (the
 * arithmetic is sdk/resources'), its allocation role and its agent's attributes.
 *
 * Roles: a framework may use the offer's unreserved resources (`*`) and those reserved for the
 * role the offer is allocated to. By default a need takes reserved resources first, then
 * unreserved ones; `reservation: 'reserved'` or `'unreserved'` restricts it to one kind.
 *
 * Ports: `ports` names host ports that must be free in the offer; `anyPorts: n` asks for n more,
 * chosen lowest first (deterministic), or at random through an injected `Rng` (spreads tasks of
 * several frameworks over a port range, as Marathon does).
 */
import {
  DEFAULT_ROLE,
  fixed,
  mergeRanges,
  type Range,
  type Resource,
  Resources,
  subtractRanges,
} from '../resources/resources.js';
import type { Rng } from '../util/random.js';

/** What one task (or an executor) asks of an offer. */
export interface TaskNeed {
  cpus?: number;
  mem?: number;
  disk?: number;
  gpus?: number;
  /** Other scalar resources by name. */
  scalars?: Readonly<Record<string, number>>;
  /** These host ports, each free in the offer. */
  ports?: readonly number[];
  /** This many more host ports, any (besides `ports`). */
  anyPorts?: number;
  /** Which resources may be used: reserved for the role first then unreserved (`any`, the default), or only one kind. */
  reservation?: 'any' | 'reserved' | 'unreserved';
  /** The role whose reservations may be used (default: the offer's `allocation_role`). */
  role?: string;
  /** Agent attributes that must hold: a value, or one of several values. */
  attributes?: Readonly<Record<string, string | readonly string[]>>;
}

/** An offer, or what is left of one: its resources, the role it is allocated to, its agent's attributes. */
export interface OfferLike {
  resources: readonly Resource[] | Resources;
  allocation_role?: string;
  attributes?: Readonly<Record<string, string>>;
}

export interface TakeOptions {
  /** Random port choice for `anyPorts`; without it the lowest free ports are taken. */
  rng?: Rng;
}

export type TakeResult =
  | {
      ok: true;
      /** The resources the task books: put these in its TaskInfo. */
      taken: Resources;
      /** What remains of the offer for the next task. */
      left: Resources;
      /** The host ports taken: `ports` in the order given, then the `anyPorts` ones ascending. */
      ports: number[];
    }
  | { ok: false; reasons: string[] };

const SCALARS = ['cpus', 'mem', 'disk', 'gpus'] as const;

/** Why `need` does not fit `offer` (empty when it fits). */
export function whyNot(offer: OfferLike, need: TaskNeed): string[] {
  const r = take(offer, need);
  return r.ok ? [] : r.reasons;
}

/** Whether `need` fits `offer`. */
export function fits(offer: OfferLike, need: TaskNeed): boolean {
  return take(offer, need).ok;
}

/** The roles whose resources `need` may use in `offer`, in order of preference. */
export function sourceRoles(offer: OfferLike, need: TaskNeed): string[] {
  const role = need.role ?? offer.allocation_role ?? DEFAULT_ROLE;
  const mode = need.reservation ?? 'any';
  if (mode === 'unreserved' || role === DEFAULT_ROLE) return mode === 'reserved' ? [] : [DEFAULT_ROLE];
  if (mode === 'reserved') return [role];
  return [role, DEFAULT_ROLE];
}

/**
 * Takes what `need` asks from `offer`: the resources booked (each entry with the role it came
 * from), what is left (left + taken = the offer), and the ports chosen; or every reason it does
 * not fit.
 */
export function take(offer: OfferLike, need: TaskNeed, opts: TakeOptions = {}): TakeResult {
  const avail = Resources.from(offer.resources);
  const roles = sourceRoles(offer, need);
  const reasons: string[] = [];
  const taken: Resource[] = [];
  const rolesText = roles.length > 0 ? roles.join(', ') : 'none';

  reasons.push(...attributeReasons(offer, need));
  if (need.reservation === 'reserved' && roles.length === 0) {
    reasons.push('reserved resources asked for, but the offer is for the unreserved role *');
  }

  const scalars: [string, number | undefined][] = [
    ...SCALARS.map((n) => [n, need[n]] as [string, number | undefined]),
    ...Object.entries(need.scalars ?? {}),
  ];
  for (const [name, amount] of scalars) {
    if (amount === undefined || amount === 0) continue;
    if (!Number.isFinite(amount) || amount < 0) {
      reasons.push(`${name}: ${amount} is not a quantity`);
      continue;
    }
    let rest = fixed(amount);
    for (const role of roles) {
      if (rest <= 0) break;
      const t = Math.min(avail.scalar(name, role), rest);
      if (t > 0) {
        taken.push(scalar(name, t, role));
        rest = fixed(rest - t);
      }
    }
    if (rest > 0) {
      const have = fixed(roles.reduce((s, role) => s + avail.scalar(name, role), 0));
      reasons.push(`${name}: needs ${fixed(amount)}, the offer has ${have} for roles ${rolesText}`);
    }
  }

  // Ports: the named ones first, then any others.
  const free = new Map<string, Range[]>(roles.map((role) => [role, avail.ranges('ports', role)]));
  const chosen: number[] = [];
  const named = need.ports ?? [];
  const seen = new Set<number>();
  for (const p of named) {
    if (!Number.isInteger(p) || p < 0 || p > 65_535) {
      reasons.push(`port ${p} is not a port number`);
      continue;
    }
    if (seen.has(p)) {
      reasons.push(`port ${p} is asked for twice`);
      continue;
    }
    seen.add(p);
    const role = roles.find((r) => (free.get(r) ?? []).some((x) => x.begin <= p && p <= x.end));
    if (role === undefined) {
      reasons.push(`port ${p} is not free in the offer for roles ${rolesText}`);
      continue;
    }
    free.set(role, subtractRanges(free.get(role) ?? [], [{ begin: p, end: p }]));
    taken.push(ports([p], role));
    chosen.push(p);
  }
  const n = need.anyPorts ?? 0;
  if (!Number.isInteger(n) || n < 0) reasons.push(`anyPorts: ${n} is not a count`);
  else if (n > 0) {
    const total = roles.reduce((s, r) => s + count(free.get(r) ?? []), 0);
    if (total < n) {
      reasons.push(`ports: needs ${n} more, the offer has ${total} free for roles ${rolesText}`);
    } else {
      const picked: number[] = [];
      let want = n;
      for (const role of roles) {
        if (want === 0) break;
        const ranges = free.get(role) ?? [];
        const k = Math.min(want, count(ranges));
        const got = opts.rng ? pickRandom(ranges, k, opts.rng) : pickLowest(ranges, k);
        if (got.length > 0) taken.push(ports(got, role));
        picked.push(...got);
        want -= got.length;
      }
      chosen.push(...picked.sort((a, b) => a - b));
    }
  }

  if (reasons.length > 0) return { ok: false, reasons };
  const t = Resources.from(taken);
  return { ok: true, taken: t, left: avail.minus(t), ports: chosen };
}

/**
 * Takes several needs from one offer in order (an executor and its tasks, or N copies of a task),
 * each from what the ones before left. All or none: undefined reasons when every need fits.
 */
export function takeAll(
  offer: OfferLike,
  needs: readonly TaskNeed[],
  opts: TakeOptions = {},
):
  | { ok: true; each: { taken: Resources; ports: number[] }[]; left: Resources }
  | { ok: false; index: number; reasons: string[] } {
  let left = Resources.from(offer.resources);
  const each: { taken: Resources; ports: number[] }[] = [];
  for (let i = 0; i < needs.length; i++) {
    const r = take({ ...offer, resources: left }, needs[i], opts);
    if (!r.ok) return { ok: false, index: i, reasons: r.reasons };
    each.push({ taken: r.taken, ports: r.ports });
    left = r.left;
  }
  return { ok: true, each, left };
}

/** How many copies of `need` the offer holds (at most `max`). */
export function howMany(offer: OfferLike, need: TaskNeed, max = 1_000): number {
  let left = Resources.from(offer.resources);
  let n = 0;
  while (n < max) {
    const r = take({ ...offer, resources: left }, need);
    if (!r.ok || r.taken.isEmpty()) break;
    left = r.left;
    n++;
  }
  return n;
}

function attributeReasons(offer: OfferLike, need: TaskNeed): string[] {
  const out: string[] = [];
  for (const [key, want] of Object.entries(need.attributes ?? {})) {
    const have = offer.attributes?.[key];
    const allowed = typeof want === 'string' ? [want] : want;
    if (have === undefined) out.push(`attribute ${key}: the agent has none`);
    else if (!allowed.includes(have))
      out.push(`attribute ${key}: the agent has '${have}', not ${allowed.map((a) => `'${a}'`).join(' or ')}`);
  }
  return out;
}

function scalar(name: string, value: number, role: string): Resource {
  return { name, type: 'SCALAR', scalar: { value }, ...(role !== DEFAULT_ROLE ? { role } : {}) };
}

function ports(list: readonly number[], role: string): Resource {
  const range = mergeRanges(list.map((p) => ({ begin: p, end: p })));
  return { name: 'ports', type: 'RANGES', ranges: { range }, ...(role !== DEFAULT_ROLE ? { role } : {}) };
}

function count(ranges: readonly Range[]): number {
  let n = 0;
  for (const r of ranges) n += r.end - r.begin + 1;
  return n;
}

function pickLowest(ranges: readonly Range[], k: number): number[] {
  const out: number[] = [];
  for (const r of ranges) {
    for (let p = r.begin; p <= r.end && out.length < k; p++) out.push(p);
    if (out.length >= k) break;
  }
  return out;
}

/** k distinct ports uniformly from `ranges` (Floyd's sampling: k draws, whatever the range size). */
function pickRandom(ranges: readonly Range[], k: number, rng: Rng): number[] {
  const total = count(ranges);
  const idx = new Set<number>();
  for (let j = total - k; j < total; j++) {
    const t = Math.min(j, Math.max(0, Math.floor(rng.next() * (j + 1))));
    idx.add(idx.has(t) ? j : t);
  }
  return [...idx].sort((a, b) => a - b).map((i) => portAt(ranges, i));
}

function portAt(ranges: readonly Range[], i: number): number {
  let rest = i;
  for (const r of ranges) {
    const n = r.end - r.begin + 1;
    if (rest < n) return r.begin + rest;
    rest -= n;
  }
  throw new RangeError(`port index ${i} beyond the ranges`);
}
