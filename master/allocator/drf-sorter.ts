/**
 * Dominant Resource Fairness (Ghodsi et al., NSDI 2011), as Mesos's DRF sorter applies it.
 *
 * A client's dominant share is the largest fraction it holds of any scalar resource of the pool,
 * divided by its weight. Clients are served lowest share first; ties go to the client with fewer
 * allocations, then to the smaller name.
 *
 * The order is kept incrementally: each tree node keeps its active children in a sorted list of
 * small blocks (`OrderedList`), and an allocation moves only the nodes whose share changed (the
 * client and its ancestors): a removal and an insertion, each a binary search plus a shift inside
 * one block of at most 64. Nothing is re-sorted per agent; a full re-sort happens only when the
 * pool totals change (then every share changes at once).
 *
 * Hierarchical names (`eng/backend`) form a tree: a node's allocation is the sum of its subtree,
 * each level is ordered by the subtree shares, and the weight of a path applies at its own level.
 * A client that is also a parent (`eng` beside `eng/backend`) is represented by a virtual leaf
 * under its own node, with weight 1, as in Mesos.
 */
import type { Resources } from '../../sdk/resources/resources.js';
import {
  addInto,
  ClientSlots,
  checkWeight,
  ScalarSpace,
  type Sorter,
  type SorterOptions,
  type SortVisitor,
} from './sorter.js';

interface Node {
  /** Tie-break key: the path (a virtual leaf: path + '/.'). */
  key: string;
  /**
   * The key's place among the keys of the sorter's nodes (equal keys, equal places), or -1 until
   * the sorter ranks its nodes (`rankKeys`): ties are then broken by comparing two numbers, not two
   * strings, with the same outcome.
   */
  rank: number;
  /** The path, or the client name for leaves. */
  path: string;
  /** The key under which the parent holds this node ('.' for a virtual leaf). */
  seg: string;
  parent: Node | null;
  /** Internal nodes: children by path segment ('.' for the virtual leaf). Leaves: null. */
  children: Map<string, Node> | null;
  /** Internal nodes: the children that have an active leaf below them, in serving order. */
  ordered: OrderedList;
  /** Leaves: the client index; internal nodes: -1. */
  client: number;
  active: boolean;
  /** Active leaves in this subtree (a leaf: 1 or 0). Nodes with 0 are not in their parent's `ordered`. */
  activeLeaves: number;
  alloc: number[];
  count: number;
  share: number;
  weight: number;
}

function newNode(key: string, path: string, seg: string, parent: Node | null, client: number, weight: number): Node {
  return {
    key,
    rank: -1,
    path,
    seg,
    parent,
    children: client < 0 ? new Map() : null,
    ordered: new OrderedList(),
    client,
    active: false,
    activeLeaves: 0,
    alloc: [],
    count: 0,
    share: 0,
    weight,
  };
}

/** Serving order: lower share, then fewer allocations, then smaller key. */
function before(a: Node, b: Node): boolean {
  if (a.share !== b.share) return a.share < b.share;
  if (a.count !== b.count) return a.count < b.count;
  const ra = a.rank;
  const rb = b.rank;
  if (ra >= 0 && rb >= 0) return ra < rb;
  return a.key < b.key;
}

function compare(a: Node, b: Node): number {
  return before(a, b) ? -1 : before(b, a) ? 1 : 0;
}

const BLOCK = 64;

/**
 * Nodes in serving order, as a list of sorted blocks of at most 2×BLOCK: finding a node's place is
 * a binary search over the blocks' last nodes and then inside one block, and an insertion or a
 * removal shifts at most one block. (A flat sorted array costs a shift of the whole list when the
 * client that was served first moves to the back, which is what happens on every offer when many
 * frameworks have equal shares.)
 */
class OrderedList {
  blocks: Node[][] = [];
  size = 0;

  insert(n: Node): void {
    this.size++;
    const blocks = this.blocks;
    if (blocks.length === 0) {
      blocks.push([n]);
      return;
    }
    let b = this.blockFor(n);
    if (b === blocks.length) b--;
    const block = blocks[b];
    const at = lowerBound(block, n);
    block.push(n);
    for (let k = block.length - 1; k > at; k--) block[k] = block[k - 1];
    block[at] = n;
    if (block.length > 2 * BLOCK) blocks.splice(b + 1, 0, block.splice(BLOCK));
  }

