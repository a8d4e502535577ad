import { MemoryStore, TestCluster } from 'agora/sdk/testing';
import { expect } from 'chai';
import { Journal } from '../../../frameworks/chronos/engine/journal.js';
import type { JobRecord, Run } from '../../../frameworks/chronos/engine/records.js';

import { allRuns, dueOf, finishAll, job, launched, lead, log, runFor, START, stopLeading } from './engine-rig.js';

describe('Chronos engine (agora/sdk/testing, virtual clock)', () => {
  let cluster: TestCluster;
  let store: MemoryStore;

  beforeEach(async () => {
    cluster = await TestCluster.start({ agents: 2, startMs: START });
    store = new MemoryStore();
  });
  afterEach(async () => {
    await cluster.stop();
  });

  it('launches each due time of a repeating job exactly once, at its due time', async () => {
    const l = await lead(cluster, store);
    await l.engine.upsert(
      job({ name: 'every10', schedule: `R/${new Date(START + 10_000).toISOString()}/PT10S` }, START),
    );
    await runFor(cluster, 65_000, () => finishAll(cluster));
    const tasks = [...launched(cluster).keys()];
    const dues = tasks.map(dueOf).sort((a, b) => a - b);
    expect(dues).to.deep.equal([1, 2, 3, 4, 5, 6].map((k) => START + k * 10_000));
    const runs = await allRuns(l.engine, 'every10');
    expect(runs.filter((r) => r.state === 'SUCCESS')).to.have.length(6);
    for (const r of runs) expect((r.launched as number) - r.due).to.be.lessThan(1500);
    await stopLeading(l);
  });

  it('a new leader reconciles first and neither loses nor doubles a run launched by the old one', async () => {
    const a = await lead(cluster, store);
    await a.engine.upsert(job({ name: 'j', schedule: `R/${new Date(START + 5_000).toISOString()}/PT20S` }, START));
    await runFor(cluster, 6_000); // the run due at +5 s is launched and running
    const first = [...launched(cluster).keys()];
    expect(first).to.have.length(1);
    await stopLeading(a); // the leader dies with the task running
    const running = cluster.running()[0];
    running?.agent.finish(running.taskId); // finishes while no leader runs
    const b = await lead(cluster, store);
    await runFor(cluster, 30_000, () => finishAll(cluster)); // +36 s: the +25 s run too
    const tasks = [...launched(cluster).keys()];
    expect(tasks.map(dueOf).sort()).to.deep.equal([START + 5_000, START + 25_000]);
    const runs = await allRuns(b.engine, 'j');
    const byDue = runs.filter((r) => r.state === 'SUCCESS').map((r) => r.due);
    expect(byDue.sort()).to.deep.equal([START + 5_000, START + 25_000]);
    await stopLeading(b);
  });

  it('a run recorded as launched whose task never reached the master is launched again, once', async () => {
    const a = await lead(cluster, store);
    await runFor(cluster, 1_000);
    // The old leader records the launch, then dies before its ACCEPT leaves.
    a.driver.launch = () => true;
    await a.engine.upsert(
      job({ name: 'lostlaunch', schedule: `R/${new Date(START + 3_000).toISOString()}/PT1H` }, START),
    );
    await runFor(cluster, 3_000);
    const rec = a.engine.get('lostlaunch');
    expect(rec?.state.runs.map((r) => r.state)).to.deep.equal(['LAUNCHED']);
    expect(launched(cluster).size).to.equal(0);
    await stopLeading(a);
    const b = await lead(cluster, store);
    await runFor(cluster, 10_000, () => finishAll(cluster));
    const tasks = [...launched(cluster).keys()];
    expect(tasks).to.have.length(1);
    expect(tasks[0]).to.match(/^ct:\d+:2:/); // attempt 2 of the same run
    const runs = await allRuns(b.engine, 'lostlaunch');
    expect(runs.map((r) => r.state)).to.deep.equal(['SUCCESS']);
    await stopLeading(b);
  });

  it('a new leader reconciles before launching: a run queued again after a lost report whose task is running is taken back, not doubled', async () => {
    const a = await lead(cluster, store);
    await a.engine.upsert(job({ name: 'back', schedule: `R/${new Date(START + 3_000).toISOString()}/PT1H` }, START));
    await runFor(cluster, 5_000); // launched and running
    const first = [...launched(cluster).keys()];
    expect(first).to.have.length(1);
    const t1 = first[0] as string;
    await stopLeading(a);
    // What the old leader wrote just before it died: the master had reported the task lost before
    // it was seen running (its agent unreachable for a moment), so the run was queued again as
    // attempt 2. The agent is back and the task runs.
    const j = new Journal(store, log);
    const recs = await j.load();
    const rec = recs.get('back') as JobRecord;
    const run = rec.state.runs[0] as Run;
    Object.assign(run, {
      state: 'QUEUED',
      attempt: 2,
      lostTaskId: run.taskId,
      lostAgentId: run.agentId,
      taskId: undefined,
      agentId: undefined,
      launched: undefined,
    });
    await j.commit('back', rec);
    j.stop();
    // The new leader holds offers at once; launching attempt 2 before the master answers about t1
    // would run the same due time twice. The master's first answer is slow (the question is lost;
    // the engine asks again 3 s later), so offers come first.
    const b = await lead(cluster, store, (d) => {
      const reconcile = d.reconcile.bind(d);
      let asked = 0;
      d.reconcile = (tasks) => (asked++ === 0 ? true : reconcile(tasks));
    });
    await runFor(cluster, 5_000);
    expect([...launched(cluster).keys()]).to.deep.equal([t1]);
    expect(b.engine.metrics.lostReclaimed).to.equal(1);
    finishAll(cluster);
    await runFor(cluster, 2_000);
    const runs = await allRuns(b.engine, 'back');
    expect(runs.map((r) => [r.state, r.taskId])).to.deep.equal([['SUCCESS', t1]]);
    expect([...launched(cluster).keys()]).to.deep.equal([t1]);
    await stopLeading(b);
  });

  it('records due times missed while no leader ran: SKIP skips them all, RUN_ONCE runs the latest', async () => {
    const a = await lead(cluster, store);
    const at = new Date(START + 10_000).toISOString();
    await a.engine.upsert(
      job({ name: 'skip', schedule: `R/${at}/PT10S`, epsilon: 'PT2S', missedRunPolicy: 'SKIP' }, START),
    );
    await a.engine.upsert(job({ name: 'once', schedule: `R/${at}/PT10S`, epsilon: 'PT2S' }, START));
    await stopLeading(a);
    await cluster.advance(45_000); // down across +10, +20, +30, +40
    const b = await lead(cluster, store);
    await runFor(cluster, 1_000, () => finishAll(cluster));
    const skip = await allRuns(b.engine, 'skip');
    expect(skip.map((r) => [r.due - START, r.state])).to.deep.equal([
      [10_000, 'SKIPPED'],
      [20_000, 'SKIPPED'],
      [30_000, 'SKIPPED'],
      [40_000, 'SKIPPED'],
    ]);
    for (const r of skip) expect(r.reason).to.match(/MISSED/);
    const once = (await allRuns(b.engine, 'once')).sort((x, y) => x.due - y.due);
    expect(once.map((r) => [r.due - START, r.state === 'SKIPPED' ? 'SKIPPED' : 'RUN'])).to.deep.equal([
      [10_000, 'SKIPPED'],
      [20_000, 'SKIPPED'],
      [30_000, 'SKIPPED'],
      [40_000, 'RUN'],
    ]);
    await stopLeading(b);
  });

  it('concurrency FORBID records the next due time as skipped while a run is still active', async () => {
    const l = await lead(cluster, store);
    await l.engine.upsert(job({ name: 'slow', schedule: `R/${new Date(START + 5_000).toISOString()}/PT10S` }, START));
    await runFor(cluster, 17_000); // +5 launched and still running at +15
    const runs = await allRuns(l.engine, 'slow');
    expect(runs.map((r) => [r.due - START, r.state])).to.deep.include.members([
      [5_000, 'LAUNCHED'],
      [15_000, 'SKIPPED'],
    ]);
    expect(launched(cluster).size).to.equal(1);
    await stopLeading(l);
  });

  it('retries a failed run after the delay, then records it FAILED when the retries are spent', async () => {
    cluster.onLaunch = 'TASK_FAILED';
    const l = await lead(cluster, store);
    await l.engine.upsert(
      job({ name: 'flaky', schedule: `R1/${new Date(START + 2_000).toISOString()}/PT1H`, retries: 2 }, START),
    );
    await runFor(cluster, 200_000);
    const tasks = [...launched(cluster).keys()].sort();
    expect(tasks.map((t) => t.split(':')[2])).to.deep.equal(['1', '2', '3']);
    const runs = await allRuns(l.engine, 'flaky');
    expect(runs.filter((r) => r.state === 'FAILED')).to.have.length(3);
    expect(l.engine.get('flaky')?.job.counters.errorCount).to.equal(1);
    await stopLeading(l);
  });

  it('runs a dependent chain of three jobs in order, once per parent success', async () => {
    const l = await lead(cluster, store);
    await l.engine.upsert(job({ name: 'a', schedule: `R2/${new Date(START + 2_000).toISOString()}/PT30S` }, START));
    await l.engine.upsert(job({ name: 'b', parents: ['a'] }, START));
    await l.engine.upsert(job({ name: 'c', parents: ['b'] }, START));
    await runFor(cluster, 70_000, () => finishAll(cluster));
    const rank = (t: string) => dueOf(t) * 10 + ['a', 'b', 'c'].indexOf(t.split(':')[3] as string);
    const order = [...launched(cluster).keys()].sort((x, y) => rank(x) - rank(y)).map((t) => t.split(':')[3]);
    expect(order).to.deep.equal(['a', 'b', 'c', 'a', 'b', 'c']);
    for (const n of ['a', 'b', 'c']) expect(l.engine.get(n)?.job.counters.successCount).to.equal(2);
    await stopLeading(l);
  });

  it('kills a run past maxCompletionTime, and kills on request', async () => {
    const l = await lead(cluster, store);
    await l.engine.upsert(
      job({ name: 'long', schedule: `R1/${new Date(START + 1_000).toISOString()}/PT1H`, maxCompletionTime: 5 }, START),
    );
    await l.engine.upsert(job({ name: 'manual', schedule: '', parents: ['long'] }, START));
    await runFor(cluster, 10_000);
    const long = await allRuns(l.engine, 'long');
    expect(long.map((r) => r.state)).to.deep.equal(['FAILED']);
    expect(long[0]?.reason).to.match(/maxCompletionTime/);
    await l.engine.runNow('manual', 'x y');
    await runFor(cluster, 1_000);
    expect(cluster.running()).to.have.length(1);
    await l.engine.kill('manual');
    await runFor(cluster, 1_000);
    expect(cluster.running()).to.have.length(0);
    expect((await allRuns(l.engine, 'manual')).map((r) => r.state)).to.deep.equal(['KILLED']);
    await stopLeading(l);
  });
});
