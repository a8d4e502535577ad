/**
 * The scheduler driver: what a framework author builds on (docs/sdk.md). It subscribes to the
 * leading master and keeps the subscription (re-subscribing with the same framework id, with
 * exponential backoff and seeded jitter, when the connection drops, the leader changes or the
 * master falls silent past its heartbeats), keeps the framework id in a Store across restarts
 * when given one, runs Mesos's reconciliation after every subscription, acknowledges updates,
 * declines offers left unused and suppresses offers while the framework says it is idle.
 * Events come as callbacks (`driver.on('offers', …)`) and as an async iterator (`driver.events()`).
 */
import { EventEmitter } from 'node:events';
import pino from 'pino';
import {
  Direction,
  FRAMEWORK_TORN_DOWN_REASON,
  SCHEDULER_WS_PATH,
  type SchedulerCall,
  type SchedulerEvent,
} from '../protocol/messages.js';
import {
  type ExecutorInfo,
  type Filters,
  type FrameworkInfo,
  isTerminal,
  type MasterInfo,
  type Offer,
  type Operation,
  type TaskGroupInfo,
  type TaskInfo,
  type TaskState,
  type TaskStatus,
} from '../protocol/types.js';
import { validateMessage } from '../protocol/validate.js';
import type { Store } from '../store/store.js';
import { backoffDelayMs, type ClientSecurity } from '../transport/index.js';
import { type Clock, systemClock, type Timer } from '../util/clock.js';
import { type Rng, seededRng } from '../util/random.js';
import { DriverMasterUnreachable, DriverStoreFailed } from './errors.js';
import { type DriverEvent, EventStream, type SchedulerDriverEvents } from './events.js';
import { Reconciler, type TaskRef } from './reconciler.js';
import { type SchedulerTransport, schedulerUrl, type TransportFactory, webSocketTransport } from './transport.js';

export type { SchedulerDriverEvents };
export { SCHEDULER_WS_PATH, schedulerUrl };

export interface DriverOptions extends ClientSecurity {
  /**
   * Where the leading master is: `host:port`, `zk://host:2181/agora` (follows the election), or a
   * function giving `host:port`. Not needed with `transport`.
   */
  master?: string | (() => string | undefined | Promise<string | undefined>);
  /** How to reach the master instead (`agora/sdk/testing` gives an in-memory one). */
  transport?: TransportFactory;
  framework: FrameworkInfo;
  /** Acknowledge every status update once its listeners (and iterators) have handled it (default true). */
  implicitAcknowledgements?: boolean;
  logger?: pino.Logger;
  /** Every timer of the driver and its transport; default `systemClock`. */
  clock?: Clock;
  /** Seed of the backoff jitter (default: random). */
  seed?: number;
  /** Re-subscription backoff: full jitter in [0, min(maxMs, initialMs·2^n)); defaults 500 and 30,000 ms. */
  backoff?: { initialMs?: number; maxMs?: number };
  /** Heartbeat intervals without any event from the master before the driver re-subscribes (default 5). */
  missedHeartbeats?: number;
  /** Keeps the framework id here (key `frameworkIdKey`), so that a restarted framework gets its tasks back. */
  frameworkIdStore?: Store;
  /** Default `frameworks/<name>/framework-id`. */
  frameworkIdKey?: string;
  /**
   * The tasks the framework believes in, asked after every subscription and reconciled explicitly
   * (with those the driver saw launched and not yet terminal).
   */
  knownTasks?: () => TaskRef[] | Promise<TaskRef[]>;
  /** Reconciliation after every subscription (default on; first wait 1 s, doubling to 60 s); false: off. */
  reconcile?: false | { initialMs?: number; maxMs?: number };
  /** Offers the handlers left unused are declined with this filter (default 5 s); false: keep them. */
  declineUnused?: false | { refuseSeconds?: number };
  /** `idle()` sends SUPPRESS and `wantOffers()` REVIVE (default true); false: `idle()` only records it. */
  suppressWhenIdle?: boolean;
}

