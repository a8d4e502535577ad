/**
 * Conversion of the snapshot's frameworks and roles: the role tree (ancestors made on demand),
 * memberships and allocations as vectors, refusal filters indexed by agent, and the sorters: one
 * hierarchical sorter over roles, one flat sorter per role over its frameworks.
 */
import { DEFAULT_ROLE, type Resources } from '../../sdk/resources/resources.js';
import { DrfSorter } from './drf-sorter.js';
import { buildFilterChains, indexAgents } from './filter-chains.js';
import { RandomSorter } from './random-sorter.js';
import { N_REASONS } from './skips.js';
import type { Sorter, SorterOptions } from './sorter.js';
import { reweigh, StartState, sameClients, snapshotWeights } from './sorter-keep.js';
import { type Cycle, fixedVec } from './state.js';

export function ensureRole(cy: Cycle, name: string): number {
  const known = cy.roleIndex.get(name);
  if (known !== undefined) return known;
  const slash = name.lastIndexOf('/');
  const parent = slash > 0 ? ensureRole(cy, name.slice(0, slash)) : -1;
  const idx = cy.roles.length;
  cy.roles.push({
    name,
    ancestors: parent < 0 ? [] : [parent, ...cy.roles[parent].ancestors],
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
    usesReservations: false,
    cappedSince: 0,
    single: false,
  });
  cy.roleIndex.set(name, idx);
  return idx;
}

export function makeSorter(cy: Cycle, kind: 'drf' | 'random' | undefined, options: SorterOptions): Sorter {
  return kind === 'random' ? new RandomSorter(cy.rng, options) : new DrfSorter(options);
}

export function buildRoles(cy: Cycle): void {
  const fws = cy.s.frameworks;
  const nF = fws.length;
  const D = cy.D;
  cy.skips = new Float64Array(nF * N_REASONS);
  cy.fwSuppressed = new Array(nF);
  cy.fwClient = new Map();
  for (const r of cy.s.roles) ensureRole(cy, r.name);
  for (const role of cy.reservationsByRole.keys()) ensureRole(cy, role);

  // Memberships and allocations.
  const dims = cy.space.names.join('\u0000');
  const roleAlloc = new Map<number, Float64Array>();
  const allocs: { fw: number; role: number; vec: Float64Array; fixed: Float64Array; unreserved: Float64Array }[] = [];
  for (let f = 0; f < nF; f++) {
    const fw = fws[f];
    cy.fwSuppressed[f] = fw.suppressedRoles.length > 0 ? new Set(fw.suppressedRoles) : NO_ROLES;
    const roles = fw.roles.length > 0 ? fw.roles : [DEFAULT_ROLE];
    cy.fwRoles[f] = roles;
    const held = Object.keys(fw.allocated);
    const names =
      roles.length === 1 && (held.length === 0 || (held.length === 1 && held[0] === roles[0]))
        ? roles
        : new Set([...roles, ...held]);
    for (const name of names) {
      const x = ensureRole(cy, name);
      cy.roles[x].members.push(f);
      const held = Object.hasOwn(fw.allocated, name) ? fw.allocated[name] : undefined;
      if (held && !held.isEmpty()) {
        const { vec, fixed, unreserved } = heldVectors(cy, held, dims);
        allocs.push({ fw: f, role: x, vec, fixed, unreserved });
        let ra = roleAlloc.get(x);
        if (!ra) {
          ra = new Float64Array(D);
          roleAlloc.set(x, ra);
        }
        for (let d = 0; d < D; d++) ra[d] += vec[d];
      }
    }
  }
  buildFilterChains(cy, () => indexAgents(cy));

  // One framework sorter per role with members; the role sorter holds every such role. DRF
  // sorters kept from the last cycle are brought to this cycle's start when their clients are the
  // same (sorter-keep.ts; client indices are then the kept ones); otherwise they are built afresh
  // (and kept for the next cycle).
  const weights = snapshotWeights(cy.s);
  const roleNames: string[] = [];
  for (const role of cy.roles) if (role.members.length > 0) roleNames.push(role.name);
  const kept = cy.kept;
  const keptRoles = cy.options.roleSorter !== 'random' && kept !== null ? kept.roles : null;
  const reuseRoles = sameClients(keptRoles, roleNames);
  const roleStart = reuseRoles ? new StartState(roleNames.length) : null;
  if (reuseRoles) {
    (keptRoles.sorter as DrfSorter).rebind(cy.space);
    reweigh(keptRoles, weights);
    cy.roleSorter = keptRoles.sorter;
  } else {
    cy.roleSorter = makeSorter(cy, cy.options.roleSorter, { hierarchical: true, space: cy.space });
    for (const [path, w] of weights) cy.roleSorter.updateWeight(path, w);
  }
  const keepOut = cy.keepOut;
  if (keepOut && cy.roleSorter instanceof DrfSorter) {
    keepOut.roles = { sorter: cy.roleSorter, weights };
  }
  const keepFrameworks = cy.options.frameworkSorter !== 'random';
  const flat: SorterOptions = { hierarchical: false, space: cy.space };
  /** Roles whose framework sorter was kept → its clients as this cycle starts them. */
  const reusedFw = new Map<number, StartState>();
  for (let x = 0; x < cy.roles.length; x++) {
    const role = cy.roles[x];
    if (role.members.length === 0) continue;
    const eligible = (f: number) =>
      fws[f].active && cy.fwRoles[f].includes(role.name) && !cy.fwSuppressed[f].has(role.name);
    if (role.members.length === 1 && cy.options.frameworkSorter !== 'random') {
      // One framework: no order to keep, so no sorter (the common case: a role per framework).
      // (The random sorter keeps its own, so that its draws, and so the plan, stay as they were.)
      const f = role.members[0];
      role.fwOfClient[0] = f;
      role.single = true;
      role.active = eligible(f);
    } else {
      const ids = role.members.map((f) => fws[f].id);
      const keptFw = keepFrameworks && kept !== null ? kept.frameworks.get(role.name) : undefined;
      if (sameClients(keptFw, ids)) {
        // Kept: activity now, allocations once they are known (below), then brought to the start.
        const sorter = keptFw.sorter as DrfSorter;
        sorter.rebind(cy.space);
        role.sorter = sorter;
        const start = new StartState(ids.length);
        reusedFw.set(x, start);
        for (let k = 0; k < ids.length; k++) {
          const f = role.members[k];
          const c = sorter.indexOf(ids[k]);
          role.fwOfClient[c] = f;
          cy.fwClient.set(x * nF + f, c);
          const on = eligible(f);
          if (on) role.active = true;
          start.active[c] = on;
        }
        keepOut?.frameworks.set(role.name, keptFw);
      } else {
        const sorter = makeSorter(cy, cy.options.frameworkSorter, flat);
        role.sorter = sorter;
        for (const f of role.members) {
          const c = sorter.add(fws[f].id);
          role.fwOfClient[c] = f;
          cy.fwClient.set(x * nF + f, c);
          if (eligible(f)) role.active = true;
          else sorter.deactivate(fws[f].id);
        }
        if (keepOut && sorter instanceof DrfSorter) {
          keepOut.frameworks.set(role.name, { sorter, weights: NO_WEIGHTS });
        }
      }
    }
    const ra = roleAlloc.get(x);
    if (ra) fixedVec(ra);
    if (roleStart !== null) {
      role.client = cy.roleSorter.indexOf(role.name);
      roleStart.active[role.client] = role.active;
      if (ra) roleStart.held(role.client, ra);
    } else {
      role.client = cy.roleSorter.add(role.name);
      if (!role.active) cy.roleSorter.deactivate(role.name);
      if (ra) cy.roleSorter.allocatedAt(role.client, ra);
    }
    cy.roleOfClient[role.client] = x;
  }
  if (roleStart !== null) roleStart.applyTo(cy.roleSorter as DrfSorter);
  // Allocations in the framework sorters (a kept one is set to them, and to nothing elsewhere: it
  // may have been offered something in the last cycle).
  for (const al of allocs) {
    const role = cy.roles[al.role];
    const c = cy.fwClient.get(al.role * nF + al.fw);
    if (!role.sorter || c === undefined) continue;
    const start = reusedFw.get(al.role);
    if (start !== undefined) {
      start.held(c, al.fixed);
    } else {
      role.sorter.allocatedAt(c, al.fixed);
    }
  }
  for (const [x, start] of reusedFw) start.applyTo(cy.roles[x].sorter as DrfSorter);
  cy.allocs = allocs;
  cy.roleAlloc = roleAlloc;
}

