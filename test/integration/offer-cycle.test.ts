/**
 * The core offer cycle end to end, with a real master and real agents as separate processes and
 * this test process as the framework (through the SDK driver).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { pack, unpack } from 'msgpackr';
import WebSocket from 'ws';
import { isAlive } from '../../agent/containerizer/proc.js';
import type { Offer, TaskInfo } from '../../sdk/protocol/types.js';
import { Resources } from '../../sdk/resources/resources.js';
import {
  type AgentProc,
  dumpProcessLogs,
  getJson,
  type MasterProc,
  sleep,
  startAgentProc,
  startMasterProc,
  stopAll,
  tempDir,
  waitFor,
} from '../support/cluster.js';
import { commandTask, TestFramework } from '../support/framework.js';

const AGENT_RESOURCES = 'cpus:4;mem:4096;disk:4096;ports:[31000-31100]';

describe('offer cycle (real master and agents) @integration', function () {
  this.timeout(120_000);
  let master: MasterProc;
  let agents: AgentProc[];
  const frameworks: TestFramework[] = [];

  async function framework(name: string, extra = {}): Promise<TestFramework> {
    const f = await new TestFramework(master.address, name, extra).start();
    frameworks.push(f);
    return f;
  }

  before(async () => {
    master = await startMasterProc(['--allocation_interval', '200ms']);
    agents = await Promise.all([
      startAgentProc(master.address, ['--resources', AGENT_RESOURCES, '--attributes', 'rack:r1']),
      startAgentProc(master.address, ['--resources', AGENT_RESOURCES, '--attributes', 'rack:r2']),
    ]);
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed') dumpProcessLogs();
    await Promise.all(frameworks.splice(0).map((f) => f.driver.teardown()));
  });

  after(async () => {
    await stopAll();
  });

  it('lists both agents, with their resources and attributes, in /master/state', async () => {
    const state = await getJson(`${master.url}/master/state`);
    expect(state.activated_slaves).to.equal(2);
    expect(state.slaves).to.have.length(2);
    for (const s of state.slaves) {
      expect(s.resources).to.include({ cpus: 4, mem: 4096, disk: 4096, ports: '[31000-31100]' });
      expect(s.used_resources).to.include({ cpus: 0, mem: 0 });
    }
    expect(state.slaves.map((s: { attributes: { rack: string } }) => s.attributes.rack).sort()).to.deep.equal([
      'r1',
      'r2',
    ]);
    const metrics = await getJson(`${master.url}/metrics/snapshot`);
    expect(metrics['master/slaves_active']).to.equal(2);
  });

  it('launches 100 tasks through the SDK: each ran once (by its own launch log) and was reported FINISHED exactly once', async () => {
    const f = await framework('hundred');
    const launches = join(tempDir('hundred'), 'launches.log');
    writeFileSync(launches, '');
    const want = 100;
    const ids = Array.from({ length: want }, (_, i) => `t-${i}`);
    const queue = [...ids];
    const onOffers = (offers: Offer[]) => {
      for (const o of offers) {
        let free = Resources.from(o.resources);
        const tasks: TaskInfo[] = [];
        const need = Resources.parse('cpus:0.1;mem:32');
        while (queue.length > 0 && free.contains(need)) {
          const id = queue.shift() as string;
          tasks.push(commandTask(o, id, `echo ${id} >> ${launches}; echo out-of-${id}`));
          free = free.minus(need);
        }
        if (tasks.length > 0) f.driver.launch(o, tasks, { refuse_seconds: 0 });
        else f.driver.decline([o.id], { refuse_seconds: 0 });
      }
      f.offers.length = 0;
    };
    f.driver.on('offers', onOffers);
    onOffers(f.offers.splice(0));
    await waitFor('all 100 tasks FINISHED', () => ids.every((id) => f.statesOf(id).includes('TASK_FINISHED')), 90_000);
    for (const id of ids) {
      const states = f.statesOf(id);
      expect(
        states.filter((s) => s === 'TASK_FINISHED'),
        id,
      ).to.have.length(1);
      expect(
        states.some((s) => s === 'TASK_FAILED' || s === 'TASK_LOST' || s === 'TASK_ERROR'),
        id,
      ).to.equal(false);
    }
    // Each task's command ran exactly once, by the log the tasks wrote themselves.
    const lines = readFileSync(launches, 'utf8').trim().split('\n');
    expect(lines).to.have.length(want);
    expect([...new Set(lines)].sort()).to.deep.equal([...ids].sort());
    const state = await getJson(`${master.url}/master/state`);
    const fw = state.frameworks.find((x: { id: string }) => x.id === f.driver.frameworkId);
    expect(fw.tasks).to.have.length(0);
    expect(fw.completed_tasks.filter((t: { state: string }) => t.state === 'TASK_FINISHED')).to.have.length(want);
    for (const s of state.slaves) expect(s.used_resources.cpus).to.equal(0);

    // The sandbox of a task holds its stdout.
    const one = fw.completed_tasks[0];
    const agent = agents.find(
      (a) => a.url && state.slaves.find((s: { id: string; port: number }) => s.id === one.slave_id).port === a.port,
    );
    expect(agent).to.not.equal(undefined);
    const agentState = await getJson(`${agent!.url}/state`);
    const sandboxes = agentState.frameworks.flatMap(
      (x: {
        executors: { completed_tasks: { id: string; sandbox: string }[]; tasks: { id: string; sandbox: string }[] }[];
      }) => x.executors.flatMap((e) => [...e.tasks, ...e.completed_tasks]),
    );
    // Acknowledged tasks leave the agent's state; read the sandbox by its known layout instead.
    const sandbox = `${agent!.workDir}/sandboxes/${encodeURIComponent(f.driver.frameworkId!)}/${encodeURIComponent(one.id)}`;
    const read = await getJson(`${agent!.url}/files/read?path=${encodeURIComponent(`${sandbox}/stdout`)}&offset=0`);
    expect(read.data).to.equal(`out-of-${one.id}\n`);
    expect(sandboxes).to.be.an('array');
  });

  it('kills a running task: TASK_KILLED, its process gone, its resources released', async () => {
    const f = await framework('killer');
    const [o] = await f.takeOffers();
    f.driver.launch(o, [commandTask(o, 'sleeper', 'sleep 300')]);
    await f.waitState('sleeper', 'TASK_RUNNING');
    const agent = agents.find((a) => a.url);
    let pid: number | undefined;
    for (const a of agents) {
      const st = await getJson(`${a.url}/state`);
      for (const fw of st.frameworks)
        for (const t of fw.executors[0].tasks) if (t.id === 'sleeper') pid = t.container?.pid;
    }
    expect(pid, 'agent reports the pid').to.be.a('number');
    f.driver.kill('sleeper');
    await f.waitState('sleeper', 'TASK_KILLED');
    await waitFor('the killed task process to be gone', () => !isAlive(pid!), 20_000);
    const state = await getJson(`${master.url}/master/state`);
    expect(state.slaves.every((s: { used_resources: { cpus: number } }) => s.used_resources.cpus === 0)).to.equal(true);
    expect(agent).to.not.equal(undefined);
  });

  it('reconciles: explicit (known and unknown task) and implicit', async () => {
    const f = await framework('reconciler');
    const [o] = await f.takeOffers();
    f.driver.launch(o, [commandTask(o, 'long', 'sleep 300')]);
    await f.waitState('long', 'TASK_RUNNING');
    const before = f.updates.length;
    f.driver.reconcile([{ task_id: 'long' }, { task_id: 'never-launched', agent_id: o.agent_id }]);
    await waitFor('two reconciliation answers', () => f.updates.length >= before + 2);
    const answers = f.updates.slice(before);
    expect(answers.find((u) => u.task_id === 'long')).to.include({
      state: 'TASK_RUNNING',
      reason: 'REASON_RECONCILIATION',
    });
    expect(answers.find((u) => u.task_id === 'never-launched')).to.include({
      state: 'TASK_LOST',
      reason: 'REASON_RECONCILIATION',
    });
    const mid = f.updates.length;
    f.driver.reconcile();
    await waitFor('implicit reconciliation answer', () => f.updates.length > mid);
    expect(f.updates.slice(mid).map((u) => [u.task_id, u.state])).to.deep.equal([['long', 'TASK_RUNNING']]);
  });

  it('answers an ACCEPT that asks for more than the offer holds with TASK_ERROR, and books nothing', async () => {
    const f = await framework('greedy');
    const [o] = await f.takeOffers();
    f.driver.launch(o, [commandTask(o, 'too-big', 'true', 'cpus:64;mem:32')]);
    const st = await f.waitState('too-big', 'TASK_ERROR');
    expect(st.reason).to.equal('REASON_TASK_INVALID');
    expect(st.message).to.match(/offer holds only/);
    const state = await getJson(`${master.url}/master/state`);
    for (const s of state.slaves) expect(s.used_resources.cpus).to.equal(0);
    const fw = state.frameworks.find((x: { id: string }) => x.id === f.driver.frameworkId);
    expect(fw.tasks).to.have.length(0);
    // The same offer id a second time: unknown now, so TASK_ERROR again, nothing booked.
    f.driver.launch(o, [commandTask(o, 'reuse', 'true')]);
    const again = await f.waitState('reuse', 'TASK_ERROR');
    expect(again.reason).to.equal('REASON_INVALID_OFFERS');
    expect(again.message).to.match(/unknown or was already used/);
  });

  it('refuses an offer accepted twice, a duplicate task id and a wrong agent, booking only what is valid', async () => {
    const f = await framework('dups');
    const [o] = await f.takeOffers();
    f.driver.accept(
      [o.id],
      [
        {
          type: 'LAUNCH',
          launch: {
            task_infos: [
              commandTask(o, 'a', 'sleep 300'),
              commandTask(o, 'a', 'sleep 300'),
              { ...commandTask(o, 'b', 'true'), agent_id: 'no-such-agent' },
            ],
          },
        },
      ],
    );
    await f.waitState('a', 'TASK_RUNNING');
    await waitFor(
      'the duplicate and wrong-agent errors',
      () => f.updates.filter((u) => u.state === 'TASK_ERROR').length >= 2,
    );
    const errors = f.updates.filter((u) => u.state === 'TASK_ERROR');
    expect(errors.map((e) => e.task_id).sort()).to.deep.equal(['a', 'b']);
    expect(errors.find((e) => e.task_id === 'a')?.message).to.match(/already in use/);
    expect(errors.find((e) => e.task_id === 'b')?.message).to.match(/names agent/);
    const state = await getJson(`${master.url}/master/state`);
    const used = state.slaves.reduce(
      (n: number, s: { used_resources: { cpus: number } }) => n + s.used_resources.cpus,
      0,
    );
    expect(used).to.be.closeTo(0.1, 1e-9);
    f.driver.accept([o.id], [{ type: 'LAUNCH', launch: { task_infos: [commandTask(o, 'c', 'true')] } }]);
    expect((await f.waitState('c', 'TASK_ERROR')).reason).to.equal('REASON_INVALID_OFFERS');
  });

  it('disconnects a framework whose frames do not decode (garbage, over-sized), while the others go on', async () => {
    const good = await framework('good');
    const wsUrl = `ws://${master.address}/api/v1/scheduler/ws`;
    const closeOf = (frame: Buffer | string) =>
      new Promise<{ code: number; reason: string }>((resolve, reject) => {
        const ws = new WebSocket(wsUrl);
        ws.on('open', () => ws.send(frame));
        ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
        ws.on('error', reject);
      });
    const garbage = await closeOf(Buffer.from([0xc1, 0xff, 0x00, 0x13, 0x37]));
    expect(garbage.code).to.equal(1008);
    const huge = await closeOf(Buffer.alloc(5 * 1024 * 1024, 1));
    expect(huge.code).to.equal(1009);
    const metrics = await getJson(`${master.url}/metrics/snapshot`);
    expect(metrics['master/invalid_frames']).to.be.at.least(1);
    // The well-behaved framework is still served.
    const [o] = await good.takeOffers();
    good.driver.launch(o, [commandTask(o, 'still-fine', 'echo ok')]);
    await good.waitState('still-fine', 'TASK_FINISHED');
    expect((await getJson(`${master.url}/health`)).healthy).to.equal(true);
  });

  it('answers a call that decodes but is invalid, and keeps the connection: an unknown type gets ERROR, a bad task TASK_ERROR (D11)', async () => {
    // A raw connection, since the SDK driver refuses to send invalid calls.
    const ws = new WebSocket(`ws://${master.address}/api/v1/scheduler/ws`);
    // biome-ignore lint/suspicious/noExplicitAny: raw protocol events, read loosely
    const events: Array<Record<string, any>> = [];
    let closed = false;
    let frameworkId = '';
    ws.on('message', (d) => {
      const e = unpack(d as Buffer);
      events.push(e);
      // Acknowledge as a framework must, or the agent holds back the task's next update.
      const st = e.type === 'UPDATE' ? e.update.status : undefined;
      if (st?.uuid && st.agent_id)
        ws.send(
          pack({
            type: 'ACKNOWLEDGE',
            framework_id: frameworkId,
            acknowledge: { agent_id: st.agent_id, task_id: st.task_id, uuid: st.uuid },
          }),
        );
    });
    ws.on('close', () => {
      closed = true;
    });
    await new Promise((r) => ws.on('open', r));
    ws.send(pack({ type: 'LAUNCH_EVERYTHING' }));
    const unknown = await waitFor('an ERROR for the unknown type', () => events.find((e) => e.type === 'ERROR'));
    expect(unknown.error.code).to.equal('AGORA_PROTOCOL_UNKNOWN_TYPE');
    ws.send(pack({ type: 'SUBSCRIBE', subscribe: { framework_info: { name: 'raw-d11', failover_timeout: 0 } } }));
    const sub = await waitFor('SUBSCRIBED', () => events.find((e) => e.type === 'SUBSCRIBED'));
    frameworkId = sub.subscribed.framework_id;
    const offersEvent = await waitFor('offers', () => events.find((e) => e.type === 'OFFERS'));
    const offer = offersEvent.offers.offers[0] as Offer;
    const task = (id: string, cpus: number) => ({
      name: id,
      task_id: id,
      agent_id: offer.agent_id,
      resources: [
        { name: 'cpus', type: 'SCALAR', scalar: { value: cpus } },
        { name: 'mem', type: 'SCALAR', scalar: { value: 32 } },
      ],
      command: { value: 'true' },
    });
    ws.send(
      pack({
        type: 'ACCEPT',
        framework_id: frameworkId,
        accept: {
          offer_ids: [offer.id],
          operations: [{ type: 'LAUNCH', launch: { task_infos: [task('negative', -1), task('fine', 0.1)] } }],
        },
      }),
    );
    const bad = await waitFor('TASK_ERROR for the negative task', () =>
      events.find((e) => e.type === 'UPDATE' && e.update.status.task_id === 'negative'),
    );
    expect(bad.update.status.state).to.equal('TASK_ERROR');
    expect(bad.update.status.reason).to.equal('REASON_TASK_INVALID');
    // The valid task of the same ACCEPT runs, and the connection was never closed.
    await waitFor('the valid task to finish', () =>
      events.find(
        (e) => e.type === 'UPDATE' && e.update.status.task_id === 'fine' && e.update.status.state === 'TASK_FINISHED',
      ),
    );
    expect(closed).to.equal(false);
    const state = await getJson(`${master.url}/master/state`);
    expect(state.frameworks.some((x: { id: string }) => x.id === frameworkId)).to.equal(true);
    ws.send(pack({ type: 'TEARDOWN', framework_id: frameworkId }));
    ws.close();
  });

  it('gives TASK_FAILED with the exit status for a failing command', async () => {
    const f = await framework('failer');
    const [o] = await f.takeOffers();
    f.driver.launch(o, [commandTask(o, 'fails', 'exit 3')]);
    const st = await f.waitState('fails', 'TASK_FAILED');
    expect(st.exit_status).to.equal(3);
    expect(st.message).to.match(/exited 3/);
  });

  it('honours a decline filter: the declined agent is not offered again to that framework until it expires', async () => {
    const f = await framework('decliner');
    const offers = await f.takeOffers(2);
    const declined = offers[0];
    f.driver.decline([declined.id], { refuse_seconds: 3600 });
    f.driver.decline(
      offers.slice(1).map((o) => o.id),
      { refuse_seconds: 0 },
    );
    await sleep(1000);
    const later = await f.takeOffers(1);
    expect(later.every((o) => o.agent_id !== declined.agent_id)).to.equal(true);
    // Read from a full cycle: one scoped to a single agent (a task ended, an agent joined) also
    // sets "last cycle", and may not visit the declined agent.
    const fw = await waitFor(
      'a cycle that skipped the declined agent as filtered',
      async () => {
        const state = await getJson(`${master.url}/master/state`);
        const x = state.frameworks.find((y: { id: string }) => y.id === f.driver.frameworkId);
        return x?.offer_stats.agents_skipped_last_cycle.filtered === 1 ? x : undefined;
      },
      20_000,
    );
    expect(fw.offer_stats.offers_declined).to.be.at.least(2);
  });

  it('answers unknown ids with clear errors and keeps serving', async () => {
    const f = await framework('unknowns');
    f.driver.kill('no-such-task');
    const lost = await f.waitState('no-such-task', 'TASK_LOST');
    expect(lost.message).to.match(/does not know this task/);
    f.driver.acknowledge({ task_id: 'x', state: 'TASK_RUNNING', timestamp: 0, uuid: 'u', agent_id: 'no-such-agent' });
    await waitFor('an ERROR event', () => f.errors.length > 0);
    expect(f.errors[0]).to.include({ code: 'AGORA_MASTER_UNKNOWN_AGENT' });
    // A call with another framework's id, on a raw connection that never subscribed.
    const ws = new WebSocket(`ws://${master.address}/api/v1/scheduler/ws`);
    const events: unknown[] = [];
    await new Promise((r) => ws.on('open', r));
    ws.on('message', (d) => events.push(unpack(d as Buffer)));
    ws.send(pack({ type: 'KILL', framework_id: f.driver.frameworkId, kill: { task_id: 'x' } }));
    await waitFor('an ERROR for the unsubscribed call', () => events.length > 0);
    expect(events[0]).to.deep.include({ type: 'ERROR' });
    expect((events[0] as { error: { code: string } }).error.code).to.equal('AGORA_MASTER_NOT_SUBSCRIBED');
    ws.close();
    expect(
      (await getJson(`${master.url}/master/state`)).frameworks.some(
        (x: { id: string }) => x.id === f.driver.frameworkId,
      ),
    ).to.equal(true);
  });

  it('refuses agent file reads outside the sandboxes and bad ranges, with clear errors', async () => {
    const a = agents[0];
    const outside = await fetch(`${a.url}/files/read?path=${encodeURIComponent('/etc/passwd')}&offset=0`);
    expect(outside.status).to.equal(403);
    expect((await outside.json()).message).to.match(/outside the task sandboxes/);
    const traversal = await fetch(`${a.url}/files/read?path=${encodeURIComponent('../../../../etc/passwd')}&offset=0`);
    expect([403, 404]).to.include(traversal.status);
    const missing = await fetch(
      `${a.url}/files/read?path=${encodeURIComponent(`${a.workDir}/sandboxes/nope`)}&offset=0`,
    );
    expect(missing.status).to.equal(404);
    const noPath = await fetch(`${a.url}/files/read`);
    expect(noPath.status).to.equal(400);
    const f = await framework('reader');
    const [o] = await f.takeOffers();
    f.driver.launch(o, [commandTask(o, 'writer', 'printf abcdef')]);
    await f.waitState('writer', 'TASK_FINISHED');
    const owner = agents.find((x) => x.url)!;
    const sandbox = (ag: AgentProc) => `${ag.workDir}/sandboxes/${encodeURIComponent(f.driver.frameworkId!)}/writer`;
    let read: Response | undefined;
    for (const ag of [owner, ...agents]) {
      const r = await fetch(
        `${ag.url}/files/read?path=${encodeURIComponent(`${sandbox(ag)}/stdout`)}&offset=2&length=3`,
      );
      if (r.ok) read = r;
    }
    expect(read, 'one agent has the sandbox').to.not.equal(undefined);
    expect(await read!.json()).to.deep.equal({ data: 'cde', offset: 2 });
    const bad = await fetch(`${owner.url}/files/read?path=${encodeURIComponent('stdout')}&offset=x`);
    expect([400, 404]).to.include(bad.status);
    const browse = await fetch(
      `${agents[0].url}/files/browse?path=${encodeURIComponent(`${agents[0].workDir}/sandboxes`)}`,
    );
    expect(browse.status).to.equal(200);
    expect(await browse.json()).to.be.an('array');
  });
});
