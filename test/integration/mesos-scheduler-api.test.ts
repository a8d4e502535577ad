/**
 * Mesos's v1 scheduler HTTP API against real master and agent processes, driven by a plain HTTP
 * client (node:http, reading the RecordIO stream) the way Mesos's documentation describes it:
 * subscribe, offers, a real task launched and its updates acknowledged, decline with a filter,
 * suppress and revive, kill, reconcile, teardown; authentication (401/403); a redirect (307) from
 * a master that does not lead, on a real ZooKeeper. Evidence of tasks comes from files they write.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import {
  dumpProcessLogs,
  getJson,
  type MasterProc,
  startAgentProc,
  startMasterProc,
  stopAll,
  tempDir,
  waitFor,
} from '../support/cluster.js';
import { type Json, MesosStream, post } from '../support/mesos-http.js';
import { pidWritten } from '../support/proc-stat.js';
import { requireReal } from '../support/require-real.js';
import { TestZkServer, zookeeperAvailability } from '../support/zookeeper.js';

const api = (m: MasterProc) => `${m.url}/api/v1/scheduler`;

function call(m: MasterProc, s: MesosStream, body: Json, headers: Record<string, string> = {}) {
  return post(
    api(m),
    { framework_id: { value: s.frameworkId }, ...body },
    { 'mesos-stream-id': s.streamId, ...headers },
  );
}

async function allocationRuns(m: MasterProc): Promise<number> {
  return (await getJson(`${m.url}/metrics/snapshot`))['allocator/mesos/allocation_runs'];
}

/** Waits until the master has run `n` more allocation cycles (no timing threshold: cycles are counted). */
async function cycles(m: MasterProc, n: number): Promise<void> {
  const from = await allocationRuns(m);
  await waitFor(`${n} allocation cycles`, async () => (await allocationRuns(m)) >= from + n, 20_000);
}

/** Acknowledges every UPDATE with a uuid from index `from`, once each. */
async function ackAll(m: MasterProc, s: MesosStream, acked: Set<string>): Promise<void> {
  for (const e of s.events) {
    const st = e.type === 'UPDATE' ? e.update.status : undefined;
    if (!st?.uuid || acked.has(st.uuid)) continue;
    acked.add(st.uuid);
    const a = await call(m, s, {
      type: 'ACKNOWLEDGE',
      acknowledge: { agent_id: st.agent_id, task_id: st.task_id, uuid: st.uuid },
    });
    expect(a.status, a.body).to.equal(202);
  }
}

function launch(offer: Json, taskId: string, command: string): Json {
  return {
    type: 'ACCEPT',
    accept: {
      offer_ids: [offer.id],
      operations: [
        {
          type: 'LAUNCH',
          launch: {
            task_infos: [
              {
                name: taskId,
                task_id: { value: taskId },
                agent_id: offer.agent_id,
                resources: [
                  { name: 'cpus', type: 'SCALAR', scalar: { value: 0.1 }, role: '*', allocation_info: { role: '*' } },
                  { name: 'mem', type: 'SCALAR', scalar: { value: 32 }, role: '*', allocation_info: { role: '*' } },
                ],
                command: { shell: true, value: command },
              },
            ],
          },
        },
      ],
      filters: { refuse_seconds: 0 },
    },
  };
}

/** Waits for `taskId` to reach `state`, acknowledging every update on the way (the agent sends the next only then). */
async function reach(m: MasterProc, s: MesosStream, acked: Set<string>, taskId: string, state: string): Promise<void> {
  for (;;) {
    await ackAll(m, s, acked);
    if (stateOf(s, taskId) === state) return;
    const n = s.events.length;
    await s.until((es) => (es.length > n ? true : undefined), `${state} of ${taskId}`);
  }
}

async function leading(m: MasterProc): Promise<void> {
  await waitFor('the master to lead', async () => (await getJson(`${m.url}/health`)).leading);
}

function stateOf(s: MesosStream, taskId: string): string | undefined {
  const u = [...s.events].reverse().find((e) => e.type === 'UPDATE' && e.update.status.task_id.value === taskId);
  return u?.update.status.state;
}

