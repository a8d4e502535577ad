/**
 * Re-registration in parts (issue 9): REREGISTER with `more: true`, then REREGISTER_TASKS frames.
 * The master answers REREGISTERED only after the last part, bounds the total, and closes a
 * connection that starts and never finishes.
 */
import { expect } from 'chai';
import { REREGISTER_PARTS_TIMEOUT_MS } from '../../master/state/reregister.js';
import { MasterHarness } from '../../master/testing/index.js';
import { type TaskRecord, TaskState } from '../../sdk/protocol/types.js';
import { Resources } from '../../sdk/resources/resources.js';

function records(frameworkId: string, agentId: string, from: number, n: number): TaskRecord[] {
  const resources = Resources.parse('cpus:0.01;mem:1').toList();
  return Array.from({ length: n }, (_, i) => ({
    task: { name: `t${from + i}`, task_id: `t${from + i}`, agent_id: agentId, resources },
    framework_id: frameworkId,
    state: TaskState.RUNNING,
  }));
}

async function awayAgent() {
  const h = await MasterHarness.start();
  const a = await h.addAgent();
  const f = await h.subscribe({ name: 'parts' });
  a.drop();
  await h.settle();
  return { h, id: a.id!, fw: f.frameworkId! };
}

describe('master re-registration in parts (harness)', () => {
  it('accepts a re-registration in 3 parts only after the last, with every task', async () => {
    const { h, id, fw } = await awayAgent();
    const parts = [records(fw, id, 0, 40), records(fw, id, 40, 50), records(fw, id, 90, 30)];
    const back = await h.connectAgent().reregisterInParts(parts.slice(0, 2), id, false);
    expect(back.peer.all('REREGISTERED')).to.have.length(0);
    expect(h.master.tasks.size).to.equal(0);
    back.peer.deliver({ type: 'REREGISTER_TASKS', tasks: parts[2], frameworks: [], more: false });
    await h.settle();
    expect(back.peer.all('REREGISTERED')).to.have.length(1);
    expect(back.peer.open).to.equal(true);
    const held = [...h.master.tasks.values()].map((t) => t.task.task_id).sort();
    const sent = parts
      .flat()
      .map((r) => r.task.task_id)
      .sort();
    expect(held).to.deep.equal(sent);
    expect(h.master.agents.get(id)?.state).to.equal('active');
  });

  it('closes a connection whose re-registration never finishes, after the timeout', async () => {
    const { h, id, fw } = await awayAgent();
    const back = await h.connectAgent().reregisterInParts([records(fw, id, 0, 10)], id, false);
    await h.advance(REREGISTER_PARTS_TIMEOUT_MS - 1_000);
    expect(back.peer.open).to.equal(true);
    await h.advance(1_000);
    expect(back.peer.closed?.code).to.equal(1008);
    expect(back.peer.all('REREGISTERED')).to.have.length(0);
    expect(h.master.tasks.size).to.equal(0);
    expect(h.master.agents.get(id)?.state).to.not.equal('active');
  });

  it('refuses a re-registration over the bound on the total number of tasks', async () => {
    const { h, id, fw } = await awayAgent();
    const part = records(fw, id, 0, 100_000);
    const back = await h.connectAgent().reregisterInParts(Array(11).fill(part), id);
    expect(back.peer.closed?.code).to.equal(1008);
    expect(back.peer.all('REREGISTERED')).to.have.length(0);
    expect(h.master.tasks.size).to.equal(0);
  });

  it('refuses REREGISTER_TASKS that no REREGISTER announced', async () => {
    const { h, fw, id } = await awayAgent();
    const back = h.connectAgent();
    back.peer.deliver({ type: 'REREGISTER_TASKS', tasks: records(fw, id, 0, 1), frameworks: [], more: false });
    await h.settle();
    expect(back.peer.closed?.code).to.equal(1008);
    expect(h.master.tasks.size).to.equal(0);
  });
});
