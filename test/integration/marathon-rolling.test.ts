import http from 'node:http';
import { expect } from 'chai';
import {
  dumpProcessLogs,
  freePortRun,
  getJson,
  type MasterProc,
  startAgentProc,
  startMasterProc,
  stopAll,
  waitFor,
} from '../support/cluster.js';
import { httpApp, type MarathonProc, send, startMarathonProc } from './marathon-support.js';

/** Ports each agent offers: both run on this one host, so their ranges must not overlap. */
const PORTS_PER_AGENT = 16;

/**
 * Whether the process serving a task's port is that task, asked from outside Marathon and the agents:
 * each task writes its own id into its sandbox (the server's directory) before it serves, so
 * `GET /id` on its port answers its id only when its own server holds the port.
 */
async function servesItself(t: { id: string; ports: number[] }): Promise<boolean> {
  try {
    const r = await fetch(`http://127.0.0.1:${t.ports[0]}/id`);
    return r.ok && (await r.text()) === t.id;
  } catch {
    return false;
  }
}

describe('marathon rolling upgrade through real agents @integration', function () {
  this.timeout(90_000);
  let master: MasterProc;
  let marathon: MarathonProc;

  before(async () => {
    master = await startMasterProc(['--allocation_interval', '200ms']);
    // Two agents on one host offering the same ports handed a port an old task still held to a new
    // task on the other agent: it failed to bind, yet the agent's check of 127.0.0.1:port, answered
    // by the old task, called it healthy, so Marathon killed an old instance for it (docs/marathon.md).
    const base = await freePortRun(2 * PORTS_PER_AGENT);
    for (let i = 0; i < 2; i++) {
      const from = base + i * PORTS_PER_AGENT;
      await startAgentProc(master.address, [
        '--resources',
        `cpus:4;mem:4096;ports:[${from}-${from + PORTS_PER_AGENT - 1}]`,
      ]);
    }
    marathon = await startMarathonProc(master.address);
  });
  afterEach(function () {
    if (this.currentTest?.state === 'failed') dumpProcessLogs();
  });
  after(() => stopAll());

  it('upgrades a 6-instance app with health checks, never below ceil(6 × 0.5) healthy, seen by a plain SSE client', async () => {
    const strategy = { upgradeStrategy: { minimumHealthCapacity: 0.5, maximumOverCapacity: 0 } };
    const cmd = 'printf %s "$MESOS_TASK_ID" > id && exec python3 -m http.server $PORT0 --bind 127.0.0.1';
    const created = await send(
      marathon.url,
      'POST',
      '/v2/apps',
      httpApp('/roll', 6, { cmd, env: { V: '1' }, ...strategy }),
    );
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
    let minServing = 6;
    let samples = 0;
    let maxTasks = 0;
    for (;;) {
      const a = await app();
      samples++;
      minHealthy = Math.min(minHealthy, a.tasksHealthy);
      maxTasks = Math.max(maxTasks, a.tasks.length);
      // The truth from outside: how many of the app's tasks answer on their own ports as themselves.
      const serving = (await Promise.all(a.tasks.map(servesItself))).filter(Boolean).length;
      minServing = Math.min(minServing, serving);
      if (a.deployments.length === 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const final = await app();
    req.destroy();
    expect(samples).to.be.greaterThan(5);
    expect(minServing, 'tasks serving as themselves, fewest seen').to.be.at.least(3);
    expect(minHealthy, 'tasksHealthy in /v2/apps, fewest seen').to.be.at.least(3);
    expect(maxTasks).to.be.at.most(6);
    expect(final.tasksHealthy).to.equal(6);
    expect(final.tasks.every((t: { version: string }) => t.version === final.versionInfo.lastConfigChangeAt)).to.equal(
      true,
    );
    // Evidence from outside Marathon: each task's port answers with its own id, and the master counts 6 running tasks.
    for (const t of final.tasks) expect(await servesItself(t), `${t.id} on port ${t.ports[0]}`).to.equal(true);
    const st = await getJson(`${master.url}/master/state`);
    const fw = st.frameworks.find((f: { name: string }) => f.name === 'marathon');
    expect(fw.tasks.filter((t: { state: string }) => t.state === 'TASK_RUNNING')).to.have.length(6);
    const success = seen.find((e) => e.type === 'deployment_success' && e.data.id === upgrade.body.deploymentId);
    expect(success, `events seen: ${seen.map((e) => e.type).join(', ')}`).to.not.equal(undefined);
    expect(seen.some((e) => e.type === 'health_status_changed_event' && e.data.alive === true)).to.equal(true);
  });
});
