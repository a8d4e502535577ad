/**
 * A new agent is told REGISTERED only once its record is durable. An agent whose connection closed
 * while that record was being written never learnt its id: it registers again as a new agent (it
 * has no id to re-register with), so the record it left must not stay in the registrar, or a later
 * leader would wait for (and hold allocation for) an agent that no master ever admitted. The
 * agent twin of the framework case in durable-subscribe.test.ts.
 */
import { expect } from 'chai';
import { MasterHarness } from '../../master/testing/index.js';
import type { MemoryStore } from '../../master/testing/memory-store.js';
import { HeldStore } from '../support/held-store.js';

const BATCHES = 'registrar/agent-batches/';

/** The hostnames of the agents in the registrar's batches now. */
async function storedHostnames(store: MemoryStore): Promise<string[]> {
  const names: string[] = [];
  for (const key of await store.list(BATCHES)) {
    const v = await store.get<{ agents: { info: { hostname: string } }[] }>(key);
    for (const a of v?.value.agents ?? []) names.push(a.info.hostname);
  }
  return names.sort();
}

/** An agent that sends REGISTER while the store holds its writes, and whose connection then closes. */
async function registerThenLeave(h: MasterHarness, store: HeldStore, hostname: string) {
  const agent = h.connectAgent({ hostname });
  store.hold();
  agent.peer.deliver({ type: 'REGISTER', agent: agent.info, version: 'fake' });
  await h.settle();
  agent.drop(); // the write is still held: the connection closes before it lands
  await h.settle();
  return agent;
}

describe('master: a new agent that leaves before REGISTERED leaves no record behind', () => {
  it('its record, written after the connection closed, is removed once the write lands; no later leader recovers it', async () => {
    const store = new HeldStore();
    const h = await MasterHarness.start({ store });
    const kept = await h.addAgent({ hostname: 'kept' });
    const gone = await registerThenLeave(h, store, 'gone');
    store.release();
    await h.settle();
    expect(gone.peer.all('REGISTERED'), 'the agent never learnt an id').to.have.length(0);
    expect(
      store.values.some((v) => v.key.startsWith(BATCHES) && v.text.includes('"gone"')),
      'its record was written',
    ).to.equal(true);
    expect(await storedHostnames(store), 'and removed once the write landed').to.deep.equal(['kept']);
    expect(h.effects('forgetAgent').map((e) => e.agentId)).to.have.length(1);
    expect([...h.master.agents.keys()]).to.deep.equal([kept.id]);
    // The agent comes back with no id: it registers anew, under a new id.
    const again = await h.addAgent({ hostname: 'gone' });
    expect(await storedHostnames(store)).to.deep.equal(['gone', 'kept']);
    const h2 = await h.failover();
    expect([...h2.master.agents.keys()].sort(), 'agents the next leader recovers').to.deep.equal(
      [kept.id, again.id].sort(),
    );
  });

  it('a master that stepped down before the held write landed writes no removal (the next leader decides)', async () => {
    const store = new HeldStore();
    const h = await MasterHarness.start({ store });
    await registerThenLeave(h, store, 'gone');
    h.master.stepDown('deposed in the test');
    await h.settle();
    store.release();
    await h.settle();
    expect(h.effects('forgetAgent'), 'a deposed master must not write to the registrar').to.have.length(0);
  });

  it('a write that fails after the connection closed leaves nothing and removes nothing', async () => {
    const store = new HeldStore();
    const h = await MasterHarness.start({ store });
    const kept = await h.addAgent({ hostname: 'kept' });
    await registerThenLeave(h, store, 'gone');
    store.failWrites = new Error('ZooKeeper went away');
    store.release();
    await h.settle();
    store.failWrites = undefined;
    expect(await storedHostnames(store)).to.deep.equal(['kept']);
    expect(h.effects('forgetAgent'), 'no removal of a record never written').to.have.length(0);
    expect(h.master.counters.agentRegistrationsRefused).to.equal(0);
    const h2 = await h.failover();
    expect([...h2.master.agents.keys()]).to.deep.equal([kept.id]);
  });

  it('when the write that removes it fails, the next write of its batch leaves it out', async () => {
    const store = new HeldStore();
    const h = await MasterHarness.start({ store });
    await registerThenLeave(h, store, 'gone');
    store.afterPut = (_key, text) => {
      if (text.includes('"gone"')) store.failWrites = new Error('ZooKeeper went away');
    };
    store.release();
    await h.settle();
    expect(await storedHostnames(store), 'the removal did not land').to.deep.equal(['gone']);
    store.afterPut = undefined;
    store.failWrites = undefined;
    const later = await h.addAgent({ hostname: 'later' });
    expect(await storedHostnames(store)).to.deep.equal(['later']);
    const h2 = await h.failover();
    expect([...h2.master.agents.keys()]).to.deep.equal([later.id]);
  });

  it('an agent that stays is admitted as before once the held write lands', async () => {
    const store = new HeldStore();
    const h = await MasterHarness.start({ store });
    const a = h.connectAgent({ hostname: 'patient' });
    store.hold();
    a.peer.deliver({ type: 'REGISTER', agent: a.info, version: 'fake' });
    await h.settle();
    expect(a.peer.all('REGISTERED')).to.have.length(0);
    store.release();
    await h.settle();
    const id = a.peer.last('REGISTERED')?.agent_id;
    expect(id).to.be.a('string');
    expect(await storedHostnames(store)).to.deep.equal(['patient']);
    const h2 = await h.failover();
    expect([...h2.master.agents.keys()]).to.deep.equal([id]);
  });
});
