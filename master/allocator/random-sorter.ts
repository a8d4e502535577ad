/**
 * The random sorter, as in Mesos (`--role_sorter=random`, `--framework_sorter=random`): the order is
 * a weighted random shuffle, drawn afresh for every `sort()` or `visit()`, and allocations do not
 * change it (they are only recorded).
 *
 * Weights apply per level of the role tree: a leaf's relative weight is its weight over the sum of
 * its active siblings' weights, times its parent's relative weight (Mesos's `SortInfo`). The
 * shuffle is drawn lazily: each next client is picked with probability proportional to its
 * relative weight among those not yet picked (a Fenwick tree of weights makes each pick O(log n)),
 * so a visit that stops after the first client costs one pick, not a full shuffle.
 */
import type { Resources } from '../../sdk/resources/resources.js';
import type { Rng } from '../../sdk/util/random.js';
import {
  addInto,
  ClientSlots,
  checkWeight,
  isAtOrBelow,
  ScalarSpace,
  type Sorter,
  type SorterOptions,
  type SortVisitor,
} from './sorter.js';

interface Client {
  name: string;
  active: boolean;
  alloc: number[];
  count: number;
}

interface TreeNode {
  path: string;
  children: Map<string, TreeNode>;
  client: number;
}

export class RandomSorter implements Sorter {
  readonly kind = 'random' as const;
  readonly space: ScalarSpace;
  private readonly hierarchical: boolean;
  private readonly slots = new ClientSlots<Client>();
  private readonly clients: (Client | null)[] = this.slots.items;
  private readonly weights = new Map<string, number>();
  private visiting = false;
  // The active clients and their relative weights, rebuilt when membership or weights change.
  private dirty = true;
  private leaves: number[] = [];
  private relWeights: number[] = [];
  private fenwick = new Float64Array(1);
  private taken = new Uint8Array(0);

  constructor(
    private readonly rng: Rng,
    options: SorterOptions = {},
  ) {
    this.space = options.space ?? new ScalarSpace();
    this.hierarchical = options.hierarchical ?? false;
  }

  add(client: string): number {
    this.assertNotVisiting();
    const index = this.slots.add(client, { name: client, active: true, alloc: [], count: 0 });
    this.dirty = true;
    return index;
  }

  remove(client: string): void {
    this.assertNotVisiting();
    this.slots.remove(client);
    this.dirty = true;
  }

  contains(client: string): boolean {
    return this.slots.has(client);
  }

  count(): number {
    return this.slots.size;
  }

  indexOf(client: string): number {
    return this.slots.indexOf(client);
  }

  nameOf(index: number): string {
    return this.slots.at(index).name;
  }

  activate(client: string): void {
    this.setActive(client, true);
  }

  deactivate(client: string): void {
    this.setActive(client, false);
  }

  isActive(client: string): boolean {
    return this.get(client).active;
  }

  updateWeight(path: string, weight: number): void {
    this.assertNotVisiting();
    checkWeight(path, weight);
    this.weights.set(path, weight);
    this.dirty = true;
  }

  allocated(client: string, resources: Resources): void {
    this.allocatedAt(this.slots.indexOrThrow(client), this.space.vector(resources));
  }

  unallocated(client: string, resources: Resources): void {
    this.assertNotVisiting();
    const c = this.get(client);
    const v = this.space.vector(resources);
    addInto(
      c.alloc,
      v.map((x) => -x),
    );
  }

  allocatedAt(index: number, vector: ArrayLike<number>): void {
    this.assertNotVisiting();
    const c = this.slots.at(index);
    addInto(c.alloc, vector);
    c.count++;
  }

  allocation(client: string): Record<string, number> {
    return this.space.record(this.get(client).alloc);
  }

  /** The DRF share, for information only: the random order does not depend on it. */
  share(client: string): number {
    const c = this.get(client);
    const totals = this.space.totals;
    let s = 0;
    for (let d = 0; d < c.alloc.length && d < totals.length; d++) {
      if (totals[d] > 0) s = Math.max(s, c.alloc[d] / totals[d]);
    }
    return s / (this.weights.get(client) ?? 1);
  }

  sort(): string[] {
    const out: string[] = [];
    this.visit((i) => {
      out.push(this.nameOf(i));
    });
    return out;
  }

  visit(visitor: SortVisitor, under?: string): void {
    this.rebuildIfDirty();
    this.visiting = true;
    try {
      if (under === undefined) this.visitAll(visitor);
      else this.visitUnder(visitor, under);
    } finally {
      this.visiting = false;
    }
  }

  // ---- internals ----

