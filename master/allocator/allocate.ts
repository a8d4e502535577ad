/**
 * One allocation cycle: `allocate(snapshot, rng) → plan`, Mesos 1.11's hierarchical allocator as a
 * pure function. No I/O, no clock (filter expiry is judged against `snapshot.now`), no mutation of
 * the snapshot; the rng drives the agent shuffles (and the random sorters, when chosen).
 *
 * The cycle, in brief (docs/allocator.md has the long form):
 * 1. Convert once: each agent's free resources (total − allocated) become number vectors (the
 *    unreserved scalars in one flat Float64Array, reserved parts apart); allocations, quotas and
 *    the minimum allocatable alternatives become vectors over the same dimensions.
 * 2. Build the sorters: one DRF sorter over roles (hierarchical), one per role over its frameworks,
 *    and a second role sorter holding only the roles with unsatisfied quota guarantees.
 * 3. Stage 1, agents in a shuffled order: roles with unsatisfied guarantees, in DRF order, get
 *    what helps their guarantee, plus what they may burst to within their limits and the headroom.
 * 4. Stage 2, agents reshuffled: roles in DRF order, frameworks in DRF order within the role; the
 *    first framework not filtered takes everything the role may have on the agent (its
 *    reservations and those of its ancestors, the unreserved resources cut to its quota limits and
 *    to the headroom other roles' guarantees need). Reservations left over after the unreserved
 *    resources are gone go to the roles that may use them.
 * Every offer updates the sorters at once, so the next agent goes to the now-poorest. Result
 * `Resources` are built only for the offers made.
 */
import { DEFAULT_ROLE, fixed, type Resource, Resources, subtractRanges } from '../../sdk/resources/resources.js';
import { type Rng, shuffled } from '../../sdk/util/random.js';
import { DrfSorter } from './drf-sorter.js';
import { RandomSorter } from './random-sorter.js';
import { isAtOrBelow, ScalarSpace, type Sorter, type SorterOptions } from './sorter.js';
import {
  type AllocateFn,
  type AllocationPlan,
  type AllocatorSnapshot,
  type PlannedOffer,
  type RefusalFilter,
  SkipReason,
} from './types.js';

export interface AllocatorOptions {
  /** Sorter over roles: `drf` (default) or `random` (Mesos's `--role_sorter`). */
  roleSorter?: 'drf' | 'random';
  /** Sorter over the frameworks of a role: `drf` (default) or `random` (`--framework_sorter`). */
  frameworkSorter?: 'drf' | 'random';
}

/** An `AllocateFn` with the given sorters. */
export function createAllocate(options: AllocatorOptions = {}): AllocateFn {
  return (snapshot, rng) => new Cycle(snapshot, rng, options).run();
}

/** The default allocator: DRF over roles and over the frameworks of each role. */
export const allocate: AllocateFn = createAllocate();

// Skip-reason slots in the per-framework counters.
const R_FILTERED = 0;
const R_SUPPRESSED = 1;
const R_QUOTA = 2;
const R_RESERVED = 3;
const R_MIN = 4;
const R_HEADROOM = 5;
const N_REASONS = 6;
const REASON_NAMES: readonly SkipReason[] = [
  SkipReason.filtered,
  SkipReason.suppressed,
  SkipReason.quotaReached,
  SkipReason.reservedForOtherRole,
  SkipReason.belowMinAllocatable,
  SkipReason.quotaHeadroom,
];

/** Free resources on one agent reserved for one role. */
interface ReservedPart {
  role: string;
  vec: number[];
  /** Free non-scalar entries (ports, sets) reserved for the role. */
  nonScalars: Resource[];
  /** Still free in this cycle (all of a part goes to one offer). */
  left: boolean;
}

interface RoleInfo {
  name: string;
  /** Proper ancestors, nearest first. */
  ancestors: number[];
  guarantee: Float64Array | null;
  /** Limits by dimension (Infinity where none). */
  limit: Float64Array | null;
  /** Mesos's quota consumption: reservations of the subtree + unreserved allocations of the subtree. */
  consumed: Float64Array | null;
  /** The role and its ancestors that have a limit. */
  limitChain: number[];
  /** The role and its ancestors that have a quota (their consumption moves with this role's offers). */
  quotaChain: number[];
  /** Has a guarantee and no ancestor with one: its unsatisfied guarantee counts in the headroom. */
  topGuarantee: boolean;
  /** This role's current contribution to the required headroom (top guarantee roles). */
  headroomShare: Float64Array | null;
  /** Frameworks subscribed with this role (or holding resources in it). */
  members: number[];
  sorter: Sorter | null;
  /** Framework-sorter client index → framework index. */
  fwOfClient: number[];
  /** Index in the role sorters, -1 when the role has no frameworks. */
  client: number;
  active: boolean;
  /** Stage-2 agent stamp: a role is considered at most once per agent. */
  stamp: number;
  /** Role-level skip events counted in stage 2 (quota, min allocatable, headroom). */
  events: [number, number, number];
  /** Agents with only reserved resources left (or crumbs and reservations) that this role may use. */
  usableReservedOnly: number;
  /** Reserved-only agents whose top-most reservation is this role. */
  reservedOnlyTop: number;
  inQuotaSorter: boolean;
}

interface OfferRecord {
  fw: number;
  agent: number;
  role: number;
  /** Offset of the unreserved scalars in the cycle's offer pool (`offerU`). */
  at: number;
  parts: ReservedPart[];
  withUnreservedNonScalars: boolean;
}

const NO_PARTS: ReservedPart[] = [];

class Cycle {
  private readonly s: AllocatorSnapshot;
  private readonly rng: Rng;
  private readonly options: AllocatorOptions;
  private readonly space = new ScalarSpace();
  private D = 0;
  private nA = 0;

  // Agents.
  private freeU = new Float64Array(0);
  private agentActive = new Uint8Array(0);
  private reserved: (ReservedPart[] | null)[] = [];
  private nsTotal: (Resource[] | null)[] = [];
  private nsUsed: (Resource[] | null)[] = [];
  private nsUnreservedGiven = new Uint8Array(0);

