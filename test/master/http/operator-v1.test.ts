/**
 * The v1 operator API's pure parts: Mesos JSON shaping, RecordIO, the JSONP callback rule, `ls`
 * modes; the event stream's fan-out, bounds and heartbeats on fake sinks and a VirtualClock; and
 * the events derived from the real master logic (MasterHarness).
 */
import { EventEmitter } from 'node:events';
import { expect } from 'chai';
import { lsMode } from '../../../agent/http/ls.js';
import { callType, type OperatorCall, quotaBodies } from '../../../master/http/operator.js';
import {
  fromV1Resources,
  timeInfo,
  v1Attributes,
  v1Resource,
  v1Resources,
} from '../../../master/http/operator-v1-json.js';
import { type EventSink, OperatorEventStream } from '../../../master/http/operator-v1-stream.js';
import { ipAsUint32 } from '../../../master/http/operator-v1-views.js';
import { reservationProblem } from '../../../master/state/operator-reservations.js';
import { MasterHarness } from '../../../master/testing/index.js';
import { type AclAction, aclAllows, parseAcls } from '../../../sdk/auth/acls.js';
import { jsonpCallback, wrapJsonp } from '../../../sdk/http/jsonp.js';
import { RecordIoDecoder } from '../../../sdk/mesos/recordio.js';
import { Resources } from '../../../sdk/resources/resources.js';
import { VirtualClock } from '../../../sdk/util/clock.js';

describe('v1 operator JSON (pure)', () => {
  it('shapes resources as Mesos v1: scalar, ranges, set; a reserved one with role and reservations', () => {
    expect(v1Resource({ name: 'cpus', type: 'SCALAR', scalar: { value: 1.5 } })).to.deep.equal({
      name: 'cpus',
      type: 'SCALAR',
      scalar: { value: 1.5 },
    });
    expect(
      v1Resource({ name: 'ports', type: 'RANGES', ranges: { range: [{ begin: 31000, end: 31005 }] } }),
    ).to.deep.equal({
      name: 'ports',
      type: 'RANGES',
      ranges: { range: [{ begin: 31000, end: 31005 }] },
    });
    expect(v1Resource({ name: 'disks', type: 'SET', set: { item: ['a', 'b'] } })).to.deep.equal({
      name: 'disks',
      type: 'SET',
      set: { item: ['a', 'b'] },
    });
    expect(v1Resource({ name: 'mem', type: 'SCALAR', scalar: { value: 64 }, role: 'web' })).to.deep.equal({
      name: 'mem',
      type: 'SCALAR',
      scalar: { value: 64 },
      role: 'web',
      reservations: [{ type: 'DYNAMIC', role: 'web' }],
    });
    expect(v1Resources(Resources.parse('cpus:2;mem:128')).map((r) => r.name)).to.have.members(['cpus', 'mem']);
  });

  it('shapes attributes, times and addresses as Mesos does', () => {
    expect(v1Attributes({ rack: 'r1' })).to.deep.equal([{ name: 'rack', type: 'TEXT', text: { value: 'r1' } }]);
    expect(timeInfo(1.5)).to.deep.equal({ nanoseconds: 1_500_000_000 });
    // 127.0.0.1 in network order read as a little-endian uint32, as Mesos's MasterInfo.ip.
    expect(ipAsUint32('127.0.0.1')).to.equal(16777343);
    expect(ipAsUint32('10.0.0.255')).to.equal(4278190090);
    expect(ipAsUint32('not-an-ip')).to.equal(0);
  });

  it('refuses calls Agora does not implement; reads UPDATE_QUOTA as quota bodies (both sides empty: remove)', () => {
    expect(() => callType({ type: 'SET_LOGGING_LEVEL' } as OperatorCall)).to.throw(/unsupported operator call/);
    expect(callType({ type: 'GET_STATE' })).to.equal('GET_STATE');
    const bodies = quotaBodies({
      type: 'UPDATE_QUOTA',
      update_quota: {
        quota_configs: [
          { role: 'web', guarantees: { cpus: { value: 1 } }, limits: { mem: { value: 512 } } },
          { role: 'old', guarantees: {}, limits: {} },
        ],
      },
    });
    expect(bodies).to.deep.equal([
      { role: 'web', body: { role: 'web', guarantees: { cpus: 1 }, limits: { mem: 512 }, force: undefined } },
      { role: 'old' },
    ]);
  });
});

