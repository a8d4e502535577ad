/**
 * Conversion of the snapshot's agents: each agent's free resources (total − allocated) become
 * number vectors, the unreserved scalars in one flat Float64Array (`freeU`, D numbers per agent),
 * reserved parts apart, non-scalar entries (ports, sets) kept as entries; the minimum allocatable
 * alternatives become vectors over the same dimensions.
 */
import { DEFAULT_ROLE, fixed, type Resource, type Resources } from '../../sdk/resources/resources.js';
import { freeNonScalars, sameEntry } from './nonscalars.js';
import {
  type AgentMemo,
  type Cycle,
  padTo,
  partFor,
  pushInto,
  type ReservedPart,
  startOffers,
  zeroedFreeU,
} from './state.js';

/**
 * Keyed by the agent's total (the master keeps one value per agent until its total changes): the
 * memos made in cycles over some agents only (an event's), which the next full cycle would not
 * find at their index. A full cycle's memos are found at their index (`lastMemos`) and are not put
 * here: 10,000 WeakMap insertions in a master's first cycle cost more than converting twins.
 */
const agentMemos = new WeakMap<Resources, AgentMemo>();

/**
 * The memos of the last full cycle by agent index: the master lists its agents in the same order
 * each cycle, so the memo at the same index, when made for the same total, is found without a
 * WeakMap lookup (an identity hash and a probe per agent, two cache misses on 10,000 scattered
 * values). A cycle over some agents only (the snapshot gives `clusterTotals`) leaves it as it is.
 */
let lastMemos: (AgentMemo | null)[] = [];

