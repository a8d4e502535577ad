/**
 * The Marathon service on a real SchedulerDriver against the real master logic (agora/sdk/testing):
 * simulated agents, a virtual clock. What is asserted is what the master and its agents saw
 * (launches, kills, SUPPRESS/REVIVE, declines with filters), not what the scheduler believes.
 */
import type { SchedulerDriver, TaskInfo } from 'agora/sdk';
import { MemoryStore, type SimAgent, TestCluster } from 'agora/sdk/testing';
import { expect } from 'chai';
import pino from 'pino';
import { putApp, removeApp } from '../../../frameworks/marathon/core/groups.js';
import { MarathonService } from '../../../frameworks/marathon/core/service.js';
import { type Json, normaliseApp } from '../../../frameworks/marathon/core/spec.js';

interface Setup {
  cluster: TestCluster;
  service: MarathonService;
  /** Every task launched on a simulated agent, in order, with the virtual time of its launch. */
  launches: { task: TaskInfo; agent: SimAgent; at: number }[];
  driver(): SchedulerDriver;
}

async function setup(agents = 2, onLaunch: 'TASK_RUNNING' | 'TASK_FAILED' | 'none' = 'TASK_RUNNING'): Promise<Setup> {
  const launches: Setup['launches'] = [];
  let driver: SchedulerDriver | undefined;
  const cluster = await TestCluster.start({
    agents,
    onLaunch: (task, agent) => {
      launches.push({ task, agent, at: cluster.clock.now() });
      return onLaunch;
    },
  });
  const service = new MarathonService({
    store: new MemoryStore(),
    clock: cluster.clock,
    logger: pino({ level: 'silent' }),
    batchUpdates: false,
    createDriver: () => {
      driver = cluster.driver({
        framework: { name: 'marathon', user: 'root', capabilities: [{ type: 'PARTITION_AWARE' }] },
        declineUnused: false,
      });
      return driver;
    },
  });
  await service.start();
  await cluster.until(() => service.frameworkId !== undefined, { what: 'marathon to subscribe' });
  return {
    cluster,
    service,
    launches,
    driver: () => {
      if (!driver) throw new Error('no driver');
      return driver;
    },
  };
}

async function post(s: MarathonService, app: Json): Promise<void> {
  await s.deploy(putApp(s.root, normaliseApp(app, '/', s.nowIso()), s.nowIso()));
}

function active(s: MarathonService, appId: string) {
  return s.scheduler.instancesOf(appId).filter((i) => !['TASK_KILLED', 'TASK_FAILED'].includes(i.state));
}

async function stop(x: Setup): Promise<void> {
  await x.service.stop();
  await x.cluster.stop();
}

/** The calls of one type the framework sent the master (e.g. 'SUPPRESS', 'DECLINE'). */
function calls(x: Setup, type: string): Record<string, unknown>[] {
  return (x.cluster.link(x.driver()).calls as { type: string }[]).filter((c) => c.type === type) as Record<
    string,
    unknown
  >[];
}

