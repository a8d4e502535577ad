/**
 * The master: admits agents, subscribes frameworks, turns the allocator's plan into offers,
 * validates ACCEPTs, sends tasks to agents, routes status updates and their acknowledgements, and
 * notices agents that fall silent. The HTTP surface lives in http.ts; the decisions (allocation,
 * accept validation) are pure functions called from here.
 */
import { hostname as osHostname } from 'node:os';
import type pino from 'pino';
import type { CodecError } from '../sdk/codec/index.js';
import type { AgentMessage, MasterToAgentMessage, SchedulerCall, SchedulerEvent } from '../sdk/protocol/messages.js';
import {
  type FrameworkInfo,
  isTerminal,
  type MasterInfo,
  type Offer,
  type TaskRecord,
  TaskState,
  type TaskStatus,
} from '../sdk/protocol/types.js';
import { DEFAULT_ROLE, Resources } from '../sdk/resources/resources.js';
import type { Peer } from '../sdk/transport/index.js';
import { type Clock, systemClock } from '../sdk/util/clock.js';
import { IdSequence, newId } from '../sdk/util/id.js';
import { type Rng, seededRng } from '../sdk/util/random.js';
import { planAccept } from './accept.js';
import type { AllocateFn, AllocatorRole, AllocatorSnapshot } from './allocator/types.js';
import { type AgentRecord, type Registrar, RegistrarFencedError, type RolesRecord } from './registrar.js';
import {
  type AgentEntry,
  type AgentState,
  addAllocation,
  type FrameworkEntry,
  MAX_COMPLETED_FRAMEWORKS,
  MAX_COMPLETED_TASKS_PER_FRAMEWORK,
  newAgentEntry,
  newFrameworkEntry,
  type OfferEntry,
  subtractAllocation,
  type TaskEntry,
  taskKey,
} from './registry.js';

export const VERSION = '0.1.0';

export interface MasterOptions {
  port: number;
  /** Address to advertise (MasterInfo); defaults to 127.0.0.1 when listening on all addresses. */
  advertiseIp?: string;
  hostname?: string;
  allocationIntervalMs?: number;
  agentPingTimeoutMs?: number;
  maxAgentPingTimeouts?: number;
  /** Rescind offers held longer than this; off when undefined (Mesos default). */
  offerTimeoutMs?: number;
  minAllocatable?: Resources[];
  schedulerHeartbeatSeconds?: number;
  allocate: AllocateFn;
  logger: pino.Logger;
  clock?: Clock;
  seed?: number;
  /** Durable memory across failover; without one, a restarted master starts empty. */
  registrar?: Registrar;
  /** How long a new leader waits for the agents it remembers to re-register (Mesos: 10 mins). */
  agentReregisterTimeoutMs?: number;
  /** The current leader, as detected (for LEADER replies and redirects when not leading). */
  leaderInfo?: () => MasterInfo | undefined;
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
}

const DEFAULT_REFUSE_SECONDS = 5;
const MAX_REFUSE_SECONDS = 365 * 24 * 3600;

export class Master {
  readonly info: MasterInfo;
  readonly agents = new Map<string, AgentEntry>();
  readonly frameworks = new Map<string, FrameworkEntry>();
  readonly completedFrameworks: FrameworkEntry[] = [];
  readonly offers = new Map<string, OfferEntry>();
  readonly tasks = new Map<string, TaskEntry>();
  private _roles = new Map<string, AllocatorRole>();
  /** Weights and quota per role; changed only through `changeRoles`. */
  get roles(): ReadonlyMap<string, AllocatorRole> {
    return this._roles;
  }
  /** Agents remembered from the registrar that have not re-registered with this leader yet. */
  readonly recovering = new Set<string>();
  readonly counters: Counters = {
    tasks: {},
    offersSent: 0,
    offersDeclined: 0,
    offersRescinded: 0,
    allocationRuns: 0,
    lastAllocationMs: 0,
    invalidFrames: 0,
    statusUpdates: 0,
    agentsRemoved: 0,
  };
  readonly startedAt: number;
  electedAt?: number;
  leading = false;

  private readonly log: pino.Logger;
  private readonly clock: Clock;
  private readonly rng: Rng;
  private readonly ids: IdSequence;
  private allocationTimer?: NodeJS.Timeout;
  private pingTimer?: NodeJS.Timeout;
  private pendingAllocation?: NodeJS.Immediate;
  private reregisterTimer?: NodeJS.Timeout;
  private heartbeatTimer?: NodeJS.Timeout;
  private readonly registrar?: Registrar;
  private readonly leaderInfo: () => MasterInfo | undefined;
  private readonly agentReregisterTimeoutMs: number;
  private readonly opts: Required<
    Omit<
      MasterOptions,
      | 'offerTimeoutMs'
      | 'advertiseIp'
      | 'hostname'
      | 'clock'
      | 'seed'
      | 'registrar'
      | 'agentReregisterTimeoutMs'
      | 'leaderInfo'
    >
  > &
    Pick<MasterOptions, 'offerTimeoutMs'>;

  constructor(opts: MasterOptions) {
    this.clock = opts.clock ?? systemClock;
    this.rng = seededRng(opts.seed ?? Date.now());
    this.log = opts.logger;
    this.opts = {
      port: opts.port,
      allocationIntervalMs: opts.allocationIntervalMs ?? 1000,
      agentPingTimeoutMs: opts.agentPingTimeoutMs ?? 15_000,
      maxAgentPingTimeouts: opts.maxAgentPingTimeouts ?? 5,
      offerTimeoutMs: opts.offerTimeoutMs,
      minAllocatable: opts.minAllocatable ?? [Resources.parse('cpus:0.01'), Resources.parse('mem:32')],
      schedulerHeartbeatSeconds: opts.schedulerHeartbeatSeconds ?? 15,
      allocate: opts.allocate,
      logger: opts.logger,
    };
    const id = newId();
    this.ids = new IdSequence(id);
    const ip = opts.advertiseIp ?? '127.0.0.1';
    const host = opts.hostname ?? osHostname();
    this.info = {
      id,
      pid: `master@${ip}:${opts.port}`,
      hostname: host,
      port: opts.port,
      address: { hostname: host, ip, port: opts.port },
      version: VERSION,
    };
    this.startedAt = this.clock.now();
    this.registrar = opts.registrar;
    this.agentReregisterTimeoutMs = opts.agentReregisterTimeoutMs ?? 10 * 60_000;
    this.leaderInfo = opts.leaderInfo ?? (() => (this.leading ? this.info : undefined));
  }

