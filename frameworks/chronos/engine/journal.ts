/**
 * The engine's durable path: a group-committed journal in front of the per-job Store keys.
 *
 * Every change to a job's record (a due time becoming a run, a run marked LAUNCHED with its task
 * id, an outcome, a new or deleted job) is committed by writing ONE journal entry
 * (`chronos/journal/<seq>`, create-only) that holds the new records of every job changed since the
 * previous entry went out. A caller's promise resolves only once the entry holding its change is
 * durable, so "recorded before the ACCEPT" holds as before; but a thousand runs due together cost
 * a handful of Store writes instead of a thousand (the Store's fsync / ZooKeeper round trip rate
 * was the launch rate's limit).
 *
 * In the background, a checkpointer copies each changed record to its job's key
 * (`chronos/jobs/<job>`) and deletes journal entries whose every record is in the job keys. A new
 * leader reads the job keys, then replays the journal entries over them in order.
 *
 * Fencing (behind the leader election, which comes first). Each leader bumps `chronos/journal-epoch`
 * when it loads, writes its epoch into its entries, and claims the next sequence number at once
 * with an empty entry; the newest entry is never trimmed. A writer reads the epoch before each entry
 * and stops when a newer leader has bumped it. An old leader's entry already in flight across the
 * takeover collides with the new leader's (entries are create-only): a writer that finds a newer
 * epoch's entry stops; one that finds an older epoch's entry (a stale leader's last words) adopts
 * its records and refuses its own batch, which its callers compute again from the adopted state.
 * A checkpoint conflict is settled through the epoch key.
 */
import { isConflict, type Store, StoreConflictError, StoreError, StoreErrorCode } from 'agora/sdk';
import type pino from 'pino';
import { type JobRecord, KEYS } from './records.js';

export const JOURNAL_KEYS = {
  epoch: 'chronos/journal-epoch',
  journal: 'chronos/journal/',
  entry: (seq: number) => `chronos/journal/${String(seq).padStart(12, '0')}`,
};

/**
 * A journal entry: the records changed since the previous entry. A record is the job's whole
 * record, null when the job was deleted, or `{state}` alone when the job itself did not change
 * (most changes: a run created, launched or ended), which keeps entries small.
 */
export interface JournalEntry {
  epoch: number;
  records: [string, JobRecord | null | { state: JobRecord['state'] }][];
}

/** The records of `entry` applied over `out` (a partial record needs the job's earlier one). */
export function applyEntry(out: Map<string, JobRecord>, entry: JournalEntry): [string, JobRecord | null][] {
  const applied: [string, JobRecord | null][] = [];
  for (const [name, r] of entry.records) {
    if (r === null) {
      out.delete(name);
      applied.push([name, null]);
      continue;
    }
    const prev = out.get(name);
    const rec = 'job' in r ? r : prev ? { job: prev.job, state: r.state } : undefined;
    if (!rec) continue; // a state for a job never seen: cannot happen unless the entries were trimmed wrongly
    out.set(name, rec);
    applied.push([name, rec]);
  }
  return applied;
}

interface Waiter {
  name: string;
  rec: JobRecord | null;
  /** The job itself (not only its state) changed. */
  jobChanged: boolean;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export interface JournalOptions {
  /** Records per entry at most (default 2,048). */
  maxBatch?: number;
  /** Checkpoints are not held back behind commits once this many jobs wait for one (default 50,000). */
  checkpointForce?: number;
  /** Told about records adopted from another writer's entry (a stale leader's). */
  onAdopt?: (records: [string, JobRecord | null][]) => void;
  /** The records the caller holds now (to complete a stale leader's partial records). */
  current?: () => Map<string, JobRecord>;
}

export class Journal {
  private epoch = 0;
  private nextSeq = 1;
  private queue: Waiter[] = [];
  private flushing?: Promise<void>;
  private flushScheduled = false;
  /**
   * Jobs whose latest record is in the journal and not yet in their key: the latest record, the
   * entry holding it (`last`), and the oldest entry since the last checkpoint holding any of its
   * changes (`first`; entries from there on are kept, as a partial record needs the whole one).
   */
  private readonly pending = new Map<string, { first: number; last: number; rec: JobRecord | null }>();
  /** Versions of the job keys as last read or written (absent: the key does not exist). */
  private readonly keyVersions = new Map<string, number>();
  /** Journal entries in the Store, oldest first. */
  private live: number[] = [];
  private checkpointing = false;
  private trimming = false;
  /** A trim was asked for while one ran: it runs again once that one ends, with a newer bound. */
  private trimAgain = false;
  private stopped = false;
  fenced = false;
  /** Counters for benchmarks and /metrics. */
  readonly stats = { entries: 0, records: 0, checkpoints: 0, trimmed: 0 };