describe('operator reservations (pure)', () => {
  it('reads Mesos v1 resources: the role from reservations or role; a refined reservation is refused', () => {
    expect(
      fromV1Resources([
        { name: 'cpus', type: 'SCALAR', scalar: { value: 1 }, reservations: [{ type: 'DYNAMIC', role: 'dev' }] },
        { name: 'mem', type: 'SCALAR', scalar: { value: 64 }, role: 'ops' },
        { name: 'disk', type: 'SCALAR', scalar: { value: 5 } },
      ]),
    ).to.deep.equal([
      { name: 'cpus', type: 'SCALAR', scalar: { value: 1 }, role: 'dev' },
      { name: 'mem', type: 'SCALAR', scalar: { value: 64 }, role: 'ops' },
      { name: 'disk', type: 'SCALAR', scalar: { value: 5 } },
    ]);
    expect(() =>
      fromV1Resources([
        { name: 'cpus', type: 'SCALAR', scalar: { value: 1 }, reservations: [{ role: 'a' }, { role: 'a/b' }] },
      ]),
    ).to.throw(/refined/);
  });

  it('refuses what the agent does not have free, unreserved resources to reserve, and inactive agents', async () => {
    const h = await MasterHarness.start();
    const agent = await h.addAgent({ resources: 'cpus:4;mem:1024' });
    const a = h.master.agents.get(agent.id as string);
    expect(reservationProblem(a, Resources.parse('cpus(dev):2'), Resources.empty())).to.equal(undefined);
    expect(reservationProblem(a, Resources.parse('cpus(dev):5'), Resources.empty())).to.match(/does not have/);
    expect(reservationProblem(a, Resources.parse('cpus:1'), Resources.empty())).to.match(/role other than/);
    expect(reservationProblem(a, Resources.empty(), Resources.parse('cpus(dev):1'))).to.match(/reserved and unused/);
    expect(reservationProblem(undefined, Resources.parse('cpus(dev):1'), Resources.empty())).to.equal('unknown agent');
    expect(
      await h.master.changeReservations(agent.id as string, Resources.parse('cpus(dev):2'), Resources.empty()),
    ).to.deep.equal({ ok: true });
    expect(
      h.master.agents
        .get(agent.id as string)
        ?.total.reservedFor('dev')
        .scalar('cpus'),
    ).to.equal(2);
    const back = await h.master.changeReservations(
      agent.id as string,
      Resources.empty(),
      Resources.parse('cpus(dev):2'),
    );
    expect(back).to.deep.equal({ ok: true });
    expect(
      h.master.agents
        .get(agent.id as string)
        ?.total.unreserved()
        .scalar('cpus'),
    ).to.equal(4);
    h.master.stop();
  });
});

describe('JSONP callback names', () => {
  it('takes plain and dotted identifiers, as the web UI sends them', () => {
    expect(jsonpCallback('/master/state?jsonp=JSON_CALLBACK')).to.equal('JSON_CALLBACK');
    expect(jsonpCallback('/state?x=1&jsonp=angular.callbacks._0')).to.equal('angular.callbacks._0');
    expect(jsonpCallback('/state?jsonp=$cb')).to.equal('$cb');
    expect(jsonpCallback('/state')).to.equal(undefined);
  });

  for (const bad of ['alert(1)', '1abc', 'a..b', 'a.', '', 'a b', 'a;b', '<script>', 'x'.repeat(129)]) {
    it(`refuses ${JSON.stringify(bad.slice(0, 20))} with AGORA_HTTP_BAD_JSONP_CALLBACK`, () => {
      expect(() => jsonpCallback(`/state?jsonp=${encodeURIComponent(bad)}`))
        .to.throw()
        .with.property('code', 'AGORA_HTTP_BAD_JSONP_CALLBACK');
    });
  }

  it('refuses two callbacks, and escapes the line separators script forbids', () => {
    expect(() => jsonpCallback('/state?jsonp=a&jsonp=b')).to.throw(/one jsonp callback/);
    expect(wrapJsonp('cb', '{"s":"\u2028"}')).to.equal('cb({"s":"\\u2028"});');
  });
});