  // ------------------------------------------------------------------ leadership

  /**
   * Takes over as leader: reads the registrar (agents, frameworks, roles), then waits for the
   * remembered agents to re-register; those that do not within the timeout are marked unreachable.
   */
  async becomeLeader(): Promise<void> {
    const rec = this.registrar ? await this.registrar.recover() : { agents: [], frameworks: [], roles: undefined };
    const now = this.nowSecs();
    for (const a of rec.agents) this.agents.set(a.info.id, this.recoveredAgent(a, now));
    for (const f of rec.frameworks) {
      const fw = newFrameworkEntry(f.info, now);
      if (f.completed) {
        this.completedFrameworks.push(fw);
        continue;
      }
      this.frameworks.set(fw.id, fw);
      this.startFailoverTimer(fw);
    }
    if (rec.roles) this._roles = rolesFromRecord(rec.roles);
    this.leading = true;
    this.electedAt = this.clock.now();
    if (this.recovering.size > 0) {
      this.reregisterTimer = setTimeout(() => {
        for (const id of [...this.recovering]) {
          const a = this.agents.get(id);
          this.recovering.delete(id);
          if (a && a.state !== 'active') this.markUnreachable(a);
        }
      }, this.agentReregisterTimeoutMs);
      this.reregisterTimer.unref();
    }
    this.log.info(
      { agents: rec.agents.length, frameworks: rec.frameworks.length, awaiting: this.recovering.size },
      'elected leader; waiting for agents to re-register',
    );
    this.requestAllocation();
  }

  private recoveredAgent(a: AgentRecord, now: number): AgentEntry {
    const reachable = a.state === 'admitted';
    if (reachable) this.recovering.add(a.info.id);
    const state: AgentState = a.state === 'admitted' ? 'disconnected' : a.state;
    const entry = newAgentEntry(a.info, Resources.from(a.total), state, now, '');
    entry.unreachableAt = a.unreachable_time;
    return entry;
  }

  /**
   * Stops acting as leader at once (lost the ZooKeeper session, or fenced by another master's
   * write): every connection is told where the leader is and closed, and all state is dropped;
   * a later election rebuilds it from the registrar and the agents.
   */
  stepDown(reason: string): void {
    if (!this.leading) return;
    this.leading = false;
    this.log.error({ reason }, 'no longer the leader; dropping all connections and state');
    clearTimeout(this.reregisterTimer);
    const leader = { master_info: this.leaderInfo() };
    for (const a of this.agents.values()) {
      a.peer?.send({ type: 'LEADER', leader });
      a.peer?.close(1000, 'not the leader');
    }
    for (const f of this.frameworks.values()) {
      clearTimeout(f.failoverTimer);
      f.peer?.send({ type: 'LEADER', leader });
      f.peer?.close(1000, 'not the leader');
    }
    this.agents.clear();
    this.frameworks.clear();
    this.completedFrameworks.length = 0;
    this.offers.clear();
    this.tasks.clear();
    this.recovering.clear();
    this._roles = new Map();
  }

  /** Runs a registrar write; a fenced write means another master leads now. */
  private persist(what: string, write: Promise<void> | undefined): void {
    write?.catch((e: Error) => {
      if (e instanceof RegistrarFencedError) this.stepDown(e.message);
      else this.log.error({ err: e.message, what }, 'registrar write failed');
    });
  }

  private persistAgent(a: AgentEntry): void {
    if (!this.registrar) return;
    this.persist(
      'agent',
      this.registrar.saveAgent({
        info: { ...a.info, id: a.id },
        total: a.total.toList(),
        state: a.state === 'unreachable' || a.state === 'gone' ? a.state : 'admitted',
        unreachable_time: a.unreachableAt,
      }),
    );
  }

  private persistFramework(fw: FrameworkEntry, completed: boolean): void {
    if (!this.registrar) return;
    this.persist('framework', this.registrar.saveFramework({ info: fw.info, completed }));
  }

  /** Makes new role settings durable before they take effect (the caller applies them after). */
  /**
   * Replaces the roles' weights and quota: made durable first, then swapped in, then an allocation
   * is requested. A failed write changes nothing (and a fenced registrar steps this master down).
   */
  async changeRoles(next: Map<string, AllocatorRole>): Promise<void> {
    if (this.registrar) {
      try {
        await this.registrar.saveRoles(rolesToRecord(next));
      } catch (e) {
        if (e instanceof RegistrarFencedError) this.stepDown(e.message);
        throw e;
      }
    }
    this._roles = next;
    this.requestAllocation();
  }

  private leaderMessage(): { leader: { master_info?: MasterInfo } } {
    const m = this.leaderInfo();
    return { leader: m && m.id !== this.info.id ? { master_info: m } : {} };
  }

  /** When not leading: tells the peer where the leader is (LEADER has one shape both ways) and closes it. */
  private refuseIfNotLeading(peer: Peer<MasterToAgentMessage> | Peer<SchedulerEvent>): boolean {
    if (this.leading) return false;
    (peer as Peer<SchedulerEvent>).send({ type: 'LEADER', ...this.leaderMessage() });
    peer.close(1000, 'not the leader');
    return true;
  }

