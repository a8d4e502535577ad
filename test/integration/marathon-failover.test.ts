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
import { requireReal } from '../support/require-real.js';
import { TestZkServer, zookeeperAvailability } from '../support/zookeeper.js';
import { httpApp, type MarathonProc, send, startMarathonProc } from './marathon-support.js';

describe('marathon leader failover in the middle of a deployment @integration', function () {
  this.timeout(300_000);
  let zk: TestZkServer | undefined;
  let master: MasterProc;
  const marathons: MarathonProc[] = [];

  before(async function () {
    requireReal(this, 'ZooKeeper', zookeeperAvailability());
    zk = await TestZkServer.start();
    master = await startMasterProc(['--allocation_interval', '200ms']);
    // Ports no other test run on this host is handed at the same time (a fixed range was shared).
    const ports = await freePortRun(64);
    await startAgentProc(master.address, ['--resources', `cpus:4;mem:4096;ports:[${ports}-${ports + 63}]`]);
    const flags = ['--zk', zk.url('/marathon'), '--zk_session_timeout', '3secs'];
    marathons.push(await startMarathonProc(master.address, flags, false));
    marathons.push(await startMarathonProc(master.address, flags, false));
  });
  afterEach(function () {
    if (this.currentTest?.state === 'failed') dumpProcessLogs();
  });
  after(async () => {
    await stopAll();
    await zk?.destroy();
  });

  it('a SIGKILLed leader is replaced; the new one resumes the deployment, which completes with nothing lost or doubled', async () => {
    const leaderOf = async () => (await getJson(`${marathons[0].url}/v2/leader`)).leader as string;
    await waitFor('a leader', async () => (await send(marathons[0].url, 'GET', '/v2/leader')).status === 200, 30_000);
    const leaderAddr = await leaderOf();
    const leader = marathons.find((m) => leaderAddr.endsWith(`:${m.port}`)) as MarathonProc;
    const other = marathons.find((m) => m !== leader) as MarathonProc;
    // The non-leader proxies to the leader.
    const created = await send(
      other.url,
      'POST',
      '/v2/apps',
      httpApp('/ha', 4, { upgradeStrategy: { minimumHealthCapacity: 1, maximumOverCapacity: 0.25 } }),
    );
    expect(created.status).to.equal(201);
    await waitFor('4 healthy', async () => (await getJson(`${other.url}/v2/apps/ha`)).app.tasksHealthy === 4, 45_000);
    const restart = await send(other.url, 'POST', '/v2/apps/ha/restart');
    expect(restart.status).to.equal(200);
    // In the middle: the first new instance is up, the deployment is not done.
    await waitFor('the restart under way', async () => {
      const a = (await getJson(`${other.url}/v2/apps/ha`)).app;
      return (
        a.tasks.some((t: { version: string }) => t.version === a.versionInfo.lastConfigChangeAt) &&
        a.deployments.length > 0
      );
    });
    await leader.proc.kill('SIGKILL');
    await waitFor('the other to lead', async () => (await getJson(`${other.url}/v2/info`)).elected === true, 30_000);
    // Nothing progressed without a leader: the new one found the deployment in storage.
    const found = (await getJson(`${other.url}/v2/deployments`)).map((d: { id: string }) => d.id);
    expect(found).to.deep.equal([restart.body.deploymentId]);
    await waitFor(
      'the resumed deployment to finish',
      async () => (await getJson(`${other.url}/v2/deployments`)).length === 0,
      60_000,
    );
    const app = (await getJson(`${other.url}/v2/apps/ha`)).app;
    expect(app.tasksHealthy).to.equal(4);
    expect(app.tasks.every((t: { version: string }) => t.version === app.versionInfo.lastConfigChangeAt)).to.equal(
      true,
    );
    // From the master: the same framework (re-subscribed with its stored id), exactly 4 running tasks.
    await waitFor('old tasks gone at the master', async () => {
      const st = await getJson(`${master.url}/master/state`);
      const fws = st.frameworks.filter((f: { name: string }) => f.name === 'marathon');
      return (
        fws.length === 1 &&
        fws[0].tasks.filter((t: { state: string }) => t.state === 'TASK_RUNNING').length === 4 &&
        fws[0].tasks.length === 4
      );
    });
    const st = await getJson(`${master.url}/master/state`);
    const fw = st.frameworks.find((f: { name: string }) => f.name === 'marathon');
    expect(fw.id).to.equal((await getJson(`${other.url}/v2/info`)).frameworkId);
    expect(fw.tasks.map((t: { id: string }) => t.id).sort()).to.deep.equal(
      app.tasks.map((t: { id: string }) => t.id).sort(),
    );
    // DELETE /v2/leader: the leader abdicates; alone, it is elected again and keeps the app.
    expect((await send(other.url, 'DELETE', '/v2/leader')).body).to.deep.equal({ message: 'Leadership abdicated' });
    await waitFor('re-elected', async () => (await getJson(`${other.url}/v2/info`)).elected === true, 30_000);
    await waitFor('the app as it was', async () => (await getJson(`${other.url}/v2/apps/ha`)).app.tasksRunning === 4);
  });
});
