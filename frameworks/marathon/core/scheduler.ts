/**
 * The Marathon scheduler on the SDK driver: it converges every app towards the definition it should
 * run (see deployments.ts), launching instances on offers through the placement pipeline, killing
 * extra or old ones by the upgrade strategy's health-capacity bounds and `killSelection`; it tracks
 * instances from status updates, backs off after failures, replaces unhealthy and unreachable
 * instances, declines what it cannot use with a filter, suppresses when idle and revives when work
 * arrives, and moves deployments forward step by step. Time comes from the injected Clock.
 */
import { randomUUID } from 'node:crypto';
import {
  type Clock,
  type Filters,
  type Offer,
  OfferSlice,
  type Operation,
  type TaskInfo,
  type TaskStatus,
} from 'agora/sdk';
import type pino from 'pino';
import { replaceStep } from '../plan/index.js';
import { CheckRunner, type ProbeAnswer, readinessJson, tcpConnect } from './checks.js';
import { actionState, configVersion, effectiveApps, planJson } from './deployments.js';
import type { EventBus } from './events.js';
import {
  agentCheckIndex,
  buildTaskInfo,
  type Instance,
  isActive,
  isAvailable,
  isHealthy,
  taskIdFor,
  taskIdsOf,
} from './instances.js';
import { ALL_REASONS, OfferPool, type PlacedInstance, place, Reason } from './placement.js';
import { actionJson } from './planner.js';
import { buildTaskGroup, groupState, type PodDef } from './pods.js';
import type { StoredDeployment } from './repository.js';
import type { AppDef, GroupDef } from './spec.js';

/** What the scheduler needs of the SDK driver (SchedulerDriver satisfies it). */
export interface DriverPort {
  accept(offerIds: string[], operations: Operation[], filters?: Filters): boolean;
  launch(offer: Offer | Offer[], tasks: TaskInfo[], filters?: Filters): boolean;
  decline(offerIds: string[], filters?: Filters): boolean;
  kill(taskId: string, agentId?: string): boolean;
  reconcile(tasks?: { task_id: string; agent_id?: string }[]): boolean;
  suppress(roles?: string[]): boolean;
  revive(roles?: string[]): boolean;
}

export interface OfferStats {
  processed: number;
  unused: number;
  lastUnusedAt?: string;
  lastUsedAt?: string;
  byReason: Record<string, number>;
  byConstraint: Record<string, number>;
  lastUnused: { offer: Record<string, unknown>; timestamp: string; reason: string[] }[];
}

interface Backoff {
  delayMs: number;
  until: number;
  /** Offers were revived when it ended (offers declined meanwhile carry a 5 s filter). */
  revived?: boolean;
}

export interface SchedulerHooks {
  /** Instances of these apps changed: persist them (batched by the caller). */
  instancesChanged(appId: string): void;
  /** A deployment moved a step or finished. */
  deploymentChanged(d: StoredDeployment, finished: boolean): void;
  /** An app with no definition has no instances left: forget it. */
  appGone?(appId: string): void;
}

const DECLINE_SECONDS = 5;
const HOLD_SECONDS = 1;
const MAX_LAST_UNUSED = 10;

export class Scheduler {
  root: GroupDef;
  deployments: StoredDeployment[] = [];
  readonly instances = new Map<string, Instance>();
  readonly byApp = new Map<string, Set<string>>();
  readonly backoff = new Map<string, Backoff>();
  readonly stats = new Map<string, OfferStats>();
  readonly lastFailure = new Map<string, Record<string, unknown>>();
  readonly waitingSince = new Map<string, number>();
  /** Instances to launch per app, from the last convergence. */
  demand = new Map<string, number>();
  specs = new Map<string, AppDef>();
  suppressed = false;
  subscribed = false;
  launchedTotal = 0;
  private terminatedEmitted = new Set<string>();

  constructor(
    private readonly driver: DriverPort,
    private readonly clock: Clock,
    private readonly events: EventBus,
    private readonly hooks: SchedulerHooks,
    private readonly log: pino.Logger,
    root: GroupDef,
    /** Coalesce the convergence after status updates (see requestConverge); tests on a virtual clock turn it off. */
    private readonly batchUpdates = false,
  ) {
    this.root = root;
  }

  // ---- instances ---------------------------------------------------------------------------