describe('ls modes', () => {
  const table: [number, string][] = [
    [0o040755, 'drwxr-xr-x'],
    [0o100644, '-rw-r--r--'],
    [0o120777, 'lrwxrwxrwx'],
    [0o104755, '-rwsr-xr-x'],
    [0o102644, '-rw-r-Sr--'],
    [0o041777, 'drwxrwxrwt'],
    [0o010600, 'prw-------'],
  ];
  for (const [mode, text] of table) it(`${mode.toString(8)} → ${text}`, () => expect(lsMode(mode)).to.equal(text));
});

/** A sink like a response whose socket takes `takes` bytes and then nothing more. */
class FakeSink extends EventEmitter implements EventSink {
  readonly chunks: Buffer[] = [];
  writableLength = 0;
  ended = false;
  destroyed = false;
  constructor(private readonly stuck = false) {
    super();
  }
  write(chunk: Buffer): boolean {
    this.chunks.push(chunk);
    if (this.stuck) this.writableLength += chunk.length;
    return !this.stuck;
  }
  end(): void {
    this.ended = true;
    this.emit('close');
  }
  destroy(): void {
    this.destroyed = true;
    this.emit('close');
  }
  events(): { type: string }[] {
    const d = new RecordIoDecoder();
    return this.chunks.flatMap((c) => d.push(c)).map((t) => JSON.parse(t.toString('utf8')));
  }
}

const snapshot = () => ({ type: 'SUBSCRIBED', subscribed: { get_state: {} } });

