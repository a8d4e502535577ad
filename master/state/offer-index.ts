/**
 * The outstanding offers by id, kept in 64 small Maps instead of one large one.
 *
 * Why: a cycle at 10,000 agents books 10,000 offers and the declines remove them again. One Map
 * of that size has a backing table of about 460 KB, and V8 puts any object over 128 KB in its
 * large-object space, which maps fresh memory for each and unmaps it when it dies. Growing such a
 * Map to 10,000 entries and shrinking it back (V8 shrinks a Map whose entries fall below a quarter
 * of its capacity) allocated about 0.9 MB of large objects per round, each page of it a page fault
 * (10-20 µs each on a paravirtual guest; docs/benchmarks.md). Split 64 ways, every table stays
 * small and is allocated and collected like any other young object.
 *
 * Iteration visits the shards in turn, so it is not in insertion order across shards; nothing that
 * reads the offers depends on their order.
 */
export const SHARDS = 64;

/** Spreads ids over the shards by their last two characters (the master's ids end in a counter). */
export function shardOf(id: string): number {
  const n = id.length;
  if (n === 0) return 0;
  const last = id.charCodeAt(n - 1);
  const before = n > 1 ? id.charCodeAt(n - 2) : 0;
  return (last * 7 + before * 5) & (SHARDS - 1);
}

export class OfferIndex<V> implements ReadonlyMap<string, V> {
  private readonly shards: Map<string, V>[] = [];

  constructor() {
    for (let i = 0; i < SHARDS; i++) this.shards.push(new Map());
  }

  get size(): number {
    let n = 0;
    for (const shard of this.shards) n += shard.size;
    return n;
  }

  get(id: string): V | undefined {
    return this.shards[shardOf(id)].get(id);
  }

  has(id: string): boolean {
    return this.shards[shardOf(id)].has(id);
  }

  set(id: string, value: V): this {
    this.shards[shardOf(id)].set(id, value);
    return this;
  }

  delete(id: string): boolean {
    return this.shards[shardOf(id)].delete(id);
  }

  clear(): void {
    for (const shard of this.shards) shard.clear();
  }

  forEach(fn: (value: V, key: string, map: ReadonlyMap<string, V>) => void, thisArg?: unknown): void {
    const bound = thisArg === undefined ? fn : fn.bind(thisArg);
    for (const shard of this.shards) {
      for (const [k, v] of shard) bound(v, k, this);
    }
  }

  *entries(): MapIterator<[string, V]> {
    for (const shard of this.shards) yield* shard.entries();
  }

  *keys(): MapIterator<string> {
    for (const shard of this.shards) yield* shard.keys();
  }

  *values(): MapIterator<V> {
    for (const shard of this.shards) yield* shard.values();
  }

  [Symbol.iterator](): MapIterator<[string, V]> {
    return this.entries();
  }
}
