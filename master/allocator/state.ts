/**
 * The per-cycle state of one `allocate` call: the snapshot converted to number vectors, the roles
 * and their sorters, quota and headroom, the scratch of the offer under consideration, and the
 * offers made so far. Made fresh for every cycle and dropped at its end; the functions of the
 * other rooms read and update it (nothing here does I/O or reads a clock).
 */
import type { Range, Resource, Resources } from '../../sdk/resources/resources.js';
import { fixed } from '../../sdk/resources/resources.js';
import type { Rng } from '../../sdk/util/random.js';
import { ScalarSpace, type Sorter } from './sorter.js';
import type { KeptSorters } from './sorter-keep.js';
import type { AllocatorSnapshot, RefusalFilter } from './types.js';

export interface AllocatorOptions {
  /** Sorter over roles: `drf` (default) or `random` (Mesos's `--role_sorter`). */
  roleSorter?: 'drf' | 'random';
  /** Sorter over the frameworks of a role: `drf` (default) or `random` (`--framework_sorter`). */
  frameworkSorter?: 'drf' | 'random';
  /**
   * Keep the DRF sorters between the calls of one `createAllocate` function (default true); the
   * plans are the same either way (sorter-keep.ts).
   */
  keepSorters?: boolean;
}

/**
 * One agent's conversion, remembered between cycles for the same (immutable) `total` and
 * `allocated` values: an agent nothing happened to since the last cycle is converted by copying a
 * few numbers instead of walking its entries and subtracting its port ranges again. Only agents
 * without reservations are remembered (their conversion is the same whatever the other agents are).
 */
export interface AgentMemo {
  /** The total it was made for (the key it is kept under). */
  total: Resources;
  allocated: Resources;
  /** The scalar names of the total, with their values (the cluster total's share) and what is free. */
  names: string[];
  /** Their indices, valid in a cycle whose starting dimensions are `dimsKey` (null: look names up). */
  dims: number[];
  dimsKey: string | null;
  totals: number[];
  free: number[];
  nsTotal: Resource[] | null;
  nsUsed: Resource[] | null;
  /**
   * The unreserved scalars of `allocated`, in the order walked (names and values): with `names`,
   * `totals`, `nsTotal` and `nsUsed`, what another agent's values must hold to be converted the
   * same way (a twin: convert-agents.ts).
   */
  usedNames: string[];
  usedVals: number[];
  /** The free unreserved non-scalar entries, once a cycle has computed them (nonscalars.ts). */
  nsFreeU: Resource[] | undefined;
}

/** Free resources on one agent reserved for one role. */
export interface ReservedPart {
  role: string;
  vec: number[];
  /** Free non-scalar entries (ports, sets) reserved for the role. */
  nonScalars: Resource[];
  /** Still free in this cycle (all of a part goes to one offer). */
  left: boolean;
}

export interface RoleInfo {
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
  /** The frameworks of the role in their order; null when there is none or just one (`single`). */
  sorter: Sorter | null;
  /** Exactly one framework (`fwOfClient[0]`), served whenever the role is active. */
  single: boolean;
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
  /** Some reservation (the role's or an ancestor's) could go to this role. */
  usesReservations: boolean;
  /** Stage 2: the useful-agent count when the role was found capped by its limits and retired. */
  cappedSince: number;
}

export const NO_PARTS: ReservedPart[] = [];
const NO_INTS = new Int32Array(0);
const NO_BYTES = new Uint8Array(0);
const NO_DOUBLES = new Float64Array(0);

/**
 * The offer rows' arrays, kept from one cycle to the next: `allocate()` runs to its end before
 * another call starts, and no cycle keeps them once its plan is built (buildOffers copies what it
 * needs). A new set of arrays every cycle was fresh memory (pages touched for the first time)
 * every cycle, and on a paravirtual host each fresh page is a costly fault.
 */