describe('operator event stream (fan-out, bounds, heartbeats)', () => {
  it('encodes each event once and writes the same bytes to every subscriber', () => {
    const s = new OperatorEventStream({ schedule: (fn) => fn(), clock: new VirtualClock(0), master: () => undefined });
    const sinks = Array.from({ length: 50 }, () => new FakeSink());
    for (const k of sinks) expect(s.subscribe(k, snapshot)).to.equal(true);
    s.publish({ type: 'AGENT_REMOVED', agent_removed: { agent_id: { value: 'A' } } });
    const last = sinks.map((k) => k.chunks[k.chunks.length - 1]);
    expect(new Set(last).size).to.equal(1); // one Buffer, shared
    expect(sinks[7].events().map((e) => e.type)).to.deep.equal(['SUBSCRIBED', 'HEARTBEAT', 'AGENT_REMOVED']);
  });

  it('cuts off a subscriber that falls behind by more than its allowance, counts it, and keeps serving the others', () => {
    const slow: { buffered: number }[] = [];
    const s = new OperatorEventStream({
      schedule: (fn) => fn(),
      clock: new VirtualClock(0),
      master: () => undefined,
      maxBufferedBytes: 1000,
      onSlowSubscriber: (i) => slow.push(i),
    });
    const stuck = new FakeSink(true);
    const fine = new FakeSink();
    s.subscribe(stuck, snapshot);
    s.subscribe(fine, snapshot);
    const big = { type: 'TASK_UPDATED', pad: 'x'.repeat(400) };
    for (let i = 0; i < 10; i++) s.publish(big);
    expect(stuck.destroyed).to.equal(true);
    expect(s.subscribers).to.equal(1);
    expect(s.metrics()['master/operator_api/subscribers_disconnected_slow']).to.equal(1);
    expect(slow).to.have.length(1);
    expect(fine.events().filter((e) => e.type === 'TASK_UPDATED')).to.have.length(10);
    // Never more than the allowance plus one record was held for it.
    expect(stuck.writableLength).to.be.below(1000 + 2 * 420 + 200);
  });

  it('a single record larger than the allowance does not cut anyone off', () => {
    const s = new OperatorEventStream({
      schedule: (fn) => fn(),
      clock: new VirtualClock(0),
      master: () => undefined,
      maxBufferedBytes: 100,
    });
    const k = new FakeSink();
    s.subscribe(k, snapshot);
    s.publish({ type: 'TASK_ADDED', pad: 'x'.repeat(10_000) });
    expect(k.destroyed).to.equal(false);
  });

  it('sends HEARTBEAT on the injected clock while anyone subscribes, and stops when nobody does', () => {
    const clock = new VirtualClock(0);
    const s = new OperatorEventStream({
      schedule: (fn) => fn(),
      clock,
      master: () => undefined,
      heartbeatIntervalMs: 15_000,
    });
    const k = new FakeSink();
    s.subscribe(k, snapshot);
    clock.advance(45_000);
    expect(k.events().filter((e) => e.type === 'HEARTBEAT')).to.have.length(4); // one at once, three on the clock
    k.end();
    expect(s.subscribers).to.equal(0);
    expect(clock.pending()).to.equal(0);
  });

  it("fans out after the master's turn: a burst is one write per subscriber, and a newcomer gets none of what its snapshot holds", () => {
    const later: (() => void)[] = [];
    const s = new OperatorEventStream({
      schedule: (fn) => later.push(fn),
      clock: new VirtualClock(0),
      master: () => undefined,
    });
    const a = new FakeSink();
    s.subscribe(a, snapshot);
    const before = a.chunks.length;
    for (let i = 0; i < 3; i++) s.publish({ type: 'TASK_UPDATED', n: i });
    expect(a.chunks.length).to.equal(before); // nothing written inside the master's turn
    const b = new FakeSink();
    s.subscribe(b, snapshot); // flushes the burst to `a` first
    expect(a.chunks.length).to.equal(before + 1);
    expect(a.events().filter((e) => e.type === 'TASK_UPDATED')).to.have.length(3);
    expect(b.events().map((e) => e.type)).to.deep.equal(['SUBSCRIBED', 'HEARTBEAT']);
    s.publish({ type: 'TASK_UPDATED', n: 3 });
    for (const fn of later.splice(0)) fn();
    expect(b.events().filter((e) => e.type === 'TASK_UPDATED')).to.have.length(1);
  });

  it('refuses subscribers over the cap', () => {
    const s = new OperatorEventStream({
      schedule: (fn) => fn(),
      clock: new VirtualClock(0),
      master: () => undefined,
      maxSubscribers: 2,
    });
    expect(s.subscribe(new FakeSink(), snapshot)).to.equal(true);
    expect(s.subscribe(new FakeSink(), snapshot)).to.equal(true);
    expect(s.full()).to.equal(true);
    expect(s.subscribe(new FakeSink(), snapshot)).to.equal(false);
  });
});