export function convertAgents(cy: Cycle): void {
  const agents = cy.s.agents;
  const nA = agents.length;
  cy.nA = nA;
  const space = cy.space;
  // A read-only walk over stored entries: each scalar name a dimension.
  const dims = (r: Resource) => {
    if (r.type === 'SCALAR') space.dim(r.name);
    return false;
  };
  for (const alt of cy.s.minAllocatable) alt.forEachEntry(dims);
  const given = cy.s.clusterTotals;
  if (given) for (const name in given) space.dim(name);
  for (const role of cy.s.roles) {
    role.quota?.guarantee?.forEachEntry(dims);
    role.quota?.limit?.forEachEntry(dims);
  }
  // The first agent's names give the usual dimensions; a name seen later widens the rows (restride).
  if (nA > 0) agents[0].total.forEachEntry(dims);
  cy.D = space.size;
  // The dimensions every agent starts from: a memo made under the same ones holds their indices.
  cy.startDims = space.names.join('\u0000');
  cy.startD = space.size;
  cy.freeU = zeroedFreeU(nA * cy.D);
  cy.clusterTotal = new Array(cy.D).fill(0);
  cy.agentActive = new Uint8Array(nA);
  cy.reserved = new Array(nA).fill(null);
  cy.nsTotal = new Array(nA).fill(null);
  cy.nsUsed = new Array(nA).fill(null);
  cy.nsUnreservedGiven = new Uint8Array(nA);
  cy.memos = new Array(nA).fill(null);
  const entry = (r: Resource) => convertEntry(cy, r);
  // The last memo this cycle used or made: a neighbour with the same contents is its twin.
  let twin: AgentMemo | null = null;
  const full = cy.s.clusterTotals === undefined;
  for (let a = 0; a < nA; a++) {
    const agent = agents[a];
    cy.agentActive[a] = agent.active ? 1 : 0;
    let memo = a < lastMemos.length ? lastMemos[a] : null;
    if (memo === null || memo.total !== agent.total) memo = agentMemos.get(agent.total) ?? null;
    if (memo !== null && memo.allocated === agent.allocated && fromMemo(cy, a, memo)) {
      twin = memo;
      continue;
    }
    if (twin !== null && sameAsTwin(twin, agent.total, agent.allocated)) {
      // Values never seen (a master just started, an agent just re-registered) but the same
      // contents as the last agent's: its conversion, shared lists and all, under this agent's values.
      // A literal of remember()'s shape (a spread may give the memos another hidden class).
      const made: AgentMemo = {
        total: agent.total,
        allocated: agent.allocated,
        names: twin.names,
        dims: twin.dims,
        dimsKey: twin.dimsKey,
        totals: twin.totals,
        free: twin.free,
        nsTotal: twin.nsTotal,
        nsUsed: twin.nsUsed,
        usedNames: twin.usedNames,
        usedVals: twin.usedVals,
        nsFreeU: twin.nsFreeU,
      };
      if (fromMemo(cy, a, made)) {
        if (!full) agentMemos.set(agent.total, made);
        twin = made;
        continue;
      }
    }
    cy.cvAgent = a;
    cy.cvParts = null;
    // `forEachEntry` hands each stored entry over without copying it and allocates nothing (a
    // clone per entry, or a map per walk, would cost more than the allocation decision itself).
    cy.cvSign = 1;
    cy.cvNames = [];
    cy.cvTotals = [];
    cy.cvUsedNames = [];
    cy.cvUsedVals = [];
    cy.cvReservedTotal = false;
    agent.total.forEachEntry(entry);
    if (!agent.allocated.isEmpty()) {
      cy.cvSign = -1;
      agent.allocated.forEachEntry(entry);
    }
    const D = cy.D;
    const base = a * D;
    const freeU = cy.freeU;
    for (let d = 0; d < D; d++) {
      const v = freeU[base + d];
      freeU[base + d] = v > 0 ? fixed(v) : 0;
    }
    const parts = cy.cvParts as ReservedPart[] | null;
    if (parts) {
      for (const p of parts) {
        for (let d = 0; d < p.vec.length; d++) p.vec[d] = p.vec[d] > 0 ? fixed(p.vec[d]) : 0;
        p.nonScalars = freeNonScalars(cy, a, p.role);
      }
      const kept = parts.filter((p) => p.nonScalars.length > 0 || p.vec.some((v) => v > 0));
      cy.reserved[a] = kept.length > 0 ? kept : null;
    } else if (!cy.cvReservedTotal) {
      remember(cy, a, agent.total, agent.allocated);
      twin = cy.memos[a];
    }
  }
  const D = cy.D;
  // Vectors made before the last restride are padded to the final width.
  // Indexed: this runs once per cycle, often unoptimised, where a for…of over 10,000 agents makes
  // an iterator result per agent.
  const reserved = cy.reserved;
  for (let a = 0; a < reserved.length; a++) {
    const parts = reserved[a];
    if (parts !== null) for (const p of parts) padTo(p.vec, D);
  }
  for (const vec of cy.reservationsByRole.values()) padTo(vec, D);
  cy.availableHeadroom = new Float64Array(D);
  for (let a = 0; a < nA; a++) {
    if (cy.agentActive[a] === 0) continue;
    const base = a * D;
    for (let d = 0; d < D; d++) cy.availableHeadroom[d] += cy.freeU[base + d];
  }
  const clusterTotal = new Float64Array(D);
  if (given) {
    // Only some agents are in the snapshot: the shares are of the whole cluster.
    for (let d = 0; d < D; d++) cy.clusterTotal[d] = given[space.names[d]] ?? cy.clusterTotal[d];
  }
  for (let d = 0; d < D; d++) {
    clusterTotal[d] = fixed(cy.clusterTotal[d]);
    cy.availableHeadroom[d] = fixed(cy.availableHeadroom[d]);
  }
  space.addTotalVector(clusterTotal);
  cy.sU = new Float64Array(D);
  cy.sR = new Float64Array(D);
  cy.sV = new Float64Array(D);
  cy.zero = new Float64Array(D);
  startOffers(cy, nA);
  for (const alt of cy.s.minAllocatable) {
    const dims: number[] = [];
    const vals: number[] = [];
    for (const [name, v] of Object.entries(alt.scalarTotals())) {
      dims.push(space.find(name));
      vals.push(v);
    }
    cy.minAlts.push({ dims, vals });
  }
}

