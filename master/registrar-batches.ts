/**
 * Agents' registrar records kept many to a Store key (`registrar/agent-batches/<writer>-<n>`), up to
 * BATCH_SIZE agents each. 5,000 agents registering at once cost 5,000 Store writes (two or three
 * ZooKeeper round trips each) and a new leader 5,000 reads before it could take one
 * re-registration back; batched, the writes that arrive while one is in flight go out together in
 * the next, and recovery reads one key per BATCH_SIZE agents.
 *
 * Each agent stays in one batch for good (unless removed: a new agent that left before it was
 * admitted, see `remove`): a later change of its record rewrites that batch (the whole value,
 * compare-and-set on its version like any registrar key). Writes of one batch are applied in order
 * and coalesce: a write that starts takes every change made to the batch until then. Every record
 * is checked before it joins (never persist what cannot be read back), and a new agent whose batch
 * write failed is taken out again (it was never admitted).
 */
import { randomBytes } from 'node:crypto';
import type { AgentRecord } from './registrar.js';

export const AGENT_BATCHES = 'registrar/agent-batches/';
/** Agents per batch key. */
export const BATCH_SIZE = 64;

export interface AgentBatchValue {
  agents: AgentRecord[];
}

/**
 * How the batches reach the Store: a compare-and-set write of one key, run in that key's order;
 * `take` gives the value when the write starts, or undefined when an earlier write took every change.
 */
export type WriteKey = (key: string, take: () => AgentBatchValue | undefined) => Promise<void>;

export function agentBatchProblem(v: unknown): string | undefined {
  if (typeof v !== 'object' || v === null || !Array.isArray((v as { agents?: unknown }).agents)) {
    return 'not an agent batch';
  }
  return undefined;
}

interface Batch {
  key: string;
  members: Map<string, AgentRecord>;
  /** The record of each agent that a write which succeeded carried last. */
  durable: Map<string, AgentRecord>;
  /** A change was made since the last write started. */
  dirty: boolean;
}

export class AgentBatches {
  private readonly batches = new Map<string, Batch>();
  private readonly batchOf = new Map<string, Batch>();
  /** The batch new agents join until it is full. */
  private open?: Batch;
  private readonly writer = randomBytes(6).toString('hex');
  private seq = 0;
  /** Order of the records asked for (a later record of an agent supersedes an earlier one). */
  private readonly stampOf = new WeakMap<AgentRecord, number>();
  private stamps = 0;

  constructor(private readonly writeKey: WriteKey) {}

  /** Whether this agent's record lives in a batch. */
  has(agentId: string): boolean {
    return this.batchOf.has(agentId);
  }

  /** A batch read back at recovery: its records (already checked) are durable. */
  recovered(key: string, records: AgentRecord[]): void {
    const b: Batch = { key, members: new Map(), durable: new Map(), dirty: false };
    for (const r of records) {
      if (this.batchOf.has(r.info.id)) continue;
      b.members.set(r.info.id, r);
      b.durable.set(r.info.id, r);
      this.batchOf.set(r.info.id, b);
    }
    this.batches.set(key, b);
  }

  clear(): void {
    this.batches.clear();
    this.batchOf.clear();
    this.open = undefined;
  }

  /** Makes the (checked) record durable in its batch, or in the open batch for an agent new to the registrar. */
  save(rec: AgentRecord): Promise<void> {
    const id = rec.info.id;
    let b = this.batchOf.get(id);
    if (!b) {
      if (!this.open || this.open.members.size >= BATCH_SIZE) {
        const key = `${AGENT_BATCHES}${this.writer}-${this.seq++}`;
        this.open = { key, members: new Map(), durable: new Map(), dirty: false };
        this.batches.set(key, this.open);
      }
      b = this.open;
      this.batchOf.set(id, b);
    }
    b.members.set(id, rec);
    b.dirty = true;
    const stamp = ++this.stamps;
    this.stampOf.set(rec, stamp);
    const batch = b;
    const { take, written } = taker(batch);
    return this.writeKey(batch.key, take).then(
      () => {
        const w = written();
        if (w) landed(batch, w);
        // Taken by an earlier write of this batch: durable if that write carried this record or a later one.
        const kept = batch.durable.get(id);
        if (!kept || (this.stampOf.get(kept) ?? 0) < stamp)
          throw new Error(`agent ${id}: the batch write that carried it failed`);
      },
      (e: unknown) => {
        this.dropUnwritten(batch, written());
        throw e;
      },
    );
  }

  /** A write of `batch` failed: agents it carried that were never written are not in the Store: take them out (they were not admitted). */
  private dropUnwritten(batch: Batch, written: AgentRecord[] | undefined): void {
    for (const r of written ?? []) {
      const w = r.info.id;
      if (batch.durable.has(w) || batch.members.get(w) !== r) continue;
      batch.members.delete(w);
      this.batchOf.delete(w);
    }
  }

  /**
   * Takes an agent out of its batch and rewrites the batch without it (a new agent that left before
   * it was admitted). Resolves once a write without it has landed; when that write fails, the next
   * write of the batch leaves it out.
   */
  remove(id: string): Promise<void> {
    const batch = this.batchOf.get(id);
    if (!batch) return Promise.resolve();
    batch.members.delete(id);
    this.batchOf.delete(id);
    batch.dirty = true;
    const { take, written } = taker(batch);
    return this.writeKey(batch.key, take).then(
      () => {
        const w = written();
        if (w) landed(batch, w);
        // Taken by an earlier write of this batch: gone from the Store if that write landed.
        if (batch.durable.has(id)) throw new Error(`agent ${id}: the batch write that removed it failed`);
      },
      (e: unknown) => {
        // This write may have carried new agents (their own saves coalesced into it): as in save().
        this.dropUnwritten(batch, written());
        throw e;
      },
    );
  }
}

/**
 * What a write of `batch` takes when it runs (its members then; nothing when no change is pending,
 * an earlier write having taken them), and, afterwards, what it took.
 */
function taker(batch: Batch): { take: () => AgentBatchValue | undefined; written: () => AgentRecord[] | undefined } {
  let taken: AgentRecord[] | undefined;
  const take = (): AgentBatchValue | undefined => {
    if (!batch.dirty) return undefined;
    batch.dirty = false;
    taken = [...batch.members.values()];
    return { agents: taken };
  };
  return { take, written: () => taken };
}

/** A write of the batch landed: the Store holds exactly these records. */
function landed(batch: Batch, written: AgentRecord[]): void {
  batch.durable.clear();
  for (const r of written) batch.durable.set(r.info.id, r);
}