  // Roles and frameworks.
  private readonly roles: RoleInfo[] = [];
  private readonly roleIndex = new Map<string, number>();
  private roleOfClient: number[] = [];
  private roleSorter!: Sorter;
  private quotaSorter: Sorter | null = null;
  private fwSuppressed: Set<string>[] = [];
  /** The roles each framework subscribed with (`*` when it gave none). */
  private fwRoles: string[][] = [];
  private fwFilters: (Map<number, RefusalFilter[]> | null)[] = [];
  private fwClient: Map<number, number>[] = [];
  private skips = new Float64Array(0);

  // Quota and headroom.
  private anyQuota = false;
  private requiredHeadroom = new Float64Array(0);
  private availableHeadroom = new Float64Array(0);
  private headroomOn = false;
  /** Active quota-sorter roles with an unsatisfied guarantee, per dimension. */
  private unsatisfiedRoles = new Int32Array(0);

  // Minimum allocatable alternatives: dims and values.
  private minAlts: { dims: number[]; vals: number[] }[] = [];

  // Scratch for the offer under consideration.
  private sU = new Float64Array(0);
  private sR = new Float64Array(0);
  private zero = new Float64Array(0);
  private sV = new Float64Array(0);
  /** Unreserved scalars of every offer, D numbers each (no small typed arrays per offer). */
  private offerU = new Float64Array(0);
  /** Role updates held back during a role visit: role, satisfied flag, and D numbers each. */
  private pendingRoles: number[] = [];
  private pendingSatisfied: boolean[] = [];
  private pendingV = new Float64Array(0);
  /** Offer contents seen this cycle: identical offers share one (immutable) Resources value. */
  private readonly interned = new Map<number, Interned[]>();
  private sParts: ReservedPart[] = [];
  private sNs = false;
  private sResources: Resources | null = null;

  // Current position.
  private agent = 0;
  private stage = 1;
  private stamp = 0;
  private phaseA = true;
  private taker = -1;
  private takerClient = -1;
  private currentRole = 0;

  // Stage-2 counters for the skip reasons that are counted per role at the end.
  private usefulAgents = 0;
  private crumbAgents = 0;
  private reservedOnlyAgents = 0;

  private readonly offers: OfferRecord[] = [];
  private readonly stage1Offers = new Map<number, number[]>();

  constructor(snapshot: AllocatorSnapshot, rng: Rng, options: AllocatorOptions) {
    this.s = snapshot;
    this.rng = rng;
    this.options = options;
  }

  run(): AllocationPlan {
    this.convertAgents();
    this.buildRoles();
    this.buildQuota();
    if (this.quotaSorter) this.stage1();
    this.quotaSorter = null;
    this.stage2();
    return { offers: this.buildOffers(), skipped: this.buildSkipped() };
  }

  // ---------------------------------------------------------------- conversion

  private convertAgents(): void {
    const agents = this.s.agents;
    const nA = agents.length;
    this.nA = nA;
    const space = this.space;
    for (const alt of this.s.minAllocatable) for (const name of Object.keys(alt.scalarTotals())) space.dim(name);
    for (const role of this.s.roles) {
      for (const q of [role.quota?.guarantee, role.quota?.limit]) {
        if (q) for (const name of Object.keys(q.scalarTotals())) space.dim(name);
      }
    }
    // The first agent's names give the usual dimensions; a name seen later widens the rows (restride).
    if (nA > 0) {
      agents[0].total.filter((r) => {
        if (r.type === 'SCALAR') space.dim(r.name);
        return false;
      });
    }
    this.D = space.size;
    this.freeU = new Float64Array(nA * this.D);
    this.clusterTotal = new Array(this.D).fill(0);
    this.agentActive = new Uint8Array(nA);
    this.reserved = new Array(nA).fill(null);
    this.nsTotal = new Array(nA).fill(null);
    this.nsUsed = new Array(nA).fill(null);
    this.nsUnreservedGiven = new Uint8Array(nA);
    for (let a = 0; a < nA; a++) {
      const agent = agents[a];
      this.agentActive[a] = agent.active ? 1 : 0;
      this.cvAgent = a;
      this.cvParts = null;
      // `filter` hands each stored entry to the predicate without copying it; returning false keeps
      // nothing, so this is a read-only walk over the entries (a clone per entry would cost more
      // than the whole allocation decision for the agent).
      this.cvSign = 1;
      agent.total.filter(this.convertEntry);
      if (!agent.allocated.isEmpty()) {
        this.cvSign = -1;
        agent.allocated.filter(this.convertEntry);
      }
      const D = this.D;
      const base = a * D;
      const freeU = this.freeU;
      for (let d = 0; d < D; d++) {
        const v = freeU[base + d];
        freeU[base + d] = v > 0 ? fixed(v) : 0;
      }
      const parts = this.cvParts as ReservedPart[] | null;
      if (parts) {
        for (const p of parts) {
          for (let d = 0; d < p.vec.length; d++) p.vec[d] = p.vec[d] > 0 ? fixed(p.vec[d]) : 0;
          p.nonScalars = this.freeNonScalars(a, p.role);
        }
        const kept = parts.filter((p) => p.nonScalars.length > 0 || p.vec.some((v) => v > 0));
        this.reserved[a] = kept.length > 0 ? kept : null;
      }
    }
    const D = this.D;
    // Vectors made before the last restride are padded to the final width.
    for (const parts of this.reserved) if (parts) for (const p of parts) padTo(p.vec, D);
    for (const vec of this.reservationsByRole.values()) padTo(vec, D);
    this.availableHeadroom = new Float64Array(D);
    for (let a = 0; a < nA; a++) {
      if (this.agentActive[a] === 0) continue;
      const base = a * D;
      for (let d = 0; d < D; d++) this.availableHeadroom[d] += this.freeU[base + d];
    }
    const clusterTotal = new Float64Array(D);
    for (let d = 0; d < D; d++) {
      clusterTotal[d] = fixed(this.clusterTotal[d]);
      this.availableHeadroom[d] = fixed(this.availableHeadroom[d]);
    }
    space.addTotalVector(clusterTotal);
    this.sU = new Float64Array(D);
    this.sR = new Float64Array(D);
    this.sV = new Float64Array(D);
    this.zero = new Float64Array(D);
    this.offerU = new Float64Array(Math.max(16, nA) * D);
    for (const alt of this.s.minAllocatable) {
      const dims: number[] = [];
      const vals: number[] = [];
      for (const [name, v] of Object.entries(alt.scalarTotals())) {
        dims.push(space.find(name));
        vals.push(v);
      }
      this.minAlts.push({ dims, vals });
    }
  }

