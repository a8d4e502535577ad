/**
 * The master's timers, driven through the harness with a virtual clock: nothing sleeps, every
 * timeout is crossed by moving time.
 */
import { expect } from 'chai';
import { MasterHarness } from '../../master/testing/index.js';
import { TaskState } from '../../sdk/protocol/types.js';

describe('master timers (harness, virtual clock)', () => {
  it('marks an agent that stops answering pings unreachable after maxAgentPingTimeouts, and reports its tasks LOST', async () => {
    const h = await MasterHarness.start({ agentPingTimeoutMs: 1000, maxAgentPingTimeouts: 3 });
    const a = await h.addAgent();
    const f = await h.subscribe({ name: 'fw' });
    await h.allocate();
    const [offer] = f.offers();
    f.launch(offer, [{ task_id: 't1', resources: 'cpus:1;mem:64' }]);
    a.update(f.frameworkId!, { task_id: 't1', state: TaskState.RUNNING });
    // Answering pings keeps it reachable however long it runs.
    for (let i = 0; i < 10; i++) {
      await h.advance(1000);
      a.answerPings();
    }
    expect(h.master.agents.get(a.id!)?.state).to.equal('active');
    // It stays connected but goes silent: pings 1..3 unanswered.
    await h.advance(2000);
    expect(h.master.agents.get(a.id!)?.state).to.equal('active');
    await h.advance(2000);
    expect(h.master.agents.get(a.id!)?.state).to.equal('unreachable');
    expect(a.peer.closed?.byMaster).to.equal(true);
    const lost = f.updates().find((u) => u.task_id === 't1' && u.state === TaskState.LOST);
    expect(lost?.reason).to.equal('REASON_AGENT_UNREACHABLE');
    expect(h.master.tasks.size).to.equal(0);
  });

  it('gives remembered agents a re-register window after a failover, then marks the absent ones unreachable', async () => {
    const h = await MasterHarness.start({ agentReregisterTimeoutMs: 60_000 });
    const back = await h.addAgent({ hostname: 'back' });
    const away = await h.addAgent({ hostname: 'away' });
    const h2 = await h.failover();
    expect([...h2.master.recovering].sort()).to.deep.equal([back.id, away.id].sort());
    const again = h2.connectAgent({ hostname: 'back' });
    await again.reregister([], back.id);
    expect(again.peer.last('REREGISTERED')?.agent_id).to.equal(back.id);
    await h2.advance(59_000);
    expect(h2.master.agents.get(away.id!)?.state).to.equal('disconnected');
    await h2.advance(1_000);
    expect(h2.master.agents.get(away.id!)?.state).to.equal('unreachable');
    expect(h2.master.agents.get(back.id!)?.state).to.equal('active');
    expect(h2.master.recovering.size).to.equal(0);
  });

  it('tears a disconnected framework down when its failover timeout runs out, not before', async () => {
    const h = await MasterHarness.start();
    const a = await h.addAgent();
    const f = await h.subscribe({ name: 'fw', failover_timeout: 30 });
    await h.allocate();
    f.launch(f.offers()[0], [{ task_id: 't1', resources: 'cpus:1;mem:64' }]);
    f.drop();
    await h.advance(29_000);
    expect(h.master.frameworks.has(f.frameworkId!)).to.equal(true);
    await h.advance(1_000);
    expect(h.master.frameworks.has(f.frameworkId!)).to.equal(false);
    expect(h.master.completedFrameworks.map((c) => c.id)).to.include(f.frameworkId);
    expect(a.peer.last('SHUTDOWN_FRAMEWORK')?.framework_id).to.equal(f.frameworkId);
  });

  it('a framework that re-subscribes within its failover timeout keeps its tasks', async () => {
    const h = await MasterHarness.start();
    await h.addAgent();
    const f = await h.subscribe({ name: 'fw', failover_timeout: 30 });
    await h.allocate();
    f.launch(f.offers()[0], [{ task_id: 't1', resources: 'cpus:1;mem:64' }]);
    f.drop();
    await h.advance(20_000);
    const f2 = await h.connectScheduler().subscribe({ name: 'fw', id: f.frameworkId, failover_timeout: 30 });
    expect(f2.frameworkId).to.equal(f.frameworkId);
    await h.advance(60_000);
    expect(h.master.frameworks.get(f.frameworkId!)?.tasks.size).to.equal(1);
  });

  it('rescinds offers held longer than the offer timeout', async () => {
    const h = await MasterHarness.start({ offerTimeoutMs: 10_000, allocationIntervalMs: 1000 });
    await h.addAgent();
    const f = await h.subscribe({ name: 'fw' });
    await h.allocate();
    const [offer] = f.offers();
    expect(offer).to.not.equal(undefined);
    await h.advance(9_000);
    expect(f.peer.all('RESCIND')).to.have.length(0);
    await h.advance(1_000);
    expect(f.peer.all('RESCIND').map((r) => r.rescind.offer_id)).to.include(offer.id);
    expect(h.master.offers.has(offer.id)).to.equal(false);
  });

  it('sends HEARTBEAT to connected frameworks at the interval SUBSCRIBED announces', async () => {
    const h = await MasterHarness.start({ schedulerHeartbeatSeconds: 5 });
    const f = await h.subscribe({ name: 'fw' });
    expect(f.peer.last('SUBSCRIBED')?.subscribed.heartbeat_interval_seconds).to.equal(5);
    await h.advance(4_999);
    expect(f.peer.all('HEARTBEAT')).to.have.length(0);
    await h.advance(1);
    expect(f.peer.all('HEARTBEAT')).to.have.length(1);
    await h.advance(10_000);
    expect(f.peer.all('HEARTBEAT')).to.have.length(3);
  });

  it('runs an allocation cycle every allocation interval, offering resources freed since', async () => {
    const h = await MasterHarness.start({ allocationIntervalMs: 2_000 });
    await h.settle();
    const runs = h.master.counters.allocationRuns;
    await h.advance(10_000);
    expect(h.master.counters.allocationRuns - runs).to.equal(5);
    await h.addAgent();
    const f = await h.subscribe({ name: 'fw' });
    await h.settle();
    f.decline(
      f.offers().map((o) => o.id),
      1,
    );
    const before = f.peer.all('OFFERS').length;
    await h.advance(2_000);
    expect(f.peer.all('OFFERS').length).to.be.greaterThan(before);
  });
});
