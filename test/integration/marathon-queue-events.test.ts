/**
 * What the checkers look at, through a real master, a real agent and a real Marathon:
 * `/v2/queue` and `/v2/deployments` for an app whose constraint no agent meets, and a rolling
 * restart watched by a plain HTTP client on `/v2/events`.
 */
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
import { type MarathonProc, send, startMarathonProc } from './marathon-support.js';

describe('marathon /v2/queue, /v2/deployments and /v2/events through a real cluster @integration', function () {
  this.timeout(180_000);
  let master: MasterProc;
  let marathon: MarathonProc;

  before(async () => {
    master = await startMasterProc(['--allocation_interval', '200ms']);
    // Ports no other test run on this host is handed at the same time (a fixed range was shared).
    const ports = await freePortRun(64);
    await startAgentProc(master.address, ['--resources', `cpus:2;mem:1024;ports:[${ports}-${ports + 63}]`]);
    marathon = await startMarathonProc(master.address);
  });
  afterEach(function () {
    if (this.currentTest?.state === 'failed') dumpProcessLogs();
  });
  after(() => stopAll());

  it('an unmeetable constraint: /v2/queue names it with counts and lastUnusedOffers, /v2/deployments says why', async () => {
    const created = await send(marathon.url, 'POST', '/v2/apps', {
      id: '/nowhere',
      cmd: 'sleep 1000',
      cpus: 0.05,
      mem: 16,
      constraints: [['hostname', 'LIKE', 'nowhere']],
    });
    expect(created.status).to.equal(201);
    // biome-ignore lint/suspicious/noExplicitAny: JSON read field by field
    let entry: any;
    await waitFor('the queue to count rejected offers', async () => {
      const q = await getJson(`${marathon.url}/v2/queue`);
      entry = q.queue.find((e: { app?: { id: string } }) => e.app?.id === '/nowhere');
      return (entry?.processedOffersSummary?.unfulfilledConstraints?.['hostname:LIKE:nowhere'] ?? 0) > 0;
    });
    expect(entry.count).to.equal(1);
    const s = entry.processedOffersSummary;
    expect(s.processedOffersCount).to.be.greaterThan(0);
    expect(s.unusedOffersCount).to.be.greaterThan(0);
    const byReason = Object.fromEntries(
      s.rejectSummaryLastOffers.map((r: { reason: string; declined: number }) => [r.reason, r.declined]),
    );
    expect(byReason.UnfulfilledConstraint).to.be.greaterThan(0);
    expect(entry.lastUnusedOffers.length).to.be.greaterThan(0);
    expect(entry.lastUnusedOffers[0].reason).to.include('hostname:LIKE:nowhere');
    const deps = await getJson(`${marathon.url}/v2/deployments`);
    const d = deps.find((x: { id: string }) => x.id === created.body.deployments?.[0]?.id) ?? deps[0];
    expect(d.currentActions[0].waitingFor).to.match(/UnfulfilledConstraint \d+.*hostname:LIKE:nowhere/);
    // Evidence from the master: nothing of this app was launched.
    const st = await getJson(`${master.url}/master/state`);
    const fw = st.frameworks.find((f: { name: string }) => f.name === 'marathon');
    expect(fw.tasks.filter((t: { name: string }) => t.name === 'nowhere')).to.have.length(0);
    await send(marathon.url, 'DELETE', '/v2/apps/nowhere?force=true');
  });

  it('a rolling restart seen by a plain SSE client: deployment_info, status updates, step successes, deployment_success', async () => {
    const created = await send(marathon.url, 'POST', '/v2/apps', {
      id: '/roll',
      cmd: 'sleep 1000',
      cpus: 0.05,
      mem: 16,
      instances: 2,
    });
    expect(created.status).to.equal(201);
    await waitFor('2 running', async () => (await getJson(`${marathon.url}/v2/apps/roll`)).app.tasksRunning === 2);
    const seen: { type: string; data: Record<string, unknown> }[] = [];
    const req = http.get(`${marathon.url}/v2/events`, { headers: { accept: 'text/event-stream' } });
    const res = await new Promise<http.IncomingMessage>((r) => req.on('response', r));
    expect(res.headers['content-type']).to.match(/^text\/event-stream/);
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
    await waitFor('attached', async () => seen.some((e) => e.type === 'event_stream_attached'));
    const restart = await send(marathon.url, 'POST', '/v2/apps/roll/restart');
    expect(restart.status).to.equal(200);
    const id = restart.body.deploymentId;
    await waitFor('deployment_success', async () =>
      seen.some((e) => e.type === 'deployment_success' && e.data.id === id),
    );
    req.destroy();
    const mine = seen.filter(
      (e) =>
        ((e.data.plan as { id?: string } | undefined)?.id ?? e.data.id) === id ||
        (e.type === 'status_update_event' && e.data.appId === '/roll'),
    );
    const types = mine.map((e) => e.type);
    const order = types.join(', ');
    expect(types[0], order).to.equal('deployment_info');
    expect(types.at(-1), order).to.equal('deployment_success');
    const firstUpdate = types.indexOf('status_update_event');
    const lastStep = types.lastIndexOf('deployment_step_success');
    expect(firstUpdate, order).to.be.greaterThan(0);
    expect(lastStep, order).to.be.greaterThan(firstUpdate);
    expect(types.filter((t) => t === 'status_update_event').length, order).to.be.at.least(4); // 2 killed, 2 running
    const states = mine.filter((e) => e.type === 'status_update_event').map((e) => e.data.taskStatus);
    expect(states).to.include('TASK_KILLED');
    expect(states).to.include('TASK_RUNNING');
  });
});