/** What the driver knows of a task it saw launched or reported. */
export interface TrackedTask {
  task_id: string;
  agent_id?: string;
  state: TaskState;
}

const DEFAULT_HEARTBEAT_SECONDS = 15;

/** The call as it will be sent, with a placeholder framework id before the first SUBSCRIBED. */
function withId(c: SchedulerCall, frameworkId: string): SchedulerCall {
  return 'framework_id' in c && c.framework_id === '' ? { ...c, framework_id: frameworkId || 'unsubscribed' } : c;
}

/** A store key segment from a framework name. */
function keySegment(name: string): string {
  const s = name.replace(/[^A-Za-z0-9_:@+=,~-]/g, '_').slice(0, 100);
  return s === '' || s.startsWith('.') ? `_${s}` : s;
}

export class SchedulerDriver extends EventEmitter<SchedulerDriverEvents> {
  frameworkId?: string;
  masterInfo?: MasterInfo;
  /** When the master last sent a HEARTBEAT event (ms since the epoch). */
  lastHeartbeat?: number;
  /** Tasks launched through this driver or reported to it, not terminal yet, by task id. */
  readonly tasks = new Map<string, TrackedTask>();
  private readonly transport: SchedulerTransport;
  private readonly log: pino.Logger;
  private readonly clock: Clock;
  private readonly rng: Rng;
  private readonly backoff: { initialMs: number; maxMs: number };
  private readonly reconciler?: Reconciler;
  private readonly streams = new Set<EventStream>();
  /** Offers received on this subscription and not yet used, declined or rescinded. */
  private readonly unused = new Map<string, Offer>();
  private subscribedOnce = false;
  private warnedUnreachable = false;
  private subscribedNow = false;
  private heartbeatMs = DEFAULT_HEARTBEAT_SECONDS * 1000;
  /** Re-subscription attempts since the last healthy heartbeat. */
  private attempts = 0;
  private watchdog?: Timer;
  private retry?: Timer;
  /** Events of the current connection are ignored (it was given up on). */
  private ignoring = false;
  private started = false;
  private stopped = false;
  private isIdle = false;
  private declinedSinceRevive = false;
  private teardownWaiters?: { resolve: () => void; promise: Promise<void> };
  private storedId?: { id: string; version: number };

  constructor(private readonly opts: DriverOptions) {
    super();
    this.log = opts.logger ?? pino({ level: 'silent' });
    this.clock = opts.clock ?? systemClock;
    this.rng = seededRng(opts.seed ?? Math.floor(Math.random() * 2 ** 32));
    this.backoff = { initialMs: opts.backoff?.initialMs ?? 500, maxMs: opts.backoff?.maxMs ?? 30_000 };
    this.frameworkId = opts.framework.id;
    const factory = opts.transport ?? (opts.master !== undefined ? webSocketTransport(opts.master) : undefined);
    if (!factory) throw new TypeError('SchedulerDriver needs `master` (or `transport`)');
    this.transport = factory(
      {
        onOpen: () => this.onOpen(),
        onMessage: (e) => this.onEvent(e),
        onClose: (code, reason) => this.onClose(code, reason),
        onRefused: (status, code, message) =>
          this.report({
            code: code ?? `HTTP_${status}`,
            message: `the master refused the connection: ${message ?? `HTTP ${status}`}`,
          }),
        onLeaderChange: () => this.resubscribeLater('the leading master changed'),
        onUnreachable: (reason, failures) => this.unreachable(reason, failures),
      },
      {
        clock: this.clock,
        rng: this.rng,
        logger: this.log,
        backoff: this.backoff,
        credential: opts.credential,
        tls: opts.tls,
      },
    );
    if (opts.reconcile !== false) {
      this.reconciler = new Reconciler({
        clock: this.clock,
        send: (tasks) => this.call({ type: 'RECONCILE', framework_id: this.fid(), reconcile: { tasks } }),
        onDone: () => this.dispatch({ type: 'reconciled' }, () => this.emit('reconciled')),
        initialMs: opts.reconcile?.initialMs,
        maxMs: opts.reconcile?.maxMs,
      });
    }
  }

