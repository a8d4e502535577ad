/**
 * Reconciliation right after a master failover (master/state/reconcile.ts): a question about a task
 * whose agent has not re-registered yet is held and answered the moment the agent is settled (it
 * re-registers, or its window closes), so a framework that reconciles at re-subscription, as the
 * SDK's driver does, needs no second round; and (master/master.ts) what peers send between the
 * election and the registrar's recovery is held and applied in order, not refused.
 */
import { expect } from 'chai';
import { MasterHarness } from '../../master/testing/index.js';
import { TaskState } from '../../sdk/protocol/types.js';

async function runningTaskThenFailover(opts: { agentReregisterTimeoutMs?: number } = {}) {
  const h = await MasterHarness.start({ agentReregisterTimeoutMs: opts.agentReregisterTimeoutMs ?? 600_000 });
  const a = await h.addAgent();
  const b = await h.addAgent({ hostname: 'b' });
  const f = await h.subscribe({ name: 'fw', failover_timeout: 3600 });
  const offer = f.offers().find((o) => o.agent_id === a.id);
  f.launch(offer!, [{ task_id: 't1', resources: 'cpus:1;mem:64' }]);
  const status = a.update(f.frameworkId!, { task_id: 't1', state: TaskState.RUNNING });
  await h.settle();
  const [task] = a.runTasks();
  const h2 = await h.failover();
  const f2 = await h2.connectScheduler().subscribe({ name: 'fw', id: f.frameworkId, failover_timeout: 3600 });
  expect(f2.frameworkId).to.equal(f.frameworkId);
  return { h2, a, b, f2, task, status, frameworkId: f.frameworkId! };
}

