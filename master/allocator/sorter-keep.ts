/**
 * Sorters kept between cycles. Building the DRF sorters afresh every cycle (a node per role and per
 * framework, each put in order one at a time, then moved again when its allocation is recorded)
 * costs milliseconds at thousands of roles; most of it is the same work as in the cycle before.
 * So an allocator made by `createAllocate` keeps the DRF sorters of its last cycle, and the next
 * cycle, when it has the same clients (in any order) and the same scalar dimensions, brings them
 * to its start instead of building new ones: each client is set to the allocation, allocation count,
 * activity and weight a fresh build would give it, and only those that differ move.
 *
 * DRF's order is a function of each client's (share, count, name) and activity alone, and
 * `setAllocationAt` sets those exactly (three-decimal fixed point), so a kept sorter serves in the
 * same order as a rebuilt one and the plan is the same (test/master/allocator/sorter-keep.test.ts).
 * The kept sorters are handed from one call to the next only after a call completes; a call that
 * throws leaves nothing kept. Random sorters are never kept (their draws come from the cycle's rng).
 */
import type { DrfSorter } from './drf-sorter.js';
import { isValidWeight } from './sorter.js';
import type { AllocatorSnapshot } from './types.js';

/** A role's or framework sorter as a cycle left it, with what a reuse must match. */
export interface KeptSorter {
  sorter: DrfSorter;
  /** The weights set on it (paths with a weight other than 1). */
  weights: Map<string, number>;
}

/** What one cycle leaves for the next. */
export interface KeptSorters {
  /** The cycle's scalar dimension names, joined: a kept sorter's vectors mean the same only with these. */
  dims: string;
  roles: KeptSorter | null;
  /** The stage-1 sorter, over the same clients as `roles`, at the same indices (null when the last cycles had none). */
  quota: KeptSorter | null;
  /** Framework sorters by role name (roles with more than one framework). */
  frameworks: Map<string, KeptSorter>;
}

export function emptyKept(dims: string): KeptSorters {
  return { dims, roles: null, quota: null, frameworks: new Map() };
}

/** The weights the snapshot sets (valid and other than 1), as the sorters are given them. */
export function snapshotWeights(s: AllocatorSnapshot): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of s.roles) if (isValidWeight(r.weight) && r.weight !== 1) out.set(r.name, r.weight);
  return out;
}

/**
 * Whether a kept sorter has exactly these clients (distinct names), in whatever order it was given
 * them: DRF's order does not depend on the client indices, only on names, shares and counts.
 */
export function sameClients(kept: KeptSorter | null | undefined, clients: readonly string[]): kept is KeptSorter {
  if (!kept || kept.sorter.count() !== clients.length) return false;
  for (const name of clients) if (!kept.sorter.contains(name)) return false;
  return true;
}

/** Brings a kept sorter's weights to `weights` (a path no longer weighted goes back to 1). */
export function reweigh(kept: KeptSorter, weights: Map<string, number>): void {
  for (const [path, w] of weights) if (kept.weights.get(path) !== w) kept.sorter.updateWeight(path, w);
  for (const path of kept.weights.keys()) if (!weights.has(path)) kept.sorter.updateWeight(path, 1);
  kept.weights = weights;
}

/** A kept sorter's clients as this cycle starts them, by client index (what `DrfSorter.reset` takes). */
export class StartState {
  readonly active: boolean[];
  readonly vectors: (ArrayLike<number> | null)[];
  readonly counts: number[];

  constructor(n: number) {
    this.active = new Array<boolean>(n).fill(false);
    this.vectors = new Array<ArrayLike<number> | null>(n).fill(null);
    this.counts = new Array<number>(n).fill(0);
  }

  /** The client holds `vector` at the start (one allocation, as a fresh build records it). */
  held(c: number, vector: ArrayLike<number>): void {
    this.vectors[c] = vector;
    this.counts[c] = 1;
  }

  applyTo(sorter: DrfSorter): void {
    sorter.reset(this.active, this.vectors, this.counts);
  }
}
