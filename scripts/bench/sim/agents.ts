/**
 * Simulated agents for the master benchmarks: one light process holds many agent connections over
 * the real protocol (the SDK's codec; by default the lean WebSocket client of lean-client.ts, which
 * costs this process far less CPU when thousands of agents reconnect at once; `client: 'sdk'` or
 * AGORA_BENCH_AGENT_CLIENT=sdk holds them with the SDK's ReconnectingClient instead), registers them, answers pings, and on RUN_TASK
 * reports STARTING then RUNNING without forking anything. Each agent keeps its own books: what it
 * was asked to run (a task sent twice, or one that does not fit, is counted as a fault) and what it
 * holds, which it reports again when it re-registers with a new leader.
 *
 * Run by the benchmark with `fork()`; commands and reports travel over the IPC channel.
 */

import { DEFAULT_REGISTRATION_BACKOFF_MS, registrationDelayMs } from '../../../agent/registration-backoff.js';
import { encode } from '../../../sdk/codec/codec.js';
import type { AgentMessage } from '../../../sdk/protocol/messages.js';
import { AGENT_WS_PATH, Direction, type MasterToAgentMessage } from '../../../sdk/protocol/messages.js';
import {
  type MasterInfo,
  type TaskInfo,
  type TaskRecord,
  TaskState,
  type TaskStatus,
} from '../../../sdk/protocol/types.js';
import { type Resource, Resources } from '../../../sdk/resources/resources.js';
import { type Peer, ReconnectingClient } from '../../../sdk/transport/index.js';
import { mathRandom } from '../../../sdk/util/random.js';
import { createDetector, type MasterDetector, sameMaster } from '../../../sdk/zk/detector.js';
import { LeanClient, LeanConnection } from './lean-client.js';

/**
 * What holds each agent's connection: `lean` (default), the bench-only client of lean-client.ts
 * (a bare net.Socket), or `sdk`, the SDK's ReconnectingClient (ws), for comparison.
 */
export type AgentClientKind = 'lean' | 'sdk';

/** `kind` if given, else AGORA_BENCH_AGENT_CLIENT, else 'lean'; anything else is refused. */
export function agentClientKind(kind?: string): AgentClientKind {
  const k = kind ?? process.env.AGORA_BENCH_AGENT_CLIENT ?? 'lean';
  if (k !== 'lean' && k !== 'sdk') throw new Error(`the agent client must be lean or sdk, got '${k}'`);
  return k;
}

/** The part of either client the simulated agents use. */
interface AgentClient {
  start(): void;
  stop(): Promise<void>;
  reconnectNow(): void;
  reconnectAfter(delayMs: number): void;
}

export interface AgentsConfig {
  /** ws://host:port of the master to start with. */
  url: string;
  /** Other masters to try in turn when a connection closes (failover); a LEADER answer points the way too. */
  others?: string[];
  /** Reconnection backoff ceiling (ms); default 2,000 (10,000 with `zk`, as the real agent). */
  backoffMaxMs?: number;
  /**
   * `zk://host:2181/path`: follow the election as the real agent does (cli/daemons.ts runAgent with
   * sdk/zk/follow-leader.ts): connect to the leader ZooKeeper names, reconnect at once when it
   * changes, try a master's LEADER hint once, otherwise the real agent's backoff (200 ms doubling to
   * 10 s, full jitter). `url` and `others` are then unused. One detector (one ZooKeeper session)
   * serves every agent of the process, where real agents hold one session each; ZooKeeper delivers
   * the same watch event to each session.
   */
  zk?: string;
  /**
   * With `zk`: when the leader changes, each agent re-registers after a random wait in [0, this)
   * ms, as the real agent's `--registration_backoff_factor` (default 1000, the agent's default).
   */
  registrationBackoffMs?: number;
  count: number;
  /** Index of the first agent (hostnames are unique across processes). */
  offset: number;
  resources: string;
  /** What holds the connections (see AgentClientKind); default AGORA_BENCH_AGENT_CLIENT, else lean. */
  client?: AgentClientKind;
}

/** Commands from the benchmark. */
export type AgentsCommand =
  | { cmd: 'start' }
  | { cmd: 'mark'; preencode?: boolean }
  | { cmd: 'report'; times?: boolean }
  | { cmd: 'stop' };

