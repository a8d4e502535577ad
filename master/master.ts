/**
 * The master's shell: it owns the connections, the registrar and the timers, feeds what happens
 * to them into the `MasterState` (master/state/) as events, and carries out the effects the state
 * returns. Every decision (admission, offers, task states, routing, failover) is in the state.
 */
import { randomBytes } from 'node:crypto';
import { hostname as osHostname } from 'node:os';
import type pino from 'pino';
import { type CodecError, DEFAULT_MAX_FRAME_BYTES } from '../sdk/codec/index.js';
import type { AccessRecord } from '../sdk/http/auth.js';
import {
  AGENT_WS_PATH,
  type AgentMessage,
  type MasterToAgentMessage,
  SCHEDULER_WS_PATH,
  type SchedulerCall,
  type SchedulerEvent,
} from '../sdk/protocol/messages.js';
import type { MasterInfo } from '../sdk/protocol/types.js';
import { Resources } from '../sdk/resources/resources.js';
import type { Peer } from '../sdk/transport/index.js';
import { type Clock, systemClock, type Timer } from '../sdk/util/clock.js';
import { newId } from '../sdk/util/id.js';
import { type Rng, seededRng } from '../sdk/util/random.js';
import type { AllocateFn, AllocatorRole } from './allocator/types.js';
import { ConnectionGuard, type ConnectionLimits } from './conn-guard.js';
import { ConnectionDeadline, RateLimited, TooManyConnections, UnreadableRecord } from './errors.js';
import { type Registrar, RegistrarFencedError } from './registrar.js';
import type { AgentEntry, FrameworkEntry, OfferEntry, TaskEntry } from './registry.js';
import { SecretsDelivery, type SecretsRequest } from './secrets/delivery.js';
import {
  type Counters,
  type Effect,
  type MasterEvent,
  MasterState,
  type ProtocolSecurity,
  rolesToRecord,
} from './state/index.js';
import { reservationProblem } from './state/operator-reservations.js';

export type { Counters } from './state/index.js';

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
  /** The allocator's seed; chosen once (from `rng`, else at random) and logged when absent. */
  seed?: number;
  rng?: Rng;
  /** Durable memory across failover; without one, a restarted master starts empty. */
  registrar?: Registrar;
  /** How long a new leader waits for the agents it remembers to re-register (Mesos: 10 mins). */
  agentReregisterTimeoutMs?: number;
  /** How long a new leader waits for remembered frameworks to re-subscribe before their failover timeouts run (default: as agents). */
  frameworkResubscribeTimeoutMs?: number;
  /**
   * After a failover, allocation waits while remembered agents re-register, up to this long after
   * the election (default 5 s; 0: no wait). See MasterConfig.allocationHoldMs.
   */
  allocationHoldMs?: number;
  /** Largest frame peers accept; outgoing messages are split under it. */
  maxFrameBytes?: number;
  /** The current leader, as detected (for LEADER replies and redirects when not leading). */
  leaderInfo?: () => MasterInfo | undefined;
  /** Sees every event applied and the effects it returned (test harnesses record them). */
  trace?: (event: MasterEvent, effects: readonly Effect[]) => void;
  /** --authenticate_frameworks: SUBSCRIBE needs a principal authenticated at the upgrade. */
  authenticateFrameworks?: boolean;
  /** --authenticate_agents: REGISTER/REREGISTER need a principal authenticated at the upgrade. */
  authenticateAgents?: boolean;
  /** The ACLs on the protocol (SecurityAuthorizer.permits); allow-all when absent. */
  permits?: ProtocolSecurity['permits'];
  /** Caps on connections per remote address and on connections that never get in (master/conn-guard.ts). */
  connectionLimits?: ConnectionLimits;
  /**
   * Per-principal limits on framework calls (Mesos's `--rate_limits`): a call over its principal's
   * budget is refused with an ERROR (`AGORA_MASTER_RATE_LIMITED`) and changes nothing.
   */
  rateLimiter?: { take(principal: string | undefined): boolean };
  /** Where refused protocol calls are audited (the HTTP authorizer's audit log). */
  audit?: (record: AccessRecord) => void;
  /** Answers agents' SECRETS_REQUEST (master/secrets); absent: secrets are disabled. */
  secrets?: SecretsDelivery;
}

