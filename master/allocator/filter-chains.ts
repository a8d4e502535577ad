/**
 * Refusal filters chained per agent (`Cycle.filterHead`, `filterNext`, `filterFw`, `filterList`),
 * kept from one cycle to the next. A framework's filters only ever grow at the end of its list
 * until one expires (the master appends a declined offer's filter and drops expired ones by making
 * a new list), so a cycle whose lists start with exactly the filters the last cycle read (compared
 * by identity, element by element: no filter object is read), none of them expired, over the same
 * agents (the same agent index) and frameworks (same ids, same activity), reads only the filters
 * added since and appends them to the kept chains. Anything else rebuilds the chains from every
 * list, as every cycle did before (30,000 filters read per cycle in DeclineOffers' round 3).
 *
 * The order of a chain is not the order a rebuild would give (the new filters go in front of
 * older ones of other frameworks), which does not matter: a chain is only asked whether any
 * filter of a framework refuses the offer (filters.ts). Filter objects are treated as immutable
 * (the master makes a new one per decline and never edits one).
 */
import type { Cycle } from './state.js';
import type { RefusalFilter } from './types.js';

interface KeptChains {
  /** The agent index (by identity) and agent count the chains are over. */
  index: Map<string, number>;
  nA: number;
  /** The `now` the chains were last brought up to, and the earliest expiry of a filter in them. */
  now: number;
  minExpiry: number;
  /** Per framework: its id, whether it was active, how many filters of its list were read. */
  ids: string[];
  active: boolean[];
  read: number[];
  /** Per framework, the filters of its list read so far, in order. */
  seen: RefusalFilter[][];
  head: Int32Array<ArrayBuffer>;
  next: Int32Array<ArrayBuffer>;
  fw: Int32Array<ArrayBuffer>;
  list: RefusalFilter[];
  count: number;
}

let kept: KeptChains | null = null;

/** For tests: how many cycles extended the kept chains and how many rebuilt them. */
export const filterChainStats = { extended: 0, rebuilt: 0 };

/** For tests: forget the kept chains (the next cycle rebuilds them). */
export function forgetFilterChains(): void {
  kept = null;
}

/**
 * Sets the cycle's filter chains, extending the kept ones when they still hold. `index` gives the
 * agent index (made only when some filter needs it).
 */
export function buildFilterChains(cy: Cycle, index: () => Map<string, number>): void {
  const fws = cy.s.frameworks;
  const nF = fws.length;
  const now = cy.s.now;
  let any = false;
  for (let f = 0; f < nF && !any; f++) any = fws[f].active && fws[f].filters.length > 0;
  if (!any) {
    // No filter to chain (the arrays stay empty); what was kept stays kept for a later cycle.
    return;
  }
  const agentIndex = index();
  const k = kept;
  if (k !== null && extend(cy, k, agentIndex, now)) {
    filterChainStats.extended++;
    return;
  }
  filterChainStats.rebuilt++;
  rebuild(cy, agentIndex, now);
}

function rebuild(cy: Cycle, agentIndex: Map<string, number>, now: number): void {
  const fws = cy.s.frameworks;
  const nF = fws.length;
  let n = 0;
  for (const fw of fws) if (fw.active) n += fw.filters.length;
  const k: KeptChains = {
    index: agentIndex,
    nA: cy.nA,
    now,
    minExpiry: Number.POSITIVE_INFINITY,
    ids: new Array(nF),
    active: new Array(nF),
    read: new Array(nF),
    seen: new Array(nF),
    head: new Int32Array(cy.nA).fill(-1),
    next: new Int32Array(n),
    fw: new Int32Array(n),
    list: new Array(n),
    count: 0,
  };
  for (let f = 0; f < nF; f++) {
    const fw = fws[f];
    k.ids[f] = fw.id;
    k.active[f] = fw.active;
    k.read[f] = 0;
    k.seen[f] = [];
    if (fw.active) readFrom(k, f, fw.filters, 0, agentIndex, now);
  }
  kept = k;
  install(cy, k);
}

