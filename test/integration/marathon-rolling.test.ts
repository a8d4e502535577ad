import http from 'node:http';
import { expect } from 'chai';
import {
  dumpProcessLogs,
  getJson,
  type MasterProc,
  startAgentProc,
  startMasterProc,
  stopAll,
  waitFor,
} from '../support/cluster.js';
import { httpApp, type MarathonProc, send, startMarathonProc } from './marathon-support.js';

describe('marathon rolling upgrade through real agents @integration', function () {
  this.timeout(90_000);
  let master: MasterProc;
  let marathon: MarathonProc;

  before(async () => {
    master = await startMasterProc(['--allocation_interval', '200ms']);
    for (let i = 0; i < 2; i++)
      await startAgentProc(master.address, ['--resources', 'cpus:4;mem:4096;ports:[33000-33999]']);
    marathon = await startMarathonProc(master.address);
  });
  afterEach(function () {
    if (this.currentTest?.state === 'failed') dumpProcessLogs();
  });
  after(() => stopAll());

  it('upgrades a 6-instance app with health checks, never below ceil(6 × 0.5) healthy, seen by a plain SSE client', async () => {
    const strategy = { upgradeStrategy: { minimumHealthCapacity: 0.5, maximumOverCapacity: 0 } };
    const created = await send(marathon.url, 'POST', '/v2/apps', httpApp('/roll', 6, { env: { V: '1' }, ...strategy }));
    expect(created.status).to.equal(201);
    const app = async () => (await getJson(`${marathon.url}/v2/apps/roll`)).app;
    await waitFor('6 healthy', async () => (await app()).tasksHealthy === 6, 45_000);

    // A plain HTTP client on /v2/events.
    const seen: { type: string; data: Record<string, unknown> }[] = [];
    const req = http.get(
      `${marathon.url}/v2/events?event_type=deployment_success&event_type=health_status_changed_event`,
      {
        headers: { accept: 'text/event-stream' },
      },
    );
    const res = await new Promise<http.IncomingMessage>((r) => req.on('response', r));
    res.setEncoding('utf8');
    let buf = '';
    res.on('data', (d: string) => {
      buf += d;
      for (let i = buf.indexOf('\n\n'); i >= 0; i = buf.indexOf('\n\n')) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const type = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (type && data) seen.push({ type, data: JSON.parse(data) });
      }
    });

    const upgrade = await send(marathon.url, 'PUT', '/v2/apps/roll', { env: { V: '2' } });
    expect(upgrade.status).to.equal(200);
    let minHealthy = 6;
    let samples = 0;
    let maxTasks = 0;
    for (;;) {
      const a = await app();
      samples++;
      minHealthy = Math.min(minHealthy, a.tasksHealthy);
      maxTasks = Math.max(maxTasks, a.tasks.length);
      if (a.deployments.length === 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const final = await app();
    req.destroy();
    expect(samples).to.be.greaterThan(5);
    expect(minHealthy).to.be.at.least(3);
    expect(maxTasks).to.be.at.most(6);
    expect(final.tasksHealthy).to.equal(6);
    expect(final.tasks.every((t: { version: string }) => t.version === final.versionInfo.lastConfigChangeAt)).to.equal(
      true,
    );
    // Evidence from outside Marathon: each task's port answers, and the master counts 6 running tasks.
    for (const t of final.tasks) expect((await fetch(`http://127.0.0.1:${t.ports[0]}/`)).status).to.equal(200);
    const st = await getJson(`${master.url}/master/state`);
    const fw = st.frameworks.find((f: { name: string }) => f.name === 'marathon');
    expect(fw.tasks.filter((t: { state: string }) => t.state === 'TASK_RUNNING')).to.have.length(6);
    const success = seen.find((e) => e.type === 'deployment_success' && e.data.id === upgrade.body.deploymentId);
    expect(success, `events seen: ${seen.map((e) => e.type).join(', ')}`).to.not.equal(undefined);
    expect(seen.some((e) => e.type === 'health_status_changed_event' && e.data.alive === true)).to.equal(true);
  });
});
