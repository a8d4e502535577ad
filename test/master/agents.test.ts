/**
 * Agent admission and status routing, through the harness: one agent per connection, no takeover
 * of a live agent's id, unknown ids refused, claimed tasks checked (D4); status updates and
 * acknowledgements only through the agent that holds the task (D3).
 */
import { expect } from 'chai';
import { MasterHarness } from '../../master/testing/index.js';
import { TaskState } from '../../sdk/protocol/types.js';

describe('master agents (harness)', () => {
  describe('registration trusts nobody (D4)', () => {
    it('keeps one agent per connection: a second REGISTER on it is ignored', async () => {
      const h = await MasterHarness.start();
      const a = await h.addAgent();
      a.peer.deliver({ type: 'REGISTER', agent: { ...a.info, hostname: 'again' }, version: 'x' });
      await h.settle();
      expect(h.master.agents.size).to.equal(1);
      expect(a.peer.all('REGISTERED')).to.have.length(1);
      expect(h.master.counters.agentRegistrationsRefused).to.equal(1);
    });

    it('refuses a REREGISTER with a live agent id from a second connection, without kicking the first', async () => {
      const h = await MasterHarness.start();
      const a = await h.addAgent();
      const impostor = h.connectAgent({ hostname: 'impostor', resources: 'cpus:64;mem:65536' });
      await impostor.reregister([], a.id);
      expect(impostor.peer.closed?.code).to.equal(1008);
      expect(impostor.peer.all('REREGISTERED')).to.have.length(0);
      expect(a.peer.open).to.equal(true);
      const entry = h.master.agents.get(a.id!)!;
      expect(entry.info.hostname).to.equal('agent');
      expect(entry.total.toString()).to.equal('cpus:4;disk:10000;mem:4096');
      // Once the first connection is gone, the agent may come back on another.
      a.drop();
      const back = await h.connectAgent().reregister([], a.id);
      expect(back.peer.last('REREGISTERED')?.agent_id).to.equal(a.id);
    });

    it('refuses an agent id the cluster never issued', async () => {
      const h = await MasterHarness.start();
      const fake = await h.connectAgent().reregister([], 'never-issued');
      expect(fake.peer.last('SHUTDOWN')?.message).to.match(/unknown to this cluster/);
      expect(fake.peer.closed?.byMaster).to.equal(true);
      expect(h.master.agents.size).to.equal(0);
    });

    it('creates no phantom framework and charges nobody for tasks it cannot check', async () => {
      const h = await MasterHarness.start();
      const a = await h.addAgent({ resources: 'cpus:2;mem:1024' });
      const f = await h.subscribe({ name: 'real' });
      a.drop();
      const task = (id: string, cpus: number) => ({
        name: id,
        task_id: id,
        agent_id: a.id!,
        resources: [
          { name: 'cpus', type: 'SCALAR' as const, scalar: { value: cpus } },
          { name: 'mem', type: 'SCALAR' as const, scalar: { value: 32 } },
        ],
        command: { value: 'true' },
      });
      const back = await h.connectAgent({ resources: 'cpus:2;mem:1024' }).reregister(
        [
          { task: task('ghost-task', 1), framework_id: 'ghost', state: TaskState.RUNNING },
          { task: task('too-big', 100), framework_id: f.frameworkId!, state: TaskState.RUNNING },
          { task: task('fits', 1), framework_id: f.frameworkId!, state: TaskState.RUNNING },
        ],
        a.id,
        [{ id: 'ghost', name: 'ghost' }],
      );
      expect(h.master.frameworks.has('ghost')).to.equal(false);
      expect(back.peer.all('SHUTDOWN_FRAMEWORK').map((m) => m.framework_id)).to.deep.equal(['ghost']);
      expect(back.peer.all('KILL_TASK').map((m) => m.task_id)).to.deep.equal(['too-big']);
      expect([...h.master.tasks.values()].map((t) => t.task.task_id)).to.deep.equal(['fits']);
      expect(h.master.agents.get(a.id!)?.used.toString()).to.equal('cpus:1;mem:32');
    });
  });

  describe('resources that overflow (D1)', () => {
    it('refuses an agent whose resources overflow, writing nothing, on REGISTER and on REREGISTER', async () => {
      const h = await MasterHarness.start();
      const huge = [
        { name: 'cpus', type: 'SCALAR' as const, scalar: { value: 1e306 } },
        { name: 'mem', type: 'SCALAR' as const, scalar: { value: 1.7e308 } },
      ];
      const a = await h.connectAgent({ resources: huge }).register();
      expect(a.peer.closed?.code).to.equal(1008);
      expect(h.master.agents.size).to.equal(0);
      expect(await h.store!.list('registrar/agents/')).to.deep.equal([]);
      const real = await h.addAgent();
      real.drop();
      const back = await h.connectAgent({ resources: huge }).reregister([], real.id);
      expect(back.peer.closed?.code).to.equal(1008);
      expect(h.master.agents.get(real.id!)?.total.toString()).to.equal('cpus:4;disk:10000;mem:4096');
      expect(h.master.counters.agentRegistrationsRefused).to.equal(2);
    });
  });

  describe('status routing (D3)', () => {
    async function twoAgentsOneTask() {
      const h = await MasterHarness.start();
      const a = await h.addAgent({ hostname: 'a', resources: 'cpus:1;mem:128' });
      const b = await h.addAgent({ hostname: 'b', resources: 'cpus:1;mem:128' });
      const f = await h.subscribe({ name: 'fw' });
      const offer = f.offers().find((o) => o.agent_id === a.id)!;
      f.launch(offer, [{ task_id: 't1', resources: 'cpus:1;mem:64' }]);
      const running = a.update(f.frameworkId!, { task_id: 't1', state: TaskState.RUNNING });
      await h.settle();
      return { h, a, b, f, running };
    }

    it('drops an update from an agent that does not hold the task: not forwarded, counted', async () => {
      const { h, b, f } = await twoAgentsOneTask();
      const before = f.updates().length;
      b.update(f.frameworkId!, { task_id: 't1', state: TaskState.FAILED });
      await h.settle();
      expect(f.updates()).to.have.length(before);
      expect(h.master.counters.statusUpdatesDropped).to.equal(1);
      expect([...h.master.tasks.values()][0].state).to.equal(TaskState.RUNNING);
    });

    it('routes an acknowledgement only to the agent that holds the task', async () => {
      const { h, a, b, f, running } = await twoAgentsOneTask();
      f.acknowledge({ ...running, agent_id: b.id });
      expect(b.peer.all('ACK_UPDATE')).to.have.length(0);
      expect(h.master.counters.acknowledgementsDropped).to.equal(1);
      f.acknowledge({ ...running, agent_id: a.id });
      expect(a.peer.last('ACK_UPDATE')?.uuid).to.equal(running.uuid);
    });
  });
});
