/**
 * Mesos's v1 scheduler HTTP API on the master's real logic (MasterHarness: fake agents, virtual
 * clock) behind its real HTTP server on an ephemeral port, spoken to with node:http as Mesos's
 * documentation describes: the stream, every call, every error status, a slow reader, failover.
 */
import { expect } from 'chai';
import { pino } from 'pino';
import { buildMasterHttp } from '../../../master/http/index.js';
import { redirectRoutes } from '../../../master/http/redirect.js';
import { v1SchedulerRoutes } from '../../../master/http/v1-scheduler.js';
import type { SchedulerBackpressure } from '../../../master/http/v1-scheduler-stream.js';
import { type FakeAgent, MasterHarness } from '../../../master/testing/index.js';
import {
  basicAuthorization,
  parseCredentials,
  parseRateLimits,
  RateLimiter,
  SecurityAuthorizer,
} from '../../../sdk/auth/index.js';
import { type AgoraHttp, createHttpServer } from '../../../sdk/http/index.js';
import { VirtualClock } from '../../../sdk/util/clock.js';
import { waitFor } from '../../../testkit/processes.js';
import { type Json, MesosStream, post } from '../../support/mesos-http.js';

const silent = pino({ level: 'silent' });

interface Rig {
  h: MasterHarness;
  app: AgoraHttp;
  url: string;
  agent: FakeAgent;
  close(): Promise<void>;
}

interface RigOptions {
  /** The event streams' backpressure (master/http/v1-scheduler-stream.ts). */
  backpressure?: Partial<SchedulerBackpressure>;
  /** The door of `agora master --credentials ... --rate_limits ...`: one limiter for the HTTP door and the master. */
  security?: { credentials: string; rateLimits?: string };
}

async function rig(opts: RigOptions = {}): Promise<Rig> {
  const clock = new VirtualClock(1_700_000_000_000);
  const rateLimiter = opts.security?.rateLimits
    ? new RateLimiter(parseRateLimits(opts.security.rateLimits), clock)
    : undefined;
  const authorizer = opts.security
    ? new SecurityAuthorizer({ credentials: parseCredentials(opts.security.credentials), rateLimiter, clock })
    : undefined;
  const h = await MasterHarness.start({ allocationIntervalMs: 3_600_000, clock, rateLimiter });
  const agent = await h.addAgent({
    hostname: 'a1',
    resources: 'cpus:4;mem:4096;disk:1000;ports:[31000-31010]',
    attributes: { rack: 'r1' },
  });
  let app: AgoraHttp;
  if (opts.backpressure !== undefined) {
    app = createHttpServer({ logger: silent });
    const o = { current: () => h.master, leader: () => h.master.info };
    void app.register(redirectRoutes, o);
    void app.register(v1SchedulerRoutes, { ...o, logger: silent, backpressure: opts.backpressure });
  } else {
    app = buildMasterHttp({ logger: silent, authorizer, current: () => h.master, leader: () => h.master.info });
  }
  await app.listen({ port: 0, host: '127.0.0.1' });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    h,
    app,
    agent,
    url: `http://127.0.0.1:${port}/api/v1/scheduler`,
    async close() {
      h.master.stop();
      app.server.closeAllConnections();
      await app.close();
    },
  };
}

const SUBSCRIBE = (info: Json = {}) => ({
  type: 'SUBSCRIBE',
  subscribe: { framework_info: { user: 'foo', name: 'Example HTTP Framework', ...info } },
});

/** Subscribes and waits for SUBSCRIBED (the harness's registrar write settles on the virtual clock). */
async function subscribed(r: Rig, info: Json = {}, headers: Record<string, string> = {}): Promise<MesosStream> {
  const s = await MesosStream.open(r.url, SUBSCRIBE(info), headers);
  expect(s.status, s.body).to.equal(200);
  await r.h.settle();
  await s.next('SUBSCRIBED');
  return s;
}

function call(r: Rig, s: MesosStream, body: Json, headers: Record<string, string> = {}) {
  return post(
    r.url,
    { framework_id: { value: s.frameworkId }, ...body },
    { 'mesos-stream-id': s.streamId, ...headers },
  );
}

/** ACCEPT of one offer with one LAUNCH of these Mesos TaskInfos (and, when given, a filter). */
function launch(r: Rig, s: MesosStream, o: Json, tasks: Json[], filters?: Json) {
  const operations = [{ type: 'LAUNCH', launch: { task_infos: tasks } }];
  return call(r, s, { type: 'ACCEPT', accept: { offer_ids: [o.id], operations, ...(filters ? { filters } : {}) } });
}

