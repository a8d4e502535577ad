/**
 * A launch lost on a dying connection (issue 14: the placement benchmark's fill stalled under load
 * at ~39k of 40k tasks): the master wrote RUN_TASK to an agent's connection that dropped before the
 * agent read it; the agent came back on a new connection and re-registered without the task. The
 * master must end that task (TASK_LOST, or TASK_DROPPED for a partition-aware framework) and free
 * its resources, or the framework waits forever and the agent's capacity is never offered again.
 */
import { expect } from 'chai';
import { MasterHarness } from '../../master/testing/index.js';
import { TaskState } from '../../sdk/protocol/types.js';

describe('a launch lost on a dropped agent connection (harness)', () => {
  it('ends the task the re-registered agent does not report, frees its resources and offers them again', async () => {
    const h = await MasterHarness.start();
    const a = await h.addAgent({ resources: 'cpus:2;mem:1024' });
    const f = await h.subscribe({ name: 'fw' });
    const offer = f.offers()[0];
    f.launch(offer, [
      { task_id: 'kept', resources: 'cpus:1;mem:64' },
      { task_id: 'lost', resources: 'cpus:1;mem:64' },
    ]);
    await h.settle();
    // The agent read only the first RUN_TASK before its connection died.
    expect(a.runTasks().map((t) => t.task_id)).to.deep.equal(['kept', 'lost']);
    const kept = a.runTasks()[0];
    a.update(f.frameworkId!, { task_id: 'kept', state: TaskState.RUNNING });
    await h.settle();
    a.drop();
    await h.settle();
    const back = await h
      .connectAgent({ resources: 'cpus:2;mem:1024' })
      .reregister([{ task: kept, framework_id: f.frameworkId!, state: TaskState.RUNNING }], a.id);
    expect(back.peer.last('REREGISTERED')?.agent_id).to.equal(a.id);
    const lost = f.updates().filter((u) => u.task_id === 'lost');
    expect(lost.map((u) => u.state)).to.deep.equal([TaskState.LOST]);
    expect(lost[0].reason).to.equal('REASON_AGENT_DISCONNECTED');
    expect(f.updates().filter((u) => u.task_id === 'kept' && u.state !== TaskState.RUNNING)).to.have.length(0);
    expect([...h.master.tasks.values()].map((t) => t.task.task_id)).to.deep.equal(['kept']);
    expect(h.master.agents.get(a.id!)?.used.toString()).to.equal('cpus:1;mem:64');
    // The freed cpu is offered again.
    await h.advance(2000);
    const again = f.offers().filter((o) => o.agent_id === a.id);
    expect(again.length).to.be.greaterThan(0);
    const cpus = again[0].resources.find((r) => r.name === 'cpus')?.scalar?.value;
    expect(cpus).to.equal(1);
  });

  it('answers TASK_DROPPED to a partition-aware framework', async () => {
    const h = await MasterHarness.start();
    const a = await h.addAgent({ resources: 'cpus:2;mem:1024' });
    const f = await h.subscribe({ name: 'fw', capabilities: [{ type: 'PARTITION_AWARE' }] });
    f.launch(f.offers()[0], [{ task_id: 'lost', resources: 'cpus:1;mem:64' }]);
    await h.settle();
    a.drop();
    await h.settle();
    await h.connectAgent({ resources: 'cpus:2;mem:1024' }).reregister([], a.id);
    expect(f.updates().map((u) => [u.task_id, u.state])).to.deep.equal([['lost', TaskState.DROPPED]]);
    expect(h.master.tasks.size).to.equal(0);
    expect(h.master.agents.get(a.id!)?.used.toString()).to.equal('');
  });
});