  // Conversion state (fields, so that the entry visitor is one function made once).
  private cvAgent = 0;
  private cvSign = 1;
  private cvParts: ReservedPart[] | null = null;
  private clusterTotal: number[] = [];

  private readonly convertEntry = (r: Resource): boolean => {
    const sign = this.cvSign;
    const role = r.role;
    const reserved = role !== undefined && role !== DEFAULT_ROLE;
    if (r.type === 'SCALAR') {
      let d = this.space.find(r.name);
      if (d < 0) {
        if (sign < 0) return false; // allocated but never in a total: nothing to subtract from
        d = this.space.dim(r.name);
        this.restride();
      }
      const v = r.scalar?.value ?? 0;
      if (sign > 0) this.clusterTotal[d] += v;
      if (!reserved) {
        this.freeU[this.cvAgent * this.D + d] += sign * v;
      } else if (sign > 0) {
        this.cvParts ??= [];
        const p = partFor(this.cvParts, role);
        padTo(p.vec, d + 1);
        p.vec[d] += v;
        this.addReservation(role, d, v);
      } else {
        const p = this.cvParts?.find((x) => x.role === role);
        if (p && d < p.vec.length) p.vec[d] -= v;
      }
    } else if (sign > 0) {
      pushInto(this.nsTotal, this.cvAgent, r);
      if (reserved) {
        this.cvParts ??= [];
        partFor(this.cvParts, role);
      }
    } else {
      pushInto(this.nsUsed, this.cvAgent, r);
    }
    return false;
  };

  /** A scalar name first seen on a later agent: widen every row of the free-resource table. */
  private restride(): void {
    const oldD = this.D;
    const D = this.space.size;
    const next = new Float64Array(this.nA * D);
    for (let a = 0; a <= this.cvAgent; a++) {
      for (let d = 0; d < oldD; d++) next[a * D + d] = this.freeU[a * oldD + d];
    }
    this.freeU = next;
    this.D = D;
    padTo(this.clusterTotal, D);
  }

  private reservationsByRole = new Map<string, number[]>();

  private addReservation(role: string, d: number, v: number): void {
    let vec = this.reservationsByRole.get(role);
    if (!vec) {
      vec = [];
      this.reservationsByRole.set(role, vec);
    }
    padTo(vec, d + 1);
    vec[d] += v;
  }

  /** Free non-scalar entries of an agent for one reservation role (`*`: unreserved). */
  private freeNonScalars(a: number, role: string): Resource[] {
    const total = this.nsTotal[a];
    if (!total) return [];
    const used = this.nsUsed[a];
    const out: Resource[] = [];
    for (const t of total) {
      if ((t.role ?? DEFAULT_ROLE) !== role) continue;
      if (!used) {
        out.push(t); // nothing of it is in use: the stored entry as it is (never mutated)
        continue;
      }
      const same = used.filter((u) => u.name === t.name && (u.role ?? DEFAULT_ROLE) === role);
      const entry: Resource = { name: t.name, type: t.type };
      if (role !== DEFAULT_ROLE) entry.role = role;
      if (t.type === 'RANGES') {
        const range = subtractRanges(
          t.ranges?.range ?? [],
          same.flatMap((u) => u.ranges?.range ?? []),
        );
        if (range.length === 0) continue;
        entry.ranges = { range };
      } else if (t.type === 'SET') {
        const drop = new Set(same.flatMap((u) => u.set?.item ?? []));
        const item = (t.set?.item ?? []).filter((i) => !drop.has(i));
        if (item.length === 0) continue;
        entry.set = { item };
      } else {
        continue;
      }
      out.push(entry);
    }
    return out;
  }

  // ---------------------------------------------------------------- roles, frameworks, sorters

  private ensureRole(name: string): number {
    const known = this.roleIndex.get(name);
    if (known !== undefined) return known;
    const slash = name.lastIndexOf('/');
    const parent = slash > 0 ? this.ensureRole(name.slice(0, slash)) : -1;
    const idx = this.roles.length;
    this.roles.push({
      name,
      ancestors: parent < 0 ? [] : [parent, ...this.roles[parent].ancestors],
      guarantee: null,
      limit: null,
      consumed: null,
      limitChain: [],
      quotaChain: [],
      topGuarantee: false,
      headroomShare: null,
      members: [],
      sorter: null,
      fwOfClient: [],
      client: -1,
      active: false,
      stamp: 0,
      events: [0, 0, 0],
      usableReservedOnly: 0,
      reservedOnlyTop: 0,
      inQuotaSorter: false,
    });
    this.roleIndex.set(name, idx);
    return idx;
  }

  private makeSorter(kind: 'drf' | 'random' | undefined, options: SorterOptions): Sorter {
    return kind === 'random' ? new RandomSorter(this.rng, options) : new DrfSorter(options);
  }

