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

export interface AgentRecord {
  info: AgentInfo & { id: string };
  /** Total with dynamic reservations applied (the agent reports only its static resources). */
  total: Resource[];
  state: 'admitted' | 'unreachable' | 'gone';
  unreachable_time?: number;
}

export interface FrameworkRecord {
  info: FrameworkInfo & { id: string };
  /** Torn down: its id may not subscribe again. */
  completed: boolean;
}

export interface RolesRecord {
  weights: { role: string; weight: number }[];
  quotas: { role: string; guarantee?: Resource[]; limit?: Resource[] }[];
}

export interface RecoveredState {
  agents: AgentRecord[];
  frameworks: FrameworkRecord[];
  roles?: RolesRecord;
}

/** Ids may hold any character; store key segments allow only [A-Za-z0-9_.:@+=,~-] and no leading '.'. */
export function keySegment(id: string): string {
  return id.replace(/[^A-Za-z0-9_:@+=,-]/g, (c) => `~${c.codePointAt(0)?.toString(16).padStart(2, '0')}~`);
}

const AGENTS = 'registrar/agents/';
const FRAMEWORKS = 'registrar/frameworks/';
const ROLES = 'registrar/roles';

/** Raised when the Store says another master has written: this master has lost its leadership. */
export class RegistrarFencedError extends Error {
  readonly code = 'AGORA_REGISTRAR_FENCED';
}

export class Registrar {
  private readonly versions = new Map<string, number>();
  /** Writes to one key are applied in the order they were asked for. */
  private readonly chains = new Map<string, Promise<unknown>>();

  constructor(
    private readonly store: Store,
    private readonly log: pino.Logger,
  ) {}

  async recover(): Promise<RecoveredState> {
    const out: RecoveredState = { agents: [], frameworks: [] };
    for (const key of await this.store.list(AGENTS)) {
      const v = await this.store.get<AgentRecord>(key);
      if (!v) continue;
      this.versions.set(key, v.version);
      out.agents.push(v.value);
    }
    for (const key of await this.store.list(FRAMEWORKS)) {
      const v = await this.store.get<FrameworkRecord>(key);
      if (!v) continue;
      this.versions.set(key, v.version);
      out.frameworks.push(v.value);
    }
    const roles = await this.store.get<RolesRecord>(ROLES);
    if (roles) {
      this.versions.set(ROLES, roles.version);
      out.roles = roles.value;
    }
    this.log.info({ agents: out.agents.length, frameworks: out.frameworks.length }, 'registrar recovered');
    return out;
  }

  private write<T>(key: string, value: T): Promise<void> {
    const prev = this.chains.get(key) ?? Promise.resolve();
    const next = prev
      .catch(() => undefined)
      .then(async () => {
        try {
          const version = await this.store.put(key, value, this.versions.get(key));
          this.versions.set(key, version);
        } catch (e) {
          if (isConflict(e)) throw new RegistrarFencedError(`registrar key ${key} was written by another master`);
          throw e;
        }
      });
    this.chains.set(key, next);
    return next;
  }

  private remove(key: string): Promise<void> {
    const prev = this.chains.get(key) ?? Promise.resolve();
    const next = prev
      .catch(() => undefined)
      .then(async () => {
        await this.store.delete(key, this.versions.get(key));
        this.versions.delete(key);
      });
    this.chains.set(key, next);
    return next;
  }

  saveAgent(rec: AgentRecord): Promise<void> {
    return this.write(AGENTS + keySegment(rec.info.id), rec);
  }

  removeAgent(id: string): Promise<void> {
    return this.remove(AGENTS + keySegment(id));
  }

  saveFramework(rec: FrameworkRecord): Promise<void> {
    return this.write(FRAMEWORKS + keySegment(rec.info.id), rec);
  }

  saveRoles(rec: RolesRecord): Promise<void> {
    return this.write(ROLES, rec);
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.chains.values()]);
    await this.store.close();
  }
}
