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
}

export function visitStage2(cy: Cycle, client: number): boolean {
  const x = cy.roleOfClient[client];
  const role = cy.roles[x];
  if (role.stamp === cy.stamp) return false;
  role.stamp = cy.stamp;
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