describe('master: reconciliation after a failover', () => {
  it('holds questions about tasks of agents still awaited and answers them when the agent re-registers', async () => {
    const { h2, a, b, f2, task, status, frameworkId } = await runningTaskThenFailover();
    f2.call({
      type: 'RECONCILE',
      framework_id: frameworkId,
      reconcile: {
        tasks: [
          { task_id: 't1', agent_id: a.id },
          { task_id: 'never-ran', agent_id: a.id },
          { task_id: 'no-agent-named' },
        ],
      },
    });
    // Asked twice (the driver's next round): still one answer each.
    f2.call({
      type: 'RECONCILE',
      framework_id: frameworkId,
      reconcile: { tasks: [{ task_id: 't1', agent_id: a.id }] },
    });
    await h2.settle();
    expect(f2.updates(), 'no answer while the agent may still bring the task back').to.have.length(0);

    await h2.connectAgent().reregister([{ task, framework_id: frameworkId, state: TaskState.RUNNING, status }], a.id);
    const first = f2.updates().map((u) => [u.task_id, u.state, u.reason]);
    expect(first).to.deep.equal([
      ['t1', TaskState.RUNNING, 'REASON_RECONCILIATION'],
      ['never-ran', TaskState.LOST, 'REASON_RECONCILIATION'],
    ]);
    // Without an agent id, any awaited agent could hold it: answered once none is awaited.
    await h2.connectAgent({ hostname: 'b' }).reregister([], b.id);
    expect(f2.updates().map((u) => [u.task_id, u.state])).to.deep.equal([
      ['t1', TaskState.RUNNING],
      ['never-ran', TaskState.LOST],
      ['no-agent-named', TaskState.LOST],
    ]);
  });

  it('holds a repeated question once, also among many held for one agent', async () => {
    const { h2, a, b, f2, task, status, frameworkId } = await runningTaskThenFailover();
    const ids = ['t1', ...Array.from({ length: 40 }, (_, i) => `never-ran-${i}`)];
    const ask = (list: string[]) =>
      f2.call({
        type: 'RECONCILE',
        framework_id: frameworkId,
        reconcile: { tasks: list.map((task_id) => ({ task_id, agent_id: a.id })) },
      });
    ask(ids.slice(0, 5));
    ask(ids.slice(0, 5)); // repeated while the list is short
    ask(ids);
    ask([...ids].reverse()); // and once it is long
    await h2.settle();
    await h2.connectAgent().reregister([{ task, framework_id: frameworkId, state: TaskState.RUNNING, status }], a.id);
    expect(f2.updates().map((u) => u.task_id)).to.deep.equal(ids);
    expect(f2.updates()[0].state).to.equal(TaskState.RUNNING);
    expect(
      new Set(
        f2
          .updates()
          .slice(1)
          .map((u) => u.state),
      ),
    ).to.deep.equal(new Set([TaskState.LOST]));
    await h2.connectAgent({ hostname: 'b' }).reregister([], b.id);
    expect(f2.updates()).to.have.length(ids.length);
  });

  it('answers held questions when the re-registration window closes without the agent', async () => {
    const { h2, a, b, f2, frameworkId } = await runningTaskThenFailover({ agentReregisterTimeoutMs: 10_000 });
    await h2.connectAgent({ hostname: 'b' }).reregister([], b.id);
    f2.call({
      type: 'RECONCILE',
      framework_id: frameworkId,
      reconcile: { tasks: [{ task_id: 't1', agent_id: a.id }] },
    });
    await h2.settle();
    expect(f2.updates()).to.have.length(0);
    await h2.advance(10_000);
    expect(f2.updates().map((u) => [u.task_id, u.state, u.reason])).to.deep.equal([
      ['t1', TaskState.LOST, 'REASON_RECONCILIATION'],
    ]);
  });

  it('tells a framework in SUBSCRIBED how long it holds questions, only while agents are still awaited', async () => {
    const { h2, a, b, f2, task, status, frameworkId } = await runningTaskThenFailover({
      agentReregisterTimeoutMs: 90_000,
    });
    const hold = (f: typeof f2) => f.peer.all('SUBSCRIBED').map((m) => m.subscribed.reconcile_hold_seconds);
    expect(hold(f2), 'the whole re-register window is left').to.deep.equal([90]);
    await h2.advance(30_500);
    const again = await h2.connectScheduler().subscribe({ name: 'fw', id: frameworkId, failover_timeout: 3600 });
    expect(hold(again), 'what is left of it, rounded up').to.deep.equal([60]);
    await h2.connectAgent().reregister([{ task, framework_id: frameworkId, state: TaskState.RUNNING, status }], a.id);
    await h2.connectAgent({ hostname: 'b' }).reregister([], b.id);
    const last = await h2.connectScheduler().subscribe({ name: 'fw', id: frameworkId, failover_timeout: 3600 });
    expect(hold(last), 'nothing held once every agent is back').to.deep.equal([undefined]);
    const fresh = await MasterHarness.start();
    const f = await fresh.subscribe({ name: 'new' });
    expect(hold(f), 'nothing held by a master that awaits no agent').to.deep.equal([undefined]);
  });

  it('applies what peers send between the election and the registrar recovery, in order, instead of refusing it', async () => {
    const h = await MasterHarness.start();
    const a = await h.addAgent();
    const f = await h.subscribe({ name: 'fw', failover_timeout: 3600 });
    h.master.stop();
    // A new master whose registrar read has not finished when the agent and framework come.
    const h2 = await MasterHarness.start({ store: h.store, durable: true, clock: h.clock });
    h2.master.stepDown('test: back to a standby');
    let release!: () => void;
    const registrar = h2.registrar!;
    const recover = registrar.recover.bind(registrar);
    registrar.recover = async () => {
      await new Promise<void>((r) => {
        release = r;
      });
      return recover();
    };
    const electing = h2.master.becomeLeader();
    const a2 = h2.connectAgent();
    a2.peer.deliver({
      type: 'REREGISTER',
      agent: { ...a2.info, id: a.id! },
      version: 'fake',
      tasks: [],
      frameworks: [],
    });
    const f2 = h2.connectScheduler();
    f2.peer.deliver({ type: 'SUBSCRIBE', subscribe: { framework_info: { name: 'fw', id: f.frameworkId } } });
    await h2.settle();
    expect(a2.peer.all('LEADER'), 'not refused while recovering').to.have.length(0);
    expect(a2.peer.all('REREGISTERED')).to.have.length(0);
    release();
    await electing;
    await h2.settle();
    expect(a2.peer.all('REREGISTERED').map((m) => m.agent_id)).to.deep.equal([a.id]);
    expect(f2.peer.all('SUBSCRIBED').map((m) => m.subscribed.framework_id)).to.deep.equal([f.frameworkId]);
  });
});