  start(): void {
    // Mesos's HEARTBEAT events, at the interval SUBSCRIBED announces, so schedulers can tell a
    // silent master from a quiet one.
    this.heartbeatTimer = setInterval(() => {
      if (!this.leading) return;
      for (const f of this.frameworks.values()) if (f.connected) f.peer?.send({ type: 'HEARTBEAT' });
    }, this.opts.schedulerHeartbeatSeconds * 1000);
    this.heartbeatTimer.unref();
    this.allocationTimer = setInterval(() => this.allocateNow(), this.opts.allocationIntervalMs);
    this.pingTimer = setInterval(() => this.pingAgents(), this.opts.agentPingTimeoutMs);
    this.allocationTimer.unref();
    this.pingTimer.unref();
  }

  stop(): void {
    clearInterval(this.heartbeatTimer);
    clearTimeout(this.reregisterTimer);
    clearInterval(this.allocationTimer);
    clearInterval(this.pingTimer);
    if (this.pendingAllocation) clearImmediate(this.pendingAllocation);
    for (const fw of this.frameworks.values()) clearTimeout(fw.failoverTimer);
  }

  private nowSecs(): number {
    return this.clock.now() / 1000;
  }

  // ------------------------------------------------------------------ allocation

  /** Batches allocation requests made in one turn of the event loop into one cycle. */
  requestAllocation(): void {
    if (this.pendingAllocation) return;
    this.pendingAllocation = setImmediate(() => {
      this.pendingAllocation = undefined;
      this.allocateNow();
    });
  }

  snapshot(): AllocatorSnapshot {
    const now = this.clock.now();
    const agents = [...this.agents.values()].map((a) => ({
      id: a.id,
      hostname: a.info.hostname,
      total: a.total,
      allocated: a.used.plus(a.offered),
      attributes: a.info.attributes,
      active: a.state === 'active' && this.leading,
    }));
    const frameworks = [...this.frameworks.values()].map((f) => ({
      id: f.id,
      roles: f.roles,
      suppressedRoles: [...f.suppressedRoles],
      allocated: Object.fromEntries(f.allocated),
      filters: f.filters.filter((x) => x.expiresAt > now),
      active: f.active && f.connected,
    }));
    return { now, agents, frameworks, roles: [...this.roles.values()], minAllocatable: this.opts.minAllocatable };
  }

  allocateNow(): void {
    if (!this.leading) return;
    this.expireOffers();
    const now = this.clock.now();
    for (const fw of this.frameworks.values()) fw.filters = fw.filters.filter((f) => f.expiresAt > now);
    const started = performance.now();
    const plan = this.opts.allocate(this.snapshot(), this.rng);
    this.counters.allocationRuns++;
    this.counters.lastAllocationMs = performance.now() - started;
    for (const fw of this.frameworks.values()) fw.stats.lastSkipped = plan.skipped[fw.id] ?? {};
    const byFramework = new Map<string, Offer[]>();
    for (const p of plan.offers) {
      const fw = this.frameworks.get(p.frameworkId);
      const agent = this.agents.get(p.agentId);
      if (!fw || !agent) continue;
      const offer: OfferEntry = {
        id: this.ids.next('O'),
        frameworkId: fw.id,
        agentId: agent.id,
        role: p.role,
        resources: p.resources,
        createdAt: now,
      };
      this.offers.set(offer.id, offer);
      fw.offers.add(offer.id);
      agent.offered = agent.offered.plus(p.resources);
      addAllocation(fw, p.role, p.resources);
      const list = byFramework.get(fw.id) ?? [];
      list.push({
        id: offer.id,
        framework_id: fw.id,
        agent_id: agent.id,
        hostname: agent.info.hostname,
        resources: p.resources.toList(),
        attributes: agent.info.attributes,
        allocation_role: p.role,
      });
      byFramework.set(fw.id, list);
    }
    for (const [fid, offers] of byFramework) {
      const fw = this.frameworks.get(fid);
      if (!fw) continue;
      fw.stats.offersSent += offers.length;
      this.counters.offersSent += offers.length;
      if (!fw.peer?.send({ type: 'OFFERS', offers: { offers } })) {
        for (const o of offers) this.removeOffer(o.id, false);
      }
    }
  }

  /** Takes an offer out, returning its resources to the pool (and telling the framework if `rescind`). */
  removeOffer(offerId: string, rescind: boolean): OfferEntry | undefined {
    const offer = this.offers.get(offerId);
    if (!offer) return undefined;
    this.offers.delete(offerId);
    const fw = this.frameworks.get(offer.frameworkId);
    const agent = this.agents.get(offer.agentId);
    if (agent) agent.offered = agent.offered.minus(offer.resources);
    if (fw) {
      fw.offers.delete(offerId);
      subtractAllocation(fw, offer.role, offer.resources);
      if (rescind) {
        fw.stats.offersRescinded++;
        this.counters.offersRescinded++;
        fw.peer?.send({ type: 'RESCIND', rescind: { offer_id: offerId } });
      }
    }
    this.requestAllocation();
    return offer;
  }

  private expireOffers(): void {
    const timeout = this.opts.offerTimeoutMs;
    if (timeout === undefined) return;
    const cutoff = this.clock.now() - timeout;
    for (const o of [...this.offers.values()]) if (o.createdAt <= cutoff) this.removeOffer(o.id, true);
  }

  // ------------------------------------------------------------------ agents

