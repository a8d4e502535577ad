/**
 * Backpressure on a framework's WebSocket (docs/protocol.md): a real master in process, a real
 * agent connection and a framework whose socket stops reading (paused, as a scheduler busy with a
 * big OFFERS batch would be) while tens of MiB of status updates are written to it. The framework
 * stays subscribed, receives every update, gets no new offer while its backlog is over the high
 * water, and gets offers again once it has read. Before backpressure, the master closed it (1013,
 * 'peer too slow') once 8 MiB waited unread, and the updates past that point were lost to it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { pino } from 'pino';
import WebSocket from 'ws';
import { type RunningMaster, startMaster } from '../../master/server.js';
import { decode, encode } from '../../sdk/codec/index.js';
import {
  type AgentMessage,
  Direction,
  type MasterToAgentMessage,
  type SchedulerCall,
  type SchedulerEvent,
} from '../../sdk/protocol/messages.js';
import { type Offer, type TaskInfo, TaskState } from '../../sdk/protocol/types.js';
import { Resources } from '../../sdk/resources/resources.js';
import { type Peer, ReconnectingClient } from '../../sdk/transport/index.js';

const TASKS = 500;
/** Each status update carries this much text: 2 × 500 × 30 kB ≈ 30 MB, past the old 8 MiB drop and the kernel's buffers. */
const PAD = 'x'.repeat(30_000);
const KILLED = 100;
/** What is free once the kills are done: 100 cpus, less 0.1 for each task still running. */
const FREE = 100 - (TASKS - KILLED) * 0.1;

async function until(what: string, check: () => boolean, ms = 60_000, state?: () => string): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    // A bound so that a broken run stops; not a timing assertion.
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}${state ? ` (${state()})` : ''}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function cpusOf(o: Offer): number {
  let n = 0;
  for (const r of o.resources) if (r.name === 'cpus' && r.scalar) n += r.scalar.value;
  return n;
}

