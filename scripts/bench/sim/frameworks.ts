/**
 * Simulated frameworks for the master benchmarks: each keeps a backlog of small tasks, packs them
 * first-fit into the offers it gets, declines what it cannot use with a filter, acknowledges every
 * update and records ACCEPT→RUNNING. In churn mode every task that starts running replaces an old
 * one (KILL the oldest, queue a new task), which holds the cluster's occupancy steady.
 *
 * Offers are handled as Mesos's framework development guide asks of a well-behaved scheduler
 * (docs/app-framework-development-guide.md, "offer management"): SUPPRESS whenever the backlog is
 * empty (here: empty for `suppressAfterMs`), decline unusable offers with a long filter, REVIVE when
 * work waits while suppressed, or when starved (work waiting, filters set and no offer for
 * `reviveAfterMs`), and never more than once per `reviveAfterMs` (a REVIVE clears every filter, so
 * reviving on every new task, as this harness did before, is declining with no filter at all).
 */
import {
  Direction,
  SCHEDULER_WS_PATH,
  type SchedulerCall,
  type SchedulerEvent,
} from '../../../sdk/protocol/messages.js';
import { type MasterInfo, type Offer, type TaskInfo, TaskState } from '../../../sdk/protocol/types.js';
import { type Resource, Resources } from '../../../sdk/resources/resources.js';
import { backoffDelayMs, type Peer, ReconnectingClient } from '../../../sdk/transport/index.js';
import { mathRandom } from '../../../sdk/util/random.js';
import { createDetector, type MasterDetector, sameMaster } from '../../../sdk/zk/detector.js';

export interface FrameworksConfig {
  /** ws://host:port of the master. */
  url: string;
  count: number;
  task: string;
  /** refuse_seconds when declining an offer for want of work. */
  declineSeconds: number;
  /** Other masters to try in turn when a connection closes (failover). */
  others?: string[];
  backoffMaxMs?: number;
  /**
   * `zk://host:2181/path`: follow the election as the SDK's driver does (sdk/scheduler/transport.ts
   * and driver.ts): a change of leader re-subscribes after the driver's backoff (full jitter in
   * [0, 500 ms)), a master's LEADER hint is tried at once, failed attempts back off 200 ms doubling
   * to 10 s. `url` and `others` are then unused. One detector serves every framework of the process.
   */
  zk?: string;
  /**
   * As the driver's Reconciler (sdk/scheduler/reconciler.ts): after every re-subscription, ask the
   * master explicitly about every task believed running, and ask again for those still unanswered
   * after 1 s (or the hold SUBSCRIBED names, up to 60 s), doubling up to 60 s. The report's reconciliation counters then count since the last mark.
   */
  reconcileOnSubscribe?: boolean;
  /** REVIVE when starved this long, at most once per this long (default 2000: the master offers at least every allocation interval, 1 s, and a loaded master later). */
  reviveAfterMs?: number;
  /**
   * SUPPRESS once the backlog has stayed empty this long (default 5000): a framework whose launches
   * are in flight gets work again soon, and each SUPPRESS costs a REVIVE, which clears every filter.
   */
  suppressAfterMs?: number;
}

export type FrameworksCommand =
  | { cmd: 'start' }
  | { cmd: 'add'; tasks: number }
  | { cmd: 'shrink'; to: number }
  | { cmd: 'churn'; on: boolean }
  | { cmd: 'mark' }
  | { cmd: 'reconcile' }
  | { cmd: 'report' }
  | { cmd: 'stop' };