export interface AgentsReport {
  registered: number;
  reregistered: number;
  connected: number;
  /** RUN_TASKs received since the last mark, and when the last one came (ms since the epoch). */
  runTasks: number;
  lastRunTaskAt: number;
  /** RUN_TASKs for a task this process had already been sent (ever). */
  doubled: number;
  /** RUN_TASKs that did not fit in what the agent had left. */
  overcommitted: number;
  /** KILL_TASKs received (ever). */
  killed: number;
  /** Tasks held now (not ended). */
  holding: number;
  /** Status updates sent and not acknowledged yet. */
  unacked: number;
  /** Distinct tasks ever sent to these agents. */
  distinctTasks: number;
  /** Registration messages acknowledged since the last mark, and when the last came. */
  lastRegisteredAt: number;
  /**
   * When each (re-)registration since the last mark was acknowledged (ms since the epoch); empty
   * in a report asked for without them (a poll: 5,000 numbers copied over IPC 20 times a second
   * were a tenth of this process's CPU in a failover).
   */
  registeredTimes: number[];
  /** zk mode: when ZooKeeper first named a leader since the last mark (ms since the epoch; 0 if not). */
  leaderDetectedAt: number;
}

interface Held {
  frameworkId: string;
  task: TaskInfo;
  state: TaskState;
  status: TaskStatus;
  cpus: number;
  mem: number;
}

interface SimAgent {
  index: number;
  id?: string;
  client: AgentClient;
  peer?: Peer<AgentMessage>;
  cpus: number;
  mem: number;
  usedCpus: number;
  usedMem: number;
  tasks: Map<string, Held>;
  /** Updates sent and not acknowledged, by uuid: sent again after a re-registration (as agents do). */
  unacked: Map<string, { frameworkId: string; status: TaskStatus; sentAt: number }>;
  registered: boolean;
  /** Connection attempts since the last open (a failed one moves to the next master). */
  tries: number;
  /** A LEADER hint to try on the next attempt only (zk mode). */
  hinted?: MasterInfo;
  /**
   * This agent's REREGISTER, encoded at the last `mark` with `preencode` (before the failover), and
   * sent as it is while the agent's books have not changed since; dropped at any change.
   */
  reregisterFrame?: Uint8Array;
}

const EPS = 1e-9;
/** Unacknowledged status updates are sent again after this long. */
const STATUS_RETRY_MS = 5000;

function scalar(list: readonly Resource[], name: string): number {
  let v = 0;
  for (const r of list) if (r.name === name && r.scalar) v += r.scalar.value;
  return v;
}

export class SimAgents {
  readonly agents: SimAgent[] = [];
  private url: string;
  private readonly everSent = new Set<string>();
  private runTasks = 0;
  private lastRunTaskAt = 0;
  private lastRegisteredAt = 0;
  private registeredTimes: number[] = [];
  private leaderDetectedAt = 0;
  private doubled = 0;
  private overcommitted = 0;
  private registered = 0;
  private reregistered = 0;
  private seq = 0;
  private killed = 0;

  private readonly detector?: MasterDetector;
  /** Every agent's resources (one list for all). */
  private readonly total: Resource[];

  constructor(private readonly cfg: AgentsConfig) {
    this.url = cfg.url;
    if (cfg.zk) {
      this.detector = createDetector(cfg.zk);
      // As runAgent: every change of leader (none included) reconnects, each agent after its own
      // random wait in [0, --registration_backoff_factor).
      const factor = cfg.registrationBackoffMs ?? DEFAULT_REGISTRATION_BACKOFF_MS;
      this.detector.on('leader', (leader) => {
        if (leader && this.leaderDetectedAt === 0) this.leaderDetectedAt = Date.now();
        for (const a of this.agents) {
          a.hinted = undefined;
          a.registered = false;
          a.client.reconnectAfter(registrationDelayMs(factor, mathRandom));
        }
      });
    }
    const zk = cfg.zk !== undefined;
    const kind = agentClientKind(cfg.client);
    const total = Resources.parse(cfg.resources).toList();
    this.total = total;
    for (let i = 0; i < cfg.count; i++) {
      const index = cfg.offset + i;
      const a: SimAgent = {
        index,
        cpus: scalar(total, 'cpus'),
        mem: scalar(total, 'mem'),
        usedCpus: 0,
        usedMem: 0,
        tasks: new Map(),
        unacked: new Map(),
        registered: false,
        tries: 0,
        client: undefined as unknown as AgentClient,
      };
      // The same options, whichever client holds the connection.
      const opts = {
        url: () => (zk ? this.zkUrlFor(a) : this.urlFor(a)),
        inbound: Direction.MasterToAgent,
        backoff: zk
          ? { initialMs: 200, maxMs: cfg.backoffMaxMs ?? 10_000 }
          : { initialMs: 50, maxMs: cfg.backoffMaxMs ?? 2000 },
        onOpen: (peer: Peer<AgentMessage>) => this.open(a, peer),
        onMessage: (m: MasterToAgentMessage) => this.message(a, m),
        onClose: () => {
          a.peer = undefined;
          a.registered = false;
        },
      };
      a.client =
        kind === 'lean'
          ? new LeanClient<typeof Direction.MasterToAgent, AgentMessage>(opts)
          : new ReconnectingClient<typeof Direction.MasterToAgent, AgentMessage>(opts);
      this.agents.push(a);
    }
  }

