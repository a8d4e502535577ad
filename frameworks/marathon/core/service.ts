/**
 * The Marathon service: the scheduler, its durable state and the operations the REST API calls
 * (deploy a new root group, scale, restart, kill tasks, cancel or roll back deployments). Only the
 * leader runs one. On start it loads the root group, deployments and instances from the Store,
 * subscribes with the stored framework id, reconciles, and resumes the deployments it found.
 */
import { randomUUID } from 'node:crypto';
import type { Clock, MasterInfo, Offer, Store, TaskStatus, Timer } from 'agora/sdk';
import type pino from 'pino';
import { Locked, UnknownId } from '../errors.js';
import { EventBus } from './events.js';
import { allApps, emptyRoot, findApp, findGroup, putApp } from './groups.js';
import { isActive } from './instances.js';
import { dependencyCycle, plan } from './planner.js';
import { allPods } from './pods.js';
import { Repository, type StoredDeployment } from './repository.js';
import { type DriverPort, Scheduler } from './scheduler.js';
import { type AppDef, type GroupDef, type Json, onlyScaled, SpecError } from './spec.js';

/** The driver as the service uses it: the calls plus its events (SchedulerDriver is one). */
export interface ServiceDriver extends DriverPort {
  on(
    event: 'subscribed',
    fn: (e: { frameworkId: string; masterInfo: MasterInfo; resubscribed: boolean }) => void,
  ): unknown;
  on(event: 'offers', fn: (offers: Offer[]) => void): unknown;
  on(event: 'update', fn: (s: TaskStatus) => void): unknown;
  on(event: 'disconnected', fn: () => void): unknown;
  on(event: 'rescind', fn: (id: string) => void): unknown;
  start(): unknown;
  stop(): Promise<void>;
}

export interface ServiceOptions {
  store: Store;
  clock: Clock;
  logger: pino.Logger;
  /** Makes the driver, given the framework id stored by an earlier leader (if any). */
  createDriver(frameworkId: string | undefined): ServiceDriver;
  events?: EventBus;
  /** How often time-driven checks run (health kills, unreachable, backoff ends); default 1 s. */
  tickMs?: number;
  /** How long instance changes are batched before they are written; default 200 ms. */
  flushMs?: number;
  /** Marathon's role (`--mesos_role`): the role of apps and pods that name none. */
  role?: string;
  /** Converge once per burst of status updates (default true; false converges after each, for virtual-clock tests). */
  batchUpdates?: boolean;
}

export interface DeployOptions {
  force?: boolean;
  /** Apps to restart even if their definition did not change. */
  restart?: ReadonlySet<string>;
  dryRun?: boolean;
}

export class MarathonService {
  readonly events: EventBus;
  readonly repo: Repository;
  scheduler!: Scheduler;
  driver!: ServiceDriver;
  frameworkId?: string;
  private readonly log: pino.Logger;
  private readonly clock: Clock;
  private ticker?: Timer;
  private flushTimer?: Timer;
  private readonly dirty = new Set<string>();
  private writes: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(private readonly opts: ServiceOptions) {
    this.log = opts.logger;
    this.clock = opts.clock;
    this.events = opts.events ?? new EventBus(opts.clock);
    this.repo = new Repository(opts.store);
  }

  async start(): Promise<void> {
    let root = (await this.repo.loadRoot()) ?? emptyRoot(this.nowIso());
    const deployments = await this.repo.loadDeployments();
    // A deployment is stored before its root (`deploy`): one newer than the root means the last
    // leader died between the two writes. Its target is the whole root it meant to store.
    const newest = deployments.reduce<StoredDeployment | undefined>(
      (m, d) => (m === undefined || d.version > m.version ? d : m),
      undefined,
    );
    if (newest && newest.target.version > root.version) {
      this.log.warn(
        { deployment: newest.id, version: newest.target.version, stored: root.version },
        'the stored root is older than a stored deployment (the last leader died between the two writes); rolling forward to its target',
      );
      root = newest.target;
      await this.repo.saveRoot(root);
    }
    this.scheduler = new Scheduler(
      {
        accept: (ids, ops, f) => this.driver.accept(ids, ops, f),
        launch: (o, t, f) => this.driver.launch(o, t, f),
        decline: (ids, f) => this.driver.decline(ids, f),
        kill: (id, agent) => this.driver.kill(id, agent),
        reconcile: (t) => this.driver.reconcile(t),
        suppress: () => this.driver.suppress(),
        revive: () => this.driver.revive(),
      },
      this.clock,
      this.events,
      {
        instancesChanged: (appId) => this.markDirty(appId),
        deploymentChanged: (d, finished) =>
          this.persist(() => (finished ? this.repo.removeDeployment(d.id) : this.repo.saveDeployment(d))),
      },
      this.log,
      root,
      this.opts.batchUpdates ?? true,
    );
    for (const i of await this.repo.loadInstances()) this.scheduler.addInstance(i);
    this.scheduler.deployments = deployments;
    this.frameworkId = await this.repo.loadFrameworkId();
    this.log.info(
      {
        apps: allApps(root).length,
        instances: this.scheduler.instances.size,
        deployments: this.scheduler.deployments.length,
        frameworkId: this.frameworkId,
      },
      'marathon state loaded',
    );
    this.driver = this.opts.createDriver(this.frameworkId);
    this.driver.on('subscribed', ({ frameworkId }) => {
      if (frameworkId !== this.frameworkId) {
        this.frameworkId = frameworkId;
        this.persist(() => this.repo.saveFrameworkId(frameworkId));
      }
      this.scheduler.onSubscribed();
    });
    this.driver.on('offers', (offers) => this.scheduler.onOffers(offers));
    this.driver.on('update', (s) => this.scheduler.onUpdate(s));
    this.driver.on('disconnected', () => this.scheduler.onDisconnected());
    this.ticker = this.clock.setInterval(() => this.scheduler.tick(), this.opts.tickMs ?? 1000);
    this.ticker.unref();
    this.driver.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.ticker?.cancel();
    this.flushTimer?.cancel();
    await this.flush();
    await this.writes;
    await this.driver?.stop();
    this.events.close();
  }

