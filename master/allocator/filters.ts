/**
 * Refusal filters with resources, checked without building the offer: a filter's resources are
 * turned once per cycle (per distinct `Resources` value) into vectors over the cycle's dimensions
 * plus merged ranges and item sets, and the offer under consideration (unreserved scalars, the
 * reserved parts, the free unreserved non-scalars) is compared against them entry by entry, as
 * `Resources.contains` would.
 */
import { DEFAULT_ROLE, fixed, mergeRanges, type Resource, type Resources } from '../../sdk/resources/resources.js';
import { freeNonScalars, rangesWithin } from './nonscalars.js';
import type { Cycle, FilterForm } from './state.js';
import type { RefusalFilter } from './types.js';

function formOf(cy: Cycle, resources: Resources): FilterForm {
  let form = cy.filterForms.get(resources);
  if (form) return form;
  const D = cy.D;
  const made: FilterForm = { unreserved: new Float64Array(D), reserved: null, other: null };
  // A read-only walk over the stored entries, allocating nothing.
  resources.forEachEntry((r) => {
    const role = r.role ?? DEFAULT_ROLE;
    if (r.type === 'SCALAR') {
      const d = cy.space.find(r.name);
      if (d < 0) return false; // no offer holds a resource the cycle has no dimension for
      let vec = made.unreserved;
      if (role !== DEFAULT_ROLE) {
        made.reserved ??= new Map();
        let v = made.reserved.get(role);
        if (!v) {
          v = new Float64Array(D);
          made.reserved.set(role, v);
        }
        vec = v;
      }
      vec[d] = fixed(vec[d] + (r.scalar?.value ?? 0));
    } else {
      made.other ??= new Map();
      let byRole = made.other.get(r.name);
      if (!byRole) {
        byRole = new Map();
        made.other.set(r.name, byRole);
      }
      byRole.set(role, {
        type: r.type,
        ranges: r.type === 'RANGES' ? mergeRanges(r.ranges?.range ?? []) : null,
        items: r.type === 'SET' ? new Set(r.set?.item ?? []) : null,
      });
    }
    return false;
  });
  form = made;
  cy.filterForms.set(resources, form);
  return form;
}

/** Chains longer than this get a map by framework when their agent is visited. */
const LONG_CHAIN = 16;

/**
 * Whether a live filter of framework `f` on the current agent refuses the offer under consideration
 * to role `role`: only the filters left by offers of that role (or of no recorded role) count.
 */
export function isFiltered(cy: Cycle, f: number, role: string): boolean {
  const a = cy.agent;
  if (cy.filterMapAgent === a) return anyRefuses(cy, cy.filterMap.get(f), role);
  let n = 0;
  for (let i = cy.filterHead[a]; i >= 0; i = cy.filterNext[i]) {
    if (++n > LONG_CHAIN) {
      indexAgent(cy, a);
      return anyRefuses(cy, cy.filterMap.get(f), role);
    }
  }
  for (let i = cy.filterHead[a]; i >= 0; i = cy.filterNext[i]) {
    if (cy.filterFw[i] === f && refuses(cy, cy.filterList[i], role)) return true;
  }
  return false;
}

function indexAgent(cy: Cycle, a: number): void {
  cy.filterMap.clear();
  cy.filterMapAgent = a;
  for (let i = cy.filterHead[a]; i >= 0; i = cy.filterNext[i]) {
    const list = cy.filterMap.get(cy.filterFw[i]);
    if (list) list.push(i);
    else cy.filterMap.set(cy.filterFw[i], [i]);
  }
}

function anyRefuses(cy: Cycle, list: number[] | undefined, role: string): boolean {
  if (list) for (const i of list) if (refuses(cy, cy.filterList[i], role)) return true;
  return false;
}

/**
 * A filter of another role refuses nothing; one without resources refuses everything on its agent;
 * one with resources, what they contain. (Role names are compared as strings: the master's are
 * mostly the same string objects, so most comparisons are by identity.)
 */
function refuses(cy: Cycle, filter: RefusalFilter, role: string): boolean {
  if (filter.role !== undefined && filter.role !== role) return false;
  return !filter.resources || offerWithin(cy, formOf(cy, filter.resources));
}

function offerWithin(cy: Cycle, form: FilterForm): boolean {
  const D = cy.D;
  const sU = cy.sU;
  const fu = form.unreserved;
  for (let d = 0; d < D; d++) if (sU[d] > 0 && fu[d] < sU[d]) return false;
  for (const p of cy.sParts) {
    const fr = form.reserved?.get(p.role);
    for (let d = 0; d < D; d++) if (p.vec[d] > 0 && (!fr || fr[d] < p.vec[d])) return false;
    if (!entriesWithin(form, p.nonScalars)) return false;
  }
  return !cy.sNs || entriesWithin(form, freeNonScalars(cy, cy.agent, DEFAULT_ROLE));
}

function entriesWithin(form: FilterForm, entries: readonly Resource[]): boolean {
  for (const r of entries) {
    const have = form.other?.get(r.name)?.get(r.role ?? DEFAULT_ROLE);
    if (r.type === 'RANGES') {
      const inner = r.ranges?.range ?? [];
      if (inner.length === 0) continue;
      if (have?.type !== 'RANGES' || !rangesWithin(have.ranges ?? [], inner)) return false;
    } else if (r.type === 'SET') {
      const items = r.set?.item ?? [];
      if (items.length === 0) continue;
      if (have?.type !== 'SET') return false;
      for (const i of items) if (!have.items?.has(i)) return false;
    }
  }
  return true;
}