  onAgentConnect(peer: Peer<MasterToAgentMessage>) {
    let agentId: string | undefined;
    let registering = false;
    return {
      onMessage: (m: AgentMessage) => {
        if (this.refuseIfNotLeading(peer)) return;
        switch (m.type) {
          case 'REGISTER':
            if (registering || agentId) return; // one registration per connection
            registering = true;
            void this.registerAgent(peer, m).then((id) => {
              agentId = id;
              registering = false;
            });
            return;
          case 'REREGISTER':
            agentId = this.reregisterAgent(peer, m);
            return;
          case 'STATUS_UPDATE':
            if (!agentId) return this.rejectUnregistered(peer);
            this.onStatusUpdate(agentId, m.update.framework_id, m.update.status);
            return;
          case 'PONG': {
            const a = agentId ? this.agents.get(agentId) : undefined;
            if (a) {
              a.pongSeq = Math.max(a.pongSeq, m.seq);
              a.missedPings = 0;
            }
            return;
          }
        }
      },
      onClose: () => {
        const a = agentId ? this.agents.get(agentId) : undefined;
        if (a && a.peer === peer) this.agentDisconnected(a);
      },
    };
  }

  private rejectUnregistered(peer: Peer<MasterToAgentMessage>): void {
    this.log.warn('message from an agent that has not registered; closing');
    peer.close(1008, 'register first');
  }

  /**
   * Admits a new agent. Its record is made durable before the agent hears REGISTERED, so no task
   * can run on an agent that a new leader would not know about (Mesos's registrar does the same).
   */
  private async registerAgent(
    peer: Peer<MasterToAgentMessage>,
    m: Extract<AgentMessage, { type: 'REGISTER' }>,
  ): Promise<string | undefined> {
    const id = this.ids.next('S');
    const total = Resources.from(m.agent.resources);
    const entry = newAgentEntry({ ...m.agent, id }, total, 'active', this.nowSecs(), m.version);
    entry.peer = peer;
    if (this.registrar) {
      try {
        await this.registrar.saveAgent({
          info: entry.info as AgentRecord['info'],
          total: total.toList(),
          state: 'admitted',
        });
      } catch (e) {
        if (e instanceof RegistrarFencedError) this.stepDown(e.message);
        this.log.error({ err: (e as Error).message }, 'could not admit the agent durably; it will retry');
        peer.close(1011, 'registrar unavailable; retry');
        return undefined;
      }
      if (!this.leading || !peer.open) return undefined;
    }
    this.agents.set(id, entry);
    this.log.info({ agentId: id, hostname: m.agent.hostname, resources: total.toString() }, 'agent registered');
    peer.send({ type: 'REGISTERED', agent_id: id, master_info: this.info });
    this.requestAllocation();
    return id;
  }

  private reregisterAgent(peer: Peer<MasterToAgentMessage>, m: Extract<AgentMessage, { type: 'REREGISTER' }>): string {
    const id = m.agent.id;
    let entry = this.agents.get(id);
    if (entry?.state === 'gone') {
      this.log.warn({ agentId: id }, 'an agent marked gone tried to re-register; telling it to shut down');
      peer.send({
        type: 'SHUTDOWN',
        message: `agent ${id} was marked gone by an operator; start it with a fresh --work_dir to join as a new agent`,
      });
      peer.close(1000, 'agent is gone');
      return id;
    }
    const wasUnreachable = entry?.state === 'unreachable';
    if (entry?.peer && entry.peer !== peer) entry.peer.close(1000, 'agent reconnected on another connection');
    if (!entry) {
      entry = newAgentEntry({ ...m.agent }, Resources.from(m.agent.resources), 'active', this.nowSecs(), m.version);
      this.agents.set(id, entry);
    }
    const reported = Resources.from(m.agent.resources);
    if (!Resources.from(entry.info.resources).equals(reported)) entry.total = reported; // its static resources changed
    entry.info = { ...m.agent };
    entry.version = m.version;
    entry.peer = peer;
    entry.state = 'active';
    entry.missedPings = 0;
    entry.reregisteredAt = this.nowSecs();
    entry.unreachableAt = undefined;
    this.recovering.delete(id);
    this.persistAgent(entry);
    // Frameworks the agent knows but we do not (after a master failover): keep them, inactive,
    // until their scheduler subscribes again.
    for (const fi of m.frameworks) {
      if (fi.id && !this.frameworks.has(fi.id) && !this.isCompletedFramework(fi.id)) {
        this.frameworks.set(fi.id, newFrameworkEntry({ ...fi, id: fi.id }, this.nowSecs()));
      }
    }
    for (const rec of m.tasks) {
      const key = taskKey(rec.framework_id, rec.task.task_id);
      const fw = this.frameworks.get(rec.framework_id);
      if (this.tasks.has(key)) continue;
      if (isTerminal(rec.state)) {
        // Ended, but its terminal update is not acknowledged yet: remember how it ended, so that
        // reconciliation answers with that state rather than "unknown" (which would invite a relaunch).
        if (fw && !fw.completedTasks.some((c) => c.key === key)) {
          fw.completedTasks.push(this.completedEntry(entry, fw, rec));
          if (fw.completedTasks.length > MAX_COMPLETED_TASKS_PER_FRAMEWORK) fw.completedTasks.shift();
        }
        continue;
      }
      if (!fw) {
        // The framework was torn down while the agent was away: its tasks must go.
        peer.send({ type: 'SHUTDOWN_FRAMEWORK', framework_id: rec.framework_id });
        continue;
      }
      if (wasUnreachable && !fw.partitionAware) {
        // Already reported LOST to a framework that cannot take it back: kill it.
        peer.send({ type: 'KILL_TASK', framework_id: fw.id, task_id: rec.task.task_id });
        continue;
      }
      const t = this.addTask(entry, fw, rec.task, this.roleOfTask(fw, rec.task.resources), rec.state);
      if (rec.status) t.status = rec.status;
      if (wasUnreachable && fw.partitionAware) {
        this.sendUpdate(fw, { ...(rec.status ?? this.masterStatus(t, rec.state, 'agent came back')), uuid: undefined });
      }
    }
    this.log.info({ agentId: id, tasks: m.tasks.length, wasUnreachable }, 'agent re-registered');
    peer.send({ type: 'REREGISTERED', agent_id: id, master_info: this.info });
    this.requestAllocation();
    return id;
  }