  addInstance(i: Instance): void {
    this.instances.set(i.taskId, i);
    let set = this.byApp.get(i.appId);
    if (!set) {
      set = new Set();
      this.byApp.set(i.appId, set);
    }
    set.add(i.taskId);
  }

  private dropInstance(i: Instance): void {
    this.instances.delete(i.taskId);
    this.byApp.get(i.appId)?.delete(i.taskId);
    this.hooks.instancesChanged(i.appId);
  }

  instancesOf(appId: string): Instance[] {
    const out: Instance[] = [];
    for (const id of this.byApp.get(appId) ?? []) {
      const i = this.instances.get(id);
      if (i) out.push(i);
    }
    return out;
  }

  private now(): string {
    return new Date(this.clock.now()).toISOString();
  }

  /** Sends a kill and marks the instance, so it is not counted nor replaced. */
  killInstance(i: Instance, why: string): void {
    if (!isActive(i)) return;
    i.killing = true;
    this.log.debug({ taskId: i.taskId, why }, 'killing instance');
    for (const id of taskIdsOf(i)) this.driver.kill(id, i.agentId || undefined);
    this.hooks.instancesChanged(i.appId);
  }

  /** Unreachable for longer than the app's inactiveAfterSeconds: replaced, no longer counted. */
  private inactive(app: AppDef | undefined, i: Instance): boolean {
    if (i.state !== 'TASK_UNREACHABLE' || i.unreachableSince === undefined) return false;
    const s = app?.unreachableStrategy;
    if (!s || s === 'disabled') return false;
    return this.clock.now() - i.unreachableSince >= s.inactiveAfterSeconds * 1000;
  }

  // ---- convergence -------------------------------------------------------------------------

  /** Recomputes what every app should run, kills what must go, sets the launch demand, moves deployments. */
  converge(): void {
    const before = new Set(this.demand.keys());
    // A deployment step that completes changes what the next apps run: converge again (bounded).
    for (let round = 0; round < 100; round++) {
      this.convergeOnce();
      if (!this.progressDeployments()) break;
    }
    const demand = this.demand;
    for (const id of demand.keys()) if (!this.waitingSince.has(id)) this.waitingSince.set(id, this.clock.now());
    for (const id of [...this.waitingSince.keys()]) if (!demand.has(id)) this.waitingSince.delete(id);
    // New work: revive (also clears the filters of offers declined while idle).
    const fresh = [...demand.keys()].some((id) => !before.has(id));
    if (demand.size > 0 && (this.suppressed || fresh) && this.subscribed) {
      this.suppressed = false;
      this.driver.revive();
    }
  }

  private convergeOnce(): void {
    this.specs = effectiveApps(this.root, this.deployments);
    const demand = new Map<string, number>();
    const ids = new Set([...this.specs.keys(), ...this.byApp.keys()]);
    for (const id of ids) {
      const n = this.convergeApp(id, this.specs.get(id));
      if (n > 0) demand.set(id, n);
    }
    this.demand = demand;
  }

