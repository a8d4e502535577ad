/**
 * A framework for tests, on the real SDK driver: records every offer and status update and
 * lets a test wait for what it expects.
 */
import type { Offer, TaskInfo, TaskState, TaskStatus } from '../../sdk/protocol/types.js';
import { Resources } from '../../sdk/resources/resources.js';
import { type DriverOptions, SchedulerDriver } from '../../sdk/scheduler/driver.js';
import { waitFor } from './cluster.js';

export class TestFramework {
  readonly driver: SchedulerDriver;
  readonly offers: Offer[] = [];
  readonly updates: TaskStatus[] = [];
  readonly errors: { message: string; code?: string }[] = [];
  readonly rescinded: string[] = [];

  constructor(
    master: string,
    name = 'test-framework',
    extra: Partial<DriverOptions['framework']> = {},
    opts: Partial<DriverOptions> = {},
  ) {
    // A raw framework for tests: it holds offers for the test to use later (no auto-decline) and
    // reconciles only when the test says (reconciliation answers repeat terminal states, uuid-less).
    this.driver = new SchedulerDriver({
      master,
      framework: { name, failover_timeout: 60, ...extra },
      declineUnused: false,
      reconcile: false,
      ...opts,
    });
    this.driver.on('offers', (o) => this.offers.push(...o));
    this.driver.on('update', (s) => this.updates.push(s));
    this.driver.on('error', (e) => this.errors.push(e));
    // Offers die with the connection they were made on.
    this.driver.on('disconnected', () => {
      this.offers.length = 0;
    });
    this.driver.on('rescind', (id) => {
      this.rescinded.push(id);
      const i = this.offers.findIndex((o) => o.id === id);
      if (i >= 0) this.offers.splice(i, 1);
    });
  }

  async start(): Promise<this> {
    this.driver.start();
    await waitFor('framework to subscribe', () => this.driver.subscribed);
    return this;
  }

  /** Takes (removes) the outstanding offers, waiting until there is at least `min`. */
  async takeOffers(min = 1, timeoutMs = 30_000): Promise<Offer[]> {
    await waitFor(`${min} offer(s)`, () => this.offers.length >= min, timeoutMs);
    return this.offers.splice(0);
  }

  statesOf(taskId: string): TaskState[] {
    return this.updates.filter((u) => u.task_id === taskId).map((u) => u.state);
  }

  lastOf(taskId: string): TaskStatus | undefined {
    const all = this.updates.filter((u) => u.task_id === taskId);
    return all[all.length - 1];
  }

  async waitState(taskId: string, state: TaskState, timeoutMs = 30_000): Promise<TaskStatus> {
    return waitFor(
      () => `task ${taskId} to reach ${state} (seen: ${this.statesOf(taskId).join(', ') || 'nothing'})`,
      () => this.updates.find((u) => u.task_id === taskId && u.state === state),
      timeoutMs,
    );
  }

  async stop(): Promise<void> {
    await this.driver.stop();
  }
}

export function commandTask(offer: Offer, taskId: string, command: string, resources = 'cpus:0.1;mem:32'): TaskInfo {
  return {
    name: taskId,
    task_id: taskId,
    agent_id: offer.agent_id,
    resources: Resources.parse(resources).toList(),
    command: { value: command },
  };
}