describe('Mesos v1 scheduler HTTP API on real processes @integration', function () {
  this.timeout(240_000);
  afterEach(async function () {
    if (this.currentTest?.state === 'failed') dumpProcessLogs();
    await stopAll();
  });

  describe('one master, one agent', () => {
    let master: MasterProc;
    let evidence: string;

    beforeEach(async () => {
      master = await startMasterProc(['--allocation_interval', '200ms']);
      await leading(master);
      await startAgentProc(master.address, ['--resources', 'cpus:2;mem:1024;disk:1000;ports:[31000-31100]']);
      evidence = tempDir('mesos-api-evidence');
    });

    it('subscribe, offers, launch a real task, updates acknowledged, kill, reconcile, teardown', async () => {
      const s = await MesosStream.open(api(master), {
        type: 'SUBSCRIBE',
        subscribe: { framework_info: { user: 'root', name: 'plain-http', failover_timeout: 60 } },
      });
      expect(s.status, s.body).to.equal(200);
      expect(s.streamId).to.have.length.above(0);
      const sub = await s.next('SUBSCRIBED');
      expect(sub.subscribed.heartbeat_interval_seconds).to.be.a('number');
      expect(sub.subscribed.master_info.port).to.equal(master.port);
      const offer = (await s.next('OFFERS')).offers.offers[0];
      expect(offer.agent_id.value).to.be.a('string');
      expect(offer.resources.find((r: Json) => r.name === 'ports').ranges.range).to.deep.equal([
        { begin: 31000, end: 31100 },
      ]);

      // A long task that proves it ran by writing its pid.
      const a = await call(master, s, launch(offer, 'long', `echo $$ > ${evidence}/long.pid; exec sleep 300`));
      expect(a.status, a.body).to.equal(202);
      const acked = new Set<string>();
      await reach(master, s, acked, 'long', 'TASK_RUNNING');
      // Once written, not once created: `echo $$ >` creates the file empty, then writes.
      const pid = await pidWritten(join(evidence, 'long.pid'));
      expect(existsSync(`/proc/${pid}`), 'the task process runs').to.equal(true);

      // Acknowledged: the agent has nothing left to retry for it (its state shows no pending update).
      // RECONCILE explicit and implicit: the master answers with the task's latest state.
      let from = s.events.length;
      const rc = await call(master, s, {
        type: 'RECONCILE',
        reconcile: { tasks: [{ task_id: { value: 'long' }, agent_id: offer.agent_id }] },
      });
      expect(rc.status, rc.body).to.equal(202);
      const r1 = (await s.next('UPDATE', from)).update.status;
      expect(r1).to.deep.include({ state: 'TASK_RUNNING', reason: 'REASON_RECONCILIATION' });
      expect(r1.uuid).to.equal(undefined);
      from = s.events.length;
      await call(master, s, { type: 'RECONCILE', reconcile: { tasks: [] } });
      expect((await s.next('UPDATE', from)).update.status.task_id.value).to.equal('long');

      // KILL: the real process goes away and TASK_KILLED arrives.
      const k = await call(master, s, { type: 'KILL', kill: { task_id: { value: 'long' }, agent_id: offer.agent_id } });
      expect(k.status, k.body).to.equal(202);
      await reach(master, s, acked, 'long', 'TASK_KILLED');
      await waitFor(
        'the task process to be gone',
        async () => !existsSync(`/proc/${pid}`) || readFileSync(`/proc/${pid}/stat`, 'utf8').split(' ')[2] === 'Z',
      );

      // A short task finishes.
      // The offer still outstanding (the rest of the agent after the first launch), or a new one.
      const offer2 = await s.until(
        (es) => [...es].reverse().find((e) => e.type === 'OFFERS' && e.offers.offers[0].id.value !== offer.id.value),
        'another offer',
      );
      await call(master, s, launch(offer2.offers.offers[0], 'short', `echo done > ${evidence}/short.out`));
      await reach(master, s, acked, 'short', 'TASK_FINISHED');
      expect(readFileSync(join(evidence, 'short.out'), 'utf8').trim()).to.equal('done');
      const st = await getJson(`${master.url}/master/state`);
      expect(st.frameworks.map((f: Json) => f.name)).to.include('plain-http');

      // TEARDOWN: the stream ends and the framework is completed.
      const id = s.frameworkId;
      const t = await call(master, s, { type: 'TEARDOWN' });
      expect(t.status, t.body).to.equal(202);
      await s.closed();
      await waitFor('the framework to be completed', async () => {
        const j = await getJson(`${master.url}/master/state`);
        return j.completed_frameworks.some((f: Json) => f.id === id) && !j.frameworks.some((f: Json) => f.id === id);
      });
    });

    it('DECLINE with a filter: not re-offered over many allocation cycles; SUPPRESS likewise; REVIVE brings offers back', async () => {
      const s = await MesosStream.open(api(master), {
        type: 'SUBSCRIBE',
        subscribe: { framework_info: { name: 'decliner' } },
      });
      await s.next('SUBSCRIBED');
      const offer = (await s.next('OFFERS')).offers.offers[0];
      const d = await call(master, s, {
        type: 'DECLINE',
        decline: { offer_ids: [offer.id], filters: { refuse_seconds: 3600 } },
      });
      expect(d.status, d.body).to.equal(202);
      let from = s.events.length;
      // 30 cycles of 200 ms: longer than the default filter (5 s), so a filter lost on the way shows.
      await cycles(master, 30);
      expect(
        s.events.slice(from).filter((e) => e.type === 'OFFERS'),
        'no offer within the filter',
      ).to.have.length(0);
      const rv = await call(master, s, { type: 'REVIVE' });
      expect(rv.status, rv.body).to.equal(202);
      const again = await s.next('OFFERS', from);
      expect(again.offers.offers[0].agent_id.value).to.equal(offer.agent_id.value);

      // SUPPRESS, then decline what is outstanding without a filter: still nothing offered.
      const sp = await call(master, s, { type: 'SUPPRESS' });
      expect(sp.status, sp.body).to.equal(202);
      await call(master, s, {
        type: 'DECLINE',
        decline: { offer_ids: again.offers.offers.map((o: Json) => o.id), filters: { refuse_seconds: 0 } },
      });
      from = s.events.length;
      await cycles(master, 5);
      expect(
        s.events.slice(from).filter((e) => e.type === 'OFFERS'),
        'no offer while suppressed',
      ).to.have.length(0);
      await call(master, s, { type: 'REVIVE' });
      await s.next('OFFERS', from);
      s.close();
    });

    it('error statuses: 415 protobuf, 400 bad JSON, stream ids and unknown framework (as Mesos), 403 not subscribed', async () => {
      const pb = await post(api(master), 'x', { 'content-type': 'application/x-protobuf' });
      expect(pb.status).to.equal(415);
      expect(pb.json?.message).to.match(/application\/json/);
      expect((await post(api(master), '{"type":')).status).to.equal(400);
      const s = await MesosStream.open(api(master), {
        type: 'SUBSCRIBE',
        subscribe: { framework_info: { name: 'e', failover_timeout: 60 } },
      });
      await s.next('SUBSCRIBED');
      expect((await post(api(master), { type: 'REVIVE', framework_id: { value: s.frameworkId } })).status).to.equal(
        400,
      );
      expect((await call(master, s, { type: 'REVIVE' }, { 'mesos-stream-id': 'wrong' })).status).to.equal(400);
      expect(
        (
          await post(
            api(master),
            { type: 'REVIVE', framework_id: { value: 'nope' } },
            { 'mesos-stream-id': s.streamId },
          )
        ).status,
      ).to.equal(400);
      s.close();
      await s.closed();
      await waitFor('the framework to be disconnected', async () => {
        const j = await getJson(`${master.url}/master/state`);
        return j.frameworks.some((f: Json) => f.id === s.frameworkId && !f.connected);
      });
      const c = await call(master, s, { type: 'REVIVE' });
      expect(c.status, c.body).to.equal(403);
    });
  });

  it("authentication: 401 without credentials, 400 for a principal other than the framework's (as Mesos), 200 with them", async () => {
    const dir = tempDir('mesos-api-auth');
    const creds = join(dir, 'credentials');
    writeFileSync(creds, 'alice a-secret\nbob b-secret\n', { mode: 0o600 });
    const master = await startMasterProc(['--authenticate_frameworks', '--credentials', creds]);
    await leading(master);
    const basic = (u: string) => ({ authorization: `Basic ${Buffer.from(u).toString('base64')}` });
    const sub = (info: Json = {}) => ({
      type: 'SUBSCRIBE',
      subscribe: { framework_info: { name: 'secure', ...info } },
    });
    expect((await post(api(master), sub())).status).to.equal(401);
    expect((await post(api(master), sub(), basic('alice:wrong'))).status).to.equal(401);
    const claim = await post(api(master), sub({ principal: 'bob' }), basic('alice:a-secret'));
    expect(claim.status).to.equal(400);
    expect(claim.json?.code).to.equal('AGORA_AUTH_PRINCIPAL_MISMATCH');
    const s = await MesosStream.open(api(master), sub(), basic('alice:a-secret'));
    expect(s.status, s.body).to.equal(200);
    await s.next('SUBSCRIBED');
    // Another principal may not act for alice's framework.
    const bob = await call(master, s, { type: 'REVIVE' }, basic('bob:b-secret'));
    expect(bob.status).to.equal(400);
    expect(bob.json?.code).to.equal('AGORA_AUTH_PRINCIPAL_MISMATCH');
    const alice = await call(master, s, { type: 'REVIVE' }, basic('alice:a-secret'));
    expect(alice.status, alice.body).to.equal(202);
    s.close();
  });

  it('a master that does not lead answers 307 with the leader in Location (real ZooKeeper)', async function () {
    requireReal(this, 'ZooKeeper', zookeeperAvailability());
    const zk = await TestZkServer.start();
    try {
      const url = zk.url('/agora-mesos-v1-scheduler');
      const m1 = await startMasterProc(['--zk', url]);
      const m2 = await startMasterProc(['--zk', url]);
      const leader = await waitFor('a leader', async () => {
        for (const m of [m1, m2]) if ((await getJson(`${m.url}/health`)).leading) return m;
        return undefined;
      });
      const follower = leader === m1 ? m2 : m1;
      await waitFor('the follower to know the leader', async () => {
        const r = await post(api(follower), { type: 'SUBSCRIBE', subscribe: { framework_info: { name: 'r' } } });
        return r.status === 307 ? r : undefined;
      }).then((r) => {
        expect(r.headers.location).to.equal(`http://127.0.0.1:${leader.port}/api/v1/scheduler`);
      });
      // Following the redirect subscribes with the leader.
      const s = await MesosStream.open(api(leader), {
        type: 'SUBSCRIBE',
        subscribe: { framework_info: { name: 'r' } },
      });
      await s.next('SUBSCRIBED');
      s.close();
    } finally {
      await stopAll();
      await zk.destroy();
    }
  });
});
