/**
 * Offers: one allocation cycle (snapshot → the pure allocator → offers booked and sent, split into
 * frames under the limit), taking offers back (used, declined, rescinded, expired), and the
 * refusal filters a DECLINE leaves behind.
 */
import { encode } from '../../sdk/codec/index.js';
import type { SchedulerEvent } from '../../sdk/protocol/messages.js';
import type { Offer } from '../../sdk/protocol/types.js';
import { fixed, type Resource, type Resources, Resources as ResourcesValue } from '../../sdk/resources/resources.js';
import type {
  AllocationPlan,
  AllocatorAgent,
  AllocatorFramework,
  AllocatorSnapshot,
  PlannedOffer,
  RefusalFilter,
  SkipReason,
} from '../allocator/types.js';
import {
  type AgentEntry,
  agentOfferIds,
  type FrameworkEntry,
  linkAgentOffer,
  type OfferEntry,
  subtractAllocation,
  unlinkAgentOffer,
} from '../registry.js';
import type { Core } from './core.js';
import type { Effects } from './effects.js';

const DEFAULT_REFUSE_SECONDS = 5;
const MAX_REFUSE_SECONDS = 365 * 24 * 3600;
/** Room kept free in every frame for the envelope around the items. */
const FRAME_MARGIN_BYTES = 1024;

/**
 * The allocator's view of an agent, kept on its entry while nothing it is built from changed
 * (Resources are values), so that its `total` and `allocated` stay the same values from one
 * snapshot to the next and the allocator's memos of them hold.
 */
function agentView(a: AgentEntry, active: boolean): AllocatorAgent {
  const v = a.view;
  if (
    v !== undefined &&
    a.viewTotal === a.total &&
    a.viewUsed === a.used &&
    (a.viewOffered === a.offered || (a.viewOffered?.isEmpty() === true && a.offered.isEmpty())) &&
    a.viewInfo === a.info &&
    a.viewActive === active
  )
    return v;
  const allocated = a.offered.isEmpty() ? a.used : a.used.isEmpty() ? a.offered : a.used.plus(a.offered);
  const view = {
    id: a.id,
    hostname: a.info.hostname,
    total: a.total,
    allocated,
    attributes: a.info.attributes,
    active,
  };
  a.view = view;
  a.viewTotal = a.total;
  a.viewUsed = a.used;
  a.viewOffered = a.offered;
  a.viewInfo = a.info;
  a.viewActive = active;
  return view;
}

/**
 * Per master, the agents of its last snapshot in the snapshot's order, and how many agents it knew
 * then: booking finds an offer's agent at the plan's `agentIndex` (checked against the id) instead
 * of by a lookup by id in the agents map (a hash and a probe per offer, cache misses at 10,000).
 * Agents are only ever added to the map, or all cleared when leadership is lost: while the first
 * of these entries is still the map's and the map is no smaller, every entry here still is.
 */
interface SnapshotAgents {
  entries: AgentEntry[];
  known: number;
  /**
   * The agents list of the last full snapshot: handed out again when every view in it is still the
   * one the next full snapshot would list (nothing happened to any agent), instead of a new list of
   * 10,000 equal entries (a snapshot is read-only, so two may share it).
   */
  views: AllocatorAgent[] | undefined;
}
const snapshotAgents = new WeakMap<Core, SnapshotAgents>();

function snapshotAgentsOf(s: Core): SnapshotAgents {
  let known = snapshotAgents.get(s);
  if (known === undefined) {
    known = { entries: [], known: 0, views: undefined };
    snapshotAgents.set(s, known);
  }
  return known;
}

/** The entries of the last snapshot, when they are all still the map's (see SnapshotAgents). */
function entriesStillKnown(s: Core): AgentEntry[] | undefined {
  const known = snapshotAgents.get(s);
  if (known === undefined || known.entries.length === 0 || s.agents.size < known.known) return undefined;
  const first = known.entries[0];
  return s.agents.get(first.id) === first ? known.entries : undefined;
}

/** Each agent total's scalar sums, kept while the total is the same value (Resources are values). */
const totalsOf = new WeakMap<Resources, Record<string, number>>();

/**
 * The last sum per master, and the versions of the agents map and of the agents' totals it was made
 * at. An event's cycle (one agent re-registered, one task ended) needs the cluster's totals; summing
 * 5,000 agents' totals took about 2 ms each time, and a new leader taking its agents back ran
 * hundreds of such cycles (486 ms of its main thread in one profile). Checking each agent's total
 * against the one summed still read every agent (236 ms in the next profile); the versions are two
 * numbers.
 */
const lastTotals = new WeakMap<Core, { agents: number; totals: number; sum: Record<string, number> }>();