interface OfferRows {
  fw: Int32Array;
  agent: Int32Array;
  role: Int32Array;
  ns: Uint8Array;
  parts: ReservedPart[][];
  u: Float64Array;
}

let rows: OfferRows = { fw: NO_INTS, agent: NO_INTS, role: NO_INTS, ns: NO_BYTES, parts: [], u: NO_DOUBLES };

/** Gives the cycle the kept offer rows, with room for `n` offers of D numbers (more as needed: `growOffers`). */
export function startOffers(cy: Cycle, n: number): void {
  if (rows.fw.length < n || rows.u.length < n * cy.D) {
    const size = Math.max(n, 16);
    rows = {
      fw: new Int32Array(size),
      agent: new Int32Array(size),
      role: new Int32Array(size),
      ns: new Uint8Array(size),
      parts: rows.parts,
      u: new Float64Array(size * Math.max(1, cy.D)),
    };
  }
  takeRows(cy);
  cy.offerCount = 0;
}

function takeRows(cy: Cycle): void {
  cy.offerFw = rows.fw;
  cy.offerAgent = rows.agent;
  cy.offerRole = rows.role;
  cy.offerNs = rows.ns;
  cy.offerParts = rows.parts;
  cy.offerU = rows.u;
}

/** Room for one more offer row (doubling the kept arrays, the rows so far copied). */
export function growOffers(cy: Cycle): void {
  const n = cy.offerCount;
  const D = cy.D;
  if (n < cy.offerFw.length && (n + 1) * D <= cy.offerU.length) return;
  const size = Math.max(16, 2 * n + 2);
  const fw = new Int32Array(size);
  fw.set(cy.offerFw.subarray(0, n));
  const agent = new Int32Array(size);
  agent.set(cy.offerAgent.subarray(0, n));
  const role = new Int32Array(size);
  role.set(cy.offerRole.subarray(0, n));
  const ns = new Uint8Array(size);
  ns.set(cy.offerNs.subarray(0, n));
  const u = new Float64Array(size * Math.max(1, D));
  u.set(cy.offerU.subarray(0, n * D));
  rows = { fw, agent, role, ns, parts: cy.offerParts, u };
  takeRows(cy);
}

let freeRows: Float64Array = NO_DOUBLES;

/**
 * The free-resource table of a cycle, `n` zeros: the same memory as the last cycle's when it is
 * large enough (kept for the reason the offer rows are; no cycle keeps its table, memos copy).
 */
export function zeroedFreeU(n: number): Float64Array {
  if (freeRows.length < n) freeRows = new Float64Array(n);
  const out = freeRows.length === n ? freeRows : freeRows.subarray(0, n);
  out.fill(0);
  return out;
}

/** Drops the cycle's hold on the reserved parts of its offers (the kept list would keep them alive). */
export function releaseOffers(cy: Cycle): void {
  const parts = cy.offerParts;
  for (let i = 0; i < cy.offerCount; i++) if (parts[i] !== NO_PARTS) parts[i] = NO_PARTS;
}

export class Cycle {
  readonly s: AllocatorSnapshot;
  readonly rng: Rng;
  readonly options: AllocatorOptions;
  readonly space = new ScalarSpace();
  D = 0;
  nA = 0;

  // Agents.
  freeU: Float64Array = NO_DOUBLES;
  agentActive = new Uint8Array(0);
  reserved: (ReservedPart[] | null)[] = [];
  nsTotal: (Resource[] | null)[] = [];
  nsUsed: (Resource[] | null)[] = [];
  nsUnreservedGiven = new Uint8Array(0);
  /** Free unreserved non-scalar entries per agent, once asked for (see nonscalars.ts). */
  nsFreeU: (Resource[] | undefined)[] = [];
  /** Each agent's conversion memo, when it has one (convert-agents.ts). */
  memos: (AgentMemo | null)[] = [];