  get subscribed(): boolean {
    return this.subscribedNow;
  }

  /** True between `idle()` and `wantOffers()`. */
  get idling(): boolean {
    return this.isIdle;
  }

  /** Connects (after reading the framework id from `frameworkIdStore`, when given). */
  start(): this {
    if (this.started) return this;
    this.started = true;
    if (this.opts.frameworkIdStore && !this.frameworkId) {
      void this.loadFrameworkId().finally(() => {
        if (!this.stopped) this.transport.start();
      });
    } else {
      this.transport.start();
    }
    return this;
  }

  /** Disconnects without tearing the framework down: the master keeps its tasks for failover_timeout. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.subscribedNow = false;
    this.watchdog?.cancel();
    this.retry?.cancel();
    this.reconciler?.stop();
    await this.transport.stop();
    for (const s of this.streams) s.end();
  }

  /**
   * The events as an async iterator, from now on. Offers of an `offers` event are declined (when
   * unused) and updates acknowledged once the loop asks for the next event, so decide in the loop body.
   */
  events(): AsyncIterableIterator<DriverEvent> {
    const s = new EventStream((x) => this.streams.delete(x));
    if (this.stopped) s.end();
    else this.streams.add(s);
    return s;
  }

  // ------------------------------------------------------------------ connection and subscription

  private frameworkIdKey(): string {
    return this.opts.frameworkIdKey ?? `frameworks/${keySegment(this.opts.framework.name)}/framework-id`;
  }

  private async loadFrameworkId(): Promise<void> {
    const store = this.opts.frameworkIdStore;
    if (!store) return;
    try {
      const v = await store.get<string>(this.frameworkIdKey());
      if (v && typeof v.value === 'string' && !this.frameworkId) {
        this.frameworkId = v.value;
        this.storedId = { id: v.value, version: v.version };
        this.log.info({ frameworkId: v.value }, 'resuming the framework id kept in the store');
      }
    } catch (err) {
      this.log.error({ err }, 'could not read the framework id from the store; subscribing without one');
      this.report({
        code: DriverStoreFailed.code,
        message: `reading the framework id: ${(err as Error).message}`,
      });
    }
  }

  private async saveFrameworkId(id: string): Promise<void> {
    const store = this.opts.frameworkIdStore;
    if (!store || this.storedId?.id === id) return;
    try {
      const key = this.frameworkIdKey();
      const current = await store.get<string>(key);
      const version = await store.put(key, id, current?.version);
      this.storedId = { id, version };
    } catch (err) {
      this.log.error({ err }, 'could not keep the framework id in the store');
      this.report({
        code: DriverStoreFailed.code,
        message: `keeping the framework id: ${(err as Error).message}`,
      });
    }
  }

  private async forgetFrameworkId(): Promise<void> {
    const store = this.opts.frameworkIdStore;
    if (!store) return;
    try {
      await store.delete(this.frameworkIdKey());
      this.storedId = undefined;
    } catch (err) {
      this.log.warn({ err }, 'could not remove the framework id from the store');
    }
  }

  private onOpen(): void {
    this.ignoring = false;
    // The transport reconnected by itself (after a close): no need for a pending re-subscription.
    this.retry?.cancel();
    this.retry = undefined;
    this.armWatchdog();
    const framework_info: FrameworkInfo = { ...this.opts.framework };
    if (this.frameworkId) framework_info.id = this.frameworkId;
    else if (this.teardownWaiters) {
      this.finishTeardown(); // nothing was ever subscribed: nothing to tear down
      return;
    }
    this.transport.send({ type: 'SUBSCRIBE', subscribe: { framework_info } });
  }

  private onClose(_code: number, reason: string): void {
    const was = this.subscribedNow;
    this.subscribedNow = false;
    this.unused.clear();
    this.reconciler?.stop();
    this.watchdog?.cancel();
    if (was && !this.ignoring) this.dispatch({ type: 'disconnected' }, () => this.emit('disconnected'));
    if (reason === FRAMEWORK_TORN_DOWN_REASON) {
      if (this.teardownWaiters) this.finishTeardown();
      else this.abort('AGORA_MASTER_FRAMEWORK_REMOVED', 'the master tore the framework down');
    }
  }