  private retryTimer: NodeJS.Timeout | undefined;

  start(): void {
    for (const a of this.agents) a.client.start();
    // Like a real agent (agent/status-updates.ts), send an update again until it is acknowledged:
    // one sent while its framework was disconnected (dropped as too slow, failing over) reaches
    // it only this way.
    this.retryTimer = setInterval(() => this.retry(), STATUS_RETRY_MS);
    this.retryTimer.unref();
  }

  private retry(): void {
    const due = Date.now() - STATUS_RETRY_MS;
    for (const a of this.agents) {
      if (!a.registered || a.unacked.size === 0) continue;
      for (const u of a.unacked.values()) {
        if (u.sentAt > due) continue;
        u.sentAt = Date.now();
        a.peer?.send({ type: 'STATUS_UPDATE', update: { framework_id: u.frameworkId, status: u.status } });
      }
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.retryTimer);
    await Promise.all(this.agents.map((a) => a.client.stop()));
    await this.detector?.close();
  }

  mark(preencode = false): void {
    // A failover benchmark encodes every agent's REREGISTER here, before the leader is killed, so
    // that the measured window holds only what the masters do and what real agents (on machines
    // of their own) would spend apart: not 5,000 encodings on the two cores the leader runs on.
    for (const a of this.agents) a.reregisterFrame = preencode && a.id ? encode(this.reregister(a)) : undefined;
    this.runTasks = 0;
    this.lastRunTaskAt = 0;
    this.registered = 0;
    this.reregistered = 0;
    this.lastRegisteredAt = 0;
    this.registeredTimes = [];
    this.leaderDetectedAt = 0;
  }

  report(times = true): AgentsReport {
    let connected = 0;
    let holding = 0;
    let unacked = 0;
    for (const a of this.agents) {
      if (a.registered) connected++;
      holding += a.tasks.size;
      unacked += a.unacked.size;
    }
    return {
      registered: this.registered,
      reregistered: this.reregistered,
      connected,
      runTasks: this.runTasks,
      lastRunTaskAt: this.lastRunTaskAt,
      doubled: this.doubled,
      overcommitted: this.overcommitted,
      holding,
      killed: this.killed,
      unacked,
      distinctTasks: this.everSent.size,
      lastRegisteredAt: this.lastRegisteredAt,
      registeredTimes: times ? this.registeredTimes : [],
      leaderDetectedAt: this.leaderDetectedAt,
    };
  }

  /** The leader named last, or, after a failed attempt, the next master in turn. */
  private urlFor(a: SimAgent): string {
    const all = [this.cfg.url, ...(this.cfg.others ?? [])];
    const n = a.tries++;
    if (n === 0 || all.length < 2) return this.url;
    return all[(all.indexOf(this.url) + n) % all.length];
  }

  /** zk mode: a hint once, else the leader ZooKeeper names (undefined while none: retry after backoff). */
  private zkUrlFor(a: SimAgent): string | undefined {
    const m = a.hinted ?? this.detector?.current();
    a.hinted = undefined;
    return m ? `ws://${m.address.ip}:${m.address.port}${AGENT_WS_PATH}` : undefined;
  }

  private open(a: SimAgent, peer: Peer<AgentMessage>): void {
    a.peer = peer;
    a.tries = 0;
    if (!a.id) {
      const info = { hostname: `sim-${a.index}`, port: 5051, resources: this.total, attributes: {} };
      peer.send({ type: 'REGISTER', agent: info, version: 'sim' });
      return;
    }
    const frame = a.reregisterFrame;
    if (frame && peer instanceof LeanConnection) {
      peer.sendEncoded(frame);
      return;
    }
    const raw = (peer as { ws?: { send(data: Uint8Array, o: { binary: boolean }): void } }).ws;
    if (frame && raw) {
      raw.send(frame, { binary: true });
      return;
    }
    peer.send(this.reregister(a));
  }

  private reregister(a: SimAgent): AgentMessage {
    const info = { hostname: `sim-${a.index}`, port: 5051, resources: this.total, attributes: {} };
    const tasks: TaskRecord[] = [];
    const frameworks = new Set<string>();
    for (const h of a.tasks.values()) {
      tasks.push({ task: h.task, framework_id: h.frameworkId, state: h.state, status: h.status });
      frameworks.add(h.frameworkId);
    }
    return {
      type: 'REREGISTER',
      agent: { ...info, id: a.id as string },
      version: 'sim',
      tasks,
      frameworks: [...frameworks].map((id) => ({ id, name: 'sim' })),
    };
  }

