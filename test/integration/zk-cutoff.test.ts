/**
 * A leading master cut off from ZooKeeper while agents and frameworks can still reach it: it must
 * stop leading (its session is gone, another master may be elected), the cluster must move to the
 * new leader with nothing lost, and when the link comes back the old master must stay a standby
 * and not overwrite what the new leader wrote (registrar fencing). The cut is a TCP relay between
 * that master and ZooKeeper that stops moving bytes without closing anything, as a dropped link.
 */
import { join } from 'node:path';
import { expect } from 'chai';
import type { MasterInfo } from '../../sdk/protocol/types.js';
import { ZkClient } from '../../sdk/zk/client.js';
import { MASTER_INFO_LABEL, sortedMembers } from '../../sdk/zk/election.js';
import {
  dumpProcessLogs,
  getJson,
  haMasterFlags,
  type MasterProc,
  sleep,
  startAgentProc,
  startMasterProc,
  stopAll,
  tempDir,
  waitFor,
} from '../support/cluster.js';
import { commandTask, TestFramework } from '../support/framework.js';
import { pidRunning, pidWritten } from '../support/proc-stat.js';
import { requireReal } from '../support/require-real.js';
import { TcpRelay } from '../support/tcp-relay.js';
import { TestZkServer, zookeeperAvailability } from '../support/zookeeper.js';

async function zkLeaderPort(servers: string, path: string): Promise<number | undefined> {
  const client = new ZkClient({ servers });
  try {
    await client.connect();
    const [first] = sortedMembers(await client.getChildren(path));
    if (!first?.startsWith(MASTER_INFO_LABEL)) return undefined;
    return (JSON.parse((await client.get(`${path}/${first}`)).data.toString()) as MasterInfo).port;
  } finally {
    await client.close();
  }
}

const leading = async (m: MasterProc): Promise<boolean> => (await getJson(`${m.url}/health`)).leading === true;

describe('a leader cut off from ZooKeeper but reachable by agents @integration', function () {
  this.timeout(180_000);
  let zk: TestZkServer;
  let relay: TcpRelay | undefined;
  const frameworks: TestFramework[] = [];

  before(async function () {
    requireReal(this, 'ZooKeeper', zookeeperAvailability());
    zk = await TestZkServer.start();
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed') dumpProcessLogs();
    await Promise.all(frameworks.splice(0).map((f) => f.driver.teardown()));
    await stopAll();
    await relay?.close();
    relay = undefined;
  });

  after(async () => {
    await zk?.destroy();
  });

  it('steps down, the other master takes over with the agent and the task, and after the link heals it stays a standby that overwrote nothing', async () => {
    const path = `/agora-zk-cutoff-${process.pid}`;
    relay = await TcpRelay.start(zk.port);
    const common = haMasterFlags(undefined);
    // The first master reaches ZooKeeper only through the relay; it is elected first.
    const cutOff = await startMasterProc(['--zk', `zk://127.0.0.1:${relay.port}${path}`, ...common]);
    await waitFor('the first master to lead', () => leading(cutOff), 30_000);
    const other = await startMasterProc(['--zk', zk.url(path), ...common]);
    const url = zk.url(path);
    await startAgentProc(url, ['--resources', 'cpus:2;mem:1024']);
    const f = await new TestFramework(url, 'cut-off').start();
    frameworks.push(f);
    const dir = tempDir('zk-cutoff');
    const [o] = await f.takeOffers();
    f.driver.launch(o, [commandTask(o, 'kept', `echo $$ > ${dir}/kept.pid; exec sleep 600`)]);
    await f.waitState('kept', 'TASK_RUNNING');
    const pid = await pidWritten(join(dir, 'kept.pid'));
    expect(await zkLeaderPort(zk.servers, path)).to.equal(cutOff.port);

    relay.cut();
    // Still reachable (its HTTP answers), but no longer leading.
    await waitFor('the cut-off master to step down', async () => !(await leading(cutOff)), 30_000);
    await waitFor('the other master to lead', () => leading(other), 30_000);
    await waitFor(
      'ZooKeeper to name the other master',
      async () => (await zkLeaderPort(zk.servers, path)) === other.port,
      30_000,
    );
    await waitFor(
      'the agent on the new leader',
      async () => (await getJson(`${other.url}/master/state`)).activated_slaves === 1,
      60_000,
    );
    const fid = f.driver.frameworkId;
    await waitFor(
      'the task RUNNING on the new leader',
      async () => {
        const st = await getJson(`${other.url}/master/state`);
        const fw = st.frameworks.find((x: { id: string }) => x.id === fid);
        return fw?.tasks.some((t: { id: string; state: string }) => t.id === 'kept' && t.state === 'TASK_RUNNING');
      },
      60_000,
    );
    expect(pidRunning(pid), 'the task process').to.equal(true);
    expect(await leading(cutOff), 'the cut-off master does not lead again while cut off').to.equal(false);

    // The new leader changes durable state; then the link heals.
    const weights = [{ role: 'after-cut', weight: 4 }];
    const put = await fetch(`${other.url}/weights`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(weights),
    });
    expect(put.status).to.equal(200);
    relay.heal();
    await sleep(5000);
    expect(await leading(cutOff), 'the healed master stays a standby').to.equal(false);
    expect(await leading(other)).to.equal(true);
    expect(await zkLeaderPort(zk.servers, path)).to.equal(other.port);
    // Nothing was overwritten by the old leader: the new leader's records stand.
    expect(await getJson(`${other.url}/weights`)).to.deep.equal(weights);
    const st = await getJson(`${other.url}/master/state`);
    expect(
      st.frameworks.find((x: { id: string }) => x.id === fid)?.tasks.map((t: { id: string }) => t.id),
    ).to.deep.equal(['kept']);
    expect(pidRunning(pid)).to.equal(true);
  });
});