/** Scalar totals over every agent the master knows (what a full snapshot's agents add up to). */
function clusterTotals(s: Core): Record<string, number> {
  const last = lastTotals.get(s);
  if (last !== undefined && last.agents === s.agents.version && last.totals === s.totalsVersion) return last.sum;
  const sum = sumTotals(s);
  lastTotals.set(s, { agents: s.agents.version, totals: s.totalsVersion, sum });
  return sum;
}

function sumTotals(s: Core): Record<string, number> {
  const sum: Record<string, number> = {};
  for (const a of s.agents.values()) {
    let t = totalsOf.get(a.total);
    if (t === undefined) {
      t = a.total.scalarTotals();
      totalsOf.set(a.total, t);
    }
    for (const k in t) sum[k] = (sum[k] ?? 0) + t[k];
  }
  for (const k in sum) sum[k] = fixed(sum[k]);
  return sum;
}

/**
 * The allocator's view of the master. With `only`, just those agents (the ones an event changed),
 * with the whole cluster's totals so that shares are what a full cycle would see.
 */
export function snapshot(s: Core, only?: ReadonlySet<string>): AllocatorSnapshot {
  const now = s.nowMs();
  let agents: AllocatorAgent[] = [];
  const known = snapshotAgentsOf(s);
  const entries = known.entries;
  if (only) {
    for (const id of only) {
      const a = s.agents.get(id);
      if (a) {
        entries[agents.length] = a;
        agents.push(agentView(a, a.state === 'active' && s.leading));
      }
    }
    entries.length = agents.length;
  } else {
    // The last full snapshot's list while every view matches it; a copy of its prefix from the first that does not.
    // forEach, not for…of: a walk not yet optimised made an iterator result per agent (10,000 a cycle).
    const last = known.views;
    let list: AllocatorAgent[] | undefined;
    let i = 0;
    s.agents.forEach((a) => {
      entries[i] = a;
      const view = agentView(a, a.state === 'active' && s.leading);
      if (list === undefined) {
        if (last !== undefined && i < last.length && last[i] === view) {
          i++;
          return;
        }
        list = last === undefined ? [] : last.slice(0, i);
      }
      list.push(view);
      i++;
    });
    entries.length = i;
    if (list === undefined) list = last !== undefined && last.length === i ? last : (last ?? []).slice(0, i);
    known.views = list;
    agents = list;
  }
  known.known = s.agents.size;
  const frameworks: AllocatorFramework[] = [];
  s.frameworks.forEach((f) => {
    frameworks.push({
      id: f.id,
      roles: f.roles,
      suppressedRoles: f.suppressedRoles.size === 0 ? NO_SUPPRESSED : [...f.suppressedRoles],
      allocated: allocatedView(f),
      filters: liveFilters(f, now),
      // A framework whose connection is congested (unread backlog over the high water) gets no new
      // offers until it has read: offers are optional, and what it would not read in time is better
      // offered to others (master/state/master-state.ts, schedulerBackpressure).
      active: f.active && f.connected && f.peer !== undefined && s.schedulerConns.get(f.peer.id)?.congested !== true,
    });
  });
  const snap: AllocatorSnapshot = {
    now,
    agents,
    frameworks,
    roles: [...s.roles.values()],
    minAllocatable: s.cfg.minAllocatable,
  };
  if (only) snap.clusterTotals = clusterTotals(s);
  return snap;
}

/** A framework that suppressed no role: one shared empty list (the allocator only reads it). */
const NO_SUPPRESSED: string[] = [];

/** The last `allocated` record each framework's snapshot held, handed out again while its values are the same. */
const allocatedViews = new WeakMap<FrameworkEntry, Record<string, Resources>>();

/**
 * `Object.fromEntries(f.allocated)`, the same record as the last snapshot's when every role still
 * holds the very same value (Resources are values: a framework that declined what it was offered
 * holds again the value it held before, master/state/offers.ts takeFromAllocation).
 */
function allocatedView(f: FrameworkEntry): Record<string, Resources> {
  const last = allocatedViews.get(f);
  if (last !== undefined) {
    let n = 0;
    let same = true;
    for (const k in last) {
      n++;
      if (f.allocated.get(k) !== last[k]) {
        same = false;
        break;
      }
    }
    if (same && n === f.allocated.size) return last;
  }
  const view = Object.fromEntries(f.allocated);
  allocatedViews.set(f, view);
  return view;
}

/**
 * The framework's filters still in force at `now`: its own list, shared with the snapshot, when
 * none has expired (the cycle has just dropped the expired ones; copying 30,000 filters a cycle
 * was for nothing), a copy without them otherwise.
 */
