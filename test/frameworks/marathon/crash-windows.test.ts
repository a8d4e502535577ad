/**
 * Review (2026-12-01): Marathon faults across a leader change, on agora/sdk/testing (the real master
 * logic, simulated agents, a virtual clock).
 */
import type { SchedulerDriver, Store } from 'agora/sdk';
import { MemoryStore, TestCluster } from 'agora/sdk/testing';
import { expect } from 'chai';
import pino from 'pino';
import { putApp } from '../../../frameworks/marathon/core/groups.js';
import { MarathonService } from '../../../frameworks/marathon/core/service.js';
import { type Json, normaliseApp } from '../../../frameworks/marathon/core/spec.js';
import { Harness, offer } from './harness.js';

async function marathon(
  cluster: TestCluster,
  store: Store,
  afterStart?: (s: MarathonService) => void,
): Promise<{ service: MarathonService; driver: () => SchedulerDriver }> {
  let driver: SchedulerDriver | undefined;
  const service = new MarathonService({
    store,
    clock: cluster.clock,
    logger: pino({ level: 'silent' }),
    batchUpdates: false,
    createDriver: (id) => {
      driver = cluster.driver({
        framework: {
          name: 'marathon',
          user: 'root',
          id,
          failover_timeout: 3600,
          capabilities: [{ type: 'PARTITION_AWARE' }],
        },
        declineUnused: false,
      });
      return driver;
    },
  });
  await service.start();
  afterStart?.(service);
  await cluster.until(() => service.frameworkId !== undefined, { what: 'marathon to subscribe' });
  return {
    service,
    driver: () => {
      if (!driver) throw new Error('no driver');
      return driver;
    },
  };
}

async function post(s: MarathonService, app: Json, force = false): Promise<void> {
  await s.deploy(putApp(s.root, normaliseApp(app, '/', s.nowIso()), s.nowIso()), { force });
}

