/**
 * Framework subscription rules, through the harness: one framework per connection (D2), ids a
 * caller brings must be known (D6), SUPPRESS/REVIVE only the framework's roles (D8), and a
 * re-subscribe window after a master failover (D12).
 */
import { expect } from 'chai';
import { MasterHarness } from '../../master/testing/index.js';
import { TaskState } from '../../sdk/protocol/types.js';

describe('master frameworks (harness)', () => {
  describe('one framework per connection (D2)', () => {
    it('refuses a second SUBSCRIBE for another framework on the same connection and keeps the first', async () => {
      const h = await MasterHarness.start();
      await h.addAgent();
      const f = await h.subscribe({ name: 'first', failover_timeout: 10 });
      const first = f.frameworkId!;
      f.peer.deliver({ type: 'SUBSCRIBE', subscribe: { framework_info: { name: 'second' } } });
      await h.settle();
      expect(f.errors()).to.include('AGORA_MASTER_ALREADY_SUBSCRIBED');
      expect(f.peer.open).to.equal(true);
      expect([...h.master.frameworks.keys()]).to.deep.equal([first]);
      expect(h.master.frameworks.get(first)?.connected).to.equal(true);
      // The first is not orphaned: when its connection goes, its failover timeout runs.
      f.drop();
      expect(h.master.frameworks.get(first)?.connected).to.equal(false);
      expect(h.master.offers.size).to.equal(0);
      await h.advance(10_000);
      expect(h.master.frameworks.has(first)).to.equal(false);
    });

    it('answers a repeated SUBSCRIBE with the same id on the same connection with SUBSCRIBED again', async () => {
      const h = await MasterHarness.start();
      const f = await h.subscribe({ name: 'fw' });
      await f.subscribe({ name: 'fw', id: f.frameworkId });
      expect(f.peer.all('SUBSCRIBED')).to.have.length(2);
      expect(h.master.frameworks.size).to.equal(1);
    });

    it('does not run an allocation per failed OFFERS send (no allocation storm)', async () => {
      const h = await MasterHarness.start({ allocationIntervalMs: 1000 });
      const f = await h.subscribe({ name: 'fw' });
      f.peer.failSends = true;
      for (let i = 0; i < 3; i++) await h.addAgent({ hostname: `a${i}` });
      const runs = h.master.counters.allocationRuns;
      await h.advance(5_000);
      // One cycle per interval tick, none triggered by the failed sends.
      expect(h.master.counters.allocationRuns - runs).to.equal(5);
      expect(h.master.counters.offersSent).to.be.greaterThan(0);
      // What could not be sent is not booked.
      expect(h.master.offers.size).to.equal(0);
    });
  });

  describe('framework ids brought by the caller (D6)', () => {
    it('refuses SUBSCRIBE with an id this cluster never issued, and creates nothing', async () => {
      const h = await MasterHarness.start();
      const f = h.connectScheduler();
      await f.subscribe({ name: 'squatter', id: 'made-up-id' });
      expect(f.errors()).to.deep.equal(['AGORA_MASTER_UNKNOWN_FRAMEWORK']);
      expect(f.peer.closed?.byMaster).to.equal(true);
      expect(h.master.frameworks.size).to.equal(0);
    });

    it('cannot take over a live framework by naming a made-up id, and a known id fails the old connection over', async () => {
      const h = await MasterHarness.start();
      const real = await h.subscribe({ name: 'real' });
      const other = await h.subscribe({ name: 'other' });
      expect(other.frameworkId).to.not.equal(real.frameworkId);
      const again = await h.connectScheduler().subscribe({ name: 'real', id: real.frameworkId });
      expect(again.frameworkId).to.equal(real.frameworkId);
      expect(real.errors()).to.include('AGORA_MASTER_FRAMEWORK_FAILED_OVER');
      expect(real.peer.closed?.byMaster).to.equal(true);
    });

    it('refuses the id of a torn-down framework', async () => {
      const h = await MasterHarness.start();
      const f = await h.subscribe({ name: 'fw' });
      f.call({ type: 'TEARDOWN', framework_id: '' });
      const g = await h.connectScheduler().subscribe({ name: 'fw', id: f.frameworkId });
      expect(g.errors()).to.deep.equal(['AGORA_MASTER_FRAMEWORK_REMOVED']);
    });
  });

  describe('SUPPRESS and REVIVE with roles (D8)', () => {
    it('refuses roles the framework did not subscribe with and stores none of them', async () => {
      const h = await MasterHarness.start();
      const f = await h.subscribe({ name: 'fw', roles: ['a', 'b'] });
      const many = Array.from({ length: 1000 }, (_, i) => `made-up-${i}`);
      f.call({ type: 'SUPPRESS', framework_id: '', suppress: { roles: ['a', ...many] } });
      expect(f.errors()).to.deep.equal(['AGORA_MASTER_ROLE_NOT_SUBSCRIBED']);
      const fw = h.master.frameworks.get(f.frameworkId!)!;
      expect([...fw.suppressedRoles]).to.deep.equal([]);
      f.call({ type: 'SUPPRESS', framework_id: '', suppress: { roles: ['a'] } });
      expect([...fw.suppressedRoles]).to.deep.equal(['a']);
      f.call({ type: 'REVIVE', framework_id: '', revive: { roles: ['zzz'] } });
      expect([...fw.suppressedRoles]).to.deep.equal(['a']);
      f.call({ type: 'REVIVE', framework_id: '', revive: { roles: ['a'] } });
      expect([...fw.suppressedRoles]).to.deep.equal([]);
    });
  });

  describe('after a master failover (D12)', () => {
    it('a failover_timeout 0 framework keeps its running task if it re-subscribes within the window', async () => {
      const h = await MasterHarness.start({ frameworkResubscribeTimeoutMs: 60_000 });
      const a = await h.addAgent();
      const f = await h.subscribe({ name: 'execute', failover_timeout: 0 });
      f.launch(f.offers()[0], [{ task_id: 't1', resources: 'cpus:1;mem:64' }]);
      a.update(f.frameworkId!, { task_id: 't1', state: TaskState.RUNNING });
      await h.settle();
      const [task] = a.runTasks();
      // The master dies; a new one is elected from the same registrar.
      const h2 = await h.failover();
      await h2.advance(5_000);
      expect(h2.master.frameworks.has(f.frameworkId!)).to.equal(true);
      const a2 = h2.connectAgent();
      await a2.reregister([{ task, framework_id: f.frameworkId!, state: TaskState.RUNNING }], a.id);
      const f2 = await h2.connectScheduler().subscribe({ name: 'execute', id: f.frameworkId, failover_timeout: 0 });
      expect(f2.frameworkId).to.equal(f.frameworkId);
      for (let i = 0; i < 12; i++) {
        await h2.advance(10_000);
        a2.answerPings();
      }
      expect(h2.master.frameworks.has(f.frameworkId!)).to.equal(true);
      expect(h2.master.tasks.size).to.equal(1);
      expect(a2.peer.all('SHUTDOWN_FRAMEWORK')).to.have.length(0);
    });

    it('a remembered framework that does not come back is torn down once the window and its failover timeout pass', async () => {
      const h = await MasterHarness.start({ frameworkResubscribeTimeoutMs: 60_000 });
      const f = await h.subscribe({ name: 'gone', failover_timeout: 30 });
      const h2 = await h.failover();
      await h2.advance(60_000);
      expect(h2.master.frameworks.has(f.frameworkId!)).to.equal(true);
      await h2.advance(30_000);
      expect(h2.master.frameworks.has(f.frameworkId!)).to.equal(false);
      expect(h2.master.completedFrameworks.map((c) => c.id)).to.include(f.frameworkId);
    });
  });

  describe('role names at SUBSCRIBE', () => {
    it('refuses a role name that breaks the rules, and creates nothing', async () => {
      const h = await MasterHarness.start();
      for (const bad of ['../etc', 'a b', 'x\n', '/', 'a\u0000b', 'r'.repeat(1000)]) {
        const f = await h.connectScheduler().subscribe({ name: 'fw', roles: [bad] });
        expect(f.errors(), JSON.stringify(bad)).to.deep.equal(['AGORA_MASTER_INVALID_FRAMEWORK_ROLE']);
        expect(f.peer.closed?.byMaster).to.equal(true);
      }
      expect(h.master.frameworks.size).to.equal(0);
      const ok = await h.subscribe({ name: 'fw', roles: ['eng/web', '*'] });
      expect(h.master.frameworks.get(ok.frameworkId!)?.roles).to.deep.equal(['eng/web', '*']);
    });
  });

  describe('effects as values', () => {
    it('a disconnection arms the named failover timer for failover_timeout and persists nothing new', async () => {
      const h = await MasterHarness.start();
      const f = await h.subscribe({ name: 'fw', failover_timeout: 42 });
      expect(h.effects('persistFramework').map((p) => p.record.info.id)).to.deep.equal([f.frameworkId]);
      h.trace.length = 0;
      f.drop();
      expect(h.effects('arm')).to.deep.include({
        kind: 'arm',
        timer: `framework-failover:${f.frameworkId}`,
        ms: 42_000,
      });
      expect(h.effects('persistFramework')).to.have.length(0);
    });
  });
});
