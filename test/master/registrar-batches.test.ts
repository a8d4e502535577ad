/**
 * Agents' registrar records kept many to a Store key (master/registrar-batches.ts): agents that
 * register together share writes, a new leader reads one key per 64 agents, every record reads
 * back, a failed write admits nobody, and records of the older one-key-per-agent layout still load
 * and are kept where they are.
 */
import { expect } from 'chai';
import type { FakeAgent } from '../../master/testing/index.js';
import { MasterHarness } from '../../master/testing/index.js';

const BATCHES = 'registrar/agent-batches/';

async function registerMany(h: MasterHarness, n: number): Promise<FakeAgent[]> {
  const agents = Array.from({ length: n }, (_, i) => h.connectAgent({ hostname: `a${i}` }));
  for (const a of agents) a.peer.deliver({ type: 'REGISTER', agent: a.info, version: 'fake' });
  await h.settle();
  for (const a of agents) a.id = a.peer.last('REGISTERED')?.agent_id;
  return agents;
}

describe('registrar: agents recorded many to a key', () => {
  it('200 agents registering at once take a handful of writes, and a new leader takes every one back', async () => {
    const h = await MasterHarness.start();
    const agents = await registerMany(h, 200);
    expect(agents.every((a) => a.id)).to.equal(true);
    const writes = h.store!.writes.filter((k) => k.startsWith('registrar/agent'));
    expect(writes.length, `writes: ${writes.length}`).to.be.at.most(8);
    expect(await h.store!.list(BATCHES)).to.have.length(4); // 64 + 64 + 64 + 8
    expect(await h.store!.list('registrar/agents/')).to.deep.equal([]);
    const h2 = await h.failover();
    expect(h2.master.agents.size).to.equal(200);
    const back = await h2.connectAgent({ hostname: 'a7' }).reregister([], agents[7].id);
    expect(back.peer.last('REREGISTERED')?.agent_id).to.equal(agents[7].id);
  });

  it('a failed write admits nobody, and the agent does not ride along in the batch’s next write', async () => {
    const h = await MasterHarness.start();
    const first = await h.addAgent({ hostname: 'first' });
    h.store!.failWrites = new Error('ZooKeeper went away');
    const unlucky = await h.connectAgent({ hostname: 'unlucky' }).register();
    expect(unlucky.peer.last('REGISTERED')).to.equal(undefined);
    expect(unlucky.peer.closed?.code).to.equal(1011);
    h.store!.failWrites = undefined;
    const later = await h.addAgent({ hostname: 'later' });
    const [key] = await h.store!.list(BATCHES);
    const stored = (await h.store!.get<{ agents: { info: { hostname: string } }[] }>(key))?.value.agents;
    expect(stored?.map((r) => r.info.hostname)).to.deep.equal(['first', 'later']);
    const h2 = await h.failover();
    expect([...h2.master.agents.keys()].sort()).to.deep.equal([first.id, later.id].sort());
  });

  it('a change of one agent rewrites its batch, and the next leader reads the change', async () => {
    const h = await MasterHarness.start();
    const [a, b] = await registerMany(h, 2);
    expect(await h.master.markGone(a.id!)).to.equal('marked');
    const h2 = await h.failover();
    expect(h2.master.agents.get(a.id!)?.state).to.equal('gone');
    expect(h2.master.agents.get(b.id!)?.state).to.equal('disconnected');
    expect(await h2.store!.list(BATCHES)).to.have.length(1);
  });

  it('skips one unreadable record in a batch and keeps the others', async () => {
    const h = await MasterHarness.start();
    const [a, b] = await registerMany(h, 2);
    const [key] = await h.store!.list(BATCHES);
    const v = JSON.parse(h.store!.raw(key) ?? '{}');
    v.agents[0].state = 'bogus';
    h.store!.plant(key, JSON.stringify(v));
    const h2 = await h.failover();
    expect(h2.master.counters.registrarBadRecords).to.equal(1);
    expect([...h2.master.agents.keys()]).to.deep.equal([b.id]);
    expect(h2.master.agents.has(a.id!)).to.equal(false);
  });

  it('keeps an agent of the older one-key layout in its own key', async () => {
    const h = await MasterHarness.start();
    await h.store!.put('registrar/agents/S-old', {
      info: { id: 'S-old', hostname: 'old', port: 5051, resources: [], attributes: {} },
      total: [],
      state: 'admitted',
    });
    const h2 = await h.failover();
    expect(await h2.master.markGone('S-old')).to.equal('marked');
    const raw = await h2.store!.get<{ state: string }>('registrar/agents/S-old');
    expect(raw?.value.state).to.equal('gone');
    expect(await h2.store!.list(BATCHES)).to.deep.equal([]);
  });
});