describe('Marathon crash windows: a leader dying between a decision and its effect (agora/sdk/testing, virtual clock)', () => {
  let cluster: TestCluster;
  beforeEach(async () => {
    cluster = await TestCluster.start({ agents: 2 });
  });
  afterEach(async () => {
    await cluster.stop();
  });

  it('a scale-down whose KILL was lost (leader died right after deciding it) is carried out by the next leader', async () => {
    const store = new MemoryStore();
    const a = await marathon(cluster, store);
    const app = { id: '/web', cmd: 'sleep 1000', cpus: 0.1, mem: 16, instances: 2 };
    await post(a.service, app);
    await cluster.until(() => cluster.running().length === 2, { what: 'two instances running' });
    // The KILL of the scale-down never reaches the master (the leader dies right after sending it,
    // or the master fails over with it in flight).
    a.driver().kill = () => true;
    await post(a.service, { ...app, instances: 1 });
    await cluster.advance(1_000);
    await a.service.stop(); // what it decided is stored (the instance marked killing)
    const b = await marathon(cluster, store);
    await cluster.advance(60_000);
    // The app asks for one instance: one task runs, not two.
    expect(cluster.running()).to.have.length(1);
    await b.service.stop();
  });
  it('a TASK_FAILED delivered twice (at least once) launches one replacement', async () => {
    const h = await new Harness().start();
    await post(h.service, { id: '/dup', cmd: 'sleep 100', cpus: 1, mem: 64, instances: 2, backoffSeconds: 1 });
    h.driver.emit('offers', [offer('a1')]);
    h.driver.emit('offers', [offer('a2')]);
    expect(h.driver.tasks()).to.have.length(2);
    h.runAll();
    const failed = h.driver.tasks()[0]?.task_id as string;
    h.status(failed, 'TASK_FAILED', { message: 'exit 1' });
    h.status(failed, 'TASK_FAILED', { message: 'exit 1' }); // the ack was lost: delivered again
    await h.clock.advanceAsync(5_000);
    for (let i = 0; i < 3; i++) h.driver.emit('offers', [offer(`b${i}`)]);
    expect(h.driver.tasks()).to.have.length(3);
    expect(h.active('/dup')).to.have.length(2);
  });

  it('scaling down while instances are STAGING kills them once, and their late updates launch nothing', async () => {
    const h = await new Harness().start();
    const app = { id: '/stg', cmd: 'sleep 100', cpus: 1, mem: 64, instances: 3 };
    await post(h.service, app);
    h.driver.emit('offers', [offer('a1')]);
    h.driver.emit('offers', [offer('a2')]);
    h.driver.emit('offers', [offer('a3')]);
    expect(h.driver.tasks()).to.have.length(3); // all STAGING
    await post(h.service, { ...app, instances: 1 }, true); // the first deployment is still running
    expect(h.driver.killed).to.have.length(2);
    const killed = [...h.driver.killed];
    for (const id of killed) h.status(id, 'TASK_RUNNING'); // the launch reached the agent first
    for (const id of killed) h.status(id, 'TASK_KILLED');
    h.runAll();
    for (let i = 0; i < 3; i++) h.driver.emit('offers', [offer(`c${i}`)]);
    expect(h.driver.tasks()).to.have.length(3);
    expect(h.active('/stg')).to.have.length(1);
  });
  it('with churn: a deployment interrupted before its launches were stored: the next leader ends with the target count, the unknown tasks killed', async () => {
    const store = new MemoryStore();
    let dead = false;
    const put = store.put.bind(store);
    // After the "crash", nothing more of the first leader reaches the Store.
    store.put = (key, value, version) => (dead ? new Promise<number>(() => {}) : put(key, value, version));
    const a = await marathon(cluster, store);
    await post(a.service, { id: '/api', cmd: 'sleep 1000', cpus: 0.1, mem: 16, instances: 3 });
    dead = true; // the deployment is stored; the launches that follow are not
    await cluster.until(() => cluster.running().length === 3, { what: 'three instances running' });
    const first = cluster.running().map((r) => r.taskId);
    await a.driver().stop(); // the leader dies (its driver goes; its timers are left to nobody)
    dead = false;
    const shared = new MemoryStore();
    for (const k of await store.list('')) {
      const v = await store.get(k);
      if (v) await shared.put(k, v.value);
    }
    const b = await marathon(cluster, shared);
    await cluster.advance(30_000);
    const now = cluster.running().map((r) => r.taskId);
    expect(now).to.have.length(3);
    // Not doubled; but the three healthy tasks of the first leader were killed and replaced.
    expect(now.filter((t) => first.includes(t))).to.deep.equal([]);
    await b.service.stop();
  });

  it('a leader dying between storing the root and its deployment: the next leader sees both together (rolled forward), never a new root with no deployment', async () => {
    const store = new MemoryStore();
    let dead = false;
    let armed = false;
    const put = store.put.bind(store);
    // The leader dies right after the first of the two writes a deployment needs (whichever it is):
    // from then on nothing it writes reaches the Store.
    store.put = async (key, value, version) => {
      if (dead) return new Promise<number>(() => {});
      const v = await put(key, value, version);
      if (armed && (key === 'marathon/root' || key.startsWith('marathon/deployments/'))) dead = true;
      return v;
    };
    const a = await marathon(cluster, store);
    const db = { id: '/shop/db', cmd: 'sleep 1000', cpus: 0.1, mem: 16, instances: 1 };
    const web = { id: '/shop/web', cmd: 'sleep 1000', cpus: 0.1, mem: 16, instances: 2, dependencies: ['/shop/db'] };
    const target = putApp(
      putApp(a.service.root, normaliseApp(db, '/', a.service.nowIso()), a.service.nowIso()),
      normaliseApp(web, '/', a.service.nowIso()),
      a.service.nowIso(),
    );
    armed = true;
    void a.service.deploy(target).catch(() => undefined); // its answer never comes: the leader is gone
    await cluster.until(() => dead, { what: 'the first write of the deployment' });
    await a.driver().stop();
    const shared = new MemoryStore();
    for (const k of await store.list('')) {
      const v = await store.get(k);
      if (v) await shared.put(k, v.value);
    }
    // What the next leader holds as it starts is consistent: a root that has the apps comes with the
    // deployment that brings them up in order (db before web), not apps started with no plan.
    let loaded: { web: boolean; deployments: string[]; root: string } | undefined;
    const b = await marathon(cluster, shared, (s) => {
      loaded = {
        web: s.findApp('/shop/web') !== undefined,
        deployments: s.scheduler.deployments.map((d) => d.target.version),
        root: s.root.version,
      };
    });
    expect(loaded?.web).to.equal(true, 'the deployment was stored, so the next leader carries it out');
    expect(loaded?.deployments).to.deep.equal([loaded?.root]);
    // Rolled forward or not started, the user's request is carried out once, or not at all; here the
    // deployment was stored, so it is carried out.
    await cluster.until(() => cluster.running().length === 3, { what: 'db and web running' });
    await cluster.advance(30_000);
    expect(cluster.running()).to.have.length(3);
    expect(b.service.scheduler.deployments).to.deep.equal([]);
    await b.service.stop();
  });
});
