/**
 * The failover benchmark's simulated agents encode their REREGISTER before the leader is killed
 * (`mark` with `preencode`), so the measured window does not hold 5,000 encodings on the leader's
 * cores. What a reconnecting agent sends must still be its books as they are then: a task it was
 * sent after the mark is in it, one that ended is not. A fake master on real sockets records what
 * the agent sends.
 */
import { expect } from 'chai';
import { WebSocketServer } from 'ws';
import { SimAgents } from '../../scripts/bench/sim/agents.js';
import { freePort, sleep } from '../../scripts/bench/sim/cluster.js';
import { decode, encode } from '../../sdk/codec/codec.js';
import { type AgentMessage, Direction, type MasterToAgentMessage } from '../../sdk/protocol/messages.js';

const MASTER_INFO = {
  id: 'm1',
  pid: 'master@127.0.0.1:1',
  hostname: 'localhost',
  port: 1,
  address: { hostname: 'localhost', ip: '127.0.0.1', port: 1 },
  version: 'test',
};

async function until(what: string, ok: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** A master that records every agent message and can send to, or drop, the connection. */
async function fakeMaster() {
  const port = await freePort();
  const wss = new WebSocketServer({ port, host: '127.0.0.1' });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  const received: AgentMessage[] = [];
  let socket: import('ws').WebSocket | undefined;
  wss.on('connection', (ws) => {
    socket = ws;
    ws.on('message', (data) => received.push(decode(Direction.AgentToMaster, data as Buffer) as AgentMessage));
  });
  return {
    url: `ws://127.0.0.1:${port}/api/v1/agent`,
    received,
    send: (m: MasterToAgentMessage) => socket?.send(encode(m)),
    drop: () => socket?.terminate(),
    close: () => new Promise<void>((r) => wss.close(() => r())),
  };
}

const run = (taskId: string): MasterToAgentMessage => ({
  type: 'RUN_TASK',
  framework: { id: 'fw-1', name: 'fw' },
  task: {
    name: taskId,
    task_id: taskId,
    agent_id: 'agent-1',
    resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 0.1 } }],
    command: { value: 'true' },
  },
});

function taskIds(m: AgentMessage | undefined): string[] {
  if (m?.type !== 'REREGISTER') throw new Error(`expected a REREGISTER, got ${m?.type}`);
  return m.tasks.map((t) => t.task.task_id).sort();
}

describe('failover benchmark: simulated agents re-register with their books as they are', function () {
  this.timeout(30_000);

  for (const preencode of [true, false]) {
    it(`a task sent after the mark is in the REREGISTER, an ended one is not (encoded before: ${preencode})`, async () => {
      const master = await fakeMaster();
      const agents = new SimAgents({ url: master.url, count: 1, offset: 0, resources: 'cpus:2;mem:2048' });
      try {
        agents.start();
        await until('REGISTER', () => master.received.some((m) => m.type === 'REGISTER'));
        master.send({ type: 'REGISTERED', agent_id: 'agent-1', master_info: MASTER_INFO });
        master.send(run('t1'));
        master.send(run('t2'));
        await until('both tasks held', () => agents.report().holding === 2);

        // The books at the mark: t1, t2. Reconnecting now sends exactly them.
        agents.mark(preencode);
        master.drop();
        await until('first REREGISTER', () => master.received.some((m) => m.type === 'REREGISTER'));
        const first = master.received.filter((m) => m.type === 'REREGISTER');
        expect(taskIds(first[0])).to.deep.equal(['t1', 't2']);
        master.send({ type: 'REREGISTERED', agent_id: 'agent-1', master_info: MASTER_INFO });

        // After the mark: t3 sent, t1 killed. The next REREGISTER must say so, not the mark's.
        master.send(run('t3'));
        master.send({ type: 'KILL_TASK', framework_id: 'fw-1', task_id: 't1' });
        await until('t3 held, t1 gone', () => agents.report().holding === 2 && agents.report().killed === 1);
        const before = master.received.length;
        master.drop();
        await until('second REREGISTER', () => master.received.slice(before).some((m) => m.type === 'REREGISTER'));
        const second = master.received.slice(before).find((m) => m.type === 'REREGISTER');
        expect(taskIds(second)).to.deep.equal(['t2', 't3']);
      } finally {
        await agents.stop();
        await master.close();
      }
    });
  }
});
