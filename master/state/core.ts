/**
 * The data the master state holds, and its settings. Each concern (agents, frameworks, offers,
 * tasks, leadership) is a set of functions over this one object that record effects in an
 * `Effects`; `MasterState` (master-state.ts) routes events to them.
 */
import type { MasterInfo } from '../../sdk/protocol/types.js';
import type { Resources } from '../../sdk/resources/resources.js';
import { IdSequence } from '../../sdk/util/id.js';
import type { AllocatorRole } from '../allocator/types.js';
import type { AgentEntry, FrameworkEntry, OfferEntry, TaskEntry } from '../registry.js';
import { type Effects, Timers } from './effects.js';
import { OfferIndex } from './offer-index.js';
import type { ProtocolSecurity } from './security.js';

export interface MasterConfig {
  info: MasterInfo;
  /** Reads the time (ms since the epoch); the shell arms the timers. */
  now: () => number;
  allocationIntervalMs: number;
  agentPingTimeoutMs: number;
  maxAgentPingTimeouts: number;
  /** Rescind offers held longer than this; off when undefined (Mesos default). */
  offerTimeoutMs?: number;
  minAllocatable: Resources[];
  schedulerHeartbeatSeconds: number;
  /** How long a new leader waits for remembered agents to re-register (Mesos: 10 mins). */
  agentReregisterTimeoutMs: number;
  /** How long a new leader waits for remembered frameworks to re-subscribe before their failover timeouts start. */
  frameworkResubscribeTimeoutMs: number;
  /**
   * After a failover, allocation waits while remembered agents are still re-registering, for at
   * most this long after the election (0: no wait). Offers made on a partial view would be
   * declined and made again, and every cycle in the burst of re-registrations costs the new
   * leader time it needs to take the agents back (Mesos's allocator likewise holds off during
   * recovery, there only when quota is set).
   */
  allocationHoldMs?: number;
  /** Largest frame a peer accepts: outgoing messages are split below it. */
  maxFrameBytes: number;
  /** The current leader as detected (for LEADER replies when not leading). */
  leaderInfo: () => MasterInfo | undefined;
  /** Authentication and ACLs on the protocol (master/state/security.ts); allow-all when absent. */
  security?: ProtocolSecurity;
}

export interface Counters {
  tasks: Record<string, number>;
  offersSent: number;
  offersDeclined: number;
  offersRescinded: number;
  allocationRuns: number;
  lastAllocationMs: number;
  invalidFrames: number;
  statusUpdates: number;
  agentsRemoved: number;
  /** Status updates refused: from an agent that does not hold the task. */
  statusUpdatesDropped: number;
  /** Acknowledgements refused: naming an agent that does not hold the task. */
  acknowledgementsDropped: number;
  /** Registration attempts refused (id in use, unknown id, second agent on a connection). */
  agentRegistrationsRefused: number;
  /** Registrar records that recovery could not read back and skipped. */
  registrarBadRecords: number;
  /** Registrar writes refused because the record could not be read back. */
  registrarWritesRefused: number;
  /** Protocol calls refused by authentication, id binding or the ACLs (SUBSCRIBE, REGISTER, tasks, TEARDOWN, RESERVE). */
  authRefusals: number;
  /** Connections closed by the shell: over the per-address cap, or not subscribed/registered within the deadline. */
  connectionsOverAddressCap: number;
  connectionsIdleClosed: number;
  /** Framework calls refused by `--rate_limits`. */
  frameworkCallsRateLimited: number;
  /** Times a framework connection became congested (offers held back until it read its backlog). */
  schedulerCongestions: number;
}

export function newCounters(): Counters {
  return {
    tasks: {},
    offersSent: 0,
    offersDeclined: 0,
    offersRescinded: 0,
    allocationRuns: 0,
    lastAllocationMs: 0,
    invalidFrames: 0,
    statusUpdates: 0,
    agentsRemoved: 0,
    statusUpdatesDropped: 0,
    acknowledgementsDropped: 0,
    agentRegistrationsRefused: 0,
    registrarBadRecords: 0,
    registrarWritesRefused: 0,
    authRefusals: 0,
    connectionsOverAddressCap: 0,
    connectionsIdleClosed: 0,
    frameworkCallsRateLimited: 0,
    schedulerCongestions: 0,
  };
}

/** One agent connection: which agent it carries, once admitted. */
export interface AgentConn {
  agentId?: string;
  /** The principal the connection authenticated as at the upgrade. */
  principal?: string;
  /** A REGISTER is waiting for its durable write. */
  registering?: boolean;
  /** The agent that REGISTER will admit. */
  pending?: AgentEntry;
}

/** One scheduler connection: which framework it carries, once subscribed. */
export interface SchedulerConn {
  frameworkId?: string;
  /** A new framework whose record is being made durable; SUBSCRIBED goes out once it is. */
  pending?: FrameworkEntry;
  /** The principal the connection authenticated as at the upgrade. */
  principal?: string;
  /** Its unread backlog is over the high water: the allocator leaves the framework out until it reads. */
  congested?: boolean;
}

/** Event-driven cycles start at most once per this many times the last cycle's cost. */
export const CYCLE_SPACING = 4;
/** Fewer changed agents than this (or than half the cluster) keep an event cycle to those agents. */
const MIN_DIRTY_FOR_FULL = 64;

/**
 * The agents map, counting its changes: with `totalsVersion`, what the cluster's totals kept for an
 * event's cycle are checked against (master/state/offers.ts clusterTotals), in O(1).
 */
