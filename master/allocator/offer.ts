/**
 * Making one offer: what a role may take on the current agent (reservations it may use, the
 * minimum allocatable check), the first framework of the role that is not filtered, and the
 * bookkeeping of the offer (free resources, sorters, quota consumption, headroom).
 */
import { fixed } from '../../sdk/resources/resources.js';
import { isFiltered } from './filters.js';
import { countUnsatisfied, refreshHeadroomShare, unsatisfied } from './quota.js';
import { N_REASONS, R_FILTERED } from './skips.js';
import { isAtOrBelow } from './sorter.js';
import { addVec, type Cycle, growOffers, NO_PARTS } from './state.js';

/** Sums the still-free reservations on agent `a` usable by `roleName` into sR / sParts. */
export function collectReserved(cy: Cycle, a: number, roleName: string): number {
  const sR = cy.sR;
  for (let d = 0; d < sR.length; d++) sR[d] = 0;
  // Setting the length is a runtime call even on an empty array (once per role visit): only when needed.
  if (cy.sParts.length > 0) cy.sParts.length = 0;
  const parts = cy.reserved[a];
  if (!parts) return 0;
  for (const p of parts) {
    if (!p.left || !isAtOrBelow(roleName, p.role)) continue;
    cy.sParts.push(p);
    for (let d = 0; d < cy.D; d++) sR[d] += p.vec[d];
  }
  return cy.sParts.length;
}

export function anyFreeUnreserved(cy: Cycle, a: number): boolean {
  const base = a * cy.D;
  for (let d = 0; d < cy.D; d++) if (cy.freeU[base + d] > 0) return true;
  return false;
}

