/**
 * The scheduler's rolling upgrade under random events (fast-check), on the fake driver: offers,
 * tasks starting, health results (true and false), kills confirmed, new tasks failing. After every
 * event, if the scheduler killed an old instance that was healthy, the instances it believes healthy
 * are still at least `ceil(instances × minimumHealthCapacity)`; and it never runs more than the
 * capacity cap (one over in Marathon's edge case). This holds the scheduler to what the pure
 * planner's property (plan/rolling.test.ts) promises.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { putApp } from '../../../frameworks/marathon/core/groups.js';
import { isActive, isAvailable } from '../../../frameworks/marathon/core/instances.js';
import { type Json, normaliseApp } from '../../../frameworks/marathon/core/spec.js';
import { replaceBounds } from '../../../frameworks/marathon/plan/index.js';
import { Harness, offer } from './harness.js';

async function post(h: Harness, app: Json) {
  const s = h.service;
  return s.deploy(putApp(s.root, normaliseApp(app, '/', s.nowIso()), s.nowIso()));
}

const hc = {
  protocol: 'MESOS_HTTP',
  portIndex: 0,
  path: '/',
  gracePeriodSeconds: 15,
  intervalSeconds: 1,
  timeoutSeconds: 2,
  maxConsecutiveFailures: 3,
};

describe('marathon scheduler: rolling upgrade under random events (property)', () => {
  const strategy = fc.record({
    instances: fc.integer({ min: 1, max: 8 }),
    minimumHealthCapacity: fc.constantFrom(0, 0.25, 0.5, 0.7, 1),
    maximumOverCapacity: fc.constantFrom(0, 0.25, 0.5, 1),
  });
  const event = fc.record({
    kind: fc.constantFrom('offer', 'running', 'healthy', 'healthy', 'unhealthy', 'killDone', 'killDone', 'fails'),
    pick: fc.nat(),
  });

  it('never kills a healthy old instance below the healthy minimum, never over the cap', async () => {
    let healthyKills = 0;
    await fc.assert(
      fc.asyncProperty(strategy, fc.array(event, { maxLength: 120 }), async (s, events) => {
        const h = await new Harness().start();
        const upgradeStrategy = {
          minimumHealthCapacity: s.minimumHealthCapacity,
          maximumOverCapacity: s.maximumOverCapacity,
        };
        const app = {
          id: '/p',
          cmd: 'v1',
          cpus: 0.1,
          mem: 16,
          instances: s.instances,
          healthChecks: [hc],
          upgradeStrategy,
        };
        await post(h, app);
        h.driver.emit('offers', [offer()]);
        h.runAll(true);
        const sch = h.service.scheduler;
        const { minHealthy, maxCapacity } = replaceBounds(s.instances, upgradeStrategy);
        const live = () => sch.instancesOf('/p').filter(isActive);
        const healthy = () => live().filter((i) => isAvailable(sch.specs.get('/p'), i));
        const oldVersion = live()[0]?.version;
        const check = (healthyBefore: Set<string>, killsBefore: number) => {
          const killedHealthy = h.driver.killed.slice(killsBefore).filter((id) => healthyBefore.has(id));
          healthyKills += killedHealthy.length;
          const now = healthy().length;
          if (killedHealthy.length > 0 && now < minHealthy)
            throw new Error(`killed healthy ${killedHealthy.join(',')}: ${now} healthy < ${minHealthy}`);
          if (live().length > maxCapacity) throw new Error(`${live().length} instances > ${maxCapacity}`);
        };
        // The upgrade's first decision is checked like every later one.
        const first = new Set(healthy().map((i) => i.taskId));
        await post(h, { ...app, cmd: 'v2' });
        check(first, 0);
        for (const e of events) {
          const pick = <T>(xs: T[]): T | undefined => (xs.length > 0 ? xs[e.pick % xs.length] : undefined);
          let send = (): unknown => h.driver.emit('offers', [offer()]);
          let target: string | undefined;
          if (e.kind === 'running') {
            target = pick(live().filter((x) => x.state === 'TASK_STAGING'))?.taskId;
            send = () => h.status(target as string, 'TASK_RUNNING');
          } else if (e.kind === 'healthy' || e.kind === 'unhealthy') {
            target = pick(live().filter((x) => x.state === 'TASK_RUNNING' && !x.killing))?.taskId;
            send = () => h.status(target as string, 'TASK_RUNNING', { healthy: e.kind === 'healthy' });
          } else if (e.kind === 'killDone') {
            target = pick(live().filter((x) => x.killing))?.taskId;
            send = () => h.status(target as string, 'TASK_KILLED');
          } else if (e.kind === 'fails') {
            target = pick(live().filter((x) => !x.killing && x.version !== oldVersion))?.taskId;
            send = () => h.status(target as string, 'TASK_FAILED', { message: 'command exited 1' });
          }
          if (e.kind !== 'offer' && target === undefined) continue;
          // Healthy when the scheduler decides: the event's own instance is judged by what it reports.
          const before = new Set(
            healthy()
              .map((i) => i.taskId)
              .filter((id) => id !== target),
          );
          const kills = h.driver.killed.length;
          send();
          check(before, kills);
        }
        return true;
      }),
      { numRuns: 150 },
    );
    // The runs did kill healthy old instances (the property was exercised, not passed vacuously).
    expect(healthyKills).to.be.greaterThan(0);
  });
});