describe('marathon scheduler on agora/sdk/testing (real master logic, simulated agents, virtual clock)', () => {
  it('backs off launches after failures: each delay grows by backoffFactor, capped at maxLaunchDelaySeconds', async () => {
    const x = await setup(1, 'TASK_FAILED');
    await post(x.service, {
      id: '/crash',
      cmd: 'exit 1',
      cpus: 0.1,
      mem: 16,
      backoffSeconds: 2,
      backoffFactor: 2,
      maxLaunchDelaySeconds: 10,
    });
    await x.cluster.until(() => x.launches.length >= 6, { what: 'six launches' });
    const gaps = x.launches.slice(1).map((l, i) => l.at - x.launches[i].at);
    const expected = [2_000, 4_000, 8_000, 10_000, 10_000];
    gaps.forEach((g, i) => {
      expect(g, `gap ${i + 1}: ${gaps.join(', ')}`).to.be.at.least(expected[i]);
      // One tick plus one allocation cycle of slack: the delay, not a 5 s decline filter, sets the pace.
      expect(g, `gap ${i + 1}: ${gaps.join(', ')}`).to.be.at.most(expected[i] + 2_000);
    });
    const q = x.service.scheduler.stats.get('/crash');
    expect(q?.byReason.DeclinedByBackoff).to.be.greaterThan(0);
    await stop(x);
  });

  it('TASK_UNREACHABLE: counted until inactiveAfterSeconds, then replaced on another agent; forgotten after expungeAfterSeconds', async () => {
    const x = await setup(2);
    await post(x.service, {
      id: '/u',
      cmd: 'sleep 1000',
      cpus: 0.1,
      mem: 16,
      unreachableStrategy: { inactiveAfterSeconds: 60, expungeAfterSeconds: 300 },
    });
    await x.cluster.until(() => x.cluster.running().length === 1);
    const first = x.launches[0];
    await x.cluster.loseAgent(first.agent);
    const lostAt = x.cluster.clock.now();
    await x.cluster.until(() => x.service.scheduler.instances.get(first.task.task_id)?.state === 'TASK_UNREACHABLE');
    await x.cluster.advance(50_000);
    expect(x.launches, 'not replaced before inactiveAfterSeconds').to.have.length(1);
    await x.cluster.until(() => x.launches.length === 2, { what: 'a replacement', stepMs: 1_000 });
    expect(x.cluster.clock.now() - lostAt).to.be.at.least(60_000);
    expect(x.launches[1].agent).to.not.equal(first.agent);
    expect(x.service.scheduler.instances.has(first.task.task_id), 'still known while not expunged').to.equal(true);
    await x.cluster.until(() => !x.service.scheduler.instances.has(first.task.task_id), {
      what: 'the unreachable instance to be expunged',
      stepMs: 1_000,
    });
    expect(x.cluster.clock.now() - lostAt).to.be.at.least(300_000);
    expect(x.launches, 'expunging does not launch another').to.have.length(2);
    await stop(x);
  });

  it('kills an instance unhealthy past maxConsecutiveFailures and launches a replacement', async () => {
    const x = await setup(1);
    await post(x.service, {
      id: '/h',
      cmd: 'sleep 1000',
      cpus: 0.1,
      mem: 16,
      healthChecks: [
        {
          protocol: 'COMMAND',
          command: { value: 'true' },
          intervalSeconds: 5,
          timeoutSeconds: 5,
          maxConsecutiveFailures: 3,
        },
      ],
    });
    await x.cluster.until(() => x.launches.length === 1);
    const { task, agent } = x.launches[0];
    agent.update(task.task_id, 'TASK_RUNNING', { healthy: true });
    await x.cluster.until(() => x.service.scheduler.deployments.length === 0, { what: 'the deployment' });
    agent.update(task.task_id, 'TASK_RUNNING', { healthy: false });
    const since = x.cluster.clock.now();
    await x.cluster.until(() => agent.tasks.get(task.task_id)?.state === 'TASK_KILLED', { what: 'the kill' });
    // The agent would have killed it at maxConsecutiveFailures; Marathon's safety net waits one more round.
    expect(x.cluster.clock.now() - since).to.be.at.least(4 * 10_000);
    await x.cluster.until(() => x.launches.length === 2, { what: 'a replacement', withinMs: 5_000 });
    await stop(x);
  });

  for (const [selection, goes] of [
    ['YOUNGEST_FIRST', 'newest'],
    ['OLDEST_FIRST', 'oldest'],
  ] as const) {
    it(`scales down by killSelection ${selection}: the ${goes} instance is the one killed`, async () => {
      const x = await setup(1);
      const app = { id: '/s', cmd: 'sleep 1000', cpus: 0.1, mem: 16, killSelection: selection };
      await post(x.service, { ...app, instances: 1 });
      await x.cluster.until(() => x.cluster.running().length === 1);
      await x.cluster.advance(10_000);
      await post(x.service, { ...app, instances: 2 });
      await x.cluster.until(() => x.cluster.running().length === 2);
      const [oldest, newest] = x.launches;
      await post(x.service, { ...app, instances: 1 });
      await x.cluster.until(() => x.cluster.running().length === 1, { what: 'the scale-down' });
      const killed = goes === 'newest' ? newest : oldest;
      const kept = goes === 'newest' ? oldest : newest;
      expect(killed.agent.tasks.get(killed.task.task_id)?.state).to.equal('TASK_KILLED');
      expect(kept.agent.tasks.get(kept.task.task_id)?.state).to.equal('TASK_RUNNING');
      await stop(x);
    });
  }

  it('an agent lost: its instances relaunch on the other agents within one offer cycle', async () => {
    const x = await setup(4);
    await post(x.service, {
      id: '/spread',
      cmd: 'sleep 1000',
      cpus: 0.1,
      mem: 16,
      instances: 3,
      constraints: [['hostname', 'UNIQUE']],
    });
    await x.cluster.until(() => x.cluster.running().length === 3);
    const victim = x.launches[0].agent;
    await x.cluster.loseAgent(victim);
    // Default unreachableStrategy (inactiveAfterSeconds 0): replaced as soon as reported unreachable.
    const took = await x.cluster.until(() => x.cluster.running().length === 3 && x.launches.length === 4, {
      withinMs: 1_000,
      what: 'a relaunch within one allocation cycle',
    });
    expect(took).to.be.at.most(1_000);
    expect(x.launches[3].agent).to.not.equal(victim);
    expect(active(x.service, '/spread').filter((i) => i.state !== 'TASK_UNREACHABLE')).to.have.length(3);
    await stop(x);
  });

  it('declines offers it cannot use with a filter, suppresses when idle, revives when work arrives', async () => {
    const x = await setup(2);
    await post(x.service, { id: '/big', cmd: 'sleep 1000', cpus: 100, mem: 16 });
    await x.cluster.until(() => calls(x, 'DECLINE').length > 0, { what: 'a decline' });
    const decline = calls(x, 'DECLINE')[0] as { decline: { filters?: { refuse_seconds?: number } } };
    expect(decline.decline.filters?.refuse_seconds).to.be.greaterThan(0);
    expect(x.launches).to.have.length(0);
    // Removed: nothing to launch, the next offers are declined and the framework suppresses.
    await x.service.deploy(removeApp(x.service.root, '/big', x.service.nowIso()), { force: true });
    await x.cluster.until(() => calls(x, 'SUPPRESS').length > 0, { withinMs: 30_000, what: 'SUPPRESS' });
    const revivesBefore = calls(x, 'REVIVE').length;
    await x.cluster.advance(30_000);
    expect(x.launches).to.have.length(0);
    await post(x.service, { id: '/small', cmd: 'sleep 1000', cpus: 0.1, mem: 16 });
    expect(calls(x, 'REVIVE').length).to.be.greaterThan(revivesBefore);
    await x.cluster.until(() => x.launches.length === 1, { withinMs: 2_000, what: 'a launch after REVIVE' });
    await stop(x);
  });
});