export class AgentMap extends Map<string, AgentEntry> {
  version = 0;
  override set(id: string, entry: AgentEntry): this {
    this.version++;
    return super.set(id, entry);
  }
  override delete(id: string): boolean {
    this.version++;
    return super.delete(id);
  }
  override clear(): void {
    this.version++;
    super.clear();
  }
}

export class Core {
  readonly agents = new AgentMap();
  /** Counts every change of an agent's total (setAgentTotal): see AgentMap. */
  totalsVersion = 0;
  readonly frameworks = new Map<string, FrameworkEntry>();
  readonly completedFrameworks: FrameworkEntry[] = [];
  readonly offers = new OfferIndex<OfferEntry>();
  readonly tasks = new Map<string, TaskEntry>();
  roles = new Map<string, AllocatorRole>();
  /** An agent's total changes only here, so that the totals kept for event cycles see it. */
  setAgentTotal(agent: AgentEntry, total: Resources): void {
    if (agent.total === total) return;
    agent.total = total;
    this.totalsVersion++;
  }
  /** Agents remembered from the registrar that have not re-registered with this leader yet. */
  readonly recovering = new Set<string>();
  /** Frameworks remembered from the registrar that have not re-subscribed yet (within the window). */
  readonly recoveringFrameworks = new Set<string>();
  /**
   * The re-subscribe window after a failover is open: frameworks adopted from re-registering
   * agents wait for it to close, as remembered ones do, before their failover timeouts start.
   */
  frameworkWindowOpen = false;
  readonly agentConns = new Map<string, AgentConn>();
  readonly schedulerConns = new Map<string, SchedulerConn>();
  readonly counters: Counters = newCounters();
  leading = false;
  electedAt?: number;
  /** An "allocate soon" timer is armed. */
  allocationPending = false;
  /**
   * What the armed "allocate soon" cycle must look at: every agent (`all`: something about the
   * frameworks or roles changed), only the agents in `dirtyAgents` (`agents`: a task ended, an
   * agent joined, an offer came back: Mesos allocates just the affected agent), or nothing left
   * (`none`: a full cycle ran since).
   */
  allocationScope: 'none' | 'agents' | 'all' = 'none';
  readonly dirtyAgents = new Set<string>();
  /** When the last cycle started (clock ms) and what it cost, snapshot to booked offers (ms). */
  lastCycleAt = Number.NEGATIVE_INFINITY;
  lastCycleCostMs = 0;
  private readonly ids: IdSequence;

  constructor(readonly cfg: MasterConfig) {
    this.ids = new IdSequence(cfg.info.id);
  }

  nowMs(): number {
    return this.cfg.now();
  }

  nowSecs(): number {
    return this.cfg.now() / 1000;
  }

  /** A fresh id with this tag that is not `taken` (ids brought by callers may look like ours). */
  newId(tag: string, taken: (id: string) => boolean): string {
    for (;;) {
      const id = this.ids.next(tag);
      if (!taken(id)) return id;
    }
  }

  isCompletedFramework(id: string): boolean {
    return this.completedFrameworks.some((f) => f.id === id);
  }

  /**
   * New frameworks whose connection closed while their record was being written (connection id →
   * framework id): the record is deleted once the write lands, so no later leader recovers a
   * framework that was never admitted.
   */
  readonly abandonedFrameworks = new Map<string, string>();

  /**
   * New agents whose connection closed while their record was being written (connection id → agent
   * id): the agent never learnt its id and registers anew, so the record is deleted once the write
   * lands, and no later leader waits for an agent that was never admitted.
   */
  readonly abandonedAgents = new Map<string, string>();

  /** An id given to a new framework whose record is still being written. */
  isPendingFramework(id: string): boolean {
    for (const c of this.schedulerConns.values()) if (c.pending?.id === id) return true;
    for (const x of this.abandonedFrameworks.values()) if (x === id) return true;
    return false;
  }

  /**
   * A new leader holds allocation while agents it remembers are still re-registering, up to
   * `allocationHoldMs` after its election; what was asked for meanwhile runs as one cycle after.
   */
  allocationHeld(): boolean {
    const hold = this.cfg.allocationHoldMs ?? 0;
    return (
      hold > 0 &&
      this.leading &&
      this.recovering.size > 0 &&
      this.electedAt !== undefined &&
      this.nowMs() < this.electedAt + hold
    );
  }

  /**
   * Batches allocation requests into one cycle soon after. Cycles that events ask for are spaced
   * by CYCLE_SPACING times what the last one cost, so a stream of events (5,000 agents registering)
   * shares cycles instead of running one full cycle per event: allocation then takes a bounded
   * share of the master's time however many agents there are. With `agentId`, only that agent
   * changed: unless something else asks for every agent before the cycle runs, it looks at the
   * changed agents only.
   */
  requestAllocation(out: Effects, agentId?: string): void {
    if (agentId === undefined) this.allocationScope = 'all';
    else if (this.allocationScope !== 'all') {
      this.allocationScope = 'agents';
      // Once half the agents changed, a full cycle costs about what theirs would; and a set of
      // thousands of ids grows through tables over 128 KB, which V8 maps afresh each time
      // (offer-index.ts says why that is dear).
      this.dirtyAgents.add(agentId);
      if (this.dirtyAgents.size >= Math.max(MIN_DIRTY_FOR_FULL, this.agents.size >> 1)) {
        this.allocationScope = 'all';
        this.dirtyAgents.clear();
      }
    }
    if (this.allocationPending || this.allocationHeld()) return;
    this.allocationPending = true;
    const due = this.lastCycleAt + CYCLE_SPACING * this.lastCycleCostMs;
    out.arm(Timers.allocateSoon, Number.isFinite(due) ? Math.max(0, due - this.nowMs()) : 0);
  }
}
