/**
 * Skip reasons: why a framework was passed over on an agent, counted per framework. Filters are
 * counted as they happen; suppression, quota limits, the minimum allocatable size, headroom and
 * reservations for other roles are counted per role in stage 2 and spread over the role's
 * frameworks at the end.
 */
import type { Cycle } from './state.js';
import { type AllocationPlan, SkipReason } from './types.js';

// Skip-reason slots in the per-framework counters.
export const R_FILTERED = 0;
export const R_SUPPRESSED = 1;
export const R_QUOTA = 2;
export const R_RESERVED = 3;
export const R_MIN = 4;
export const R_HEADROOM = 5;
export const N_REASONS = 6;
const REASON_NAMES: readonly SkipReason[] = [
  SkipReason.filtered,
  SkipReason.suppressed,
  SkipReason.quotaReached,
  SkipReason.reservedForOtherRole,
  SkipReason.belowMinAllocatable,
  SkipReason.quotaHeadroom,
];

export function buildSkipped(cy: Cycle): AllocationPlan['skipped'] {
  const fws = cy.s.frameworks;
  // Reserved-only agents usable by a role: those whose top-most reservation is the role or an ancestor.
  for (const role of cy.roles) {
    let n = role.reservedOnlyTop;
    for (const y of role.ancestors) n += cy.roles[y].reservedOnlyTop;
    role.usableReservedOnly = n;
  }
  const skips = cy.skips;
  for (let f = 0; f < fws.length; f++) {
    if (!fws[f].active) continue;
    const base = f * N_REASONS;
    for (const name of cy.fwRoles[f]) {
      const x = cy.roleIndex.get(name);
      if (x === undefined) continue;
      const role = cy.roles[x];
      if (cy.fwSuppressed[f].has(name)) {
        skips[base + R_SUPPRESSED] += cy.usefulAgents + role.usableReservedOnly;
        continue;
      }
      skips[base + R_QUOTA] += role.events[0];
      skips[base + R_MIN] += role.events[1] + cy.crumbAgents;
      skips[base + R_HEADROOM] += role.events[2];
      skips[base + R_RESERVED] += cy.reservedOnlyAgents - role.usableReservedOnly;
    }
  }
  const out: AllocationPlan['skipped'] = {};
  for (let f = 0; f < fws.length; f++) {
    let rec: Partial<Record<SkipReason, number>> | undefined;
    for (let k = 0; k < N_REASONS; k++) {
      const n = skips[f * N_REASONS + k];
      if (n > 0) {
        rec ??= {};
        rec[REASON_NAMES[k]] = n;
      }
    }
    if (rec) out[fws[f].id] = rec;
  }
  return out;
}
