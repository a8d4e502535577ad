/**
 * Offer building: the offers of the plan as `Resources`, made only for the offers the cycle made.
 * Identical contents (common on homogeneous clusters) share one immutable value: a numeric hash
 * finds the candidates, an exact comparison decides.
 */
import { DEFAULT_ROLE, type Resource, Resources } from '../../sdk/resources/resources.js';
import { freeNonScalars, listHash, mix, sameNonScalars, textHash } from './nonscalars.js';
import { type Cycle, type Interned, NO_PARTS, NO_RESOURCES, type ReservedPart } from './state.js';
import type { PlannedOffer } from './types.js';

export function resourcesOf(
  cy: Cycle,
  a: number,
  unreserved: ArrayLike<number>,
  at: number,
  parts: ReservedPart[],
  ns: boolean,
): Resources {
  const D = cy.D;
  const nonScalars = ns ? freeNonScalars(cy, a, DEFAULT_ROLE) : NO_RESOURCES;
  const last = cy.lastInterned;
  if (last && sameOffer(last, unreserved, at, D, parts, nonScalars)) return last.resources;
  // Identical contents (common on homogeneous clusters) share one immutable value: a numeric
  // hash finds the candidates, an exact comparison decides.
  let h = 0x811c9dc5;
  for (let d = 0; d < D; d++) h = mix(h, unreserved[at + d] * 1000);
  for (const p of parts) {
    h = mix(h, textHash(cy, p.role));
    for (let d = 0; d < p.vec.length; d++) h = mix(h, p.vec[d] * 1000);
    if (p.nonScalars.length > 0) h = mix(h, listHash(cy, p.nonScalars));
  }
  if (nonScalars.length > 0) h = mix(h, listHash(cy, nonScalars));
  const candidates = cy.interned.get(h);
  if (candidates) {
    for (const c of candidates) {
      if (sameOffer(c, unreserved, at, D, parts, nonScalars)) {
        cy.lastInterned = c;
        return c.resources;
      }
    }
  }
  const names = cy.space.names;
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
  else cy.interned.set(h, [made]);
  cy.lastInterned = made;
  return made.resources;
}

/**
 * The offer contents of the last cycles, kept for the next: a cycle whose offers hold what an
 * earlier one's held (every round of DeclineOffers, most cycles of a steady cluster) hands out the
 * very same Resources value, not a new equal one, so that what the master keeps per value (the
 * wire list, a framework's allocation plus that value: master/state/offers.ts) is made once.
 * Interned contents are numbers over the cycle's scalar dimensions: kept only while the dimensions
 * are the same names in the same order, and at most MAX_KEPT_VALUES of them (then started afresh).
 * Plans are equal either way: a value is reused only when its contents compare equal (sameOffer).
 */
let keptValues: { dims: string; table: Map<number, Interned[]>; count: number } | null = null;
const MAX_KEPT_VALUES = 4096;

/** For tests: forget the kept offer values (the next cycle builds its own). */
export function forgetOfferValues(): void {
  keptValues = null;
}

export function buildOffers(cy: Cycle): PlannedOffer[] {
  const dims = cy.space.names.join('\u0000');
  if (keptValues === null || keptValues.dims !== dims || keptValues.count > MAX_KEPT_VALUES)
    keptValues = { dims, table: new Map(), count: 0 };
  cy.interned = keptValues.table;
  const kept = keptValues;
  const n = cy.offerCount;
  const out: PlannedOffer[] = new Array(n);
  const fws = cy.s.frameworks;
  const agents = cy.s.agents;
  const D = cy.D;
  for (let i = 0; i < n; i++) {
    const a = cy.offerAgent[i];
    out[i] = {
      frameworkId: fws[cy.offerFw[i]].id,
      agentId: agents[a].id,
      role: cy.roles[cy.offerRole[i]].name,
      resources: resourcesOf(cy, a, cy.offerU, i * D, cy.offerParts[i], cy.offerNs[i] === 1),
      agentIndex: a,
    };
  }
  kept.count = internedCount(kept.table);
  return out;
}

function internedCount(table: Map<number, Interned[]>): number {
  let n = 0;
  table.forEach((list) => {
    n += list.length;
  });
  return n;
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