  private convergeApp(id: string, app: AppDef | undefined): number {
    const all = this.instancesOf(id);
    const active = all.filter(isActive);
    if (!app) {
      for (const i of active) if (!i.killing) this.killInstance(i, 'app removed');
      if (active.length === 0 && !this.terminatedEmitted.has(id) && !this.isInRoot(id)) {
        this.terminatedEmitted.add(id);
        for (const i of all) this.dropInstance(i);
        this.byApp.delete(id);
        this.backoff.delete(id);
        this.stats.delete(id);
        this.events.emit('app_terminated_event', { appId: id });
        this.hooks.appGone?.(id);
      }
      return 0;
    }
    this.terminatedEmitted.delete(id);
    // Expunge unreachable instances past expungeAfterSeconds.
    const s = app.unreachableStrategy;
    if (s !== 'disabled') {
      for (const i of active) {
        if (
          i.state === 'TASK_UNREACHABLE' &&
          i.unreachableSince !== undefined &&
          this.clock.now() - i.unreachableSince >= s.expungeAfterSeconds * 1000 &&
          s.expungeAfterSeconds > 0
        ) {
          this.killInstance(i, 'unreachable past expungeAfterSeconds');
          i.state = 'TASK_GONE';
          this.dropInstance(i);
        }
      }
    }
    const live = this.instancesOf(id).filter((i) => isActive(i) && !this.inactive(app, i));
    const n = app.instances;
    const cv = configVersion(app);
    const old = live.filter((i) => i.version !== cv);
    const current = live.filter((i) => i.version === cv && !i.killing);
    const order = killOrder(app);
    if (old.length === 0) {
      if (current.length > n)
        for (const i of current.sort(order).slice(0, current.length - n)) this.killInstance(i, 'scale down');
      return Math.max(0, n - current.length);
    }
    // Rolling replacement: the pure planner (plan/rolling.ts) decides, so the invariant its property
    // test holds (no kill takes the healthy count below the minimum, never over the cap) is what runs.
    const rank = new Map([...old].sort(order).map((i, k) => [i.taskId, k]));
    const d = replaceStep({
      instances: n,
      upgradeStrategy: app.upgradeStrategy,
      old: [
        ...old.map((i) => ({
          id: i.taskId,
          healthy: isAvailable(app, i),
          killing: i.killing === true,
          killRank: rank.get(i.taskId),
        })),
        // Current-version instances being killed still hold capacity until they end.
        ...live
          .filter((i) => i.version === cv && i.killing)
          .map((i) => ({ id: i.taskId, healthy: false, killing: true })),
      ],
      new: current.map((i) => ({ id: i.taskId, healthy: isHealthy(app, i), ready: isAvailable(app, i) })),
    });
    if (d.kill.length > 0 || d.launch !== this.demand.get(id)) {
      this.log.debug(
        {
          appId: id,
          old: old.length,
          new: current.length,
          healthy: live.filter((i) => isAvailable(app, i)).length,
          minHealthy: d.minHealthy,
          maxCapacity: d.maxCapacity,
          kill: d.kill,
          launch: d.launch,
        },
        'rolling replace decision',
      );
    }
    for (const taskId of d.kill) {
      const i = this.instances.get(taskId);
      if (i) this.killInstance(i, 'replaced by a new version');
    }
    return d.launch;
  }

  private isInRoot(id: string): boolean {
    return this.specs.has(id);
  }

  /** Moves deployments whose current step is done; true when any moved (the caller converges again). */
  private progressDeployments(): boolean {
    let any = false;
    for (const d of [...this.deployments]) {
      const step = d.steps[d.done];
      if (step && !step.actions.every((a) => actionState(a, this.specs.get(a.app), this.instancesOf(a.app)).done))
        continue;
      any = true;
      if (step) {
        this.events.emit('deployment_step_success', {
          plan: planJson(d),
          currentStep: { actions: step.actions.map(actionJson) },
        });
        d.done++;
      }
      const next = d.steps[d.done];
      if (next) {
        this.events.emit('deployment_info', {
          plan: planJson(d),
          currentStep: { actions: next.actions.map(actionJson) },
        });
        this.hooks.deploymentChanged(d, false);
      } else {
        this.deployments = this.deployments.filter((x) => x !== d);
        this.events.emit('deployment_success', { id: d.id, plan: planJson(d) });
        this.hooks.deploymentChanged(d, true);
      }
    }
    return any;
  }

  /** Why an app's deployment action is waiting, in words (for /v2/deployments). */
  waitingFor(appId: string): string | undefined {
    const app = this.specs.get(appId);
    const st = actionState(
      { action: app ? 'ScaleApplication' : 'StopApplication', app: appId },
      app,
      this.instancesOf(appId),
    );
    if (st.done) return undefined;
    const parts = [st.waitingFor];
    const b = this.backoff.get(appId);
    if (b && b.until > this.clock.now())
      parts.push(`launch delayed by backoff for ${Math.ceil((b.until - this.clock.now()) / 1000)}s after failures`);
    const stats = this.stats.get(appId);
    if (this.demand.has(appId) && stats && stats.unused > 0) {
      const reasons = Object.entries(stats.byReason)
        .filter(([, v]) => v > 0)
        .map(([k, v]) => `${k} ${v}`);
      const cons = Object.entries(stats.byConstraint).map(([k, v]) => `${k} ${v}`);
      parts.push(`offers rejected: ${reasons.join(', ')}${cons.length ? ` (constraints: ${cons.join(', ')})` : ''}`);
    } else if (this.demand.has(appId) && (!stats || stats.processed === 0)) {
      parts.push('no offers received yet');
    }
    const f = this.lastFailure.get(appId);
    if (f) parts.push(`last task failure: ${f.state} ${f.message ?? ''}`.trim());
    return parts.filter(Boolean).join('; ');
  }