  /** The master fell silent (or the leader changed): give up this connection and re-subscribe after backoff. */
  private resubscribeLater(why: string): void {
    if (this.stopped || this.retry) return;
    const was = this.subscribedNow;
    this.subscribedNow = false;
    this.ignoring = true;
    this.unused.clear();
    this.reconciler?.stop();
    this.watchdog?.cancel();
    if (was) this.dispatch({ type: 'disconnected' }, () => this.emit('disconnected'));
    const delay = backoffDelayMs(this.attempts, this.backoff.initialMs, this.backoff.maxMs, this.rng);
    this.attempts++;
    this.log.warn({ why, delayMs: delay, attempt: this.attempts }, 're-subscribing after backoff');
    this.retry = this.clock.setTimeout(() => {
      this.retry = undefined;
      if (!this.stopped) this.transport.reconnectNow();
    }, delay);
  }

  private armWatchdog(): void {
    this.watchdog?.cancel();
    const n = this.opts.missedHeartbeats ?? 5;
    this.watchdog = this.clock.setTimeout(() => {
      this.watchdog = undefined;
      this.resubscribeLater(`no event from the master for ${n} heartbeat intervals`);
    }, n * this.heartbeatMs);
  }

  private abort(code: string, message: string): void {
    this.log.info({ code }, message);
    this.report({ code, message });
    void this.forgetFrameworkId();
    void this.stop();
  }

  /**
   * Connection attempts fail: said through the `error` event at the first failure and every tenth,
   * and, when nobody listens for errors and no logger was given, once on stderr, so that a
   * framework pointed at the wrong address does not wait in silence.
   */
  private unreachable(reason: string, failures: number): void {
    if (failures !== 1 && failures % 10 !== 0) return;
    const message = `cannot connect to the master (${failures} failed attempt${failures === 1 ? '' : 's'}: ${reason}); retrying with backoff`;
    this.log.warn({ failures, reason }, 'cannot connect to the master; retrying');
    if (this.listenerCount('error') === 0 && this.opts.logger === undefined && !this.warnedUnreachable) {
      this.warnedUnreachable = true;
      process.stderr.write(`agora/sdk: ${message} (listen for 'error' or pass a logger to see more)\n`);
    }
    this.report({ code: DriverMasterUnreachable.code, message });
  }

  private report(error: { code?: string; message: string }): void {
    this.dispatch({ type: 'error', ...error }, () => {
      if (this.listenerCount('error') > 0) this.emit('error', error);
    });
  }

  /** Hands an event to every iterator and to the callbacks; `after` runs once all have handled it. */
  private dispatch(event: DriverEvent, emit: () => void, after?: () => void): void {
    let waiting = this.streams.size + 1;
    const done = () => {
      if (--waiting === 0) after?.();
    };
    for (const s of this.streams) s.push(event, done);
    try {
      emit();
    } catch (err) {
      this.log.error({ err, event: event.type }, 'an event listener threw');
    }
    done();
  }

