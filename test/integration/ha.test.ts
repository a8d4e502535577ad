/**
 * High availability on a real ZooKeeper, with real processes killed by SIGKILL: the leading
 * master, the ZooKeeper server, an agent, a framework. Nothing may be lost or run twice.
 */

import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import type { MasterInfo, Offer, TaskInfo, TaskState } from '../../sdk/protocol/types.js';
import { Resources } from '../../sdk/resources/resources.js';
import { ZkClient } from '../../sdk/zk/client.js';
import { MASTER_INFO_LABEL, sortedMembers } from '../../sdk/zk/election.js';
import {
  type AgentProc,
  dumpProcessLogs,
  getJson,
  haMasterFlags,
  leaderOf,
  type MasterProc,
  REPO_ROOT,
  sleep,
  startAgentProc,
  startMasterProc,
  stopAll,
  tempDir,
  waitFor,
} from '../support/cluster.js';
import { commandTask, TestFramework } from '../support/framework.js';
import { pidRunning } from '../support/proc-stat.js';
import { requireReal } from '../support/require-real.js';
import { TestZkServer, zookeeperAvailability } from '../support/zookeeper.js';

const RETRY_STATES: ReadonlySet<TaskState> = new Set([
  'TASK_LOST',
  'TASK_GONE',
  'TASK_UNKNOWN',
  'TASK_DROPPED',
  'TASK_ERROR',
]);

/** The leader according to ZooKeeper itself: the first election node's MasterInfo and owning session. */
async function zkLeader(servers: string, url: string): Promise<{ info: MasterInfo; session?: string } | undefined> {
  const client = new ZkClient({ servers });
  try {
    await client.connect();
    const path = new URL(url.replace('zk://', 'http://')).pathname;
    const [first] = sortedMembers(await client.getChildren(path));
    if (!first?.startsWith(MASTER_INFO_LABEL)) return undefined;
    const node = await client.get(`${path}/${first}`);
    return { info: JSON.parse(node.data.toString()) as MasterInfo, session: node.stat.ephemeralOwner };
  } finally {
    await client.close();
  }
}

/** A command that records its own launch and pid in `dir` (evidence the tasks write themselves). */
function selfReporting(dir: string, id: string, then: string): string {
  return `echo ${id} >> ${dir}/launches.log; echo $$ > ${dir}/${id}.pid; ${then}`;
}

/**
 * The pid the task wrote, once it has written it: TASK_RUNNING comes when the agent has started
 * the shell, which may not have run its `echo $$` yet on a loaded machine (the file is then
 * missing, or created and still empty).
 */
async function pidOf(dir: string, id: string): Promise<number> {
  return waitFor(`task ${id} to write its pid in ${dir}/${id}.pid`, () => {
    const m = /^(\d+)\n$/.exec(readFileSync(join(dir, `${id}.pid`), 'utf8'));
    return m ? Number(m[1]) : undefined;
  });
}

