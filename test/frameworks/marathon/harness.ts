/**
 * A Marathon service against a fake driver (records every call, the test plays the master) on a
 * virtual clock and an in-memory Store: the scheduler's logic in milliseconds, without sleeping.
 */
import { EventEmitter } from 'node:events';
import type { Filters, Offer, Operation, TaskInfo, TaskStatus } from 'agora/sdk';
import { MemoryStore, VirtualClock } from 'agora/sdk/testing';
import pino from 'pino';
import { EventBus, type MarathonEvent } from '../../../frameworks/marathon/core/events.js';
import { MarathonService, type ServiceDriver } from '../../../frameworks/marathon/core/service.js';

export class FakeDriver extends EventEmitter implements ServiceDriver {
  launched: { offer: string; tasks: TaskInfo[] }[] = [];
  declined: { ids: string[]; filters?: Filters }[] = [];
  killed: string[] = [];
  reconciled: { task_id: string }[][] = [];
  suppressed = 0;
  revived = 0;
  groups: { offer: string; executor: string; tasks: TaskInfo[] }[] = [];
  accept(ids: string[], ops: Operation[]): boolean {
    for (const op of ops) {
      if (op.type === 'LAUNCH') this.launched.push({ offer: ids[0], tasks: op.launch.task_infos });
      if (op.type === 'LAUNCH_GROUP')
        this.groups.push({
          offer: ids[0],
          executor: op.launch_group.executor.executor_id,
          tasks: op.launch_group.task_group.tasks,
        });
    }
    return true;
  }
  launch(offer: Offer | Offer[], tasks: TaskInfo[]): boolean {
    const o = Array.isArray(offer) ? offer[0] : offer;
    this.launched.push({ offer: o.id, tasks });
    return true;
  }
  decline(ids: string[], filters?: Filters): boolean {
    this.declined.push({ ids, filters });
    return true;
  }
  kill(taskId: string): boolean {
    this.killed.push(taskId);
    return true;
  }
  reconcile(tasks: { task_id: string }[] = []): boolean {
    this.reconciled.push(tasks);
    return true;
  }
  suppress(): boolean {
    this.suppressed++;
    return true;
  }
  revive(): boolean {
    this.revived++;
    return true;
  }
  start(): void {}
  async stop(): Promise<void> {}
  tasks(): TaskInfo[] {
    return this.launched.flatMap((l) => l.tasks);
  }
}

let offerSeq = 0;
export function offer(
  agent = 'a1',
  opts: {
    cpus?: number;
    mem?: number;
    hostname?: string;
    attributes?: Record<string, string>;
    ports?: [number, number];
  } = {},
): Offer {
  const [b, e] = opts.ports ?? [31000, 31999];
  return {
    id: `o${++offerSeq}`,
    framework_id: 'fw',
    agent_id: agent,
    hostname: opts.hostname ?? `${agent}.example`,
    attributes: opts.attributes ?? {},
    allocation_role: '*',
    resources: [
      { name: 'cpus', type: 'SCALAR', scalar: { value: opts.cpus ?? 8 } },
      { name: 'mem', type: 'SCALAR', scalar: { value: opts.mem ?? 8192 } },
      { name: 'disk', type: 'SCALAR', scalar: { value: 10_000 } },
      { name: 'ports', type: 'RANGES', ranges: { range: [{ begin: b, end: e }] } },
    ],
  };
}

export class Harness {
  readonly clock = new VirtualClock(Date.parse('2026-01-01T00:00:00Z'));
  store = new MemoryStore();
  driver = new FakeDriver();
  events: MarathonEvent[] = [];
  service!: MarathonService;

  async start(): Promise<this> {
    const bus = new EventBus(this.clock);
    bus.subscribe({
      types: new Set(),
      write: (e) => {
        this.events.push(e);
        return true;
      },
      close: () => undefined,
    });
    this.driver = new FakeDriver();
    this.service = new MarathonService({
      store: this.store,
      clock: this.clock,
      logger: pino({ level: 'silent' }),
      createDriver: () => this.driver,
      events: bus,
      batchUpdates: false,
    });
    await this.service.start();
    this.driver.emit('subscribed', { frameworkId: 'fw', masterInfo: {}, resubscribed: false });
    return this;
  }

  status(taskId: string, state: string, extra: Partial<TaskStatus> = {}): void {
    this.driver.emit('update', {
      task_id: taskId,
      state,
      timestamp: this.clock.now() / 1000,
      agent_id: 'a1',
      ...extra,
    });
  }

  /** Every launched task reports RUNNING (and healthy, when asked). */
  runAll(healthy?: boolean): void {
    for (const t of this.driver.tasks()) {
      const i = this.service.scheduler.instances.get(t.task_id);
      if (i && i.state === 'TASK_STAGING')
        this.status(t.task_id, 'TASK_RUNNING', healthy === undefined ? {} : { healthy });
    }
  }

  active(appId: string) {
    return this.service.scheduler
      .instancesOf(appId)
      .filter((i) => !['TASK_KILLED', 'TASK_FAILED', 'TASK_FINISHED'].includes(i.state));
  }

  types(): string[] {
    return this.events.map((e) => e.eventType);
  }
}
