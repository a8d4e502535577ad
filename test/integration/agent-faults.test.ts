/**
 * Faults around agents, with real processes killed by SIGKILL: an agent that falls silent, an
 * agent that restarts with its work dir, a master that restarts under running agents.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { isAlive } from '../../agent/containerizer/proc.js';
import {
  agora,
  dumpProcessLogs,
  freePort,
  getJson,
  type MasterProc,
  PROCESS_START_MS,
  startAgentProc,
  startMasterProc,
  stopAll,
  tempDir,
  waitFor,
} from '../support/cluster.js';
import { commandTask, TestFramework } from '../support/framework.js';

// An agent silent for 5 pings of 500 ms is unreachable: fast, yet not so tight (it was 3 of
// 200 ms) that an agent starved of CPU for a moment on a loaded CI machine is marked unreachable.
const FAST_PINGS = [
  '--agent_ping_timeout',
  '500ms',
  '--max_agent_ping_timeouts',
  '5',
  '--allocation_interval',
  '200ms',
];

/** Alive and not a zombie (an orphaned task is reaped by init, which may take a moment). */
const pidAlive = isAlive;

async function taskPid(agentUrl: string, taskId: string): Promise<number | undefined> {
  const st = await getJson(`${agentUrl}/state`);
  for (const fw of st.frameworks) for (const t of fw.executors[0].tasks) if (t.id === taskId) return t.container?.pid;
  return undefined;
}