  /** Readiness results of an app's instances not yet ready (what its deployment waits on). */
  readinessOf(appId: string): Record<string, unknown>[] {
    return this.instancesOf(appId)
      .filter((i) => isActive(i) && !i.ready)
      .flatMap(readinessJson);
  }

  // ---- offers ------------------------------------------------------------------------------

  private statsOf(appId: string): OfferStats {
    let s = this.stats.get(appId);
    if (!s) {
      s = {
        processed: 0,
        unused: 0,
        byReason: Object.fromEntries(ALL_REASONS.map((r) => [r, 0])),
        byConstraint: {},
        lastUnused: [],
      };
      this.stats.set(appId, s);
    }
    return s;
  }

  private rejected(appId: string, offer: Offer, reason: string, constraint?: string): void {
    const s = this.statsOf(appId);
    s.processed++;
    s.unused++;
    s.lastUnusedAt = this.now();
    s.byReason[reason] = (s.byReason[reason] ?? 0) + 1;
    if (constraint) s.byConstraint[constraint] = (s.byConstraint[constraint] ?? 0) + 1;
    s.lastUnused.push({
      offer: {
        id: offer.id,
        agentId: offer.agent_id,
        hostname: offer.hostname,
        resources: offer.resources,
        attributes: offer.attributes,
      },
      timestamp: this.now(),
      reason: [reason, ...(constraint ? [constraint] : [])],
    });
    if (s.lastUnused.length > MAX_LAST_UNUSED) s.lastUnused.shift();
  }

  onOffers(offers: Offer[]): void {
    this.flushConverge();
    if (this.demand.size === 0) {
      this.driver.decline(
        offers.map((o) => o.id),
        { refuse_seconds: DECLINE_SECONDS },
      );
      if (!this.suppressed) {
        this.suppressed = true;
        this.driver.suppress();
      }
      return;
    }
    const now = this.clock.now();
    const unused: string[] = [];
    const placedCache = new Map<string, PlacedInstance[]>();
    for (const offer of offers) {
      const pool = new OfferPool(offer);
      // At most half of the offer: the rest goes back for the allocator to decide again (sdk/offers/slice.ts).
      const slice = new OfferSlice(offer.resources);
      let sliced = false;
      const tasks: TaskInfo[] = [];
      const groups: Operation[] = [];
      for (const [appId, want] of this.demand) {
        if (want <= 0) continue;
        const app = this.specs.get(appId);
        if (!app) continue;
        const b = this.backoff.get(appId);
        if (b && b.until > now) {
          this.rejected(appId, offer, Reason.DeclinedByBackoff);
          continue;
        }
        let placed = placedCache.get(appId);
        if (!placed) {
          placed = this.instancesOf(appId)
            .filter(isActive)
            .map((i) => ({ agentId: i.agentId, hostname: i.host, attributes: i.attributes }));
          placedCache.set(appId, placed);
        }
        let left = want;
        let first = true;
        const need = { cpus: app.cpus, mem: app.mem, disk: app.disk, gpus: app.gpus };
        while (left > 0) {
          if (!slice.admits(need)) {
            sliced = true;
            break;
          }
          const fit = place(app, pool, placed);
          if (!fit.ok) {
            if (first) this.rejected(appId, offer, fit.reason, fit.constraint);
            break;
          }
          first = false;
          slice.add(need);
          const taskId = taskIdFor(appId, randomUUID());
          const pod = (app as { pod?: PodDef }).pod;
          let groupTasks: Record<string, string> | undefined;
          if (pod) {
            const g = buildTaskGroup(pod, offer, taskId, fit.resources, fit.ports, configVersion(app));
            groups.push({ type: 'LAUNCH_GROUP', launch_group: { executor: g.executor, task_group: g.group } });
            groupTasks = Object.fromEntries(g.taskIds.map((id) => [id, 'TASK_STAGING']));
          } else tasks.push(buildTaskInfo(app, offer, taskId, fit.resources, fit.ports));
          const inst: Instance = {
            taskId,
            appId,
            version: configVersion(app),
            agentId: offer.agent_id,
            host: offer.hostname,
            attributes: offer.attributes,
            ports: fit.ports,
            state: 'TASK_STAGING',
            stagedAt: this.now(),
            ...(groupTasks ? { groupTasks } : {}),
          };
          this.addInstance(inst);
          placed.push({ agentId: offer.agent_id, hostname: offer.hostname, attributes: offer.attributes });
          left--;
        }
        if (!first) {
          const s = this.statsOf(appId);
          s.processed++;
          s.lastUsedAt = this.now();
          this.hooks.instancesChanged(appId);
        }
        if (left > 0) this.demand.set(appId, left);
        else this.demand.delete(appId);
      }
      // What the slice left is wanted: it comes back without a refusal filter.
      const hold = { refuse_seconds: sliced ? 0 : HOLD_SECONDS };
      if (groups.length > 0) {
        this.launchedTotal += tasks.length + groups.length;
        const ops: Operation[] =
          tasks.length > 0 ? [{ type: 'LAUNCH', launch: { task_infos: tasks } }, ...groups] : groups;
        this.driver.accept([offer.id], ops, hold);
      } else if (tasks.length > 0) {
        this.launchedTotal += tasks.length;
        this.driver.launch(offer, tasks, hold);
      } else unused.push(offer.id);
    }
    if (unused.length > 0) this.driver.decline(unused, { refuse_seconds: DECLINE_SECONDS });
  }