  private buildRoles(): void {
    const fws = this.s.frameworks;
    const nF = fws.length;
    const D = this.D;
    this.skips = new Float64Array(nF * N_REASONS);
    this.fwSuppressed = new Array(nF);
    this.fwFilters = new Array(nF).fill(null);
    this.fwClient = new Array(nF);
    const hierarchical: SorterOptions = { hierarchical: true, space: this.space };
    this.roleSorter = this.makeSorter(this.options.roleSorter, hierarchical);
    for (const r of this.s.roles) {
      this.ensureRole(r.name);
      if (validWeight(r.weight) && r.weight !== 1) this.roleSorter.updateWeight(r.name, r.weight);
    }
    for (const role of this.reservationsByRole.keys()) this.ensureRole(role);

    // Memberships and allocations.
    const roleAlloc = new Map<number, Float64Array>();
    const allocs: { fw: number; role: number; vec: Float64Array; unreserved: Float64Array }[] = [];
    let agentIndex: Map<string, number> | null = null;
    for (let f = 0; f < nF; f++) {
      const fw = fws[f];
      this.fwSuppressed[f] = new Set(fw.suppressedRoles);
      this.fwClient[f] = new Map();
      const roles = fw.roles.length > 0 ? fw.roles : [DEFAULT_ROLE];
      this.fwRoles[f] = roles;
      for (const name of new Set([...roles, ...Object.keys(fw.allocated)])) {
        const x = this.ensureRole(name);
        this.roles[x].members.push(f);
        const held = fw.allocated[name];
        if (held && !held.isEmpty()) {
          const vec = new Float64Array(D);
          const unreserved = new Float64Array(D);
          for (const r of held.toList()) {
            if (r.type !== 'SCALAR') continue;
            const d = this.space.find(r.name);
            if (d < 0) continue;
            vec[d] += r.scalar?.value ?? 0;
            if ((r.role ?? DEFAULT_ROLE) === DEFAULT_ROLE) unreserved[d] += r.scalar?.value ?? 0;
          }
          allocs.push({ fw: f, role: x, vec, unreserved });
          let ra = roleAlloc.get(x);
          if (!ra) {
            ra = new Float64Array(D);
            roleAlloc.set(x, ra);
          }
          for (let d = 0; d < D; d++) ra[d] += vec[d];
        }
      }
      if (fw.active && fw.filters.length > 0) {
        for (const filter of fw.filters) {
          if (!(filter.expiresAt > this.s.now)) continue;
          if (!agentIndex) agentIndex = new Map(this.s.agents.map((ag, i) => [ag.id, i]));
          const a = agentIndex.get(filter.agentId);
          if (a === undefined) continue;
          let byAgent = this.fwFilters[f];
          if (!byAgent) {
            byAgent = new Map();
            this.fwFilters[f] = byAgent;
          }
          const list = byAgent.get(a);
          if (list) list.push(filter);
          else byAgent.set(a, [filter]);
        }
      }
    }

    // One framework sorter per role with members; the role sorter holds every such role.
    const flat: SorterOptions = { hierarchical: false, space: this.space };
    for (let x = 0; x < this.roles.length; x++) {
      const role = this.roles[x];
      if (role.members.length === 0) continue;
      const sorter = this.makeSorter(this.options.frameworkSorter, flat);
      role.sorter = sorter;
      for (const f of role.members) {
        const c = sorter.add(fws[f].id);
        role.fwOfClient[c] = f;
        this.fwClient[f].set(x, c);
        if (fws[f].active && this.fwRoles[f].includes(role.name) && !this.fwSuppressed[f].has(role.name)) {
          role.active = true;
        } else {
          sorter.deactivate(fws[f].id);
        }
      }
      role.client = this.roleSorter.add(role.name);
      this.roleOfClient[role.client] = x;
      if (!role.active) this.roleSorter.deactivate(role.name);
      const ra = roleAlloc.get(x);
      if (ra) this.roleSorter.allocatedAt(role.client, fixedVec(ra));
    }
    for (const al of allocs) {
      const role = this.roles[al.role];
      const c = this.fwClient[al.fw].get(al.role);
      if (role.sorter && c !== undefined) role.sorter.allocatedAt(c, fixedVec(al.vec));
    }
    this.allocs = allocs;
  }

  private allocs: { fw: number; role: number; vec: Float64Array; unreserved: Float64Array }[] = [];

  private buildQuota(): void {
    const D = this.D;
    for (const r of this.s.roles) {
      const q = r.quota;
      if (!q || (!q.guarantee && !q.limit)) continue;
      const role = this.roles[this.ensureRole(r.name)];
      if (q.guarantee && !q.guarantee.isEmpty()) role.guarantee = fixedVec(this.vectorOf(q.guarantee));
      if (q.limit && !q.limit.isEmpty()) {
        const lim = new Float64Array(D).fill(Number.POSITIVE_INFINITY);
        for (const [name, v] of Object.entries(q.limit.scalarTotals())) lim[this.space.find(name)] = v;
        role.limit = lim;
      }
      if (role.guarantee || role.limit) {
        role.consumed = new Float64Array(D);
        this.anyQuota = true;
      }
    }
    this.requiredHeadroom = new Float64Array(D);
    if (!this.anyQuota) return;
    // Chains and consumption: reservations of the subtree + unreserved allocations of the subtree.
    for (let x = 0; x < this.roles.length; x++) {
      const role = this.roles[x];
      for (const y of [x, ...role.ancestors]) {
        if (this.roles[y].limit) role.limitChain.push(y);
        if (this.roles[y].consumed) role.quotaChain.push(y);
      }
      role.topGuarantee = role.guarantee !== null && role.ancestors.every((y) => this.roles[y].guarantee === null);
    }
    for (const [name, vec] of this.reservationsByRole) {
      for (const y of this.roles[this.ensureRole(name)].quotaChain) addVec(this.roles[y].consumed, vec, 1);
    }
    for (const al of this.allocs) {
      for (const y of this.roles[al.role].quotaChain) addVec(this.roles[y].consumed, al.unreserved, 1);
    }
    for (const role of this.roles) {
      if (role.consumed) for (let d = 0; d < D; d++) role.consumed[d] = fixed(role.consumed[d]);
      if (role.topGuarantee) {
        role.headroomShare = new Float64Array(D);
        this.refreshHeadroomShare(role);
      }
    }
    this.headroomOn = this.requiredHeadroom.some((v) => v > 0);

    // The stage-1 sorter: same tree and allocations, only roles with unsatisfied guarantees active.
    const withGuarantee = this.roles.some((r) => r.guarantee && r.client >= 0 && r.active && this.unsatisfied(r));
    if (!withGuarantee) return;
    const qs = this.makeSorter(this.options.roleSorter, { hierarchical: true, space: this.space });
    for (const r of this.s.roles) if (validWeight(r.weight) && r.weight !== 1) qs.updateWeight(r.name, r.weight);
    this.unsatisfiedRoles = new Int32Array(D);
    for (let x = 0; x < this.roles.length; x++) {
      const role = this.roles[x];
      if (role.client < 0) continue;
      const c = qs.add(role.name);
      if (c !== role.client) throw new Error('role sorters out of step');
      const alloc = this.roleSorter.allocation(role.name);
      if (Object.keys(alloc).length > 0) qs.allocated(role.name, Resources.scalars(alloc));
      if (role.guarantee && role.active && this.unsatisfied(role)) {
        role.inQuotaSorter = true;
        this.countUnsatisfied(role, 1);
      } else {
        qs.deactivate(role.name);
      }
    }
    this.quotaSorter = qs;
  }

