/** The driver's behaviour against the real master logic, on the test kit (virtual time, no sockets). */
import { expect } from 'chai';
import { MemoryStore } from '../../../master/testing/memory-store.js';
import { buildLaunchGroup, buildTaskInfo } from '../../../sdk/offers/index.js';
import type { Offer, TaskInfo, TaskStatus } from '../../../sdk/protocol/types.js';
import { Resources } from '../../../sdk/resources/index.js';
import type { DriverEvent, SchedulerDriver } from '../../../sdk/scheduler/index.js';
import { TestCluster } from '../../../sdk/testing/index.js';
import { backoffDelayMs } from '../../../sdk/transport/index.js';
import { seededRng } from '../../../sdk/util/random.js';

function task(offer: Offer, id: string): TaskInfo {
  return {
    name: id,
    task_id: id,
    agent_id: offer.agent_id,
    command: { value: 'sleep 100' },
    resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 1 } }],
  };
}

/** Launches one task per id on the first offers that come, once. */
function launchOnce(driver: SchedulerDriver, ids: string[]): void {
  const todo = [...ids];
  driver.on('offers', (offers) => {
    for (const o of offers) {
      const id = todo.shift();
      if (id) driver.launch(o, [task(o, id)]);
    }
  });
}

describe('SchedulerDriver on agora/sdk/testing', () => {
  let cluster: TestCluster;
  afterEach(async () => cluster?.stop());

  it('re-subscribes with exponential backoff and seeded jitter when heartbeats stop, and keeps its framework id', async () => {
    cluster = await TestCluster.start({ master: { schedulerHeartbeatSeconds: 10 } });
    const initialMs = 1_000;
    const driver = cluster.driver({
      framework: { name: 'hb', failover_timeout: 3600 },
      seed: 42,
      backoff: { initialMs, maxMs: 60_000 },
      missedHeartbeats: 3,
    });
    const subscribed: boolean[] = [];
    driver.on('subscribed', (s) => subscribed.push(s.resubscribed));
    let disconnected = 0;
    driver.on('disconnected', () => disconnected++);
    driver.start();
    await cluster.settle();
    const id = driver.frameworkId;
    expect(id).to.be.a('string');
    const link = cluster.link(driver);
    link.mute(true); // the master's events (heartbeats, SUBSCRIBED) no longer arrive
    await cluster.advance(4 * 30_000 + 20_000);
    link.mute(false);
    await cluster.until(() => subscribed.length === 2, { what: 're-subscription' });
    // Each new connection opened 3 heartbeat intervals after the last one (no event came) plus the
    // backoff drawn from the seeded jitter, doubling its ceiling every attempt.
    const rng = seededRng(42);
    const gaps = link.opened.slice(1).map((t, i) => t - link.opened[i]);
    expect(gaps.length).to.be.at.least(3);
    gaps.forEach((gap, attempt) => {
      expect(gap).to.equal(30_000 + backoffDelayMs(attempt, initialMs, 60_000, rng), `attempt ${attempt}`);
    });
    expect(subscribed).to.deep.equal([false, true]);
    expect(disconnected).to.equal(1);
    expect(driver.frameworkId).to.equal(id);
    expect(driver.subscribed).to.equal(true);
  });

  it('reconciles the tasks it knows after every subscription, asking again with backoff until each has a state, then implicitly', async () => {
    cluster = await TestCluster.start({ agents: 1, master: { agentReregisterTimeoutMs: 120_000 } });
    const driver = cluster.driver({
      framework: { name: 'rec', failover_timeout: 3600 },
      reconcile: { initialMs: 1_000, maxMs: 8_000 },
    });
    launchOnce(driver, ['t1']);
    let reconciled = 0;
    driver.on('reconciled', () => reconciled++);
    driver.start();
    await cluster.until(() => cluster.running().length === 1);
    expect(reconciled).to.equal(1); // the first subscription: nothing known yet, implicit only
    const link = cluster.link(driver);
    await cluster.failover({ rejoin: false }); // the agent holding t1 has not re-registered yet
    const since = link.calls.length;
    await cluster.until(() => driver.subscribed, { what: 're-subscription' });
    await cluster.advance(30_000);
    const explicit = () =>
      link.calls.slice(since).filter((c) => c.type === 'RECONCILE' && c.reconcile.tasks.length > 0);
    // The master holds the question for t1 while its agent may still come back (up to 120 s), and
    // says so in SUBSCRIBED: asked again after maxMs (8 s) rather than 1 s, 2 s, ...
    expect(explicit().length).to.be.at.least(3);
    const first = explicit()[0];
    expect(first.type === 'RECONCILE' ? first.reconcile.tasks.map((t) => t.task_id) : []).to.deep.equal(['t1']);
    expect(reconciled).to.equal(1);
    await cluster.agents[0].reconnect();
    await cluster.until(() => reconciled === 2, { what: 'reconciliation to finish' });
    const implicit = link.calls.slice(since).filter((c) => c.type === 'RECONCILE' && c.reconcile.tasks.length === 0);
    expect(implicit).to.have.length(1);
    expect(driver.tasks.get('t1')?.state).to.equal('TASK_RUNNING');
    const rounds = explicit().length;
    await cluster.advance(60_000);
    expect(explicit().length).to.equal(rounds); // no more asking once answered
  });

  it('after a failover, does not ask again while the master holds its questions, and hears of a task whose agent never came back', async () => {
    cluster = await TestCluster.start({ agents: 2, master: { agentReregisterTimeoutMs: 40_000 } });
    const driver = cluster.driver({
      framework: { name: 'hold', failover_timeout: 3600 },
      reconcile: { initialMs: 1_000, maxMs: 60_000 },
    });
    launchOnce(driver, ['t1', 't2']);
    let reconciled = 0;
    driver.on('reconciled', () => reconciled++);
    driver.start();
    await cluster.until(() => cluster.running().length === 2);
    const link = cluster.link(driver);
    await cluster.failover({ rejoin: false });
    const since = link.calls.length;
    await cluster.until(() => driver.subscribed, { what: 're-subscription' });
    const explicit = () =>
      link.calls.slice(since).filter((c) => c.type === 'RECONCILE' && c.reconcile.tasks.length > 0);
    await cluster.advance(20_000);
    expect(explicit(), 'asked once; the master holds the questions').to.have.length(1);
    const [back] = cluster.agents;
    const stays = driver.tasks.get('t1')?.agent_id === back.id ? 't1' : 't2';
    const lost = stays === 't1' ? 't2' : 't1';
    await back.reconnect();
    await cluster.until(() => driver.tasks.get(stays)?.state === 'TASK_RUNNING' && reconciled === 1, {
      what: 'the held question answered when the agent came back',
    });
    expect(explicit()).to.have.length(1);
    // The other agent never comes back: its window closes and the held question is answered.
    await cluster.advance(25_000);
    await cluster.until(() => reconciled === 2, { what: 'the last held question answered' });
    expect(driver.tasks.has(lost), 'a task whose agent never came back is no longer running').to.equal(false);
    expect(explicit(), 'still asked only once').to.have.length(1);
  });

  it('a reconciliation run started before a second SUBSCRIBED stops once the later run has started (knownTasks answered late)', async () => {
    cluster = await TestCluster.start({ agents: 1, master: { agentReregisterTimeoutMs: 120_000 } });
    // knownTasks() answers at once until `held` is set; then each call waits until the test answers it.
    let held = false;
    const waiting: ((tasks: { task_id: string }[]) => void)[] = [];
    const driver = cluster.driver({
      framework: { name: 'runs', failover_timeout: 3600 },
      reconcile: { initialMs: 1_000, maxMs: 60_000 },
      knownTasks: () => (held ? new Promise((r) => waiting.push(r)) : []),
    });
    launchOnce(driver, ['t1']);
    let reconciled = 0;
    driver.on('reconciled', () => reconciled++);
    driver.start();
    await cluster.until(() => cluster.running().length === 1);
    expect(reconciled).to.equal(1);
    const link = cluster.link(driver);
    held = true;
    // Run A: the SUBSCRIBED after a failover whose master still awaits the agent (a long hold).
    await cluster.failover({ rejoin: false });
    await cluster.until(() => waiting.length === 1, { what: 'the first run to ask knownTasks()' });
    const holdA = link.events.filter((e) => e.type === 'SUBSCRIBED').at(-1);
    expect(holdA?.type === 'SUBSCRIBED' ? holdA.subscribed.reconcile_hold_seconds : 0).to.be.above(0);
    // Run B: the agent is back, the link drops and the driver subscribes again.
    await cluster.agents[0].reconnect();
    link.reconnectNow();
    await cluster.until(() => waiting.length === 2, { what: 'the second run to ask knownTasks()' });
    const [answerA, answerB] = waiting;
    // The later run answers first and finishes: t1 asked once, answered, then the implicit question.
    answerB([{ task_id: 't1' }]);
    await cluster.until(() => reconciled === 2, { what: 'the later run to finish' });
    const reconciles = () => link.calls.filter((c) => c.type === 'RECONCILE').length;
    const before = reconciles();
    // The earlier run's knownTasks() answers now: that run must stop, not start the Reconciler
    // again (with run A's stale hold) and ask everything once more.
    answerA([{ task_id: 't1' }]);
    await cluster.advance(120_000);
    expect(reconciles(), 'RECONCILE calls after the stale run resumed').to.equal(before);
    expect(reconciled).to.equal(2);
  });

  it('keeps its framework id in a Store, so that a restarted framework gets its tasks back', async () => {
    cluster = await TestCluster.start({ agents: 1 });
    const store = new MemoryStore();
    const framework = { name: 'keeper', failover_timeout: 3600 };
    const first = cluster.driver({ framework, frameworkIdStore: store });
    launchOnce(first, ['a', 'b']);
    first.start();
    await cluster.until(() => cluster.running().length === 2);
    const id = first.frameworkId;
    await first.stop(); // the framework process dies
    await cluster.advance(10_000);
    const second = cluster.driver({ framework, frameworkIdStore: store });
    second.start();
    await cluster.until(() => second.tasks.size === 2, { what: 'the tasks to come back' });
    expect(second.frameworkId).to.equal(id);
    expect([...second.tasks.keys()].sort()).to.deep.equal(['a', 'b']);
    expect(cluster.master.state.frameworks.size).to.equal(1);
  });

  it('stops when another instance takes its framework over, keeping the id the other instance now uses', async () => {
    cluster = await TestCluster.start({ agents: 1 });
    const store = new MemoryStore();
    const framework = { name: 'twice', failover_timeout: 3600 };
    const first = cluster.driver({ framework, frameworkIdStore: store });
    const errors: string[] = [];
    first.on('error', (e) => errors.push(String(e.code)));
    first.start();
    await cluster.until(() => first.subscribed, { what: 'the first subscription' });
    let firstSubscriptions = 0;
    first.on('subscribed', () => firstSubscriptions++);
    const second = cluster.driver({ framework, frameworkIdStore: store });
    const secondErrors: string[] = [];
    second.on('error', (e) => secondErrors.push(String(e.code)));
    second.start();
    await cluster.until(() => second.subscribed, { what: 'the take-over' });
    // Long enough for many re-subscription attempts, had the first driver kept trying.
    await cluster.advance(120_000);
    expect(errors).to.include('AGORA_MASTER_FRAMEWORK_FAILED_OVER');
    expect(first.subscribed).to.equal(false);
    expect(second.subscribed, 'the second instance keeps the framework').to.equal(true);
    expect(firstSubscriptions, 'the first never takes it back').to.equal(0);
    expect(secondErrors, 'the second is never failed over').to.deep.equal([]);
    expect(second.frameworkId).to.equal(first.frameworkId);
    const kept = await store.get<string>('frameworks/twice/framework-id');
    expect(kept?.value, 'the id is not forgotten').to.equal(second.frameworkId);
  });

  it('declines offers the handlers left unused, with the configured filter', async () => {
    cluster = await TestCluster.start({ agents: 1 });
    const driver = cluster.driver({ framework: { name: 'picky' }, declineUnused: { refuseSeconds: 30 } });
    let offered = 0;
    driver.on('offers', (offers) => {
      offered += offers.length;
    });
    driver.start();
    await cluster.until(() => offered === 1);
    const declines = cluster.link(driver).calls.filter((c) => c.type === 'DECLINE');
    expect(declines).to.have.length(1);
    expect(declines[0].type === 'DECLINE' && declines[0].decline.filters).to.deep.equal({ refuse_seconds: 30 });
    await cluster.advance(29_000);
    expect(offered).to.equal(1); // filtered for 30 s
    await cluster.advance(2_000);
    expect(offered).to.equal(2);
  });

  it('wantOffers() after declines revives at once: the refusal filters are cleared', async () => {
    cluster = await TestCluster.start({ agents: 1 });
    const driver = cluster.driver({ framework: { name: 'eager' }, declineUnused: { refuseSeconds: 300 } });
    let offered = 0;
    driver.on('offers', () => offered++);
    driver.start();
    await cluster.until(() => offered === 1);
    await cluster.advance(10_000);
    expect(offered).to.equal(1); // declined, filtered for 300 s
    driver.wantOffers();
    await cluster.until(() => offered === 2, { what: 'an offer after REVIVE', withinMs: 1_000 });
  });

  it('keeps offers when declineUnused is false', async () => {
    cluster = await TestCluster.start({ agents: 1 });
    const driver = cluster.driver({ framework: { name: 'hoarder' }, declineUnused: false });
    driver.start();
    await cluster.advance(5_000);
    expect(cluster.link(driver).calls.filter((c) => c.type === 'DECLINE')).to.have.length(0);
    expect(cluster.master.state.offers.size).to.equal(1);
  });

  it('idle() suppresses offers (also after a re-subscription) and wantOffers() revives them', async () => {
    cluster = await TestCluster.start({ agents: 1 });
    const driver = cluster.driver({ framework: { name: 'lazy', failover_timeout: 3600 } });
    let offered = 0;
    driver.on('offers', () => offered++);
    driver.start();
    await cluster.until(() => offered === 1);
    driver.idle();
    await cluster.advance(60_000);
    expect(offered).to.equal(1);
    await cluster.failover();
    await cluster.until(() => driver.subscribed);
    await cluster.advance(60_000);
    expect(offered).to.equal(1); // suppressed again on the new master
    driver.wantOffers();
    await cluster.until(() => offered === 2, { what: 'offers after REVIVE', withinMs: 2_000 });
    const types = cluster.link(driver).calls.map((c) => c.type);
    expect(types.filter((t) => t === 'SUPPRESS')).to.have.length(2);
    expect(types.filter((t) => t === 'REVIVE')).to.have.length(1);
  });

  it('teardown() resolves once the master acknowledged it, with the tasks killed', async () => {
    cluster = await TestCluster.start({ agents: 1 });
    const driver = cluster.driver({ framework: { name: 'done' } });
    launchOnce(driver, ['t']);
    driver.start();
    await cluster.until(() => cluster.running().length === 1);
    let done = false;
    const p = driver.teardown().then(() => {
      done = true;
    });
    await cluster.settle();
    await p;
    expect(done).to.equal(true);
    expect(cluster.master.state.frameworks.size).to.equal(0);
    expect(cluster.agents[0].tasks.get('t')?.state).to.equal('TASK_KILLED');
  });

  it('teardown() whose acknowledgement was lost resolves when the master says the framework is gone on re-subscription', async () => {
    cluster = await TestCluster.start({ agents: 1 });
    const store = new MemoryStore();
    const driver = cluster.driver({ framework: { name: 'gone', failover_timeout: 3600 }, frameworkIdStore: store });
    driver.start();
    await cluster.until(() => driver.subscribed);
    const link = cluster.link(driver);
    link.mute(true); // the master gets the TEARDOWN, but its close of the connection is lost
    let done = false;
    const p = driver.teardown().then(() => {
      done = true;
    });
    await cluster.advance(10_000);
    expect(done).to.equal(false);
    expect(cluster.master.state.frameworks.size).to.equal(0);
    link.mute(false);
    await cluster.until(() => done, { what: 'teardown to be acknowledged', withinMs: 300_000, stepMs: 1_000 });
    await p;
    expect(cluster.link(driver).events.at(-1)).to.deep.include({ type: 'ERROR' });
    expect(await store.list('')).to.deep.equal([]); // the stored id is gone with the framework
  });

  it('hands events to an async iterator; offers are declined and updates acknowledged once the loop moves on', async () => {
    cluster = await TestCluster.start({ agents: 1 });
    const driver = cluster.driver({ framework: { name: 'iter' } });
    const seen: DriverEvent['type'][] = [];
    const loop = (async () => {
      for await (const ev of driver.events()) {
        seen.push(ev.type);
        if (ev.type === 'offers' && !seen.includes('update')) {
          const o = ev.offers[0];
          driver.launch(o, [task(o, 'it')]);
          await cluster.settle(); // the loop body takes time: nothing is declined meanwhile
          expect(cluster.link(driver).calls.filter((c) => c.type === 'DECLINE')).to.have.length(0);
        }
        if (ev.type === 'update' && ev.status.state === 'TASK_RUNNING') {
          expect(cluster.link(driver).calls.filter((c) => c.type === 'ACKNOWLEDGE')).to.have.length(0);
          break;
        }
      }
    })();
    driver.start();
    await cluster.until(() => seen.includes('update'));
    await loop;
    await cluster.settle();
    expect(seen.filter((t) => t !== 'reconciled' && t !== 'heartbeat').slice(0, 2)).to.deep.equal([
      'subscribed',
      'offers',
    ]);
    expect(cluster.link(driver).calls.filter((c) => c.type === 'ACKNOWLEDGE')).to.have.length(1);
  });

  it('the iterator ends when the driver stops', async () => {
    cluster = await TestCluster.start({ agents: 1 });
    const driver = cluster.driver({ framework: { name: 'iter2' } });
    const it = driver.events();
    driver.start();
    await cluster.settle();
    await driver.stop();
    const types: string[] = [];
    for await (const ev of it) types.push(ev.type);
    expect(types[0]).to.equal('subscribed');
  });

  it('launchGroup() launches a task group (LAUNCH_GROUP) whose tasks each report and are tracked', async () => {
    cluster = await TestCluster.start({ agents: 1 });
    const driver = cluster.driver({ framework: { name: 'pods' } });
    driver.once('offers', (offers) => {
      const o = offers[0];
      const op = buildLaunchGroup({
        executorId: 'pod-1',
        executorResources: Resources.parse('cpus:0.1;mem:32'),
        tasks: ['web', 'sidecar'].map((id) =>
          buildTaskInfo({
            id,
            agentId: o.agent_id,
            resources: Resources.parse('cpus:0.5;mem:64'),
            command: 'sleep 100',
          }),
        ),
      });
      driver.launchGroup(o, op.launch_group.executor, op.launch_group.task_group);
    });
    driver.start();
    await cluster.until(() => cluster.running().length === 2, { what: 'both tasks of the group' });
    await cluster.settle();
    expect([...driver.tasks.values()].map((t) => `${t.task_id}:${t.state}`).sort()).to.deep.equal([
      'sidecar:TASK_RUNNING',
      'web:TASK_RUNNING',
    ]);
  });

  it('updateFramework() renames the framework at the master and keeps the new info for re-subscriptions', async () => {
    cluster = await TestCluster.start({ agents: 1 });
    const driver = cluster.driver({ framework: { name: 'before', failover_timeout: 3600 } });
    driver.start();
    await cluster.until(() => driver.subscribed);
    driver.updateFramework({ name: 'after', failover_timeout: 3600 });
    await cluster.settle();
    expect(cluster.master.state.frameworks.get(driver.frameworkId ?? '')?.info.name).to.equal('after');
    await cluster.failover();
    await cluster.until(() => driver.subscribed);
    const sub = cluster
      .link(driver)
      .calls.filter((c) => c.type === 'SUBSCRIBE')
      .at(-1);
    expect(sub?.type === 'SUBSCRIBE' && sub.subscribe.framework_info.name).to.equal('after');
    expect(driver.message(cluster.agents[0].id, 'nobody', 'hi')).to.equal(true);
  });

  it('with implicitAcknowledgements false, acknowledges nothing until the framework calls acknowledge()', async () => {
    cluster = await TestCluster.start({ agents: 1 });
    const driver = cluster.driver({ framework: { name: 'manual' }, implicitAcknowledgements: false });
    const updates: TaskStatus[] = [];
    driver.on('update', (s) => updates.push(s));
    launchOnce(driver, ['m']);
    driver.start();
    await cluster.until(() => updates.some((u) => u.state === 'TASK_RUNNING'), { what: 'm running' });
    await cluster.advance(5_000);
    const acks = () => cluster.link(driver).calls.filter((c) => c.type === 'ACKNOWLEDGE');
    expect(acks()).to.have.length(0);
    const running = updates.find((u) => u.state === 'TASK_RUNNING' && u.uuid) as TaskStatus;
    expect(driver.acknowledge(running)).to.equal(true);
    await cluster.settle();
    expect(acks().map((c) => c.type === 'ACKNOWLEDGE' && c.acknowledge.uuid)).to.deep.equal([running.uuid]);
  });

  it('kill() and shutdown() end a task: the master tells the agent and the framework hears TASK_KILLED', async () => {
    cluster = await TestCluster.start({ agents: 1 });
    const driver = cluster.driver({ framework: { name: 'killer' } });
    const ended: string[] = [];
    driver.on('update', (s) => {
      if (s.state === 'TASK_KILLED') ended.push(s.task_id);
    });
    launchOnce(driver, ['k1', 'k2']);
    driver.start();
    await cluster.until(() => cluster.running().length === 2, { what: 'both running' });
    expect(driver.kill('k1')).to.equal(true);
    // A command task's executor id is its task id.
    expect(driver.shutdown('k2', cluster.agents[0].id)).to.equal(true);
    await cluster.until(() => ended.length === 2, { what: 'both killed', withinMs: 1_000 });
    expect(ended.sort()).to.deep.equal(['k1', 'k2']);
    expect(cluster.running()).to.have.length(0);
  });

  it('with suppressWhenIdle false, idle() sends no SUPPRESS: offers keep coming (and are declined)', async () => {
    cluster = await TestCluster.start({ agents: 1 });
    const driver = cluster.driver({
      framework: { name: 'awake' },
      suppressWhenIdle: false,
      declineUnused: { refuseSeconds: 1 },
    });
    let offered = 0;
    driver.on('offers', () => offered++);
    driver.start();
    await cluster.until(() => offered === 1);
    driver.idle();
    expect(driver.idling).to.equal(true);
    await cluster.advance(10_000);
    expect(offered).to.be.at.least(3);
    expect(cluster.link(driver).calls.filter((c) => c.type === 'SUPPRESS')).to.have.length(0);
  });

  it('accept() with operations and filters: the task runs and the offer is not declined as unused', async () => {
    cluster = await TestCluster.start({ agents: 1 });
    const driver = cluster.driver({ framework: { name: 'acceptor' } });
    driver.once('offers', ([o]) => {
      driver.accept([o.id], [{ type: 'LAUNCH', launch: { task_infos: [task(o, 'acc')] } }], { refuse_seconds: 7 });
    });
    driver.start();
    await cluster.until(() => cluster.agentOf('acc') !== undefined, { what: 'acc running', withinMs: 2_000 });
    const calls = cluster.link(driver).calls;
    const accept = calls.find((c) => c.type === 'ACCEPT');
    expect(accept?.type === 'ACCEPT' && accept.accept.filters).to.deep.equal({ refuse_seconds: 7 });
    expect(calls.filter((c) => c.type === 'DECLINE')).to.have.length(0);
  });
});
