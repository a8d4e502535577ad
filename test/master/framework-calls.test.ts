import { expect } from 'chai';
import { MasterHarness } from '../../master/testing/index.js';
import { FRAMEWORK_TORN_DOWN_REASON } from '../../sdk/protocol/messages.js';

async function running() {
  const h = await MasterHarness.start();
  const agent = await h.addAgent();
  const fw = await h.subscribe({ name: 'calls', roles: ['web'] });
  await h.allocate();
  const [offer] = fw.offers();
  fw.launch(offer, [{ task_id: 't1', resources: 'cpus:1;mem:32' }]);
  await h.settle();
  fw.acknowledge(agent.update(fw.frameworkId ?? '', { task_id: 't1', state: 'TASK_RUNNING' }));
  await h.settle();
  return { h, agent, fw, id: fw.frameworkId ?? '' };
}

describe('master: MESSAGE, SHUTDOWN, UPDATE_FRAMEWORK, REQUEST and the TEARDOWN acknowledgement', () => {
  it('SHUTDOWN of a command task executor (its task id) kills that task on its agent', async () => {
    const { h, agent, fw, id } = await running();
    fw.call({ type: 'SHUTDOWN', framework_id: id, shutdown: { executor_id: 't1', agent_id: agent.id ?? '' } });
    await h.settle();
    expect(agent.peer.all('KILL_TASK').map((k) => k.task_id)).to.deep.equal(['t1']);
    // Another agent id: not that executor; ignored, no ERROR.
    fw.call({ type: 'SHUTDOWN', framework_id: id, shutdown: { executor_id: 't1', agent_id: 'elsewhere' } });
    await h.settle();
    expect(agent.peer.all('KILL_TASK')).to.have.length(1);
    expect(fw.errors()).to.deep.equal([]);
  });

  it('MESSAGE to a command executor and REQUEST are accepted and dropped: no ERROR, nothing sent to the agent', async () => {
    const { h, agent, fw, id } = await running();
    const before = agent.peer.received.length;
    fw.call({
      type: 'MESSAGE',
      framework_id: id,
      message: { agent_id: agent.id ?? '', executor_id: 't1', data: 'aGk=' },
    });
    fw.call({ type: 'REQUEST', framework_id: id, request: { requests: [{ agent_id: agent.id }] } });
    await h.settle();
    expect(fw.errors()).to.deep.equal([]);
    expect(agent.peer.received.slice(before).filter((m) => m.type !== 'PING')).to.deep.equal([]);
  });

  it('UPDATE_FRAMEWORK changes name and roles durably and re-offers under the new roles', async () => {
    const { h, fw, id } = await running();
    fw.peer.clear();
    fw.call({
      type: 'UPDATE_FRAMEWORK',
      framework_id: id,
      update_framework: { framework_info: { id, name: 'renamed', roles: ['web', 'batch'] }, suppressed_roles: ['web'] },
    });
    await h.settle();
    expect(fw.errors()).to.deep.equal([]);
    const entry = h.state.frameworks.get(id);
    expect(entry?.info.name).to.equal('renamed');
    expect(entry?.roles).to.deep.equal(['web', 'batch']);
    expect([...(entry?.suppressedRoles ?? [])]).to.deep.equal(['web']);
    const persisted = h.effects('persistFramework').at(-1)?.record;
    expect(persisted?.info.name).to.equal('renamed');
    // The launch's leftovers are filtered in role web only (filters are per role): batch may be
    // offered at once, web (suppressed) not even once the filter has expired.
    await h.advance(6_000);
    const offers = fw.offers();
    expect(offers.length).to.be.greaterThan(0);
    expect(offers.every((o) => o.allocation_role === 'batch')).to.equal(true);
  });

  it('UPDATE_FRAMEWORK naming another framework id is refused with a code and changes nothing', async () => {
    const { h, fw, id } = await running();
    fw.call({
      type: 'UPDATE_FRAMEWORK',
      framework_id: id,
      update_framework: { framework_info: { id: 'other', name: 'x' } },
    });
    fw.call({
      type: 'UPDATE_FRAMEWORK',
      framework_id: id,
      update_framework: { framework_info: { name: 'x', roles: ['web'] }, suppressed_roles: ['nope'] },
    });
    await h.settle();
    expect(fw.errors()).to.deep.equal(['AGORA_MASTER_INVALID_FRAMEWORK_UPDATE', 'AGORA_MASTER_ROLE_NOT_SUBSCRIBED']);
    expect(h.state.frameworks.get(id)?.info.name).to.equal('calls');
  });

  it('TEARDOWN is acknowledged by closing the connection with the torn-down reason', async () => {
    const { h, fw, id } = await running();
    fw.call({ type: 'TEARDOWN', framework_id: id });
    await h.settle();
    expect(fw.peer.closed).to.deep.equal({ code: 1000, reason: FRAMEWORK_TORN_DOWN_REASON, byMaster: true });
  });
});