  private vectorOf(r: Resources): Float64Array {
    const out = new Float64Array(this.D);
    for (const [name, v] of Object.entries(r.scalarTotals())) out[this.space.find(name)] = v;
    return out;
  }

  private unsatisfied(role: RoleInfo): boolean {
    const g = role.guarantee;
    const c = role.consumed;
    if (!g || !c) return false;
    for (let d = 0; d < this.D; d++) if (g[d] > c[d]) return true;
    return false;
  }

  private countUnsatisfied(role: RoleInfo, delta: number): void {
    const g = role.guarantee;
    const c = role.consumed;
    if (!g || !c) return;
    for (let d = 0; d < this.D; d++) if (g[d] > c[d]) this.unsatisfiedRoles[d] += delta;
  }

  private refreshHeadroomShare(role: RoleInfo): void {
    const g = role.guarantee;
    const c = role.consumed;
    const h = role.headroomShare;
    if (!g || !c || !h) return;
    for (let d = 0; d < this.D; d++) {
      const need = g[d] > c[d] ? fixed(g[d] - c[d]) : 0;
      if (need !== h[d]) {
        this.requiredHeadroom[d] = fixed(this.requiredHeadroom[d] + need - h[d]);
        h[d] = need;
      }
    }
  }

  // ---------------------------------------------------------------- stage 1: guarantees

  private stage1(): void {
    const qs = this.quotaSorter;
    if (!qs) return;
    const order = shuffled(this.indices(), this.rng);
    const D = this.D;
    this.stage = 1;
    for (const a of order) {
      if (this.agentActive[a] === 0) continue;
      // Worth a visit only if some free unreserved dimension is one a role still needs.
      const base = a * D;
      let helps = false;
      for (let d = 0; d < D; d++) {
        if (this.freeU[base + d] > 0 && this.unsatisfiedRoles[d] > 0) {
          helps = true;
          break;
        }
      }
      if (!helps) continue;
      this.agent = a;
      qs.visit(this.visitStage1);
      this.applyPending();
    }
  }

  private readonly visitStage1 = (client: number): boolean => {
    const x = this.roleOfClient[client];
    const role = this.roles[x];
    const a = this.agent;
    const D = this.D;
    const base = a * D;
    const g = role.guarantee;
    const c = role.consumed;
    if (!g || !c) return false;
    // Guaranteed part: what the role still lacks, as far as the agent has it.
    const sU = this.sU;
    let helps = false;
    for (let d = 0; d < D; d++) {
      const lack = g[d] > c[d] ? fixed(g[d] - c[d]) : 0;
      const free = this.freeU[base + d];
      let give = Math.min(free, lack);
      // A guarantee above a limit (Mesos refuses to set one; a snapshot might hold one) stops at the limit.
      for (const y of role.limitChain) {
        const room = this.roomIn(y, d);
        if (give > room) give = room > 0 ? fixed(room) : 0;
      }
      sU[d] = give;
      if (give > 0) helps = true;
    }
    if (!helps) return !this.anyFreeUnreserved(a);
    this.collectReserved(a, role.name);
    // Beyond the guarantee: within the limits and without eating into others' headroom.
    for (let d = 0; d < D; d++) {
      let extra = fixed(this.freeU[base + d] - sU[d]);
      if (extra <= 0) continue;
      for (const y of role.limitChain) {
        const room = this.roomIn(y, d) - sU[d];
        if (extra > room) extra = room > 0 ? fixed(room) : 0;
      }
      if (this.headroomOn) {
        const surplus = this.availableHeadroom[d] - this.requiredHeadroom[d];
        if (extra > surplus) extra = surplus > 0 ? fixed(surplus) : 0;
      }
      sU[d] = fixed(sU[d] + extra);
    }
    if (!this.allocatable()) return false;
    this.offerToFirstFramework(x);
    return !this.anyFreeUnreserved(a);
  };

  // ---------------------------------------------------------------- stage 2: fair shares

  private stage2(): void {
    const order = shuffled(this.indices(), this.rng);
    const zero = this.zero;
    this.stage = 2;
    for (const a of order) {
      if (this.agentActive[a] === 0) continue;
      const parts = this.reserved[a];
      const hasReserved = parts?.some((p) => p.left);
      const hasUnreserved = this.anyFreeUnreserved(a);
      if (!hasUnreserved && !hasReserved) continue;
      this.agent = a;
      this.stamp++;
      if (hasUnreserved && this.allocatableRow(a, zero)) {
        this.usefulAgents++;
        this.phaseA = true;
        this.roleSorter.visit(this.visitStage2);
        this.applyPending();
      } else if (!hasReserved) {
        // Crumbs: something is free, but less than any offer may hold.
        this.crumbAgents++;
        continue;
      } else {
        this.countReservedOnly(a);
      }
      // Reservations still free go to the roles that may use them (the role and its subroles).
      if (parts?.some((p) => p.left)) {
        this.phaseA = false;
        for (const p of parts) {
          if (!p.left || parts.some((q) => q !== p && q.left && q.role !== p.role && isAtOrBelow(p.role, q.role))) {
            continue;
          }
          this.roleSorter.visit(this.visitStage2, p.role);
          this.applyPending();
        }
      }
    }
  }