/** A Mesos TaskInfo on the offer's agent: one cpu and `sleep 100` unless `extra` says otherwise. */
function taskInfo(o: Json, id: string, extra: Json = {}): Json {
  const cpus = { name: 'cpus', type: 'SCALAR', scalar: { value: 1 } };
  return {
    name: id,
    task_id: { value: id },
    agent_id: o.agent_id,
    resources: [cpus],
    command: { value: 'sleep 100' },
    ...extra,
  };
}

/** Waits (polling, bounded) until the master has seen the framework's stream go. */
async function disconnected(r: Rig, id: string): Promise<void> {
  for (let i = 0; i < 200 && r.h.master.frameworks.get(id)?.connected; i++)
    await new Promise((res) => setTimeout(res, 10));
  expect(r.h.master.frameworks.get(id)?.connected, 'the framework is disconnected').to.equal(false);
}

/** The latest offers (an allocation runs first; the one after SUBSCRIBED may have sent them already). */
async function offers(r: Rig, s: MesosStream): Promise<Json[]> {
  await r.h.allocate();
  const e = await s.until((es) => [...es].reverse().find((x) => x.type === 'OFFERS'), 'OFFERS');
  return e.offers.offers;
}

describe('master v1 scheduler HTTP API (harness)', function () {
  this.timeout(20_000);
  let r: Rig;
  afterEach(async () => r?.close());

  it('SUBSCRIBE answers 200 with a Mesos-Stream-Id and a RecordIO stream starting with SUBSCRIBED', async () => {
    r = await rig();
    const s = await subscribed(r);
    expect(s.headers['content-type']).to.match(/application\/json/);
    expect(s.streamId).to.match(/^[0-9a-f-]{36}$/);
    const e = s.events[0];
    expect(e.type).to.equal('SUBSCRIBED');
    expect(e.subscribed.framework_id.value).to.equal([...r.h.master.frameworks.keys()][0]);
    expect(e.subscribed.heartbeat_interval_seconds).to.equal(15);
    expect(e.subscribed.master_info).to.include({ id: r.h.master.info.id, port: 5050 });
    s.close();
  });

  it('offers in Mesos JSON, ACCEPT with LAUNCH runs the task on the agent, UPDATE carries a base64 uuid that ACKNOWLEDGE clears', async () => {
    r = await rig();
    const s = await subscribed(r);
    const [o] = await offers(r, s);
    expect(o.id.value).to.be.a('string');
    expect(o.agent_id.value).to.equal(r.agent.id);
    expect(o.hostname).to.equal('a1');
    expect(o.attributes).to.deep.include({ name: 'rack', type: 'TEXT', text: { value: 'r1' } });
    const cpus = o.resources.find((x: Json) => x.name === 'cpus');
    expect(cpus).to.deep.include({ type: 'SCALAR', scalar: { value: 4 }, role: '*', allocation_info: { role: '*' } });
    const ports = o.resources.find((x: Json) => x.name === 'ports');
    expect(ports.ranges.range).to.deep.equal([{ begin: 31000, end: 31010 }]);

    const a = await launch(
      r,
      s,
      o,
      [
        taskInfo(o, 'my-task', {
          name: 'My Task',
          resources: [
            { allocation_info: { role: '*' }, name: 'cpus', role: '*', type: 'SCALAR', scalar: { value: 1 } },
            { allocation_info: { role: '*' }, name: 'mem', role: '*', type: 'SCALAR', scalar: { value: 128 } },
          ],
          command: {
            shell: true,
            value: 'sleep 1000',
            environment: { variables: [{ name: 'A', value: '1' }] },
          },
          discovery: { visibility: 'FRAMEWORK', name: 'x' },
        }),
      ],
      { refuse_seconds: 5 },
    );
    expect(a.status, a.body).to.equal(202);
    await r.h.settle();
    const [run] = r.agent.runTasks();
    expect(run.task_id).to.equal('my-task');
    expect(run.command).to.deep.equal({
      shell: true,
      value: 'sleep 1000',
      environment: { variables: [{ name: 'A', value: '1' }] },
    });

    const from = s.events.length;
    const sent = r.agent.update(s.frameworkId!, { task_id: 'my-task', state: 'TASK_RUNNING' });
    await r.h.settle();
    const u = (await s.next('UPDATE', from)).update.status;
    expect(u.task_id.value).to.equal('my-task');
    expect(u.state).to.equal('TASK_RUNNING');
    expect(u.agent_id.value).to.equal(r.agent.id);
    expect(u.timestamp).to.be.a('number');
    expect(Buffer.from(u.uuid, 'base64')).to.have.length(16);

    const ack = await call(r, s, {
      type: 'ACKNOWLEDGE',
      acknowledge: { agent_id: u.agent_id, task_id: u.task_id, uuid: u.uuid },
    });
    expect(ack.status, ack.body).to.equal(202);
    await r.h.settle();
    const acks = r.agent.peer.all('ACK_UPDATE');
    expect(acks.map((x) => x.uuid)).to.deep.equal([sent.uuid]);
    s.close();
  });

  it('DECLINE with a filter: the agent is not offered again until REVIVE', async () => {
    r = await rig();
    const s = await subscribed(r);
    const [o] = await offers(r, s);
    const d = await call(r, s, { type: 'DECLINE', decline: { offer_ids: [o.id], filters: { refuse_seconds: 3600 } } });
    expect(d.status, d.body).to.equal(202);
    await r.h.settle();
    expect(r.h.master.offers.size).to.equal(0);
    let from = s.events.length;
    await r.h.allocate();
    await r.h.allocate();
    expect(s.events.slice(from).filter((e) => e.type === 'OFFERS')).to.have.length(0);
    from = s.events.length;
    const rv = await call(r, s, { type: 'REVIVE', revive: {} });
    expect(rv.status, rv.body).to.equal(202);
    await r.h.settle();
    await r.h.allocate();
    await s.next('OFFERS', from);
    s.close();
  });

  it('SUPPRESS stops offers; REVIVE with a role (as Mesos documents it) brings them back', async () => {
    r = await rig();
    const s = await subscribed(r, { roles: ['web'], capabilities: [{ type: 'MULTI_ROLE' }] });
    const [o] = await offers(r, s);
    await call(r, s, { type: 'DECLINE', decline: { offer_ids: [o.id], filters: { refuse_seconds: 0 } } });
    const sp = await call(r, s, { type: 'SUPPRESS', suppress: { roles: ['web'] } });
    expect(sp.status, sp.body).to.equal(202);
    await r.h.settle();
    let from = s.events.length;
    await r.h.allocate();
    expect(s.events.slice(from).filter((e) => e.type === 'OFFERS')).to.have.length(0);
    from = s.events.length;
    const rv = await call(r, s, { type: 'REVIVE', revive: { role: 'web' } });
    expect(rv.status, rv.body).to.equal(202);
    await r.h.allocate();
    const again = await s.next('OFFERS', from);
    expect(again.offers.offers[0].allocation_info.role).to.equal('web');
    s.close();
  });

  it('a multi-role framework: DECLINE filters only the offer role; REVIVE with roles clears only those', async () => {
    r = await rig();
    const s = await subscribed(r, { roles: ['a', 'b'], capabilities: [{ type: 'MULTI_ROLE' }] });
    const decline = async (o: Json) => {
      const d = await call(r!, s, {
        type: 'DECLINE',
        decline: { offer_ids: [o.id], filters: { refuse_seconds: 3600 } },
      });
      expect(d.status, d.body).to.equal(202);
      await r!.h.settle();
    };
    const [o] = await offers(r, s);
    const first = o.allocation_info.role;
    const other = first === 'a' ? 'b' : 'a';
    let from = s.events.length;
    await decline(o);
    // The agent comes back at once, in the other role.
    await r.h.allocate();
    // (A bound under mocha's 20 s, so a filter that holds back every role fails with the events shown.)
    const second = (await s.next('OFFERS', from, 10_000)).offers.offers[0];
    expect(second.allocation_info.role).to.equal(other);
    await decline(second);
    from = s.events.length;
    await r.h.allocate();
    expect(s.events.slice(from).filter((e) => e.type === 'OFFERS')).to.have.length(0);
    // REVIVE{roles:[other]}: offered in that role only; the first role's filter still holds.
    const rv = await call(r, s, { type: 'REVIVE', revive: { roles: [other] } });
    expect(rv.status, rv.body).to.equal(202);
    await r.h.allocate();
    const third = (await s.next('OFFERS', from)).offers.offers[0];
    expect(third.allocation_info.role).to.equal(other);
    await decline(third);
    from = s.events.length;
    await r.h.allocate();
    expect(s.events.slice(from).filter((e) => e.type === 'OFFERS')).to.have.length(0);
    // REVIVE with Mesos's single `role`: the first role's filter goes.
    const rv2 = await call(r, s, { type: 'REVIVE', revive: { role: first } });
    expect(rv2.status, rv2.body).to.equal(202);
    await r.h.allocate();
    const fourth = (await s.next('OFFERS', from)).offers.offers[0];
    expect(fourth.allocation_info.role).to.equal(first);
    s.close();
  });

  it('subscribe.suppressed_roles suppresses those roles from the start', async () => {
    r = await rig();
    const s = await MesosStream.open(r.url, {
      type: 'SUBSCRIBE',
      subscribe: { framework_info: { name: 'quiet', roles: ['a'] }, suppressed_roles: ['a'] },
    });
    await r.h.settle();
    await s.next('SUBSCRIBED');
    await r.h.allocate();
    expect(s.events.filter((e) => e.type === 'OFFERS')).to.have.length(0);
    expect(r.h.master.frameworks.get(s.frameworkId!)?.suppressedRoles.has('a')).to.equal(true);
    s.close();
  });

  it('KILL and RECONCILE answer with UPDATE events; REQUEST is accepted and ignored', async () => {
    r = await rig();
    const s = await subscribed(r);
    const [o] = await offers(r, s);
    await launch(r, s, o, [taskInfo(o, 't1', { name: 't' })]);
    await r.h.settle();
    let from = s.events.length;
    const rc = await call(r, s, {
      type: 'RECONCILE',
      reconcile: { tasks: [{ task_id: { value: 't1' } }, { task_id: { value: 'nope' } }] },
    });
    expect(rc.status, rc.body).to.equal(202);
    await r.h.settle();
    await s.until(
      (es) => (es.slice(from).filter((e) => e.type === 'UPDATE').length >= 2 ? true : undefined),
      'two UPDATEs',
    );
    const states = Object.fromEntries(
      s.events
        .slice(from)
        .filter((e) => e.type === 'UPDATE')
        .map((e) => [e.update.status.task_id.value, e.update.status]),
    );
    expect(states.t1.state).to.equal('TASK_STAGING');
    expect(states.t1.uuid, 'reconciliation updates need no acknowledgement').to.equal(undefined);
    expect(states.nope.state).to.equal('TASK_LOST');
    from = s.events.length;
    const k = await call(r, s, { type: 'KILL', kill: { task_id: { value: 't1' }, agent_id: o.agent_id } });
    expect(k.status, k.body).to.equal(202);
    await r.h.settle();
    expect(r.agent.peer.all('KILL_TASK').map((x) => x.task_id)).to.deep.equal(['t1']);
    const rq = await call(r, s, { type: 'REQUEST', requests: [{ agent_id: o.agent_id, resources: {} }] });
    expect(rq.status, rq.body).to.equal(202);
    s.close();
  });

  it('an invalid task of an ACCEPT gets TASK_ERROR; a custom executor is refused with a message saying why', async () => {
    r = await rig();
    const s = await subscribed(r);
    const [o] = await offers(r, s);
    const from = s.events.length;
    const executor = { executor_id: { value: 'e' }, command: { value: 'sleep 1' } };
    const a = await launch(r, s, o, [
      taskInfo(o, 'with-executor', { name: 'custom', executor, command: undefined }),
      taskInfo(o, 'fine', { name: 'ok', command: { value: 'true' } }),
    ]);
    expect(a.status, a.body).to.equal(202);
    await r.h.settle();
    const u = (await s.next('UPDATE', from)).update.status;
    expect(u.task_id.value).to.equal('with-executor');
    expect(u.state).to.equal('TASK_ERROR');
    expect(u.message).to.match(/custom executors are not supported/);
    expect(r.agent.runTasks().map((t) => t.task_id)).to.deep.equal(['fine']);
    s.close();
  });

  it("SHUTDOWN of a command task's executor kills it; MESSAGE is accepted; UPDATE_FRAMEWORK answers 200 and changes the roles", async () => {
    r = await rig();
    const s = await subscribed(r, { roles: ['a'], capabilities: [{ type: 'MULTI_ROLE' }] });
    const [o] = await offers(r, s);
    const resources = [{ name: 'cpus', type: 'SCALAR', scalar: { value: 1 }, allocation_info: { role: 'a' } }];
    await launch(r, s, o, [taskInfo(o, 'e1', { name: 't', resources })]);
    await r.h.settle();
    const sh = await call(r, s, { type: 'SHUTDOWN', shutdown: { executor_id: { value: 'e1' }, agent_id: o.agent_id } });
    expect(sh.status, sh.body).to.equal(202);
    await r.h.settle();
    expect(r.agent.peer.all('KILL_TASK').map((x) => x.task_id)).to.deep.equal(['e1']);
    const m = await call(r, s, {
      type: 'MESSAGE',
      message: { agent_id: o.agent_id, executor_id: { value: 'e1' }, data: Buffer.from('hi').toString('base64') },
    });
    expect(m.status, m.body).to.equal(202);
    const u = await call(r, s, {
      type: 'UPDATE_FRAMEWORK',
      update_framework: { framework_info: { name: 'renamed', roles: ['b'], capabilities: [{ type: 'MULTI_ROLE' }] } },
    });
    expect(u.status, u.body).to.equal(200);
    await r.h.settle();
    expect(r.h.master.frameworks.get(s.frameworkId!)?.roles).to.deep.equal(['b']);
    expect(r.h.master.frameworks.get(s.frameworkId!)?.info.name).to.equal('renamed');
    s.close();
  });

  it('LAUNCH_GROUP with the DEFAULT executor reaches the agent as one task group', async () => {
    r = await rig();
    const s = await subscribed(r);
    const [o] = await offers(r, s);
    const cpus = (v: number) => [
      { name: 'cpus', type: 'SCALAR', scalar: { value: v } },
      { name: 'mem', type: 'SCALAR', scalar: { value: 32 } },
    ];
    const g = await call(r, s, {
      type: 'ACCEPT',
      accept: {
        offer_ids: [o.id],
        operations: [
          {
            type: 'LAUNCH_GROUP',
            launch_group: {
              executor: {
                type: 'DEFAULT',
                executor_id: { value: 'ex' },
                framework_id: { value: s.frameworkId },
                resources: cpus(0.1),
              },
              task_group: {
                tasks: ['g1', 'g2'].map((id) => ({
                  name: id,
                  task_id: { value: id },
                  agent_id: o.agent_id,
                  resources: cpus(0.5),
                  command: { value: 'sleep 100' },
                })),
              },
            },
          },
        ],
      },
    });
    expect(g.status, g.body).to.equal(202);
    await r.h.settle();
    const groups = r.agent.peer.all('RUN_TASK_GROUP');
    expect(groups).to.have.length(1);
    expect(groups[0].task_group.tasks.map((t) => t.task_id)).to.deep.equal(['g1', 'g2']);
    expect(groups[0].executor.executor_id).to.equal('ex');
    s.close();
  });

  it('TEARDOWN removes the framework and ends its stream', async () => {
    r = await rig();
    const s = await subscribed(r);
    const id = s.frameworkId!;
    const t = await call(r, s, { type: 'TEARDOWN' });
    expect(t.status, t.body).to.equal(202);
    await r.h.settle();
    expect(r.h.master.frameworks.has(id)).to.equal(false);
    await s.closed();
    // Torn down: later calls are refused (400 "Framework cannot be found", as Mesos), with Agora's code.
    const again = await call(r, s, { type: 'REVIVE' });
    expect(again.status).to.equal(400);
    expect(again.json?.code).to.equal('AGORA_MASTER_FRAMEWORK_REMOVED');
    // A SUBSCRIBE with its id is refused as Mesos refuses a subscription: 200, an ERROR event, the end.
    const back = await MesosStream.open(r.url, SUBSCRIBE({ id: { value: id } }));
    expect(back.status, back.body).to.equal(200);
    await r.h.settle();
    const err = await back.next('ERROR');
    expect(err.error.message).to.match(/^AGORA_MASTER_FRAMEWORK_REMOVED/);
    await back.closed();
    expect(r.h.master.frameworks.has(id)).to.equal(false);
  });

  it('a re-SUBSCRIBE with the framework id takes over: the old stream ends, its stream id is refused, the new one works', async () => {
    r = await rig();
    const s1 = await subscribed(r, { failover_timeout: 60 });
    const id = s1.frameworkId!;
    const s2 = await subscribed(r, { id: { value: id }, failover_timeout: 60 });
    expect(s2.frameworkId).to.equal(id);
    expect(s2.streamId).to.not.equal(s1.streamId);
    await s1.closed();
    const old = await post(r.url, { type: 'REVIVE', framework_id: { value: id } }, { 'mesos-stream-id': s1.streamId });
    expect(old.status).to.equal(400);
    expect(old.json?.code).to.equal('AGORA_SCHEDULER_HTTP_BAD_STREAM_ID');
    const ok = await post(r.url, { type: 'REVIVE', framework_id: { value: id } }, { 'mesos-stream-id': s2.streamId });
    expect(ok.status, ok.body).to.equal(202);
    expect(r.h.master.frameworks.get(id)?.connected).to.equal(true);
    s2.close();
  });

  it('a scheduler whose stream dropped re-subscribes with its id within failover_timeout and keeps its tasks', async () => {
    r = await rig();
    const s1 = await subscribed(r, { failover_timeout: 600 });
    const id = s1.frameworkId!;
    const [o] = await offers(r, s1);
    await launch(r, s1, o, [taskInfo(o, 'kept')]);
    await r.h.settle();
    s1.close();
    await s1.closed();
    await disconnected(r, id);
    await r.h.advance(60_000); // well within failover_timeout
    const s2 = await subscribed(r, { id: { value: id }, failover_timeout: 600 });
    expect(s2.frameworkId).to.equal(id);
    const from = s2.events.length;
    await call(r, s2, { type: 'RECONCILE', reconcile: { tasks: [] } });
    await r.h.settle();
    const u = (await s2.next('UPDATE', from)).update.status;
    expect(u.task_id.value).to.equal('kept');
    expect(u.state).to.equal('TASK_STAGING');
    s2.close();
  });

  /** Offers of agents with 200 kB of attributes until `done` (each cycle offers the new agent). */
  async function offerBig(r: Rig, done: () => boolean, max = 300): Promise<void> {
    const big = Object.fromEntries(Array.from({ length: 200 }, (_, k) => [`k${k}`, 'y'.repeat(1000)]));
    for (let i = 0; i < max && !done(); i++) {
      await r.h.addAgent({ hostname: `x${r.h.master.agents.size}`, attributes: big });
      await r.h.allocate();
      await new Promise((res) => setImmediate(res));
    }
  }
  const heldBy = (r: Rig, id: string) => [...r.h.master.offers.values()].filter((o) => o.frameworkId === id).length;

  it('a stream whose reader stops reading gets no new offers (congested), and offers again once it reads', async () => {
    r = await rig({ backpressure: { highWaterBytes: 256 * 1024 } });
    const s = await MesosStream.open(r.url, SUBSCRIBE({ failover_timeout: 600 }), {}, true);
    await r.h.settle();
    const id = [...r.h.master.frameworks.keys()][0];
    const rig0 = r;
    await offerBig(rig0, () => rig0.h.master.counters.schedulerCongestions > 0);
    expect(r.h.master.counters.schedulerCongestions, 'the paused stream became congested').to.equal(1);
    // Congested: agents that join are not offered to it, however many cycles run; it stays subscribed.
    const held = heldBy(r, id);
    for (let i = 0; i < 5; i++) {
      await r.h.addAgent({ hostname: `later${i}` });
      await r.h.allocate();
    }
    expect(heldBy(r, id), 'offers while congested').to.equal(held);
    expect(r.h.master.frameworks.get(id)?.connected).to.equal(true);
    // It reads its backlog: clear again, and the agents that joined meanwhile are offered to it.
    s.resume();
    await s.next('OFFERS', 0);
    for (let i = 0; i < 200 && heldBy(r, id) === held; i++) {
      await new Promise((res) => setTimeout(res, 20));
      await r.h.allocate();
    }
    expect(heldBy(r, id), 'offers once it read').to.be.greaterThan(held);
    // The master booked them; the stream delivers them a moment later (CI once read too early).
    const hostnames = () =>
      s.events.filter((e) => e.type === 'OFFERS').flatMap((e) => e.offers.offers.map((o: Json) => o.hostname));
    await waitFor(
      () => `later0 among the offers delivered (${hostnames().join(', ')})`,
      () => hostnames().includes('later0'),
      5_000,
      20,
    );
    s.close();
  });

  it('a congested stream that reads nothing for the stall timeout is dropped, like a lost framework', async () => {
    r = await rig({ backpressure: { highWaterBytes: 256 * 1024, stallTimeoutMs: 300 } });
    const s = await MesosStream.open(r.url, SUBSCRIBE({ failover_timeout: 600 }), {}, true);
    await r.h.settle();
    const id = [...r.h.master.frameworks.keys()][0];
    const rig0 = r;
    await offerBig(rig0, () => rig0.h.master.counters.schedulerCongestions > 0);
    expect(r.h.master.counters.schedulerCongestions).to.equal(1);
    for (let i = 0; i < 200 && r.h.master.frameworks.get(id)?.connected; i++)
      await new Promise((res) => setTimeout(res, 25));
    expect(r.h.master.frameworks.get(id)?.connected, 'the stalled stream was dropped').to.equal(false);
    s.close();
  });

  it('a stream past its buffer bound is dropped, like a lost framework; the master carries on', async () => {
    // A high water above the bound: the bound is reached first.
    r = await rig({ backpressure: { highWaterBytes: 1024 * 1024 * 1024, maxBufferedBytes: 64 * 1024 } });
    const s = await MesosStream.open(r.url, SUBSCRIBE({ failover_timeout: 600 }), {}, true);
    await r.h.settle();
    const id = [...r.h.master.frameworks.keys()][0];
    expect(r.h.master.frameworks.get(id)?.connected).to.equal(true);
    const rig0 = r;
    await offerBig(rig0, () => rig0.h.master.frameworks.get(id)?.connected !== true, 200);
    expect(r.h.master.frameworks.get(id)?.connected, 'the slow stream was dropped').to.equal(false);
    // The master carries on: another framework subscribes and gets offers.
    const other = await subscribed(r, { name: 'other' });
    expect(other.frameworkId).to.not.equal(id);
    s.close();
    other.close();
  });

  it('an HTTP framework and a WebSocket framework share one allocator: each agent is offered to one of them', async () => {
    r = await rig();
    await r.h.addAgent({ hostname: 'a2' });
    const ws = await r.h.subscribe({ name: 'ws-framework' });
    const s = await subscribed(r, { name: 'http-framework' });
    await r.h.allocate();
    await r.h.allocate();
    // The stream delivers what the master booked a moment later: wait (bounded) until it has.
    const heldForHttp = () => [...r!.h.master.offers.values()].filter((o) => o.frameworkId === s.frameworkId).length;
    const httpOffers = () => s.events.filter((e) => e.type === 'OFFERS').flatMap((e) => e.offers.offers);
    await waitFor(
      'the HTTP stream to deliver the offers booked for it',
      () => httpOffers().length >= heldForHttp(),
      5_000,
      20,
    );
    const httpAgents = httpOffers().map((o: Json) => o.agent_id.value);
    const wsAgents = ws.offers().map((o) => o.agent_id);
    expect(httpAgents.length + wsAgents.length).to.be.greaterThan(0);
    // No agent is offered to both at once; the master holds exactly the offers the two were sent.
    expect(httpAgents.filter((a) => wsAgents.includes(a))).to.deep.equal([]);
    const held = [...r.h.master.offers.values()].map((o) => o.frameworkId).sort();
    expect(held).to.deep.equal([...httpAgents.map(() => s.frameworkId), ...wsAgents.map(() => ws.frameworkId)].sort());
    s.close();
  });

  it('a master that steps down ends the stream (the scheduler re-subscribes and is redirected)', async () => {
    r = await rig();
    const s = await subscribed(r);
    r.h.master.stepDown('test');
    await s.closed();
    expect(s.ended).to.equal(true);
  });

  describe('errors', () => {
    it('415 for protobuf (with a message saying to use JSON), 400 for no Content-Type or bad JSON', async () => {
      r = await rig();
      const pb = await post(r.url, 'x', { 'content-type': 'application/x-protobuf' });
      expect(pb.status).to.equal(415);
      expect(pb.json?.code).to.equal('AGORA_SCHEDULER_HTTP_UNSUPPORTED_MEDIA_TYPE');
      expect(pb.json?.message).to.match(/application\/json/);
      const none = await post(r.url, '{}', { 'content-type': '' });
      expect(none.status).to.equal(400);
      const bad = await post(r.url, '{"type": "SUBSCRIBE",');
      expect(bad.status).to.equal(400);
      expect(bad.json?.message).to.be.a('string');
    });

    it('400 for a call that is not a valid Call, naming the field', async () => {
      r = await rig();
      const noInfo = await post(r.url, { type: 'SUBSCRIBE', subscribe: {} });
      expect(noInfo.status).to.equal(400);
      expect(noInfo.json?.message).to.match(/framework_info/);
      const unknown = await post(r.url, { type: 'ACCEPT_INVERSE_OFFERS', framework_id: { value: 'x' } });
      expect(unknown.status).to.equal(400);
      expect(unknown.json?.code).to.equal('AGORA_MESOS_UNSUPPORTED_CALL');
      const junk = await post(r.url, {
        type: 'SUBSCRIBE',
        subscribe: { framework_info: { name: 'x', ...manyFields(100) } },
      });
      expect(junk.status).to.equal(400);
      expect(r.h.master.frameworks.size).to.equal(0);
    });

    it('400 for a missing or wrong Mesos-Stream-Id, and for one sent with SUBSCRIBE', async () => {
      r = await rig();
      const s = await subscribed(r);
      const missing = await post(r.url, { type: 'REVIVE', framework_id: { value: s.frameworkId } });
      expect(missing.status).to.equal(400);
      expect(missing.json?.message).to.match(/Mesos-Stream-Id/);
      const wrong = await post(
        r.url,
        { type: 'REVIVE', framework_id: { value: s.frameworkId } },
        { 'mesos-stream-id': 'nope' },
      );
      expect(wrong.status).to.equal(400);
      const withSub = await post(r.url, SUBSCRIBE(), { 'mesos-stream-id': s.streamId });
      expect(withSub.status).to.equal(400);
      s.close();
    });

    it('400 for an unknown framework (as Mesos); a SUBSCRIBE with an id never issued gets 200, ERROR, the end', async () => {
      r = await rig();
      const c = await post(
        r.url,
        { type: 'REVIVE', framework_id: { value: 'never-issued' } },
        { 'mesos-stream-id': 'x' },
      );
      expect(c.status).to.equal(400);
      expect(c.json?.code).to.equal('AGORA_MASTER_UNKNOWN_FRAMEWORK');
      const sub = await MesosStream.open(r.url, SUBSCRIBE({ id: { value: 'never-issued' } }));
      expect(sub.status, sub.body).to.equal(200);
      await r.h.settle();
      const err = await sub.next('ERROR');
      expect(err.error.message).to.match(/^AGORA_MASTER_UNKNOWN_FRAMEWORK/);
      await sub.closed();
      expect(r.h.master.frameworks.size).to.equal(0);
    });

    it('403 for a framework whose stream is gone (not subscribed)', async () => {
      r = await rig();
      const s = await subscribed(r, { failover_timeout: 600 });
      s.close();
      await s.closed();
      await disconnected(r, s.frameworkId!);
      const c = await call(r, s, { type: 'REVIVE' });
      expect(c.status).to.equal(403);
      expect(c.json?.code).to.equal('AGORA_SCHEDULER_HTTP_NOT_SUBSCRIBED');
    });

    it('406 for a SUBSCRIBE that accepts no JSON', async () => {
      r = await rig();
      const s = await MesosStream.open(r.url, SUBSCRIBE(), { accept: 'application/x-protobuf' });
      expect(s.status).to.equal(406);
    });
  });

  describe('principals and rate limits', () => {
    const credentials = JSON.stringify({
      credentials: [
        { principal: 'alice', secret: 'alice-Secret-1' },
        { principal: 'bob', secret: 'bob-Secret-2' },
      ],
    });
    const alice = { authorization: basicAuthorization('alice', 'alice-Secret-1') };
    const bob = { authorization: basicAuthorization('bob', 'bob-Secret-2') };

    it("400 (as Mesos) for a principal that is not the framework's, on SUBSCRIBE and on a call; nothing changes", async () => {
      r = await rig({ security: { credentials } });
      const claim = await post(r.url, SUBSCRIBE({ principal: 'bob' }), alice);
      expect(claim.status, claim.body).to.equal(400);
      expect(claim.json?.code).to.equal('AGORA_AUTH_PRINCIPAL_MISMATCH');
      expect(r.h.master.frameworks.size).to.equal(0);
      const s = await subscribed(r, {}, alice);
      await call(r, s, { type: 'SUPPRESS' }, alice);
      await r.h.settle();
      const other = await call(r, s, { type: 'REVIVE' }, bob);
      expect(other.status, other.body).to.equal(400);
      expect(other.json?.code).to.equal('AGORA_AUTH_PRINCIPAL_MISMATCH');
      await r.h.settle();
      expect(r.h.master.frameworks.get(s.frameworkId!)?.suppressedRoles.size, 'still suppressed').to.equal(1);
      s.close();
    });

    it('--rate_limits counts each HTTP call once: a budget of N POSTs is SUBSCRIBE + N-1 calls answered 202, then 429', async () => {
      const N = 6;
      // qps so low that no token comes back during the test (the virtual clock does not move anyway).
      const rateLimits = JSON.stringify({ limits: [{ principal: 'alice', qps: 0.0001, capacity: N }] });
      r = await rig({ security: { credentials, rateLimits } });
      const s = await subscribed(r, {}, alice);
      const statuses: number[] = [];
      for (let i = 0; i < N + 2; i++) {
        statuses.push((await call(r, s, { type: i % 2 === 0 ? 'SUPPRESS' : 'REVIVE' }, alice)).status);
        await r.h.settle();
      }
      expect(statuses).to.deep.equal([...Array(N - 1).fill(202), 429, 429, 429]);
      // The calls let in were carried out: the master refused none of them a second time.
      expect(r.h.master.counters.frameworkCallsRateLimited).to.equal(0);
      expect(s.events.filter((e) => e.type === 'ERROR')).to.deep.equal([]);
      // The fifth call (a SUPPRESS, index 4) was the last one in: the framework is suppressed.
      expect(r.h.master.frameworks.get(s.frameworkId!)?.suppressedRoles.size).to.equal(1);
      s.close();
    });
  });
});

function manyFields(n: number): Json {
  return Object.fromEntries(Array.from({ length: n }, (_, i) => [`junk${i}`, i]));
}