  get role(): string | undefined {
    return this.opts.role;
  }

  get root(): GroupDef {
    return this.scheduler.root;
  }

  nowIso(): string {
    return new Date(this.clock.now()).toISOString();
  }

  // ---- persistence ------------------------------------------------------------------------

  private persist(fn: () => Promise<void>): void {
    this.writes = this.writes.then(fn).catch((err) => this.log.error({ err }, 'writing marathon state failed'));
  }

  private markDirty(appId: string): void {
    this.dirty.add(appId);
    if (this.flushTimer || this.stopped) return;
    this.flushTimer = this.clock.setTimeout(() => {
      this.flushTimer = undefined;
      void this.flush();
    }, this.opts.flushMs ?? 200);
  }

  /** Resolves once every write queued so far is done (read-your-writes for the version routes). */
  settled(): Promise<void> {
    return this.writes;
  }

  /** Writes the instances of every app changed since the last flush. */
  async flush(): Promise<void> {
    const apps = [...this.dirty];
    this.dirty.clear();
    for (const appId of apps) {
      const list = this.scheduler.instancesOf(appId).filter(isActive);
      this.persist(() => this.repo.saveInstances(appId, list));
    }
    await this.writes;
  }

  // ---- deployments ------------------------------------------------------------------------

  /** Gives new and changed apps their versions (a scale keeps the config version). */
  private stamp(current: GroupDef, target: GroupDef, version: string, restart: ReadonlySet<string>): GroupDef {
    const walk = (g: GroupDef): GroupDef => ({
      ...g,
      version,
      apps: g.apps.map((a) => {
        const old = findApp(current, a.id);
        if (!old) return { ...a, version, versionInfo: { lastScalingAt: version, lastConfigChangeAt: version } };
        if (restart.has(a.id) || !onlyScaled(old, a))
          return { ...a, version, versionInfo: { lastScalingAt: version, lastConfigChangeAt: version } };
        if (old.instances !== a.instances)
          return {
            ...a,
            version,
            versionInfo: { lastScalingAt: version, lastConfigChangeAt: old.versionInfo.lastConfigChangeAt },
          };
        return { ...a, version: old.version, versionInfo: old.versionInfo };
      }),
      pods: g.pods.map((p: Json) => {
        const old = allPods(current).find((x) => x.id === p.id);
        const strip = (x: Json) =>
          JSON.stringify({ ...x, version: '', versionInfo: null, scaling: { ...x.scaling, instances: 0 } });
        if (!old || restart.has(p.id) || strip(old) !== strip(p))
          return { ...p, version, versionInfo: { lastScalingAt: version, lastConfigChangeAt: version } };
        if (old.scaling.instances !== p.scaling.instances) {
          return {
            ...p,
            version,
            versionInfo: {
              lastScalingAt: version,
              lastConfigChangeAt: old.versionInfo?.lastConfigChangeAt ?? old.version,
            },
          };
        }
        return { ...p, version: old.version, versionInfo: old.versionInfo };
      }),
      groups: g.groups.map(walk),
    });
    return walk(target);
  }

