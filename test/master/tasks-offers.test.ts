/**
 * Tasks and offers through the harness: an invalid task in an ACCEPT gets TASK_ERROR and the
 * connection stays (D11); task state never goes backwards (D13); OFFERS are split under the frame
 * limit and what cannot be sent is not booked (D14).
 */
import { expect } from 'chai';
import { isStale } from '../../master/state/index.js';
import { MasterHarness } from '../../master/testing/index.js';
import { TaskState } from '../../sdk/protocol/types.js';

describe('master tasks and offers (harness)', () => {
  describe('an invalid field in an ACCEPT (D11)', () => {
    it('answers the bad task with TASK_ERROR (REASON_TASK_INVALID), launches the good one, keeps the connection', async () => {
      const h = await MasterHarness.start();
      const a = await h.addAgent();
      const f = await h.subscribe({ name: 'fw', failover_timeout: 0 });
      const offer = f.offers()[0];
      f.launch(offer, [
        {
          task_id: 'negative',
          resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: -1 } }],
        },
        { task_id: 'good', resources: 'cpus:1;mem:64' },
      ]);
      await h.settle();
      const err = f.updates().find((u) => u.task_id === 'negative');
      expect(err?.state).to.equal(TaskState.ERROR);
      expect(err?.reason).to.equal('REASON_TASK_INVALID');
      expect(a.runTasks().map((t) => t.task_id)).to.deep.equal(['good']);
      expect(f.peer.open).to.equal(true);
      expect(h.master.frameworks.get(f.frameworkId!)?.connected).to.equal(true);
    });
  });

  describe('task state never goes backwards (D13)', () => {
    it('keeps RUNNING when a stale STARTING arrives after it, and still forwards it for acknowledgement', async () => {
      const h = await MasterHarness.start();
      const a = await h.addAgent();
      const f = await h.subscribe({ name: 'fw' });
      f.launch(f.offers()[0], [{ task_id: 't1', resources: 'cpus:1;mem:64' }]);
      a.update(f.frameworkId!, { task_id: 't1', state: TaskState.RUNNING });
      const stale = a.update(f.frameworkId!, { task_id: 't1', state: TaskState.STARTING });
      const t = [...h.master.tasks.values()][0];
      expect(t.state).to.equal(TaskState.RUNNING);
      expect(h.master.counters.tasks[TaskState.RUNNING]).to.equal(1);
      expect(f.updates().map((u) => u.uuid)).to.include(stale.uuid);
      // Reconciliation answers with the newer state.
      f.call({ type: 'RECONCILE', framework_id: '', reconcile: { tasks: [{ task_id: 't1' }] } });
      expect(f.updates().at(-1)?.state).to.equal(TaskState.RUNNING);
    });

    it('orders states: terminal stays terminal, later stages win', () => {
      expect(isStale(TaskState.RUNNING, TaskState.STARTING)).to.equal(true);
      expect(isStale(TaskState.KILLING, TaskState.RUNNING)).to.equal(true);
      expect(isStale(TaskState.FINISHED, TaskState.RUNNING)).to.equal(true);
      expect(isStale(TaskState.FAILED, TaskState.KILLED)).to.equal(true);
      expect(isStale(TaskState.STAGING, TaskState.RUNNING)).to.equal(false);
      expect(isStale(TaskState.RUNNING, TaskState.RUNNING)).to.equal(false);
      expect(isStale(TaskState.RUNNING, TaskState.FINISHED)).to.equal(false);
    });
  });

  describe('OFFERS under the frame limit (D14)', () => {
    it('splits one cycle for one framework into several frames, each under the limit, offering every agent', async () => {
      const maxFrameBytes = 4096;
      const h = await MasterHarness.start({ maxFrameBytes });
      const f = await h.subscribe({ name: 'fw' });
      f.peer.clear();
      for (let i = 0; i < 60; i++) h.connectAgent({ hostname: `agent-${i}`, attributes: { rack: `r${i}` } }).register();
      await h.settle();
      await h.allocate();
      const frames = f.peer.all('OFFERS');
      expect(frames.length).to.be.greaterThan(1);
      for (const bytes of f.peer.frameBytes) expect(bytes).to.be.at.most(maxFrameBytes);
      expect(new Set(f.offers().map((o) => o.agent_id)).size).to.equal(60);
      expect(h.master.offers.size).to.equal(60);
    });

    it('never books offers whose frame could not be sent', async () => {
      const h = await MasterHarness.start();
      const f = await h.subscribe({ name: 'fw' });
      f.peer.failSends = true;
      for (let i = 0; i < 5; i++) await h.addAgent({ hostname: `a${i}` });
      await h.allocate();
      expect(h.master.offers.size).to.equal(0);
      for (const a of h.master.agents.values()) expect(a.offered.isEmpty()).to.equal(true);
      expect(h.master.frameworks.get(f.frameworkId!)?.allocated.size).to.equal(0);
    });
  });

  describe('allocation as an effect', () => {
    it('asks for a plan with an allocate effect and books what the allocationResult says', async () => {
      const h = await MasterHarness.start();
      await h.addAgent();
      h.trace.length = 0;
      await h.subscribe({ name: 'fw' });
      const i = h.trace.findIndex((t) => t.effects.some((e) => e.kind === 'allocate'));
      expect(i).to.be.at.least(0);
      const next = h.trace[i + 1].event;
      expect(next.type).to.equal('allocationResult');
      expect(next.type === 'allocationResult' && next.plan.offers.length).to.equal(1);
      expect(h.master.offers.size).to.equal(1);
    });

    it('survives an allocator that throws: no offers that cycle, the master goes on', async () => {
      let fail = true;
      const h = await MasterHarness.start({
        allocate: () => {
          if (fail) throw new RangeError('boom');
          return { offers: [], skipped: {} };
        },
      });
      await h.addAgent();
      const f = await h.subscribe({ name: 'fw' });
      expect(f.offers()).to.have.length(0);
      fail = false;
      const runs = h.master.counters.allocationRuns;
      await h.advance(1000);
      expect(h.master.counters.allocationRuns).to.be.greaterThan(runs);
      expect(h.master.leading).to.equal(true);
    });
  });
});