function liveFilters(f: FrameworkEntry, now: number): RefusalFilter[] {
  const filters = f.filters;
  if (!(f.filtersExpireFrom > now))
    for (let i = 0; i < filters.length; i++)
      if (!(filters[i].expiresAt > now)) return filters.filter((x) => x.expiresAt > now);
  f.filtersShared = true;
  return filters;
}

/** One allocation cycle over every agent: expire offers and filters, then ask for the allocator's plan over a snapshot. */
export function allocationCycle(s: Core, out: Effects, only?: ReadonlySet<string>): void {
  if (!s.leading) return;
  expireOffers(s, out);
  const now = s.nowMs();
  s.lastCycleAt = now;
  for (const fw of s.frameworks.values()) {
    // Nothing to look at before the earliest expiry (30,000 filters read every cycle before).
    if (fw.filtersExpireFrom > now) continue;
    // A new list only when some filter expired (most cycles none did: 1,000 copies of 30,000 filters).
    const filters = fw.filters;
    let from = Number.POSITIVE_INFINITY;
    let expired = false;
    for (let i = 0; i < filters.length; i++) {
      const at = filters[i].expiresAt;
      if (!(at > now)) expired = true;
      else if (at < from) from = at;
    }
    if (expired) {
      fw.filters = filters.filter((f) => f.expiresAt > now);
      fw.filtersShared = false;
    }
    fw.filtersExpireFrom = from;
  }
  if (!only) {
    // A full cycle covers whatever events asked for so far.
    s.allocationScope = 'none';
    s.dirtyAgents.clear();
  }
  out.allocate(snapshot(s, only));
}

/**
 * The cycle events asked for: only the agents they changed, when that is all they changed and no
 * role has a quota (a guarantee's headroom is judged over the whole cluster); otherwise a full one.
 */
export function allocationSoon(s: Core, out: Effects): void {
  const scope = s.allocationScope;
  if (scope === 'none') return;
  if (scope === 'agents' && !anyQuota(s)) {
    const only = new Set(s.dirtyAgents);
    s.allocationScope = 'none';
    s.dirtyAgents.clear();
    allocationCycle(s, out, only);
    return;
  }
  allocationCycle(s, out);
}

function anyQuota(s: Core): boolean {
  for (const r of s.roles.values()) if (r.quota?.guarantee || r.quota?.limit) return true;
  return false;
}

/**
 * The allocator's plan for the snapshot just taken: book each offer (skipping agents and
 * frameworks gone since) and send them, split into frames under the limit.
 */
export function allocationResult(s: Core, out: Effects, plan: AllocationPlan, durationMs: number): void {
  s.counters.allocationRuns++;
  s.counters.lastAllocationMs = durationMs;
  if (!s.leading) return;
  const now = s.nowMs();
  try {
    bookPlan(s, out, plan, now);
  } finally {
    // By the master's clock (the allocator's own duration is wall time, which a virtual clock never sees).
    const since = s.nowMs() - s.lastCycleAt;
    s.lastCycleCostMs = Number.isFinite(since) ? since : 0;
  }
}

/** A framework passed over for nothing in the last cycle (one shared value, read only: 1,000 `{}` a cycle before). */
const NOTHING_SKIPPED: Readonly<Partial<Record<SkipReason, number>>> = Object.freeze({});

/**
 * Offers of one framework counted per role and distinct value, so that its allocation changes once
 * per (role, value), not once per offer (adding offer by offer would copy the framework's whole
 * allocation for every offer). Offers come in runs of one role and value: the run being counted is
 * held inline, and a map is made only for a framework with a second run (one run is the usual case:
 * two maps per framework a cycle for one entry before).
 */
interface Runs {
  role: string;
  value: Resources | undefined;
  count: number;
  /** Per role, each distinct value's count, for the runs ended (null until a run ends). */
  ended: Map<string, Map<Resources, number>> | null;
}

function newRuns(): Runs {
  return { role: '', value: undefined, count: 0, ended: null };
}

/** Counts one offer of `value` in `role`. */
function countRun(runs: Runs, role: string, value: Resources): void {
  if (runs.value === value && runs.role === role) {
    runs.count++;
    return;
  }
  endRun(runs);
  runs.role = role;
  runs.value = value;
  runs.count = 1;
}

/** Adds the run being counted to `ended`. */
function endRun(runs: Runs): void {
  const value = runs.value;
  if (value === undefined) return;
  runs.ended ??= new Map();
  let counts = runs.ended.get(runs.role);
  if (counts === undefined) {
    counts = new Map();
    runs.ended.set(runs.role, counts);
  }
  counts.set(value, (counts.get(value) ?? 0) + runs.count);
  runs.value = undefined;
  runs.count = 0;
}

type RunFn = (fw: FrameworkEntry, role: string, value: Resources, count: number) => void;

