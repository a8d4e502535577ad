/**
 * Quota and headroom: guarantees and limits as vectors, each role's consumption as Mesos counts it
 * (reservations of the subtree plus unreserved allocations of the subtree), the headroom that
 * unsatisfied guarantees require, and the stage-1 sorter holding the roles still below their
 * guarantee.
 */
import { fixed, type Resources } from '../../sdk/resources/resources.js';
import { ensureRole, makeSorter } from './convert-frameworks.js';
import { DrfSorter } from './drf-sorter.js';
import type { Sorter } from './sorter.js';
import { reweigh, StartState, snapshotWeights } from './sorter-keep.js';
import { addVec, type Cycle, fixedVec, type RoleInfo } from './state.js';

export function buildQuota(cy: Cycle): void {
  const D = cy.D;
  for (const r of cy.s.roles) {
    const q = r.quota;
    if (!q || (!q.guarantee && !q.limit)) continue;
    const role = cy.roles[ensureRole(cy, r.name)];
    if (q.guarantee && !q.guarantee.isEmpty()) role.guarantee = fixedVec(vectorOf(cy, q.guarantee));
    if (q.limit && !q.limit.isEmpty()) {
      const lim = vectorOf(cy, q.limit, Number.POSITIVE_INFINITY);
      role.limit = lim;
    }
    if (role.guarantee || role.limit) {
      role.consumed = new Float64Array(D);
      cy.anyQuota = true;
    }
  }
  cy.requiredHeadroom = new Float64Array(D);
  if (!cy.anyQuota) return;
  // Chains and consumption: reservations of the subtree + unreserved allocations of the subtree.
  for (let x = 0; x < cy.roles.length; x++) {
    const role = cy.roles[x];
    for (let k = -1; k < role.ancestors.length; k++) {
      const y = k < 0 ? x : role.ancestors[k];
      if (cy.roles[y].limit) role.limitChain.push(y);
      if (cy.roles[y].consumed) role.quotaChain.push(y);
    }
    role.topGuarantee = role.guarantee !== null && role.ancestors.every((y) => cy.roles[y].guarantee === null);
  }
  for (const [name, vec] of cy.reservationsByRole) {
    for (const y of cy.roles[ensureRole(cy, name)].quotaChain) addVec(cy.roles[y].consumed, vec, 1);
  }
  for (const al of cy.allocs) {
    for (const y of cy.roles[al.role].quotaChain) addVec(cy.roles[y].consumed, al.unreserved, 1);
  }
  for (const role of cy.roles) {
    if (role.consumed) for (let d = 0; d < D; d++) role.consumed[d] = fixed(role.consumed[d]);
    if (role.topGuarantee) {
      role.headroomShare = new Float64Array(D);
      refreshHeadroomShare(cy, role);
    }
  }
  cy.headroomOn = cy.requiredHeadroom.some((v) => v > 0);

  // The stage-1 sorter: same tree and allocations, only roles with unsatisfied guarantees active.
  // One kept from an earlier cycle (sorter-keep.ts) is reused when it has the role sorter's
  // clients at the role sorter's indices; a new one is given them in the order of those indices.
  const withGuarantee = cy.roles.some((r) => r.guarantee && r.client >= 0 && r.active && unsatisfied(cy, r));
  const n = cy.roleSorter.count();
  let keptQuota = cy.kept !== null ? cy.kept.quota : null;
  if (keptQuota !== null && keptQuota.sorter.count() !== n) keptQuota = null;
  for (let c = 0; c < n && keptQuota !== null; c++) {
    if (keptQuota.sorter.indexOf(cy.roles[cy.roleOfClient[c]].name) !== c) keptQuota = null;
  }
  if (!withGuarantee) {
    // Nothing to serve in stage 1: a kept stage-1 sorter stays kept for a later cycle.
    if (cy.keepOut && keptQuota) cy.keepOut.quota = keptQuota;
    return;
  }
  const weights = cy.keepOut?.roles?.weights ?? snapshotWeights(cy.s);
  let qs: Sorter;
  if (keptQuota) {
    const drf = keptQuota.sorter;
    drf.rebind(cy.space);
    reweigh(keptQuota, weights);
    qs = drf;
  } else {
    qs = makeSorter(cy, cy.options.roleSorter, { hierarchical: true, space: cy.space });
    for (const [path, w] of weights) qs.updateWeight(path, w);
  }
  cy.unsatisfiedRoles = new Int32Array(D);
  const start = keptQuota ? new StartState(n) : null;
  for (let c = 0; c < n; c++) {
    const x = cy.roleOfClient[c];
    const role = cy.roles[x];
    const held = cy.roleAlloc.get(x);
    const on = role.guarantee !== null && role.active && unsatisfied(cy, role);
    if (start !== null) {
      start.active[role.client] = on;
      if (held) start.held(role.client, held);
    } else {
      if (qs.add(role.name) !== c) throw new Error('role sorters out of step');
      if (held) qs.allocatedAt(c, held);
      if (!on) qs.deactivate(role.name);
    }
    if (on) {
      role.inQuotaSorter = true;
      countUnsatisfied(cy, role, 1);
    }
  }
  if (keptQuota && start !== null) start.applyTo(keptQuota.sorter);
  if (cy.keepOut && qs instanceof DrfSorter) cy.keepOut.quota = { sorter: qs, weights };
  cy.quotaSorter = qs;
}

/** Scalar totals over every role as a vector; dimensions `r` does not name hold `absent`. */
export function vectorOf(cy: Cycle, r: Resources, absent = 0): Float64Array {
  const out = new Float64Array(cy.D).fill(absent);
  // A read-only walk over the stored entries, allocating nothing.
  r.forEachEntry((e) => {
    if (e.type !== 'SCALAR') return false;
    const d = cy.space.find(e.name);
    if (d < 0) return false;
    const had = out[d] === absent ? 0 : out[d];
    out[d] = fixed(had + (e.scalar?.value ?? 0));
    return false;
  });
  return out;
}

export function unsatisfied(cy: Cycle, role: RoleInfo): boolean {
  const g = role.guarantee;
  const c = role.consumed;
  if (!g || !c) return false;
  for (let d = 0; d < cy.D; d++) if (g[d] > c[d]) return true;
  return false;
}

export function countUnsatisfied(cy: Cycle, role: RoleInfo, delta: number): void {
  const g = role.guarantee;
  const c = role.consumed;
  if (!g || !c) return;
  for (let d = 0; d < cy.D; d++) if (g[d] > c[d]) cy.unsatisfiedRoles[d] += delta;
}

export function refreshHeadroomShare(cy: Cycle, role: RoleInfo): void {
  const g = role.guarantee;
  const c = role.consumed;
  const h = role.headroomShare;
  if (!g || !c || !h) return;
  for (let d = 0; d < cy.D; d++) {
    const need = g[d] > c[d] ? fixed(g[d] - c[d]) : 0;
    if (need !== h[d]) {
      cy.requiredHeadroom[d] = fixed(cy.requiredHeadroom[d] + need - h[d]);
      h[d] = need;
    }
  }
}

export function roomIn(cy: Cycle, y: number, d: number): number {
  const r = cy.roles[y];
  const limit = r.limit ? r.limit[d] : Number.POSITIVE_INFINITY;
  return limit === Number.POSITIVE_INFINITY ? limit : limit - (r.consumed ? r.consumed[d] : 0);
}
