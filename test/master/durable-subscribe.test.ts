/**
 * A new framework is told SUBSCRIBED only once its record is durable, as an agent is told
 * REGISTERED: the failover benchmark found frameworks whose record writes had failed after they
 * were subscribed; the next leader did not know them and shut their tasks down.
 */
import { expect } from 'chai';
import { MasterHarness } from '../../master/testing/index.js';
import { HeldStore } from '../support/held-store.js';

describe('master: a new framework is admitted only once its record is durable', () => {
  it('sends SUBSCRIBED after the registrar holds the framework, and the record names it', async () => {
    const h = await MasterHarness.start();
    const f = h.connectScheduler();
    let durableWhenSubscribed: boolean | undefined;
    f.peer.onSend = (m) => {
      if (m.type === 'SUBSCRIBED') {
        const id = m.subscribed.framework_id;
        durableWhenSubscribed = h.store!.raw(`registrar/frameworks/${id}`) !== undefined;
      }
    };
    await f.subscribe({ name: 'durable' });
    expect(f.frameworkId).to.be.a('string');
    expect(durableWhenSubscribed, 'the record was in the store when SUBSCRIBED went out').to.equal(true);
  });

  it('refuses, admits nothing and closes when the write fails; a retry once the store is back succeeds', async () => {
    const h = await MasterHarness.start();
    h.store!.failWrites = new Error('ZooKeeper went away');
    const f = await h.connectScheduler().subscribe({ name: 'unlucky' });
    expect(f.frameworkId).to.equal(undefined);
    expect(f.peer.all('SUBSCRIBED')).to.have.length(0);
    expect(f.errors()).to.include('AGORA_MASTER_REGISTRAR_UNAVAILABLE');
    expect(f.peer.closed?.code).to.equal(1011);
    expect(h.master.frameworks.size).to.equal(0);
    h.store!.failWrites = undefined;
    const again = await h.subscribe({ name: 'unlucky' });
    expect(h.master.frameworks.has(again.frameworkId!)).to.equal(true);
  });

  it('keeps a framework whose SUBSCRIBED went out across a failover (its record was durable)', async () => {
    const h = await MasterHarness.start();
    const f = await h.subscribe({ name: 'survivor', failover_timeout: 3600 });
    const h2 = await h.failover();
    expect(h2.master.frameworks.has(f.frameworkId!)).to.equal(true);
  });

  it('a scheduler that leaves before SUBSCRIBED leaves no record behind for a later leader to recover', async () => {
    const h = await MasterHarness.start();
    const f = h.connectScheduler();
    f.peer.deliver({ type: 'SUBSCRIBE', subscribe: { framework_info: { name: 'gone', failover_timeout: 3600 } } });
    f.peer.drop(); // before the record's write has landed
    await h.settle();
    const written = h.store!.writes.filter((k) => k.startsWith('registrar/frameworks/'));
    expect(written, 'its record was written').to.have.length(1);
    expect(h.store!.raw(written[0]), 'and removed once the write landed').to.equal(undefined);
    expect(h.master.frameworks.size).to.equal(0);
    const h2 = await h.failover();
    expect(h2.master.frameworks.size, 'frameworks the next leader recovers').to.equal(0);
  });

  it('a master that stepped down before the held write landed writes no removal (the next leader decides)', async () => {
    const store = new HeldStore();
    const h = await MasterHarness.start({ store });
    const f = h.connectScheduler();
    store.hold();
    f.peer.deliver({ type: 'SUBSCRIBE', subscribe: { framework_info: { name: 'gone', failover_timeout: 3600 } } });
    await h.settle();
    f.peer.drop();
    await h.settle();
    h.master.stepDown('deposed in the test');
    await h.settle();
    store.release();
    await h.settle();
    expect(
      store.values.some((v) => v.key.startsWith('registrar/frameworks/')),
      'the record was written',
    ).to.equal(true);
    expect(h.effects('forgetFramework'), 'a deposed master must not write to the registrar').to.have.length(0);
  });
});