/** `fn(fw, role, value, count)` for each (role, value) counted, roles and values in the order first seen. */
function eachRun(runs: Runs, fw: FrameworkEntry, fn: RunFn): void {
  if (runs.ended === null) {
    if (runs.value !== undefined) fn(fw, runs.role, runs.value, runs.count);
    return;
  }
  endRun(runs);
  // forEach, not for…of over entries: an unoptimised walk makes an array per entry.
  runs.ended.forEach((counts, role) => {
    counts.forEach((k, r) => {
      fn(fw, role, r, k);
    });
  });
}

/** `count` offers of `value` added to the framework's allocation in `role` (booking). */
const addOffered: RunFn = (fw, role, value, count) => addToAllocation(fw, role, timesCount(value, count));
/** `count` offers of `value` taken off the framework's allocation in `role` (DECLINE). */
const takeDeclined: RunFn = (fw, role, value, count) => takeFromAllocation(fw, role, timesCount(value, count));

/** What one framework receives in a cycle: its wire offers, their size bound, its gains per role. */
interface Booked {
  fw: FrameworkEntry;
  offers: Offer[];
  size: number;
  /** Its offers per role and value: added to its allocation once at the end. */
  gained: Runs;
}

function bookPlan(s: Core, out: Effects, plan: AllocationPlan, now: number): void {
  for (const fw of s.frameworks.values()) fw.stats.lastSkipped = plan.skipped[fw.id] ?? NOTHING_SKIPPED;
  // Per framework: the wire offers and a bound on their OFFERS message, summed offer by offer from
  // bounds kept per shared part (a resource list, an agent's attributes), so deciding on splitting
  // walks nothing twice.
  const booked = new Map<FrameworkEntry, Booked>();
  // The allocator hands identical offers one shared (immutable) Resources value: its wire list
  // and its size bound are made once per value, not once per offer.
  const wire = new Map<Resources, Resource[]>();
  const listBounds = new Map<Resources, number>();
  // Offer ids come only from the master's own sequence (no caller brings one, none is recovered),
  // which never repeats: no id made here can be taken, so none is looked up first.
  const taken = () => false;
  // The framework and agent of the previous offer (plans come in runs of one framework or agent).
  let fw: FrameworkEntry | undefined;
  let b: Booked | undefined;
  // Each framework's entry and booking record in one lookup by id (booking in agent order
  // changes framework at almost every offer); null: no such framework.
  const byId = new Map<string, Booked | null>();
  let lastValue: Resources | undefined;
  let lastList: Resource[] | undefined;
  let lastBound = 0;
  const byIndex = entriesStillKnown(s);
  const planned = plan.offers;
  const order = byIndex === undefined ? undefined : agentOrder(planned, byIndex.length);
  for (let n = 0; n < planned.length; n++) {
    const p = planned[order === undefined ? n : order[n]];
    if (fw === undefined || fw.id !== p.frameworkId) {
      let known = byId.get(p.frameworkId);
      if (known === undefined) {
        const entry = s.frameworks.get(p.frameworkId);
        known = entry === undefined ? null : { fw: entry, offers: [], size: 0, gained: newRuns() };
        byId.set(p.frameworkId, known);
      }
      fw = known === null ? undefined : known.fw;
      b = known === null ? undefined : known;
    }
    const i = p.agentIndex;
    let agent = byIndex !== undefined && i !== undefined ? byIndex[i] : undefined;
    if (agent === undefined || agent.id !== p.agentId) agent = s.agents.get(p.agentId);
    if (!fw?.peer || !agent || b === undefined) continue;
    const offer: OfferEntry = {
      id: s.newId('O', taken),
      frameworkId: fw.id,
      agentId: agent.id,
      role: p.role,
      resources: p.resources,
      createdAt: now,
      onAgent: undefined,
      prevOnAgent: undefined,
      nextOnAgent: undefined,
      onFramework: undefined,
      prevOnFramework: undefined,
      nextOnFramework: undefined,
    };
    s.offers.set(offer.id, offer);
    fw.offers.add(offer);
    linkAgentOffer(agent, offer);
    agent.offered = agent.offered.isEmpty() ? p.resources : agent.offered.plus(p.resources);
    // Consecutive offers usually share their value: the last one's list and bound first.
    let list = p.resources === lastValue ? lastList : wire.get(p.resources);
    let lb: number;
    if (list === undefined) {
      list = p.resources.toList();
      wire.set(p.resources, list);
      lb = bound(list, Number.POSITIVE_INFINITY);
      listBounds.set(p.resources, lb);
    } else {
      lb = p.resources === lastValue ? lastBound : (listBounds.get(p.resources) as number);
    }
    lastValue = p.resources;
    lastList = list;
    lastBound = lb;
    if (b.offers.length === 0) booked.set(fw, b);
    // A framework's offers mostly share one value and role: counted in a run.
    countRun(b.gained, p.role, p.resources);
    if (agent.offerInfo !== agent.info) {
      agent.offerInfo = agent.info;
      agent.offerHostname = agent.info.hostname;
      agent.offerAttributes = agent.info.attributes;
      agent.offerAttributesBound = attributesBound(agent.info.attributes);
      agent.offerAgentBound = bound(agent.id, 0) + bound(agent.offerHostname, 0) + agent.offerAttributesBound;
    }
    const wireOffer: Offer = {
      id: offer.id,
      framework_id: fw.id,
      agent_id: agent.id,
      hostname: agent.offerHostname,
      resources: list,
      attributes: agent.offerAttributes,
      allocation_role: p.role,
    };
    b.offers.push(wireOffer);
    // offerBound, its agent's part kept on the agent.
    b.size += OFFER_KEYS_BOUND + 15 + 3 * (offer.id.length + fw.id.length + p.role.length) + lb + agent.offerAgentBound;
  }
  // forEach, not for…of over entries: an unoptimised walk makes an array per entry (3,000 per cycle).
  booked.forEach((b, fw) => {
    eachRun(b.gained, fw, addOffered);
  });
  booked.forEach(({ offers, size }, fw) => {
    fw.stats.offersSent += offers.length;
    s.counters.offersSent += offers.length;
    for (const chunk of splitUnder(offers, s.cfg.maxFrameBytes, 64 + 5 + size)) {
      out.toScheduler(fw.peer?.id, { type: 'OFFERS', offers: { offers: chunk } });
    }
  });
}