type AnyPeer = Peer<MasterToAgentMessage> | Peer<SchedulerEvent>;

/** Events from peers, held between the election and the registrar's recovery. */
const HELD_KINDS: ReadonlySet<MasterEvent['type']> = new Set([
  'agentConnected',
  'agentMessage',
  'agentDisconnected',
  'agentProtocolError',
  'schedulerConnected',
  'schedulerCall',
  'schedulerDisconnected',
  'schedulerProtocolError',
]);
/** Held events at most; past it they are refused at once, as before an election. */
export const MAX_HELD_EVENTS = 200_000;
const HELD_EVENTS_PER_TURN = 256;

export class Master {
  readonly info: MasterInfo;
  /** The bookkeeping; read it through the views below. */
  readonly state: MasterState;
  readonly startedAt: number;
  /** The allocator's seed for this run (logged at start, so a run can be replayed). */
  readonly seed: number;

  private readonly log: pino.Logger;
  private readonly clock: Clock;
  private readonly registrar?: Registrar;
  private readonly peers = new Map<string, AnyPeer>();
  private readonly connOf = new WeakMap<object, string>();
  private readonly timers = new Map<string, Timer>();
  private readonly queue: MasterEvent[] = [];
  private draining = false;
  private nextConn = 0;
  /** After stop(), no timer is armed again (a late registrar write cannot restart the cycles). */
  private stopped = false;
  /**
   * From the election until the registrar is recovered and what arrived meanwhile is applied: the
   * peers' events wait here in order (bounded by MAX_HELD_EVENTS) instead of being refused.
   */
  private held: MasterEvent[] | undefined;
  private readonly trace?: MasterOptions['trace'];
  private readonly allocate: AllocateFn;
  private readonly rng: Rng;
  private readonly guard: ConnectionGuard;
  private readonly secrets?: SecretsDelivery;
  private readonly rateLimiter?: MasterOptions['rateLimiter'];
  private readonly audit?: MasterOptions['audit'];

  constructor(opts: MasterOptions) {
    this.secrets = opts.secrets;
    this.rateLimiter = opts.rateLimiter;
    this.audit = opts.audit;
    this.clock = opts.clock ?? systemClock;
    this.log = opts.logger;
    this.registrar = opts.registrar;
    this.trace = opts.trace;
    this.allocate = opts.allocate;
    this.seed = opts.seed ?? (opts.rng ? Math.floor(opts.rng.next() * 2 ** 32) : randomBytes(4).readUInt32LE(0));
    this.rng = seededRng(this.seed);
    this.guard = new ConnectionGuard(this.clock, opts.connectionLimits);
    const id = newId();
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
    const agentReregisterTimeoutMs = opts.agentReregisterTimeoutMs ?? 10 * 60_000;
    this.state = new MasterState({
      info: this.info,
      now: () => this.clock.now(),
      allocationIntervalMs: opts.allocationIntervalMs ?? 1000,
      agentPingTimeoutMs: opts.agentPingTimeoutMs ?? 15_000,
      maxAgentPingTimeouts: opts.maxAgentPingTimeouts ?? 5,
      offerTimeoutMs: opts.offerTimeoutMs,
      minAllocatable: opts.minAllocatable ?? [Resources.parse('cpus:0.01'), Resources.parse('mem:32')],
      schedulerHeartbeatSeconds: opts.schedulerHeartbeatSeconds ?? 15,
      agentReregisterTimeoutMs,
      frameworkResubscribeTimeoutMs: opts.frameworkResubscribeTimeoutMs ?? agentReregisterTimeoutMs,
      allocationHoldMs: opts.allocationHoldMs ?? 5000,
      maxFrameBytes: opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
      leaderInfo: opts.leaderInfo ?? (() => (this.state.leading ? this.info : undefined)),
      security: {
        authenticateFrameworks: !!opts.authenticateFrameworks,
        authenticateAgents: !!opts.authenticateAgents,
        permits: opts.permits ?? (() => true),
      },
    });
  }

  // ------------------------------------------------------------------ read-only views (shared contract)

