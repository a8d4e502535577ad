/**
 * One allocation cycle: `allocate(snapshot, rng) → plan`, Mesos 1.11's hierarchical allocator as a
 * pure function. No I/O, no clock (filter expiry is judged against `snapshot.now`), no mutation of
 * the snapshot; the rng drives the agent shuffles (and the random sorters, when chosen).
 *
 * The cycle, in brief (docs/allocator.md has the long form), one room each:
 * 1. Convert once (convert-agents.ts, convert-frameworks.ts): each agent's free resources become
 *    number vectors; allocations, quotas and the minimum allocatable alternatives become vectors
 *    over the same dimensions; the sorters are built: one DRF sorter over roles (hierarchical),
 *    one per role over its frameworks.
 * 2. Quota and headroom (quota.ts): consumption, required headroom, and a second role sorter
 *    holding only the roles with unsatisfied quota guarantees.
 * 3. Stage 1 (quota-stage.ts): roles below their guarantee are served first.
 * 4. Stage 2 (fair-share-stage.ts): every role in DRF order, frameworks in DRF order within it.
 * Every offer (offer.ts) updates the sorters at once, so the next agent goes to the now-poorest.
 * Refusal filters are checked against the offer in scratch (filters.ts); port ranges and sets are
 * subtracted once per distinct layout (nonscalars.ts). Result `Resources` are built only for the
 * offers made (offer-resources.ts); skip reasons are counted along the way (skips.ts). The
 * per-cycle state lives in state.ts.
 */
import type { Rng } from '../../sdk/util/random.js';
import { convertAgents, keepMemos } from './convert-agents.js';
import { buildRoles } from './convert-frameworks.js';
import { stage2 } from './fair-share-stage.js';
import { buildOffers } from './offer-resources.js';
import { buildQuota } from './quota.js';
import { stage1 } from './quota-stage.js';
import { buildSkipped } from './skips.js';
import { emptyKept, type KeptSorters } from './sorter-keep.js';
import { type AllocatorOptions, Cycle, releaseOffers } from './state.js';
import type { AllocateFn, AllocationPlan, AllocatorSnapshot } from './types.js';

export type { AllocatorOptions } from './state.js';

/** An `AllocateFn` with the given sorters. */
export function createAllocate(options: AllocatorOptions = {}): AllocateFn {
  if (options.keepSorters === false) return (snapshot, rng) => runCycle(snapshot, rng, options, null).plan;
  // The DRF sorters of the last call (sorter-keep.ts): taken out for a call, put back when it completes.
  let kept: KeptSorters | null = null;
  return (snapshot, rng) => {
    const from = kept;
    kept = null;
    const { plan, keep } = runCycle(snapshot, rng, options, from ?? emptyKept(''));
    kept = keep;
    return plan;
  };
}

/** The default allocator: DRF over roles and over the frameworks of each role. */
export const allocate: AllocateFn = createAllocate();

function runCycle(
  snapshot: AllocatorSnapshot,
  rng: Rng,
  options: AllocatorOptions,
  kept: KeptSorters | null,
): { plan: AllocationPlan; keep: KeptSorters | null } {
  const cy = new Cycle(snapshot, rng, options);
  convertAgents(cy);
  if (kept !== null) {
    // Kept sorters' vectors mean the same only over the same scalar dimensions.
    const dims = cy.space.names.join('\n');
    cy.kept = kept.dims === dims ? kept : null;
    cy.keepOut = emptyKept(dims);
  }
  buildRoles(cy);
  buildQuota(cy);
  if (cy.quotaSorter) stage1(cy);
  cy.quotaSorter = null;
  stage2(cy);
  const offers = buildOffers(cy);
  releaseOffers(cy);
  keepMemos(cy);
  return { plan: { offers, skipped: buildSkipped(cy) }, keep: cy.keepOut };
}