/**
 * The plan's offers in the order of their agents in the snapshot (stable), when every offer says
 * where its agent is: the plan follows the allocator's shuffled agents, and booking in that order
 * jumped between 10,000 agent entries at random (a cache miss or two each); in the order the
 * master listed them it walks them mostly in memory order. Undefined: book in the plan's order.
 */
function agentOrder(offers: readonly PlannedOffer[], nA: number): Int32Array | undefined {
  if (offers.length < 64) return undefined;
  const start = new Int32Array(nA + 1);
  for (let i = 0; i < offers.length; i++) {
    const a = offers[i].agentIndex;
    if (a === undefined || !(a >= 0 && a < nA)) return undefined;
    start[a + 1]++;
  }
  for (let a = 0; a < nA; a++) start[a + 1] += start[a];
  const order = new Int32Array(offers.length);
  for (let i = 0; i < offers.length; i++) order[start[offers[i].agentIndex as number]++] = i;
  return order;
}

/** Each agent's attributes' size bound, kept while they are the same object. */
const attributeBounds = new WeakMap<object, number>();

/** An upper bound on one wire offer's MessagePack size, as booking sums it (exported for tests). */
export function offerEncodedBound(o: Offer): number {
  return offerBound(o, bound(o.resources, Number.POSITIVE_INFINITY), attributesBound(o.attributes));
}

/** `bound` of an offer's attributes (1 when there are none). */
function attributesBound(attributes: Offer['attributes']): number {
  if (!attributes) return 1;
  let empty = true;
  for (const _ in attributes) {
    empty = false;
    break;
  }
  if (empty) return 5; // an empty map's bound, without a WeakMap lookup per agent's own `{}`
  let known = attributeBounds.get(attributes);
  if (known === undefined) {
    known = bound(attributes, Number.POSITIVE_INFINITY);
    attributeBounds.set(attributes, known);
  }
  return known;
}

/** The map header and the seven keys (at most 15 UTF-16 units each) of one wire offer. */
const OFFER_KEYS_BOUND = 5 + 7 * (5 + 3 * 15);

/** `bound` of one wire offer (its map and keys included), its resource list's and attributes' bounds given. */
function offerBound(o: Offer, listBound: number, attrs: number): number {
  // The map header, the seven keys and the string values.
  return (
    OFFER_KEYS_BOUND +
    bound(o.id, 0) +
    bound(o.framework_id, 0) +
    bound(o.agent_id, 0) +
    bound(o.hostname, 0) +
    bound(o.allocation_role, 0) +
    listBound +
    attrs
  );
}

/**
 * The scalars of `r` times `k`, made once per value and count (kept while the value lives: every
 * framework declining its offers of one value shares them). A value held k + 1 times
 * is added (or taken off) as `r` once, for its ranges and sets (adding them again is a union that
 * changes nothing), then these: scalars multiplied on Mesos's three-decimal grid equal adding them
 * one by one. Summing the copies into one value first copied and sorted each offer's ports again.
 */