export interface FrameworksReport {
  subscribed: number;
  /** Distinct tasks seen RUNNING since the last mark, and the last time one was. */
  running: number;
  lastRunningAt: number;
  /** Tasks seen RUNNING more than once (ever), and distinct tasks ever seen RUNNING. */
  runningTwice: number;
  runningEver: number;
  /** Tasks running now (RUNNING seen, not ended). */
  live: number;
  backlog: number;
  launched: number;
  offers: number;
  /** OFFERS events received (one event carries many offers). */
  offerEvents: number;
  accepts: number;
  declines: number;
  /** REVIVE and SUPPRESS calls sent. */
  revives: number;
  suppresses: number;
  p50: number;
  p99: number;
  /** Since the last reconcile: tasks the master's answers accounted for, and those it said were lost/unknown. */
  reconciled: number;
  reconcileLost: number;
  /** Tasks that ended before running (queued again), and the last such state and reason. */
  lostBeforeRunning: number;
  lastReason: string;
  /** Re-subscriptions (SUBSCRIBED for an id it already had), and the last one's time. */
  resubscribed: number;
  lastSubscribedAt: number;
  lastReconciledAt: number;
  /** Reconciliation rounds sent since the last mark, and when the first went out. */
  reconcileCalls: number;
  reconcileSentAt: number;
  /** zk mode: when ZooKeeper first named a new leader since the last mark. */
  leaderDetectedAt: number;
  /** Connections closed (ever), and the last close's code and reason. */
  closes: number;
  lastClose: string;
}