describe('scheduler connection backpressure (real master, real sockets)', function () {
  this.timeout(120_000);
  let dir: string;
  let rm: RunningMaster;
  let agent: ReconnectingClient<typeof Direction.MasterToAgent, AgentMessage> | undefined;
  let ws: WebSocket | undefined;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'agora-backpressure-'));
    rm = await startMaster({
      port: 0,
      host: '127.0.0.1',
      workDir: dir,
      logger: pino({ level: 'silent' }),
      allocationIntervalMs: 200,
      // The paused framework cannot answer pings; the heartbeat is not what is under test.
      heartbeatIntervalMs: 600_000,
      schedulerBackpressure: { highWaterBytes: 256 * 1024 },
    });
  });

  afterEach(async () => {
    ws?.terminate();
    await agent?.stop();
    await rm.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('holds offers back from a framework that stops reading, delivers every update, and offers again once it reads', async () => {
    // The agent: runs every task at once (STARTING, RUNNING, each with a long message) and kills on request.
    let agentPeer: Peer<AgentMessage> | undefined;
    let seq = 0;
    const update = (frameworkId: string, taskId: string, state: TaskState, agentId: string) =>
      agentPeer?.send({
        type: 'STATUS_UPDATE',
        update: {
          framework_id: frameworkId,
          status: {
            task_id: taskId,
            state,
            source: 'SOURCE_EXECUTOR',
            agent_id: agentId,
            timestamp: Date.now() / 1000,
            uuid: `u-${++seq}`,
            message: PAD,
          },
        },
      });
    let agentId = '';
    agent = new ReconnectingClient({
      url: () => `ws://127.0.0.1:${rm.port}/api/v1/agent`,
      inbound: Direction.MasterToAgent,
      onOpen: (peer) => {
        agentPeer = peer;
        peer.send({
          type: 'REGISTER',
          agent: {
            hostname: 'bp-agent',
            port: 5051,
            resources: Resources.parse('cpus:100;mem:100000').toList(),
            attributes: {},
          },
          version: 'test',
        });
      },
      onMessage: (m: MasterToAgentMessage) => {
        if (m.type === 'REGISTERED') agentId = m.agent_id;
        else if (m.type === 'PING') agentPeer?.send({ type: 'PONG', seq: m.seq });
        else if (m.type === 'RUN_TASK') {
          update(m.framework.id, m.task.task_id, TaskState.STARTING, agentId);
          update(m.framework.id, m.task.task_id, TaskState.RUNNING, agentId);
        } else if (m.type === 'KILL_TASK') update(m.framework_id, m.task_id, TaskState.KILLED, agentId);
      },
    });
    agent.start();
    await until('the agent registered', () => agentId !== '');

    // The framework, on a raw socket it can stop reading.
    const events: SchedulerEvent[] = [];
    let closed: { code: number; reason: string } | undefined;
    const sock = new WebSocket(`ws://127.0.0.1:${rm.port}/api/v1/scheduler/ws`);
    ws = sock;
    sock.on('message', (data: Buffer) => events.push(decode(Direction.MasterToScheduler, data) as SchedulerEvent));
    sock.on('close', (code, reason) => {
      closed = { code, reason: reason.toString() };
    });
    await new Promise((r, j) => {
      sock.once('open', r);
      sock.once('error', j);
    });
    const call = (c: SchedulerCall) => sock.send(encode(c));
    call({ type: 'SUBSCRIBE', subscribe: { framework_info: { name: 'slow-reader', failover_timeout: 3600 } } });
    let frameworkId = '';
    let first: Offer | undefined;
    await until('SUBSCRIBED and a first offer', () => {
      for (const e of events) {
        if (e.type === 'SUBSCRIBED') frameworkId = e.subscribed.framework_id;
        if (e.type === 'OFFERS' && !first) first = e.offers.offers[0];
      }
      return frameworkId !== '' && first !== undefined;
    });
    const offer = first as Offer;
    const tasks: TaskInfo[] = [];
    for (let i = 0; i < TASKS; i++) {
      tasks.push({
        name: `t${i}`,
        task_id: `t${i}`,
        agent_id: offer.agent_id,
        resources: Resources.parse('cpus:0.1;mem:32').toList(),
        command: { value: 'true' },
      });
    }
    call({
      type: 'ACCEPT',
      framework_id: frameworkId,
      accept: {
        offer_ids: [offer.id],
        operations: [{ type: 'LAUNCH', launch: { task_infos: tasks } }],
        filters: { refuse_seconds: 0 },
      },
    });
    // Stop reading: what the master writes now waits in the kernel's buffers, then in the master's.
    const raw = (sock as unknown as { _socket: import('node:net').Socket })._socket;
    raw.pause();
    const seenBefore = events.length;

    const running = () => [...rm.master.tasks.values()].filter((t) => t.state === TaskState.RUNNING).length;
    await until('every task RUNNING at the master', () => running() === TASKS);
    // Kill some (a paused reader can still write): their resources free up while it is congested.
    const sentBefore = rm.master.counters.offersSent;
    for (let i = 0; i < KILLED; i++) {
      call({ type: 'KILL', framework_id: frameworkId, kill: { task_id: `t${i}`, agent_id: offer.agent_id } });
    }
    // (A master that dropped the connection never reads them: go on, the checks below say why.)
    const killsApplied = await until('the kills applied', () => rm.master.tasks.size === TASKS - KILLED, 20_000)
      .then(() => true)
      .catch(() => false);
    // Two allocation intervals pass with resources free: none of them goes to the congested framework.
    const cycles = rm.master.counters.allocationRuns;
    await until('two allocation cycles', () => rm.master.counters.allocationRuns >= cycles + 2);
    const sentWhilePaused = rm.master.counters.offersSent - sentBefore;

    // Read again: every update arrives, acknowledged as it comes; then offers come again, with the freed cpus.
    raw.resume();
    const acked = new Set<string>();
    const runningSeen = new Set<string>();
    let offeredCpus = 0;
    let read = seenBefore;
    await until(
      'every update read and an offer holding the freed resources',
      () => {
        for (; read < events.length; read++) {
          const e = events[read];
          if (e.type === 'UPDATE') {
            const st = e.update.status;
            if (st.state === TaskState.RUNNING) runningSeen.add(st.task_id);
            if (st.uuid && !acked.has(st.uuid)) {
              acked.add(st.uuid);
              call({
                type: 'ACKNOWLEDGE',
                framework_id: frameworkId,
                acknowledge: { agent_id: offer.agent_id, task_id: st.task_id, uuid: st.uuid },
              });
            }
          }
          // The remainder of the ACCEPT (50 cpus) and, once the framework has caught up, the 10 freed.
          if (e.type === 'OFFERS') for (const o of e.offers.offers) offeredCpus += cpusOf(o);
        }
        return closed !== undefined || (runningSeen.size === TASKS && offeredCpus >= FREE - 1e-6);
      },
      90_000,
      () => `closed ${JSON.stringify(closed)}, RUNNING read ${runningSeen.size}, offered cpus ${offeredCpus}`,
    );
    expect(closed, 'the framework connection stayed open').to.equal(undefined);
    expect(runningSeen.size, 'every RUNNING update reached the framework').to.equal(TASKS);
    expect(killsApplied, 'the kills sent while not reading were applied').to.equal(true);
    expect(rm.master.counters.schedulerCongestions, 'the connection was found congested').to.be.greaterThan(0);
    expect(sentWhilePaused, 'no offer sent while congested').to.equal(0);
    expect(offeredCpus, 'offered again: the remainder and the freed cpus').to.be.closeTo(FREE, 1e-6);
    expect(rm.master.frameworks.get(frameworkId)?.connected).to.equal(true);
  });
});
