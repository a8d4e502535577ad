/**
 * Agents the master cannot hear from although nothing crashed: an agent process stopped with
 * SIGSTOP (its connection stays open, it just stops answering), and an agent on a test host of
 * its own (a network namespace) whose link is cut and then healed. Both are marked unreachable;
 * when they come back, the master kills the tasks of frameworks that are not partition-aware
 * (they were told TASK_LOST) and keeps those of partition-aware ones (told TASK_UNREACHABLE,
 * then RUNNING again). Evidence of what ran is taken from the tasks' own pid files and /proc.
 */
import { readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import {
  dumpProcessLogs,
  freePort,
  getJson,
  killTasksUnder,
  type MasterProc,
  type Proc,
  startAgentProc,
  startMasterProc,
  stopAll,
  tempDir,
  waitFor,
} from '../support/cluster.js';
import { commandTask, TestFramework } from '../support/framework.js';
import { netnsAvailability, TestHost } from '../support/netns.js';
import { pidRunning, procState } from '../support/proc-stat.js';
import { requireReal } from '../support/require-real.js';

// An agent silent for 5 pings of 500 ms is unreachable: fast, yet not so tight that an agent
// starved of CPU for a second on a loaded CI machine is marked unreachable before the cut.
const FAST_PINGS = [
  '--agent_ping_timeout',
  '500ms',
  '--max_agent_ping_timeouts',
  '5',
  '--allocation_interval',
  '200ms',
];

/** A task that writes its pid to `<dir>/<id>.pid`, then sleeps. */
function pidTask(dir: string, id: string): string {
  return `echo $$ > ${dir}/${id}.pid; exec sleep 600`;
}

function pidOf(dir: string, id: string): number {
  return Number(readFileSync(join(dir, `${id}.pid`), 'utf8').trim());
}

interface Scene {
  master: MasterProc;
  plain: TestFramework;
  aware: TestFramework;
  dir: string;
  agentId: string;
}

/** Two frameworks, one partition-aware, each with one task on the (only) agent. */
async function twoFrameworks(master: MasterProc, frameworks: TestFramework[]): Promise<Scene> {
  const dir = tempDir('partition-pids');
  const plain = await new TestFramework(master.address, 'plain').start();
  frameworks.push(plain);
  const [o1] = await plain.takeOffers();
  plain.driver.launch(o1, [commandTask(o1, 'plain-task', pidTask(dir, 'plain-task'))]);
  await plain.waitState('plain-task', 'TASK_RUNNING');
  const aware = await new TestFramework(master.address, 'aware', {
    capabilities: [{ type: 'PARTITION_AWARE' }],
  }).start();
  frameworks.push(aware);
  const [o2] = await aware.takeOffers();
  aware.driver.launch(o2, [commandTask(o2, 'aware-task', pidTask(dir, 'aware-task'))]);
  await aware.waitState('aware-task', 'TASK_RUNNING');
  return { master, plain, aware, dir, agentId: o1.agent_id };
}

/** Cut off → unreachable (tasks still running) → back → plain task killed, aware task kept. */
async function unreachableThenBack(s: Scene, cut: () => Promise<void>, heal: () => Promise<void>): Promise<void> {
  const plainPid = await waitFor('plain task pid file', () => pidOf(s.dir, 'plain-task'));
  const awarePid = await waitFor('aware task pid file', () => pidOf(s.dir, 'aware-task'));
  // The rest of the agent is on offer to the frameworks: those offers must be rescinded.
  const held = await waitFor('offers held on the agent', () => {
    const ids = [...s.plain.offers, ...s.aware.offers].map((o) => o.id);
    return ids.length > 0 ? ids : undefined;
  });
  await cut();
  const lost = await s.plain.waitState('plain-task', 'TASK_LOST', 30_000);
  expect(lost.reason).to.equal('REASON_AGENT_UNREACHABLE');
  const unreachable = await s.aware.waitState('aware-task', 'TASK_UNREACHABLE', 30_000);
  expect(unreachable.reason).to.equal('REASON_AGENT_UNREACHABLE');
  await waitFor('the held offers rescinded', () =>
    held.every((id) => s.plain.rescinded.includes(id) || s.aware.rescinded.includes(id)),
  );
  const st = await getJson(`${s.master.url}/master/state`);
  expect(st.unreachable_slaves).to.equal(1);
  expect(st.unreachable_agents.map((a: { id: string }) => a.id)).to.deep.equal([s.agentId]);
  // Reconciliation says the same while the agent is away: UNREACHABLE to the aware, LOST to the other.
  for (const [f, id, want] of [
    [s.aware, 'aware-task', 'TASK_UNREACHABLE'],
    [s.plain, 'plain-task', 'TASK_LOST'],
  ] as const) {
    const mark = f.updates.length;
    f.driver.reconcile([{ task_id: id, agent_id: s.agentId }]);
    const answer = await waitFor(`reconciliation of ${id}`, () => f.updates.slice(mark).find((u) => u.task_id === id));
    expect(answer.state, `reconciled ${id}`).to.equal(want);
  }
  // Nothing crashed: both task processes still run while the agent is cut off.
  expect(pidRunning(plainPid), 'plain task runs while cut off').to.equal(true);
  expect(pidRunning(awarePid), 'aware task runs while cut off').to.equal(true);
  const awareMark = s.aware.updates.length;

  await heal();
  await waitFor(
    'the agent re-registered',
    async () => (await getJson(`${s.master.url}/master/state`)).activated_slaves === 1,
    90_000,
  );
  // Not partition-aware: it was told LOST, so the task must not live on.
  await waitFor('the plain task process killed', () => !pidRunning(plainPid), 30_000);
  // Partition-aware: told the task is RUNNING again, and it is the same process.
  await waitFor(
    'a RUNNING update for the aware task',
    () => s.aware.updates.slice(awareMark).find((u) => u.task_id === 'aware-task' && u.state === 'TASK_RUNNING'),
    30_000,
  );
  expect(pidRunning(awarePid), 'aware task kept').to.equal(true);
  const after = await getJson(`${s.master.url}/master/state`);
  const tasksOf = (f: TestFramework) =>
    (after.frameworks.find((x: { id: string }) => x.id === f.driver.frameworkId)?.tasks ?? []).map(
      (t: { id: string; state: string }) => [t.id, t.state],
    );
  expect(tasksOf(s.aware)).to.deep.equal([['aware-task', 'TASK_RUNNING']]);
  expect(tasksOf(s.plain)).to.deep.equal([]);
  expect(after.unreachable_slaves).to.equal(0);
}

describe('partitions: agents the master cannot hear from @integration', function () {
  this.timeout(240_000);
  const frameworks: TestFramework[] = [];
  const hosts: TestHost[] = [];
  const workDirs: string[] = [];

  afterEach(async function () {
    if (this.currentTest?.state === 'failed') dumpProcessLogs();
    for (const h of hosts) {
      if (this.currentTest?.state === 'failed')
        for (const p of h.procs)
          console.error(`----- ${p.name} -----\n${p.text().trim().split('\n').slice(-40).join('\n')}`);
    }
    await Promise.all(frameworks.splice(0).map((f) => f.driver.teardown()));
    await Promise.all(hosts.splice(0).map((h) => h.destroy()));
    await stopAll();
    killTasksUnder(workDirs.splice(0));
  });

  it('an agent that stays connected but stops answering (SIGSTOP) is marked unreachable; after SIGCONT it re-registers, tasks of partition-aware frameworks kept, others killed', async () => {
    const master = await startMasterProc(FAST_PINGS);
    const agent = await startAgentProc(master.address, ['--resources', 'cpus:2;mem:1024']);
    const s = await twoFrameworks(master, frameworks);
    const pid = agent.proc.child.pid as number;
    let stopped: Proc | undefined = agent.proc;
    try {
      await unreachableThenBack(
        s,
        async () => {
          process.kill(pid, 'SIGSTOP');
          await waitFor('the agent process stopped', () => procState(pid) === 'T');
        },
        async () => {
          // Still stopped, still there, while the master gave up on it.
          expect(procState(pid)).to.equal('T');
          process.kill(pid, 'SIGCONT');
          stopped = undefined;
        },
      );
    } finally {
      if (stopped) process.kill(pid, 'SIGCONT');
    }
  });

  it('a real network partition: an agent on its own test host (network namespace) is cut off, marked unreachable, and healed; tasks of partition-aware frameworks kept, others killed', async function () {
    requireReal(this, 'network namespaces', netnsAvailability());
    // The agent on the test host reaches the master through the host's gateway address, so the
    // master listens beyond loopback: without authentication that needs an explicit --insecure.
    const master = await startMasterProc(['--ip', '0.0.0.0', '--insecure', ...FAST_PINGS]);
    const host = await TestHost.create(`p${process.pid % 10_000}`, 200 + (process.pid % 50));
    hosts.push(host);
    const port = await freePort();
    const workDir = tempDir('agent-netns');
    workDirs.push(workDir);
    const agent = host.agora('agent', [
      'agent',
      '--master',
      `${host.gateway}:${master.port}`,
      '--port',
      String(port),
      '--work_dir',
      workDir,
      '--resources',
      'cpus:2;mem:1024',
      // Its HTTP API is read from this machine, across the veth: beyond loopback, so --insecure.
      '--ip',
      host.address,
      '--insecure',
    ]);
    const agentUrl = `http://${host.address}:${port}`;
    await waitFor('the agent on the test host to register', async () => {
      if (agent.exited) throw new Error(`agent exited: ${agent.text().slice(-1000)}`);
      return (await getJson(`${agentUrl}/state`)).registered;
    });
    const s = await twoFrameworks(master, frameworks);
    // The tasks run on the test host: in its network namespace, not this machine's.
    const pid = await waitFor('plain task pid file', () => pidOf(s.dir, 'plain-task'));
    expect(readNetns(pid)).to.equal(readNetns(agent.child.pid as number));
    expect(readNetns(pid)).to.not.equal(readNetns(process.pid));
    await unreachableThenBack(
      s,
      async () => {
        await host.cut();
        // A real partition: the agent cannot be reached from here either.
        const reached = await fetch(`${agentUrl}/state`, { signal: AbortSignal.timeout(1000) }).then(
          () => true,
          () => false,
        );
        expect(reached, 'the agent answers across the cut').to.equal(false);
      },
      () => host.heal(),
    );
  });
});

/** The network namespace a process is in (from /proc). */
function readNetns(pid: number): string {
  return readlinkSync(`/proc/${pid}/ns/net`);
}
