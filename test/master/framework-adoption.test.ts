/**
 * A new leader adopts frameworks that re-registering agents report but that it does not know (their
 * registrar record lost or unreadable), as Mesos recovers frameworks from agents' re-registrations,
 * instead of shutting their tasks down. The failover benchmark once lost 18,000 of 20,000 tasks
 * that way. A framework that comes back before its agents is asked to retry, not refused for good.
 */
import { expect } from 'chai';
import { type FakeAgent, type FakeScheduler, MasterHarness } from '../../master/testing/index.js';
import type { FrameworkInfo } from '../../sdk/protocol/types.js';
import { TaskState } from '../../sdk/protocol/types.js';

const WINDOW_MS = 60_000;

/** One agent running one task of one framework (failover_timeout `timeout`), acknowledged. */
async function clusterWithTask(timeout: number) {
  const h = await MasterHarness.start({
    agentReregisterTimeoutMs: WINDOW_MS,
    frameworkResubscribeTimeoutMs: WINDOW_MS,
  });
  const a = await h.addAgent({ resources: 'cpus:2;mem:1024' });
  const f = await h.subscribe({ name: 'kept', failover_timeout: timeout });
  const offer = f.offers()[0];
  const [task] = f.launch(offer, [{ task_id: 't1', resources: 'cpus:1;mem:32' }]);
  await h.settle();
  f.acknowledge(a.update(f.frameworkId!, { task_id: 't1', state: TaskState.RUNNING }));
  await h.settle();
  const info = a.peer.last('RUN_TASK')?.framework as FrameworkInfo;
  return { h, a, f, task, info, id: f.frameworkId! };
}

/** The framework's record is gone (a write that never became durable). */
async function loseRecord(h: MasterHarness, id: string): Promise<void> {
  await h.store!.delete(`registrar/frameworks/${id}`);
}

async function comeBack(h2: MasterHarness, a: FakeAgent, c: Awaited<ReturnType<typeof clusterWithTask>>) {
  return h2
    .connectAgent({ resources: 'cpus:2;mem:1024' })
    .reregister([{ task: c.task, framework_id: c.id, state: TaskState.RUNNING }], a.id, [c.info]);
}

describe('master: frameworks adopted from re-registering agents after a failover', () => {
  it('keeps a framework whose record was lost: its task stays, it re-subscribes and reconciles RUNNING', async () => {
    const c = await clusterWithTask(3600);
    await loseRecord(c.h, c.id);
    const h2 = await c.h.failover();
    expect(h2.master.frameworks.has(c.id), 'the record is gone').to.equal(false);

    // The scheduler is back before its agent: asked to retry, not told its id is unknown.
    const early = await h2.connectScheduler().subscribe({ name: 'kept', id: c.id });
    expect(early.errors()).to.deep.equal(['AGORA_MASTER_FRAMEWORK_RECOVERING']);
    expect(early.peer.closed?.code).to.equal(1013);

    const back = await comeBack(h2, c.a, c);
    expect(back.peer.all('SHUTDOWN_FRAMEWORK'), 'no shutdown of the reported framework').to.have.length(0);
    expect(back.peer.all('KILL_TASK')).to.have.length(0);
    expect(h2.master.frameworks.get(c.id)?.info.name).to.equal('kept');
    expect([...h2.master.tasks.values()].map((t) => t.task.task_id)).to.deep.equal(['t1']);
    const rec = JSON.parse(h2.store!.raw(`registrar/frameworks/${c.id}`) ?? '{}');
    expect(rec.info?.id, 'recorded durably again for the next leader').to.equal(c.id);

    const f2: FakeScheduler = await h2.connectScheduler().subscribe({ name: 'kept', id: c.id });
    expect(f2.frameworkId).to.equal(c.id);
    f2.call({ type: 'RECONCILE', framework_id: '', reconcile: { tasks: [{ task_id: 't1', agent_id: c.a.id }] } });
    await h2.settle();
    expect(f2.updates().map((u) => [u.task_id, u.state])).to.deep.include(['t1', TaskState.RUNNING]);
  });

  it('tears an adopted framework down only after the re-subscribe window and then its failover timeout', async () => {
    const c = await clusterWithTask(30);
    await loseRecord(c.h, c.id);
    const h2 = await c.h.failover();
    const back = await comeBack(h2, c.a, c);
    const step = async (ms: number) => {
      for (let t = 0; t < ms; t += 5000) {
        back.answerPings();
        await h2.advance(5000);
      }
    };
    await step(WINDOW_MS + 25_000);
    expect(back.peer.all('SHUTDOWN_FRAMEWORK'), 'not before window + failover timeout').to.have.length(0);
    await step(10_000);
    expect(back.peer.all('SHUTDOWN_FRAMEWORK').map((m) => m.framework_id)).to.deep.equal([c.id]);
    expect(h2.master.frameworks.has(c.id)).to.equal(false);
  });

  it('adopts a framework whose record is unreadable, leaves that record alone and stays leader', async () => {
    const c = await clusterWithTask(3600);
    const key = `registrar/frameworks/${c.id}`;
    c.h.store!.plant(key, '{"torn');
    const h2 = await c.h.failover();
    expect(h2.master.counters.registrarBadRecords).to.equal(1);
    const back = await comeBack(h2, c.a, c);
    expect(back.peer.all('SHUTDOWN_FRAMEWORK')).to.have.length(0);
    expect(h2.master.frameworks.has(c.id)).to.equal(true);
    // Its version is unknown: writing over it would look like another master's write and fence this one.
    expect(h2.master.leading).to.equal(true);
    expect(h2.store!.raw(key)).to.equal('{"torn');
    expect(h2.master.counters.registrarWritesRefused).to.equal(1);
  });

  it('still shuts down a framework that was torn down while its agent was away', async () => {
    const c = await clusterWithTask(3600);
    c.a.drop();
    await c.h.settle();
    expect(await c.h.master.teardownFramework(c.id)).to.equal('torn down');
    const h2 = await c.h.failover();
    const back = await comeBack(h2, c.a, c);
    expect(back.peer.all('SHUTDOWN_FRAMEWORK').map((m) => m.framework_id)).to.deep.equal([c.id]);
    expect(h2.master.frameworks.has(c.id)).to.equal(false);
  });

  it('refuses an unknown framework id for good once every remembered agent is back', async () => {
    const c = await clusterWithTask(3600);
    const h2 = await c.h.failover();
    await comeBack(h2, c.a, c);
    const stranger = await h2.connectScheduler().subscribe({ name: 'x', id: 'never-issued' });
    expect(stranger.errors()).to.deep.equal(['AGORA_MASTER_UNKNOWN_FRAMEWORK']);
  });
});