  private completedEntry(agent: AgentEntry, fw: FrameworkEntry, rec: TaskRecord): TaskEntry {
    const status =
      rec.status ?? this.masterStatus({ task: rec.task, agentId: agent.id } as TaskEntry, rec.state, 'ended');
    return {
      key: taskKey(fw.id, rec.task.task_id),
      task: rec.task,
      frameworkId: fw.id,
      agentId: agent.id,
      role: this.roleOfTask(fw, rec.task.resources),
      resources: Resources.from(rec.task.resources),
      state: rec.state,
      status,
      statuses: [{ state: rec.state, timestamp: status.timestamp }],
    };
  }

  private roleOfTask(fw: FrameworkEntry, resources: unknown[]): string {
    const res = Resources.from(resources as never);
    const reserved = res.roles().find((r) => r !== DEFAULT_ROLE);
    return reserved ?? fw.roles[0] ?? DEFAULT_ROLE;
  }

  private agentDisconnected(a: AgentEntry): void {
    a.peer = undefined;
    if (a.state === 'active') a.state = 'disconnected';
    this.log.warn({ agentId: a.id }, 'agent disconnected; waiting for it to come back');
    for (const o of [...this.offers.values()]) if (o.agentId === a.id) this.removeOffer(o.id, true);
  }

  private pingAgents(): void {
    if (!this.leading) return;
    for (const a of this.agents.values()) {
      if (a.state === 'unreachable' || a.state === 'gone' || this.recovering.has(a.id)) continue;
      if (a.lastPingSeq > a.pongSeq || !a.peer) a.missedPings++;
      if (a.missedPings >= this.opts.maxAgentPingTimeouts) {
        this.markUnreachable(a);
        continue;
      }
      a.lastPingSeq++;
      a.peer?.send({ type: 'PING', seq: a.lastPingSeq });
    }
  }

  /**
   * An operator says the agent will never come back (Mesos MARK_AGENT_GONE): its tasks end as
   * TASK_GONE_BY_OPERATOR, it is told to shut down, and its id is refused from now on, durably.
   */
  async markGone(agentId: string): Promise<'marked' | 'already' | 'unknown'> {
    const a = this.agents.get(agentId);
    if (!a) return 'unknown';
    if (a.state === 'gone') return 'already';
    a.state = 'gone';
    if (this.registrar) {
      await this.registrar.saveAgent({ info: { ...a.info, id: a.id }, total: a.total.toList(), state: 'gone' });
    }
    this.log.warn({ agentId }, 'agent marked gone by an operator');
    a.peer?.send({ type: 'SHUTDOWN', message: `agent ${agentId} was marked gone by an operator` });
    a.peer?.close(1000, 'agent is gone');
    a.peer = undefined;
    this.recovering.delete(agentId);
    for (const o of [...this.offers.values()]) if (o.agentId === a.id) this.removeOffer(o.id, true);
    for (const key of [...a.tasks]) {
      const t = this.tasks.get(key);
      if (!t) continue;
      const fw = this.frameworks.get(t.frameworkId);
      const state = fw?.partitionAware ? TaskState.GONE_BY_OPERATOR : TaskState.LOST;
      const status = this.masterStatus(
        t,
        state,
        `agent ${a.id} was marked gone by an operator`,
        'REASON_AGENT_REMOVED_BY_OPERATOR',
      );
      this.applyState(t, status);
      if (fw) this.sendUpdate(fw, status);
    }
    return 'marked';
  }

  /** An agent silent past the ping timeouts: its tasks are reported unreachable (or lost). */
  markUnreachable(a: AgentEntry): void {
    this.log.warn({ agentId: a.id, missedPings: a.missedPings }, 'agent unreachable; reporting its tasks');
    a.state = 'unreachable';
    a.unreachableAt = this.nowSecs();
    this.persistAgent(a);
    a.peer?.close(1000, 'marked unreachable');
    a.peer = undefined;
    for (const o of [...this.offers.values()]) if (o.agentId === a.id) this.removeOffer(o.id, true);
    for (const key of [...a.tasks]) {
      const t = this.tasks.get(key);
      if (!t) continue;
      const fw = this.frameworks.get(t.frameworkId);
      const state = fw?.partitionAware ? TaskState.UNREACHABLE : TaskState.LOST;
      const status = this.masterStatus(t, state, `agent ${a.id} is unreachable`, 'REASON_AGENT_UNREACHABLE');
      this.applyState(t, status);
      if (fw) this.sendUpdate(fw, status);
    }
    this.counters.agentsRemoved++;
  }

  // ------------------------------------------------------------------ tasks and status updates

  private addTask(
    agent: AgentEntry,
    fw: FrameworkEntry,
    task: TaskEntry['task'],
    role: string,
    state: TaskState,
  ): TaskEntry {
    const key = taskKey(fw.id, task.task_id);
    const resources = Resources.from(task.resources);
    const entry: TaskEntry = {
      key,
      task,
      frameworkId: fw.id,
      agentId: agent.id,
      role,
      resources,
      state,
      statuses: [{ state, timestamp: this.nowSecs() }],
    };
    this.tasks.set(key, entry);
    agent.tasks.add(key);
    fw.tasks.add(key);
    agent.used = agent.used.plus(resources);
    addAllocation(fw, role, resources);
    this.bumpState(undefined, state);
    return entry;
  }

  private bumpState(from: TaskState | undefined, to: TaskState): void {
    if (from) this.counters.tasks[from] = (this.counters.tasks[from] ?? 1) - 1;
    this.counters.tasks[to] = (this.counters.tasks[to] ?? 0) + 1;
  }