function scalar(list: readonly Resource[], name: string): number {
  let v = 0;
  for (const r of list) if (r.name === name && r.scalar) v += r.scalar.value;
  return v;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

class SimFramework {
  id?: string;
  peer?: Peer<SchedulerCall>;
  readonly client: ReconnectingClient<typeof Direction.MasterToScheduler, SchedulerCall>;
  readonly backlog: string[] = [];
  readonly acceptedAt = new Map<string, number>();
  /** Running tasks, oldest first (id → agent id). */
  readonly live = new Map<string, string>();
  /** Tasks seen RUNNING, with the uuid of that update (a resent update carries the same uuid). */
  readonly runningSeen = new Map<string, string | undefined>();
  declined = false;
  /** SUPPRESS sent (offers off) and not revived since. */
  suppressed = false;
  lastOfferAt = 0;
  lastReviveAt = 0;
  /** When the backlog was last seen empty (0: it is not). */
  emptySince = 0;
  /** Offers since the last debug line (AGORA_SIM_DEBUG). */
  offersSeen = 0;
  subscribed = false;
  private tries = 0;
  private next = 0;
  /** zk mode: a LEADER hint tried on the next attempt only, and the pending re-subscription. */
  private hinted?: MasterInfo;
  private resubscribeTimer?: NodeJS.Timeout;
  private reconcileTimer?: NodeJS.Timeout;

  constructor(
    private readonly sim: SimFrameworks,
    readonly index: number,
    private url: string,
  ) {
    const all = [url, ...(sim.cfg.others ?? [])];
    const zk = sim.detector !== undefined;
    this.client = new ReconnectingClient({
      url: () =>
        zk ? this.zkUrl() : this.tries++ === 0 ? this.url : all[(all.indexOf(this.url) + this.tries) % all.length],
      inbound: Direction.MasterToScheduler,
      backoff: zk
        ? { initialMs: 200, maxMs: sim.cfg.backoffMaxMs ?? 10_000 }
        : { initialMs: 50, maxMs: sim.cfg.backoffMaxMs ?? 2000 },
      onOpen: (peer) => {
        this.peer = peer;
        this.tries = 0;
        // As the SDK driver: the client reconnected by itself (its connection to the old leader
        // closed, and ZooKeeper already names the new one), so the re-subscription planned on the
        // leader change is not needed. Without this it dropped the new subscription and made
        // another (CI: 3 re-subscriptions of 2 frameworks in the tiny failover test).
        clearTimeout(this.resubscribeTimer);
        this.resubscribeTimer = undefined;
        const info = { name: `sim-fw-${index}`, failover_timeout: 3600, ...(this.id ? { id: this.id } : {}) };
        peer.send({ type: 'SUBSCRIBE', subscribe: { framework_info: info } });
      },
      onMessage: (e) => this.event(e),
      onClose: (code, reason) => {
        this.sim.closes++;
        this.sim.lastClose = `${code} ${reason}`;
        this.peer = undefined;
        this.subscribed = false;
      },
    });
  }

  private zkUrl(): string | undefined {
    const m = this.hinted ?? this.sim.detector?.current();
    this.hinted = undefined;
    return m ? `ws://${m.address.ip}:${m.address.port}${SCHEDULER_WS_PATH}` : undefined;
  }

  /** zk mode, the leader changed: re-subscribe after the driver's backoff (attempts 0: [0, 500 ms)). */
  leaderChanged(): void {
    if (this.resubscribeTimer) return;
    clearTimeout(this.reconcileTimer);
    const delay = backoffDelayMs(0, 500, 30_000, mathRandom);
    this.resubscribeTimer = setTimeout(() => {
      this.resubscribeTimer = undefined;
      this.client.reconnectNow();
    }, delay);
  }

  stopTimers(): void {
    clearTimeout(this.resubscribeTimer);
    clearTimeout(this.reconcileTimer);
  }

  /**
   * Explicit reconciliation of the tasks believed running. `retryMs`: as the driver's rounds, ask
   * again after that long for the tasks still unanswered (`again`), doubling up to 60 s.
   */
  reconcile(retryMs?: number, again = false): void {
    clearTimeout(this.reconcileTimer);
    const tasks: { task_id: string; agent_id: string }[] = [];
    for (const [task_id, agent_id] of this.live) {
      if (!again) this.sim.reconciling.add(task_id);
      else if (!this.sim.reconciling.has(task_id)) continue;
      tasks.push({ task_id, agent_id });
    }
    if (tasks.length === 0) return;
    this.sim.reconcileCalls++;
    if (this.sim.reconcileSentAt === 0) this.sim.reconcileSentAt = Date.now();
    for (let i = 0; i < tasks.length; i += 1000) {
      this.call({ type: 'RECONCILE', framework_id: this.id as string, reconcile: { tasks: tasks.slice(i, i + 1000) } });
    }
    if (retryMs !== undefined) {
      this.reconcileTimer = setTimeout(() => this.reconcile(Math.min(retryMs * 2, 60_000), true), retryMs);
      this.reconcileTimer.unref();
    }
  }

  /** False when the call was not sent (the connection is closed or closing). */
  call(c: SchedulerCall): boolean {
    return this.peer?.send(c) ?? false;
  }

  add(n: number): void {
    for (let i = 0; i < n; i++) this.backlog.push(`f${this.index}-t${this.next++}`);
    if (n > 0) {
      this.emptySince = 0;
      this.reviveIfNeeded(Date.now(), this.sim.reviveAfterMs);
    }
  }

  /**
   * Work waits and offers are off (suppressed), or filters are set and no offer came for `after`
   * (starved): REVIVE, at most once per `after`. A framework that still gets offers (resources
   * freed by its kills are bigger than what it declined there, so no filter covers them) does not
   * revive: its filters keep the rest of the cluster away from it.
   */
  private reviveIfNeeded(now: number, after: number): void {
    if (this.backlog.length === 0 || now - this.lastReviveAt < after) return;
    if (this.suppressed || (this.declined && now - this.lastOfferAt >= after)) this.revive();
  }

  revive(): void {
    if (!this.id || !this.subscribed) return;
    if (this.call({ type: 'REVIVE', framework_id: this.id })) {
      this.sim.revives++;
      this.suppressed = false;
      this.declined = false;
      this.lastReviveAt = Date.now();
    }
  }

  /** Every quarter of `after`: SUPPRESS once the backlog has stayed empty for `suppressAfterMs`, or REVIVE if needed. */
  tick(now: number, after: number): void {
    if (!this.id || !this.subscribed) return;
    if (this.backlog.length > 0) {
      this.emptySince = 0;
      this.reviveIfNeeded(now, after);
      return;
    }
    // A backlog that empties between two RUNNING updates of a steady stream is not idle.
    if (this.emptySince === 0) this.emptySince = now;
    if (
      !this.suppressed &&
      now - this.emptySince >= this.sim.suppressAfterMs &&
      this.call({ type: 'SUPPRESS', framework_id: this.id })
    ) {
      this.sim.suppresses++;
      this.suppressed = true;
    }
  }

  private event(e: SchedulerEvent): void {
    switch (e.type) {
      case 'SUBSCRIBED': {
        const again = this.id !== undefined;
        if (again) {
          this.sim.resubscribed++;
          this.sim.lastSubscribedAt = Date.now();
        }
        this.id = e.subscribed.framework_id;
        this.subscribed = true;
        // As the driver's Reconciler: the first round waits for the master's hold, if it holds questions.
        if (again && this.sim.cfg.reconcileOnSubscribe) {
          this.reconcile(Math.max(1000, Math.min((e.subscribed.reconcile_hold_seconds ?? 0) * 1000, 60_000)));
        }
        // A SUBSCRIBE without suppressed_roles leaves every role unsuppressed.
        this.suppressed = false;
        this.lastOfferAt = Date.now();
        return;
      }
      case 'LEADER': {
        const mi = e.leader.master_info;
        if (this.sim.detector) {
          // As the driver: a hint naming another master is tried at once, else the transport's backoff.
          if (mi && !sameMaster(mi, this.sim.detector.current())) {
            this.hinted = mi;
            this.client.reconnectNow();
          }
          return;
        }
        if (mi) {
          this.url = `ws://${mi.address.ip}:${mi.address.port}/api/v1/scheduler/ws`;
        }
        return;
      }
      case 'OFFERS': {
        // Like the project's own frameworks (Marathon, Chronos), decline what one OFFERS event
        // brought and could not be used in one DECLINE, not one call per offer.
        const unused: string[] = [];
        this.sim.offerEvents++;
        this.offersSeen += e.offers.offers.length;
        this.lastOfferAt = Date.now();
        for (const o of e.offers.offers) if (!this.offer(o)) unused.push(o.id);
        if (unused.length > 0) {
          this.sim.declines += unused.length;
          this.declined = true;
          this.call({
            type: 'DECLINE',
            framework_id: this.id as string,
            decline: { offer_ids: unused, filters: { refuse_seconds: this.sim.cfg.declineSeconds } },
          });
        }
        return;
      }
      case 'UPDATE':
        this.update(e.update.status);
        return;
      default:
        return;
    }
  }

  /** Packs backlog tasks into the offer and accepts it; false when nothing fits (the caller declines it). */
  private offer(o: Offer): boolean {
    const id = this.id as string;
    this.sim.offers++;
    let cpus = scalar(o.resources, 'cpus');
    let mem = scalar(o.resources, 'mem');
    const infos: TaskInfo[] = [];
    const t = this.sim.taskShape;
    while (this.backlog.length > 0 && cpus + 1e-9 >= t.cpus && mem + 1e-9 >= t.mem) {
      const taskId = this.backlog.shift() as string;
      infos.push({
        name: taskId,
        task_id: taskId,
        agent_id: o.agent_id,
        resources: t.list,
        command: { value: 'true' },
      });
      cpus -= t.cpus;
      mem -= t.mem;
    }
    if (infos.length === 0) return false;
    const sent = this.call({
      type: 'ACCEPT',
      framework_id: id,
      accept: {
        offer_ids: [o.id],
        operations: [{ type: 'LAUNCH', launch: { task_infos: infos } }],
        filters: { refuse_seconds: 0 },
      },
    });
    if (!sent) {
      // The connection is going: the offer dies with it, the tasks wait for the next one.
      this.backlog.unshift(...infos.map((ti) => ti.task_id));
      return true;
    }
    const now = Date.now();
    for (const ti of infos) this.acceptedAt.set(ti.task_id, now);
    this.sim.accepts++;
    this.sim.launched += infos.length;
    return true;
  }

  private update(st: { task_id: string; state: TaskState; uuid?: string; agent_id?: string; reason?: string }): void {
    const id = this.id as string;
    if (st.uuid && st.agent_id) {
      this.call({
        type: 'ACKNOWLEDGE',
        framework_id: id,
        acknowledge: { agent_id: st.agent_id, task_id: st.task_id, uuid: st.uuid },
      });
    }
    if (this.sim.reconciling.has(st.task_id) && !st.uuid) {
      this.sim.reconciling.delete(st.task_id);
      this.sim.reconciled++;
      if (st.state !== TaskState.RUNNING) this.sim.reconcileLost++;
      this.sim.lastReconciledAt = Date.now();
      return;
    }
    if (st.state === TaskState.RUNNING) {
      if (this.runningSeen.has(st.task_id)) {
        // A second RUNNING from an agent (a new uuid) means a second launch; an answer to a
        // reconciliation (no uuid), asked again after a re-subscription, is only the same news again.
        const first = this.runningSeen.get(st.task_id);
        if (st.uuid && first && first !== st.uuid) this.sim.runningTwice++;
        else if (st.uuid && !first) this.runningSeen.set(st.task_id, st.uuid);
        return;
      }
      this.runningSeen.set(st.task_id, st.uuid);
      this.live.set(st.task_id, st.agent_id ?? '');
      this.sim.running++;
      this.sim.lastRunningAt = Date.now();
      const at = this.acceptedAt.get(st.task_id);
      if (at !== undefined) {
        this.sim.latencies.push(Date.now() - at);
        this.acceptedAt.delete(st.task_id);
      }
      if (this.sim.churn) {
        this.killOldest();
        this.add(1);
      }
    } else if (st.state !== TaskState.STARTING && st.state !== TaskState.STAGING) {
      this.live.delete(st.task_id);
      if (this.acceptedAt.delete(st.task_id)) {
        // Ended before it ran (the offer was gone, the agent left): queue it again under a new id.
        this.sim.lostBeforeRunning++;
        this.sim.lastReason = `${st.state} ${st.reason ?? ''}`;
        this.add(1);
      }
    }
  }

  killOldest(): void {
    const first = this.live.keys().next();
    if (first.done) return;
    const taskId = first.value;
    const agentId = this.live.get(taskId);
    this.live.delete(taskId);
    this.call({ type: 'KILL', framework_id: this.id as string, kill: { task_id: taskId, agent_id: agentId } });
  }
}

export class SimFrameworks {
  readonly fws: SimFramework[] = [];
  readonly taskShape: { cpus: number; mem: number; list: Resource[] };
  readonly latencies: number[] = [];
  readonly reconciling = new Set<string>();
  churn = false;
  offers = 0;
  offerEvents = 0;
  accepts = 0;
  declines = 0;
  revives = 0;
  suppresses = 0;
  launched = 0;
  running = 0;
  runningTwice = 0;
  lastRunningAt = 0;
  reconciled = 0;
  reconcileLost = 0;
  lostBeforeRunning = 0;
  resubscribed = 0;
  lastSubscribedAt = 0;
  lastReason = '';
  lastReconciledAt = 0;
  /** RECONCILE rounds sent (a framework's calls for one round count once) and when the first went out. */
  reconcileCalls = 0;
  reconcileSentAt = 0;
  closes = 0;
  lastClose = '';
  readonly detector?: MasterDetector;
  leaderDetectedAt = 0;

  readonly reviveAfterMs: number;
  readonly suppressAfterMs: number;

  constructor(readonly cfg: FrameworksConfig) {
    this.reviveAfterMs = cfg.reviveAfterMs ?? 2000;
    this.suppressAfterMs = cfg.suppressAfterMs ?? 5000;
    const list = Resources.parse(cfg.task).toList();
    this.taskShape = { cpus: scalar(list, 'cpus'), mem: scalar(list, 'mem'), list };
    if (cfg.zk) {
      this.detector = createDetector(cfg.zk);
      let last: MasterInfo | undefined;
      this.detector.on('leader', (leader) => {
        if (!leader || sameMaster(leader, last)) return;
        const first = last === undefined;
        last = leader;
        this.leaderDetectedAt = Date.now();
        // The detector names its first leader too: only a different one is a change.
        if (!first) for (const f of this.fws) f.leaderChanged();
      });
    }
    for (let i = 0; i < cfg.count; i++) this.fws.push(new SimFramework(this, i, cfg.url));
  }

  private starveTimer?: NodeJS.Timeout;

  start(): void {
    for (const f of this.fws) f.client.start();
    const after = this.reviveAfterMs;
    this.starveTimer = setInterval(() => {
      const now = Date.now();
      for (const f of this.fws) f.tick(now, after);
    }, after / 4);
    this.starveTimer.unref();
    if (process.env.AGORA_SIM_DEBUG) {
      setInterval(() => {
        const rows = this.fws.map(
          (f) => `${f.backlog.length}/${f.live.size}/${f.offersSeen}${f.suppressed ? 's' : ''}${f.declined ? 'd' : ''}`,
        );
        process.stderr.write(`fws backlog/live/offers: ${rows.join(' ')}\n`);
        for (const f of this.fws) f.offersSeen = 0;
      }, 1000).unref();
    }
  }

  async stop(): Promise<void> {
    for (const f of this.fws) f.stopTimers();
    if (this.starveTimer) clearInterval(this.starveTimer);
    await Promise.all(this.fws.map((f) => f.client.stop()));
    await this.detector?.close();
  }

  /** Spreads `n` new tasks over the frameworks' backlogs. */
  add(n: number): void {
    const per = Math.floor(n / this.fws.length);
    let extra = n - per * this.fws.length;
    for (const f of this.fws) f.add(per + (extra-- > 0 ? 1 : 0));
  }

  /** Kills running tasks (oldest first, round the frameworks) until at most `to` run. */
  shrink(to: number): void {
    let live = this.fws.reduce((n, f) => n + f.live.size, 0);
    while (live > to) {
      for (const f of this.fws) {
        if (live <= to) break;
        if (f.live.size === 0) continue;
        f.killOldest();
        live--;
      }
    }
  }

  /** Asks the master about every task each framework believes is running (explicit reconciliation). */
  reconcile(): void {
    this.reconciled = 0;
    this.reconcileLost = 0;
    this.lastReconciledAt = 0;
    this.reconcileSentAt = 0;
    for (const f of this.fws) f.reconcile();
  }

  mark(): void {
    this.reconciled = 0;
    this.reconcileLost = 0;
    this.lastReconciledAt = 0;
    this.reconcileCalls = 0;
    this.reconcileSentAt = 0;
    this.leaderDetectedAt = 0;
    this.reconciling.clear();
    this.resubscribed = 0;
    this.lastSubscribedAt = 0;
    this.running = 0;
    this.lastRunningAt = 0;
    this.latencies.length = 0;
  }

  report(): FrameworksReport {
    const sorted = [...this.latencies].sort((a, b) => a - b);
    return {
      subscribed: this.fws.filter((f) => f.subscribed).length,
      running: this.running,
      lastRunningAt: this.lastRunningAt,
      runningTwice: this.runningTwice,
      runningEver: this.fws.reduce((n, f) => n + f.runningSeen.size, 0),
      live: this.fws.reduce((n, f) => n + f.live.size, 0),
      backlog: this.fws.reduce((n, f) => n + f.backlog.length, 0),
      launched: this.launched,
      offers: this.offers,
      offerEvents: this.offerEvents,
      accepts: this.accepts,
      declines: this.declines,
      revives: this.revives,
      suppresses: this.suppresses,
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
      lostBeforeRunning: this.lostBeforeRunning,
      resubscribed: this.resubscribed,
      lastSubscribedAt: this.lastSubscribedAt,
      lastReason: this.lastReason,
      reconciled: this.reconciled,
      reconcileLost: this.reconcileLost,
      lastReconciledAt: this.lastReconciledAt,
      reconcileCalls: this.reconcileCalls,
      reconcileSentAt: this.reconcileSentAt,
      leaderDetectedAt: this.leaderDetectedAt,
      closes: this.closes,
      lastClose: this.lastClose,
    };
  }
}

function main(): void {
  const cfg = JSON.parse(process.argv[2] ?? '{}') as FrameworksConfig;
  const sim = new SimFrameworks(cfg);
  process.on('message', (c: FrameworksCommand) => {
    if (c.cmd === 'start') sim.start();
    else if (c.cmd === 'add') sim.add(c.tasks);
    else if (c.cmd === 'shrink') sim.shrink(c.to);
    else if (c.cmd === 'churn') sim.churn = c.on;
    else if (c.cmd === 'mark') sim.mark();
    else if (c.cmd === 'reconcile') sim.reconcile();
    else if (c.cmd === 'report') process.send?.({ report: sim.report() });
    else if (c.cmd === 'stop') void sim.stop().then(() => process.exit(0));
  });
  process.send?.({ ready: true });
}

if (process.send && process.argv[1]?.endsWith('frameworks.js')) main();
