/**
 * The rig the Chronos engine's tests share: a leader (engine + driver on the SDK's test kit, wired
 * as the real one is), jobs from Chronos JSON, and the virtual clock's helpers.
 */
import type { SchedulerDriver, Store } from 'agora/sdk';
import type { SimAgent, TestCluster } from 'agora/sdk/testing';
import { pino } from 'pino';
import { Engine } from '../../../frameworks/chronos/engine/engine.js';
import type { Run } from '../../../frameworks/chronos/engine/records.js';
import { ENGINE_DRIVER_OPTIONS, storedFrameworkId, wireEngine } from '../../../frameworks/chronos/engine/wire.js';
import { jobFromChronos } from '../../../frameworks/chronos/model/index.js';

export const log = pino({ level: 'silent' });
export const START = Date.UTC(2026, 0, 1, 0, 0, 0);

export interface Leader {
  engine: Engine;
  driver: SchedulerDriver;
}

export async function lead(cluster: TestCluster, store: Store, tweak?: (d: SchedulerDriver) => void): Promise<Leader> {
  const engine = new Engine({ store, clock: cluster.clock, logger: log, tickMs: 100 });
  await engine.load();
  const driver = cluster.driver({
    framework: { name: 'chronos', id: await storedFrameworkId(store), failover_timeout: 3600, roles: ['*'] },
    ...ENGINE_DRIVER_OPTIONS,
  });
  wireEngine(engine, driver, store, log);
  tweak?.(driver);
  driver.start();
  return { engine, driver };
}

export async function stopLeading(l: Leader): Promise<void> {
  l.engine.detach();
  await l.driver.stop();
}

export function job(body: Record<string, unknown>, now: number) {
  const c = jobFromChronos({ cpus: 0.1, mem: 32, disk: 0, command: 'true', ...body }, { now, route: 'any' });
  if (!c.ok) throw new Error(JSON.stringify(c.problems));
  return c.value;
}

/** Every task launched so far, on every agent: task id → agent. */
export function launched(cluster: TestCluster): Map<string, SimAgent> {
  const out = new Map<string, SimAgent>();
  for (const a of cluster.agents) for (const id of a.tasks.keys()) out.set(id, a);
  return out;
}

/** Finishes every running task (exit 0). */
export function finishAll(cluster: TestCluster): void {
  for (const { taskId, agent } of cluster.running()) agent.finish(taskId);
}

export async function runFor(cluster: TestCluster, ms: number, each?: () => void): Promise<void> {
  const end = cluster.clock.now() + ms;
  while (cluster.clock.now() < end) {
    await cluster.advance(250);
    each?.();
  }
  await cluster.settle();
}

export async function allRuns(engine: Engine, name: string): Promise<Run[]> {
  return [...(await engine.history(name)), ...engine.activeRuns(name)];
}

/** The due time in a Chronos task id `ct:<due>:<attempt>:<job>:<run>`. */
export const dueOf = (taskId: string) => Number(taskId.split(':')[1]);
