/**
 * A Store kept in memory, with the same compare-and-set rules and JSON round trip as the real
 * ones, for harnesses and tests. `failWrites` makes every write fail (a registrar outage).
 */
import { type Store, StoreConflictError, StoreCorruptError, type Versioned } from '../../sdk/store/index.js';

export class MemoryStore implements Store {
  private readonly data = new Map<string, { text: string; version: number }>();
  private seq = 0;
  /** When set, put and delete reject with this error. */
  failWrites?: Error;
  /** Every key written, in order (for tests). */
  readonly writes: string[] = [];

  async get<T>(key: string): Promise<Versioned<T> | undefined> {
    const e = this.data.get(key);
    if (!e) return undefined;
    try {
      return { value: JSON.parse(e.text) as T, version: e.version };
    } catch (err) {
      throw new StoreCorruptError(key, `not JSON: ${(err as Error).message}`);
    }
  }

  async put<T>(key: string, value: T, expectedVersion?: number): Promise<number> {
    if (this.failWrites) throw this.failWrites;
    const e = this.data.get(key);
    if (e?.version !== expectedVersion) throw new StoreConflictError(key, expectedVersion, e?.version);
    const version = ++this.seq;
    this.data.set(key, { text: JSON.stringify(value), version });
    this.writes.push(key);
    return version;
  }

  async delete(key: string, expectedVersion?: number): Promise<void> {
    if (this.failWrites) throw this.failWrites;
    const e = this.data.get(key);
    if (expectedVersion !== undefined && e?.version !== expectedVersion) {
      throw new StoreConflictError(key, expectedVersion, e?.version);
    }
    this.data.delete(key);
  }

  async list(prefix: string): Promise<string[]> {
    return [...this.data.keys()].filter((k) => k.startsWith(prefix)).sort();
  }

  async close(): Promise<void> {}

  /** Writes raw JSON text under a key, bypassing every check (to plant a bad record). */
  plant(key: string, text: string): void {
    this.data.set(key, { text, version: ++this.seq });
  }

  /** The raw JSON text under a key. */
  raw(key: string): string | undefined {
    return this.data.get(key)?.text;
  }
}
