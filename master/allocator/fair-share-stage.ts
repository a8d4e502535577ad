/**
 * Stage 2, agents reshuffled: roles in DRF order, frameworks in DRF order within the role; the
 * first framework not filtered takes everything the role may have on the agent (its reservations
 * and those of its ancestors, the unreserved resources cut to its quota limits and to the headroom
 * other roles' guarantees need). Reservations left over after the unreserved resources are gone go
 * to the roles that may use them.
 */
import { fixed } from '../../sdk/resources/resources.js';
import { shuffled } from '../../sdk/util/random.js';
import { ensureRole } from './convert-frameworks.js';
import {
  allocatable,
  allocatableRow,
  anyFreeUnreserved,
  applyPending,
  collectReserved,
  offerToFirstFramework,
} from './offer.js';
import { roomIn } from './quota.js';
import { isAtOrBelow } from './sorter.js';
import { type Cycle, indices } from './state.js';

export function stage2(cy: Cycle): void {
  const order = shuffled(indices(cy.nA), cy.rng);
  const visit = (client: number) => visitStage2(cy, client);
  const zero = cy.zero;
  cy.stage = 2;
  markReservationUsers(cy);
  const capped: number[] = [];
  for (const a of order) {
    if (cy.agentActive[a] === 0) continue;
    const parts = cy.reserved[a];
    const hasReserved = parts?.some((p) => p.left);
    const hasUnreserved = anyFreeUnreserved(cy, a);
    if (!hasUnreserved && !hasReserved) continue;
    cy.agent = a;
    cy.stamp++;
    if (hasUnreserved && allocatableRow(cy, a, zero)) {
      cy.usefulAgents++;
      cy.phaseA = true;
      cy.roleSorter.visit(visit);
      applyPending(cy);
      retireCapped(cy, capped);
    } else if (!hasReserved) {
      // Crumbs: something is free, but less than any offer may hold.
      cy.crumbAgents++;
      continue;
    } else {
      countReservedOnly(cy, a);
    }
    // Reservations still free go to the roles that may use them (the role and its subroles).
    if (parts?.some((p) => p.left)) {
      cy.phaseA = false;
      for (const p of parts) {
        if (!p.left || parts.some((q) => q !== p && q.left && q.role !== p.role && isAtOrBelow(p.role, q.role))) {
          continue;
        }
        cy.roleSorter.visit(visit, p.role);
        applyPending(cy);
      }
    }
  }
  // A retired role would have counted quota_reached on every later agent worth offering.
  for (const x of capped) {
    const role = cy.roles[x];
    role.events[0] += cy.usefulAgents - role.cappedSince;
  }
}

/** Roles that may use some reservation (their own or an ancestor's) are never retired. */
function markReservationUsers(cy: Cycle): void {
  if (cy.reservationsByRole.size === 0) return;
  for (const role of cy.roles) {
    for (const r of cy.reservationsByRole.keys()) {
      if (isAtOrBelow(role.name, r)) {
        role.usesReservations = true;
        break;
      }
    }
  }
}

/**
 * Whether the role's quota limits (its own and its ancestors') leave it less than any minimum
 * allocatable alternative of unreserved resources. Consumption only grows within a cycle, so a
 * capped role stays capped.
 */
function isCapped(cy: Cycle, x: number): boolean {
  const role = cy.roles[x];
  if (role.limitChain.length === 0 || role.usesReservations) return false;
  const room = (d: number) => {
    let r = Number.POSITIVE_INFINITY;
    for (const y of role.limitChain) r = Math.min(r, roomIn(cy, y, d));
    return r;
  };
  if (cy.minAlts.length === 0) {
    for (let d = 0; d < cy.D; d++) if (room(d) > 0) return false;
    return true;
  }
  for (const alt of cy.minAlts) {
    let fits = true;
    for (let i = 0; i < alt.dims.length; i++) {
      if (room(alt.dims[i]) < alt.vals[i]) {
        fits = false;
        break;
      }
    }
    if (fits) return false;
  }
  return true;
}

/** Roles found capped during the last visit leave the role sorter: no later agent visits them. */
function retireCapped(cy: Cycle, capped: number[]): void {
  for (const x of cy.cappedPending) {
    const role = cy.roles[x];
    role.cappedSince = cy.usefulAgents;
    cy.roleSorter.deactivate(role.name);
    capped.push(x);
  }
  // Setting the length is a runtime call even on an empty array (once per agent): only when needed.
  if (cy.cappedPending.length > 0) cy.cappedPending.length = 0;
}

export function visitStage2(cy: Cycle, client: number): boolean {
  const x = cy.roleOfClient[client];
  const role = cy.roles[x];
  if (role.stamp === cy.stamp) return false;
  role.stamp = cy.stamp;
  if (cy.phaseA && isCapped(cy, x)) {
    // The agent is worth offering (phase A), so this is the quota_reached the full visit would count.
    role.events[0]++;
    cy.cappedPending.push(x);
    return false;
  }
  const a = cy.agent;
  const D = cy.D;
  const base = a * D;
  const nParts = collectReserved(cy, a, role.name);
  if (!cy.phaseA && nParts === 0) return false;
  const sU = cy.sU;
  let limited = false;
  let held = false;
  for (let d = 0; d < D; d++) {
    let v = cy.freeU[base + d];
    if (v > 0) {
      for (const y of role.limitChain) {
        const room = roomIn(cy, y, d);
        if (v > room) {
          v = room > 0 ? fixed(room) : 0;
          limited = true;
        }
      }
      if (v > 0 && cy.headroomOn) {
        const surplus = cy.availableHeadroom[d] - cy.requiredHeadroom[d];
        if (v > surplus) {
          v = surplus > 0 ? fixed(surplus) : 0;
          held = true;
        }
      }
    }
    sU[d] = v;
  }
  if (!allocatable(cy)) {
    let reason = 1; // below minimum
    if (allocatableRow(cy, a, cy.sR)) reason = limited ? 0 : held ? 2 : 1;
    role.events[reason]++;
  } else {
    offerToFirstFramework(cy, x);
  }
  if (!cy.phaseA) return false;
  return !allocatableRow(cy, a, cy.zero);
}

/** An agent with nothing unreserved worth offering but with reservations: who could use them. */
export function countReservedOnly(cy: Cycle, a: number): void {
  cy.reservedOnlyAgents++;
  const parts = cy.reserved[a];
  if (!parts) return;
  for (const p of parts) {
    if (!p.left) continue;
    if (parts.some((q) => q !== p && q.left && q.role !== p.role && isAtOrBelow(p.role, q.role))) continue;
    cy.roles[ensureRole(cy, p.role)].reservedOnlyTop++;
  }
}
