/**
 * Stage 1, agents in a shuffled order: roles with unsatisfied guarantees, in DRF order, get what
 * helps their guarantee, plus what they may burst to within their limits and the headroom.
 */
import { fixed } from '../../sdk/resources/resources.js';
import { shuffled } from '../../sdk/util/random.js';
import { allocatable, anyFreeUnreserved, applyPending, collectReserved, offerToFirstFramework } from './offer.js';
import { roomIn } from './quota.js';
import { type Cycle, indices } from './state.js';

export function stage1(cy: Cycle): void {
  const qs = cy.quotaSorter;
  if (!qs) return;
  const order = shuffled(indices(cy.nA), cy.rng);
  const visit = (client: number) => visitStage1(cy, client);
  const D = cy.D;
  cy.stage = 1;
  for (const a of order) {
    if (cy.agentActive[a] === 0) continue;
    // Worth a visit only if some free unreserved dimension is one a role still needs.
    const base = a * D;
    let helps = false;
    for (let d = 0; d < D; d++) {
      if (cy.freeU[base + d] > 0 && cy.unsatisfiedRoles[d] > 0) {
        helps = true;
        break;
      }
    }
    if (!helps) continue;
    cy.agent = a;
    qs.visit(visit);
    applyPending(cy);
  }
}

export function visitStage1(cy: Cycle, client: number): boolean {
  const x = cy.roleOfClient[client];
  const role = cy.roles[x];
  const a = cy.agent;
  const D = cy.D;
  const base = a * D;
  const g = role.guarantee;
  const c = role.consumed;
  if (!g || !c) return false;
  // Guaranteed part: what the role still lacks, as far as the agent has it.
  const sU = cy.sU;
  let helps = false;
  for (let d = 0; d < D; d++) {
    const lack = g[d] > c[d] ? fixed(g[d] - c[d]) : 0;
    const free = cy.freeU[base + d];
    let give = Math.min(free, lack);
    // A guarantee above a limit (Mesos refuses to set one; a snapshot might hold one) stops at the limit.
    for (const y of role.limitChain) {
      const room = roomIn(cy, y, d);
      if (give > room) give = room > 0 ? fixed(room) : 0;
    }
    sU[d] = give;
    if (give > 0) helps = true;
  }
  if (!helps) return !anyFreeUnreserved(cy, a);
  collectReserved(cy, a, role.name);
  // Beyond the guarantee: within the limits and without eating into others' headroom.
  for (let d = 0; d < D; d++) {
    let extra = fixed(cy.freeU[base + d] - sU[d]);
    if (extra <= 0) continue;
    for (const y of role.limitChain) {
      const room = roomIn(cy, y, d) - sU[d];
      if (extra > room) extra = room > 0 ? fixed(room) : 0;
    }
    if (cy.headroomOn) {
      const surplus = cy.availableHeadroom[d] - cy.requiredHeadroom[d];
      if (extra > surplus) extra = surplus > 0 ? fixed(surplus) : 0;
    }
    sU[d] = fixed(sU[d] + extra);
  }
  if (!allocatable(cy)) return false;
  offerToFirstFramework(cy, x);
  return !anyFreeUnreserved(cy, a);
}