/** Whether sU + sR holds at least one of the minimum allocatable alternatives. */
export function allocatable(cy: Cycle): boolean {
  const sU = cy.sU;
  const sR = cy.sR;
  let any = false;
  for (let d = 0; d < cy.D; d++) {
    if (sU[d] > 0 || sR[d] > 0) {
      any = true;
      break;
    }
  }
  if (!any) return cy.sParts.length > 0 && cy.sParts.some((p) => p.nonScalars.length > 0) && cy.minAlts.length === 0;
  if (cy.minAlts.length === 0) return true;
  for (const alt of cy.minAlts) {
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
export function allocatableRow(cy: Cycle, a: number, extra: Float64Array): boolean {
  const base = a * cy.D;
  if (cy.minAlts.length === 0) return anyFreeUnreserved(cy, a) || extra.some((v) => v > 0);
  for (const alt of cy.minAlts) {
    let ok = true;
    for (let i = 0; i < alt.dims.length; i++) {
      const d = alt.dims[i];
      if (fixed(cy.freeU[base + d] + extra[d]) < alt.vals[i]) {
        ok = false;
        break;
      }
    }
    if (ok) return true;
  }
  return false;
}

/** Gives the offer in scratch to the first framework of role `x` (DRF order) that is not filtered. */
export function offerToFirstFramework(cy: Cycle, x: number): void {
  const role = cy.roles[x];
  if (!role.sorter && !(role.single && role.active)) return;
  cy.currentRole = x;
  cy.taker = -1;
  cy.sNs = cy.nsTotal[cy.agent] !== null && cy.nsUnreservedGiven[cy.agent] === 0;
  if (role.sorter) {
    cy.fwVisitor ??= (client) => visitFramework(cy, client);
    role.sorter.visit(cy.fwVisitor);
  } else {
    visitFramework(cy, 0);
  }
  if (cy.taker >= 0) give(cy, x, cy.taker, cy.takerClient);
}

export function visitFramework(cy: Cycle, client: number): boolean {
  const role = cy.roles[cy.currentRole];
  const f = role.fwOfClient[client];
  if (cy.filterHead.length > 0 && cy.filterHead[cy.agent] >= 0 && isFiltered(cy, f, role.name)) {
    if (cy.stage === 2) cy.skips[f * N_REASONS + R_FILTERED]++;
    return false;
  }
  cy.taker = f;
  cy.takerClient = client;
  return true;
}

export function give(cy: Cycle, x: number, f: number, client: number): void {
  const role = cy.roles[x];
  const a = cy.agent;
  const D = cy.D;
  const base = a * D;
  const sU = cy.sU;
  const sR = cy.sR;
  const sV = cy.sV;
  const freeU = cy.freeU;
  for (let d = 0; d < D; d++) {
    const u = sU[d];
    if (u > 0) freeU[base + d] = fixed(freeU[base + d] - u);
    sV[d] = sR[d] > 0 ? fixed(u + sR[d]) : u;
  }
  const parts = cy.sParts.length > 0 ? cy.sParts.slice() : NO_PARTS;
  for (const p of parts) p.left = false;
  const ns = cy.sNs;
  if (ns) cy.nsUnreservedGiven[a] = 1;

  // Merge with a stage-1 offer to the same framework, agent and role (Mesos adds them up).
  let merged = false;
  const key = a * cy.roles.length + x;
  if (cy.stage === 2 && cy.stage1Offers.size > 0) {
    for (const i of cy.stage1Offers.get(key) ?? []) {
      if (cy.offerFw[i] !== f) continue;
      const at = i * D;
      for (let d = 0; d < D; d++) cy.offerU[at + d] = fixed(cy.offerU[at + d] + sU[d]);
      cy.offerParts[i] = cy.offerParts[i].concat(parts);
      if (ns) cy.offerNs[i] = 1;
      merged = true;
      break;
    }
  }
  if (!merged) {
    growOffers(cy);
    const i = cy.offerCount;
    cy.offerU.set(sU, i * D);
    cy.offerFw[i] = f;
    cy.offerAgent[i] = a;
    cy.offerRole[i] = x;
    cy.offerNs[i] = ns ? 1 : 0;
    cy.offerParts[i] = parts;
    cy.offerCount = i + 1;
    if (cy.stage === 1) {
      const list = cy.stage1Offers.get(key);
      if (list) list.push(i);
      else cy.stage1Offers.set(key, [i]);
    }
  }

  // Fairness: the framework at once, the role after this agent's visit (see applyPending).
  role.sorter?.allocatedAt(client, sV);
  // Quota consumption and headroom move with the unreserved part only (reservations already count).
  let satisfied = false;
  if (cy.anyQuota) {
    for (let d = 0; d < D; d++) {
      if (sU[d] > 0) cy.availableHeadroom[d] = fixed(cy.availableHeadroom[d] - sU[d]);
    }
    if (role.quotaChain.length > 0) {
      const wasCounted = role.inQuotaSorter;
      if (wasCounted) countUnsatisfied(cy, role, -1);
      for (const y of role.quotaChain) {
        const ry = cy.roles[y];
        addVec(ry.consumed, sU, 1);
        if (ry.topGuarantee) refreshHeadroomShare(cy, ry);
      }
      cy.headroomOn = cy.requiredHeadroom.some((v) => v > 0);
      if (wasCounted) {
        satisfied = !unsatisfied(cy, role);
        if (!satisfied) countUnsatisfied(cy, role, 1);
      }
    }
  }
  const n = cy.pendingCount;
  if ((n + 1) * D > cy.pendingV.length) {
    const bigger = new Float64Array(Math.max(4 * D, 2 * cy.pendingV.length));
    bigger.set(cy.pendingV);
    cy.pendingV = bigger;
  }
  cy.pendingV.set(sV, n * D);
  cy.pendingRoles[n] = x;
  cy.pendingSatisfied[n] = satisfied;
  cy.pendingCount = n + 1;
}

/** Role-level sorter updates, held back while a role visit is under way (Mesos sorts once per agent). */
export function applyPending(cy: Cycle): void {
  const D = cy.D;
  for (let i = 0; i < cy.pendingCount; i++) {
    const role = cy.roles[cy.pendingRoles[i]];
    const vec = cy.sV;
    for (let d = 0; d < D; d++) vec[d] = cy.pendingV[i * D + d];
    cy.roleSorter.allocatedAt(role.client, vec);
    if (cy.quotaSorter) {
      cy.quotaSorter.allocatedAt(role.client, vec);
      if (cy.pendingSatisfied[i] && role.inQuotaSorter) {
        role.inQuotaSorter = false;
        cy.quotaSorter.deactivate(role.name);
      }
    }
  }
  // A count, not `length = 0`: emptying an array drops its store, and the next agent's offer made a new one.
  cy.pendingCount = 0;
}