  /** The master's clock now (ms): what its filters' and timers' expiries are measured against. */
  nowMs(): number {
    return this.clock.now();
  }

  get agents(): ReadonlyMap<string, AgentEntry> {
    return this.state.agents;
  }
  get frameworks(): ReadonlyMap<string, FrameworkEntry> {
    return this.state.frameworks;
  }
  get completedFrameworks(): readonly FrameworkEntry[] {
    return this.state.completedFrameworks;
  }
  get offers(): ReadonlyMap<string, OfferEntry> {
    return this.state.offers;
  }
  get tasks(): ReadonlyMap<string, TaskEntry> {
    return this.state.tasks;
  }
  /** Weights and quota per role; changed only through `changeRoles`. */
  get roles(): ReadonlyMap<string, AllocatorRole> {
    return this.state.roles;
  }
  /** Agents remembered from the registrar that have not re-registered with this leader yet. */
  get recovering(): ReadonlySet<string> {
    return this.state.recovering;
  }
  get counters(): Counters {
    return this.state.counters;
  }
  get electedAt(): number | undefined {
    return this.state.electedAt;
  }
  /** The live task groups, each with its executor (state endpoints). */
  get groups(): MasterState['groups'] {
    return this.state.groups;
  }
  get leading(): boolean {
    return this.state.leading;
  }

  // ------------------------------------------------------------------ lifecycle

  start(): void {
    this.log.info({ seed: this.seed }, 'master starting; allocator seed chosen');
    this.dispatch({ type: 'started' });
  }

  stop(): void {
    this.stopped = true;
    this.guard.stop();
    for (const t of this.timers.values()) t.cancel();
    this.timers.clear();
  }

  /**
   * Takes over as leader: reads the registrar, then lets agents and frameworks come back. Agents
   * and frameworks follow the election in ZooKeeper and connect the moment it names this master,
   * before the registrar is read: what they send meanwhile is held and applied right after
   * (refused, they would retry after a backoff and send it all again). If the recovery fails, the
   * held events are refused as they would have been.
   */
  async becomeLeader(): Promise<void> {
    this.held ??= [];
    try {
      const recovered = this.registrar ? await this.registrar.recover() : { agents: [], frameworks: [] };
      this.state.counters.registrarBadRecords += recovered.skipped ?? 0;
      this.dispatch({ type: 'leadershipGained', recovered });
    } finally {
      await this.releaseHeld();
    }
  }

  /** Applies the held events in order, a slice per turn (the HTTP server answers in between). */
  private async releaseHeld(): Promise<void> {
    const held = this.held;
    if (!held) return;
    for (let i = 0; i < held.length; ) {
      const end = Math.min(held.length, i + HELD_EVENTS_PER_TURN);
      const slice = held.slice(i, end);
      this.held = undefined; // dispatch them for real
      for (const e of slice) this.dispatch(e);
      this.held = held;
      i = end;
      if (i < held.length) await new Promise<void>((r) => setImmediate(r));
    }
    this.held = undefined;
  }

