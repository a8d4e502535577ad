import http from 'node:http';
import { MemoryStore } from 'agora/sdk/testing';
import { expect } from 'chai';
import pino from 'pino';
import { MarathonNode } from '../../../frameworks/marathon/node.js';
import { FakeDriver, offer } from './harness.js';

describe('marathon REST API v2 (in process, fake driver)', () => {
  let node: MarathonNode;
  let driver: FakeDriver;
  let base: string;
  const call = async (method: string, path: string, body?: unknown, raw?: string) => {
    const r = await fetch(`${base}${path}`, {
      method,
      headers: body !== undefined || raw !== undefined ? { 'content-type': 'application/json' } : {},
      body: raw ?? (body !== undefined ? JSON.stringify(body) : undefined),
    });
    const text = await r.text();
    return { status: r.status, headers: r.headers, body: text ? JSON.parse(text) : undefined };
  };
  const runAll = () => {
    for (const t of driver.tasks()) {
      const i = node.service?.scheduler.instances.get(t.task_id);
      if (i?.state === 'TASK_STAGING')
        driver.emit('update', { task_id: t.task_id, state: 'TASK_RUNNING', timestamp: 1, agent_id: 'a1' });
    }
  };

  beforeEach(async () => {
    node = new MarathonNode({
      store: new MemoryStore(),
      host: '127.0.0.1',
      port: 0,
      logger: pino({ level: 'silent' }),
      createDriver: () => {
        driver = new FakeDriver();
        return driver;
      },
    });
    await node.start();
    base = `http://127.0.0.1:${node.port}`;
    driver.emit('subscribed', { frameworkId: 'fw', masterInfo: {}, resubscribed: false });
  });
  afterEach(async () => node.close());

  it('POST /v2/apps answers 201 with Location and Marathon-Deployment-Id; GET filters by id, cmd and label', async () => {
    const r = await call('POST', '/v2/apps', {
      id: '/web/front',
      cmd: 'sleep 100',
      cpus: 0.1,
      mem: 16,
      instances: 2,
      labels: { tier: 'web' },
    });
    expect(r.status).to.equal(201);
    expect(r.headers.get('location')).to.equal('/v2/apps/web/front');
    expect(r.headers.get('marathon-deployment-id')).to.match(/^[0-9a-f-]{36}$/);
    expect(r.body.id).to.equal('/web/front');
    expect(r.body.mem).to.equal(16);
    await call('POST', '/v2/apps', { id: '/db', cmd: 'postgres', cpus: 0.1, mem: 16, labels: { tier: 'db' } });
    expect((await call('GET', '/v2/apps?id=web')).body.apps.map((a: { id: string }) => a.id)).to.deep.equal([
      '/web/front',
    ]);
    expect((await call('GET', '/v2/apps?cmd=postgres')).body.apps).to.have.length(1);
    expect((await call('GET', '/v2/apps?label=tier==db')).body.apps[0].id).to.equal('/db');
    expect((await call('GET', '/v2/apps?label=tier!=db')).body.apps[0].id).to.equal('/web/front');
    driver.emit('offers', [offer()]);
    runAll();
    const one = await call('GET', '/v2/apps/web/front?embed=app.tasks');
    expect(one.body.app.tasksRunning).to.equal(2);
    expect(one.body.app.tasks).to.have.length(2);
    const list = await call('GET', '/v2/apps?embed=apps.tasks&embed=apps.taskStats');
    expect(list.body.apps[0].tasks).to.be.an('array');
    expect(list.body.apps[0].taskStats.totalSummary.stats.counts).to.be.an('object');
    expect((await call('POST', '/v2/apps', { id: '/db', cmd: 'sleep 1' })).status).to.equal(409);
  });

  it("answers in Marathon's error shapes: 400 Invalid JSON, 422 with details, 404 unknown ids", async () => {
    const bad = await call('POST', '/v2/apps', undefined, '{"id": "/x",');
    expect(bad.status).to.equal(400);
    expect(bad.body.message).to.equal('Invalid JSON');
    const invalid = await call('POST', '/v2/apps', { id: '/x', cmd: 'a', args: ['b'] });
    expect(invalid.status).to.equal(422);
    expect(invalid.body.message).to.equal('Object is not valid');
    expect(invalid.body.details[0].path).to.equal('/');
    const neg = await call('POST', '/v2/apps', { id: '/x', cmd: 'a', cpus: -1 });
    expect(neg.status).to.equal(422);
    expect(neg.body.details.some((d: { path: string }) => d.path === '/cpus')).to.equal(true);
    expect((await call('GET', '/v2/apps/nope')).status).to.equal(404);
    expect((await call('DELETE', '/v2/apps/nope')).status).to.equal(404);
    expect((await call('GET', '/v2/deployments/nope')).status).to.equal(404);
    expect((await call('GET', '/v2/groups/nope')).status).to.equal(404);
    expect((await call('GET', '/v2/apps')).body.apps).to.have.length(0, 'nothing was created');
  });

  it('409 when the app is locked by a deployment (with its id), ?force=true overrides it', async () => {
    const first = await call('POST', '/v2/apps', { id: '/a', cmd: 'sleep 1', cpus: 0.1, mem: 16 });
    const locked = await call('PUT', '/v2/apps/a', { instances: 3 });
    expect(locked.status).to.equal(409);
    expect(locked.body.deployments).to.deep.equal([{ id: first.headers.get('marathon-deployment-id') }]);
    const forced = await call('PUT', '/v2/apps/a?force=true', { instances: 3 });
    expect(forced.status).to.equal(200);
    expect(forced.body.deploymentId).to.be.a('string');
    const deployments = (await call('GET', '/v2/deployments')).body;
    expect(deployments.map((d: { id: string }) => d.id)).to.deep.equal([forced.body.deploymentId]);
    expect(deployments[0].currentActions[0].waitingFor).to.match(/0 of 3/);
  });

  it('PUT is a partial update by default, keeps every version, and rolls back to one by its version', async () => {
    await call('POST', '/v2/apps', { id: '/p', cmd: 'sleep 1', cpus: 0.1, mem: 16, env: { A: '1' } });
    driver.emit('offers', [offer()]);
    runAll();
    const put = await call('PUT', '/v2/apps/p', { cmd: 'sleep 2' });
    expect(put.status).to.equal(200);
    const app = (await call('GET', '/v2/apps/p')).body.app;
    expect(app.cmd).to.equal('sleep 2');
    expect(app.env).to.deep.equal({ A: '1' });
    const versions = (await call('GET', '/v2/apps/p/versions')).body.versions;
    expect(versions).to.have.length(2);
    const v1 = (await call('GET', `/v2/apps/p/versions/${versions[1]}`)).body;
    expect(v1.cmd).to.equal('sleep 1');
    await call('PUT', '/v2/apps/p?force=true', { version: versions[1] });
    expect((await call('GET', '/v2/apps/p')).body.app.cmd).to.equal('sleep 1');
    const patched = await call('PATCH', '/v2/apps/p?force=true', { mem: 32 });
    expect(patched.status).to.equal(200);
    expect((await call('GET', '/v2/apps/p')).body.app.mem).to.equal(32);
  });

  it('groups: nested with dependencies, dryRun shows the plan, scaleBy scales, DELETE /v2/deployments rolls back', async () => {
    const group = {
      id: '/shop',
      groups: [
        { id: 'db', apps: [{ id: 'pg', cmd: 'pg', cpus: 0.1, mem: 16 }] },
        { id: 'web', dependencies: ['/shop/db'], apps: [{ id: 'front', cmd: 'front', cpus: 0.1, mem: 16 }] },
      ],
    };
    const dry = await call('POST', '/v2/groups?dryRun=true', group);
    expect(
      dry.body.steps.map((s: { actions: { action: string; app: string }[] }) =>
        s.actions.map((a) => `${a.action} ${a.app}`),
      ),
    ).to.deep.equal([
      ['StartApplication /shop/db/pg', 'StartApplication /shop/web/front'],
      ['ScaleApplication /shop/db/pg'],
      ['ScaleApplication /shop/web/front'],
    ]);
    expect((await call('GET', '/v2/apps')).body.apps).to.have.length(0, 'a dry run changes nothing');
    const created = await call('POST', '/v2/groups', group);
    expect(created.status).to.equal(201);
    driver.emit('offers', [offer()]);
    expect(driver.tasks().map((t) => t.task_id.split('.')[0])).to.deep.equal(['shop_db_pg'], 'the dependent waits');
    runAll();
    driver.emit('offers', [offer()]);
    runAll();
    expect((await call('GET', '/v2/deployments')).body).to.have.length(0);
    const scaled = await call('PUT', '/v2/groups/shop', { scaleBy: 3 });
    expect(scaled.status).to.equal(200);
    expect((await call('GET', '/v2/apps/shop/db/pg')).body.app.instances).to.equal(3);
    const rollback = await call('DELETE', `/v2/deployments/${scaled.body.deploymentId}`);
    expect(rollback.status).to.equal(200);
    expect((await call('GET', '/v2/apps/shop/db/pg')).body.app.instances).to.equal(1);
    const g = (await call('GET', '/v2/groups/shop')).body;
    expect(g.groups.map((x: { id: string }) => x.id)).to.deep.equal(['/shop/db', '/shop/web']);
    expect((await call('DELETE', '/v2/groups/shop?force=true')).status).to.equal(200);
  });

  it('/v2/queue says why an app waits (reasons, constraint, lastUnusedOffers); DELETE /v2/queue/{id}/delay clears a backoff', async () => {
    await call('POST', '/v2/apps', {
      id: '/q',
      cmd: 'sleep 1',
      cpus: 4,
      mem: 16,
      constraints: [['hostname', 'LIKE', 'gpu-.*']],
    });
    driver.emit('offers', [offer('a1', { hostname: 'gpu-1', cpus: 1 }), offer('a2', { hostname: 'cpu-1' })]);
    const q = (await call('GET', '/v2/queue')).body.queue;
    expect(q).to.have.length(1);
    const summary = q[0].processedOffersSummary;
    expect(summary.processedOffersCount).to.equal(2);
    const declined = Object.fromEntries(
      summary.rejectSummaryLastOffers.map((r: { reason: string; declined: number }) => [r.reason, r.declined]),
    );
    expect(declined.InsufficientCpus).to.equal(1);
    expect(declined.UnfulfilledConstraint).to.equal(1);
    expect(summary.unfulfilledConstraints).to.deep.equal({ 'hostname:LIKE:gpu-.*': 1 });
    expect(q[0].lastUnusedOffers).to.have.length(2);
    expect((await call('DELETE', '/v2/queue/q/delay')).status).to.equal(204);
    expect((await call('DELETE', '/v2/queue/none/delay')).status).to.equal(404);
  });

  it('tasks: list, kill with scale (a deployment), kill without (replaced)', async () => {
    await call('POST', '/v2/apps', { id: '/t', cmd: 'sleep 1', cpus: 0.1, mem: 16, instances: 3 });
    driver.emit('offers', [offer()]);
    runAll();
    const tasks = (await call('GET', '/v2/tasks')).body.tasks;
    expect(tasks).to.have.length(3);
    const del = await call('POST', '/v2/tasks/delete?scale=true', { ids: [tasks[0].id] });
    expect(del.body.deploymentId).to.be.a('string');
    expect((await call('GET', '/v2/apps/t')).body.app.instances).to.equal(2);
    expect(driver.killed).to.deep.equal([tasks[0].id]);
    const one = await call('DELETE', `/v2/apps/t/tasks/${tasks[1].id}`);
    expect(one.body.task.id).to.equal(tasks[1].id);
    expect((await call('GET', '/v2/apps/t')).body.app.instances).to.equal(2);
  });

  it('/ping, /v2/info, /v2/leader, /metrics', async () => {
    const ping = await fetch(`${base}/ping`);
    expect(await ping.text()).to.equal('pong');
    const info = (await call('GET', '/v2/info')).body;
    expect(info.name).to.equal('marathon');
    expect(info.elected).to.equal(true);
    expect((await call('GET', '/v2/leader')).body.leader).to.equal(`127.0.0.1:${node.port}`);
    expect((await call('GET', '/metrics')).body.gauges['marathon.apps.active.gauge'].value).to.equal(0);
  });

  it('/v2/events streams Marathon events to a plain HTTP client, filtered by event_type', async () => {
    const got: string[] = [];
    const req = http.get(`${base}/v2/events?event_type=deployment_success&event_type=status_update_event`, {
      headers: { accept: 'text/event-stream' },
    });
    const res = await new Promise<http.IncomingMessage>((r) => req.on('response', r));
    expect(res.headers['content-type']).to.equal('text/event-stream');
    res.setEncoding('utf8');
    let buf = '';
    res.on('data', (d: string) => {
      buf += d;
      for (let i = buf.indexOf('\n\n'); i >= 0; i = buf.indexOf('\n\n')) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const type = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (type && data) {
          expect(JSON.parse(data).eventType).to.equal(type);
          got.push(type);
        }
      }
    });
    await call('POST', '/v2/apps', { id: '/e', cmd: 'sleep 1', cpus: 0.1, mem: 16 });
    driver.emit('offers', [offer()]);
    runAll();
    // A bound so that a broken run stops (10 s), not a timing assertion: 1 s was short on a loaded machine.
    for (let i = 0; i < 500 && !got.includes('deployment_success'); i++) await new Promise((r) => setTimeout(r, 20));
    req.destroy();
    expect(got).to.deep.equal(['event_stream_attached', 'status_update_event', 'deployment_success']);
  });

  it('HEAD /v2/events answers the stream headers and ends (no body to wait for)', async () => {
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const req = http.request(`${base}/v2/events`, { method: 'HEAD', timeout: 5000 }, resolve);
      req.on('timeout', () => req.destroy(new Error('HEAD /v2/events did not answer within 5 s')));
      req.on('error', reject);
      req.end();
    });
    expect(res.statusCode).to.equal(200);
    expect(res.headers['content-type']).to.equal('text/event-stream');
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('HEAD /v2/events did not end within 5 s')), 5000);
      res.on('end', () => {
        clearTimeout(t);
        resolve();
      });
      res.resume();
    });
  });

  it('/v2/pods: a pod instance is one task group (LAUNCH_GROUP), its status follows its tasks, DELETE kills them', async () => {
    const pod = {
      id: '/pp',
      scaling: { kind: 'fixed', instances: 2 },
      containers: [
        { name: 'a', resources: { cpus: 0.1, mem: 16 }, exec: { command: { shell: 'sleep 100' } } },
        { name: 'b', resources: { cpus: 0.1, mem: 16 }, exec: { command: { shell: 'sleep 200' } } },
      ],
      networks: [{ mode: 'host' }],
    };
    const created = await call('POST', '/v2/pods', pod);
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    expect(created.headers.get('location')).to.equal('/v2/pods/pp');
    driver.emit('offers', [offer()]);
    expect(driver.groups).to.have.length(2);
    expect(driver.groups[0].tasks.map((t) => t.command?.value)).to.deep.equal(['sleep 100', 'sleep 200']);
    for (const g of driver.groups) {
      for (const t of g.tasks)
        driver.emit('update', { task_id: t.task_id, state: 'TASK_RUNNING', timestamp: 1, agent_id: 'a1' });
    }
    const st = (await call('GET', '/v2/pods/pp::status')).body;
    expect(st.status).to.equal('STABLE');
    expect(st.instances).to.have.length(2);
    expect(st.instances[0].containers.map((c: { status: string }) => c.status)).to.deep.equal([
      'TASK_RUNNING',
      'TASK_RUNNING',
    ]);
    expect((await call('GET', '/v2/deployments')).body).to.have.length(0);
    expect((await call('GET', '/v2/pods')).body.map((p: { id: string }) => p.id)).to.deep.equal(['/pp']);
    const del = await call('DELETE', '/v2/pods/pp');
    expect(del.status).to.equal(202);
    expect(driver.killed.sort()).to.deep.equal(driver.groups.flatMap((g) => g.tasks.map((t) => t.task_id)).sort());
  });

  it('/v2/pods: deployment actions named as Marathon names them (StartPod, ScalePod, `pod`), every version kept and readable', async () => {
    const pod = {
      id: '/pv',
      scaling: { kind: 'fixed', instances: 1 },
      containers: [{ name: 'a', resources: { cpus: 0.1, mem: 16 }, exec: { command: { shell: 'sleep 100' } } }],
      networks: [{ mode: 'host' }],
    };
    const created = await call('POST', '/v2/pods', pod);
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    const deps = (await call('GET', '/v2/deployments')).body;
    const actions = deps[0].steps.flatMap((st: { actions: unknown[] }) => st.actions);
    expect(actions).to.deep.include({ action: 'ScalePod', pod: '/pv' });
    expect(actions.every((a: { action: string }) => a.action.endsWith('Pod'))).to.equal(true);
    expect(deps[0].currentActions[0].pod).to.equal('/pv');
    const v1 = created.body.version;
    driver.emit('offers', [offer()]);
    for (const g of driver.groups)
      for (const t of g.tasks)
        driver.emit('update', { task_id: t.task_id, state: 'TASK_RUNNING', timestamp: 1, agent_id: 'a1' });
    const put = await call('PUT', '/v2/pods/pv', { ...pod, scaling: { kind: 'fixed', instances: 2 } });
    expect(put.status, JSON.stringify(put.body)).to.equal(200);
    const versions = (await call('GET', '/v2/pods/pv::versions')).body;
    expect(versions).to.have.length(2);
    expect(versions).to.include(v1);
    const old = await call('GET', `/v2/pods/pv::versions/${encodeURIComponent(v1)}`);
    expect(old.status).to.equal(200);
    expect(old.body.scaling.instances).to.equal(1);
    expect((await call('GET', '/v2/pods/pv::versions/2001-01-01T00:00:00.000Z')).status).to.equal(404);
  });

  it('PUT /v2/groups/{id} with a version rolls the group back; DELETE /v2/deployments/{id}?force=true only cancels (202)', async () => {
    await call('POST', '/v2/groups', { id: '/g', apps: [{ id: 'a', cmd: 'sleep 1', cpus: 0.1, mem: 16 }] });
    driver.emit('offers', [offer()]);
    runAll();
    const before = (await call('GET', '/v2/groups/g')).body.version;
    const scaled = await call('PUT', '/v2/groups/g', { scaleBy: 2 });
    expect((await call('GET', '/v2/apps/g/a')).body.app.instances).to.equal(2);
    const cancelled = await call('DELETE', `/v2/deployments/${scaled.body.deploymentId}?force=true`);
    expect(cancelled.status).to.equal(202);
    expect((await call('GET', '/v2/deployments')).body).to.have.length(0);
    expect((await call('GET', '/v2/apps/g/a')).body.app.instances).to.equal(2, 'a forced cancel keeps the target');
    const versions = (await call('GET', '/v2/groups/versions')).body;
    expect(versions).to.include(before);
    const back = await call('PUT', '/v2/groups/g?force=true', { version: before });
    expect(back.status, JSON.stringify(back.body)).to.equal(200);
    expect((await call('GET', '/v2/apps/g/a')).body.app.instances).to.equal(1);
  });
});