  constructor(
    private readonly store: Store,
    private readonly log: pino.Logger,
    private readonly opts: JournalOptions = {},
  ) {}

  /** Takes over: bumps the epoch, reads every job key, replays the journal over them. */
  async load(): Promise<Map<string, JobRecord>> {
    for (;;) {
      const e = await this.store.get<number>(JOURNAL_KEYS.epoch);
      try {
        await this.store.put(JOURNAL_KEYS.epoch, (e?.value ?? 0) + 1, e?.version);
        this.epoch = (e?.value ?? 0) + 1;
        break;
      } catch (err) {
        if (!isConflict(err)) throw err;
      }
    }
    const out = new Map<string, JobRecord>();
    this.keyVersions.clear();
    this.pending.clear();
    for (const key of await this.store.list(KEYS.jobs)) {
      const v = await this.store.get<JobRecord>(key);
      if (!v) continue;
      out.set(v.value.job.name, v.value);
      this.keyVersions.set(v.value.job.name, v.version);
    }
    this.live = [];
    let max = 0;
    for (const key of await this.store.list(JOURNAL_KEYS.journal)) {
      const seq = Number(key.slice(JOURNAL_KEYS.journal.length));
      if (!Number.isSafeInteger(seq)) continue;
      const v = await this.store.get<JournalEntry>(key);
      if (!v) continue;
      this.live.push(seq);
      max = Math.max(max, seq);
      for (const [name, rec] of applyEntry(out, v.value)) this.note(name, seq, rec);
    }
    this.live.sort((a, b) => a - b);
    this.nextSeq = max + 1;
    // Claims the next sequence number at once: an old leader's write in flight across this load
    // collides with it (and is adopted, or refused) instead of landing unseen.
    for (;;) {
      const seq = this.nextSeq++;
      try {
        await this.store.put(JOURNAL_KEYS.entry(seq), { epoch: this.epoch, records: [] } satisfies JournalEntry);
        this.live.push(seq);
        break;
      } catch (err) {
        if (!isConflict(err)) throw err;
        const theirs = await this.store.get<JournalEntry>(JOURNAL_KEYS.entry(seq));
        if (!theirs || theirs.value.epoch >= this.epoch) throw err;
        this.live.push(seq);
        for (const [name, rec] of applyEntry(out, theirs.value)) this.note(name, seq, rec);
      }
    }
    if (this.pending.size > 0) void this.checkpoint();
    return out;
  }

  /** Durably records `rec` as job `name`'s record (null: deleted); resolves once its entry is written. */
  commit(name: string, rec: JobRecord | null, jobChanged = true): Promise<void> {
    if (this.stopped || this.fenced)
      return Promise.reject(new StoreConflictError(JOURNAL_KEYS.journal, undefined, undefined));
    return new Promise((resolve, reject) => {
      this.queue.push({ name, rec, jobChanged, resolve, reject });
      this.scheduleFlush();
    });
  }

  /** Stops writing (leadership ended): queued commits fail, checkpoints stop. */
  stop(): void {
    this.stopped = true;
    const q = this.queue;
    this.queue = [];
    for (const w of q) w.reject(new StoreConflictError(JOURNAL_KEYS.journal, undefined, undefined));
  }

