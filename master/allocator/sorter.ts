/**
 * The fairness interface of the allocator, in the shape of Mesos's `Sorter`: clients (roles, or the
 * frameworks of one role) are added, removed, activated and deactivated; allocations made to them
 * are recorded; `sort()` gives the order in which to serve the active ones.
 *
 * Two kinds of methods live side by side:
 * - by name, with `Resources`: the convenient face (tests, tools, the master's endpoints);
 * - by client index, with plain number vectors over a `ScalarSpace`: the allocator's hot path,
 *   which must not build `Resources` or look names up for every agent it visits.
 *
 * Client names may be hierarchical (`eng/backend`) when the sorter is made with
 * `hierarchical: true` (the role sorter); then a parent's allocation includes its children's and
 * each level is ordered on its own, as in Mesos. Framework sorters are flat.
 */
import type { Resources } from '../../sdk/resources/resources.js';

/**
 * Scalar resource names mapped to dense indices, plus the pool totals that shares are fractions
 * of. Several sorters can share one space (the allocator makes one per cycle), so that an
 * allocation vector means the same thing to all of them and the totals are held once.
 */
export class ScalarSpace {
  readonly names: string[] = [];
  /** Pool totals by dimension; shares are `allocated[d] / totals[d]` over dimensions with a total > 0. */
  readonly totals: number[] = [];
  /** Bumped whenever the totals change, so sorters sharing the space know their shares are stale. */
  version = 0;
  private readonly index = new Map<string, number>();

  constructor(names: readonly string[] = []) {
    for (const n of names) this.dim(n);
  }

  get size(): number {
    return this.names.length;
  }

  /** The index of a resource name, adding a dimension (with total 0) when it is new. */
  dim(name: string): number {
    let i = this.index.get(name);
    if (i === undefined) {
      i = this.names.length;
      this.index.set(name, i);
      this.names.push(name);
      this.totals.push(0);
      this.version++;
    }
    return i;
  }

  /** The index of a resource name, or -1. */
  find(name: string): number {
    return this.index.get(name) ?? -1;
  }

  /** Scalar quantities of `resources` (all roles together) as a vector over this space. */
  vector(resources: Resources): number[] {
    const out: number[] = [];
    for (const [name, value] of Object.entries(resources.scalarTotals())) {
      const d = this.dim(name);
      while (out.length <= d) out.push(0);
      out[d] = value;
    }
    while (out.length < this.names.length) out.push(0);
    return out;
  }

  /** A vector back to `{name: value}`, leaving out zeros. */
  record(vector: ArrayLike<number>): Record<string, number> {
    const out: Record<string, number> = {};
    for (let d = 0; d < vector.length && d < this.names.length; d++) {
      if (vector[d] !== 0) out[this.names[d]] = fixed3(vector[d]);
    }
    return out;
  }

  addTotal(resources: Resources): void {
    this.addTotalVector(this.vector(resources), 1);
  }

  removeTotal(resources: Resources): void {
    this.addTotalVector(this.vector(resources), -1);
  }

  /** totals += sign × vector. */
  addTotalVector(vector: ArrayLike<number>, sign = 1): void {
    for (let d = 0; d < vector.length; d++) {
      if (vector[d] !== 0) this.totals[d] = fixed3(this.totals[d] + sign * vector[d]);
    }
    this.version++;
  }
}

/** Mesos's three-decimal fixed point, for sums of allocation vectors. */
export function fixed3(v: number): number {
  return Math.round(v * 1000) / 1000;
}

/** Called with each active client in order; return `true` to stop (anything else goes on). */
export type SortVisitor = (client: number) => unknown;

export interface SorterOptions {
  /** Split client names on `/` into a tree (roles). Default false (framework ids are opaque). */
  hierarchical?: boolean;
  /** The dimensions and pool totals; a fresh space when left out. */
  space?: ScalarSpace;
}

export interface Sorter {
  readonly kind: 'drf' | 'random';
  readonly space: ScalarSpace;

  /** Adds an active client with no allocation; returns its index (stable until it is removed). */
  add(client: string): number;
  /** Removes a client and its allocation. */
  remove(client: string): void;
  contains(client: string): boolean;
  /** Number of clients, active or not. */
  count(): number;
  /** The index `add` returned, or -1. */
  indexOf(client: string): number;
  /** The name behind an index. */
  nameOf(index: number): string;