  private onEvent(e: SchedulerEvent): void {
    if (this.ignoring || this.stopped) return;
    // Only a subscribed connection is kept alive by events: one whose SUBSCRIBED never came is retried.
    if (this.subscribedNow) this.armWatchdog();
    switch (e.type) {
      case 'SUBSCRIBED':
        this.onSubscribed(e.subscribed);
        return;
      case 'OFFERS': {
        const offers = e.offers.offers;
        for (const o of offers) this.unused.set(o.id, o);
        this.dispatch(
          { type: 'offers', offers },
          () => this.emit('offers', offers),
          () => this.declineLeftovers(offers),
        );
        return;
      }
      case 'RESCIND':
        this.unused.delete(e.rescind.offer_id);
        this.dispatch({ type: 'rescind', offerId: e.rescind.offer_id }, () => this.emit('rescind', e.rescind.offer_id));
        return;
      case 'UPDATE':
        this.onUpdate(e.update.status);
        return;
      case 'FAILURE':
        this.dispatch({ type: 'failure', agentId: e.failure.agent_id }, () => this.emit('failure', e.failure.agent_id));
        return;
      case 'ERROR':
        this.onError(e.error);
        return;
      case 'HEARTBEAT': {
        const at = this.clock.now();
        this.lastHeartbeat = at;
        if (this.subscribedNow) this.attempts = 0;
        this.dispatch({ type: 'heartbeat', at }, () => this.emit('heartbeat', at));
        return;
      }
      case 'MESSAGE': {
        const m = {
          agentId: e.message.agent_id,
          executorId: e.message.executor_id,
          data: Buffer.from(e.message.data, 'base64'),
        };
        this.dispatch({ type: 'message', ...m }, () => this.emit('message', m));
        return;
      }
      case 'LEADER':
        // A redirect: reconnect at once to a leader we were not trying; otherwise the usual backoff.
        if (this.transport.hint(e.leader.master_info)) this.transport.reconnectNow();
        else this.log.info('connected master is not the leader; retrying with backoff');
        return;
    }
  }

  private onSubscribed(s: Extract<SchedulerEvent, { type: 'SUBSCRIBED' }>['subscribed']): void {
    const resubscribed = this.subscribedOnce;
    this.frameworkId = s.framework_id;
    this.masterInfo = s.master_info;
    this.heartbeatMs = Math.max(1, s.heartbeat_interval_seconds * 1000);
    this.armWatchdog();
    this.subscribedOnce = true;
    this.subscribedNow = true;
    this.unused.clear();
    void this.saveFrameworkId(s.framework_id);
    if (this.teardownWaiters) {
      this.transport.send({ type: 'TEARDOWN', framework_id: s.framework_id });
      return;
    }
    const event = {
      frameworkId: s.framework_id,
      masterInfo: s.master_info,
      resubscribed,
      heartbeatIntervalSeconds: s.heartbeat_interval_seconds,
    };
    this.dispatch({ type: 'subscribed', ...event }, () => this.emit('subscribed', event));
    if (this.isIdle && this.opts.suppressWhenIdle !== false) this.suppress();
    void this.startReconciliation((s.reconcile_hold_seconds ?? 0) * 1000);
  }

  /** Reconciliation runs started; a run that finds a later one started stops (a second SUBSCRIBED). */
  private reconcileRuns = 0;

  /** `holdMs`: how long the master holds questions it cannot answer yet (SUBSCRIBED, after a failover). */
  private async startReconciliation(holdMs: number): Promise<void> {
    if (!this.reconciler) return;
    const run = ++this.reconcileRuns;
    let given: TaskRef[] = [];
    try {
      given = (await this.opts.knownTasks?.()) ?? [];
    } catch (err) {
      this.log.error({ err }, 'knownTasks() threw; reconciling the tasks the driver tracks');
    }
    // Not subscribed any more, or a later SUBSCRIBED started its own run while knownTasks() ran.
    if (!this.subscribedNow || run !== this.reconcileRuns) return;
    const all = new Map<string, TaskRef>();
    for (const t of this.tasks.values()) if (!isTerminal(t.state)) all.set(t.task_id, refOf(t));
    for (const t of given) all.set(t.task_id, refOf(t));
    this.reconciler.start([...all.values()], holdMs);
  }

  private onUpdate(status: TaskStatus): void {
    if (isTerminal(status.state)) this.tasks.delete(status.task_id);
    else {
      this.tasks.set(status.task_id, {
        task_id: status.task_id,
        agent_id: status.agent_id ?? this.tasks.get(status.task_id)?.agent_id,
        state: status.state,
      });
    }
    this.reconciler?.answered(status.task_id);
    const ack = this.opts.implicitAcknowledgements !== false && status.uuid !== undefined;
    this.dispatch(
      { type: 'update', status },
      () => this.emit('update', status),
      ack ? () => this.acknowledge(status) : undefined,
    );
  }

