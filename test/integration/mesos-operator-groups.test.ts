/**
 * Task groups in the state answers on real processes: a group launched on a real agent (posix)
 * shows, in the agent's /state, as one DEFAULT executor with the group's id and resources (its
 * own plus its tasks') holding both tasks, beside a task launched alone under its command
 * executor; the master's /master/state and v1 GET_EXECUTORS / GET_STATE say the same.
 */
import { expect } from 'chai';
import type { ExecutorInfo } from '../../sdk/protocol/types.js';
import { Resources } from '../../sdk/resources/resources.js';
import {
  type AgentProc,
  dumpProcessLogs,
  getJson,
  type MasterProc,
  startAgentProc,
  startMasterProc,
  stopAll,
  waitFor,
} from '../support/cluster.js';
import { commandTask, TestFramework } from '../support/framework.js';
import { call } from '../support/operator-client.js';

// biome-ignore lint/suspicious/noExplicitAny: state answers are loosely typed JSON
type AnyJson = Record<string, any>;

describe('task groups in the state endpoints on real processes @integration', function () {
  this.timeout(180_000);
  let master: MasterProc;
  let agent: AgentProc;
  let f: TestFramework;

  before(async () => {
    master = await startMasterProc(['--allocation_interval', '100ms']);
    agent = await startAgentProc(master.address, ['--containerizers', 'posix', '--resources', 'cpus:4;mem:2048']);
    f = await new TestFramework(master.address, 'groups-state').start();
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') dumpProcessLogs();
  });

  after(async () => {
    await f?.driver.teardown();
    await stopAll();
  });

  it('one DEFAULT executor per group, its tasks under it, on the agent, the master and the v1 API', async () => {
    const agentId = (await getJson(`${agent.url}/state`)).id as string;
    const offer = await waitFor('an offer', () => f.offers.find((o) => o.agent_id === agentId));
    const executor: ExecutorInfo = {
      executor_id: 'pod-e',
      type: 'DEFAULT',
      name: 'pod',
      resources: Resources.parse('cpus:0.1;mem:32').toList(),
    };
    f.driver.accept(
      [offer.id],
      [
        {
          type: 'LAUNCH_GROUP',
          launch_group: {
            executor,
            task_group: {
              tasks: [
                commandTask(offer, 'web', 'exec sleep 300', 'cpus:0.5;mem:64'),
                commandTask(offer, 'side', 'exec sleep 300', 'cpus:0.25;mem:32'),
              ],
            },
          },
        },
        { type: 'LAUNCH', launch: { task_infos: [commandTask(offer, 'alone', 'exec sleep 300')] } },
      ],
    );
    for (const t of ['web', 'side', 'alone']) await f.waitState(t, 'TASK_RUNNING');
    const fid = f.driver.frameworkId as string;

    const state = (await getJson(`${agent.url}/state`)) as AnyJson;
    const fw = state.frameworks.find((x: AnyJson) => x.id === fid);
    const byId = Object.fromEntries(fw.executors.map((e: AnyJson) => [e.id, e]));
    expect(Object.keys(byId).sort()).to.deep.equal(['alone', 'pod-e']);
    const pod = byId['pod-e'];
    expect(pod.type).to.equal('DEFAULT');
    expect(pod.name).to.equal('pod');
    expect(pod.tasks.map((t: AnyJson) => t.id).sort()).to.deep.equal(['side', 'web']);
    expect(pod.tasks.every((t: AnyJson) => t.executor_id === 'pod-e')).to.equal(true);
    expect(pod.resources.cpus).to.be.closeTo(0.85, 1e-9);
    expect(pod.resources.mem).to.equal(128);
    expect(pod.directory).to.match(/@executors\/pod-e$/);
    expect(byId.alone.type).to.equal('COMMAND');

    const ms = (await getJson(`${master.url}/master/state`)) as AnyJson;
    const mfw = ms.frameworks.find((x: AnyJson) => x.id === fid);
    expect(mfw.executors.map((e: AnyJson) => [e.executor_id, e.type, e.slave_id])).to.deep.equal([
      ['pod-e', 'DEFAULT', agentId],
    ]);
    const mExec = Object.fromEntries(mfw.tasks.map((t: AnyJson) => [t.id, t.executor_id]));
    expect(mExec).to.deep.equal({ web: 'pod-e', side: 'pod-e', alone: 'alone' });

    const ex = (await call(master.url, { type: 'GET_EXECUTORS' })).json.get_executors.executors;
    expect(
      ex.map((e: AnyJson) => [e.agent_id.value, e.executor_info.executor_id.value, e.executor_info.type]),
    ).to.deep.equal([[agentId, 'pod-e', 'DEFAULT']]);
    const gs = (await call(master.url, { type: 'GET_STATE' })).json.get_state;
    expect(gs.get_executors.executors).to.deep.equal(ex);
  });
});