  /** Active clients are served; inactive ones keep their allocation (it still counts for parents). */
  activate(client: string): void;
  deactivate(client: string): void;
  isActive(client: string): boolean;

  /** Weight of a path (a role, or an ancestor of one); > 0, default 1. Shares are divided by it. */
  updateWeight(path: string, weight: number): void;

  allocated(client: string, resources: Resources): void;
  unallocated(client: string, resources: Resources): void;
  /** Hot-path form of `allocated`: `vector` is indexed by `space` dimensions. */
  allocatedAt(index: number, vector: ArrayLike<number>): void;
  /** What the client holds, scalar quantities by name. */
  allocation(client: string): Record<string, number>;
  /** max over dimensions of allocated/total, divided by the client's weight. */
  share(client: string): number;

  /** Active clients in the order to serve them. */
  sort(): string[];
  /**
   * Visits active clients in order, stopping when the visitor returns true; cheaper than `sort()`
   * when the first few are enough. With `under`, only clients at or below that path. The sorter
   * must not be changed while a visit is under way.
   */
  visit(visitor: SortVisitor, under?: string): void;
}

/** Whether `path` is `ancestor` or lies below it (`eng/backend` is below `eng`). */
export function isAtOrBelow(path: string, ancestor: string): boolean {
  return (
    path === ancestor || (path.length > ancestor.length && path.startsWith(ancestor) && path[ancestor.length] === '/')
  );
}

/**
 * Named clients kept at small, stable indices (freed indices are reused), so the allocator can
 * address them by number in its inner loop. Shared by every Sorter implementation.
 */
export class ClientSlots<T> {
  /** Entries by index; null where a client was removed. */
  readonly items: (T | null)[] = [];
  private readonly byName = new Map<string, number>();
  private readonly free: number[] = [];

  has(name: string): boolean {
    return this.byName.has(name);
  }

  get size(): number {
    return this.byName.size;
  }

  /** The client's index, or -1. */
  indexOf(name: string): number {
    return this.byName.get(name) ?? -1;
  }

  /** The index that the next `add` will use. */
  nextIndex(): number {
    return this.free.length > 0 ? this.free[this.free.length - 1] : this.items.length;
  }

  add(name: string, item: T): number {
    if (this.byName.has(name)) throw new Error(`sorter already has client '${name}'`);
    const index = this.free.pop() ?? this.items.length;
    if (index === this.items.length) this.items.push(item);
    else this.items[index] = item;
    this.byName.set(name, index);
    return index;
  }

  /** Removes the client and returns the index it had. */
  remove(name: string): number {
    const index = this.indexOrThrow(name);
    this.items[index] = null;
    this.free.push(index);
    this.byName.delete(name);
    return index;
  }

  indexOrThrow(name: string): number {
    const i = this.byName.get(name);
    if (i === undefined) throw new Error(`sorter has no client '${name}'`);
    return i;
  }

  get(name: string): T {
    return this.at(this.indexOrThrow(name));
  }

  /** The client at `index`, if any. */
  find(name: string): T | undefined {
    const i = this.byName.get(name);
    return i === undefined ? undefined : (this.items[i] ?? undefined);
  }

  at(index: number): T {
    const item = this.items[index];
    if (!item) throw new Error(`sorter has no client at index ${index}`);
    return item;
  }
}

/** A role's weight is a finite number above 0. */
export function isValidWeight(weight: number | undefined): weight is number {
  return typeof weight === 'number' && Number.isFinite(weight) && weight > 0;
}

/** Throws unless the weight is valid (the sorters' check; the allocator treats an invalid weight as 1). */
export function checkWeight(path: string, weight: number): void {
  if (!isValidWeight(weight)) throw new Error(`weight of '${path}' must be > 0, got ${weight}`);
}

/** target += v, widening target as needed, in Mesos's three-decimal fixed point. */
export function addInto(target: number[], v: ArrayLike<number>): void {
  while (target.length < v.length) target.push(0);
  for (let d = 0; d < v.length; d++) {
    const x = v[d];
    if (x !== 0) target[d] = fixed3(target[d] + x);
  }
}