describe('agent faults (real processes, SIGKILL) @integration', function () {
  this.timeout(240_000);
  const frameworks: TestFramework[] = [];
  const pids: number[] = [];

  afterEach(async function () {
    if (this.currentTest?.state === 'failed') dumpProcessLogs();
    await Promise.all(frameworks.splice(0).map((f) => f.driver.teardown()));
    await stopAll();
    for (const p of pids.splice(0)) {
      try {
        process.kill(-p, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });

  it('reports the tasks of an agent that falls silent as TASK_LOST, and says so in /master/state', async () => {
    const master = await startMasterProc(FAST_PINGS);
    const agent = await startAgentProc(master.address, ['--resources', 'cpus:2;mem:1024']);
    const f = await new TestFramework(master.address, 'lost').start();
    frameworks.push(f);
    const [o] = await f.takeOffers();
    f.driver.launch(o, [commandTask(o, 'orphan', 'sleep 300')]);
    await f.waitState('orphan', 'TASK_RUNNING');
    pids.push((await taskPid(agent.url, 'orphan')) as number);
    await agent.proc.kill('SIGKILL');
    const lost = await f.waitState('orphan', 'TASK_LOST', 30_000);
    expect(lost.reason).to.equal('REASON_AGENT_UNREACHABLE');
    const state = await getJson(`${master.url}/master/state`);
    expect(state.unreachable_slaves).to.equal(1);
    expect(state.activated_slaves).to.equal(0);
    const metrics = await getJson(`${master.url}/metrics/snapshot`);
    expect(metrics['master/tasks_lost']).to.equal(1);
    expect(metrics['master/slaves_unreachable']).to.equal(1);
  });

  it('reports TASK_UNREACHABLE to a partition-aware framework', async () => {
    const master = await startMasterProc(FAST_PINGS);
    const agent = await startAgentProc(master.address, ['--resources', 'cpus:2;mem:1024']);
    const f = await new TestFramework(master.address, 'aware', { capabilities: [{ type: 'PARTITION_AWARE' }] }).start();
    frameworks.push(f);
    const [o] = await f.takeOffers();
    f.driver.launch(o, [commandTask(o, 'p', 'sleep 300')]);
    await f.waitState('p', 'TASK_RUNNING');
    pids.push((await taskPid(agent.url, 'p')) as number);
    await agent.proc.kill('SIGKILL');
    await f.waitState('p', 'TASK_UNREACHABLE', 30_000);
  });

  it('an agent killed with SIGKILL and restarted with its work dir finds its task again and reports how a task ended while it was down', async () => {
    const master = await startMasterProc();
    const workDir = tempDir('agent-restart');
    const port = await freePort();
    const args = ['--resources', 'cpus:2;mem:1024'];
    const gate = tempDir('ends-while-down');
    const agent = await startAgentProc(master.address, args, workDir);
    const f = await new TestFramework(master.address, 'survivor').start();
    frameworks.push(f);
    const [o] = await f.takeOffers();
    f.driver.launch(o, [
      commandTask(o, 'keeps-running', 'sleep 300'),
      // Ends only once the agent is down (a `sleep 2` could run out before the kill on a loaded machine).
      commandTask(o, 'ends-while-down', `while [ ! -f ${gate}/go ]; do sleep 0.1; done; exit 7`),
    ]);
    await f.waitState('keeps-running', 'TASK_RUNNING');
    await f.waitState('ends-while-down', 'TASK_RUNNING');
    const pid = (await taskPid(agent.url, 'keeps-running')) as number;
    pids.push(pid);
    const endingPid = (await taskPid(agent.url, 'ends-while-down')) as number;
    await agent.proc.kill('SIGKILL');
    writeFileSync(join(gate, 'go'), '');
    expect(pidAlive(pid), 'the task survives its agent').to.equal(true);
    // 'ends-while-down' exits now that its gate is open: waited for by its pid, not a fixed sleep.
    await waitFor(
      `'ends-while-down' (pid ${endingPid}) to exit while the agent is down`,
      () => !pidAlive(endingPid),
      30_000,
    );
    const before = f.updates.length;
    const again = agora('agent-again', [
      'agent',
      '--master',
      master.address,
      '--port',
      String(port),
      '--work_dir',
      workDir,
      ...args,
    ]);
    await waitFor(
      () => `restarted agent to register (output: ${again.text().slice(-500)})`,
      async () => (await getJson(`http://127.0.0.1:${port}/state`)).registered,
      PROCESS_START_MS,
    );
    const failed = await f.waitState('ends-while-down', 'TASK_FAILED');
    expect(failed.exit_status).to.equal(7);
    expect(failed.message).to.match(/while the agent was down/);
    // The running task is still RUNNING, under the same agent id, and the master knows it.
    const st = await getJson(`http://127.0.0.1:${port}/state`);
    expect(st.id).to.equal(o.agent_id);
    expect(await taskPid(`http://127.0.0.1:${port}`, 'keeps-running')).to.equal(pid);
    const state = await getJson(`${master.url}/master/state`);
    const fw = state.frameworks.find((x: { id: string }) => x.id === f.driver.frameworkId);
    expect(fw.tasks.map((t: { id: string; state: string }) => [t.id, t.state])).to.deep.equal([
      ['keeps-running', 'TASK_RUNNING'],
    ]);
    expect(
      f.updates.slice(before).filter((u) => u.task_id === 'keeps-running' && u.state !== 'TASK_RUNNING'),
    ).to.deep.equal([]);
    // It can still be killed through the master.
    f.driver.kill('keeps-running');
    await f.waitState('keeps-running', 'TASK_KILLED');
    await waitFor('the killed task process to be gone', () => !pidAlive(pid), 20_000);
    await again.kill();
  });

  it('agents re-register with their running tasks after the master restarts, and the framework gets them back', async () => {
    const port = await freePort();
    const masterArgs = ['master', '--port', String(port), '--work_dir', tempDir('m')];
    let m = agora('master-1', masterArgs);
    const master: MasterProc = { proc: m, port, url: `http://127.0.0.1:${port}`, address: `127.0.0.1:${port}` };
    await waitFor('master', async () => (await getJson(`${master.url}/health`)).healthy, PROCESS_START_MS);
    const agent = await startAgentProc(master.address, ['--resources', 'cpus:2;mem:1024']);
    const f = await new TestFramework(master.address, 'returning').start();
    frameworks.push(f);
    const fid = f.driver.frameworkId;
    const [o] = await f.takeOffers();
    f.driver.launch(o, [commandTask(o, 'durable', 'sleep 300')]);
    await f.waitState('durable', 'TASK_RUNNING');
    pids.push((await taskPid(agent.url, 'durable')) as number);
    await m.kill('SIGKILL');
    m = agora('master-2', masterArgs);
    await waitFor(
      'new master with the agent re-registered',
      async () => (await getJson(`${master.url}/master/state`)).activated_slaves === 1,
      PROCESS_START_MS,
    );
    await waitFor('framework re-subscribed', () => f.driver.subscribed);
    expect(f.driver.frameworkId).to.equal(fid);
    const before = f.updates.length;
    f.driver.reconcile([{ task_id: 'durable' }]);
    await waitFor('reconciliation', () => f.updates.length > before);
    expect(f.updates[before]).to.include({ task_id: 'durable', state: 'TASK_RUNNING' });
    const state = await getJson(`${master.url}/master/state`);
    const fw = state.frameworks.find((x: { id: string }) => x.id === fid);
    expect(fw.tasks.map((t: { id: string }) => t.id)).to.deep.equal(['durable']);
    expect(state.slaves[0].used_resources.cpus).to.equal(0.1);
  });

  it('an agent restarted with a work dir from before a reboot reports those tasks as failed, not running', async () => {
    const master = await startMasterProc();
    const workDir = tempDir('agent-reboot');
    const args = ['--resources', 'cpus:2;mem:1024'];
    const agent = await startAgentProc(master.address, args, workDir);
    const f = await new TestFramework(master.address, 'rebooted').start();
    frameworks.push(f);
    const [o] = await f.takeOffers();
    f.driver.launch(o, [commandTask(o, 'pre-reboot', 'sleep 300')]);
    await f.waitState('pre-reboot', 'TASK_RUNNING');
    const pid = (await taskPid(agent.url, 'pre-reboot')) as number;
    await agent.proc.kill('SIGKILL');
    // A reboot: the processes are gone and the kernel has a new boot id.
    process.kill(-pid, 'SIGKILL');
    const metaPath = join(workDir, 'meta', 'agent.json');
    const meta = JSON.parse(readFileSync(metaPath, 'utf8'));
    writeFileSync(metaPath, JSON.stringify({ ...meta, boot_id: 'a-boot-before-this-one' }));
    const port = await freePort();
    agora('agent-after-reboot', [
      'agent',
      '--master',
      master.address,
      '--port',
      String(port),
      '--work_dir',
      workDir,
      ...args,
    ]);
    const failed = await f.waitState('pre-reboot', 'TASK_FAILED', PROCESS_START_MS);
    expect(failed.reason).to.equal('REASON_AGENT_RESTARTED');
    expect(failed.message).to.match(/rebooted/);
    expect(f.statesOf('pre-reboot').filter((st) => st === 'TASK_RUNNING')).to.have.length(1);
  });

  it('MARK_AGENT_GONE ends its tasks, shuts the agent down, and refuses its id for good, across a master restart', async () => {
    const port = await freePort();
    const masterArgs = ['master', '--port', String(port), '--work_dir', tempDir('m-gone')];
    let m = agora('master-gone-1', masterArgs);
    const url = `http://127.0.0.1:${port}`;
    await waitFor('master', async () => (await getJson(`${url}/health`)).healthy, PROCESS_START_MS);
    const workDir = tempDir('agent-gone');
    const agent = await startAgentProc(`127.0.0.1:${port}`, ['--resources', 'cpus:2;mem:1024'], workDir);
    const f = await new TestFramework(`127.0.0.1:${port}`, 'gone', {
      capabilities: [{ type: 'PARTITION_AWARE' }],
    }).start();
    frameworks.push(f);
    const [o] = await f.takeOffers();
    f.driver.launch(o, [commandTask(o, 'on-gone-agent', 'sleep 300')]);
    await f.waitState('on-gone-agent', 'TASK_RUNNING');
    const pid = (await taskPid(agent.url, 'on-gone-agent')) as number;
    const call = (body: unknown) =>
      fetch(`${url}/api/v1`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    // Bad calls change nothing.
    expect(
      (await call({ type: 'MARK_AGENT_GONE', mark_agent_gone: { agent_id: { value: 'no-such-agent' } } })).status,
    ).to.equal(404);
    expect((await call({ type: 'TEARDOWN_THE_WORLD' })).status).to.equal(400);
    expect((await call({ type: 'MARK_AGENT_GONE' })).status).to.equal(400);
    expect((await getJson(`${url}/master/state`)).activated_slaves).to.equal(1);
    // The rest of the agent is on offer: marking it gone must rescind that offer.
    const held = await waitFor('an offer of the rest of the agent', () => f.offers.map((x) => x.id)[0], 30_000);
    const ok = await call({ type: 'MARK_AGENT_GONE', mark_agent_gone: { agent_id: { value: o.agent_id } } });
    expect(ok.status).to.equal(200);
    const gone = await f.waitState('on-gone-agent', 'TASK_GONE_BY_OPERATOR');
    await waitFor('the offer on the gone agent rescinded', () => f.rescinded.includes(held));
    expect(gone.reason).to.equal('REASON_AGENT_REMOVED_BY_OPERATOR');
    await waitFor('the agent process to exit', () => agent.proc.exited !== undefined, 20_000);
    await waitFor('its task to be killed', () => !pidAlive(pid), 10_000);
    const st = await getJson(`${url}/master/state`);
    expect(st.gone_agents).to.deep.equal([o.agent_id]);
    expect(st.slaves).to.have.length(0);
    // The master restarts: the registrar still says gone, and the agent's id is refused.
    await m.kill('SIGKILL');
    m = agora('master-gone-2', masterArgs);
    await waitFor('master again', async () => (await getJson(`${url}/health`)).healthy, PROCESS_START_MS);
    const again = agora('agent-gone-again', [
      'agent',
      '--master',
      `127.0.0.1:${port}`,
      '--port',
      String(await freePort()),
      '--work_dir',
      workDir,
    ]);
    await waitFor('the gone agent to be refused and exit', () => again.exited !== undefined, PROCESS_START_MS);
    expect(again.text()).to.match(/marked gone/);
    expect((await getJson(`${url}/master/state`)).gone_agents).to.deep.equal([o.agent_id]);
  });
});