  // Roles and frameworks.
  readonly roles: RoleInfo[] = [];
  readonly roleIndex = new Map<string, number>();
  roleOfClient: number[] = [];
  roleSorter!: Sorter;
  quotaSorter: Sorter | null = null;
  /** The sorters the last cycle left (sorter-keep.ts), or null. */
  kept: KeptSorters | null = null;
  /** What this cycle leaves for the next, or null when sorters are not kept. */
  keepOut: KeptSorters | null = null;
  fwSuppressed: ReadonlySet<string>[] = [];
  /** The roles each framework subscribed with (`*` when it gave none). */
  fwRoles: string[][] = [];
  /** Live refusal filters, chained per agent: the agent's first, then `filterNext` (-1 ends). */
  filterHead = new Int32Array(0);
  filterNext = new Int32Array(0);
  filterFw = new Int32Array(0);
  filterList: RefusalFilter[] = [];
  filterCount = 0;
  /** For an agent with a long chain: its filters by framework (made when the agent is visited). */
  filterMapAgent = -1;
  readonly filterMap = new Map<number, number[]>();
  /**
   * Framework-sorter client index of framework f in role x, at x × (framework count) + f: one map
   * a cycle, not one per framework (1,000 maps a cycle, most holding one entry).
   */
  fwClient = new Map<number, number>();
  skips = new Float64Array(0);

  // Quota and headroom.
  anyQuota = false;
  requiredHeadroom = new Float64Array(0);
  availableHeadroom = new Float64Array(0);
  headroomOn = false;
  /** Active quota-sorter roles with an unsatisfied guarantee, per dimension. */
  unsatisfiedRoles = new Int32Array(0);

  // Minimum allocatable alternatives: dims and values.
  minAlts: { dims: number[]; vals: number[] }[] = [];

  // Scratch for the offer under consideration.
  sU = new Float64Array(0);
  sR = new Float64Array(0);
  zero = new Float64Array(0);
  sV = new Float64Array(0);
  /**
   * The offers made so far, one row each (`offerCount` rows): framework, agent and role indices,
   * whether the agent's unreserved non-scalars go with it, its reserved parts, and its unreserved
   * scalars (D numbers at row × D in `offerU`). Rows, not an object per offer (10,000 objects a
   * cycle at 10,000 agents), in arrays kept from one cycle to the next (`OfferRows`).
   */
  offerCount = 0;
  offerFw: Int32Array = NO_INTS;
  offerAgent: Int32Array = NO_INTS;
  offerRole: Int32Array = NO_INTS;
  offerNs: Uint8Array = NO_BYTES;
  offerParts: ReservedPart[][] = [];
  offerU: Float64Array = NO_DOUBLES;
  /** Role updates held back during a role visit: role, satisfied flag, and D numbers each. */
  pendingRoles: number[] = [];
  pendingSatisfied: boolean[] = [];
  /** How many of `pendingRoles` / `pendingSatisfied` are held back now (the arrays are reused). */
  pendingCount = 0;
  pendingV = new Float64Array(0);
  /**
   * Offer contents seen this cycle and the cycles before it (over the same dimensions; see
   * offer-resources.ts): identical offers share one (immutable) Resources value.
   */
  interned = new Map<number, Interned[]>();
  /** The offer contents built or found last (consecutive offers are often identical). */
  lastInterned: Interned | null = null;
  sParts: ReservedPart[] = [];
  sNs = false;

  // Current position.
  agent = 0;
  stage = 1;
  stamp = 0;
  phaseA = true;
  taker = -1;
  takerClient = -1;
  currentRole = 0;

  /** Roles found capped during the current stage-2 visit, retired after it. */
  readonly cappedPending: number[] = [];

  // Stage-2 counters for the skip reasons that are counted per role at the end.
  usefulAgents = 0;
  crumbAgents = 0;
  reservedOnlyAgents = 0;

  readonly stage1Offers = new Map<number, number[]>();

