/**
 * After a failover the new leader holds allocation while the agents it remembers re-register (up
 * to `allocationHoldMs` after its election), then runs one cycle: offers made on a partial view in
 * the middle of thousands of re-registrations were declined and remade, and each cycle cost the new
 * leader time it needed to take the agents back.
 */
import { expect } from 'chai';
import { MasterHarness } from '../../master/testing/index.js';

async function twoAgentsOneFramework(hold: number) {
  const h = await MasterHarness.start({ allocationHoldMs: hold, agentReregisterTimeoutMs: 600_000 });
  const a = await h.addAgent({ hostname: 'a', resources: 'cpus:2;mem:1024' });
  const b = await h.addAgent({ hostname: 'b', resources: 'cpus:2;mem:1024' });
  const f = await h.subscribe({ name: 'fw', failover_timeout: 3600 });
  const h2 = await h.failover();
  const f2 = await h2.connectScheduler().subscribe({ name: 'fw', id: f.frameworkId });
  expect(f2.frameworkId).to.equal(f.frameworkId);
  return { h2, a, b, f2 };
}

describe('master: allocation held after a failover while agents re-register', () => {
  it('makes no offer until every remembered agent is back, then offers both at once', async () => {
    const { h2, a, b, f2 } = await twoAgentsOneFramework(5000);
    await h2.connectAgent({ hostname: 'a', resources: 'cpus:2;mem:1024' }).reregister([], a.id);
    await h2.advance(1500); // past the periodic allocation interval
    expect(f2.offers(), 'no offer on a partial view').to.have.length(0);
    await h2.connectAgent({ hostname: 'b', resources: 'cpus:2;mem:1024' }).reregister([], b.id);
    await h2.settle();
    expect(
      f2
        .offers()
        .map((o) => o.agent_id)
        .sort(),
    ).to.deep.equal([a.id, b.id].sort());
  });

  it('offers what is back once the hold runs out, if an agent never returns', async () => {
    const { h2, a, f2 } = await twoAgentsOneFramework(3000);
    await h2.connectAgent({ hostname: 'a', resources: 'cpus:2;mem:1024' }).reregister([], a.id);
    await h2.advance(2500);
    expect(f2.offers()).to.have.length(0);
    await h2.advance(1000);
    expect(f2.offers().map((o) => o.agent_id)).to.deep.equal([a.id]);
  });

  it('does not hold with allocationHoldMs 0', async () => {
    const { h2, a, f2 } = await twoAgentsOneFramework(0);
    await h2.connectAgent({ hostname: 'a', resources: 'cpus:2;mem:1024' }).reregister([], a.id);
    expect(f2.offers().map((o) => o.agent_id)).to.deep.equal([a.id]);
  });
});
