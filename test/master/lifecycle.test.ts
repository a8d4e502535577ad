/**
 * Offers and tasks across an agent's life, through the harness: offers rescinded when the agent
 * disconnects, becomes unreachable or is marked gone; ACCEPT of a rescinded offer; re-registration
 * with changed resources; reconciliation answers for a partition-aware framework.
 */
import { expect } from 'chai';
import { MasterHarness } from '../../master/testing/index.js';
import { TaskState } from '../../sdk/protocol/types.js';

describe('master agent lifecycle (harness)', () => {
  it('rescinds an agent offer when the agent disconnects, and an ACCEPT of it then gets TASK_ERROR', async () => {
    const h = await MasterHarness.start();
    const a = await h.addAgent();
    const f = await h.subscribe({ name: 'fw' });
    const [offer] = f.offers();
    a.drop();
    expect(f.peer.all('RESCIND').map((r) => r.rescind.offer_id)).to.deep.equal([offer.id]);
    f.accept(
      [offer.id],
      [
        {
          type: 'LAUNCH',
          launch: {
            task_infos: [
              { name: 't', task_id: 't', agent_id: a.id!, resources: offer.resources, command: { value: 'true' } },
            ],
          },
        },
      ],
    );
    const u = f.updates().at(-1);
    expect(u?.state).to.equal(TaskState.ERROR);
    expect(u?.reason).to.equal('REASON_INVALID_OFFERS');
    expect(h.master.tasks.size).to.equal(0);
  });

  it('marks an agent gone: its offers are rescinded, its tasks end, it is told to shut down, and its id is refused after', async () => {
    const h = await MasterHarness.start();
    const a = await h.addAgent({ resources: 'cpus:2;mem:256' });
    const f = await h.subscribe({ name: 'fw', capabilities: [{ type: 'PARTITION_AWARE' }] });
    f.launch(f.offers()[0], [{ task_id: 't1', resources: 'cpus:1;mem:64' }], 0);
    await h.settle();
    const rest = f.offers()[0];
    expect(await h.master.markGone(a.id!)).to.equal('marked');
    expect(f.peer.all('RESCIND').map((r) => r.rescind.offer_id)).to.include(rest.id);
    expect(f.updates().at(-1)?.state).to.equal(TaskState.GONE_BY_OPERATOR);
    expect(a.peer.last('SHUTDOWN')).to.not.equal(undefined);
    const back = await h.connectAgent().reregister([], a.id);
    expect(back.peer.last('SHUTDOWN')?.message).to.match(/marked gone/);
    expect(await h.master.markGone(a.id!)).to.equal('already');
    expect(await h.master.markGone('nope')).to.equal('unknown');
  });

  it('takes an agent back with its changed resources when it re-registers', async () => {
    const h = await MasterHarness.start();
    const a = await h.addAgent({ resources: 'cpus:2;mem:256' });
    a.drop();
    const bigger = h.connectAgent({ resources: 'cpus:8;mem:1024' });
    await bigger.reregister([], a.id);
    expect(h.master.agents.get(a.id!)?.total.toString()).to.equal('cpus:8;mem:1024');
    const f = await h.subscribe({ name: 'fw' });
    expect(f.offers()[0].resources).to.deep.equal(h.master.agents.get(a.id!)?.total.toList());
  });

  it('answers reconciliation for a partition-aware framework: UNREACHABLE on an unreachable agent, UNKNOWN otherwise', async () => {
    const h = await MasterHarness.start({ agentPingTimeoutMs: 1000, maxAgentPingTimeouts: 2 });
    const a = await h.addAgent();
    const f = await h.subscribe({ name: 'fw', capabilities: [{ type: 'PARTITION_AWARE' }] });
    f.launch(f.offers()[0], [{ task_id: 't1', resources: 'cpus:1;mem:64' }]);
    await h.advance(3000);
    expect(h.master.agents.get(a.id!)?.state).to.equal('unreachable');
    expect(f.updates().at(-1)?.state).to.equal(TaskState.UNREACHABLE);
    f.call({
      type: 'RECONCILE',
      framework_id: '',
      reconcile: {
        tasks: [
          { task_id: 'other', agent_id: a.id },
          { task_id: 'nowhere', agent_id: 'no-such-agent' },
        ],
      },
    });
    const [onUnreachable, unknown] = f.updates().slice(-2);
    expect(onUnreachable.state).to.equal(TaskState.UNREACHABLE);
    expect(unknown.state).to.equal(TaskState.UNKNOWN);
  });
});