describe('high availability on a real ZooKeeper (SIGKILL) @integration', function () {
  this.timeout(360_000);
  let zk: TestZkServer;
  let n = 0;
  const frameworks: TestFramework[] = [];

  before(async function () {
    requireReal(this, 'ZooKeeper', zookeeperAvailability());
    zk = await TestZkServer.start();
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed') dumpProcessLogs();
    await Promise.all(frameworks.splice(0).map((f) => f.driver.stop()));
    await stopAll();
  });

  after(async () => {
    await zk?.destroy();
  });

  async function cluster(
    masterCount: number,
    agentCount: number,
    masterExtra: string[] = [],
    agentResources = 'cpus:8;mem:8192',
  ) {
    const url = zk.url(`/agora-ha-${process.pid}-${++n}`);
    // The masters start side by side (they elect one through ZooKeeper), then the agents side by side.
    const masters: MasterProc[] = await Promise.all(
      Array.from({ length: masterCount }, () => startMasterProc([...haMasterFlags(url), ...masterExtra])),
    );
    const leader = await leaderOf(masters);
    const agents: AgentProc[] = await Promise.all(
      Array.from({ length: agentCount }, () => startAgentProc(url, ['--resources', agentResources])),
    );
    return { url, masters, leader, agents };
  }

  it('kills the leading master mid-flight: a new leader, everything reconnects, 20 long tasks still RUNNING, 200 short ones each ended once, none launched twice', async () => {
    const { url, masters } = await cluster(3, 2);
    const launches = join(tempDir('launches'), 'launches.log');
    writeFileSync(launches, '');
    const f = new TestFramework(url, 'ha-workload');
    frameworks.push(f);
    const longIds = Array.from({ length: 20 }, (_, i) => `long-${i}`);
    const shortIds = Array.from({ length: 200 }, (_, i) => `short-${i}`);
    const queue = [...longIds, ...shortIds];
    const inFlight = new Map<string, number>(); // task id → time launched or last heard of
    const finished = new Set<string>();
    const need = Resources.parse('cpus:0.05;mem:16');
    const task = (o: Offer, id: string): TaskInfo =>
      commandTask(
        o,
        id,
        `echo ${id} >> ${launches}; ${id.startsWith('long') ? 'sleep 600' : 'sleep 0.3'}`,
        'cpus:0.05;mem:16',
      );
    f.driver.on('offers', (offers) => {
      f.offers.length = 0;
      for (const o of offers) {
        let free = Resources.from(o.resources);
        const tasks: TaskInfo[] = [];
        while (queue.length > 0 && tasks.length < 25 && free.contains(need)) {
          const id = queue.shift() as string;
          tasks.push(task(o, id));
          inFlight.set(id, Date.now());
          free = free.minus(need);
        }
        if (tasks.length > 0) f.driver.launch(o, tasks, { refuse_seconds: 0 });
        else f.driver.decline([o.id], { refuse_seconds: 1 });
      }
    });
    f.driver.on('update', (s) => {
      if (s.state === 'TASK_FINISHED') {
        finished.add(s.task_id);
        inFlight.delete(s.task_id);
      } else if (RETRY_STATES.has(s.state) && inFlight.has(s.task_id)) {
        // The master never ran it (e.g. an ACCEPT lost with the old leader): launch it again.
        inFlight.delete(s.task_id);
        queue.push(s.task_id);
      } else if (inFlight.has(s.task_id)) {
        inFlight.set(s.task_id, Date.now());
      }
    });
    // Tasks not heard of for a while are reconciled; an answer of LOST/GONE re-queues them.
    const reconciler = setInterval(() => {
      const stale = [...inFlight].filter(([, t]) => Date.now() - t > 3000).map(([task_id]) => ({ task_id }));
      if (stale.length > 0 && f.driver.subscribed) f.driver.reconcile(stale);
    }, 1000);
    try {
      await f.start();
      const fid = f.driver.frameworkId;
      await waitFor('40 short tasks finished', () => finished.size >= 40, 60_000);
      // The one killed is the leader, by ZooKeeper's word and its own, right before the kill (asked
      // now, not at the start: a loaded machine may have let a 2 s session lapse and re-elected).
      const victim = await leaderOf(masters);
      expect((await zkLeader(zk.servers, url))?.info.port, 'ZooKeeper names the victim leader').to.equal(victim.port);
      expect((await getJson(`${victim.url}/health`)).leading, 'the victim says it leads').to.equal(true);
      await victim.proc.kill('SIGKILL');
      expect(victim.proc.exited?.signal, 'the victim died of SIGKILL').to.equal('SIGKILL');
      const rest = masters.filter((m) => m !== victim);
      const next = await leaderOf(rest);
      await waitFor(
        'ZooKeeper to name a surviving master',
        async () => (await zkLeader(zk.servers, url))?.info.port === next.port,
        30_000,
      );
      expect(next.port).to.not.equal(victim.port);
      await waitFor(
        'both agents re-registered with the new leader',
        async () => (await getJson(`${next.url}/master/state`)).activated_slaves === 2,
        60_000,
      );
      await waitFor('all 200 short tasks FINISHED', () => shortIds.every((id) => finished.has(id)), 120_000);
      expect(f.driver.frameworkId, 'the framework kept its id').to.equal(fid);
      await waitFor('all 20 long tasks RUNNING on the new leader', async () => {
        const st = await getJson(`${next.url}/master/state`);
        const fw = st.frameworks.find((x: { id: string }) => x.id === fid);
        return (
          fw?.tasks.filter((t: { state: string; id: string }) => t.state === 'TASK_RUNNING' && t.id.startsWith('long'))
            .length === 20
        );
      });
      // None launched twice: each id ran its command exactly once.
      const lines = readFileSync(launches, 'utf8').trim().split('\n');
      const counts = new Map<string, number>();
      for (const l of lines) counts.set(l, (counts.get(l) ?? 0) + 1);
      const history = (id: string) =>
        f.updates
          .filter((u) => u.task_id === id)
          .map((u) => `${u.state}/${u.source ?? ''}/${u.reason ?? ''}/${u.message ?? ''}`)
          .join(' | ');
      for (const id of [...shortIds, ...longIds]) expect(counts.get(id), `${id}: ${history(id)}`).to.equal(1);
      // No short task produced two terminal updates (redeliveries carry the same uuid).
      // Answers to this test's own reconciliation of stale tasks repeat the state without a uuid
      // (REASON_RECONCILIATION, as Mesos): they are the master's word, not a second update.
      for (const id of shortIds) {
        const terminal = f.updates.filter(
          (u) => u.task_id === id && u.state === 'TASK_FINISHED' && u.reason !== 'REASON_RECONCILIATION',
        );
        // At most one: the agent's own update may still be on its way when the reconciliation answer
        // (which the driver now asks for after every re-subscription) already told of the end.
        expect(new Set(terminal.map((u) => u.uuid)).size, id).to.be.at.most(1);
      }
      // The standby masters redirect to the leader; the leader's MasterInfo is in ZooKeeper.
      const standby = rest.find((m) => m !== next) as MasterProc;
      const r = await fetch(`${standby.url}/master/state`, { redirect: 'manual' });
      expect(r.status).to.equal(307);
      expect(r.headers.get('location')).to.equal(`http://127.0.0.1:${next.port}/master/state`);
      const client = new ZkClient({ servers: zk.servers });
      try {
        await client.connect();
        const path = new URL(url.replace('zk://', 'http://')).pathname;
        const [first] = sortedMembers(await client.getChildren(path));
        expect(first.startsWith(MASTER_INFO_LABEL)).to.equal(true);
        const info = JSON.parse((await client.get(`${path}/${first}`)).data.toString()) as MasterInfo;
        expect(info.port).to.equal(next.port);
        expect(info.address).to.deep.include({ ip: '127.0.0.1', port: next.port });
        const st = await getJson(`${next.url}/master/state`);
        expect(st.leader).to.equal(info.pid);
      } finally {
        await client.close();
      }
    } finally {
      clearInterval(reconciler);
    }
  });

  it('restarts the ZooKeeper server after an outage longer than the session timeout: sessions expire, a leader is elected again, nothing is lost', async () => {
    const { url, masters } = await cluster(2, 1);
    const dir = tempDir('zk-restart');
    writeFileSync(join(dir, 'launches.log'), '');
    const f = await new TestFramework(url, 'zk-restart').start();
    frameworks.push(f);
    const [o] = await f.takeOffers();
    f.driver.launch(o, [
      commandTask(o, 'keeper-1', selfReporting(dir, 'keeper-1', 'exec sleep 600')),
      commandTask(o, 'keeper-2', selfReporting(dir, 'keeper-2', 'exec sleep 600')),
    ]);
    await f.waitState('keeper-1', 'TASK_RUNNING');
    await f.waitState('keeper-2', 'TASK_RUNNING');
    const pids = [await pidOf(dir, 'keeper-1'), await pidOf(dir, 'keeper-2')];
    const before = await zkLeader(zk.servers, url);
    expect(before?.session, 'the leader holds an ephemeral election node').to.be.a('string');
    await zk.stop();
    // Longer than the 2 s session timeout: every master's session ends, so none may go on leading.
    await waitFor(
      'no master leading while ZooKeeper is down',
      async () => {
        for (const m of masters) if ((await getJson(`${m.url}/health`)).leading) return false;
        return true;
      },
      30_000,
    );
    await sleep(3000);
    for (const m of masters) expect((await getJson(`${m.url}/health`)).leading, m.url).to.equal(false);
    await zk.start();
    const leader = await leaderOf(masters);
    const after = await waitFor(
      'ZooKeeper to name the leader again',
      async () => {
        const l = await zkLeader(zk.servers, url);
        return l?.info.port === leader.port ? l : undefined;
      },
      60_000,
    );
    expect(after.session, 'the leader was elected again, on a new session').to.not.equal(before?.session);
    await waitFor(
      'agent back on the leader',
      async () => (await getJson(`${leader.url}/master/state`)).activated_slaves === 1,
      60_000,
    );
    await waitFor('framework re-subscribed', () => f.driver.subscribed, 60_000);
    await waitFor(
      'both tasks RUNNING on the leader',
      async () => {
        const st = await getJson(`${leader.url}/master/state`);
        const fw = st.frameworks.find((x: { id: string }) => x.id === f.driver.frameworkId);
        return fw?.tasks.filter((t: { state: string }) => t.state === 'TASK_RUNNING').length === 2;
      },
      60_000,
    );
    expect(f.updates.filter((u) => u.state !== 'TASK_RUNNING' && u.state !== 'TASK_STARTING')).to.deep.equal([]);
    // Nothing lost, nothing run twice: the same two processes, each launched once.
    for (const pid of pids) expect(pidRunning(pid), `task pid ${pid}`).to.equal(true);
    expect(readFileSync(join(dir, 'launches.log'), 'utf8').trim().split('\n').sort()).to.deep.equal([
      'keeper-1',
      'keeper-2',
    ]);
    // And new work runs, on an offer from the leader now.
    const [o2] = await f.takeOffers(1, 30_000);
    f.driver.launch(o2, [commandTask(o2, 'after-restart', 'true')]);
    await f.waitState('after-restart', 'TASK_FINISHED', 30_000);
  });

  it('an agent killed and not restarted: its tasks are reported lost after the ping timeouts, and the state says so', async () => {
    const { url, leader, agents } = await cluster(2, 1, [
      // 5 pings of 500 ms: not so tight that a live agent starved of CPU is marked unreachable.
      '--agent_ping_timeout',
      '500ms',
      '--max_agent_ping_timeouts',
      '5',
    ]);
    const f = await new TestFramework(url, 'agent-dies').start();
    frameworks.push(f);
    const [o] = await f.takeOffers();
    f.driver.launch(o, [commandTask(o, 'doomed', 'sleep 600')]);
    await f.waitState('doomed', 'TASK_RUNNING');
    await agents[0].proc.kill('SIGKILL');
    const lost = await f.waitState('doomed', 'TASK_LOST', 30_000);
    expect(lost.reason).to.equal('REASON_AGENT_UNREACHABLE');
    const st = await getJson(`${leader.url}/master/state`);
    expect(st.unreachable_slaves).to.equal(1);
    expect(st.unreachable_agents[0].id).to.equal(o.agent_id);
  });

  it('a framework process killed and restarted with its framework id gets its tasks back through reconciliation', async () => {
    const { url, leader } = await cluster(1, 1);
    const script = join(REPO_ROOT, 'dist/test/support/sleepy-framework.js');
    const child = spawn(process.execPath, [script, url, '5'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d.toString();
    });
    try {
      await waitFor('5 tasks running in the framework process', () => out.includes('RUNNING=5'), 60_000);
      const fid = /FRAMEWORK_ID=(\S+)/.exec(out)?.[1] as string;
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      const again = await new TestFramework(url, 'sleepy', { id: fid, failover_timeout: 600 }).start();
      frameworks.push(again);
      expect(again.driver.frameworkId).to.equal(fid);
      again.driver.reconcile();
      await waitFor('5 RUNNING answers', () => again.updates.filter((u) => u.state === 'TASK_RUNNING').length >= 5);
      expect(new Set(again.updates.map((u) => u.task_id))).to.deep.equal(
        new Set(['sleepy-0', 'sleepy-1', 'sleepy-2', 'sleepy-3', 'sleepy-4']),
      );
      const st = await getJson(`${leader.url}/master/state`);
      expect(st.frameworks.find((x: { id: string }) => x.id === fid).tasks).to.have.length(5);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('tears a framework down (killing its tasks) once it stays away past its failover_timeout, and refuses that id afterwards', async () => {
    const { url, leader } = await cluster(1, 1);
    const f = await new TestFramework(url, 'short-lived', { failover_timeout: 1 }).start();
    const dir = tempDir('teardown');
    const [o] = await f.takeOffers();
    f.driver.launch(o, [commandTask(o, 'orphaned', selfReporting(dir, 'orphaned', 'exec sleep 600'))]);
    await f.waitState('orphaned', 'TASK_RUNNING');
    const pid = await pidOf(dir, 'orphaned');
    expect(pidRunning(pid), 'the task runs before the teardown').to.equal(true);
    const fid = f.driver.frameworkId as string;
    await f.driver.stop();
    await waitFor(
      'framework torn down',
      async () => {
        const st = await getJson(`${leader.url}/master/state`);
        return st.completed_frameworks.some((x: { id: string }) => x.id === fid);
      },
      20_000,
    );
    // Its task was killed on the agent: the process it started is gone (from /proc, not the master).
    await waitFor('the torn-down task process to be gone', () => !pidRunning(pid), 20_000);
    const back = new TestFramework(url, 'short-lived', { id: fid });
    frameworks.push(back);
    back.driver.start();
    await waitFor('an error refusing the torn-down id', () => back.errors.length > 0);
    expect(back.errors[0].code).to.equal('AGORA_MASTER_FRAMEWORK_REMOVED');
  });
});