function scalarsTimes(r: Resources, k: number): Resources {
  return perValueAndCount(scaled, r, k, () => {
    const list: Resource[] = [];
    r.forEachEntry((e) => {
      if (e.type !== 'SCALAR' || !e.scalar) return false;
      const times: Resource = { name: e.name, type: 'SCALAR', scalar: { value: fixed(e.scalar.value * k) } };
      if (e.role !== undefined) times.role = e.role;
      list.push(times);
      return false;
    });
    return ResourcesValue.from(list);
  });
}

const scaled = new WeakMap<Resources, Map<number, Resources>>();

/** `make()` for the value `r` and count `k`, made once and kept while `r` lives. */
function perValueAndCount(
  cache: WeakMap<Resources, Map<number, Resources>>,
  r: Resources,
  k: number,
  make: () => Resources,
): Resources {
  let byCount = cache.get(r);
  if (byCount === undefined) {
    byCount = new Map();
    cache.set(r, byCount);
  }
  let out = byCount.get(k);
  if (out === undefined) {
    out = make();
    byCount.set(k, out);
  }
  return out;
}

/**
 * What `k` offers of the value `r` add up to in a framework's allocation: `r` once (its ranges and
 * sets; adding them again changes nothing) and its scalars `k − 1` times more (`scalarsTimes`),
 * made once per value and count (every framework of a DeclineOffers round shares them), so that
 * the framework's allocation is copied once, not twice.
 */
function timesCount(r: Resources, k: number): Resources {
  if (k === 1) return r;
  return perValueAndCount(summed, r, k, () => r.plus(scalarsTimes(r, k - 1)));
}

const summed = new WeakMap<Resources, Map<number, Resources>>();

/** A framework's allocation in a role it holds nothing in (one shared immutable value). */
const NO_ALLOCATION = ResourcesValue.empty();

/** Per allocation value, per value added to it: the sum (Resources are immutable values, so the sum of the same two is the same). */
const sums = new WeakMap<Resources, Map<Resources, Resources>>();
/** Per allocation value, per value taken off it: what is left. */
const differences = new WeakMap<Resources, Map<Resources, Resources>>();
/** Each sum made by `addToAllocation`: the allocation and the value it came from. */
const sumOf = new WeakMap<Resources, { from: Resources; by: Resources }>();
/** How many values one allocation value remembers per map (more are forgotten, all at once). */
const MAX_REMEMBERED = 8;

function remember(memo: WeakMap<Resources, Map<Resources, Resources>>, from: Resources, by: Resources, to: Resources) {
  let m = memo.get(from);
  if (m === undefined) {
    m = new Map();
    memo.set(from, m);
  } else if (m.size >= MAX_REMEMBERED) {
    m.clear();
  }
  m.set(by, to);
}

/**
 * `addAllocation` (master/registry.ts), remembering the sum per (allocation, value) pair. With the
 * allocator handing out the same value for the same offer contents from cycle to cycle
 * (master/allocator/offer-resources.ts), a framework that declines its offers and is offered the
 * same again goes through the same values every cycle: the sum and the difference are looked up,
 * not built again (2,000 new allocation values a DeclineOffers round at 1,000 frameworks, each a
 * copy of the framework's ports, before).
 */
function addToAllocation(fw: FrameworkEntry, role: string, r: Resources): void {
  const have = fw.allocated.get(role) ?? NO_ALLOCATION;
  let next = sums.get(have)?.get(r);
  if (next === undefined) {
    next = have.plus(r);
    remember(sums, have, r, next);
    if (!sumOf.has(next)) sumOf.set(next, { from: have, by: r });
  }
  fw.allocated.set(role, next);
}

/**
 * `subtractAllocation` (master/registry.ts), remembering the difference. Taking back what a sum
 * added gives the allocation the sum came from itself when it is that exactly, entry by entry
 * (what was offered was not already held): the framework is back at the very value it had.
 */
function takeFromAllocation(fw: FrameworkEntry, role: string, r: Resources): void {
  const have = fw.allocated.get(role) ?? NO_ALLOCATION;
  let left = differences.get(have)?.get(r);
  if (left === undefined) {
    left = have.minus(r);
    const origin = sumOf.get(have);
    if (origin !== undefined && origin.by === r && sameEntries(left, origin.from)) left = origin.from;
    remember(differences, have, r, left);
  }
  if (left.isEmpty()) fw.allocated.delete(role);
  else fw.allocated.set(role, left);
}

/** The same entries in the same order, equal as data (so that either value reads, lists and encodes the same). */
export function sameEntries(a: Resources, b: Resources): boolean {
  if (a === b) return true;
  const xs: Readonly<Resource>[] = [];
  a.forEachEntry((e) => xs.push(e));
  let i = 0;
  let same = true;
  b.forEachEntry((e) => {
    if (same && !(i < xs.length && sameData(xs[i], e))) same = false;
    i++;
  });
  return same && i === xs.length;
}