  private readonly visitStage2 = (client: number): boolean => {
    const x = this.roleOfClient[client];
    const role = this.roles[x];
    if (role.stamp === this.stamp) return false;
    role.stamp = this.stamp;
    const a = this.agent;
    const D = this.D;
    const base = a * D;
    const nParts = this.collectReserved(a, role.name);
    if (!this.phaseA && nParts === 0) return false;
    const sU = this.sU;
    let limited = false;
    let held = false;
    for (let d = 0; d < D; d++) {
      let v = this.freeU[base + d];
      if (v > 0) {
        for (const y of role.limitChain) {
          const room = this.roomIn(y, d);
          if (v > room) {
            v = room > 0 ? fixed(room) : 0;
            limited = true;
          }
        }
        if (v > 0 && this.headroomOn) {
          const surplus = this.availableHeadroom[d] - this.requiredHeadroom[d];
          if (v > surplus) {
            v = surplus > 0 ? fixed(surplus) : 0;
            held = true;
          }
        }
      }
      sU[d] = v;
    }
    if (!this.allocatable()) {
      let reason = 1; // below minimum
      if (this.allocatableRow(a, this.sR)) reason = limited ? 0 : held ? 2 : 1;
      role.events[reason]++;
    } else {
      this.offerToFirstFramework(x);
    }
    if (!this.phaseA) return false;
    return !this.allocatableRow(a, this.zero);
  };

  /** An agent with nothing unreserved worth offering but with reservations: who could use them. */
  private countReservedOnly(a: number): void {
    this.reservedOnlyAgents++;
    const parts = this.reserved[a];
    if (!parts) return;
    for (const p of parts) {
      if (!p.left) continue;
      if (parts.some((q) => q !== p && q.left && q.role !== p.role && isAtOrBelow(p.role, q.role))) continue;
      this.roles[this.ensureRole(p.role)].reservedOnlyTop++;
    }
  }

  // ---------------------------------------------------------------- shared steps

  /** Sums the still-free reservations on agent `a` usable by `roleName` into sR / sParts. */
  private collectReserved(a: number, roleName: string): number {
    const sR = this.sR;
    sR.fill(0);
    this.sParts.length = 0;
    const parts = this.reserved[a];
    if (!parts) return 0;
    for (const p of parts) {
      if (!p.left || !isAtOrBelow(roleName, p.role)) continue;
      this.sParts.push(p);
      for (let d = 0; d < this.D; d++) sR[d] += p.vec[d];
    }
    return this.sParts.length;
  }

  private roomIn(y: number, d: number): number {
    const r = this.roles[y];
    const limit = r.limit ? r.limit[d] : Number.POSITIVE_INFINITY;
    return limit === Number.POSITIVE_INFINITY ? limit : limit - (r.consumed ? r.consumed[d] : 0);
  }

  private anyFreeUnreserved(a: number): boolean {
    const base = a * this.D;
    for (let d = 0; d < this.D; d++) if (this.freeU[base + d] > 0) return true;
    return false;
  }

  /** Whether sU + sR holds at least one of the minimum allocatable alternatives. */
  private allocatable(): boolean {
    const sU = this.sU;
    const sR = this.sR;
    let any = false;
    for (let d = 0; d < this.D; d++) {
      if (sU[d] > 0 || sR[d] > 0) {
        any = true;
        break;
      }
    }
    if (!any)
      return this.sParts.length > 0 && this.sParts.some((p) => p.nonScalars.length > 0) && this.minAlts.length === 0;
    if (this.minAlts.length === 0) return true;
    for (const alt of this.minAlts) {
      let ok = true;
      for (let i = 0; i < alt.dims.length; i++) {
        const d = alt.dims[i];
        if (fixed(sU[d] + sR[d]) < alt.vals[i]) {
          ok = false;
          break;
        }
      }
      if (ok) return true;
    }
    return false;
  }

  /** Whether the agent's free unreserved scalars plus `extra` hold a minimum alternative. */
  private allocatableRow(a: number, extra: Float64Array): boolean {
    const base = a * this.D;
    if (this.minAlts.length === 0) return this.anyFreeUnreserved(a) || extra.some((v) => v > 0);
    for (const alt of this.minAlts) {
      let ok = true;
      for (let i = 0; i < alt.dims.length; i++) {
        const d = alt.dims[i];
        if (fixed(this.freeU[base + d] + extra[d]) < alt.vals[i]) {
          ok = false;
          break;
        }
      }
      if (ok) return true;
    }
    return false;
  }

  /** Gives the offer in scratch to the first framework of role `x` (DRF order) that is not filtered. */
  private offerToFirstFramework(x: number): void {
    const role = this.roles[x];
    if (!role.sorter) return;
    this.currentRole = x;
    this.taker = -1;
    this.sNs = this.nsTotal[this.agent] !== null && this.nsUnreservedGiven[this.agent] === 0;
    this.sResources = null;
    role.sorter.visit(this.visitFramework);
    if (this.taker >= 0) this.give(x, this.taker, this.takerClient);
  }

  private readonly visitFramework = (client: number): boolean => {
    const role = this.roles[this.currentRole];
    const f = role.fwOfClient[client];
    const filters = this.fwFilters[f]?.get(this.agent);
    if (filters && this.isFiltered(filters)) {
      if (this.stage === 2) this.skips[f * N_REASONS + R_FILTERED]++;
      return false;
    }
    this.taker = f;
    this.takerClient = client;
    return true;
  };

  private isFiltered(filters: RefusalFilter[]): boolean {
    for (const filter of filters) {
      if (!filter.resources) return true;
      this.sResources ??= this.resourcesOf(this.agent, this.sU, 0, this.sParts, this.sNs);
      if (filter.resources.contains(this.sResources)) return true;
    }
    return false;
  }

