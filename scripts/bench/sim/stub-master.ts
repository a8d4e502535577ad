/**
 * The message-passing ceiling for the placement benchmark: a stub master on the same transport and
 * codec that registers agents, subscribes frameworks, offers each agent's free resources to one
 * framework (agent i to framework i mod F) with no allocator and no interval, and relays ACCEPT →
 * RUN_TASK, updates, acknowledgements and kills; a suppressed framework's agents wait until it
 * revives (SUPPRESS/REVIVE as Mesos honours them). No registrar, no validation, no bookkeeping beyond
 * each agent's free cpus and mem.
 */
import { createServer } from 'node:http';
import {
  type AgentMessage,
  Direction,
  type MasterToAgentMessage,
  type SchedulerCall,
  type SchedulerEvent,
} from '../../../sdk/protocol/messages.js';
import { isTerminal, type MasterInfo, TaskState } from '../../../sdk/protocol/types.js';
import type { Resource } from '../../../sdk/resources/resources.js';
import { attachWebSocketServer, type Peer } from '../../../sdk/transport/index.js';

interface StubAgent {
  id: string;
  peer: Peer<MasterToAgentMessage>;
  hostname: string;
  cpus: number;
  mem: number;
  /** Holds an offer now. */
  offered: boolean;
  framework: number;
}

interface StubFramework {
  id: string;
  name: string;
  peer: Peer<SchedulerEvent>;
  idle: Set<StubAgent>;
  /** Sent SUPPRESS and not REVIVE since: its agents wait in `idle`. */
  suppressed: boolean;
}

function scalar(list: readonly Resource[], name: string): number {
  let v = 0;
  for (const r of list) if (r.name === name && r.scalar) v += r.scalar.value;
  return v;
}

function lostUpdate(taskId: string, agentId: string): SchedulerEvent {
  const status = {
    task_id: taskId,
    state: TaskState.LOST,
    source: 'SOURCE_MASTER' as const,
    agent_id: agentId,
    reason: 'REASON_AGENT_DISCONNECTED',
    timestamp: Date.now() / 1000,
  };
  return { type: 'UPDATE', update: { status } };
}

