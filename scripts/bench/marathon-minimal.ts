/**
 * The baseline of bench:marathon: a minimal framework on the SDK driver that launches N posix tasks
 * with the same command and resources as Marathon's instances, packing each offer, and reports
 * when all run. What Marathon adds on top of this is its overhead.
 */
import { randomUUID } from 'node:crypto';
import { type Offer, SchedulerDriver, type TaskInfo, type TaskStatus } from 'agora/sdk';
import pino from 'pino';

export interface TaskShape {
  cmd: string;
  cpus: number;
  mem: number;
}

export class MinimalFramework {
  private readonly driver: SchedulerDriver;
  private want = 0;
  private shape: TaskShape = { cmd: 'sleep 3600', cpus: 0.01, mem: 1 };
  private readonly running = new Set<string>();
  private readonly live = new Map<string, string>();
  private onAllRunning?: () => void;
  private subscribed!: Promise<void>;

  constructor(master: string) {
    this.driver = new SchedulerDriver({
      master,
      framework: { name: 'bench-minimal', user: process.env.USER ?? 'root', roles: ['*'], failover_timeout: 0 },
      logger: pino({ level: 'warn' }),
    });
    this.subscribed = new Promise((r) => this.driver.once('subscribed', () => r()));
    this.driver.on('offers', (offers) => this.onOffers(offers));
    this.driver.on('update', (s) => this.onUpdate(s));
    this.driver.start();
  }

  ready(): Promise<void> {
    return this.subscribed;
  }

  private onOffers(offers: Offer[]): void {
    const unused: string[] = [];
    for (const o of offers) {
      if (this.want <= 0) {
        unused.push(o.id);
        continue;
      }
      let cpus = 0;
      let mem = 0;
      for (const r of o.resources) {
        if (r.role && r.role !== '*' && r.role !== o.allocation_role) continue;
        if (r.name === 'cpus') cpus += r.scalar?.value ?? 0;
        if (r.name === 'mem') mem += r.scalar?.value ?? 0;
      }
      const tasks: TaskInfo[] = [];
      while (this.want > 0 && cpus >= this.shape.cpus && mem >= this.shape.mem) {
        cpus -= this.shape.cpus;
        mem -= this.shape.mem;
        this.want--;
        const id = `bench.${randomUUID()}`;
        this.live.set(id, o.agent_id);
        tasks.push({
          name: 'bench',
          task_id: id,
          agent_id: o.agent_id,
          resources: [
            { name: 'cpus', type: 'SCALAR', scalar: { value: this.shape.cpus } },
            { name: 'mem', type: 'SCALAR', scalar: { value: this.shape.mem } },
          ],
          command: { value: this.shape.cmd, shell: true },
        });
      }
      if (tasks.length > 0) this.driver.launch(o, tasks, { refuse_seconds: 1 });
      else unused.push(o.id);
    }
    if (unused.length > 0) this.driver.decline(unused, { refuse_seconds: 5 });
    if (this.want <= 0) this.driver.suppress();
  }

  private onUpdate(s: TaskStatus): void {
    if (s.state === 'TASK_RUNNING') this.running.add(s.task_id);
    else if (s.state !== 'TASK_STAGING' && s.state !== 'TASK_STARTING') {
      this.running.delete(s.task_id);
      this.live.delete(s.task_id);
    }
    if (this.onAllRunning && this.want <= 0 && this.running.size >= this.target) this.onAllRunning();
  }

  private target = 0;

  /** Launches n tasks; resolves with the seconds until all report RUNNING. */
  async run(n: number, shape: TaskShape): Promise<number> {
    this.shape = shape;
    this.running.clear();
    this.target = n;
    const t0 = performance.now();
    const done = new Promise<void>((r) => {
      this.onAllRunning = r;
    });
    this.want = n;
    this.driver.revive();
    await done;
    this.onAllRunning = undefined;
    return (performance.now() - t0) / 1000;
  }

  /** Kills every task it launched and waits until none is left. */
  async killAll(): Promise<void> {
    for (const [id, agent] of this.live) this.driver.kill(id, agent);
    const deadline = Date.now() + 120_000;
    while (this.live.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  }

  async stop(): Promise<void> {
    await this.driver.teardown();
  }
}