  private give(x: number, f: number, client: number): void {
    const role = this.roles[x];
    const a = this.agent;
    const D = this.D;
    const base = a * D;
    const sU = this.sU;
    const sR = this.sR;
    const sV = this.sV;
    const freeU = this.freeU;
    for (let d = 0; d < D; d++) {
      const u = sU[d];
      if (u > 0) freeU[base + d] = fixed(freeU[base + d] - u);
      sV[d] = sR[d] > 0 ? fixed(u + sR[d]) : u;
    }
    const parts = this.sParts.length > 0 ? this.sParts.slice() : NO_PARTS;
    for (const p of parts) p.left = false;
    const ns = this.sNs;
    if (ns) this.nsUnreservedGiven[a] = 1;

    // Merge with a stage-1 offer to the same framework, agent and role (Mesos adds them up).
    let merged = false;
    const key = a * this.roles.length + x;
    if (this.stage === 2 && this.stage1Offers.size > 0) {
      for (const i of this.stage1Offers.get(key) ?? []) {
        const o = this.offers[i];
        if (o.fw !== f) continue;
        for (let d = 0; d < D; d++) this.offerU[o.at + d] = fixed(this.offerU[o.at + d] + sU[d]);
        o.parts = o.parts.concat(parts);
        o.withUnreservedNonScalars ||= ns;
        merged = true;
        break;
      }
    }
    if (!merged) {
      const at = this.offers.length * D;
      if (at + D > this.offerU.length) {
        const bigger = new Float64Array(Math.max(2 * this.offerU.length, at + D));
        bigger.set(this.offerU);
        this.offerU = bigger;
      }
      this.offerU.set(sU, at);
      this.offers.push({ fw: f, agent: a, role: x, at, parts, withUnreservedNonScalars: ns });
      if (this.stage === 1) {
        const list = this.stage1Offers.get(key);
        if (list) list.push(this.offers.length - 1);
        else this.stage1Offers.set(key, [this.offers.length - 1]);
      }
    }

    // Fairness: the framework at once, the role after this agent's visit (see applyPending).
    role.sorter?.allocatedAt(client, sV);
    // Quota consumption and headroom move with the unreserved part only (reservations already count).
    let satisfied = false;
    if (this.anyQuota) {
      for (let d = 0; d < D; d++) {
        if (sU[d] > 0) this.availableHeadroom[d] = fixed(this.availableHeadroom[d] - sU[d]);
      }
      if (role.quotaChain.length > 0) {
        const wasCounted = role.inQuotaSorter;
        if (wasCounted) this.countUnsatisfied(role, -1);
        for (const y of role.quotaChain) {
          const ry = this.roles[y];
          addVec(ry.consumed, sU, 1);
          if (ry.topGuarantee) this.refreshHeadroomShare(ry);
        }
        this.headroomOn = this.requiredHeadroom.some((v) => v > 0);
        if (wasCounted) {
          satisfied = !this.unsatisfied(role);
          if (!satisfied) this.countUnsatisfied(role, 1);
        }
      }
    }
    const n = this.pendingRoles.length;
    if ((n + 1) * D > this.pendingV.length) {
      const bigger = new Float64Array(Math.max(4 * D, 2 * this.pendingV.length));
      bigger.set(this.pendingV);
      this.pendingV = bigger;
    }
    this.pendingV.set(sV, n * D);
    this.pendingRoles.push(x);
    this.pendingSatisfied.push(satisfied);
  }

  /** Role-level sorter updates, held back while a role visit is under way (Mesos sorts once per agent). */
  private applyPending(): void {
    const D = this.D;
    for (let i = 0; i < this.pendingRoles.length; i++) {
      const role = this.roles[this.pendingRoles[i]];
      const vec = this.sV;
      for (let d = 0; d < D; d++) vec[d] = this.pendingV[i * D + d];
      this.roleSorter.allocatedAt(role.client, vec);
      if (this.quotaSorter) {
        this.quotaSorter.allocatedAt(role.client, vec);
        if (this.pendingSatisfied[i] && role.inQuotaSorter) {
          role.inQuotaSorter = false;
          this.quotaSorter.deactivate(role.name);
        }
      }
    }
    this.pendingRoles.length = 0;
    this.pendingSatisfied.length = 0;
  }

  private indices(): number[] {
    const out = new Array<number>(this.nA);
    for (let i = 0; i < this.nA; i++) out[i] = i;
    return out;
  }

  // ---------------------------------------------------------------- results

  private resourcesOf(
    a: number,
    unreserved: ArrayLike<number>,
    at: number,
    parts: ReservedPart[],
    ns: boolean,
  ): Resources {
    const D = this.D;
    const nonScalars = ns ? this.freeNonScalars(a, DEFAULT_ROLE) : NO_RESOURCES;
    // Identical contents (common on homogeneous clusters) share one immutable value: a numeric
    // hash finds the candidates, an exact comparison decides.
    let h = 0x811c9dc5;
    for (let d = 0; d < D; d++) h = mix(h, unreserved[at + d] * 1000);
    for (const p of parts) {
      h = mix(h, this.textHash(p.role));
      for (let d = 0; d < p.vec.length; d++) h = mix(h, p.vec[d] * 1000);
      h = this.hashNonScalars(h, p.nonScalars);
    }
    h = this.hashNonScalars(h, nonScalars);
    const candidates = this.interned.get(h);
    if (candidates) {
      for (const c of candidates) {
        if (sameOffer(c, unreserved, at, D, parts, nonScalars)) return c.resources;
      }
    }
    const names = this.space.names;
    const list: Resource[] = [];
    for (let d = 0; d < D; d++) {
      const v = unreserved[at + d];
      if (v > 0) list.push({ name: names[d], type: 'SCALAR', scalar: { value: v } });
    }
    for (const p of parts) {
      for (let d = 0; d < D; d++) {
        if (p.vec[d] > 0) list.push({ name: names[d], type: 'SCALAR', scalar: { value: p.vec[d] }, role: p.role });
      }
      for (const r of p.nonScalars) list.push(r);
    }
    for (const r of nonScalars) list.push(r);
    const made: Interned = {
      unreserved: Array.from({ length: D }, (_, d) => unreserved[at + d]),
      parts: parts.length > 0 ? parts.slice() : NO_PARTS, // `parts` may be the scratch list
      nonScalars,
      resources: Resources.from(list),
    };
    if (candidates) candidates.push(made);
    else this.interned.set(h, [made]);
    return made.resources;
  }

  private readonly textHashes = new Map<string, number>();

  private textHash(text: string): number {
    let h = this.textHashes.get(text);
    if (h === undefined) {
      h = 0x811c9dc5;
      for (let i = 0; i < text.length; i++) h = mix(h, text.charCodeAt(i));
      this.textHashes.set(text, h);
    }
    return h;
  }