  /** Records a new state; a terminal one releases the task's resources and retires it. */
  private applyState(t: TaskEntry, status: TaskStatus): void {
    const wasTerminal = isTerminal(t.state) || t.state === TaskState.UNREACHABLE;
    if (t.state !== status.state) {
      this.bumpState(t.state, status.state);
      t.statuses.push({ state: status.state, timestamp: status.timestamp, healthy: status.healthy });
    }
    t.state = status.state;
    t.status = status;
    const nowGone = isTerminal(status.state) || status.state === TaskState.UNREACHABLE;
    if (nowGone && !wasTerminal) {
      const agent = this.agents.get(t.agentId);
      const fw = this.frameworks.get(t.frameworkId);
      if (agent) {
        agent.used = agent.used.minus(t.resources);
        agent.tasks.delete(t.key);
      }
      if (fw) {
        subtractAllocation(fw, t.role, t.resources);
        fw.tasks.delete(t.key);
        fw.completedTasks.push(t);
        if (fw.completedTasks.length > MAX_COMPLETED_TASKS_PER_FRAMEWORK) fw.completedTasks.shift();
      }
      this.tasks.delete(t.key);
      this.requestAllocation();
    }
  }

  private masterStatus(t: TaskEntry, state: TaskState, message: string, reason?: string): TaskStatus {
    return {
      task_id: t.task.task_id,
      state,
      message,
      reason,
      source: 'SOURCE_MASTER',
      agent_id: t.agentId,
      timestamp: this.nowSecs(),
    };
  }

  private sendUpdate(fw: FrameworkEntry, status: TaskStatus): void {
    fw.peer?.send({ type: 'UPDATE', update: { status: stripUndefined(status) } });
  }

  onStatusUpdate(agentId: string, frameworkId: string, status: TaskStatus): void {
    this.counters.statusUpdates++;
    const agent = this.agents.get(agentId);
    const key = taskKey(frameworkId, status.task_id);
    const t = this.tasks.get(key);
    const fw = this.frameworks.get(frameworkId);
    if (t && t.agentId === agentId) this.applyState(t, { ...status, agent_id: agentId });
    if (!fw) {
      // Nobody will ever acknowledge this: the framework is gone. Acknowledge on its behalf.
      if (status.uuid) {
        agent?.peer?.send({
          type: 'ACK_UPDATE',
          framework_id: frameworkId,
          task_id: status.task_id,
          uuid: status.uuid,
        });
      }
      return;
    }
    this.sendUpdate(fw, { ...status, agent_id: agentId });
  }

  // ------------------------------------------------------------------ frameworks

  onSchedulerConnect(peer: Peer<SchedulerEvent>) {
    let frameworkId: string | undefined;
    return {
      onMessage: (call: SchedulerCall) => {
        if (this.refuseIfNotLeading(peer)) return;
        if (call.type === 'SUBSCRIBE') {
          frameworkId = this.subscribe(peer, call.subscribe.framework_info);
          return;
        }
        const fw = frameworkId ? this.frameworks.get(frameworkId) : undefined;
        if (!fw || fw.peer !== peer || call.framework_id !== fw.id) {
          this.schedulerError(
            peer,
            'AGORA_MASTER_NOT_SUBSCRIBED',
            'subscribe first, and use the framework id it returned',
          );
          return;
        }
        this.onCall(fw, call);
      },
      onClose: () => {
        const fw = frameworkId ? this.frameworks.get(frameworkId) : undefined;
        if (fw && fw.peer === peer) this.frameworkDisconnected(fw);
      },
    };
  }

  onSchedulerProtocolError(peer: Peer<SchedulerEvent>, err: CodecError): void {
    this.counters.invalidFrames++;
    this.log.warn({ code: err.code, err: err.message }, 'invalid frame from a scheduler; disconnecting it');
    this.schedulerError(peer, err.code, `invalid frame: ${err.message}`);
  }

  onAgentProtocolError(_peer: Peer<MasterToAgentMessage>, err: CodecError): void {
    this.counters.invalidFrames++;
    this.log.warn({ code: err.code, err: err.message }, 'invalid frame from an agent; disconnecting it');
  }

  private schedulerError(peer: Peer<SchedulerEvent>, code: string, message: string): void {
    peer.send({ type: 'ERROR', error: { code, message } });
  }

  private isCompletedFramework(id: string): boolean {
    return this.completedFrameworks.some((f) => f.id === id);
  }

  private subscribe(peer: Peer<SchedulerEvent>, info: FrameworkInfo): string | undefined {
    if (info.id && this.isCompletedFramework(info.id)) {
      this.schedulerError(
        peer,
        'AGORA_MASTER_FRAMEWORK_REMOVED',
        `framework ${info.id} has been torn down; subscribe without an id`,
      );
      peer.close(1000, 'framework removed');
      return undefined;
    }
    let fw = info.id ? this.frameworks.get(info.id) : undefined;
    if (fw) {
      clearTimeout(fw.failoverTimer);
      fw.failoverTimer = undefined;
      if (fw.peer && fw.peer !== peer) {
        fw.peer.send({
          type: 'ERROR',
          error: { code: 'AGORA_MASTER_FRAMEWORK_FAILED_OVER', message: 'framework failed over to another connection' },
        });
        fw.peer.close(1000, 'framework failed over');
      }
      // Offers made to the old connection are void.
      for (const o of [...fw.offers]) this.removeOffer(o, false);
      const roles = info.roles && info.roles.length > 0 ? [...new Set(info.roles)] : [DEFAULT_ROLE];
      fw.info = { ...info, id: fw.id, roles };
      fw.roles = roles;
      fw.partitionAware = (info.capabilities ?? []).some((c) => c.type === 'PARTITION_AWARE');
      fw.reregisteredAt = this.nowSecs();
      this.persistFramework(fw, false);
      this.log.info({ frameworkId: fw.id, name: info.name }, 'framework re-subscribed');
    } else {
      const id = info.id ?? this.ids.next('F');
      fw = newFrameworkEntry({ ...info, id }, this.nowSecs());
      this.frameworks.set(id, fw);
      this.persistFramework(fw, false);
      this.log.info({ frameworkId: id, name: info.name, roles: fw.roles }, 'framework subscribed');
    }
    fw.peer = peer;
    fw.active = true;
    fw.connected = true;
    fw.disconnectedAt = undefined;
    peer.send({
      type: 'SUBSCRIBED',
      subscribed: {
        framework_id: fw.id,
        heartbeat_interval_seconds: this.opts.schedulerHeartbeatSeconds,
        master_info: this.info,
      },
    });
    this.requestAllocation();
    return fw.id;
  }