  private message(a: SimAgent, m: MasterToAgentMessage): void {
    switch (m.type) {
      case 'REGISTERED':
        a.reregisterFrame = undefined;
        a.id = m.agent_id;
        a.registered = true;
        this.registered++;
        this.lastRegisteredAt = Date.now();
        this.registeredTimes.push(this.lastRegisteredAt);
        return;
      case 'REREGISTERED':
        for (const u of a.unacked.values()) {
          a.peer?.send({ type: 'STATUS_UPDATE', update: { framework_id: u.frameworkId, status: u.status } });
        }
        a.registered = true;
        this.reregistered++;
        this.lastRegisteredAt = Date.now();
        this.registeredTimes.push(this.lastRegisteredAt);
        return;
      case 'PING':
        a.peer?.send({ type: 'PONG', seq: m.seq });
        return;
      case 'RUN_TASK':
        this.run(a, m.framework.id, m.task);
        return;
      case 'KILL_TASK':
        this.killed++;
        this.end(a, `${m.framework_id}/${m.task_id}`, TaskState.KILLED);
        return;
      case 'SHUTDOWN_FRAMEWORK':
        for (const [key, h] of [...a.tasks]) if (h.frameworkId === m.framework_id) this.end(a, key, TaskState.KILLED);
        return;
      case 'ACK_UPDATE':
        a.unacked.delete(m.uuid);
        return;
      case 'LEADER': {
        const mi = m.leader.master_info;
        if (this.detector) {
          // As the real agent: reconnect at once only to a leader other than the one ZooKeeper names.
          a.registered = false;
          if (mi && !sameMaster(mi, this.detector.current())) {
            a.hinted = mi;
            a.client.reconnectNow();
          }
          return;
        }
        if (mi) {
          this.url = `ws://${mi.address.ip}:${mi.address.port}/api/v1/agent`;
        }
        return;
      }
      case 'SHUTDOWN':
        return;
    }
  }

  private run(a: SimAgent, frameworkId: string, task: TaskInfo): void {
    const key = `${frameworkId}/${task.task_id}`;
    this.runTasks++;
    this.lastRunTaskAt = Date.now();
    if (this.everSent.has(key)) {
      this.doubled++;
      return;
    }
    this.everSent.add(key);
    a.reregisterFrame = undefined;
    const cpus = scalar(task.resources, 'cpus');
    const mem = scalar(task.resources, 'mem');
    if (a.usedCpus + cpus > a.cpus + EPS || a.usedMem + mem > a.mem + EPS) this.overcommitted++;
    a.usedCpus += cpus;
    a.usedMem += mem;
    const h: Held = {
      frameworkId,
      task,
      state: TaskState.STARTING,
      status: this.status(a, task, TaskState.STARTING),
      cpus,
      mem,
    };
    a.tasks.set(key, h);
    this.update(a, h);
    h.state = TaskState.RUNNING;
    h.status = this.status(a, task, TaskState.RUNNING);
    this.update(a, h);
  }

  private end(a: SimAgent, key: string, state: TaskState): void {
    const h = a.tasks.get(key);
    if (!h) return;
    a.reregisterFrame = undefined;
    a.tasks.delete(key);
    a.usedCpus -= h.cpus;
    a.usedMem -= h.mem;
    h.state = state;
    h.status = this.status(a, h.task, state);
    this.update(a, h);
  }

  private status(a: SimAgent, task: TaskInfo, state: TaskState): TaskStatus {
    return {
      task_id: task.task_id,
      state,
      source: 'SOURCE_EXECUTOR',
      agent_id: a.id,
      timestamp: Date.now() / 1000,
      uuid: `u${a.index}-${++this.seq}`,
    };
  }

  private update(a: SimAgent, h: Held): void {
    const uuid = h.status.uuid as string;
    a.unacked.set(uuid, { frameworkId: h.frameworkId, status: h.status, sentAt: Date.now() });
    a.peer?.send({ type: 'STATUS_UPDATE', update: { framework_id: h.frameworkId, status: h.status } });
  }
}

function main(): void {
  const cfg = JSON.parse(process.argv[2] ?? '{}') as AgentsConfig;
  const sim = new SimAgents(cfg);
  process.on('message', (c: AgentsCommand) => {
    if (c.cmd === 'start') sim.start();
    else if (c.cmd === 'mark') sim.mark(c.preencode);
    else if (c.cmd === 'report') process.send?.({ report: sim.report(c.times ?? true) });
    else if (c.cmd === 'stop') void sim.stop().then(() => process.exit(0));
  });
  process.send?.({ ready: true });
}

if (process.send && process.argv[1]?.endsWith('agents.js')) main();