  private onError(error: { message: string; code?: string }): void {
    if (error.code === 'AGORA_MASTER_FRAMEWORK_REMOVED' && this.teardownWaiters) {
      this.finishTeardown();
      return;
    }
    if (error.code === 'AGORA_MASTER_FRAMEWORK_REMOVED' || error.code === 'AGORA_MASTER_UNKNOWN_FRAMEWORK') {
      this.abort(error.code, `${error.message} (the driver stops; start again without a framework id)`);
      return;
    }
    if (error.code === 'AGORA_MASTER_FRAMEWORK_FAILED_OVER') {
      // Another instance subscribed with this framework's id and is the framework now: stop, as
      // Mesos's driver aborts, rather than take it back by re-subscribing. The id is kept: it is
      // the other instance's too.
      this.log.info({ code: error.code }, 'another scheduler instance took this framework over; the driver stops');
      this.report(error);
      void this.stop();
      return;
    }
    this.log.warn({ error }, 'master reported an error');
    this.report(error);
  }

  private declineLeftovers(offers: Offer[]): void {
    const d = this.opts.declineUnused;
    if (d === false || !this.subscribedNow) return;
    const ids = offers.map((o) => o.id).filter((id) => this.unused.has(id));
    if (ids.length === 0) return;
    this.decline(ids, { refuse_seconds: d?.refuseSeconds ?? 5 });
  }

  // ------------------------------------------------------------------ calls

  /**
   * Sends a call; false when not subscribed. A call the master would refuse (a bad task id, a
   * negative scalar, a field out of bounds) throws `ProtocolError` here, naming the field, instead
   * of costing the connection.
   */
  private call(c: SchedulerCall): boolean {
    validateMessage(Direction.SchedulerToMaster, withId(c, this.fid()));
    if (!this.frameworkId || !this.subscribedNow) return false;
    return this.transport.send(c);
  }

  private fid(): string {
    return this.frameworkId ?? '';
  }

  accept(offerIds: string[], operations: Operation[], filters?: Filters): boolean {
    const sent = this.call({
      type: 'ACCEPT',
      framework_id: this.fid(),
      accept: { offer_ids: offerIds, operations, filters },
    });
    for (const id of offerIds) this.unused.delete(id);
    if (sent) {
      for (const op of operations) {
        const tasks =
          op.type === 'LAUNCH'
            ? op.launch.task_infos
            : op.type === 'LAUNCH_GROUP'
              ? op.launch_group.task_group.tasks
              : [];
        for (const t of tasks) {
          this.tasks.set(t.task_id, { task_id: t.task_id, agent_id: t.agent_id, state: 'TASK_STAGING' });
        }
      }
    }
    return sent;
  }

  /** Launches `tasks` on `offer` (LAUNCH operation); what is left goes back with `filters`. */
  launch(offer: Offer | Offer[], tasks: TaskInfo[], filters?: Filters): boolean {
    const offers = Array.isArray(offer) ? offer : [offer];
    return this.accept(
      offers.map((o) => o.id),
      [{ type: 'LAUNCH', launch: { task_infos: tasks } }],
      filters,
    );
  }

  /** Launches a task group (LAUNCH_GROUP: all or none of its tasks start) with the default executor. */
  launchGroup(offer: Offer | Offer[], executor: ExecutorInfo, taskGroup: TaskGroupInfo, filters?: Filters): boolean {
    const offers = Array.isArray(offer) ? offer : [offer];
    return this.accept(
      offers.map((o) => o.id),
      [{ type: 'LAUNCH_GROUP', launch_group: { executor, task_group: taskGroup } }],
      filters,
    );
  }

  decline(offerIds: string[], filters: Filters = { refuse_seconds: 5 }): boolean {
    for (const id of offerIds) this.unused.delete(id);
    this.declinedSinceRevive = true;
    return this.call({ type: 'DECLINE', framework_id: this.fid(), decline: { offer_ids: offerIds, filters } });
  }

  kill(taskId: string, agentId?: string): boolean {
    return this.call({ type: 'KILL', framework_id: this.fid(), kill: { task_id: taskId, agent_id: agentId } });
  }