  private frameworkDisconnected(fw: FrameworkEntry): void {
    fw.peer = undefined;
    fw.connected = false;
    fw.disconnectedAt = this.nowSecs();
    for (const o of [...fw.offers]) this.removeOffer(o, false);
    this.log.warn({ frameworkId: fw.id, failoverTimeoutSecs: fw.info.failover_timeout ?? 0 }, 'framework disconnected');
    this.startFailoverTimer(fw);
  }

  /** Tears the framework down unless it subscribes again within its failover_timeout. */
  private startFailoverTimer(fw: FrameworkEntry): void {
    clearTimeout(fw.failoverTimer);
    const timeoutMs = (fw.info.failover_timeout ?? 0) * 1000;
    fw.failoverTimer = setTimeout(
      () => {
        this.log.warn(
          { frameworkId: fw.id },
          'framework did not come back within its failover timeout; tearing it down',
        );
        this.teardown(fw);
      },
      Math.min(timeoutMs, 2 ** 31 - 1),
    );
    fw.failoverTimer.unref();
  }

  teardown(fw: FrameworkEntry): void {
    clearTimeout(fw.failoverTimer);
    for (const o of [...fw.offers]) this.removeOffer(o, false);
    const agents = new Set<string>();
    for (const key of fw.tasks) {
      const t = this.tasks.get(key);
      if (t) agents.add(t.agentId);
    }
    for (const a of this.agents.values()) {
      if (agents.has(a.id)) a.peer?.send({ type: 'SHUTDOWN_FRAMEWORK', framework_id: fw.id });
    }
    for (const key of [...fw.tasks]) {
      const t = this.tasks.get(key);
      if (t)
        this.applyState(t, this.masterStatus(t, TaskState.KILLED, 'framework torn down', 'REASON_FRAMEWORK_REMOVED'));
    }
    fw.active = false;
    fw.connected = false;
    fw.unregisteredAt = this.nowSecs();
    fw.peer?.close(1000, 'framework torn down');
    fw.peer = undefined;
    this.frameworks.delete(fw.id);
    this.persistFramework(fw, true);
    this.completedFrameworks.push(fw);
    if (this.completedFrameworks.length > MAX_COMPLETED_FRAMEWORKS) this.completedFrameworks.shift();
    this.log.info({ frameworkId: fw.id }, 'framework torn down');
  }

  private onCall(fw: FrameworkEntry, call: Exclude<SchedulerCall, { type: 'SUBSCRIBE' }>): void {
    switch (call.type) {
      case 'TEARDOWN':
        this.teardown(fw);
        return;
      case 'ACCEPT':
        this.accept(fw, call.accept.offer_ids, call.accept.operations, call.accept.filters?.refuse_seconds);
        return;
      case 'DECLINE':
        for (const id of call.decline.offer_ids) {
          const o = this.offers.get(id);
          if (!o || o.frameworkId !== fw.id) continue; // already gone: nothing to do (Mesos ignores it too)
          this.removeOffer(id, false);
          fw.stats.offersDeclined++;
          this.counters.offersDeclined++;
          this.addFilter(fw, o.agentId, o.resources, call.decline.filters?.refuse_seconds);
        }
        return;
      case 'REVIVE': {
        const roles = call.revive?.roles?.length ? call.revive.roles : fw.roles;
        for (const r of roles) fw.suppressedRoles.delete(r);
        fw.filters = [];
        this.requestAllocation();
        return;
      }
      case 'SUPPRESS': {
        const roles = call.suppress?.roles?.length ? call.suppress.roles : fw.roles;
        for (const r of roles) fw.suppressedRoles.add(r);
        return;
      }
      case 'KILL':
        this.kill(fw, call.kill.task_id);
        return;
      case 'ACKNOWLEDGE': {
        const a = this.agents.get(call.acknowledge.agent_id);
        if (!a) {
          this.schedulerError(
            fw.peer!,
            'AGORA_MASTER_UNKNOWN_AGENT',
            `cannot acknowledge: unknown agent ${call.acknowledge.agent_id}`,
          );
          return;
        }
        a.peer?.send({
          type: 'ACK_UPDATE',
          framework_id: fw.id,
          task_id: call.acknowledge.task_id,
          uuid: call.acknowledge.uuid,
        });
        return;
      }
      case 'RECONCILE':
        this.reconcile(fw, call.reconcile.tasks);
        return;
    }
  }

  private addFilter(fw: FrameworkEntry, agentId: string, resources: Resources, refuseSeconds?: number): void {
    const secs = Math.min(refuseSeconds ?? DEFAULT_REFUSE_SECONDS, MAX_REFUSE_SECONDS);
    if (secs <= 0) return;
    fw.filters.push({ agentId, resources, expiresAt: this.clock.now() + secs * 1000 });
  }