  /**
   * Deploys `target` as the new root group: plans the steps, refuses (409) when an affected app is
   * in a running deployment unless forced (which cancels that deployment), stores everything, then
   * lets the scheduler carry the plan out.
   */
  async deploy(target: GroupDef, opts: DeployOptions = {}): Promise<StoredDeployment> {
    const current = this.root;
    // Versions are unique and grow, even for two changes within one millisecond.
    let version = this.nowIso();
    if (version <= current.version) version = new Date(Date.parse(current.version) + 1).toISOString();
    const restart = opts.restart ?? new Set<string>();
    const stamped = this.stamp(current, target, version, restart);
    const cycle = dependencyCycle(stamped);
    if (cycle)
      throw new SpecError([{ path: '/', errors: [`Dependency graph has cyclic dependencies: ${cycle.join(' -> ')}`] }]);
    const steps = plan(current, stamped, restart);
    const affected = [...new Set(steps.flatMap((s) => s.actions.map((a) => a.app)))].sort();
    const d: StoredDeployment = {
      id: randomUUID(),
      version,
      original: current,
      target: stamped,
      steps,
      done: 0,
      affectedApps: affected,
      affectedPods: [],
    };
    if (opts.dryRun) return d;
    const conflicts = this.scheduler.deployments.filter((x) => x.affectedApps.some((a) => affected.includes(a)));
    if (conflicts.length > 0 && !opts.force) {
      throw new LockedError(
        conflicts.map((c) => c.id),
        affected.filter((a) => conflicts.some((c) => c.affectedApps.includes(a))),
      );
    }
    for (const c of conflicts) {
      this.scheduler.cancelDeployment(c.id);
      await this.repo.removeDeployment(c.id);
    }
    // What a new leader needs to carry on is written before anything acts on it: the deployment,
    // then the root. In that order a leader dying between the two leaves a deployment whose target
    // is newer than the root, which the next leader rolls forward to (`start`); the other order left
    // a new root with no plan, whose apps the next leader started all at once, dependencies ignored.
    // The history (earlier root, app versions) follows in the background, in order.
    await this.writes;
    if (steps.length > 0) await this.repo.saveDeployment(d);
    await this.repo.saveRoot(stamped);
    this.persist(async () => {
      await this.repo.saveGroupVersion(current);
      for (const a of allApps(stamped)) if (a.version === version) await this.repo.saveAppVersion(a);
      // Pods keep their versions the same way (`/v2/pods/{id}::versions`).
      for (const p of allPods(stamped))
        if (p.version === version) await this.repo.saveAppVersion(p as unknown as AppDef);
    });
    this.scheduler.root = stamped;
    if (steps.length > 0) this.scheduler.startDeployment(d);
    else {
      this.events.emit('deployment_success', {
        id: d.id,
        plan: { id: d.id, version, original: current, target: stamped, steps: [] },
      });
      this.scheduler.converge();
    }
    this.events.emit('group_change_success', { groupId: '/', version });
    return d;
  }

  /** Cancels a deployment: with `force` only stops it; otherwise rolls its apps back in a new deployment. */
  async cancelDeployment(id: string, force: boolean): Promise<StoredDeployment | undefined> {
    const d = this.scheduler.deployments.find((x) => x.id === id);
    if (!d) throw new UnknownId(`DeploymentPlan ${id} does not exist`);
    this.scheduler.cancelDeployment(id);
    await this.repo.removeDeployment(id);
    if (force) {
      this.scheduler.converge();
      return undefined;
    }
    // Roll back: the affected apps return to their original definitions (or go, if they were new).
    let target = this.root;
    for (const appId of d.affectedApps) {
      const original = findApp(d.original, appId);
      target = original ? putApp(target, original, this.nowIso()) : removeAppFrom(target, appId, this.nowIso());
    }
    return this.deploy(target, { force: true });
  }

  findApp(id: string): AppDef | undefined {
    return findApp(this.root, id);
  }

  findGroup(id: string): GroupDef | undefined {
    return findGroup(this.root, id);
  }

  requireApp(id: string): AppDef {
    const app = this.findApp(id);
    if (!app) throw new UnknownId(`App '${id}' does not exist`);
    return app;
  }

  /** Kills instances; `scale` lowers the apps' instance counts by as many (a deployment), otherwise they are replaced. */
  async killTasks(
    taskIds: string[],
    opts: { scale?: boolean; wipe?: boolean; force?: boolean },
  ): Promise<{ killed: string[]; deployment?: StoredDeployment }> {
    const instances = taskIds.map((t) => this.scheduler.instances.get(t)).filter((i) => i !== undefined);
    if (opts.scale) {
      const byApp = new Map<string, number>();
      for (const i of instances) byApp.set(i.appId, (byApp.get(i.appId) ?? 0) + 1);
      let target = this.root;
      for (const [appId, n] of byApp) {
        const app = findApp(target, appId);
        if (app) target = putApp(target, { ...app, instances: Math.max(0, app.instances - n) }, this.nowIso());
      }
      for (const i of instances) this.scheduler.killInstance(i, 'killed by the API with scale');
      const deployment = await this.deploy(target, { force: opts.force });
      return { killed: instances.map((i) => i.taskId), deployment };
    }
    for (const i of instances)
      this.scheduler.killInstance(i, opts.wipe ? 'killed and wiped by the API' : 'killed by the API');
    this.scheduler.converge();
    return { killed: instances.map((i) => i.taskId) };
  }
}

function removeAppFrom(root: GroupDef, id: string, version: string): GroupDef {
  const parent = id.slice(0, id.lastIndexOf('/')) || '/';
  const walk = (g: GroupDef): GroupDef =>
    g.id === parent ? { ...g, apps: g.apps.filter((a) => a.id !== id), version } : { ...g, groups: g.groups.map(walk) };
  return walk(root);
}

/** 409: the change touches apps a running deployment is changing. */
export class LockedError extends Locked {
  constructor(
    readonly deploymentIds: string[],
    readonly apps: string[],
  ) {
    super(
      `App is locked by one or more deployments. Override with the option '?force=true'. View details at '/v2/deployments/<DEPLOYMENT_ID>'.`,
    );
  }
}