  // ---- status updates ----------------------------------------------------------------------

  onUpdate(status: TaskStatus): void {
    this.log.debug(
      {
        taskId: status.task_id,
        state: status.state,
        healthy: status.healthy,
        reason: status.reason,
        source: status.source,
      },
      'status update',
    );
    let i = this.instances.get(status.task_id);
    if (!i) {
      // A task of a pod instance: `<instance id>.<container>`.
      const dot = status.task_id.lastIndexOf('.');
      const g = dot > 0 ? this.instances.get(status.task_id.slice(0, dot)) : undefined;
      if (g?.groupTasks && status.task_id in g.groupTasks) {
        g.groupTasks[status.task_id] = status.state;
        i = g;
        status = { ...status, state: groupState(Object.values(g.groupTasks)) as TaskStatus['state'] };
      }
    }
    if (!i) {
      // A task we do not know (launched before a failover and never stored, or expunged): kill it.
      // Not while it is unreachable: the master can only answer the kill with another
      // TASK_UNREACHABLE (a loop); it is killed if it comes back running.
      const reachable = status.state !== 'TASK_UNREACHABLE' && status.state !== 'TASK_UNKNOWN';
      if (reachable && isActive({ state: status.state } as Instance)) this.driver.kill(status.task_id, status.agent_id);
      return;
    }
    const app = this.specs.get(i.appId);
    const was = i.state;
    const wasHealthy = i.healthy;
    i.state = status.state;
    if (status.message) i.lastMessage = status.message;
    if (status.agent_id) i.agentId = status.agent_id;
    if (status.state === 'TASK_RUNNING' && !i.startedAt) i.startedAt = this.now();
    if (status.state === 'TASK_UNREACHABLE') i.unreachableSince ??= this.clock.now();
    else i.unreachableSince = undefined;
    if (status.healthy !== undefined) i.healthy = status.healthy;
    const common = {
      appId: i.appId,
      instanceId: i.taskId,
      taskId: i.taskId,
      version: i.version,
      host: i.host,
      slaveId: i.agentId,
    };
    if (was !== status.state) {
      this.events.emit('status_update_event', {
        slaveId: i.agentId,
        taskId: i.taskId,
        taskStatus: status.state,
        message: status.message ?? '',
        appId: i.appId,
        host: i.host,
        ipAddresses: [],
        ports: i.ports,
        version: i.version,
      });
      this.events.emit('instance_changed_event', {
        instanceId: i.taskId,
        condition: conditionOf(status.state),
        runSpecId: i.appId,
        agentId: i.agentId,
        host: i.host,
        runSpecVersion: i.version,
      });
    }
    if (status.healthy !== undefined && wasHealthy !== status.healthy) {
      this.events.emit('health_status_changed_event', {
        appId: i.appId,
        instanceId: i.taskId,
        version: i.version,
        alive: isHealthy(app, i),
      });
      if (!status.healthy) {
        i.unhealthySince = this.clock.now();
        const hc = app ? app.healthChecks[agentCheckIndex(app)] : undefined;
        this.events.emit('failed_health_check_event', { ...common, healthCheck: hc ?? {} });
      } else i.unhealthySince = undefined;
    }
    if (!isActive(i)) {
      const healthKill = status.reason === 'REASON_TASK_HEALTH_CHECK_STATUS_UPDATED';
      if (healthKill)
        this.events.emit('unhealthy_instance_kill_event', {
          ...common,
          reason: status.message ?? 'health check failed',
        });
      // A task that ended on its own backs the app off; one killed for its health is only recorded.
      if (healthKill) this.recordFailure(i, status);
      else if (!i.killing && status.state !== 'TASK_KILLED') this.failed(i, status);
      this.dropInstance(i);
    } else {
      // Marked for a kill that has not happened: the KILL was lost (with a leader, or a master that
      // failed over). The reconciliation after every subscription brings this update: ask again.
      if (i.killing && status.state !== 'TASK_KILLING' && status.state !== 'TASK_UNREACHABLE')
        for (const id of taskIdsOf(i)) this.driver.kill(id, i.agentId || undefined);
      this.hooks.instancesChanged(i.appId);
    }
    this.requestConverge();
  }