/** Agent `a` from its memo; false (nothing changed) when a scalar name is not a dimension yet. */
function fromMemo(cy: Cycle, a: number, memo: AgentMemo): boolean {
  const names = memo.names;
  const space = cy.space;
  const base = a * cy.D;
  if (memo.dimsKey === cy.startDims) {
    // Made under the same starting dimensions: its indices hold (no name looked up).
    const dims = memo.dims;
    for (let i = 0; i < dims.length; i++) {
      cy.clusterTotal[dims[i]] += memo.totals[i];
      cy.freeU[base + dims[i]] = memo.free[i];
    }
  } else {
    for (let i = 0; i < names.length; i++) if (space.find(names[i]) < 0) return false;
    for (let i = 0; i < names.length; i++) {
      const d = space.find(names[i]);
      cy.clusterTotal[d] += memo.totals[i];
      cy.freeU[base + d] = memo.free[i];
    }
  }
  cy.nsTotal[a] = memo.nsTotal;
  cy.nsUsed[a] = memo.nsUsed;
  if (memo.nsFreeU !== undefined) cy.nsFreeU[a] = memo.nsFreeU;
  cy.memos[a] = memo;
  return true;
}

/** Remembers agent `a`'s conversion (nothing reserved in its total) for the next cycles. */
function remember(cy: Cycle, a: number, total: Resources, allocated: Resources): void {
  const names = cy.cvNames;
  const base = a * cy.D;
  const free = new Array<number>(names.length);
  const dims = new Array<number>(names.length);
  // The indices are kept only if they all lie among the cycle's starting dimensions (a name added
  // later in this cycle may have another index, or none, in the next).
  let within = true;
  for (let i = 0; i < names.length; i++) {
    const d = cy.space.find(names[i]);
    dims[i] = d;
    free[i] = cy.freeU[base + d];
    if (d >= cy.startD) within = false;
  }
  const memo: AgentMemo = {
    total,
    allocated,
    names,
    dims,
    dimsKey: within ? cy.startDims : null,
    totals: cy.cvTotals,
    free,
    nsTotal: cy.nsTotal[a],
    nsUsed: cy.nsUsed[a],
    usedNames: cy.cvUsedNames,
    usedVals: cy.cvUsedVals,
    nsFreeU: undefined,
  };
  if (cy.s.clusterTotals !== undefined) agentMemos.set(total, memo);
  cy.memos[a] = memo;
}

// The twin comparison's state (module fields, so that the entry visitors are made once).
let tw: AgentMemo;
/** Scalars and non-scalar entries matched so far; false once something differs. */
let twScalars = 0;
let twEntries = 0;
let twSame = true;

function twinTotalEntry(r: Readonly<Resource>): boolean {
  if (!twSame) return false;
  if (r.role !== undefined && r.role !== DEFAULT_ROLE) twSame = false;
  else if (r.type === 'SCALAR') {
    const i = twScalars++;
    twSame = i < tw.names.length && tw.names[i] === r.name && tw.totals[i] === (r.scalar?.value ?? 0);
  } else {
    const list = tw.nsTotal;
    const k = twEntries++;
    twSame = list !== null && k < list.length && sameEntry(list[k], r);
  }
  return false;
}

function twinUsedEntry(r: Readonly<Resource>): boolean {
  if (!twSame) return false;
  if (r.type === 'SCALAR') {
    if (r.role !== undefined && r.role !== DEFAULT_ROLE) {
      twSame = false;
      return false;
    }
    const i = twScalars++;
    twSame = i < tw.usedNames.length && tw.usedNames[i] === r.name && tw.usedVals[i] === (r.scalar?.value ?? 0);
  } else {
    const list = tw.nsUsed;
    const k = twEntries++;
    twSame = list !== null && k < list.length && sameEntry(list[k], r);
  }
  return false;
}