  private accept(
    fw: FrameworkEntry,
    offerIds: string[],
    operations: import('../sdk/protocol/types.js').Operation[],
    refuseSeconds?: number,
  ): void {
    const plan = planAccept({
      frameworkId: fw.id,
      offerIds,
      operations,
      offers: this.offers,
      taskIdInUse: (id) => this.tasks.has(taskKey(fw.id, id)),
    });
    const now = this.nowSecs();
    for (const r of plan.rejected) {
      this.sendUpdate(fw, {
        task_id: r.taskId,
        state: TaskState.ERROR,
        reason: r.reason,
        message: r.message,
        source: 'SOURCE_MASTER',
        timestamp: now,
        agent_id: plan.agentId,
      });
      this.bumpState(undefined, TaskState.ERROR);
    }
    if (plan.offerErrors.length > 0) {
      this.log.info({ frameworkId: fw.id, errors: plan.offerErrors }, 'ACCEPT refused');
      if (plan.rejected.length === 0) {
        this.schedulerError(fw.peer!, 'AGORA_MASTER_INVALID_ACCEPT', plan.offerErrors.join('; '));
      }
      return;
    }
    const agent = this.agents.get(plan.agentId!);
    const role = plan.role ?? DEFAULT_ROLE;
    for (const id of plan.offerIds) this.removeOffer(id, false);
    fw.stats.offersAccepted += plan.offerIds.length;
    if (!agent) return;
    for (const r of plan.reserve) agent.total = agent.total.minus(r.withRole(DEFAULT_ROLE)).plus(r);
    for (const r of plan.unreserve) agent.total = agent.total.minus(r).plus(r.withRole(DEFAULT_ROLE));
    if (plan.reserve.length > 0 || plan.unreserve.length > 0) this.persistAgent(agent);
    const framework = { ...fw.info };
    for (const { task } of plan.launches) {
      const t = this.addTask(agent, fw, task, role, TaskState.STAGING);
      if (!agent.peer?.send({ type: 'RUN_TASK', framework, task })) {
        const status = this.masterStatus(
          t,
          TaskState.LOST,
          `agent ${agent.id} is not connected`,
          'REASON_AGENT_DISCONNECTED',
        );
        this.applyState(t, status);
        this.sendUpdate(fw, status);
      }
    }
    if (!plan.remaining.isEmpty()) this.addFilter(fw, agent.id, plan.remaining, refuseSeconds);
    this.requestAllocation();
  }

  private kill(fw: FrameworkEntry, taskId: string): void {
    const t = this.tasks.get(taskKey(fw.id, taskId));
    if (!t) {
      this.sendUpdate(fw, {
        task_id: taskId,
        state: fw.partitionAware ? TaskState.UNKNOWN : TaskState.LOST,
        message: 'cannot kill: the master does not know this task',
        reason: 'REASON_RECONCILIATION',
        source: 'SOURCE_MASTER',
        timestamp: this.nowSecs(),
      });
      return;
    }
    const agent = this.agents.get(t.agentId);
    agent?.peer?.send({
      type: 'KILL_TASK',
      framework_id: fw.id,
      task_id: taskId,
      grace_period_seconds: t.task.kill_policy?.grace_period_seconds,
    });
  }

  private reconcile(fw: FrameworkEntry, tasks: { task_id: string; agent_id?: string }[]): void {
    const now = this.nowSecs();
    if (tasks.length === 0) {
      for (const key of fw.tasks) {
        const t = this.tasks.get(key);
        if (t)
          this.sendUpdate(fw, { ...this.latest(t), reason: 'REASON_RECONCILIATION', uuid: undefined, timestamp: now });
      }
      return;
    }
    for (const q of tasks) {
      const t = this.tasks.get(taskKey(fw.id, q.task_id));
      const done = t ? undefined : fw.completedTasks.find((c) => c.task.task_id === q.task_id);
      const known = t ?? done;
      if (known) {
        this.sendUpdate(fw, {
          ...this.latest(known),
          reason: 'REASON_RECONCILIATION',
          uuid: undefined,
          timestamp: now,
        });
        continue;
      }
      const agent = q.agent_id ? this.agents.get(q.agent_id) : undefined;
      // Its agent may still re-register with it: no answer yet (Mesos does the same); ask again
      // later. Without an agent id, any agent still re-registering could be the one holding it.
      if (q.agent_id ? this.recovering.has(q.agent_id) : this.recovering.size > 0) continue;
      let state: TaskState;
      if (agent?.state === 'gone') state = fw.partitionAware ? TaskState.GONE_BY_OPERATOR : TaskState.LOST;
      else if (agent?.state === 'unreachable') state = fw.partitionAware ? TaskState.UNREACHABLE : TaskState.LOST;
      else if (agent) state = fw.partitionAware ? TaskState.GONE : TaskState.LOST;
      else state = fw.partitionAware ? TaskState.UNKNOWN : TaskState.LOST;
      this.sendUpdate(fw, {
        task_id: q.task_id,
        agent_id: q.agent_id,
        state,
        message: 'reconciliation: task unknown to the master',
        reason: 'REASON_RECONCILIATION',
        source: 'SOURCE_MASTER',
        timestamp: now,
      });
    }
  }

  private latest(t: TaskEntry): TaskStatus {
    return t.status ?? this.masterStatus(t, t.state, 'task is known to the master');
  }
}

function stripUndefined<T extends object>(o: T): T {
  const out = {} as T;
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

function rolesToRecord(roles: Map<string, AllocatorRole>): RolesRecord {
  const rs = [...roles.values()];
  return {
    weights: rs.filter((r) => r.weight !== 1).map((r) => ({ role: r.name, weight: r.weight })),
    quotas: rs
      .filter((r) => r.quota)
      .map((r) => ({ role: r.name, guarantee: r.quota?.guarantee?.toList(), limit: r.quota?.limit?.toList() })),
  };
}

function rolesFromRecord(rec: RolesRecord): Map<string, AllocatorRole> {
  const roles = new Map<string, AllocatorRole>();
  for (const w of rec.weights) roles.set(w.role, { name: w.role, weight: w.weight });
  for (const q of rec.quotas) {
    const r = roles.get(q.role) ?? { name: q.role, weight: 1 };
    roles.set(q.role, {
      ...r,
      quota: {
        ...(q.guarantee ? { guarantee: Resources.from(q.guarantee) } : {}),
        ...(q.limit ? { limit: Resources.from(q.limit) } : {}),
      },
    });
  }
  return roles;
}