  /** Records waiting to be copied to their job keys (for benchmarks). */
  get backlog(): number {
    return this.pending.size;
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.flushing) return;
    this.flushScheduled = true;
    // Gathers every change made in this turn of the event loop into one entry.
    setImmediate(() => {
      this.flushScheduled = false;
      this.startFlush();
    });
  }

  private startFlush(): void {
    if (this.flushing || this.queue.length === 0) return;
    this.flushing = this.flush().finally(() => {
      this.flushing = undefined;
      if (this.queue.length > 0) this.scheduleFlush();
    });
  }

  /** Job `name`'s record `rec` is in entry `seq`. */
  private note(name: string, seq: number, rec: JobRecord | null): void {
    const p = this.pending.get(name);
    this.pending.set(name, { first: p?.first ?? seq, last: seq, rec });
  }

  private async flush(): Promise<void> {
    const batch = this.queue.splice(0, this.opts.maxBatch ?? 2048);
    // A job changed twice in one batch: its last record is the one written (each mutation starts from the previous).
    const records = new Map<string, { rec: JobRecord | null; jobChanged: boolean }>();
    for (const w of batch)
      records.set(w.name, { rec: w.rec, jobChanged: w.jobChanged || (records.get(w.name)?.jobChanged ?? false) });
    const seq = this.nextSeq++;
    const entry: JournalEntry = {
      epoch: this.epoch,
      records: [...records].map(([name, { rec, jobChanged }]) => [
        name,
        rec && !jobChanged ? { state: rec.state } : rec,
      ]),
    };
    try {
      if (this.stopped || this.fenced) throw new StoreConflictError(JOURNAL_KEYS.entry(seq), undefined, undefined);
      // A newer leader bumped the epoch: stop before writing (a read, much cheaper than a write).
      if (!(await this.stillLeading())) throw new StoreConflictError(JOURNAL_KEYS.epoch, this.epoch, undefined);
      await this.putEntry(seq, entry);
    } catch (err) {
      if (isConflict(err) && !this.stopped && !this.fenced) await this.collided(seq);
      for (const w of batch) w.reject(err);
      return;
    }
    this.live.push(seq);
    this.stats.entries++;
    this.stats.records += records.size;
    for (const [name, { rec }] of records) this.note(name, seq, rec);
    for (const w of batch) w.resolve();
    void this.checkpoint();
  }