/**
 * Whether an agent's `total` and `allocated` hold what the twin's did, entry by entry in the order
 * walked (nothing reserved): then their conversions are the same. One walk of the agent's entries,
 * compared with the twin's (in cache), where converting walks them, builds lists and subtracts
 * the port ranges (a homogeneous cluster's first cycle converted 10,000 agents that way).
 */
function sameAsTwin(twin: AgentMemo, total: Resources, allocated: Resources): boolean {
  tw = twin;
  twSame = true;
  // The same value as the twin's (a master that shares equal values between agents: Resources
  // are immutable) holds the same entries: nothing to walk.
  if (total !== twin.total) {
    twScalars = 0;
    twEntries = 0;
    total.forEachEntry(twinTotalEntry);
    if (!twSame || twScalars !== twin.names.length || twEntries !== (twin.nsTotal?.length ?? 0)) return false;
  }
  if (allocated === twin.allocated) return true;
  twScalars = 0;
  twEntries = 0;
  allocated.forEachEntry(twinUsedEntry);
  return twSame && twScalars === twin.usedNames.length && twEntries === (twin.nsUsed?.length ?? 0);
}

/** At the end of a cycle: the free non-scalar lists it computed, kept with the agents' memos. */
export function keepMemos(cy: Cycle): void {
  if (cy.s.clusterTotals === undefined) lastMemos = cy.memos;
  for (let a = 0; a < cy.nA; a++) {
    const memo = cy.memos[a];
    const free = cy.nsFreeU[a];
    if (memo !== null && free !== undefined) memo.nsFreeU = free;
  }
}

export function convertEntry(cy: Cycle, r: Resource): boolean {
  const sign = cy.cvSign;
  const role = r.role;
  const reserved = role !== undefined && role !== DEFAULT_ROLE;
  if (r.type === 'SCALAR') {
    if (sign < 0 && !reserved) {
      cy.cvUsedNames.push(r.name);
      cy.cvUsedVals.push(r.scalar?.value ?? 0);
    }
    let d = cy.space.find(r.name);
    if (d < 0) {
      if (sign < 0) return false; // allocated but never in a total: nothing to subtract from
      d = cy.space.dim(r.name);
      restride(cy);
    }
    const v = r.scalar?.value ?? 0;
    if (sign > 0) {
      cy.clusterTotal[d] += v;
      if (!reserved) {
        cy.cvNames.push(r.name);
        cy.cvTotals.push(v);
      }
    }
    if (!reserved) {
      cy.freeU[cy.cvAgent * cy.D + d] += sign * v;
    } else if (sign > 0) {
      cy.cvReservedTotal = true;
      cy.cvParts ??= [];
      const p = partFor(cy.cvParts, role);
      padTo(p.vec, d + 1);
      p.vec[d] += v;
      addReservation(cy, role, d, v);
    } else {
      const p = cy.cvParts?.find((x) => x.role === role);
      if (p && d < p.vec.length) p.vec[d] -= v;
    }
  } else if (sign > 0) {
    pushInto(cy.nsTotal, cy.cvAgent, r);
    if (reserved) cy.cvReservedTotal = true;
    if (reserved) {
      cy.cvParts ??= [];
      partFor(cy.cvParts, role);
    }
  } else {
    pushInto(cy.nsUsed, cy.cvAgent, r);
  }
  return false;
}

/** A scalar name first seen on a later agent: widen every row of the free-resource table. */
export function restride(cy: Cycle): void {
  const oldD = cy.D;
  const D = cy.space.size;
  const next = new Float64Array(cy.nA * D);
  for (let a = 0; a <= cy.cvAgent; a++) {
    for (let d = 0; d < oldD; d++) next[a * D + d] = cy.freeU[a * oldD + d];
  }
  cy.freeU = next;
  cy.D = D;
  padTo(cy.clusterTotal, D);
}

export function addReservation(cy: Cycle, role: string, d: number, v: number): void {
  let vec = cy.reservationsByRole.get(role);
  if (!vec) {
    vec = [];
    cy.reservationsByRole.set(role, vec);
  }
  padTo(vec, d + 1);
  vec[d] += v;
}