function sameData(x: unknown, y: unknown): boolean {
  if (x === y) return true;
  if (typeof x !== 'object' || typeof y !== 'object' || x === null || y === null) return false;
  if (Array.isArray(x) !== Array.isArray(y)) return false;
  const xk = Object.keys(x);
  if (xk.length !== Object.keys(y).length) return false;
  for (const k of xk) {
    if (!Object.hasOwn(y, k) || !sameData((x as Record<string, unknown>)[k], (y as Record<string, unknown>)[k]))
      return false;
  }
  return true;
}

/** What an agent has on offer once its offers are all back (one shared immutable value). */
const NOTHING_OFFERED = ResourcesValue.empty();

/**
 * Splits `items` into runs whose message stays under `maxBytes` once encoded, estimated from each
 * item's own encoding (plus a margin for the envelope). An item too large on its own travels alone.
 * `knownBound`: an upper bound on the encoded size of `items` the caller already has.
 */
export function splitUnder<T>(items: T[], maxBytes: number, knownBound?: number): T[][] {
  const budget = Math.max(1, maxBytes - FRAME_MARGIN_BYTES);
  // Most batches fit in one frame: a bound on the encoded size, computed without encoding, says so.
  if ((knownBound ?? encodedBound(items, budget)) <= budget) return [items];
  const out: T[][] = [];
  let run: T[] = [];
  let used = 0;
  for (const item of items) {
    const size = encode({ type: 'HEARTBEAT', item } as unknown as SchedulerEvent).byteLength;
    if (run.length > 0 && used + size > budget) {
      out.push(run);
      run = [];
      used = 0;
    }
    run.push(item);
    used += size;
  }
  if (run.length > 0) out.push(run);
  return out;
}

/**
 * An upper bound on the MessagePack size of `v` (a map/array header at most 5 bytes, a number 9, a
 * string 5 plus 3 per UTF-16 unit), with the envelope of one message around it. Stops counting
 * once past `limit`. Values shared between items (an offer's resource list) are counted each time.
 */
export function encodedBound(v: unknown, limit = Number.POSITIVE_INFINITY): number {
  return 64 + bound(v, limit);
}

function bound(v: unknown, limit: number): number {
  switch (typeof v) {
    case 'string':
      return 5 + 3 * v.length;
    case 'number':
      return 9;
    case 'boolean':
    case 'undefined':
      return 1;
    case 'object': {
      if (v === null) return 1;
      let n = 5;
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length && n <= limit; i++) n += bound(v[i], limit);
        return n;
      }
      for (const k in v) {
        n += 5 + 3 * k.length + bound((v as Record<string, unknown>)[k], limit);
        if (n > limit) return n;
      }
      return n;
    }
    default:
      // bigint, function, symbol: never in our messages; count them as too large to be safe.
      return Number.POSITIVE_INFINITY;
  }
}

/** Takes an offer out, returning its resources to the pool (and telling the framework if `rescind`). */
export function removeOffer(
  s: Core,
  out: Effects,
  offerId: string,
  rescind: boolean,
  reallocate = true,
): OfferEntry | undefined {
  const offer = s.offers.get(offerId);
  if (!offer) return undefined;
  s.offers.delete(offerId);
  const fw = s.frameworks.get(offer.frameworkId);
  const agent = s.agents.get(offer.agentId);
  if (agent) {
    // The usual case: the agent's only offer goes back, and its value is the offer's own.
    agent.offered = agent.offered === offer.resources ? NOTHING_OFFERED : agent.offered.minus(offer.resources);
    unlinkAgentOffer(agent, offer);
  }
  if (fw) {
    fw.offers.remove(offer);
    subtractAllocation(fw, offer.role, offer.resources);
    if (rescind) {
      fw.stats.offersRescinded++;
      s.counters.offersRescinded++;
      out.toScheduler(fw.peer?.id, { type: 'RESCIND', rescind: { offer_id: offerId } });
    }
  }
  if (reallocate) s.requestAllocation(out, offer.agentId);
  return offer;
}

/**
 * A DECLINE: each of the framework's offers named goes back with a refusal filter for its
 * resources on its agent (ids already gone, or another framework's, are ignored, as Mesos does).
 * What the framework held in those offers is taken off its allocation once per role and distinct
 * value (plus once for the scalars of the copies, `scalarsTimes`), not once per offer.
 */
