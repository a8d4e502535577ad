/**
 * A well-behaved framework held open for the whole run, with one long task on the real agent, so
 * that hostile sessions have something real to aim at (its framework id, its task id) and the
 * fuzzer can see when they hit it: the task's state changing, updates from another agent arriving.
 */
import { Packr } from 'msgpackr';
import WebSocket from 'ws';
import { decode } from '../../sdk/codec/index.js';
import { Direction, type SchedulerEvent } from '../../sdk/protocol/messages.js';
import type { Fixture } from './observe.js';
import { WS_PATHS } from './routes.js';

const packr = new Packr({ useRecords: false, moreTypes: false });

export interface RunningFixture extends Fixture {
  close(): Promise<void>;
}

export async function startFixture(masterPort: number, agentId: string, agentPort: number): Promise<RunningFixture> {
  const ws = new WebSocket(`ws://127.0.0.1:${masterPort}${WS_PATHS.scheduler}`, { perMessageDeflate: false });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const taskId = 'fuzz-fixture-task';
  let frameworkId = '';
  let launched = false;
  let running = false;
  let open = true;
  const foreignUpdates: string[] = [];
  const send = (m: unknown) => {
    if (ws.readyState === WebSocket.OPEN) ws.send(packr.pack(m));
  };
  ws.on('close', () => {
    open = false;
  });
  // A master that dies under the fuzz resets this connection: that is reported as a crash elsewhere.
  ws.on('error', () => {});
  ws.on('message', (data: Buffer) => {
    // Decoded and validated as the SDK does: a typed scheduler event (an undecodable frame is dropped).
    let ev: SchedulerEvent;
    try {
      ev = decode(Direction.MasterToScheduler, data);
    } catch {
      return;
    }
    if (ev.type === 'SUBSCRIBED') frameworkId = ev.subscribed.framework_id;
    else if (ev.type === 'OFFERS') {
      for (const o of ev.offers.offers) {
        if (!launched && o.agent_id === agentId) {
          launched = true;
          send({
            type: 'ACCEPT',
            framework_id: frameworkId,
            accept: {
              offer_ids: [o.id],
              operations: [
                {
                  type: 'LAUNCH',
                  launch: {
                    task_infos: [
                      {
                        name: 'fixture',
                        task_id: taskId,
                        agent_id: agentId,
                        resources: [
                          { name: 'cpus', type: 'SCALAR', scalar: { value: 0.1 } },
                          { name: 'mem', type: 'SCALAR', scalar: { value: 16 } },
                        ],
                        command: { value: 'sleep 3600' },
                      },
                    ],
                  },
                },
              ],
              filters: { refuse_seconds: 3600 },
            },
          });
        } else {
          // Leave the rest to the fuzz's own frameworks.
          send({
            type: 'DECLINE',
            framework_id: frameworkId,
            decline: { offer_ids: [o.id], filters: { refuse_seconds: 3600 } },
          });
        }
      }
    } else if (ev.type === 'UPDATE') {
      const st = ev.update.status;
      if (st.task_id !== taskId || (st.agent_id && st.agent_id !== agentId))
        foreignUpdates.push(
          `UPDATE ${st.state} for task ${JSON.stringify(st.task_id)} from agent ${JSON.stringify(st.agent_id)}`,
        );
      else if (st.state === 'TASK_RUNNING') running = true;
      else if (running) foreignUpdates.push(`UPDATE ${st.state} for the fixture task after it was running`);
      if (st.uuid)
        send({
          type: 'ACKNOWLEDGE',
          framework_id: frameworkId,
          acknowledge: { agent_id: st.agent_id ?? agentId, task_id: st.task_id, uuid: st.uuid },
        });
    }
  });
  send({
    type: 'SUBSCRIBE',
    subscribe: { framework_info: { name: 'fuzz-fixture', roles: ['*'], failover_timeout: 3600 } },
  });
  const deadline = Date.now() + 30_000;
  while (!running) {
    if (Date.now() > deadline || !open) throw new Error('the fixture task did not reach TASK_RUNNING within 30 s');
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    agentId,
    agentPort,
    frameworkId,
    taskId,
    foreignUpdates,
    connected: () => open,
    async close() {
      if (ws.readyState === WebSocket.CLOSED) return;
      const closed = new Promise((r) => ws.once('close', r));
      ws.close(1000);
      await Promise.race([closed, new Promise((r) => setTimeout(r, 2000))]);
      ws.terminate();
    },
  };
}