/** A framework's allocation in one role as vectors over the cycle's dimensions (read only once made). */
interface HeldVectors {
  dims: string;
  /** The scalar sums as added up, by dimension (what the role sums add up). */
  vec: Float64Array;
  /** The same on Mesos's three-decimal grid (what the sorters are given). */
  fixed: Float64Array;
  unreserved: Float64Array;
}

/**
 * The vectors of each allocation value, kept while the value lives (Resources are values) for the
 * dimensions they were made over: a framework holding the same value as in the last cycle (every
 * DeclineOffers round, and any framework nothing happened to) is not walked again, and its
 * vectors are not made again (2,000 small typed arrays a cycle at 1,000 frameworks before). They
 * are only read once made (sums, sorters and quota copy from them).
 */
const heldVectorsOf = new WeakMap<Resources, HeldVectors>();

function heldVectors(cy: Cycle, held: Resources, dims: string): HeldVectors {
  const known = heldVectorsOf.get(held);
  if (known !== undefined && known.dims === dims) return known;
  const D = cy.D;
  const vec = new Float64Array(D);
  const unreserved = new Float64Array(D);
  // A read-only walk over the stored entries, allocating nothing.
  held.forEachEntry((r) => {
    if (r.type !== 'SCALAR') return false;
    const d = cy.space.find(r.name);
    if (d < 0) return false;
    vec[d] += r.scalar?.value ?? 0;
    if ((r.role ?? DEFAULT_ROLE) === DEFAULT_ROLE) unreserved[d] += r.scalar?.value ?? 0;
    return false;
  });
  const made = { dims, vec, fixed: fixedVec(Float64Array.from(vec)), unreserved };
  heldVectorsOf.set(held, made);
  return made;
}

const NO_WEIGHTS = new Map<string, number>();

const NO_ROLES: ReadonlySet<string> = new Set();
