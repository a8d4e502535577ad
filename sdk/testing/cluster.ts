/**
 * An in-process cluster for testing a framework: the real master logic (master/testing's
 * harness), simulated agents that report what the test says, a virtual clock, and real
 * SchedulerDrivers connected through in-memory links. Nothing sleeps: `advance` and `until` move
 * the virtual time, firing the master's allocation cycles, heartbeats and ping timeouts and the
 * driver's own timers.
 *
 * ```ts
 * const cluster = await TestCluster.start({ agents: 2 });
 * const driver = cluster.driver({ framework: { name: 'mine' } });
 * startMyFramework(driver);                                   // your code, on the real driver
 * await cluster.until(() => cluster.running().length === 3);   // launched on simulated agents
 * cluster.agentOf('web-1')?.lose();                           // an agent drops off
 * await cluster.until(() => cluster.running().length === 3);   // relaunched elsewhere
 * ```
 */
import { type HarnessOptions, MasterHarness } from '../../master/testing/harness.js';
import { MemoryStore } from '../../master/testing/memory-store.js';
import { type DriverOptions, SchedulerDriver } from '../scheduler/driver.js';
import { VirtualClock } from '../util/clock.js';
import { MemoryLink } from './link.js';
import { type LaunchBehaviour, SimAgent, type SimAgentSpec } from './sim-agent.js';

export interface TestClusterOptions {
  /** How many simulated agents (named agent-1, agent-2, …), or their specs. Default 1. */
  agents?: number | SimAgentSpec[];
  /** What agents report when a task is launched (default TASK_RUNNING; 'none': the test reports). */
  onLaunch?: LaunchBehaviour;
  /** Master settings (allocation interval, heartbeat seconds, ping timeouts, …). */
  master?: Omit<HarnessOptions, 'clock' | 'store'>;
  /** Start time of the virtual clock (ms since the epoch); default 1,000,000. */
  startMs?: number;
}

/** A driver made by the cluster, with its link. */
type DriverOpts = Omit<DriverOptions, 'master' | 'transport' | 'clock'>;

export class TestCluster {
  readonly clock: VirtualClock;
  /** The registrar's store (kept across `failover()`). */
  readonly store = new MemoryStore();
  readonly agents: SimAgent[] = [];
  /** What agents report on launch; change it at any time. */
  onLaunch: LaunchBehaviour;
  private current?: MasterHarness;
  private readonly links = new Map<SchedulerDriver, MemoryLink>();
  private readonly allLinks: MemoryLink[] = [];
  private named = 0;

  private constructor(private readonly opts: TestClusterOptions) {
    this.clock = new VirtualClock(opts.startMs ?? 1_000_000);
    this.onLaunch = opts.onLaunch ?? 'TASK_RUNNING';
  }

  static async start(opts: TestClusterOptions = {}): Promise<TestCluster> {
    const c = new TestCluster(opts);
    c.current = await MasterHarness.start({ ...opts.master, clock: c.clock, store: c.store });
    const specs = typeof opts.agents === 'number' || opts.agents === undefined ? (opts.agents ?? 1) : opts.agents;
    for (const spec of typeof specs === 'number' ? Array.from({ length: specs }, () => ({})) : specs) {
      await c.addAgent(spec);
    }
    return c;
  }

  /** The master's harness now (its state, trace and effects for assertions). */
  get master(): MasterHarness {
    if (!this.current) throw new Error('no master is leading (failover in progress)');
    return this.current;
  }

  /** Adds a registered simulated agent. */
  async addAgent(spec: SimAgentSpec = {}): Promise<SimAgent> {
    const a = new SimAgent(
      spec.hostname ?? `agent-${++this.named}`,
      spec,
      () => this.onLaunch,
      () => this.master,
    );
    await a.connect();
    this.agents.push(a);
    return a;
  }

  /**
   * A real SchedulerDriver on an in-memory link to this cluster's master, on the virtual clock
   * (not started: call `start()`). Seed defaults to 1 so that backoff schedules repeat.
   */
  driver(opts: DriverOpts): SchedulerDriver {
    let link: MemoryLink | undefined;
    const d = new SchedulerDriver({
      seed: 1,
      ...opts,
      clock: this.clock,
      transport: (handlers, ctx) => {
        link = new MemoryLink(() => this.current, handlers, ctx);
        return link;
      },
    });
    if (!link) throw new Error('the driver did not create its transport');
    this.links.set(d, link);
    this.allLinks.push(link);
    return d;
  }