describe('operator events derived from the real master logic (MasterHarness)', () => {
  it('AGENT_ADDED, FRAMEWORK_ADDED, TASK_ADDED, TASK_UPDATED, AGENT_REMOVED (with its tasks), FRAMEWORK_REMOVED, and nothing twice', async () => {
    const h = await MasterHarness.start();
    const s = new OperatorEventStream({ schedule: (fn) => fn(), clock: h.clock, master: () => h.master });
    const sink = new FakeSink();
    const feed = () => {
      for (const t of h.trace.splice(0)) s.observe(t.event, t.effects);
    };
    h.trace.length = 0;
    s.subscribe(sink, snapshot);
    const agent = await h.addAgent();
    feed();
    const sched = await h.subscribe();
    feed();
    await h.advance(1000);
    feed();
    const [offer] = sched.offers();
    sched.launch(offer, [{ task_id: 't1', resources: 'cpus:1;mem:32' }]);
    await h.settle();
    feed();
    agent.update(sched.frameworkId as string, { task_id: 't1', state: 'TASK_RUNNING' });
    await h.settle();
    feed();
    // The same state again (a retried update): no second TASK_UPDATED.
    agent.update(sched.frameworkId as string, { task_id: 't1', state: 'TASK_RUNNING' });
    await h.settle();
    feed();
    await h.master.markGone(agent.id as string);
    await h.settle();
    feed();
    sched.call({ type: 'TEARDOWN', framework_id: '' });
    await h.settle();
    feed();
    const types = sink.events().map((e) => e.type);
    expect(types.filter((t) => t !== 'HEARTBEAT')).to.deep.equal([
      'SUBSCRIBED',
      'AGENT_ADDED',
      'FRAMEWORK_ADDED',
      'TASK_ADDED',
      'TASK_UPDATED',
      'AGENT_REMOVED',
      'TASK_UPDATED',
      'FRAMEWORK_REMOVED',
    ]);
    // biome-ignore lint/suspicious/noExplicitAny: operator events are loosely typed JSON
    const events = sink.events() as Record<string, any>[];
    const added = events.find((e) => e.type === 'TASK_ADDED');
    expect(added?.task_added.task.task_id).to.deep.equal({ value: 't1' });
    const updates = events.filter((e) => e.type === 'TASK_UPDATED').map((e) => e.task_updated.state);
    expect(updates[0]).to.equal('TASK_RUNNING');
    expect(['TASK_GONE_BY_OPERATOR', 'TASK_LOST']).to.include(updates[1]);
    h.master.stop();
  });

  it('a task of a disconnected framework still shows its updates (derived from the agent, not from what the framework is sent)', async () => {
    const h = await MasterHarness.start();
    const s = new OperatorEventStream({ schedule: (fn) => fn(), clock: h.clock, master: () => h.master });
    const sink = new FakeSink();
    const feed = () => {
      for (const t of h.trace.splice(0)) s.observe(t.event, t.effects);
    };
    const agent = await h.addAgent();
    const sched = await h.subscribe({ failover_timeout: 3600 });
    await h.advance(1000);
    const [offer] = sched.offers();
    sched.launch(offer, [{ task_id: 't1', resources: 'cpus:1;mem:32' }]);
    await h.settle();
    h.trace.length = 0;
    s.subscribe(sink, snapshot);
    sched.drop();
    await h.settle();
    feed();
    agent.update(sched.frameworkId as string, { task_id: 't1', state: 'TASK_RUNNING' });
    await h.settle();
    feed();
    const types = sink.events().map((e) => e.type);
    expect(types).to.include('FRAMEWORK_UPDATED');
    const updated = (sink.events() as { type: string; task_updated?: { state: string } }[]).filter(
      (e) => e.type === 'TASK_UPDATED',
    );
    expect(updated.map((e) => e.task_updated?.state)).to.deep.equal(['TASK_RUNNING']);
    h.master.stop();
  });

  it("filters each event per subscriber by the view ACLs: a restricted principal never gets the other framework's task", async () => {
    const acls = parseAcls(
      JSON.stringify({
        permissive: false,
        view_frameworks: [
          { principals: { values: ['ops'] }, users: { type: 'ANY' } },
          { principals: { values: ['alice'] }, users: { values: ['alice'] } },
        ],
        view_tasks: [
          { principals: { values: ['ops'] }, users: { type: 'ANY' } },
          { principals: { values: ['alice'] }, users: { values: ['alice'] } },
        ],
      }),
    );
    const asked: string[] = [];
    const mayFor = (principal: string) => (action: string, object: string | undefined) => {
      asked.push(`${principal}:${action}:${object}`);
      return aclAllows(acls, action as AclAction, principal, object);
    };
    const h = await MasterHarness.start();
    const s = new OperatorEventStream({ schedule: (fn) => fn(), clock: h.clock, master: () => h.master });
    const feed = () => {
      for (const t of h.trace.splice(0)) s.observe(t.event, t.effects);
    };
    const agent = await h.addAgent({ resources: 'cpus:8;mem:4096' });
    const alice = await h.subscribe({ user: 'alice', name: 'alice-fw' });
    const bob = await h.subscribe({ user: 'bob', name: 'bob-fw' });
    h.trace.length = 0;
    const restricted = new FakeSink();
    const restricted2 = new FakeSink();
    const ops = new FakeSink();
    s.subscribe(restricted, snapshot, { principal: 'alice', may: mayFor('alice') });
    s.subscribe(restricted2, snapshot, { principal: 'alice', may: mayFor('alice') });
    s.subscribe(ops, snapshot, { principal: 'ops', may: mayFor('ops') });
    await h.advance(1000);
    feed();
    for (const [f, id] of [
      [alice, 'alice-task'],
      [bob, 'bob-task'],
    ] as const) {
      const [offer] = f.offers();
      f.launch(offer, [{ task_id: id, resources: 'cpus:1;mem:32' }]);
      await h.settle();
      feed();
      agent.update(f.frameworkId as string, { task_id: id, state: 'TASK_RUNNING' });
      await h.settle();
      feed();
    }
    const bytes = (k: FakeSink) => Buffer.concat(k.chunks).toString('utf8');
    // The unrestricted principal sees both tasks, added and updated.
    expect(bytes(ops)).to.include('"bob-task"').and.include('"alice-task"');
    expect(ops.events().filter((e) => e.type === 'TASK_ADDED')).to.have.length(2);
    expect(ops.events().filter((e) => e.type === 'TASK_UPDATED')).to.have.length(2);
    // The restricted one: its own framework's task only; not a byte of bob's.
    for (const k of [restricted, restricted2]) {
      expect(bytes(k)).to.include('"alice-task"');
      expect(bytes(k)).to.not.include('bob-task');
      expect(bytes(k)).to.not.include(bob.frameworkId as string);
      expect(k.events().filter((e) => e.type === 'TASK_ADDED')).to.have.length(1);
      expect(k.events().filter((e) => e.type === 'TASK_UPDATED')).to.have.length(1);
    }
    // Decided once per principal and check per flush, not once per subscriber.
    const aliceAsks = asked.filter((a) => a === 'alice:view_frameworks:bob');
    expect(aliceAsks.length).to.be.greaterThan(0);
    expect(aliceAsks.length).to.equal(asked.filter((a) => a === 'ops:view_frameworks:bob').length);
    h.master.stop();
  });

  it('an operator TEARDOWN shows as FRAMEWORK_REMOVED, with its task killed', async () => {
    const h = await MasterHarness.start();
    const s = new OperatorEventStream({ schedule: (fn) => fn(), clock: h.clock, master: () => h.master });
    const sink = new FakeSink();
    const agent = await h.addAgent();
    const sched = await h.subscribe();
    await h.advance(1000);
    const [offer] = sched.offers();
    sched.launch(offer, [{ task_id: 't1', resources: 'cpus:1;mem:32' }]);
    await h.settle();
    agent.update(sched.frameworkId as string, { task_id: 't1', state: 'TASK_RUNNING' });
    await h.settle();
    h.trace.length = 0;
    s.subscribe(sink, snapshot);
    expect(await h.master.teardownFramework(sched.frameworkId as string)).to.equal('torn down');
    await h.settle();
    for (const t of h.trace.splice(0)) s.observe(t.event, t.effects);
    // biome-ignore lint/suspicious/noExplicitAny: operator events are loosely typed JSON
    const events = sink.events() as Record<string, any>[];
    expect(events.filter((e) => e.type !== 'HEARTBEAT').map((e) => e.type)).to.deep.equal([
      'SUBSCRIBED',
      'TASK_UPDATED',
      'FRAMEWORK_REMOVED',
    ]);
    expect(events.find((e) => e.type === 'TASK_UPDATED')?.task_updated.state).to.equal('TASK_KILLED');
    h.master.stop();
  });

  it('closes every subscriber when the master stops leading', async () => {
    const h = await MasterHarness.start();
    const s = new OperatorEventStream({ schedule: (fn) => fn(), clock: h.clock, master: () => h.master });
    const sink = new FakeSink();
    s.subscribe(sink, snapshot);
    h.master.stepDown('test');
    for (const t of h.trace.splice(0)) s.observe(t.event, t.effects);
    expect(sink.ended).to.equal(true);
    expect(s.subscribers).to.equal(0);
    h.master.stop();
  });
});
