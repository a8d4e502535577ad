/**
 * The registrar: what a master must remember across failover, kept in the durable Store
 * (ZooKeeper in HA mode, files under the work dir standalone). Agents admitted (and those marked
 * unreachable), frameworks (so a new leader honours their failover timeouts and refuses torn-down
 * ids), role weights and quota. Tasks are not here: a new leader learns them from the agents'
 * re-registrations, as in Mesos.
 *
 * Writes are compare-and-set against the version this master last saw: a conflict means another
 * master wrote since, i.e. this one is no longer the leader; the caller must step down.
 */
import type pino from 'pino';
import type { AgentInfo, FrameworkInfo } from '../sdk/protocol/types.js';
import type { Resource } from '../sdk/resources/resources.js';
import { isConflict, isStampedStore, type Store, type StoreStamp } from '../sdk/store/index.js';
import { RegistrarFenced, UnreadableRecord } from './errors.js';
import { AGENT_BATCHES, AgentBatches, type AgentBatchValue, agentBatchProblem } from './registrar-batches.js';
import { MAX_COMPLETED_FRAMEWORKS } from './registry.js';
import { unreadableReason } from './state/records.js';
import { taskResources, unreadableResources } from './state/task-resources.js';

export { unreadableReason };

export interface AgentRecord {
  info: AgentInfo & { id: string };
  /** Total with dynamic reservations applied (the agent reports only its static resources). */
  total: Resource[];
  state: 'admitted' | 'unreachable' | 'gone';
  unreachable_time?: number;
  /** The principal the agent id is bound to (absent in records written before binding, and when unauthenticated). */
  principal?: string;
}

export interface FrameworkRecord {
  info: FrameworkInfo & { id: string };
  /** Torn down: its id may not subscribe again. */
  completed: boolean;
  /** When it was torn down (seconds): the oldest completed frameworks are pruned first. */
  unregistered_time?: number;
  /** The principal the framework id is bound to (absent in older records). */
  principal?: string;
}

export interface RolesRecord {
  weights: { role: string; weight: number }[];
  quotas: { role: string; guarantee?: Resource[]; limit?: Resource[] }[];
}

export interface RecoveredState {
  agents: AgentRecord[];
  frameworks: FrameworkRecord[];
  roles?: RolesRecord;
  /** Records that could not be read back and were skipped (each logged). */
  skipped?: number;
}

/** Ids may hold any character; store key segments allow only [A-Za-z0-9_.:@+=,~-] and no leading '.'. */
export function keySegment(id: string): string {
  return id.replace(/[^A-Za-z0-9_:@+=,-]/g, (c) => `~${c.codePointAt(0)?.toString(16).padStart(2, '0')}~`);
}

const REGISTRAR = 'registrar/';
const AGENTS = 'registrar/agents/';
const FRAMEWORKS = 'registrar/frameworks/';
const ROLES = 'registrar/roles';
/** Registrar writes in flight at once (the rest queue in order). */
const WRITES_IN_FLIGHT = 64;
/** Registrar reads in flight at once during recovery. */
const RECOVERY_READS = 64;
/** A standby's read-ahead pass is followed by a pause of at least this many times its length. */
const READ_AHEAD_PAUSE_FACTOR = 10;

/** A registrar value read ahead by a standby, with the stamp of the node it came from. */
interface ReadAhead {
  stamp: StoreStamp;
  version: number;
  value: unknown;
}

/** What the last recovery read from the Store, and what it took from the read-ahead instead. */
export interface RecoveryReads {
  read: number;
  reused: number;
}

/** Runs `fn` over `items`, at most `limit` at once. */
async function eachBounded<T>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<void>) {
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) await fn(items[i], i);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** The record check of a registrar key, by where it is. */
function problemOfKey(key: string): ((v: unknown) => string | undefined) | undefined {
  if (key.startsWith(AGENTS)) return agentRecordProblem;
  if (key.startsWith(AGENT_BATCHES)) return agentBatchProblem;
  if (key.startsWith(FRAMEWORKS)) return frameworkRecordProblem;
  if (key === ROLES) return rolesRecordProblem;
  return undefined;
}

/** Raised when the Store says another master has written: this master has lost its leadership. */
export class RegistrarFencedError extends RegistrarFenced {}