  /** Removes `n`, found by its current key (a scan only if floating point misleads the search). */
  remove(n: Node): void {
    const blocks = this.blocks;
    let b = this.blockFor(n);
    let i = b < blocks.length ? lowerBound(blocks[b], n) : -1;
    if (i < 0 || blocks[b][i] !== n) {
      b = blocks.findIndex((x) => x.includes(n));
      if (b < 0) throw new Error(`sorter lost track of '${n.path}'`);
      i = blocks[b].indexOf(n);
    }
    const block = blocks[b];
    for (let k = i; k < block.length - 1; k++) block[k] = block[k + 1];
    block.pop();
    this.size--;
    if (block.length === 0) blocks.splice(b, 1);
    else if (block.length < BLOCK / 4 && b + 1 < blocks.length && blocks[b + 1].length < BLOCK) {
      block.push(...blocks[b + 1]);
      blocks.splice(b + 1, 1);
    }
  }

  /** Sorts again from scratch (after every key changed). */
  resort(): void {
    this.setAll(this.blocks.flat());
  }

  /** Holds exactly `nodes` (taken over), sorted. */
  setAll(nodes: Node[]): void {
    nodes.sort(compare);
    this.blocks = [];
    this.size = nodes.length;
    for (let i = 0; i < nodes.length; i += BLOCK) this.blocks.push(nodes.slice(i, i + BLOCK));
  }

