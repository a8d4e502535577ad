import { expect } from 'chai';
import { putApp } from '../../../frameworks/marathon/core/groups.js';
import { isHealthy } from '../../../frameworks/marathon/core/instances.js';
import { type Json, normaliseApp } from '../../../frameworks/marathon/core/spec.js';
import { Harness, offer } from './harness.js';

async function post(h: Harness, app: Json) {
  const s = h.service;
  return s.deploy(putApp(s.root, normaliseApp(app, '/', s.nowIso()), s.nowIso()));
}

describe('marathon scheduler (virtual clock, fake driver)', () => {
  it('launches the instances an offer holds, finishes the deployment when they run, then declines and suppresses', async () => {
    const h = await new Harness().start();
    await post(h, { id: '/web', cmd: 'sleep 100', cpus: 1, mem: 64, instances: 3 });
    expect(h.service.scheduler.deployments).to.have.length(1);
    h.driver.emit('offers', [offer('a1', { cpus: 2 }), offer('a2', { cpus: 8 })]);
    expect(h.driver.tasks()).to.have.length(3);
    const t = h.driver.tasks()[0];
    expect(t.command?.value).to.equal('sleep 100');
    expect(t.command?.environment?.variables.find((v) => v.name === 'MARATHON_APP_ID')?.value).to.equal('/web');
    h.runAll();
    expect(h.service.scheduler.deployments).to.have.length(0);
    expect(h.types()).to.include('deployment_success');
    h.driver.emit('offers', [offer('a3')]);
    expect(h.driver.declined.at(-1)?.filters?.refuse_seconds).to.be.greaterThan(0);
    expect(h.driver.suppressed).to.equal(1);
  });

  it('backs off launches after a failure: offers are declined by backoff until backoffSeconds pass, then the delay grows by backoffFactor', async () => {
    const h = await new Harness().start();
    await post(h, { id: '/crash', cmd: 'exit 1', cpus: 0.1, mem: 16, backoffSeconds: 10, backoffFactor: 2 });
    h.driver.emit('offers', [offer()]);
    h.status(h.driver.tasks()[0].task_id, 'TASK_FAILED', { message: 'exit 1' });
    h.driver.emit('offers', [offer()]);
    expect(h.driver.tasks()).to.have.length(1);
    expect(h.service.scheduler.stats.get('/crash')?.byReason.DeclinedByBackoff).to.equal(1);
    h.clock.advance(9_000);
    h.driver.emit('offers', [offer()]);
    expect(h.driver.tasks()).to.have.length(1);
    h.clock.advance(1_000);
    h.driver.emit('offers', [offer()]);
    expect(h.driver.tasks()).to.have.length(2);
    h.status(h.driver.tasks()[1].task_id, 'TASK_FAILED');
    h.clock.advance(19_000);
    h.driver.emit('offers', [offer()]);
    expect(h.driver.tasks()).to.have.length(2, 'second delay is 20 s');
    h.clock.advance(1_000);
    h.driver.emit('offers', [offer()]);
    expect(h.driver.tasks()).to.have.length(3);
    // DELETE /v2/queue/{id}/delay clears it.
    h.status(h.driver.tasks()[2].task_id, 'TASK_FAILED');
    h.service.scheduler.resetDelay('/crash');
    h.driver.emit('offers', [offer()]);
    expect(h.driver.tasks()).to.have.length(4);
  });

  it('replaces an unreachable instance after inactiveAfterSeconds, and kills the extra one when it comes back', async () => {
    const h = await new Harness().start();
    await post(h, {
      id: '/u',
      cmd: 'sleep 100',
      cpus: 0.1,
      mem: 16,
      instances: 2,
      unreachableStrategy: { inactiveAfterSeconds: 60, expungeAfterSeconds: 600 },
    });
    h.driver.emit('offers', [offer()]);
    h.runAll();
    const lost = h.driver.tasks()[0].task_id;
    h.status(lost, 'TASK_UNREACHABLE');
    h.driver.emit('offers', [offer()]);
    expect(h.driver.tasks()).to.have.length(2, 'not replaced before inactiveAfterSeconds');
    h.clock.advance(60_000);
    h.driver.emit('offers', [offer()]);
    expect(h.driver.tasks()).to.have.length(3, 'replaced once inactive');
    h.runAll();
    h.status(lost, 'TASK_RUNNING');
    expect(h.driver.killed).to.have.length(1, 'one of the three is killed to get back to two');
  });

  it('counts an unreachable instance as alive when unreachableStrategy is disabled', async () => {
    const h = await new Harness().start();
    await post(h, { id: '/d', cmd: 'sleep 100', cpus: 0.1, mem: 16, instances: 1, unreachableStrategy: 'disabled' });
    h.driver.emit('offers', [offer()]);
    h.runAll();
    h.status(h.driver.tasks()[0].task_id, 'TASK_UNREACHABLE');
    h.clock.advance(3_600_000);
    h.driver.emit('offers', [offer()]);
    expect(h.driver.tasks()).to.have.length(1);
  });

  it('replaces an instance the agent killed for failing its health check, and kills one that stays unhealthy past maxConsecutiveFailures itself', async () => {
    const h = await new Harness().start();
    const hc = {
      protocol: 'MESOS_TCP',
      portIndex: 0,
      gracePeriodSeconds: 5,
      intervalSeconds: 10,
      timeoutSeconds: 5,
      maxConsecutiveFailures: 3,
    };
    await post(h, { id: '/h', cmd: 'sleep 100', cpus: 0.1, mem: 16, instances: 2, healthChecks: [hc] });
    h.driver.emit('offers', [offer()]);
    const [a, b] = h.driver.tasks();
    expect(a.health_check?.type).to.equal('TCP');
    expect(a.health_check?.tcp?.port).to.be.within(31000, 31999);
    h.runAll(true);
    h.status(a.task_id, 'TASK_KILLED', {
      reason: 'REASON_TASK_HEALTH_CHECK_STATUS_UPDATED',
      message: 'tcp check failed',
    });
    expect(h.types()).to.include('unhealthy_instance_kill_event');
    h.driver.emit('offers', [offer()]);
    expect(h.driver.tasks()).to.have.length(3, 'replaced');
    // b turns unhealthy and the agent never kills it: Marathon does after the failures' time.
    h.status(b.task_id, 'TASK_RUNNING', { healthy: false });
    expect(h.types()).to.include('health_status_changed_event');
    expect(h.types()).to.include('failed_health_check_event');
    h.clock.advance(30_000);
    expect(h.driver.killed).to.not.include(b.task_id);
    h.clock.advance(40_000);
    expect(h.driver.killed).to.include(b.task_id);
  });

  for (const [selection, expectKilled] of [
    ['YOUNGEST_FIRST', 'newest'],
    ['OLDEST_FIRST', 'oldest'],
  ] as const) {
    it(`scales down by killSelection ${selection} (the ${expectKilled} instance goes)`, async () => {
      const h = await new Harness().start();
      await post(h, { id: '/s', cmd: 'sleep 100', cpus: 0.1, mem: 16, instances: 1, killSelection: selection });
      h.driver.emit('offers', [offer()]);
      h.runAll();
      const oldest = h.driver.tasks()[0].task_id;
      h.clock.advance(10_000);
      const s = h.service;
      await s.deploy(putApp(s.root, { ...s.requireApp('/s'), instances: 2 }, s.nowIso()));
      h.driver.emit('offers', [offer()]);
      h.runAll();
      const newest = h.driver.tasks()[1].task_id;
      await s.deploy(putApp(s.root, { ...s.requireApp('/s'), instances: 1 }, s.nowIso()));
      expect(h.driver.killed).to.deep.equal([expectKilled === 'newest' ? newest : oldest]);
    });
  }

  /**
   * Deploys `app`, starts it, upgrades it (cmd v2) and plays the rounds out: the master confirms
   * the kills, then offers, and new tasks start. The fewest healthy live instances and the most
   * instances seen in any round.
   */
  async function rollingRun(app: { id: string; instances: number } & Record<string, unknown>) {
    const h = await new Harness().start();
    await post(h, app);
    h.driver.emit('offers', [offer()]);
    h.runAll();
    await post(h, { ...app, cmd: 'v2' });
    const s = h.service.scheduler;
    let minHealthy = app.instances;
    let maxAlive = 0;
    for (let round = 0; round < 20 && s.deployments.length > 0; round++) {
      const live = s.instancesOf(app.id).filter((i) => !i.killing && i.state !== 'TASK_KILLED');
      maxAlive = Math.max(maxAlive, s.instancesOf(app.id).length);
      minHealthy = Math.min(minHealthy, live.filter((i) => isHealthy(s.specs.get(app.id), i)).length);
      for (const id of [...h.driver.killed]) if (s.instances.has(id)) h.status(id, 'TASK_KILLED');
      h.driver.emit('offers', [offer()]);
      h.runAll();
    }
    return { s, minHealthy, maxAlive };
  }

  it('keeps a rolling upgrade within ceil(n × minimumHealthCapacity) healthy and floor(n × (1 + maximumOverCapacity)) instances', async () => {
    const { s, minHealthy, maxAlive } = await rollingRun({
      id: '/r',
      cmd: 'v1',
      cpus: 0.1,
      mem: 16,
      instances: 4,
      upgradeStrategy: { minimumHealthCapacity: 0.5, maximumOverCapacity: 0.25 },
    });
    expect(s.deployments).to.have.length(0);
    expect(minHealthy).to.be.at.least(2);
    expect(maxAlive).to.be.at.most(5);
    expect(s.instancesOf('/r').every((i) => i.version === s.specs.get('/r')?.versionInfo.lastConfigChangeAt)).to.equal(
      true,
    );
  });

  it('minimumHealthCapacity 1 with no over-capacity: launches one extra instance rather than killing a healthy one (the pure planner decides)', async () => {
    const { s, minHealthy, maxAlive } = await rollingRun({
      id: '/r1',
      cmd: 'v1',
      cpus: 0.1,
      mem: 16,
      instances: 2,
      upgradeStrategy: { minimumHealthCapacity: 1, maximumOverCapacity: 0 },
    });
    expect(s.deployments).to.have.length(0);
    expect(minHealthy).to.equal(2);
    expect(maxAlive).to.equal(3);
  });

  it('resumes a deployment found in storage after a failover, and reconciles what it knew', async () => {
    const h = await new Harness().start();
    await post(h, { id: '/f', cmd: 'sleep 100', cpus: 0.1, mem: 16, instances: 2 });
    h.driver.emit('offers', [offer('a1', { cpus: 0.15 })]);
    h.runAll();
    await h.service.flush();
    await h.service.stop();
    // A new leader on the same store.
    await h.start();
    expect(h.service.scheduler.deployments).to.have.length(1);
    expect(h.driver.reconciled[0].map((t) => t.task_id)).to.have.length(1);
    h.driver.emit('offers', [offer('a2')]);
    h.runAll();
    expect(h.service.scheduler.deployments).to.have.length(0);
    expect(h.service.scheduler.instancesOf('/f')).to.have.length(2);
  });

  it('kills a task it does not know (launched before a failover, never stored)', async () => {
    const h = await new Harness().start();
    h.status('ghost.1234', 'TASK_RUNNING');
    expect(h.driver.killed).to.deep.equal(['ghost.1234']);
  });

  it('counts each rejected offer under its reason, naming the unmet constraint', async () => {
    const h = await new Harness().start();
    await post(h, { id: '/c', cmd: 'sleep 1', cpus: 0.1, mem: 16, instances: 1, constraints: [['rack', 'IS', 'r9']] });
    h.driver.emit('offers', [
      offer('a1', { attributes: { rack: 'r1' } }),
      offer('a2', { cpus: 0.05, attributes: { rack: 'r9' } }),
    ]);
    const st = h.service.scheduler.stats.get('/c');
    expect(st?.byReason.UnfulfilledConstraint).to.equal(1);
    expect(st?.byConstraint['rack:IS:r9']).to.equal(1);
    expect(st?.byReason.InsufficientCpus).to.equal(1);
    expect(h.service.scheduler.waitingFor('/c')).to.match(/UnfulfilledConstraint 1.*rack:IS:r9/);
  });

  it('waits for readiness checks: a deployment completes only once every new instance answers ready', async () => {
    const h = await new Harness().start();
    const probed: string[] = [];
    let ready = false;
    h.service.scheduler.probe = async (url) => {
      probed.push(url);
      return ready ? 200 : 503;
    };
    await post(h, {
      id: '/rd',
      cmd: 'serve',
      cpus: 0.1,
      mem: 16,
      instances: 2,
      portDefinitions: [{ port: 0, name: 'http' }],
      readinessChecks: [
        { name: 'r', protocol: 'HTTP', path: '/ready', portName: 'http', intervalSeconds: 2, timeoutSeconds: 1 },
      ],
    });
    h.driver.emit('offers', [offer()]);
    h.runAll();
    const flush = () => new Promise((r) => setImmediate(r));
    h.clock.advance(1_000);
    await flush();
    expect(probed).to.have.length(2);
    expect(probed[0]).to.match(/^http:\/\/a1\.example:310\d\d\/ready$/);
    expect(h.service.scheduler.deployments).to.have.length(1);
    expect(h.service.scheduler.waitingFor('/rd')).to.match(/0 of 2 instance\(s\) running and ready/);
    ready = true;
    h.clock.advance(2_000);
    await flush();
    h.service.scheduler.converge();
    expect(h.service.scheduler.deployments).to.have.length(0);
  });

  it('runs every health check: the Mesos one on the agent, HTTP and TCP ones itself; healthy only when all pass, killed when one fails past maxConsecutiveFailures', async () => {
    const h = await new Harness().start();
    const s = h.service.scheduler;
    const urls: string[] = [];
    let tcpUp = true;
    s.probe = async (url) => {
      urls.push(url);
      return 200;
    };
    s.tcpProbe = async () => {
      if (!tcpUp) throw new Error('connection refused');
    };
    const check = { intervalSeconds: 2, timeoutSeconds: 1, maxConsecutiveFailures: 3, gracePeriodSeconds: 0 };
    await post(h, {
      id: '/hc',
      cmd: 'serve',
      cpus: 0.1,
      mem: 16,
      portDefinitions: [{ port: 0 }],
      healthChecks: [
        { protocol: 'HTTP', path: '/http', portIndex: 0, ...check },
        { protocol: 'MESOS_HTTP', path: '/mesos', portIndex: 0, ...check },
        { protocol: 'TCP', portIndex: 0, ...check },
      ],
    });
    h.driver.emit('offers', [offer()]);
    const task = h.driver.tasks()[0];
    expect(task.health_check?.http?.path, 'the agent runs the Mesos check').to.equal('/mesos');
    h.runAll(true);
    const i = s.instances.get(task.task_id);
    expect(isHealthy(s.specs.get('/hc'), i as never), 'the agent check alone is not enough').to.equal(false);
    expect(s.deployments).to.have.length(1);
    const flush = () => new Promise((r) => setImmediate(r));
    h.clock.advance(1_000);
    await flush();
    expect(urls).to.have.length(1);
    expect(urls[0]).to.match(/\/http$/);
    expect(isHealthy(s.specs.get('/hc'), i as never)).to.equal(true);
    s.converge();
    expect(s.deployments).to.have.length(0);
    tcpUp = false;
    for (let n = 0; n < 3; n++) {
      h.clock.advance(2_000);
      await flush();
      if (n === 0) expect(isHealthy(s.specs.get('/hc'), i as never), 'one check failing').to.equal(false);
      if (n < 2) expect(h.driver.killed).to.have.length(0);
    }
    expect(h.driver.killed).to.deep.equal([task.task_id]);
    expect(h.types()).to.include('unhealthy_instance_kill_event');
    expect(h.types()).to.include('failed_health_check_event');
  });

  it('runs every readiness check, shows their results, waits for all, and does not check a ready instance again', async () => {
    const h = await new Harness().start();
    const s = h.service.scheduler;
    const probed: string[] = [];
    let bReady = false;
    s.probe = async (url) => {
      probed.push(url);
      return url.endsWith('/b') && !bReady ? { status: 503, contentType: 'text/plain', body: 'warming up' } : 200;
    };
    const rc = { protocol: 'HTTP', portName: 'http', intervalSeconds: 2, timeoutSeconds: 1 };
    const app = normaliseApp(
      {
        id: '/rr',
        cmd: 'serve',
        cpus: 0.1,
        mem: 16,
        portDefinitions: [{ port: 0, name: 'http' }],
        readinessChecks: [{ name: 'a', path: '/a', ...rc }],
      },
      '/',
      h.service.nowIso(),
    );
    // Marathon 1.10 accepts one readiness check per app; the runner takes any number (as pods need).
    app.readinessChecks.push({ ...app.readinessChecks[0], name: 'b', path: '/b' });
    await h.service.deploy(putApp(h.service.root, app, h.service.nowIso()));
    h.driver.emit('offers', [offer()]);
    h.runAll();
    const flush = () => new Promise((r) => setImmediate(r));
    h.clock.advance(1_000);
    await flush();
    expect(probed.map((u) => u.replace(/.*\//, ''))).to.deep.equal(['a', 'b']);
    const results = s.readinessOf('/rr') as { name: string; ready: boolean; lastResponse: { status: number } }[];
    expect(results.map((r) => [r.name, r.ready, r.lastResponse.status])).to.deep.equal([
      ['a', true, 200],
      ['b', false, 503],
    ]);
    s.converge();
    expect(s.deployments, 'waits for every readiness check').to.have.length(1);
    h.clock.advance(2_000);
    await flush();
    expect(
      probed.map((u) => u.replace(/.*\//, '')),
      'a ready check is not probed again',
    ).to.deep.equal(['a', 'b', 'b']);
    bReady = true;
    h.clock.advance(2_000);
    await flush();
    s.converge();
    expect(s.deployments).to.have.length(0);
    const count = probed.length;
    h.clock.advance(10_000);
    await flush();
    expect(probed.length, 'a ready instance is not checked again').to.equal(count);
  });
});