export async function startStubMaster(port: number): Promise<{ port: number; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    res.writeHead(req.url === '/health' ? 200 : 404, { 'content-type': 'application/json' });
    res.end('{"healthy":true}');
  });
  const info: MasterInfo = {
    id: 'stub',
    pid: `master@127.0.0.1:${port}`,
    hostname: 'stub',
    port,
    address: { hostname: 'stub', ip: '127.0.0.1', port },
    version: 'stub',
  };
  const agents = new Map<string, StubAgent>();
  const byHost = new Map<string, StubAgent>();
  const agentList: StubAgent[] = [];
  const frameworks: StubFramework[] = [];
  const byId = new Map<string, StubFramework>();
  const offers = new Map<string, StubAgent>();
  /** Where each task runs and what it holds (to give it back when it ends). */
  const tasks = new Map<string, { agent: StubAgent; cpus: number; mem: number }>();
  let n = 0;
  const dbg = { reg: 0, rereg: 0, closes: 0, deadRun: 0, decl: 0, revive: 0 };
  if (process.env.AGORA_STUB_DEBUG) {
    setInterval(() => {
      const idle = frameworks.map((f) => f.idle.size).join(',');
      process.stderr.write(
        `stub ${JSON.stringify(dbg)} agents=${agentList.length} offers=${offers.size} tasks=${tasks.size} idle=${idle}\n`,
      );
    }, 2000).unref();
  }

  /** The framework agent `a` is offered to: agent i to framework i mod F, F as it is now. */
  const ownerOf = (a: StubAgent): StubFramework | undefined => frameworks[a.framework % Math.max(1, frameworks.length)];

  const offer = (a: StubAgent) => {
    const fw = ownerOf(a);
    if (!fw || a.offered || !a.peer.open || a.cpus < 0.01 || a.mem < 32) return;
    if (fw.suppressed) {
      fw.idle.add(a);
      return;
    }
    a.offered = true;
    fw.idle.delete(a);
    const id = `O${n++}`;
    offers.set(id, a);
    const resources: Resource[] = [
      { name: 'cpus', type: 'SCALAR', scalar: { value: Math.round(a.cpus * 1000) / 1000 } },
      { name: 'mem', type: 'SCALAR', scalar: { value: a.mem } },
    ];
    fw.peer.send({
      type: 'OFFERS',
      offers: {
        offers: [
          {
            id,
            framework_id: fw.id,
            agent_id: a.id,
            hostname: a.hostname,
            resources,
            attributes: {},
            allocation_role: '*',
          },
        ],
      },
    });
  };

  const agentRoute = {
    path: '/api/v1/agent',
    inbound: Direction.AgentToMaster,
    onConnect: (peer: Peer<MasterToAgentMessage>) => {
      let me: StubAgent | undefined;
      return {
        onMessage: (m: AgentMessage) => {
          if (m.type === 'REGISTER' || m.type === 'REREGISTER') {
            if (m.type === 'REGISTER') dbg.reg++;
            else dbg.rereg++;
            // A known agent coming back (a dropped connection) keeps its record and its books: a
            // second record would strand the first one's offers and tasks on a dead connection.
            const known = m.type === 'REREGISTER' ? agents.get(m.agent.id) : byHost.get(m.agent.hostname);
            if (known) {
              me = known;
              known.peer = peer;
              // Launches it does not report went to the dead connection unread: they are lost (and
              // their resources free again), or the framework would wait for them forever.
              const held = new Set(
                m.type === 'REREGISTER' ? m.tasks.map((t) => `${t.framework_id}/${t.task.task_id}`) : [],
              );
              for (const [key, t] of tasks) {
                if (t.agent !== known || held.has(key)) continue;
                tasks.delete(key);
                known.cpus += t.cpus;
                known.mem += t.mem;
                const slash = key.indexOf('/');
                byId.get(key.slice(0, slash))?.peer.send(lostUpdate(key.slice(slash + 1), known.id));
              }
              peer.send({
                type: m.type === 'REGISTER' ? 'REGISTERED' : 'REREGISTERED',
                agent_id: known.id,
                master_info: info,
              });
              offer(known);
              return;
            }
            const id = m.type === 'REREGISTER' ? m.agent.id : `S${agentList.length}`;
            me = {
              id,
              peer,
              hostname: m.agent.hostname,
              cpus: scalar(m.agent.resources, 'cpus'),
              mem: scalar(m.agent.resources, 'mem'),
              offered: false,
              framework: agentList.length,
            };
            agents.set(id, me);
            byHost.set(me.hostname, me);
            agentList.push(me);
            peer.send({ type: m.type === 'REGISTER' ? 'REGISTERED' : 'REREGISTERED', agent_id: id, master_info: info });
            offer(me);
          } else if (m.type === 'STATUS_UPDATE' && me) {
            const st = m.update.status;
            const fw = byId.get(m.update.framework_id);
            fw?.peer.send({ type: 'UPDATE', update: { status: { ...st, agent_id: me.id } } });
            const key = `${m.update.framework_id}/${st.task_id}`;
            const t = tasks.get(key);
            if (t && isTerminal(st.state)) {
              tasks.delete(key);
              t.agent.cpus += t.cpus;
              t.agent.mem += t.mem;
              offer(t.agent);
            }
          }
        },
        onClose: () => {
          dbg.closes++;
        },
      };
    },
  };

  const schedulerRoute = {
    path: '/api/v1/scheduler/ws',
    inbound: Direction.SchedulerToMaster,
    onConnect: (peer: Peer<SchedulerEvent>) => {
      let fw: StubFramework | undefined;
      return {
        onMessage: (c: SchedulerCall) => {
          if (c.type === 'SUBSCRIBE') {
            const known = byId.get(c.subscribe.framework_info.id ?? '');
            if (known) {
              // A framework coming back (its connection dropped, e.g. closed as too slow) keeps its
              // id and its tasks; the offers it held died with the old connection: offer again.
              fw = known;
              known.peer = peer;
              known.idle.clear();
              known.suppressed = false;
              for (const [oid, a] of offers) {
                if (ownerOf(a) !== known) continue;
                offers.delete(oid);
                a.offered = false;
              }
              peer.send({
                type: 'SUBSCRIBED',
                subscribed: { framework_id: known.id, heartbeat_interval_seconds: 15, master_info: info },
              });
              for (const a of agentList) if (ownerOf(a) === known) offer(a);
              return;
            }
            fw = {
              id: `F${frameworks.length}`,
              name: c.subscribe.framework_info.name,
              peer,
              idle: new Set(),
              suppressed: false,
            };
            frameworks.push(fw);
            byId.set(fw.id, fw);
            peer.send({
              type: 'SUBSCRIBED',
              subscribed: { framework_id: fw.id, heartbeat_interval_seconds: 15, master_info: info },
            });
            for (const a of agentList) offer(a);
            return;
          }
          if (!fw) return;
          const self = fw;
          switch (c.type) {
            case 'ACCEPT':
              for (const oid of c.accept.offer_ids) {
                const a = offers.get(oid);
                if (!a) continue;
                offers.delete(oid);
                a.offered = false;
                for (const op of c.accept.operations) {
                  if (op.type !== 'LAUNCH') continue;
                  for (const t of op.launch.task_infos) {
                    if (!a.peer.open) {
                      // The agent's connection dropped: the launch is lost (the framework queues it again).
                      self.peer.send(lostUpdate(t.task_id, a.id));
                      continue;
                    }
                    const cpus = scalar(t.resources, 'cpus');
                    const mem = scalar(t.resources, 'mem');
                    a.cpus -= cpus;
                    a.mem -= mem;
                    tasks.set(`${self.id}/${t.task_id}`, { agent: a, cpus, mem });
                    if (!a.peer.open) dbg.deadRun++;
                    a.peer.send({ type: 'RUN_TASK', framework: { id: self.id, name: self.name }, task: t });
                  }
                }
                offer(a);
              }
              return;
            case 'DECLINE':
              dbg.decl++;
              for (const oid of c.decline.offer_ids) {
                const a = offers.get(oid);
                if (!a) continue;
                offers.delete(oid);
                a.offered = false;
                // Offered while the framework list was still growing (agent i went to framework
                // i mod the F of then): hand it to its owner now instead of stranding it with a
                // framework that has no work for it and will never revive for it.
                if (ownerOf(a) === self) self.idle.add(a);
                else offer(a);
              }
              return;
            case 'REVIVE':
              dbg.revive++;
              self.suppressed = false;
              for (const a of [...self.idle]) offer(a);
              return;
            case 'SUPPRESS':
              self.suppressed = true;
              return;
            case 'ACKNOWLEDGE': {
              const a = agents.get(c.acknowledge.agent_id);
              a?.peer.send({
                type: 'ACK_UPDATE',
                framework_id: self.id,
                task_id: c.acknowledge.task_id,
                uuid: c.acknowledge.uuid,
              });
              return;
            }
            case 'KILL': {
              const t = tasks.get(`${self.id}/${c.kill.task_id}`);
              t?.agent.peer.send({ type: 'KILL_TASK', framework_id: self.id, task_id: c.kill.task_id });
              return;
            }
            default:
              return;
          }
        },
        onClose: () => undefined,
      };
    },
  };

  const ws = attachWebSocketServer(server, [agentRoute, schedulerRoute] as Parameters<typeof attachWebSocketServer>[1]);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', 511, resolve));
  return {
    port,
    async close() {
      await ws.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

if (process.argv[1]?.endsWith('stub-master.js')) {
  const port = Number(process.argv[2]);
  void startStubMaster(port).then(() => process.send?.({ ready: true }));
}