  // Conversion state (fields, so that the entry visitor is one function made once per cycle).
  cvAgent = 0;
  cvSign = 1;
  cvParts: ReservedPart[] | null = null;
  /** The agent's unreserved scalar names and values, as its total is walked (for its memo). */
  cvNames: string[] = [];
  cvTotals: number[] = [];
  /** The unreserved scalar names and values of the agent's allocated resources, as walked. */
  cvUsedNames: string[] = [];
  cvUsedVals: number[] = [];
  /** The agent's total holds something reserved (it is then not remembered). */
  cvReservedTotal = false;
  /** The scalar dimensions before the first agent is converted (names joined), and their count. */
  startDims = '';
  startD = 0;
  clusterTotal: number[] = [];
  /** Reserved scalars per reservation role, summed over the agents (quota consumption). */
  reservationsByRole = new Map<string, number[]>();
  /** The frameworks' allocations by role, as vectors (quota consumption and the sorters). */
  allocs: { fw: number; role: number; vec: Float64Array; fixed: Float64Array; unreserved: Float64Array }[] = [];
  /** What each role's frameworks hold at the start of the cycle, by role index (the sorters' start). */
  roleAlloc = new Map<number, Float64Array>();
  readonly textHashes = new Map<string, number>();
  /** Free non-scalar lists computed this cycle, by content hash (see nonscalars.ts). */
  readonly nsFree = new Map<number, FreeNonScalars[]>();
  /** The free list found last (neighbouring agents usually share a layout). */
  nsLast: FreeNonScalars | null = null;
  /** Hashes of free lists, by identity. */
  readonly nsHashes = new Map<readonly Resource[], number>();
  /** Refusal filters' resources in this cycle's terms, by value (see filters.ts). */
  readonly filterForms = new Map<Resources, FilterForm>();
  /** The framework visitor of `offerToFirstFramework`, made once per cycle. */
  fwVisitor: ((client: number) => boolean) | null = null;

  constructor(snapshot: AllocatorSnapshot, rng: Rng, options: AllocatorOptions) {
    this.s = snapshot;
    this.rng = rng;
    this.options = options;
  }
}

/** An offer's contents already turned into `Resources` this cycle. */
export interface Interned {
  unreserved: number[];
  parts: ReservedPart[];
  nonScalars: readonly Resource[];
  resources: Resources;
}

export const NO_RESOURCES: Resource[] = [];

export function indices(n: number): number[] {
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = i;
  return out;
}

export function pushInto<T>(lists: (T[] | null)[], i: number, item: T): void {
  const list = lists[i];
  if (list) list.push(item);
  else lists[i] = [item];
}

export function partFor(parts: ReservedPart[], role: string): ReservedPart {
  let p = parts.find((x) => x.role === role);
  if (!p) {
    p = { role, vec: [], nonScalars: [], left: true };
    parts.push(p);
  }
  return p;
}

export function padTo(vec: number[], n: number): void {
  while (vec.length < n) vec.push(0);
}

export function addVec(target: Float64Array | null, v: ArrayLike<number>, sign: number): void {
  if (!target) return;
  for (let d = 0; d < v.length; d++) if (v[d] !== 0) target[d] = fixed(target[d] + sign * v[d]);
}

export function fixedVec(v: Float64Array): Float64Array {
  for (let d = 0; d < v.length; d++) v[d] = fixed(v[d]);
  return v;
}

/** One free non-scalar list computed this cycle: the inputs it came from, and the result. */
export interface FreeNonScalars {
  role: string;
  total: readonly Resource[];
  used: readonly Resource[];
  free: Resource[];
}

/** A refusal filter's resources in the cycle's terms. */
export interface FilterForm {
  unreserved: Float64Array;
  /** Reserved scalars by role. */
  reserved: Map<string, Float64Array> | null;
  /** Non-scalar entries by name, then by role. */
  other: Map<string, Map<string, FilterEntry>> | null;
}

/** A filter's non-scalar entry: merged ranges, or the set's items. */
export interface FilterEntry {
  type: Resource['type'];
  ranges: Range[] | null;
  items: Set<string> | null;
}