/** The kept chains brought up to this cycle, or false when they no longer hold (nothing changed then). */
function extend(cy: Cycle, k: KeptChains, agentIndex: Map<string, number>, now: number): boolean {
  const fws = cy.s.frameworks;
  const nF = fws.length;
  if (k.index !== agentIndex || k.nA !== cy.nA || k.ids.length !== nF) return false;
  if (!(now >= k.now) || !(now < k.minExpiry)) return false;
  for (let f = 0; f < nF; f++) {
    const fw = fws[f];
    if (fw.id !== k.ids[f] || fw.active !== k.active[f]) return false;
    const r = k.read[f];
    const list = fw.filters;
    if (list.length < r) return false;
    const seen = k.seen[f];
    for (let i = 0; i < r; i++) if (list[i] !== seen[i]) return false;
  }
  // They hold: read each framework's new filters.
  k.now = now;
  for (let f = 0; f < nF; f++) {
    const list = fws[f].filters;
    if (list.length > k.read[f] && k.active[f]) readFrom(k, f, list, k.read[f], agentIndex, now);
  }
  install(cy, k);
  return true;
}

/** Reads framework `f`'s filters from position `i` on into the chains (live ones on known agents). */
function readFrom(
  k: KeptChains,
  f: number,
  filters: readonly RefusalFilter[],
  from: number,
  agentIndex: Map<string, number>,
  now: number,
): void {
  const n = filters.length;
  const seen = k.seen[f];
  if (k.count + (n - from) > k.next.length) grow(k, k.count + (n - from));
  // Indexed: an unoptimised for…of makes an iterator result per filter.
  for (let i = from; i < n; i++) {
    const filter = filters[i];
    seen.push(filter);
    if (!(filter.expiresAt > now)) continue;
    const a = agentOf(f, i, filter.agentId, agentIndex);
    if (a === undefined) continue;
    if (filter.expiresAt < k.minExpiry) k.minExpiry = filter.expiresAt;
    const c = k.count++;
    k.list[c] = filter;
    k.fw[c] = f;
    k.next[c] = k.head[a];
    k.head[a] = c;
  }
  k.read[f] = n;
}

function grow(k: KeptChains, need: number): void {
  const size = Math.max(need, 2 * k.next.length, 64);
  const next = new Int32Array(size);
  next.set(k.next.subarray(0, k.count));
  const fw = new Int32Array(size);
  fw.set(k.fw.subarray(0, k.count));
  k.next = next;
  k.fw = fw;
}

function install(cy: Cycle, k: KeptChains): void {
  cy.filterHead = k.head;
  cy.filterNext = k.next;
  cy.filterFw = k.fw;
  cy.filterList = k.list;
  cy.filterCount = k.count;
}

/**
 * The agent ids of the last cycle that needed them, and their index: the master lists its agents
 * in the same order from one cycle to the next, so a comparison of the ids (the same strings)
 * replaces building a map of 10,000 entries per cycle. Ids only: nothing else of a snapshot is kept.
 */
let lastIds: string[] = [];
let lastIndex = new Map<string, number>();
/**
 * The agent ids of each framework's filters as the last cycle saw them (by position in its list,
 * under the agent index then current), with their agents' indices: a filter stays in its
 * framework's list, in order, until it expires, so most ids are found at the same position and
 * compared (the same string) instead of looked up (30,000 map lookups per cycle in DeclineOffers
 * round 3, each a cache miss or two).
 */
let filterSeen: { index: Map<string, number>; ids: (string | undefined)[][]; agents: number[][] } = {
  index: lastIndex,
  ids: [],
  agents: [],
};

/** The index of the agent of framework `f`'s filter at position `i` of its list (undefined: not in the snapshot). */
function agentOf(f: number, i: number, agentId: string, index: Map<string, number>): number | undefined {
  if (filterSeen.index !== index) filterSeen = { index, ids: [], agents: [] };
  let ids = filterSeen.ids[f];
  let agents = filterSeen.agents[f];
  if (ids === undefined) {
    ids = [];
    agents = [];
    filterSeen.ids[f] = ids;
    filterSeen.agents[f] = agents;
  }
  if (i < ids.length && ids[i] === agentId) return agents[i] < 0 ? undefined : agents[i];
  const a = index.get(agentId);
  while (ids.length < i) {
    ids.push(undefined);
    agents.push(-1);
  }
  ids[i] = agentId;
  agents[i] = a ?? -1;
  return a;
}

/** Agent id → index in the snapshot. */
export function indexAgents(cy: Cycle): Map<string, number> {
  const agents = cy.s.agents;
  let same = agents.length === lastIds.length;
  for (let i = 0; same && i < agents.length; i++) same = agents[i].id === lastIds[i];
  if (same) return lastIndex;
  const ids = new Array<string>(agents.length);
  const out = new Map<string, number>();
  for (let i = 0; i < agents.length; i++) {
    ids[i] = agents[i].id;
    out.set(ids[i], i);
  }
  lastIds = ids;
  lastIndex = out;
  return out;
}