export function declineOffers(
  s: Core,
  out: Effects,
  fw: FrameworkEntry,
  offerIds: readonly string[],
  refuseSeconds?: number,
): void {
  const back = newRuns();
  for (const id of offerIds) {
    const o = s.offers.get(id);
    if (!o || o.frameworkId !== fw.id) continue; // already gone: nothing to do (Mesos ignores it too)
    s.offers.delete(id);
    fw.offers.remove(o);
    const agent = s.agents.get(o.agentId);
    if (agent) {
      agent.offered = agent.offered === o.resources ? NOTHING_OFFERED : agent.offered.minus(o.resources);
      unlinkAgentOffer(agent, o);
    }
    countRun(back, o.role, o.resources);
    fw.stats.offersDeclined++;
    s.counters.offersDeclined++;
    addFilter(s, fw, o.agentId, o.role, o.resources, refuseSeconds);
    s.requestAllocation(out, o.agentId);
  }
  eachRun(back, fw, takeDeclined);
}

/** Rescinds every outstanding offer of one agent (it left, became unreachable or was marked gone). */
export function rescindAgentOffers(s: Core, out: Effects, agentId: string): void {
  const agent = s.agents.get(agentId);
  if (!agent) return;
  for (const id of agentOfferIds(agent)) removeOffer(s, out, id, true);
}

/** Drops a framework's offers without telling it (its connection is gone or replaced). */
export function dropFrameworkOffers(s: Core, out: Effects, fw: FrameworkEntry, reallocate = true): void {
  for (const o of fw.offers.ids()) removeOffer(s, out, o, false, reallocate);
}

/** Offers whose OFFERS frame could not be sent are taken back, without asking for another cycle at once. */
export function offersNotSent(s: Core, out: Effects, offers: readonly Offer[]): void {
  for (const o of offers) removeOffer(s, out, o.id, false, false);
}

function expireOffers(s: Core, out: Effects): void {
  const timeout = s.cfg.offerTimeoutMs;
  if (timeout === undefined) return;
  const cutoff = s.nowMs() - timeout;
  for (const o of [...s.offers.values()]) if (o.createdAt <= cutoff) removeOffer(s, out, o.id, true);
}

/**
 * A refusal filter for the framework on `agentId`, in `role` (the role of the offer declined or
 * accepted in part): offers to the framework in its other roles are not held back by it.
 */
export function addFilter(
  s: Core,
  fw: FrameworkEntry,
  agentId: string,
  role: string,
  resources: Resources,
  refuseSeconds?: number,
): void {
  const secs = Math.min(refuseSeconds ?? DEFAULT_REFUSE_SECONDS, MAX_REFUSE_SECONDS);
  if (!(secs > 0)) return;
  if (fw.filtersShared) {
    // The list is a snapshot's too: copied once, then added to.
    fw.filters = fw.filters.slice();
    fw.filtersShared = false;
  }
  const expiresAt = s.nowMs() + secs * 1000;
  fw.filters.push({ agentId, role, resources, expiresAt });
  if (expiresAt < fw.filtersExpireFrom) fw.filtersExpireFrom = expiresAt;
}

/**
 * REVIVE's part on filters: those of `roles` are dropped (a new list: the old one may be a
 * snapshot's, and the allocator's kept chains see a list that no longer starts as before and
 * rebuild), the others stay in force. Without roles, every filter goes (Mesos: all the
 * framework's roles). A filter of no recorded role applies to every role and goes too.
 */
export function dropFilters(fw: FrameworkEntry, roles?: readonly string[]): void {
  if (roles === undefined) {
    fw.filters = [];
  } else {
    const drop = new Set(roles);
    const left = fw.filters.filter((f) => f.role !== undefined && !drop.has(f.role));
    if (left.length === fw.filters.length) return;
    fw.filters = left;
  }
  filtersReplaced(fw);
}

/**
 * UPDATE_FRAMEWORK's part on filters: those of roles the framework no longer has (not in `roles`)
 * are dropped, as Mesos's allocator erases a removed role's offer filters; kept, they would refuse
 * offers again if the role came back before they expired. A filter of no recorded role stays.
 */
export function dropFiltersOutside(fw: FrameworkEntry, roles: readonly string[]): void {
  const keep = new Set(roles);
  const left = fw.filters.filter((f) => f.role === undefined || keep.has(f.role));
  if (left.length === fw.filters.length) return;
  fw.filters = left;
  filtersReplaced(fw);
}

/** After `fw.filters` became a new list: not a snapshot's, and its earliest expiry recomputed. */
function filtersReplaced(fw: FrameworkEntry): void {
  fw.filtersShared = false;
  fw.filtersExpireFrom = Number.POSITIVE_INFINITY;
  for (const f of fw.filters) if (f.expiresAt < fw.filtersExpireFrom) fw.filtersExpireFrom = f.expiresAt;
}
