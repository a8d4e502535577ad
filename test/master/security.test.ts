/**
 * Security on the WebSocket protocol, through the harness (no sockets): framework and agent ids
 * bound to the principal that first subscribed/registered them (no takeover by knowing an id, also
 * after a failover, with records written before binding still loading), authentication when the
 * master requires it, the ACLs on SUBSCRIBE roles, task users, TEARDOWN and RESERVE/UNRESERVE, and
 * the shell's caps on connections per address and connections that never get in.
 */
import { expect } from 'chai';
import { MasterHarness, MemoryStore } from '../../master/testing/index.js';
import { parseAcls, SecurityAuthorizer } from '../../sdk/auth/index.js';
import { TaskState } from '../../sdk/protocol/types.js';
import { Resources } from '../../sdk/resources/resources.js';
import { VirtualClock } from '../../sdk/util/clock.js';

/** The `permits` of a SecurityAuthorizer over these Mesos-format ACLs. */
function permitsOf(acls: object) {
  const a = new SecurityAuthorizer({ acls: parseAcls(JSON.stringify(acls)), clock: new VirtualClock(0) });
  return (p: string | undefined, action: string, object: string | undefined) => a.permits(p, action, object);
}

describe('master protocol security (harness)', () => {
  describe('framework ids bound to their principal', () => {
    it('refuses SUBSCRIBE with a live framework id from another authenticated principal, and leaves the framework as it was', async () => {
      const h = await MasterHarness.start();
      await h.addAgent();
      const alice = await h.subscribe({ name: 'alice-fw', failover_timeout: 60 }, { principal: 'alice' });
      const id = alice.frameworkId!;
      const offersBefore = h.master.frameworks.get(id)?.offers.size;
      const bob = h.connectScheduler({ principal: 'bob' });
      await bob.subscribe({ name: 'stolen', id });
      expect(bob.errors()).to.deep.equal(['AGORA_AUTH_ID_BOUND']);
      expect(bob.peer.closed?.byMaster).to.equal(true);
      expect(bob.peer.closed?.reason).to.match(/^AGORA_AUTH_ID_BOUND/);
      // Untouched: still on alice's connection, her name, her offers, no failover notice to her.
      const fw = h.master.frameworks.get(id)!;
      expect(fw.connected).to.equal(true);
      expect(alice.peer.open).to.equal(true);
      expect(alice.errors()).to.deep.equal([]);
      expect(fw.info.name).to.equal('alice-fw');
      expect(fw.principal).to.equal('alice');
      expect(fw.offers.size).to.equal(offersBefore);
      expect(h.master.counters.authRefusals).to.equal(1);
      // The message names neither principal.
      const msg = bob.peer.last('ERROR')?.error.message ?? '';
      expect(msg).to.not.include('alice');
      // Alice's connection still carries the framework: the heartbeats come to her.
      await h.advance(15_000);
      expect(alice.peer.all('HEARTBEAT').length).to.be.greaterThan(0);
    });

    it('refuses a disconnected framework id to another principal, and lets its own principal fail over to it', async () => {
      const h = await MasterHarness.start();
      const alice = await h.subscribe({ name: 'a', failover_timeout: 600 }, { principal: 'alice' });
      const id = alice.frameworkId!;
      alice.drop();
      const mallory = h.connectScheduler({ principal: 'mallory' });
      await mallory.subscribe({ name: 'a', id });
      expect(mallory.errors()).to.deep.equal(['AGORA_AUTH_ID_BOUND']);
      expect(h.master.frameworks.get(id)?.connected).to.equal(false);
      const back = h.connectScheduler({ principal: 'alice' });
      await back.subscribe({ name: 'a', id });
      expect(back.peer.last('SUBSCRIBED')?.subscribed.framework_id).to.equal(id);
      expect(h.master.frameworks.get(id)?.connected).to.equal(true);
    });

    it('without authentication, binds to the claimed principal: another claim (or none) cannot take the id', async () => {
      const h = await MasterHarness.start();
      const a = await h.subscribe({ name: 'a', principal: 'alice', failover_timeout: 60 });
      const id = a.frameworkId!;
      for (const claim of [{ principal: 'mallory' }, {}]) {
        const m = h.connectScheduler();
        await m.subscribe({ name: 'a', id, ...claim });
        expect(m.errors()).to.deep.equal(['AGORA_AUTH_ID_BOUND']);
      }
      expect(a.peer.open).to.equal(true);
      expect(h.master.frameworks.get(id)?.peer).to.not.equal(undefined);
    });

    it('keeps the binding across a master failover (persisted), and refuses another principal there', async () => {
      const h = await MasterHarness.start();
      const a = await h.subscribe({ name: 'a', failover_timeout: 600 }, { principal: 'alice' });
      const id = a.frameworkId!;
      expect(h.effects('persistFramework').at(-1)?.record.principal).to.equal('alice');
      const raw = await h.store!.get<{ principal?: string }>(`registrar/frameworks/${id}`);
      expect(raw?.value.principal).to.equal('alice');
      const h2 = await h.failover();
      const m = h2.connectScheduler({ principal: 'mallory' });
      await m.subscribe({ name: 'a', id });
      expect(m.errors()).to.deep.equal(['AGORA_AUTH_ID_BOUND']);
      const back = h2.connectScheduler({ principal: 'alice' });
      await back.subscribe({ name: 'a', id });
      expect(back.peer.last('SUBSCRIBED')?.subscribed.framework_id).to.equal(id);
    });

    it('loads a framework record written before binding, and binds it to the first principal that subscribes', async () => {
      const store = new MemoryStore();
      await store.put('registrar/frameworks/F-old', {
        info: { id: 'F-old', name: 'old', roles: ['*'], failover_timeout: 600 },
        completed: false,
      });
      const h = await MasterHarness.start({ store });
      expect(h.master.frameworks.get('F-old')?.principal).to.equal(undefined);
      const first = h.connectScheduler({ principal: 'alice' });
      await first.subscribe({ name: 'old', id: 'F-old' });
      expect(first.peer.last('SUBSCRIBED')?.subscribed.framework_id).to.equal('F-old');
      expect(h.master.frameworks.get('F-old')?.principal).to.equal('alice');
      first.drop();
      const second = h.connectScheduler({ principal: 'bob' });
      await second.subscribe({ name: 'old', id: 'F-old' });
      expect(second.errors()).to.deep.equal(['AGORA_AUTH_ID_BOUND']);
    });
  });

  describe('authentication required (--authenticate_frameworks, --authenticate_agents)', () => {
    it('refuses SUBSCRIBE on an anonymous connection and creates nothing; admits an authenticated one', async () => {
      const h = await MasterHarness.start({ authenticateFrameworks: true });
      const anon = h.connectScheduler();
      await anon.subscribe({ name: 'anon', principal: 'alice' });
      expect(anon.errors()).to.deep.equal(['AGORA_AUTH_NOT_AUTHENTICATED']);
      expect(anon.peer.closed?.byMaster).to.equal(true);
      expect(h.master.frameworks.size).to.equal(0);
      expect(h.effects('persistFramework')).to.have.length(0);
      const ok = await h.subscribe({ name: 'ok' }, { principal: 'alice' });
      expect(h.master.frameworks.get(ok.frameworkId!)?.principal).to.equal('alice');
      // FrameworkInfo shows the bound principal (state, and the secrets ACL read it there).
      expect(h.master.frameworks.get(ok.frameworkId!)?.info.principal).to.equal('alice');
    });

    it('refuses a framework that claims another principal than it authenticated as', async () => {
      const h = await MasterHarness.start({ authenticateFrameworks: true });
      const f = h.connectScheduler({ principal: 'alice' });
      await f.subscribe({ name: 'x', principal: 'root' });
      expect(f.errors()).to.deep.equal(['AGORA_AUTH_PRINCIPAL_MISMATCH']);
      expect(h.master.frameworks.size).to.equal(0);
    });

    it('refuses REGISTER on an anonymous agent connection; admits an authenticated agent', async () => {
      const h = await MasterHarness.start({ authenticateAgents: true });
      const anon = await h.connectAgent({ hostname: 'fake', resources: 'cpus:1000000' }).register();
      expect(anon.id).to.equal(undefined);
      expect(anon.peer.closed?.reason).to.match(/^AGORA_AUTH_NOT_AUTHENTICATED/);
      expect(h.master.agents.size).to.equal(0);
      expect(h.effects('persistAgent')).to.have.length(0);
      const ok = await h.addAgent({ hostname: 'real' }, { principal: 'agent' });
      expect(h.master.agents.get(ok.id!)?.principal).to.equal('agent');
    });
  });

  describe('agent ids bound to their principal', () => {
    it('refuses REREGISTER of an agent id by another principal, leaving the agent and its tasks untouched', async () => {
      const h = await MasterHarness.start();
      const agent = await h.addAgent({ hostname: 'a1' }, { principal: 'agent-a1' });
      const id = agent.id!;
      const f = await h.subscribe({ name: 'f' });
      const [offer] = f.offers();
      f.launch(offer, [{ task_id: 't1', resources: 'cpus:1;mem:32' }]);
      await h.settle();
      agent.update(f.frameworkId!, { task_id: 't1', state: TaskState.RUNNING });
      agent.drop();
      const evil = h.connectAgent({ hostname: 'evil', resources: 'cpus:1000000;mem:1000000' }, { principal: 'evil' });
      await evil.reregister([], id);
      expect(evil.peer.closed?.reason).to.match(/^AGORA_AUTH_ID_BOUND/);
      const entry = h.master.agents.get(id)!;
      expect(entry.info.hostname).to.equal('a1');
      expect(entry.peer).to.equal(undefined);
      expect(entry.state).to.equal('disconnected');
      expect(entry.total.toString()).to.equal(Resources.parse('cpus:4;mem:4096;disk:10000').toString());
      expect(h.master.tasks.size).to.equal(1);
      // Its own principal comes back.
      const back = h.connectAgent({ hostname: 'a1' }, { principal: 'agent-a1' });
      await back.reregister([], id);
      expect(back.peer.last('REREGISTERED')?.agent_id).to.equal(id);
    });

    it('an anonymous connection cannot re-register an agent bound to a principal (no authentication required)', async () => {
      const h = await MasterHarness.start();
      const agent = await h.addAgent({ hostname: 'a1' }, { principal: 'agent-a1' });
      agent.drop();
      const anon = h.connectAgent({ hostname: 'evil' });
      await anon.reregister([], agent.id);
      expect(anon.peer.closed?.reason).to.match(/^AGORA_AUTH_ID_BOUND/);
      expect(h.master.agents.get(agent.id!)?.info.hostname).to.equal('a1');
    });

    it('keeps the agent binding across a failover; an older agent record without one loads and binds on re-registration', async () => {
      const h = await MasterHarness.start();
      const agent = await h.addAgent({ hostname: 'a1' }, { principal: 'agent-a1' });
      // Agents' records are kept many to a key (master/registrar-batches.ts).
      const [batch] = await h.store!.list('registrar/agent-batches/');
      const raw = await h.store!.get<{ agents: { info: { id: string }; principal?: string }[] }>(batch);
      expect(raw?.value.agents.find((r) => r.info.id === agent.id)?.principal).to.equal('agent-a1');
      await h.store!.put('registrar/agents/S-old', {
        info: { id: 'S-old', hostname: 'old', port: 5051, resources: [], attributes: {} },
        total: [],
        state: 'admitted',
      });
      const h2 = await h.failover();
      const evil = h2.connectAgent({ hostname: 'evil' }, { principal: 'evil' });
      await evil.reregister([], agent.id);
      expect(evil.peer.closed?.reason).to.match(/^AGORA_AUTH_ID_BOUND/);
      const old = h2.connectAgent({ hostname: 'old', resources: [] }, { principal: 'agent-old' });
      await old.reregister([], 'S-old');
      expect(old.peer.last('REREGISTERED')?.agent_id).to.equal('S-old');
      expect(h2.master.agents.get('S-old')?.principal).to.equal('agent-old');
      old.drop();
      const other = h2.connectAgent({ hostname: 'old', resources: [] }, { principal: 'evil' });
      await other.reregister([], 'S-old');
      expect(other.peer.closed?.reason).to.match(/^AGORA_AUTH_ID_BOUND/);
    });
  });

  describe('ACLs on the protocol', () => {
    it('register_frameworks: a principal subscribes only in the roles it is allowed', async () => {
      const h = await MasterHarness.start({
        permits: permitsOf({
          permissive: false,
          register_frameworks: [{ principals: { values: ['alice'] }, roles: { values: ['web'] } }],
        }),
      });
      const ok = await h.subscribe({ name: 'w', roles: ['web'] }, { principal: 'alice' });
      expect(ok.frameworkId).to.be.a('string');
      const no = h.connectScheduler({ principal: 'alice' });
      await no.subscribe({ name: 'b', roles: ['web', 'batch'] });
      expect(no.errors()).to.deep.equal(['AGORA_AUTH_NOT_AUTHORIZED']);
      expect(no.peer.last('ERROR')?.error.message).to.include("'batch'");
      const bob = h.connectScheduler({ principal: 'bob' });
      await bob.subscribe({ name: 'b', roles: ['web'] });
      expect(bob.errors()).to.deep.equal(['AGORA_AUTH_NOT_AUTHORIZED']);
      expect(h.master.frameworks.size).to.equal(1);
    });

    it('run_tasks: a task whose user is refused gets TASK_ERROR (REASON_TASK_UNAUTHORIZED); the others in the ACCEPT run', async () => {
      const h = await MasterHarness.start({
        permits: permitsOf({
          run_tasks: [
            { principals: { values: ['alice'] }, users: { values: ['alice'] } },
            { principals: { type: 'ANY' }, users: { type: 'NONE' } },
          ],
        }),
      });
      const agent = await h.addAgent();
      const f = await h.subscribe({ name: 'f', user: 'alice' }, { principal: 'alice' });
      const [offer] = f.offers();
      f.launch(offer, [
        { task_id: 'as-framework-user', resources: 'cpus:1;mem:32' },
        { task_id: 'as-root', resources: 'cpus:1;mem:32', command: { value: 'id', user: 'root' } },
        { task_id: 'as-alice', resources: 'cpus:1;mem:32', command: { value: 'id', user: 'alice' } },
      ]);
      await h.settle();
      expect(agent.runTasks().map((t) => t.task_id)).to.deep.equal(['as-framework-user', 'as-alice']);
      const refused = f.updates().filter((u) => u.state === TaskState.ERROR);
      expect(refused.map((u) => [u.task_id, u.reason])).to.deep.equal([['as-root', 'REASON_TASK_UNAUTHORIZED']]);
      expect(refused[0].message).to.include("'alice'").and.to.include("'root'");
      expect(h.master.tasks.size).to.equal(2);
    });

    it("run_tasks: the framework's user is checked when the task names none", async () => {
      const h = await MasterHarness.start({
        permits: permitsOf({
          permissive: false,
          register_frameworks: [{ principals: { type: 'ANY' }, roles: { type: 'ANY' } }],
          run_tasks: [{ principals: { values: ['bob'] }, users: { values: ['bob'] } }],
        }),
      });
      const agent = await h.addAgent();
      const f = await h.subscribe({ name: 'f', user: 'root' }, { principal: 'bob' });
      f.launch(f.offers()[0], [{ task_id: 't', resources: 'cpus:1;mem:32' }]);
      await h.settle();
      expect(agent.runTasks()).to.deep.equal([]);
      expect(f.updates().map((u) => u.reason)).to.deep.equal(['REASON_TASK_UNAUTHORIZED']);
    });

    it('reserve_resources/unreserve_resources: a refused RESERVE is dropped with an ERROR and changes nothing; an allowed one applies', async () => {
      const acls = {
        reserve_resources: [
          { principals: { values: ['ops'] }, roles: { type: 'ANY' } },
          { principals: { type: 'ANY' }, roles: { type: 'NONE' } },
        ],
        unreserve_resources: [
          { principals: { values: ['ops'] }, reserver_principals: { type: 'ANY' } },
          { principals: { type: 'ANY' }, reserver_principals: { type: 'NONE' } },
        ],
      };
      const h = await MasterHarness.start({ permits: permitsOf(acls) });
      const agent = await h.addAgent({ resources: 'cpus:4;mem:256' });
      const reserve = { type: 'RESERVE' as const, reserve: { resources: Resources.parse('cpus(web):2').toList() } };
      const eve = await h.subscribe({ name: 'eve', roles: ['web'] }, { principal: 'eve' });
      eve.accept([eve.offers()[0].id], [reserve]);
      await h.settle();
      expect(eve.errors()).to.deep.equal(['AGORA_AUTH_NOT_AUTHORIZED']);
      expect(h.master.agents.get(agent.id!)?.total.toString()).to.equal('cpus:4;mem:256');
      eve.drop();
      const ops = await h.subscribe({ name: 'ops', roles: ['web'] }, { principal: 'ops' });
      await h.allocate();
      ops.accept([ops.offers()[0].id], [reserve]);
      await h.settle();
      expect(ops.errors()).to.deep.equal([]);
      expect(h.master.agents.get(agent.id!)?.total.toString()).to.include('cpus(web):2');
      // UNRESERVE: refused for eve, allowed for ops.
      ops.drop();
      const eve2 = await h.subscribe({ name: 'eve2', roles: ['web'] }, { principal: 'eve' });
      await h.allocate();
      const unreserve = {
        type: 'UNRESERVE' as const,
        unreserve: { resources: Resources.parse('cpus(web):2').toList() },
      };
      const webOffer = eve2.offers().find((o) => Resources.from(o.resources).toString().includes('(web)'));
      expect(webOffer, 'an offer holding the reservation').to.not.equal(undefined);
      eve2.accept([webOffer!.id], [unreserve]);
      await h.settle();
      expect(eve2.errors()).to.deep.equal(['AGORA_AUTH_NOT_AUTHORIZED']);
      expect(h.master.agents.get(agent.id!)?.total.toString()).to.include('cpus(web):2');
    });

    it('teardown_frameworks: a framework tears itself down; an operator needs the ACL on its principal', async () => {
      const h = await MasterHarness.start({
        permits: permitsOf({
          permissive: false,
          register_frameworks: [{ principals: { type: 'ANY' }, roles: { type: 'ANY' } }],
          teardown_frameworks: [{ principals: { values: ['ops'] }, framework_principals: { values: ['alice'] } }],
        }),
      });
      const own = await h.subscribe({ name: 'own' }, { principal: 'bob' });
      own.call({ type: 'TEARDOWN', framework_id: '' });
      await h.settle();
      expect(h.master.frameworks.has(own.frameworkId!)).to.equal(false);
      const a = await h.subscribe({ name: 'a' }, { principal: 'alice' });
      expect(() => h.state.teardown(a.frameworkId!, { principal: 'eve' }))
        .to.throw()
        .with.property('code', 'AGORA_AUTH_NOT_AUTHORIZED');
      expect(h.master.frameworks.has(a.frameworkId!)).to.equal(true);
      h.state.teardown(a.frameworkId!, { principal: 'ops' });
      expect(h.master.frameworks.has(a.frameworkId!)).to.equal(false);
    });
  });

  describe('connection caps (shell)', () => {
    it('closes a connection over the per-address cap at once; other addresses and freed slots are fine', async () => {
      const h = await MasterHarness.start({ connectionLimits: { maxPerAddress: 2 } });
      const a = h.connectScheduler({ remoteAddress: '10.0.0.9' });
      const b = h.connectAgent({}, { remoteAddress: '10.0.0.9' });
      const c = h.connectScheduler({ remoteAddress: '10.0.0.9' });
      expect(a.peer.open && b.peer.open).to.equal(true);
      expect(c.peer.closed?.reason).to.match(/^AGORA_MASTER_TOO_MANY_CONNECTIONS/);
      expect(h.master.counters.connectionsOverAddressCap).to.equal(1);
      // What the closed one sends goes nowhere.
      await c.subscribe({ name: 'x' });
      expect(h.master.frameworks.size).to.equal(0);
      const other = await h.subscribe({ name: 'o' }, { remoteAddress: '10.0.0.10' });
      expect(other.peer.open).to.equal(true);
      a.drop();
      const d = await h.subscribe({ name: 'd' }, { remoteAddress: '10.0.0.9' });
      expect(d.peer.open).to.equal(true);
    });

    it('closes connections that neither subscribe nor register within the deadline, and only those', async () => {
      const h = await MasterHarness.start({ connectionLimits: { deadlineMs: 30_000 } });
      const idleScheduler = h.connectScheduler();
      const idleAgent = h.connectAgent();
      const f = await h.subscribe({ name: 'f' });
      const agent = await h.addAgent();
      // Refused SUBSCRIBE keeps nobody in: still counts as not subscribed.
      const refused = h.connectScheduler();
      await refused.subscribe({ name: 'x', id: 'never-issued' });
      await h.advance(29_999);
      expect(idleScheduler.peer.open).to.equal(true);
      expect(idleAgent.peer.open).to.equal(true);
      await h.advance(1);
      expect(idleScheduler.peer.closed?.reason).to.match(/^AGORA_MASTER_CONNECTION_DEADLINE/);
      expect(idleAgent.peer.closed?.reason).to.match(/^AGORA_MASTER_CONNECTION_DEADLINE/);
      expect(h.master.counters.connectionsIdleClosed).to.equal(2);
      for (let i = 0; i < 6; i++) {
        agent.answerPings();
        await h.advance(10_000);
      }
      expect(f.peer.open).to.equal(true);
      expect(agent.peer.open).to.equal(true);
    });
  });
});

describe('registrar records with a principal', () => {
  it('skips a record whose principal is not a string, and loads one without a principal', async () => {
    const store = new MemoryStore();
    await store.put('registrar/frameworks/F-bad', {
      info: { id: 'F-bad', name: 'x' },
      completed: false,
      principal: 42,
    });
    await store.put('registrar/frameworks/F-ok', { info: { id: 'F-ok', name: 'x' }, completed: false });
    await store.put('registrar/agents/S-bad', {
      info: { id: 'S-bad', hostname: 'h', port: 1, resources: [], attributes: {} },
      total: [],
      state: 'admitted',
      principal: { p: 'x' },
    });
    const h = await MasterHarness.start({ store });
    expect([...h.master.frameworks.keys()]).to.deep.equal(['F-ok']);
    expect(h.master.agents.has('S-bad')).to.equal(false);
    expect(h.master.counters.registrarBadRecords).to.equal(2);
  });
});