  /** Weighted draws without replacement over all active clients, restored afterwards. */
  private visitAll(visitor: SortVisitor): void {
    const n = this.leaves.length;
    const fen = this.fenwick;
    const mark = this.taken;
    const taken: number[] = [];
    try {
      for (let k = 0; k < n; k++) {
        const remaining = prefix(fen, n);
        let pos = remaining > 0 ? findPrefix(fen, n, this.rng.next() * remaining) : n;
        // Rounding can land on the edge of the range; then take the first one left.
        if (pos >= n || mark[pos] === 1) {
          pos = 0;
          while (mark[pos] === 1) pos++;
        }
        mark[pos] = 1;
        taken.push(pos);
        fenAdd(fen, n, pos, -this.relWeights[pos]);
        if (visitor(this.leaves[pos]) === true) return;
      }
    } finally {
      for (const pos of taken) {
        mark[pos] = 0;
        fenAdd(fen, n, pos, this.relWeights[pos]);
      }
    }
  }

  /** Same draws over the clients at or below `under` (used for reservations; small sets). */
  private visitUnder(visitor: SortVisitor, under: string): void {
    const pool: number[] = [];
    for (let i = 0; i < this.leaves.length; i++) {
      const c = this.clients[this.leaves[i]];
      if (c && (this.hierarchical ? isAtOrBelow(c.name, under) : c.name === under)) pool.push(i);
    }
    while (pool.length > 0) {
      let total = 0;
      for (const p of pool) total += this.relWeights[p];
      let u = this.rng.next() * total;
      let k = 0;
      while (k < pool.length - 1 && u >= this.relWeights[pool[k]]) {
        u -= this.relWeights[pool[k]];
        k++;
      }
      const [pos] = pool.splice(k, 1);
      if (visitor(this.leaves[pos]) === true) return;
    }
  }

  private rebuildIfDirty(): void {
    if (!this.dirty) return;
    this.dirty = false;
    const leaves: number[] = [];
    const rw: number[] = [];
    const weightOf = (path: string) => this.weights.get(path) ?? 1;
    if (!this.hierarchical) {
      let total = 0;
      this.clients.forEach((c, i) => {
        if (c?.active) {
          leaves.push(i);
          total += weightOf(c.name);
        }
      });
      for (const i of leaves) rw.push(weightOf(this.clients[i]?.name ?? '') / total);
    } else {
      // A tree of the active clients; a client that is also a parent competes as a virtual leaf
      // of weight 1 among its own children, as in Mesos.
      const root: TreeNode = { path: '', children: new Map(), client: -1 };
      this.clients.forEach((c, i) => {
        if (!c?.active) return;
        let node = root;
        for (const t of c.name.split('/')) {
          let child = node.children.get(t);
          if (!child) {
            child = { path: node.path ? `${node.path}/${t}` : t, children: new Map(), client: -1 };
            node.children.set(t, child);
          }
          node = child;
        }
        node.client = i;
      });
      const descend = (node: TreeNode, relative: number): void => {
        const parts: [TreeNode | null, number][] = [];
        for (const c of node.children.values()) parts.push([c, weightOf(c.path)]);
        if (node !== root && node.client >= 0) parts.push([null, 1]);
        let total = 0;
        for (const [, w] of parts) total += w;
        for (const [c, w] of parts) {
          const r = (relative * w) / total;
          if (c === null) {
            leaves.push(node.client);
            rw.push(r);
          } else if (c.children.size === 0) {
            leaves.push(c.client);
            rw.push(r);
          } else {
            descend(c, r);
          }
        }
      };
      descend(root, 1);
    }
    this.leaves = leaves;
    this.relWeights = rw;
    const n = leaves.length;
    const fen = new Float64Array(n + 1);
    for (let i = 1; i <= n; i++) {
      fen[i] += rw[i - 1];
      const j = i + (i & -i);
      if (j <= n) fen[j] += fen[i];
    }
    this.fenwick = fen;
    this.taken = new Uint8Array(n);
  }

  private setActive(client: string, active: boolean): void {
    this.assertNotVisiting();
    const c = this.get(client);
    if (c.active !== active) {
      c.active = active;
      this.dirty = true;
    }
  }

  private get(client: string): Client {
    return this.slots.get(client);
  }

  private assertNotVisiting(): void {
    if (this.visiting) throw new Error('a sorter must not be changed during visit()');
  }
}

function fenAdd(fen: Float64Array, n: number, pos: number, delta: number): void {
  for (let i = pos + 1; i <= n; i += i & -i) fen[i] += delta;
}

function prefix(fen: Float64Array, n: number): number {
  let s = 0;
  for (let i = n; i > 0; i -= i & -i) s += fen[i];
  return s;
}

/** The 0-based position whose cumulative weight range contains `u`. */
function findPrefix(fen: Float64Array, n: number, u: number): number {
  let pos = 0;
  let step = 1;
  while (step * 2 <= n) step *= 2;
  for (; step > 0; step >>= 1) {
    if (pos + step <= n && fen[pos + step] <= u) {
      pos += step;
      u -= fen[pos];
    }
  }
  return pos;
}