  /** The first block whose last node does not come before `n` (blocks.length if none). */
  private blockFor(n: Node): number {
    const blocks = this.blocks;
    let lo = 0;
    let hi = blocks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const block = blocks[mid];
      if (before(block[block.length - 1], n)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/** First position in `list` whose node does not come before `n`. */
function lowerBound(list: Node[], n: Node): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (before(list[mid], n)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class DrfSorter implements Sorter {
  readonly kind = 'drf' as const;
  /** The cycle's space; `rebind` moves a sorter kept from an earlier cycle onto the next one's. */
  space: ScalarSpace;
  private readonly hierarchical: boolean;
  private readonly root: Node;
  private readonly slots = new ClientSlots<Node>();
  private readonly weights = new Map<string, number>();
  private spaceVersion: number;
  private visiting = false;
  /** Some node has no key rank yet (see `rankKeys`). */
  private unranked = true;

  constructor(options: SorterOptions = {}) {
    this.space = options.space ?? new ScalarSpace();
    this.hierarchical = options.hierarchical ?? false;
    this.root = newNode('', '', '', null, -1, 1);
    this.spaceVersion = this.space.version;
  }

  add(client: string): number {
    this.unranked = true;
    this.assertNotVisiting();
    if (this.slots.has(client)) throw new Error(`sorter already has client '${client}'`);
    const index = this.slots.nextIndex();
    let parent = this.root;
    let leaf: Node;
    if (!this.hierarchical) {
      leaf = newNode(client, client, client, parent, index, this.weights.get(client) ?? 1);
      parent.children?.set(client, leaf);
    } else {
      const tokens = client.split('/');
      let path = '';
      let i = 0;
      // Walk down existing nodes (like `mkdir -p`), turning a leaf on the way into a parent.
      for (; i < tokens.length; i++) {
        const child = parent.children?.get(tokens[i]);
        if (!child) break;
        path = path ? `${path}/${tokens[i]}` : tokens[i];
        if (child.client >= 0) {
          if (i === tokens.length - 1) throw new Error(`sorter already has client '${client}'`);
          this.makeParent(child);
        }
        parent = child;
      }
      if (i === tokens.length) {
        // The path exists as an internal node: the client becomes its virtual leaf.
        leaf = newNode(`${path}/.`, client, '.', parent, index, 1);
        parent.children?.set('.', leaf);
      } else {
        for (; i < tokens.length - 1; i++) {
          path = path ? `${path}/${tokens[i]}` : tokens[i];
          const inner = newNode(path, path, tokens[i], parent, -1, this.weights.get(path) ?? 1);
          parent.children?.set(tokens[i], inner);
          parent = inner;
        }
        const seg = tokens[tokens.length - 1];
        leaf = newNode(client, client, seg, parent, index, this.weights.get(client) ?? 1);
        parent.children?.set(seg, leaf);
      }
    }
    this.slots.add(client, leaf);
    this.setActive(leaf, true);
    return index;
  }

  remove(client: string): void {
    this.assertNotVisiting();
    this.refreshIfStale();
    const leaf = this.leaf(client);
    this.setActive(leaf, false);
    this.addAlong(
      leaf.parent,
      leaf.alloc.map((v) => -v),
      0,
    );
    // Detach the leaf, then prune the parents it leaves empty.
    let node: Node = leaf;
    while (node.parent) {
      const parent: Node = node.parent;
      parent.children?.delete(node.seg);
      if (parent === this.root || (parent.children && parent.children.size > 0)) break;
      node = parent;
    }
    this.slots.remove(client);
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
    return this.slots.at(index).path;
  }

  activate(client: string): void {
    this.assertNotVisiting();
    this.setActive(this.leaf(client), true);
  }

  deactivate(client: string): void {
    this.assertNotVisiting();
    this.setActive(this.leaf(client), false);
  }

  isActive(client: string): boolean {
    return this.leaf(client).active;
  }

  updateWeight(path: string, weight: number): void {
    this.assertNotVisiting();
    checkWeight(path, weight);
    this.weights.set(path, weight);
    const node = this.findPathNode(path);
    if (node) this.reweigh(node, weight);
  }

  allocated(client: string, resources: Resources): void {
    this.allocatedAt(this.leaf(client).client, this.space.vector(resources));
  }

  unallocated(client: string, resources: Resources): void {
    const v = this.space.vector(resources);
    for (let d = 0; d < v.length; d++) v[d] = -v[d];
    this.assertNotVisiting();
    this.refreshIfStale();
    this.addAlong(this.leaf(client), v, 0);
  }

  allocatedAt(index: number, vector: ArrayLike<number>): void {
    this.assertNotVisiting();
    this.refreshIfStale();
    if (this.unranked) this.rankKeys();
    const leaf = this.slots.items[index];
    if (!leaf) throw new Error(`sorter has no client at index ${index}`);
    this.addAlong(leaf, vector, 1);
  }

  /**
   * Sets a client's allocation and allocation count to exactly `vector` (null: nothing) and
   * `count`, moving it and its ancestors by the difference: how a sorter kept from an earlier
   * cycle is brought to this cycle's start (sorter-keep.ts). Values are Mesos's three-decimal
   * fixed point, so the ancestors' sums come out as a fresh build's do.
   */
  setAllocationAt(index: number, vector: ArrayLike<number> | null, count: number): void {
    this.assertNotVisiting();
    this.refreshIfStale();
    const leaf = this.slots.items[index];
    if (!leaf) throw new Error(`sorter has no client at index ${index}`);
    const alloc = leaf.alloc;
    const n = Math.max(alloc.length, vector ? vector.length : 0);
    let delta: number[] | null = null;
    for (let d = 0; d < n; d++) {
      const want = vector !== null && d < vector.length ? vector[d] : 0;
      const have = d < alloc.length ? alloc[d] : 0;
      if (want !== have) {
        delta ??= new Array<number>(n).fill(0);
        delta[d] = want - have;
      }
    }
    if (delta === null && leaf.count === count) return;
    this.addAlong(leaf, delta ?? NO_DELTA, count - leaf.count);
  }

  /**
   * Sets every client's activity, allocation (null: nothing) and allocation count at once, by
   * client index: how a sorter kept from an earlier cycle is brought to this cycle's start. When
   * few clients differ, each of them is moved as `setAllocationAt` does; otherwise every node's
   * sums and share are recomputed and each level sorted once (cheaper than moving most of them one
   * at a time). Either way the sorter ends as a fresh build with these inputs would.
   */
  reset(active: ArrayLike<boolean>, vectors: readonly (ArrayLike<number> | null)[], counts: ArrayLike<number>): void {
    this.assertNotVisiting();
    const items = this.slots.items;
    let changed = 0;
    let clients = 0;
    for (let c = 0; c < items.length; c++) {
      const leaf = items[c];
      if (!leaf) continue;
      clients++;
      if (leaf.active !== active[c] || leaf.count !== counts[c] || !sameAlloc(leaf.alloc, vectors[c])) changed++;
    }
    if (changed === 0 && this.spaceVersion === this.space.version) return;
    if (changed * 8 <= clients) {
      for (let c = 0; c < items.length; c++) {
        if (!items[c]) continue;
        this.setActiveAt(c, active[c]);
        this.setAllocationAt(c, vectors[c], counts[c]);
      }
      return;
    }
    for (let c = 0; c < items.length; c++) {
      const leaf = items[c];
      if (!leaf) continue;
      leaf.active = active[c];
      leaf.activeLeaves = active[c] ? 1 : 0;
      leaf.count = counts[c];
      const v = vectors[c];
      const alloc = leaf.alloc;
      alloc.length = 0;
      if (v !== null) for (let d = 0; d < v.length; d++) alloc.push(v[d]);
    }
    this.spaceVersion = this.space.version;
    this.recompute(this.root);
  }

  /** Hot-path form of `activate`/`deactivate`. */
  setActiveAt(index: number, active: boolean): void {
    this.assertNotVisiting();
    const leaf = this.slots.items[index];
    if (!leaf) throw new Error(`sorter has no client at index ${index}`);
    this.setActive(leaf, active);
  }

  /**
   * Moves the sorter onto another space with the same dimension names (the next cycle's): the
   * shares are recomputed and each level sorted again only if the pool totals differ.
   */
  rebind(space: ScalarSpace): void {
    const old = this.space;
    const fresh = this.spaceVersion === old.version && sameNumbers(old.totals, space.totals);
    this.space = space;
    this.spaceVersion = fresh ? space.version : -1;
  }

  allocation(client: string): Record<string, number> {
    return this.space.record(this.leaf(client).alloc);
  }

  share(client: string): number {
    this.refreshIfStale();
    return this.leaf(client).share;
  }

  sort(): string[] {
    const out: string[] = [];
    this.visit((i) => {
      out.push(this.nameOf(i));
    });
    return out;
  }

  visit(visitor: SortVisitor, under?: string): void {
    this.refreshIfStale();
    let start: Node | undefined = this.root;
    if (under !== undefined) {
      start = this.findPathNode(under);
      if (!start) return;
      if (start.client >= 0) {
        if (start.active) visitor(start.client);
        return;
      }
      if (start.activeLeaves === 0) return;
    }
    this.visiting = true;
    try {
      walk(start, visitor);
    } finally {
      this.visiting = false;
    }
  }

  // ---- internals ----

  private leaf(client: string): Node {
    return this.slots.get(client);
  }

  /** The node that carries the weight of `path`: a leaf, or the internal node of that path. */
  private findPathNode(path: string): Node | undefined {
    if (!this.hierarchical) return this.slots.find(path);
    let node: Node | undefined = this.root;
    for (const t of path.split('/')) {
      node = node?.children?.get(t);
      if (!node) return undefined;
    }
    return node;
  }

  /** Turns leaf `n` into an internal node whose virtual leaf `.` keeps the client. */
  private makeParent(n: Node): void {
    this.unranked = true;
    const v = newNode(`${n.path}/.`, n.path, '.', n, n.client, 1);
    v.active = n.active;
    v.activeLeaves = n.activeLeaves;
    v.alloc = n.alloc.slice();
    v.count = n.count;
    v.share = this.computeShare(v);
    this.slots.items[n.client] = v;
    n.client = -1;
    n.active = false;
    n.children = new Map([['.', v]]);
    n.ordered = new OrderedList();
    if (v.activeLeaves > 0) n.ordered.insert(v);
  }

  private setActive(leaf: Node, active: boolean): void {
    if (leaf.active === active) return;
    leaf.active = active;
    const delta = active ? 1 : -1;
    let node: Node = leaf;
    while (node.parent) {
      const parent: Node = node.parent;
      const was = node.activeLeaves;
      node.activeLeaves += delta;
      if (was === 0 && node.activeLeaves > 0) {
        node.share = this.computeShare(node);
        parent.ordered.insert(node);
      } else if (was > 0 && node.activeLeaves === 0) {
        parent.ordered.remove(node);
      }
      node = parent;
    }
    this.root.activeLeaves += delta;
  }

  /** Adds `vector` to `from` and every ancestor, keeping each level in order. */
  private addAlong(from: Node | null, vector: ArrayLike<number>, countDelta: number): void {
    let node = from;
    while (node && node !== this.root) {
      // A node alone in its level keeps its place (taking the only node out emptied the list and
      // putting it back made a new block: once per agent for a lone role, 1.7 MB per 10,000 agents).
      const list = node.parent && node.activeLeaves > 0 && node.parent.ordered.size > 1 ? node.parent.ordered : null;
      if (list) list.remove(node);
      addInto(node.alloc, vector);
      node.count += countDelta;
      node.share = this.computeShare(node);
      if (list) list.insert(node);
      node = node.parent;
    }
    addInto(this.root.alloc, vector);
    this.root.count += countDelta;
  }

  /** Changes the weight of `n` and moves it to its new place among its ordered siblings. */
  private reweigh(n: Node, weight: number): void {
    const list = n.parent && n.activeLeaves > 0 ? n.parent.ordered : null;
    if (list) list.remove(n);
    n.weight = weight;
    n.share = this.computeShare(n);
    if (list) list.insert(n);
  }

  private computeShare(n: Node): number {
    const totals = this.space.totals;
    const alloc = n.alloc;
    const len = Math.min(alloc.length, totals.length);
    let s = 0;
    for (let d = 0; d < len; d++) {
      const t = totals[d];
      if (t > 0) {
        const r = alloc[d] / t;
        if (r > s) s = r;
      }
    }
    return s / n.weight;
  }

  /** Sums, counts, active leaves and shares of `node`'s subtree from its leaves; each level sorted once. */
  private recompute(node: Node): void {
    const children = node.children;
    if (!children) {
      node.share = this.computeShare(node);
      return;
    }
    const alloc = node.alloc;
    alloc.length = 0;
    let count = 0;
    let activeLeaves = 0;
    const on: Node[] = [];
    for (const c of children.values()) {
      this.recompute(c);
      addInto(alloc, c.alloc);
      count += c.count;
      activeLeaves += c.activeLeaves;
      if (c.activeLeaves > 0) on.push(c);
    }
    node.count = count;
    node.activeLeaves = activeLeaves;
    node.share = node === this.root ? 0 : this.computeShare(node);
    node.ordered.setAll(on);
  }

  /** The pool totals changed: every share did; recompute them and sort each level once. */
  /**
   * Gives every node its key's place among all the nodes' keys (ordered as strings are by `<`), so
   * that the many ties of equal shares and counts (every framework of a DeclineOffers round) are
   * broken without a string comparison. Nodes made later have no place until the next ranking;
   * a comparison with such a node compares the keys, which orders them the same way.
   */
  private rankKeys(): void {
    this.unranked = false;
    const nodes: Node[] = [];
    const collect = (node: Node): void => {
      nodes.push(node);
      if (node.children) for (const c of node.children.values()) collect(c);
    };
    collect(this.root);
    nodes.sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
    let rank = 0;
    for (let i = 0; i < nodes.length; i++) {
      if (i > 0 && nodes[i].key !== nodes[i - 1].key) rank++;
      nodes[i].rank = rank;
    }
  }

  private refreshIfStale(): void {
    if (this.spaceVersion === this.space.version) return;
    this.spaceVersion = this.space.version;
    const redo = (node: Node): void => {
      if (!node.children) return;
      for (const c of node.children.values()) {
        c.share = this.computeShare(c);
        redo(c);
      }
      node.ordered.resort();
    };
    redo(this.root);
  }

  private assertNotVisiting(): void {
    if (this.visiting) throw new Error('a sorter must not be changed during visit()');
  }
}

const NO_DELTA: number[] = [];

/** Whether a node's allocation equals `v` (null: nothing; missing dimensions count as 0). */
function sameAlloc(alloc: readonly number[], v: ArrayLike<number> | null): boolean {
  const n = Math.max(alloc.length, v === null ? 0 : v.length);
  for (let d = 0; d < n; d++) {
    const want = v !== null && d < v.length ? v[d] : 0;
    if ((d < alloc.length ? alloc[d] : 0) !== want) return false;
  }
  return true;
}

function sameNumbers(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function walk(node: Node, visitor: SortVisitor): boolean {
  const blocks = node.ordered.blocks;
  for (let b = 0; b < blocks.length; b++) {
    const block = blocks[b];
    for (let i = 0; i < block.length; i++) {
      const c = block[i];
      if (c.client >= 0) {
        if (visitor(c.client) === true) return true;
      } else if (walk(c, visitor)) {
        return true;
      }
    }
  }
  return false;
}