  private hashNonScalars(h: number, list: readonly Resource[]): number {
    for (let i = 0; i < list.length; i++) {
      const r = list[i];
      h = mix(h, this.textHash(r.name));
      if (r.role !== undefined) h = mix(h, this.textHash(r.role));
      const ranges = r.ranges?.range;
      if (ranges) for (let k = 0; k < ranges.length; k++) h = mix(mix(h, ranges[k].begin), ranges[k].end);
      const items = r.set?.item;
      if (items) for (let k = 0; k < items.length; k++) h = mix(h, this.textHash(items[k]));
    }
    return h;
  }

  private buildOffers(): PlannedOffer[] {
    const out: PlannedOffer[] = new Array(this.offers.length);
    const fws = this.s.frameworks;
    const agents = this.s.agents;
    for (let i = 0; i < this.offers.length; i++) {
      const o = this.offers[i];
      out[i] = {
        frameworkId: fws[o.fw].id,
        agentId: agents[o.agent].id,
        role: this.roles[o.role].name,
        resources: this.resourcesOf(o.agent, this.offerU, o.at, o.parts, o.withUnreservedNonScalars),
      };
    }
    return out;
  }

  private buildSkipped(): AllocationPlan['skipped'] {
    const fws = this.s.frameworks;
    // Reserved-only agents usable by a role: those whose top-most reservation is the role or an ancestor.
    for (const role of this.roles) {
      let n = role.reservedOnlyTop;
      for (const y of role.ancestors) n += this.roles[y].reservedOnlyTop;
      role.usableReservedOnly = n;
    }
    const skips = this.skips;
    for (let f = 0; f < fws.length; f++) {
      if (!fws[f].active) continue;
      const base = f * N_REASONS;
      for (const name of this.fwRoles[f]) {
        const x = this.roleIndex.get(name);
        if (x === undefined) continue;
        const role = this.roles[x];
        if (this.fwSuppressed[f].has(name)) {
          skips[base + R_SUPPRESSED] += this.usefulAgents + role.usableReservedOnly;
          continue;
        }
        skips[base + R_QUOTA] += role.events[0];
        skips[base + R_MIN] += role.events[1] + this.crumbAgents;
        skips[base + R_HEADROOM] += role.events[2];
        skips[base + R_RESERVED] += this.reservedOnlyAgents - role.usableReservedOnly;
      }
    }
    const out: AllocationPlan['skipped'] = {};
    for (let f = 0; f < fws.length; f++) {
      let rec: Partial<Record<SkipReason, number>> | undefined;
      for (let k = 0; k < N_REASONS; k++) {
        const n = skips[f * N_REASONS + k];
        if (n > 0) {
          rec ??= {};
          rec[REASON_NAMES[k]] = n;
        }
      }
      if (rec) out[fws[f].id] = rec;
    }
    return out;
  }
}

function pushInto<T>(lists: (T[] | null)[], i: number, item: T): void {
  const list = lists[i];
  if (list) list.push(item);
  else lists[i] = [item];
}

/** Weights must be finite and > 0; anything else (the master validates them) counts as 1. */
function validWeight(w: number | undefined): w is number {
  return typeof w === 'number' && Number.isFinite(w) && w > 0;
}

function partFor(parts: ReservedPart[], role: string): ReservedPart {
  let p = parts.find((x) => x.role === role);
  if (!p) {
    p = { role, vec: [], nonScalars: [], left: true };
    parts.push(p);
  }
  return p;
}

const NO_RESOURCES: Resource[] = [];

/** An offer's contents already turned into `Resources` this cycle. */
interface Interned {
  unreserved: number[];
  parts: ReservedPart[];
  nonScalars: readonly Resource[];
  resources: Resources;
}

/** FNV-style mixing of a number (truncated to 32 bits) into a 32-bit hash. */
function mix(h: number, v: number): number {
  return Math.imul(h ^ (Math.round(v) | 0), 0x01000193) >>> 0;
}

function sameOffer(
  c: Interned,
  unreserved: ArrayLike<number>,
  at: number,
  D: number,
  parts: ReservedPart[],
  nonScalars: readonly Resource[],
): boolean {
  for (let d = 0; d < D; d++) if (c.unreserved[d] !== unreserved[at + d]) return false;
  if (c.parts.length !== parts.length) return false;
  for (let i = 0; i < parts.length; i++) {
    const x = c.parts[i];
    const y = parts[i];
    if (x.role !== y.role || x.vec.length !== y.vec.length || !sameNonScalars(x.nonScalars, y.nonScalars)) return false;
    for (let d = 0; d < x.vec.length; d++) if (x.vec[d] !== y.vec[d]) return false;
  }
  return sameNonScalars(c.nonScalars, nonScalars);
}

function sameNonScalars(a: readonly Resource[], b: readonly Resource[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x.name !== y.name || x.type !== y.type || (x.role ?? DEFAULT_ROLE) !== (y.role ?? DEFAULT_ROLE)) return false;
    const xr = x.ranges?.range ?? [];
    const yr = y.ranges?.range ?? [];
    if (xr.length !== yr.length) return false;
    for (let k = 0; k < xr.length; k++) if (xr[k].begin !== yr[k].begin || xr[k].end !== yr[k].end) return false;
    const xs = x.set?.item ?? [];
    const ys = y.set?.item ?? [];
    if (xs.length !== ys.length) return false;
    for (let k = 0; k < xs.length; k++) if (xs[k] !== ys[k]) return false;
  }
  return true;
}

function padTo(vec: number[], n: number): void {
  while (vec.length < n) vec.push(0);
}

function addVec(target: Float64Array | null, v: ArrayLike<number>, sign: number): void {
  if (!target) return;
  for (let d = 0; d < v.length; d++) if (v[d] !== 0) target[d] = fixed(target[d] + sign * v[d]);
}

function fixedVec(v: Float64Array): Float64Array {
  for (let d = 0; d < v.length; d++) v[d] = fixed(v[d]);
  return v;
}