  /** The in-memory link of a driver made here (to mute or partition it, or read what passed). */
  link(driver: SchedulerDriver): MemoryLink {
    const l = this.links.get(driver);
    if (!l) throw new Error('this driver was not made by this cluster');
    return l;
  }

  /** Lets pending work (promises, events in flight, timers due now) finish. */
  async settle(): Promise<void> {
    await this.clock.advanceAsync(0);
    for (let i = 0; i < 3; i++) {
      await new Promise<void>((r) => setImmediate(r));
      await this.clock.advanceAsync(0);
    }
  }

  /** Moves virtual time forward, firing every timer due on the way (allocation cycles, heartbeats, pings, driver timers). */
  async advance(ms: number): Promise<void> {
    await this.settle();
    await this.clock.advanceAsync(ms);
    await this.settle();
  }

  /**
   * Moves virtual time forward in steps (default 100 ms) until `condition` holds; throws, naming
   * `what`, when it still does not after `withinMs` (default 10 minutes of virtual time).
   */
  async until(
    condition: () => boolean,
    opts: { withinMs?: number; stepMs?: number; what?: string } = {},
  ): Promise<number> {
    const start = this.clock.now();
    const limit = start + (opts.withinMs ?? 600_000);
    await this.settle();
    while (!condition()) {
      if (this.clock.now() >= limit) {
        throw new Error(`${opts.what ?? 'the condition'} did not hold within ${opts.withinMs ?? 600_000} ms`);
      }
      await this.advance(Math.min(opts.stepMs ?? 100, limit - this.clock.now()));
    }
    return this.clock.now() - start;
  }

  /** Active (not terminal) tasks on connected agents, as `{taskId, agent}`. */
  running(): { taskId: string; agent: SimAgent }[] {
    return this.agents.filter((a) => a.connected).flatMap((a) => a.active().map((taskId) => ({ taskId, agent: a })));
  }

  /** The connected agent running this task now, if any. */
  agentOf(taskId: string): SimAgent | undefined {
    return this.running().find((r) => r.taskId === taskId)?.agent;
  }

  /**
   * Loses an agent and moves time until the master has given up on it (its tasks reported
   * lost/unreachable to their frameworks), as after a crash past the ping timeouts.
   */
  async loseAgent(agent: SimAgent): Promise<void> {
    agent.lose();
    await this.until(() => this.master.state.agents.get(agent.id)?.state === 'unreachable', {
      what: `the master to mark ${agent.hostname} unreachable`,
      stepMs: 1_000,
    });
  }

  /**
   * An operator marks the agent gone (Mesos's MARK_AGENT_GONE): its tasks are reported
   * TASK_GONE_BY_OPERATOR (LOST to frameworks that are not partition-aware) and it may not come back.
   */
  async markGone(agent: SimAgent): Promise<void> {
    await this.master.master.markGone(agent.id);
    agent.lose();
    await this.settle();
  }

  /**
   * A master failover: the leader stops, a new one recovers from the same store; drivers
   * reconnect with backoff and agents re-register with their tasks (`rejoin: false` leaves agents
   * out, to test reconciliation while they are away; call `agent.reconnect()` later).
   */
  async failover(opts: { rejoin?: boolean } = {}): Promise<MasterHarness> {
    const old = this.master;
    this.current = undefined;
    old.master.stop();
    for (const l of this.allLinks) l.masterGone();
    for (const a of this.agents) if (a.connected) a.lose();
    this.current = await MasterHarness.start({ ...this.opts.master, clock: this.clock, store: this.store });
    if (opts.rejoin !== false) for (const a of this.agents) await a.reconnect();
    await this.settle();
    return this.current;
  }

  /** Stops every driver made here and the master. */
  async stop(): Promise<void> {
    for (const d of this.links.keys()) await d.stop();
    this.current?.master.stop();
  }
}