  private convergePending = false;

  /**
   * Converges after a status update: at once when `batchUpdates` is off, otherwise once for the
   * whole burst of updates read in one turn of the event loop (a burst of 1,000 RUNNING updates
   * costs one convergence, not 1,000). Offers arriving meanwhile converge first.
   */
  requestConverge(): void {
    if (!this.batchUpdates) {
      this.converge();
      return;
    }
    if (this.convergePending) return;
    this.convergePending = true;
    setImmediate(() => this.flushConverge());
  }

  private flushConverge(): void {
    if (!this.convergePending) return;
    this.convergePending = false;
    this.converge();
  }

  /** A task ended on its own: remember why, and back off the app's next launch. */
  private failed(i: Instance, status: TaskStatus): void {
    this.recordFailure(i, status);
    const app = this.specs.get(i.appId);
    if (!app) return;
    const b = this.backoff.get(i.appId);
    const delayMs = b
      ? Math.min(b.delayMs * app.backoffFactor, app.maxLaunchDelaySeconds * 1000)
      : Math.min(app.backoffSeconds * 1000, app.maxLaunchDelaySeconds * 1000);
    this.backoff.set(i.appId, { delayMs, until: this.clock.now() + delayMs });
  }

  private recordFailure(i: Instance, status: TaskStatus): void {
    this.lastFailure.set(i.appId, {
      appId: i.appId,
      host: i.host,
      message: status.message ?? '',
      state: status.state,
      taskId: i.taskId,
      timestamp: this.now(),
      version: i.version,
    });
  }

  /** Clears an app's launch delay (DELETE /v2/queue/{id}/delay, or a new version). */
  resetDelay(appId: string): void {
    this.backoff.delete(appId);
  }

  /** Answers an HTTP GET (Marathon's own health and readiness checks); injected in tests. */
  probe: (url: string, timeoutMs: number) => Promise<ProbeAnswer> = async (url, timeoutMs) => {
    const r = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    const body = (await r.text()).slice(0, 1024);
    return { status: r.status, contentType: r.headers.get('content-type') ?? '', body };
  };
  /** Connects to a TCP port (Marathon's TCP health checks); injected in tests. */
  tcpProbe: (host: string, port: number, timeoutMs: number) => Promise<void> = tcpConnect;
  private checksRunner?: CheckRunner;
  private get checks(): CheckRunner {
    this.checksRunner ??= new CheckRunner({
      clock: this.clock,
      events: this.events,
      probe: (url, t) => this.probe(url, t),
      tcpProbe: (h, p, t) => this.tcpProbe(h, p, t),
      changed: (i) => {
        this.hooks.instancesChanged(i.appId);
        this.requestConverge();
      },
      kill: (i, why) => this.killInstance(i, why),
    });
    return this.checksRunner;
  }

