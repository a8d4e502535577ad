/**
 * The Chronos service's HTTP faces on a real engine, on an agora/sdk/testing cluster with a virtual
 * clock: what the HTTP tests start before each test and stop after it.
 */
import { MemoryStore, TestCluster } from 'agora/sdk/testing';
import { pino } from 'pino';
import { Engine } from '../../../frameworks/chronos/engine/engine.js';
import { ENGINE_DRIVER_OPTIONS, wireEngine } from '../../../frameworks/chronos/engine/wire.js';
import { createChronosHttp } from '../../../frameworks/chronos/http/index.js';
import type { AgoraHttp } from '../../../sdk/http/index.js';

export interface ChronosRig {
  cluster: TestCluster;
  engine: Engine;
  app: AgoraHttp;
  stop(): Promise<void>;
}

/** One agent, a leading engine wired to its driver, and the HTTP app answering for it (not listening). */
export async function startChronosRig(startMs: number): Promise<ChronosRig> {
  const log = pino({ level: 'silent' });
  const cluster = await TestCluster.start({ agents: 1, startMs });
  const engine = new Engine({ store: new MemoryStore(), clock: cluster.clock, logger: log });
  await engine.load();
  const driver = cluster.driver({ framework: { name: 'chronos', roles: ['*'] }, ...ENGINE_DRIVER_OPTIONS });
  wireEngine(engine, driver, new MemoryStore(), log);
  driver.start();
  const app = createChronosHttp({
    logger: log,
    clock: cluster.clock,
    engine: () => engine,
    leader: () => '127.0.0.1:4400',
    leading: () => true,
    metrics: () => ({ ...engine.metrics }),
  });
  await app.ready();
  return {
    cluster,
    engine,
    app,
    stop: async () => {
      engine.detach();
      await app.close();
      await cluster.stop();
    },
  };
}