function resourcesOk(list: unknown): boolean {
  if (!Array.isArray(list)) return false;
  try {
    // Shared by shape and checked once per shape: a new leader reads 5,000 agent records of a few
    // shapes before it may lead.
    return unreadableResources(taskResources(list as Resource[])) === undefined;
  } catch {
    return false;
  }
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Structural checks of what recovery reads: a record that fails them is skipped, not trusted. */
export function agentRecordProblem(v: unknown): string | undefined {
  if (!isObj(v) || !isObj(v.info)) return 'not an agent record';
  if (typeof v.info.id !== 'string' || v.info.id === '') return 'agent record without an id';
  if (typeof v.info.hostname !== 'string' || !isObj(v.info.attributes)) return 'agent info incomplete';
  if (!resourcesOk(v.total) || !resourcesOk(v.info.resources)) return 'agent resources unreadable';
  if (v.state !== 'admitted' && v.state !== 'unreachable' && v.state !== 'gone') return 'bad agent state';
  if (v.principal !== undefined && typeof v.principal !== 'string') return 'bad agent principal';
  return unreadableReason(v);
}

export function frameworkRecordProblem(v: unknown): string | undefined {
  if (!isObj(v) || !isObj(v.info)) return 'not a framework record';
  if (typeof v.info.id !== 'string' || v.info.id === '') return 'framework record without an id';
  if (typeof v.info.name !== 'string') return 'framework info without a name';
  if (v.info.roles !== undefined && !(Array.isArray(v.info.roles) && v.info.roles.every((r) => typeof r === 'string')))
    return 'bad framework roles';
  if (typeof v.completed !== 'boolean') return 'bad completed flag';
  if (v.principal !== undefined && typeof v.principal !== 'string') return 'bad framework principal';
  return unreadableReason(v);
}

export function rolesRecordProblem(v: unknown): string | undefined {
  if (!isObj(v) || !Array.isArray(v.weights) || !Array.isArray(v.quotas)) return 'not a roles record';
  for (const w of v.weights) {
    if (!isObj(w) || typeof w.role !== 'string' || typeof w.weight !== 'number' || !(w.weight > 0)) return 'bad weight';
  }
  for (const q of v.quotas) {
    if (!isObj(q) || typeof q.role !== 'string') return 'bad quota';
    if (q.guarantee !== undefined && !resourcesOk(q.guarantee)) return 'bad quota guarantee';
    if (q.limit !== undefined && !resourcesOk(q.limit)) return 'bad quota limit';
  }
  return unreadableReason(v);
}

export class Registrar {
  private readonly versions = new Map<string, number>();
  /** Writes to one key are applied in the order they were asked for. */
  private readonly chains = new Map<string, Promise<unknown>>();
  /** Records skipped by the last recovery because they could not be read. */
  skipped = 0;
  /**
   * Keys recovery could not read: their version is unknown, so a write would look like another
   * master's and fence this one. They are left as they are (an operator can inspect them).
   */
  private readonly unreadable = new Set<string>();
  private inFlight = 0;
  private readonly waiting: (() => void)[] = [];
  /** Agents' records many to a key (registrar-batches.ts); agents recovered from a key of their own stay there. */
  private readonly agentBatches = new AgentBatches((key, take) => this.writeTaken(key, take));
  private readonly singleKeyAgents = new Set<string>();
  /**
   * Values a standby read ahead (`readAhead`), by key, each with its node's stamp: recovery takes a
   * value from here when the key's stamp is still the same, and reads it again otherwise.
   */
  private readonly ahead = new Map<string, ReadAhead>();
  /** Bumped by every recovery: a read-ahead pass that began before one writes nothing after it. */
  private aheadGen = 0;
  /**
   * Record checks already run on values held in `ahead` (by value object; a check is a pure function
   * of the value, and nothing changes a value while it waits here). Replaced at every recovery, once
   * the values recovered belong to the master.
   */
  private checked = new Map<(v: unknown) => string | undefined, WeakMap<object, string | undefined>>();
  private aheadTimer: NodeJS.Timeout | undefined;
  private aheadStopped = true;
  private aheadFailing = false;
  /** What the last recovery read from the Store and what it took from the read-ahead. */
  lastRecovery: RecoveryReads = { read: 0, reused: 0 };

  constructor(
    private readonly store: Store,
    private readonly log: pino.Logger,
  ) {}

  /**
   * Reads everything back. A record that cannot be read (corrupt, wrong shape, out-of-range
   * number) is skipped, logged and counted: one bad record must not keep a master from starting.
   * Completed frameworks beyond MAX_COMPLETED_FRAMEWORKS (oldest first) are pruned from the Store.
   */
  async recover(): Promise<RecoveredState> {
    this.stopReadAhead();
    this.aheadGen++;
    try {
      return await this.recoverRecords();
    } finally {
      // The values recovered are the master's now: nothing read ahead is kept for a later recovery.
      this.ahead.clear();
      this.checked = new Map();
    }
  }

  private async recoverRecords(): Promise<RecoveredState> {
    this.skipped = 0;
    this.unreadable.clear();
    this.lastRecovery = { read: 0, reused: 0 };
    const out: RecoveredState = { agents: [], frameworks: [] };
    // With a Store that stamps its keys, one listing of every registrar key with its stamp: what a
    // standby read ahead under the same stamp is taken as it is, the rest is read now.
    const store = this.store;
    const stamps = isStampedStore(store) ? new Map(await store.listStamped(REGISTRAR)) : undefined;
    const keysUnder = async (prefix: string): Promise<string[]> =>
      stamps ? [...stamps.keys()].filter((k) => k.startsWith(prefix)) : store.list(prefix);
    // Reads go out RECOVERY_READS at a time: one at a time, 5,000 agents cost 5,000 round trips
    // to ZooKeeper before the new leader could take a single re-registration.
    this.agentBatches.clear();
    this.singleKeyAgents.clear();
    for (const [, v] of await this.readAll(await keysUnder(AGENTS), agentRecordProblem, stamps)) {
      const rec = v as AgentRecord;
      this.singleKeyAgents.add(rec.info.id);
      out.agents.push(rec);
    }
    for (const [key, v] of await this.readAll(await keysUnder(AGENT_BATCHES), agentBatchProblem, stamps)) {
      const good: AgentRecord[] = [];
      for (const rec of (v as AgentBatchValue).agents) {
        const why = this.checkOnce(agentRecordProblem, rec);
        if (why || this.singleKeyAgents.has(rec.info.id)) {
          this.skipped++;
          this.log.error(
            { key, why: why ?? 'agent also has a key of its own' },
            'registrar record unreadable; skipped',
          );
          continue;
        }
        good.push(rec);
      }
      this.agentBatches.recovered(key, good);
      out.agents.push(...good);
    }
    for (const [, v] of await this.readAll(await keysUnder(FRAMEWORKS), frameworkRecordProblem, stamps)) {
      out.frameworks.push(v as FrameworkRecord);
    }
    const roles = stamps && !stamps.has(ROLES) ? undefined : await this.read(ROLES, rolesRecordProblem, stamps);
    if (roles) out.roles = roles as RolesRecord;
    const completed = out.frameworks
      .filter((f) => f.completed)
      .sort((a, b) => (a.unregistered_time ?? 0) - (b.unregistered_time ?? 0));
    const excess = completed.slice(0, Math.max(0, completed.length - MAX_COMPLETED_FRAMEWORKS));
    if (excess.length > 0) {
      const drop = new Set(excess);
      out.frameworks = out.frameworks.filter((f) => !drop.has(f));
      for (const f of excess) await this.removeFramework(f.info.id).catch(() => undefined);
      this.log.info({ pruned: excess.length }, 'pruned completed frameworks beyond the cap');
    }
    out.skipped = this.skipped;
    this.log.info(
      {
        agents: out.agents.length,
        frameworks: out.frameworks.length,
        skipped: this.skipped,
        keysRead: this.lastRecovery.read,
        keysReadAhead: this.lastRecovery.reused,
      },
      'registrar recovered',
    );
    return out;
  }

  /**
   * One pass of a standby's read-ahead: lists every registrar key with its stamp, forgets what it
   * holds of keys gone or changed, and reads the keys whose stamp it does not hold (checking each
   * record as recovery would). At the election, recovery then reads only what changed since the
   * last pass. Nothing here is trusted without its stamp: a key changed, deleted, or deleted and
   * created again has another stamp (sdk/store/zk-store.ts). Does nothing with a Store without stamps.
   */
  async readAhead(): Promise<{ read: number; held: number }> {
    const store = this.store;
    if (!isStampedStore(store)) return { read: 0, held: 0 };
    const gen = this.aheadGen;
    const listed = await store.listStamped(REGISTRAR);
    if (gen !== this.aheadGen) return { read: 0, held: this.ahead.size };
    const live = new Set<string>();
    const stale: string[] = [];
    for (const [key, stamp] of listed) {
      if (!problemOfKey(key)) continue;
      live.add(key);
      if (this.ahead.get(key)?.stamp !== stamp) {
        this.ahead.delete(key);
        stale.push(key);
      }
    }
    for (const key of this.ahead.keys()) if (!live.has(key)) this.ahead.delete(key);
    let read = 0;
    await eachBounded(stale, RECOVERY_READS, async (key) => {
      let got: { value: unknown; version: number; stamp: StoreStamp } | undefined;
      try {
        got = await store.getStamped<unknown>(key);
      } catch (e) {
        // An unreadable record is left to recovery, which reads, counts and logs it.
        if ((e as { code?: string }).code === 'AGORA_STORE_CORRUPT') return;
        throw e;
      }
      if (gen !== this.aheadGen || !got) return;
      read++;
      this.ahead.set(key, { stamp: got.stamp, version: got.version, value: got.value });
      const problem = problemOfKey(key);
      if (problem && this.checkOnce(problem, got.value) === undefined && problem === agentBatchProblem) {
        for (const rec of (got.value as AgentBatchValue).agents) this.checkOnce(agentRecordProblem, rec);
      }
    });
    return { read, held: this.ahead.size };
  }

  /**
   * Reads ahead every `intervalMs` (the first pass at once) until `stopReadAhead` or a recovery.
   * A pass is followed by a pause of at least READ_AHEAD_PAUSE_FACTOR times its own length, so that
   * while agents register by the thousand (every batch key rewritten between two passes) the
   * standby spends a bounded share of its time, and of ZooKeeper's, reading ahead. A failed pass
   * (ZooKeeper away) is logged once and tried again at the next interval.
   */
  startReadAhead(intervalMs: number): void {
    if (!this.aheadStopped || !(intervalMs > 0) || !isStampedStore(this.store)) return;
    this.aheadStopped = false;
    const pass = () => {
      this.aheadTimer = undefined;
      if (this.aheadStopped) return;
      const started = performance.now();
      this.readAhead()
        .then(
          (r) => {
            this.log.debug({ read: r.read, held: r.held }, 'registrar read ahead');
            if (this.aheadFailing) this.log.info({ held: r.held }, 'registrar read-ahead works again');
            this.aheadFailing = false;
          },
          (e: Error) => {
            if (!this.aheadFailing) this.log.warn({ err: e.message }, 'registrar read-ahead failed; trying again');
            this.aheadFailing = true;
          },
        )
        .finally(() => {
          const pause = Math.max(intervalMs, READ_AHEAD_PAUSE_FACTOR * (performance.now() - started));
          if (!this.aheadStopped) this.aheadTimer = setTimeout(pass, pause).unref();
        });
    };
    pass();
  }

  stopReadAhead(): void {
    this.aheadStopped = true;
    if (this.aheadTimer) clearTimeout(this.aheadTimer);
    this.aheadTimer = undefined;
  }

  /** `problem(v)`, run once per value object while it is held by the read-ahead. */
  private checkOnce(problem: (v: unknown) => string | undefined, v: unknown): string | undefined {
    if (typeof v !== 'object' || v === null) return problem(v);
    let memo = this.checked.get(problem);
    if (!memo) {
      memo = new WeakMap();
      this.checked.set(problem, memo);
    }
    if (memo.has(v)) return memo.get(v);
    const why = problem(v);
    memo.set(v, why);
    return why;
  }

  /**
   * 5,000 agents registering at once asked ZooKeeper for 5,000 writes at once: requests timed out
   * and the session expired. Writes beyond the limit wait their turn here instead.
   */
  private limited(op: () => Promise<void>): Promise<void> {
    if (this.inFlight >= WRITES_IN_FLIGHT) {
      return new Promise<void>((resolve) => this.waiting.push(resolve)).then(() => this.limited(op));
    }
    this.inFlight++;
    return op().finally(() => {
      this.inFlight--;
      this.waiting.shift()?.();
    });
  }

  /** Reads `keys` with a bounded number in flight; [key, value] in key order, unreadable ones left out. */
  private async readAll(
    keys: string[],
    problem: (v: unknown) => string | undefined,
    stamps: ReadonlyMap<string, StoreStamp> | undefined,
  ): Promise<[string, unknown][]> {
    const values: unknown[] = new Array(keys.length);
    await eachBounded(keys, RECOVERY_READS, async (key, i) => {
      values[i] = await this.read(key, problem, stamps);
    });
    const out: [string, unknown][] = [];
    keys.forEach((k, i) => {
      if (values[i] !== undefined) out.push([k, values[i]]);
    });
    return out;
  }

  /**
   * Reads one key at recovery: from the read-ahead when it holds the key under the stamp the
   * recovery's listing gave (the node has not changed since it was read), else from the Store.
   */
  private async read(
    key: string,
    problem: (v: unknown) => string | undefined,
    stamps?: ReadonlyMap<string, StoreStamp>,
  ): Promise<unknown> {
    let v: { value: unknown; version: number } | undefined;
    const held = this.ahead.get(key);
    try {
      if (held !== undefined && stamps !== undefined && held.stamp === stamps.get(key)) {
        v = held;
        this.lastRecovery.reused++;
      } else {
        this.lastRecovery.read++;
        v = await this.store.get<unknown>(key);
      }
    } catch (e) {
      if ((e as { code?: string }).code !== 'AGORA_STORE_CORRUPT') throw e;
      this.skipped++;
      this.unreadable.add(key);
      this.log.error({ key, err: (e as Error).message }, 'registrar record unreadable; skipped');
      return undefined;
    }
    if (!v) return undefined;
    this.versions.set(key, v.version);
    const why = this.checkOnce(problem, v.value);
    if (why) {
      this.skipped++;
      this.log.error({ key, why }, 'registrar record unreadable; skipped');
      return undefined;
    }
    return v.value;
  }

  /** Runs `op` on `key` after the writes already queued for it, with at most WRITES_IN_FLIGHT Store writes at once. */
  private enqueue(key: string, op: () => Promise<void>): Promise<void> {
    const next = (this.chains.get(key) ?? Promise.resolve()).catch(() => undefined).then(() => this.limited(op));
    this.chains.set(key, next);
    return next;
  }

  private write(key: string, value: unknown, problem: (v: unknown) => string | undefined): Promise<void> {
    const why = this.unreadable.has(key) ? 'the record there could not be read at recovery' : problem(value);
    if (why) {
      return Promise.reject(new UnreadableRecord(`refusing to write registrar key ${key}: ${why}`));
    }
    return this.enqueue(key, async () => {
      try {
        const version = await this.store.put(key, value, this.versions.get(key));
        this.versions.set(key, version);
      } catch (e) {
        if (isConflict(e)) throw new RegistrarFencedError(`registrar key ${key} was written by another master`);
        throw e;
      }
    });
  }

  saveAgent(rec: AgentRecord): Promise<void> {
    if (this.singleKeyAgents.has(rec.info.id))
      return this.write(AGENTS + keySegment(rec.info.id), rec, agentRecordProblem);
    const why = agentRecordProblem(rec);
    if (why)
      return Promise.reject(new UnreadableRecord(`refusing to write the record of agent ${rec.info.id}: ${why}`));
    return this.agentBatches.save(rec);
  }

  /** Deletes the record of a new agent that left before it was admitted (new agents live in batches). */
  removeAgent(id: string): Promise<void> {
    return this.agentBatches.remove(id);
  }

  /** A batch write: the value is taken when the write starts (undefined: an earlier write took every change). */
  private writeTaken(key: string, take: () => AgentBatchValue | undefined): Promise<void> {
    if (this.unreadable.has(key)) {
      return Promise.reject(new UnreadableRecord(`refusing to write registrar key ${key}: unreadable at recovery`));
    }
    return this.enqueue(key, async () => {
      const value = take();
      if (!value) return;
      try {
        const version = await this.store.put(key, value, this.versions.get(key));
        this.versions.set(key, version);
      } catch (e) {
        if (isConflict(e)) throw new RegistrarFencedError(`registrar key ${key} was written by another master`);
        throw e;
      }
    });
  }

  saveFramework(rec: FrameworkRecord): Promise<void> {
    return this.write(FRAMEWORKS + keySegment(rec.info.id), rec, frameworkRecordProblem);
  }

  /** Forgets a completed framework (pruned beyond the cap). */
  removeFramework(id: string): Promise<void> {
    const key = FRAMEWORKS + keySegment(id);
    return this.enqueue(key, async () => {
      try {
        await this.store.delete(key, this.versions.get(key));
      } catch (e) {
        if (isConflict(e)) throw new RegistrarFencedError(`registrar key ${key} was written by another master`);
        throw e;
      }
      this.versions.delete(key);
    });
  }

  saveRoles(rec: RolesRecord): Promise<void> {
    return this.write(ROLES, rec, rolesRecordProblem);
  }

  async close(): Promise<void> {
    this.stopReadAhead();
    await Promise.allSettled([...this.chains.values()]);
    await this.store.close();
  }
}