  /** Stops an executor and its tasks (a command task's executor id is its task id). */
  shutdown(executorId: string, agentId: string): boolean {
    return this.call({
      type: 'SHUTDOWN',
      framework_id: this.fid(),
      shutdown: { executor_id: executorId, agent_id: agentId },
    });
  }

  acknowledge(status: TaskStatus): boolean {
    if (!status.uuid || !status.agent_id) return false;
    return this.call({
      type: 'ACKNOWLEDGE',
      framework_id: this.fid(),
      acknowledge: { agent_id: status.agent_id, task_id: status.task_id, uuid: status.uuid },
    });
  }

  /** Explicit reconciliation of the tasks named, or implicit (all of the framework's tasks) with none. */
  reconcile(tasks: TaskRef[] = []): boolean {
    return this.call({ type: 'RECONCILE', framework_id: this.fid(), reconcile: { tasks } });
  }

  suppress(roles?: string[]): boolean {
    return this.call({ type: 'SUPPRESS', framework_id: this.fid(), suppress: roles ? { roles } : undefined });
  }

  revive(roles?: string[]): boolean {
    return this.call({ type: 'REVIVE', framework_id: this.fid(), revive: roles ? { roles } : undefined });
  }

  /** The framework has nothing to launch: stop sending it offers (SUPPRESS, kept across re-subscriptions). */
  idle(): void {
    if (this.isIdle) return;
    this.isIdle = true;
    if (this.opts.suppressWhenIdle !== false) this.suppress();
  }

  /**
   * The framework has work again: REVIVE (offers resume and the refusal filters of earlier
   * declines are cleared) if it was idle or has declined offers since the last REVIVE.
   */
  wantOffers(): void {
    if (!this.isIdle && !this.declinedSinceRevive) return;
    const wasIdle = this.isIdle;
    this.isIdle = false;
    if (wasIdle && this.opts.suppressWhenIdle === false) return;
    if (this.revive()) this.declinedSinceRevive = false;
  }

  /** Sends data to an executor (best effort; a command task's executor drops it, as in Mesos). */
  message(agentId: string, executorId: string, data: Uint8Array | string): boolean {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data);
    return this.call({
      type: 'MESSAGE',
      framework_id: this.fid(),
      message: { agent_id: agentId, executor_id: executorId, data: bytes.toString('base64') },
    });
  }

  /** New FrameworkInfo (same id and principal); also used for every later re-subscription. */
  updateFramework(framework: FrameworkInfo, opts: { suppressedRoles?: string[] } = {}): boolean {
    const info = { ...framework, ...(this.frameworkId ? { id: this.frameworkId } : {}) };
    const sent = this.call({
      type: 'UPDATE_FRAMEWORK',
      framework_id: this.fid(),
      update_framework: {
        framework_info: info,
        ...(opts.suppressedRoles ? { suppressed_roles: opts.suppressedRoles } : {}),
      },
    });
    const { id: _id, ...rest } = framework;
    this.opts.framework = rest;
    return sent;
  }

  /**
   * Ends the framework: the master kills its tasks and forgets it. Resolves once the master has
   * acknowledged it (it closes the subscription as torn down, or answers that the framework is
   * removed when the driver re-subscribes); then the driver is stopped and the stored id removed.
   */
  teardown(): Promise<void> {
    if (this.teardownWaiters) return this.teardownWaiters.promise;
    let resolve!: () => void;
    const promise = new Promise<void>((r) => {
      resolve = r;
    });
    this.teardownWaiters = { resolve, promise };
    if (this.stopped) this.finishTeardown();
    else if (this.subscribedNow && this.frameworkId) {
      this.transport.send({ type: 'TEARDOWN', framework_id: this.frameworkId });
    } else if (!this.started) this.start();
    return promise;
  }

  private finishTeardown(): void {
    const w = this.teardownWaiters;
    if (!w) return;
    void this.forgetFrameworkId()
      .then(() => this.stop())
      .then(() => w.resolve());
  }
}

function refOf(t: { task_id: string; agent_id?: string }): TaskRef {
  return t.agent_id ? { task_id: t.task_id, agent_id: t.agent_id } : { task_id: t.task_id };
}