  /** Time-driven work: checks Marathon runs, unhealthy instances past maxConsecutiveFailures, unreachable ones, backoffs ending. */
  tick(): void {
    this.checks.run(this.instances.values(), this.specs);
    this.reviveAfterBackoff();
    for (const i of this.instances.values()) {
      if (i.unhealthySince === undefined || i.killing || !isActive(i)) continue;
      const app = this.specs.get(i.appId);
      const hc = app ? app.healthChecks[agentCheckIndex(app)] : undefined;
      if (!hc || hc.maxConsecutiveFailures <= 0) continue;
      // The agent kills at maxConsecutiveFailures; this is the safety net if its kill never comes.
      const limitMs = (hc.maxConsecutiveFailures + 1) * (hc.intervalSeconds + hc.timeoutSeconds) * 1000;
      if (this.clock.now() - i.unhealthySince >= limitMs) {
        this.events.emit('unhealthy_instance_kill_event', {
          appId: i.appId,
          taskId: i.taskId,
          instanceId: i.taskId,
          version: i.version,
          reason: `${hc.maxConsecutiveFailures} consecutive health check failures`,
          host: i.host,
          slaveId: i.agentId,
        });
        this.killInstance(i, 'unhealthy');
      }
    }
    this.converge();
  }

  /**
   * A launch delay ended for an app still waiting: revive, so that the offers declined (with a
   * filter) during the delay come back now rather than when their filter expires.
   */
  private reviveAfterBackoff(): void {
    const now = this.clock.now();
    let revive = false;
    for (const [appId, b] of this.backoff) {
      if (b.revived || b.until > now) continue;
      b.revived = true;
      if (this.demand.has(appId)) revive = true;
    }
    if (revive && this.subscribed) {
      this.suppressed = false;
      this.driver.revive();
    }
  }

  onSubscribed(): void {
    this.subscribed = true;
    this.suppressed = false;
    // Explicit reconciliation of what we know, then implicit (tasks we do not know get killed).
    const known = [...this.instances.values()]
      .filter(isActive)
      .map((i) => ({ task_id: i.taskId, ...(i.agentId ? { agent_id: i.agentId } : {}) }));
    if (known.length > 0) this.driver.reconcile(known);
    this.driver.reconcile([]);
    this.driver.revive();
    this.converge();
  }

  onDisconnected(): void {
    this.subscribed = false;
  }

  /** A deployment begins: its first step's event, then convergence. */
  startDeployment(d: StoredDeployment): void {
    this.deployments.push(d);
    for (const a of d.affectedApps) this.resetDelay(a);
    this.events.emit('deployment_info', {
      plan: planJson(d),
      currentStep: { actions: (d.steps[0]?.actions ?? []).map(actionJson) },
    });
    this.converge();
  }

  cancelDeployment(id: string, failed = true): StoredDeployment | undefined {
    const d = this.deployments.find((x) => x.id === id);
    if (!d) return undefined;
    this.deployments = this.deployments.filter((x) => x !== d);
    if (failed) {
      this.events.emit('deployment_failed', { id: d.id, plan: planJson(d) });
      const step = d.steps[d.done];
      if (step)
        this.events.emit('deployment_step_failure', {
          plan: planJson(d),
          currentStep: { actions: step.actions.map(actionJson) },
        });
    }
    return d;
  }

  queueStats(): Map<string, OfferStats> {
    return this.stats;
  }
}

declare module './instances.js' {
  interface Instance {
    unhealthySince?: number;
  }
}

/** Scale-down order: which instances go first by killSelection (unstarted ones before running ones). */
export function killOrder(app: AppDef): (a: Instance, b: Instance) => number {
  const youngest = app.killSelection !== 'OLDEST_FIRST';
  return (a, b) => {
    const ra = a.state === 'TASK_RUNNING' ? 1 : 0;
    const rb = b.state === 'TASK_RUNNING' ? 1 : 0;
    if (ra !== rb) return ra - rb;
    const c = a.stagedAt.localeCompare(b.stagedAt);
    return youngest ? -c : c;
  };
}

function conditionOf(state: string): string {
  const m: Record<string, string> = {
    TASK_STAGING: 'Staging',
    TASK_STARTING: 'Starting',
    TASK_RUNNING: 'Running',
    TASK_KILLING: 'Killing',
    TASK_FINISHED: 'Finished',
    TASK_FAILED: 'Failed',
    TASK_KILLED: 'Killed',
    TASK_ERROR: 'Error',
    TASK_LOST: 'Gone',
    TASK_DROPPED: 'Dropped',
    TASK_UNREACHABLE: 'Unreachable',
    TASK_GONE: 'Gone',
    TASK_GONE_BY_OPERATOR: 'GoneByOperator',
    TASK_UNKNOWN: 'Unknown',
  };
  return m[state] ?? state;
}