  /**
   * Writes entry `seq`. A write the Store answered "unavailable" (ZooKeeper's connection loss) may
   * have landed all the same: it is settled (written again, or found written by us) before any
   * later entry goes out. Given up as failed, it would stay in the Store uncounted (never trimmed)
   * and the next leader would replay it over the newer records of its jobs.
   */
  private async putEntry(seq: number, entry: JournalEntry): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.store.put(JOURNAL_KEYS.entry(seq), entry);
        return;
      } catch (err) {
        if (attempt > 0 && isConflict(err)) {
          const there = await this.store.get<JournalEntry>(JOURNAL_KEYS.entry(seq)).catch(() => undefined);
          if (there?.value.epoch === this.epoch) return; // ours: the write whose answer was lost
        }
        const unknown = err instanceof StoreError && err.code === StoreErrorCode.UNAVAILABLE;
        if (!unknown || this.stopped || this.fenced) throw err;
        this.log.warn({ seq, attempt }, 'journal write outcome unknown (store unavailable); writing it again');
        await new Promise((r) => setTimeout(r, Math.min(1000, 10 * 2 ** attempt)));
      }
    }
  }

  /** Someone else wrote entry `seq`: a newer leader (we stop) or a stale one (we adopt its records). */
  private async collided(seq: number): Promise<void> {
    const theirs = await this.store.get<JournalEntry>(JOURNAL_KEYS.entry(seq)).catch(() => undefined);
    if (!theirs || theirs.value.epoch >= this.epoch) {
      this.fenced = true;
      this.log.error({ seq }, 'the journal was written by a newer leader: not acting any more');
      return;
    }
    this.log.warn({ seq, epoch: theirs.value.epoch }, 'adopting a stale leader’s journal entry');
    this.live.push(seq);
    this.live.sort((a, b) => a - b);
    const applied = applyEntry(this.opts.current?.() ?? new Map(), theirs.value);
    for (const [name, rec] of applied) this.note(name, seq, rec);
    this.opts.onAdopt?.(applied);
  }

  /** Copies journaled records to their job keys, one at a time, behind the commits; then trims. */
  private async checkpoint(): Promise<void> {
    if (this.checkpointing) return;
    this.checkpointing = true;
    try {
      while (!this.stopped && !this.fenced && this.pending.size > 0) {
        // Commits first (they are what launches wait for), unless the backlog grows too long.
        while (this.flushing && this.pending.size < (this.opts.checkpointForce ?? 50_000)) await this.flushing;
        const first = this.pending.entries().next().value;
        if (!first) break;
        const [name, { last: seq, rec }] = first;
        try {
          await this.writeKey(name, rec);
        } catch (err) {
          if (!isConflict(err)) {
            this.log.warn({ err, job: name }, 'checkpoint failed; will retry');
            break;
          }
          if (!(await this.stillLeading())) break;
          const v = await this.store.get<JobRecord>(KEYS.job(name));
          if (v) this.keyVersions.set(name, v.version);
          else this.keyVersions.delete(name);
          continue;
        }
        this.stats.checkpoints++;
        const again = this.pending.get(name);
        if (again?.last === seq) this.pending.delete(name);
        else if (again) {
          // Changed again meanwhile: to the back of the line; what it still needs starts after `seq`.
          this.pending.delete(name);
          this.pending.set(name, { ...again, first: seq + 1 });
        }
        if (this.pending.size === 0 || this.trimmable() >= 16) void this.trim();
      }
    } finally {
      this.checkpointing = false;
    }
  }

  private async writeKey(name: string, rec: JobRecord | null): Promise<void> {
    const version = this.keyVersions.get(name);
    if (rec) {
      this.keyVersions.set(name, await this.store.put(KEYS.job(name), rec, version));
    } else {
      if (version !== undefined) await this.store.delete(KEYS.job(name), version);
      this.keyVersions.delete(name);
    }
  }

  private async stillLeading(): Promise<boolean> {
    const e = await this.store.get<number>(JOURNAL_KEYS.epoch).catch(() => undefined);
    if (e && e.value > this.epoch) {
      this.fenced = true;
      this.log.error('a newer leader took over the journal: not acting any more');
      return false;
    }
    return true;
  }

  /** Entries older than every record still waiting for its checkpoint. */
  private trimmable(): number {
    let min = this.nextSeq;
    for (const p of this.pending.values()) min = Math.min(min, p.first);
    let n = 0;
    for (const s of this.live) if (s < min) n++;
    return n;
  }

  private async trim(): Promise<void> {
    if (this.trimming) {
      // Not dropped: the running pass computed its bound before the checkpoints that asked again.
      this.trimAgain = true;
      return;
    }
    this.trimming = true;
    try {
      do {
        this.trimAgain = false;
        let min = this.nextSeq;
        for (const p of this.pending.values()) min = Math.min(min, p.first);
        // The newest entry is kept: the next leader numbers its entries after it.
        while (!this.stopped && !this.fenced && this.live.length > 1 && (this.live[0] as number) < min) {
          const seq = this.live[0] as number;
          await this.store.delete(JOURNAL_KEYS.entry(seq));
          this.live.shift();
          this.stats.trimmed++;
        }
      } while (this.trimAgain && !this.stopped && !this.fenced);
    } catch (err) {
      this.log.warn({ err }, 'trimming the journal failed; will retry');
    } finally {
      this.trimming = false;
      this.trimAgain = false;
    }
  }
}
