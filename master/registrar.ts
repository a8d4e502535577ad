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
import { isConflict, type Store } from '../sdk/store/index.js';
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

const AGENTS = 'registrar/agents/';
const FRAMEWORKS = 'registrar/frameworks/';
const ROLES = 'registrar/roles';
/** Registrar writes in flight at once (the rest queue in order). */
const WRITES_IN_FLIGHT = 64;
/** Registrar reads in flight at once during recovery. */
const RECOVERY_READS = 64;

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
    this.skipped = 0;
    this.unreadable.clear();
    const out: RecoveredState = { agents: [], frameworks: [] };
    // Reads go out RECOVERY_READS at a time: one at a time, 5,000 agents cost 5,000 round trips
    // to ZooKeeper before the new leader could take a single re-registration.
    this.agentBatches.clear();
    this.singleKeyAgents.clear();
    for (const [, v] of await this.readAll(await this.store.list(AGENTS), agentRecordProblem)) {
      const rec = v as AgentRecord;
      this.singleKeyAgents.add(rec.info.id);
      out.agents.push(rec);
    }
    for (const [key, v] of await this.readAll(await this.store.list(AGENT_BATCHES), agentBatchProblem)) {
      const good: AgentRecord[] = [];
      for (const rec of (v as AgentBatchValue).agents) {
        const why = agentRecordProblem(rec);
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
    for (const [, v] of await this.readAll(await this.store.list(FRAMEWORKS), frameworkRecordProblem)) {
      out.frameworks.push(v as FrameworkRecord);
    }
    const roles = await this.read(ROLES, rolesRecordProblem);
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
      { agents: out.agents.length, frameworks: out.frameworks.length, skipped: this.skipped },
      'registrar recovered',
    );
    return out;
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
  private async readAll(keys: string[], problem: (v: unknown) => string | undefined): Promise<[string, unknown][]> {
    const values: unknown[] = new Array(keys.length);
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < keys.length; i = next++) values[i] = await this.read(keys[i], problem);
    };
    await Promise.all(Array.from({ length: Math.min(RECOVERY_READS, keys.length) }, worker));
    const out: [string, unknown][] = [];
    keys.forEach((k, i) => {
      if (values[i] !== undefined) out.push([k, values[i]]);
    });
    return out;
  }

  private async read(key: string, problem: (v: unknown) => string | undefined): Promise<unknown> {
    let v: { value: unknown; version: number } | undefined;
    try {
      v = await this.store.get<unknown>(key);
    } catch (e) {
      if ((e as { code?: string }).code !== 'AGORA_STORE_CORRUPT') throw e;
      this.skipped++;
      this.unreadable.add(key);
      this.log.error({ key, err: (e as Error).message }, 'registrar record unreadable; skipped');
      return undefined;
    }
    if (!v) return undefined;
    this.versions.set(key, v.version);
    const why = problem(v.value);
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
    await Promise.allSettled([...this.chains.values()]);
    await this.store.close();
  }
}