  /** Stops acting as leader at once: every connection is told where the leader is and closed, all state dropped. */
  stepDown(reason: string): void {
    this.dispatch({ type: 'leadershipLost', reason });
  }

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
    this.dispatch({ type: 'rolesChanged', roles: next });
  }

  /** An operator says the agent will never come back (Mesos MARK_AGENT_GONE); resolves once durable. */
  async markGone(agentId: string): Promise<'marked' | 'already' | 'unknown'> {
    const a = this.state.agents.get(agentId);
    if (!a) return 'unknown';
    if (a.state === 'gone') return 'already';
    const failed = (await Promise.all(this.dispatch({ type: 'markGone', agentId }))).find((e) => e);
    if (failed) throw failed;
    return 'marked';
  }

  /** An operator tears a framework down (authorized by the caller); resolves once durable. */
  async teardownFramework(frameworkId: string): Promise<'torn down' | 'unknown'> {
    if (!this.state.frameworks.has(frameworkId)) return 'unknown';
    const failed = (await Promise.all(this.dispatch({ type: 'operatorTeardown', frameworkId }))).find((e) => e);
    if (failed) throw failed;
    return 'torn down';
  }

  /**
   * An operator moves unreserved resources of an agent to roles (`reserve`, role-tagged) or
   * reserved ones back to `*` (`unreserve`); resolves once durable. Refused with the reason, changing nothing.
   */
  async changeReservations(
    agentId: string,
    reserve: Resources,
    unreserve: Resources,
  ): Promise<{ ok: true } | { ok: false; unknown: boolean; reason: string }> {
    const a = this.state.agents.get(agentId);
    const why = reservationProblem(a, reserve, unreserve);
    if (why) return { ok: false, unknown: why === 'unknown agent', reason: why };
    const failed = (
      await Promise.all(this.dispatch({ type: 'operatorReservation', agentId, reserve, unreserve }))
    ).find((e) => e);
    if (failed) throw failed;
    return { ok: true };
  }

  /** Runs an allocation cycle soon, batched with other requests. */
  requestAllocation(): void {
    this.dispatch({ type: 'allocationRequested' });
  }

  /** Runs an allocation cycle now. */
  allocateNow(): void {
    this.dispatch({ type: 'allocateNow' });
  }

  // ------------------------------------------------------------------ connections

  onAgentConnect(peer: Peer<MasterToAgentMessage>) {
    if (!this.admit(peer)) return { onMessage: () => {}, onClose: () => {} };
    const conn = this.attach(peer, 'a');
    this.dispatch({ type: 'agentConnected', conn, principal: principalOf(peer) });
    return {
      onMessage: (message: AgentMessage) =>
        message.type === 'SECRETS_REQUEST'
          ? this.answerSecrets(conn, peer, message)
          : this.dispatch({ type: 'agentMessage', conn, message }),
      onClose: () => this.detach(conn, { type: 'agentDisconnected', conn }),
    };
  }

  /** Secrets are answered outside the state (an async store read), from what the state knows now. */
  private answerSecrets(conn: string, peer: Peer<MasterToAgentMessage>, m: SecretsRequest): void {
    let agentId: string | undefined;
    for (const a of this.state.agents.values()) if (a.peer?.id === conn && a.state === 'active') agentId = a.id;
    const delivery = this.secrets ?? new SecretsDelivery(undefined, () => false, this.log);
    delivery
      .answer(this, agentId, m)
      .then((answer) => peer.send(answer))
      .catch((e: Error) => this.log.warn({ agentId, err: e.message }, 'could not answer a secrets request'));
  }

  /**
   * A scheduler peer: a WebSocket connection, or an HTTP event stream (master/http/v1-scheduler.ts).
   * `callsRateLimited`: each of this peer's calls was already counted against its principal's
   * `--rate_limits` budget where it came in (the HTTP door, sdk/auth, answering 429 over it), so the
   * master must not count it a second time.
   */
  onSchedulerConnect(peer: Peer<SchedulerEvent>, opts: { callsRateLimited?: boolean } = {}) {
    if (!this.admit(peer)) return { onMessage: () => {}, onClose: () => {} };
    const conn = this.attach(peer, 's');
    this.dispatch({ type: 'schedulerConnected', conn, principal: principalOf(peer) });
    const counted = opts.callsRateLimited === true;
    return {
      onMessage: (call: SchedulerCall) => {
        if (!counted && call.type !== 'SUBSCRIBE' && !this.withinRate(conn, peer, call.framework_id)) return;
        this.dispatch({ type: 'schedulerCall', conn, call });
      },
      onClose: () => this.detach(conn, { type: 'schedulerDisconnected', conn }),
      // Only while the connection is the master's (a late report from a closed one changes nothing).
      onBackpressure: (congested: boolean) => {
        if (this.peers.has(conn)) this.dispatch({ type: 'schedulerBackpressure', conn, congested });
      },
    };
  }

  /** Whether a framework call fits its principal's rate limit; when not, the caller is told and it is audited. */
  private withinRate(conn: string, peer: Peer<SchedulerEvent>, frameworkId: string): boolean {
    const limiter = this.rateLimiter;
    if (!limiter) return true;
    const fw = this.state.frameworks.get(frameworkId);
    const principal = principalOf(peer) ?? (fw?.peer?.id === conn ? fw.principal : undefined);
    if (limiter.take(principal)) return true;
    this.state.counters.frameworkCallsRateLimited++;
    const err = new RateLimited(`framework calls of principal '${principal ?? '(none)'}' are over their rate limit`);
    peer.send({ type: 'ERROR', error: { message: err.message, code: err.code } });
    this.auditRecord({ conn, principal, action: 'framework_call', target: frameworkId, code: err.code, status: 429 });
    return false;
  }

  private auditRecord(r: {
    conn?: string;
    principal?: string;
    action: string;
    target?: string;
    code: string;
    status: number;
  }): void {
    const peer = r.conn !== undefined ? this.peers.get(r.conn) : undefined;
    this.audit?.({
      principal: r.principal,
      action: r.action,
      method: 'WS',
      path: r.conn?.startsWith('a') ? AGENT_WS_PATH : SCHEDULER_WS_PATH,
      target: r.target,
      decision: r.status === 401 ? 'unauthenticated' : 'deny',
      status: r.status,
      ip: (peer as { remoteAddress?: string } | undefined)?.remoteAddress ?? '',
    });
  }

  onAgentProtocolError(peer: Peer<MasterToAgentMessage>, err: CodecError): void {
    const conn = this.connOf.get(peer) ?? '';
    this.dispatch({ type: 'agentProtocolError', conn, code: err.code, message: err.message });
  }

  onSchedulerProtocolError(peer: Peer<SchedulerEvent>, err: CodecError): void {
    const conn = this.connOf.get(peer) ?? '';
    if (err.partial) {
      // An ACCEPT bad only in some operations or tasks: those are refused, the rest carried out.
      this.dispatch({ type: 'schedulerCall', conn, call: err.partial.call, refused: err.partial.refused });
      return;
    }
    this.dispatch({ type: 'schedulerProtocolError', conn, code: err.code, message: err.message });
  }

  /** The per-address cap: a connection over it is closed at once and never reaches the state. */
  private admit(peer: AnyPeer): boolean {
    if (this.guard.allows(peer.remoteAddress)) return true;
    this.state.counters.connectionsOverAddressCap++;
    this.log.warn({ remote: peer.remoteAddress }, 'too many connections from one address; closing the new one');
    peer.close(1008, `${TooManyConnections.code}: too many connections from this address`);
    return false;
  }

  private attach(peer: AnyPeer, tag: string): string {
    const conn = `${tag}${this.nextConn++}`;
    this.peers.set(conn, peer);
    this.connOf.set(peer, conn);
    this.guard.opened(conn, peer.remoteAddress, () => {
      if (!this.peers.has(conn)) return;
      this.state.counters.connectionsIdleClosed++;
      this.log.warn({ conn, remote: peer.remoteAddress }, 'connection did not subscribe or register in time; closing');
      peer.close(1008, `${ConnectionDeadline.code}: subscribe or register first`);
    });
    return conn;
  }

  private detach(conn: string, e: MasterEvent): void {
    this.peers.delete(conn);
    this.guard.closed(conn);
    this.dispatch(e);
  }

  // ------------------------------------------------------------------ effects

  /**
   * Applies the event and carries out its effects; events those effects raise (a failed send) are
   * applied in turn. Returns the registrar writes started, for callers that wait for durability.
   */
  private dispatch(e: MasterEvent): Promise<Error | undefined>[] {
    if (this.held && HELD_KINDS.has(e.type) && this.held.length < MAX_HELD_EVENTS) {
      this.held.push(e);
      return [];
    }
    this.queue.push(e);
    const writes: Promise<Error | undefined>[] = [];
    if (this.draining) return writes;
    this.draining = true;
    try {
      for (let next = this.queue.shift(); next; next = this.queue.shift()) {
        let effects: Effect[];
        try {
          effects = this.state.apply(next);
        } catch (err) {
          // A bug or an input nobody bounded must not take the master down: report it loudly.
          this.log.error({ err, event: next.type }, 'applying an event failed; the event was dropped');
          continue;
        }
        this.trace?.(next, effects);
        for (const effect of effects) this.run(effect, writes);
      }
    } finally {
      this.draining = false;
    }
    return writes;
  }

  private run(effect: Effect, writes: Promise<Error | undefined>[]): void {
    switch (effect.kind) {
      case 'toAgent':
        if (!this.send(effect.conn, effect.message)) {
          this.queue.push({ type: 'agentSendFailed', conn: effect.conn, message: effect.message });
        }
        return;
      case 'toScheduler':
        if (!this.send(effect.conn, effect.message)) {
          this.queue.push({ type: 'schedulerSendFailed', conn: effect.conn, message: effect.message });
        }
        return;
      case 'close':
        this.peers.get(effect.conn)?.close(effect.code, effect.reason);
        return;
      case 'persistAgent': {
        const ack = effect.ack;
        const w = this.persist('agent', this.registrar?.saveAgent(effect.record));
        writes.push(w);
        if (ack !== undefined) {
          void w.then((err) =>
            this.dispatch(err ? { type: 'persistFailed', ack, message: err.message } : { type: 'persisted', ack }),
          );
        }
        return;
      }
      case 'persistFramework': {
        const ack = effect.ack;
        const w = this.persist('framework', this.registrar?.saveFramework(effect.record));
        writes.push(w);
        if (ack !== undefined) {
          void w.then((err) =>
            this.dispatch(err ? { type: 'persistFailed', ack, message: err.message } : { type: 'persisted', ack }),
          );
        }
        return;
      }
      case 'forgetFramework':
        writes.push(this.persist('framework', this.registrar?.removeFramework(effect.frameworkId)));
        return;
      case 'forgetAgent':
        writes.push(this.persist('agent', this.registrar?.removeAgent(effect.agentId)));
        return;
      case 'arm': {
        this.timers.get(effect.timer)?.cancel();
        if (this.stopped) return;
        const name = effect.timer;
        const fire = () => {
          if (!effect.repeat) this.timers.delete(name);
          this.dispatch({ type: 'timerFired', timer: name });
        };
        const t = effect.repeat ? this.clock.setInterval(fire, effect.ms) : this.clock.setTimeout(fire, effect.ms);
        this.timers.set(name, t.unref());
        return;
      }
      case 'allocate': {
        // The allocator is pure; its plan goes back to the state before any other event.
        const started = performance.now();
        try {
          const plan = this.allocate(effect.snapshot, this.rng);
          this.queue.unshift({ type: 'allocationResult', plan, durationMs: performance.now() - started });
        } catch (err) {
          this.log.error({ err }, 'the allocator failed; no offers this cycle');
        }
        return;
      }
      case 'cancel':
        this.timers.get(effect.timer)?.cancel();
        this.timers.delete(effect.timer);
        return;
      case 'log':
        this.log[effect.level](effect.fields ?? {}, effect.msg);
        return;
      case 'audit':
        this.auditRecord(effect);
        return;
    }
  }

  private send(conn: string, message: MasterToAgentMessage | SchedulerEvent): boolean {
    const peer = this.peers.get(conn) as Peer<typeof message> | undefined;
    if (!peer) return false;
    this.guard.sent(conn, message.type);
    try {
      return peer.send(message);
    } catch (e) {
      this.log.error({ err: (e as Error).message, type: message.type, conn }, 'could not send a message');
      return false;
    }
  }

  /** Runs a registrar write; resolves with the error (if any). A fenced write means another master leads now. */
  private persist(what: string, write: Promise<void> | undefined): Promise<Error | undefined> {
    if (!write) return Promise.resolve(undefined);
    return write.then(
      () => undefined,
      (e: Error) => {
        if (e instanceof RegistrarFencedError) this.stepDown(e.message);
        else if (e instanceof UnreadableRecord) {
          this.state.counters.registrarWritesRefused++;
          this.log.error({ err: e.message, what }, 'registrar write refused: the record could not be read back');
        } else this.log.error({ err: e.message, what }, 'registrar write failed');
        return e;
      },
    );
  }
}

/** The principal the transport authenticated at the upgrade (sdk/transport sets `peer.principal`). */
function principalOf(peer: AnyPeer): string | undefined {
  const p = (peer as { principal?: unknown }).principal;
  return typeof p === 'string' ? p : undefined;
}
