/**
 * Drives a real master (the shell and its MasterState) without sockets, processes or sleeping:
 * a VirtualClock runs every timer, fake peers stand for agents and schedulers and record what the
 * master sends them, and an in-memory Store backs the registrar. Tests (and the SDK's test kit)
 * connect fake agents, subscribe fake frameworks, accept offers, send status updates and move time.
 */
import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import type { AgentMessage, MasterToAgentMessage, SchedulerCall, SchedulerEvent } from '../../sdk/protocol/messages.js';
import type {
  AgentInfo,
  FrameworkInfo,
  Offer,
  Operation,
  TaskInfo,
  TaskRecord,
  TaskStatus,
} from '../../sdk/protocol/types.js';
import { Resources } from '../../sdk/resources/resources.js';
import { VirtualClock } from '../../sdk/util/clock.js';
import { allocate as realAllocate } from '../allocator/index.js';
import { Master, type MasterOptions } from '../master.js';
import { Registrar } from '../registrar.js';
import type { Effect, MasterEvent, MasterState } from '../state/index.js';
import { FakePeer, type PeerOptions } from './fake-peer.js';
import { MemoryStore } from './memory-store.js';

export interface HarnessOptions extends Partial<Omit<MasterOptions, 'clock' | 'registrar' | 'logger'>> {
  /** Shared with other harnesses (a failover keeps the time); a new one at 1,000,000 ms otherwise. */
  clock?: VirtualClock;
  /** The registrar's Store; a new MemoryStore unless `durable` is false. */
  store?: MemoryStore;
  /** Without a registrar at all (default true: with one). */
  durable?: boolean;
  logger?: pino.Logger;
}

/** Lets pending promise callbacks (registrar writes) run. */
export async function settle(): Promise<void> {
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 10; i++) await Promise.resolve();
    await new Promise<void>((r) => setImmediate(r));
  }
}

export class FakeAgent {
  readonly peer: FakePeer<MasterToAgentMessage, AgentMessage>;
  /** The id the master gave (or the one claimed on re-registration). */
  id?: string;
  private answered = 0;

  constructor(
    private readonly h: MasterHarness,
    readonly info: AgentInfo,
    peer: PeerOptions = {},
  ) {
    this.peer = new FakePeer(h.maxFrameBytes, peer);
    this.peer.handlers = h.master.onAgentConnect(this.peer);
  }

  /** Sends REGISTER and waits for the master's answer. */
  async register(): Promise<this> {
    this.peer.deliver({ type: 'REGISTER', agent: this.info, version: 'fake' });
    await this.h.settle();
    const r = this.peer.last('REGISTERED');
    if (r) this.id = r.agent_id;
    return this;
  }

  /** Sends REREGISTER with `id` (default: its own) and these tasks. */
  async reregister(tasks: TaskRecord[] = [], id = this.id, frameworks: FrameworkInfo[] = []): Promise<this> {
    if (!id) throw new Error('reregister needs an agent id');
    this.id = id;
    this.peer.deliver({ type: 'REREGISTER', agent: { ...this.info, id }, version: 'fake', tasks, frameworks });
    await this.h.settle();
    return this;
  }

  /**
   * Re-registers in parts: REREGISTER with the first part and `more: true`, then one
   * REREGISTER_TASKS per further part, the last with `more: false` unless `finish` is false.
   */
  async reregisterInParts(parts: TaskRecord[][], id = this.id, finish = true): Promise<this> {
    if (!id) throw new Error('reregister needs an agent id');
    this.id = id;
    const [first = [], ...rest] = parts;
    const agent = { ...this.info, id };
    this.peer.deliver({ type: 'REREGISTER', agent, version: 'fake', tasks: first, frameworks: [], more: true });
    rest.forEach((tasks, i) => {
      const more = !finish || i < rest.length - 1;
      this.peer.deliver({ type: 'REREGISTER_TASKS', tasks, frameworks: [], more });
    });
    await this.h.settle();
    return this;
  }

  /** Sends a status update (uuid and timestamp filled in); returns the status sent. */
  update(frameworkId: string, status: Partial<TaskStatus> & Pick<TaskStatus, 'task_id' | 'state'>): TaskStatus {
    const full: TaskStatus = {
      source: 'SOURCE_EXECUTOR',
      agent_id: this.id,
      timestamp: this.h.clock.now() / 1000,
      uuid: randomUUID(),
      ...status,
    };
    this.peer.deliver({ type: 'STATUS_UPDATE', update: { framework_id: frameworkId, status: full } });
    return full;
  }

  /** Answers every PING received since the last call. */
  answerPings(): void {
    const pings = this.peer.all('PING');
    for (const p of pings.slice(this.answered)) this.peer.deliver({ type: 'PONG', seq: p.seq });
    this.answered = pings.length;
  }

  /** The tasks the master asked this agent to run. */
  runTasks(): TaskInfo[] {
    return this.peer.all('RUN_TASK').map((m) => m.task);
  }

  /** The connection drops (agent crashed or partitioned). */
  drop(): void {
    this.peer.drop();
  }
}

export class FakeScheduler {
  readonly peer: FakePeer<SchedulerEvent, SchedulerCall>;
  frameworkId?: string;
  private readonly used = new Set<string>();

  constructor(
    private readonly h: MasterHarness,
    peer: PeerOptions = {},
  ) {
    this.peer = new FakePeer(h.maxFrameBytes, peer);
    this.peer.handlers = h.master.onSchedulerConnect(this.peer);
  }

  /** Sends SUBSCRIBE (with its id once it has one, unless `info.id` says otherwise). */
  async subscribe(info: Partial<FrameworkInfo> = {}): Promise<this> {
    const framework_info: FrameworkInfo = {
      name: 'fake',
      ...(this.frameworkId ? { id: this.frameworkId } : {}),
      ...info,
    };
    this.peer.deliver({ type: 'SUBSCRIBE', subscribe: { framework_info } });
    await this.h.settle();
    const s = this.peer.last('SUBSCRIBED');
    if (s) this.frameworkId = s.subscribed.framework_id;
    return this;
  }

  /** Sends a call, filling in the framework id. */
  call(c: SchedulerCall): void {
    const withId = c.type === 'SUBSCRIBE' ? c : { ...c, framework_id: c.framework_id || (this.frameworkId ?? '') };
    this.peer.deliver(withId as SchedulerCall);
  }

  /** Offers received and not yet rescinded, accepted or declined through this fake. */
  offers(): Offer[] {
    const rescinded = new Set(this.peer.all('RESCIND').map((r) => r.rescind.offer_id));
    return this.peer
      .all('OFFERS')
      .flatMap((m) => m.offers.offers)
      .filter((o) => !rescinded.has(o.id) && !this.used.has(o.id));
  }

  accept(offerIds: string[], operations: Operation[], refuseSeconds?: number): void {
    for (const id of offerIds) this.used.add(id);
    this.call({
      type: 'ACCEPT',
      framework_id: '',
      accept: {
        offer_ids: offerIds,
        operations,
        ...(refuseSeconds !== undefined ? { filters: { refuse_seconds: refuseSeconds } } : {}),
      },
    });
  }

  /** Launches tasks on one offer: each task needs an id and resources (`'cpus:1;mem:32'`); a command is filled in. */
  launch(
    offer: Offer,
    tasks: (Omit<Partial<TaskInfo>, 'resources'> & { task_id: string; resources: TaskInfo['resources'] | string })[],
    refuseSeconds?: number,
  ) {
    const infos: TaskInfo[] = tasks.map((t) => ({
      name: t.task_id,
      agent_id: offer.agent_id,
      command: { value: 'true' },
      ...t,
      resources: typeof t.resources === 'string' ? Resources.parse(t.resources).toList() : t.resources,
    }));
    this.accept([offer.id], [{ type: 'LAUNCH', launch: { task_infos: infos } }], refuseSeconds);
    return infos;
  }

  decline(offerIds: string[], refuseSeconds?: number): void {
    for (const id of offerIds) this.used.add(id);
    this.call({
      type: 'DECLINE',
      framework_id: '',
      decline: {
        offer_ids: offerIds,
        ...(refuseSeconds !== undefined ? { filters: { refuse_seconds: refuseSeconds } } : {}),
      },
    });
  }

  acknowledge(status: TaskStatus): void {
    if (!status.uuid || !status.agent_id) throw new Error('only updates with a uuid and an agent id are acknowledged');
    this.call({
      type: 'ACKNOWLEDGE',
      framework_id: '',
      acknowledge: { agent_id: status.agent_id, task_id: status.task_id, uuid: status.uuid },
    });
  }

  /** Status updates received, in order. */
  updates(): TaskStatus[] {
    return this.peer.all('UPDATE').map((u) => u.update.status);
  }

  /** Codes of the ERROR events received, in order. */
  errors(): (string | undefined)[] {
    return this.peer.all('ERROR').map((e) => e.error.code);
  }

  drop(): void {
    this.peer.drop();
  }
}

export class MasterHarness {
  readonly clock: VirtualClock;
  readonly store?: MemoryStore;
  readonly registrar?: Registrar;
  readonly master: Master;
  readonly maxFrameBytes?: number;
  /** Every event the master applied and the effects it returned, in order (cleared with `trace.length = 0`). */
  readonly trace: { event: MasterEvent; effects: readonly Effect[] }[] = [];

  private constructor(readonly options: HarnessOptions) {
    this.clock = options.clock ?? new VirtualClock(1_000_000);
    const logger = options.logger ?? pino({ level: 'silent' });
    if (options.durable !== false) {
      this.store = options.store ?? new MemoryStore();
      this.registrar = new Registrar(this.store, logger);
    }
    this.maxFrameBytes = options.maxFrameBytes;
    this.master = new Master({
      port: 5050,
      hostname: 'harness',
      seed: 1,
      allocate: realAllocate,
      ...options,
      clock: this.clock,
      logger,
      registrar: this.registrar,
      trace: (event, effects) => {
        this.trace.push({ event, effects });
        if (this.trace.length > 10_000) this.trace.splice(0, 5_000);
      },
    });
  }

  /** A master that has become leader (after reading its registrar) and armed its timers. */
  static async start(options: HarnessOptions = {}): Promise<MasterHarness> {
    const h = new MasterHarness(options);
    h.master.start();
    await h.master.becomeLeader();
    await h.settle();
    return h;
  }

  /**
   * A new leader on the same Store and clock, as after a master failover. This master stops;
   * the test drops (or keeps) its fake connections as the scenario needs.
   */
  async failover(options: HarnessOptions = {}): Promise<MasterHarness> {
    this.master.stop();
    return MasterHarness.start({ ...this.options, ...options, clock: this.clock, store: this.store });
  }

  get state(): MasterState {
    return this.master.state;
  }

  /** Lets registrar writes and their follow-ups finish, and fires the timers due now (an "allocate soon"). */
  async settle(): Promise<void> {
    await settle();
    await this.clock.advanceAsync(0);
  }

  /** Moves time forward, firing every timer due on the way, with writes settling in between. */
  async advance(ms: number): Promise<void> {
    await this.clock.advanceAsync(ms);
    await this.settle();
  }

  /** A connected agent that has not registered yet. */
  connectAgent(
    info: Omit<Partial<AgentInfo>, 'resources'> & { resources?: AgentInfo['resources'] | string } = {},
    peer: PeerOptions = {},
  ): FakeAgent {
    const resources = info.resources ?? 'cpus:4;mem:4096;disk:10000';
    return new FakeAgent(
      this,
      {
        hostname: 'agent',
        port: 5051,
        attributes: {},
        ...info,
        resources: typeof resources === 'string' ? Resources.parse(resources).toList() : resources,
      },
      peer,
    );
  }

  /** A connected, registered agent. */
  async addAgent(
    info: Omit<Partial<AgentInfo>, 'resources'> & { resources?: AgentInfo['resources'] | string } = {},
    peer: PeerOptions = {},
  ): Promise<FakeAgent> {
    const a = await this.connectAgent(info, peer).register();
    if (!a.id) throw new Error('the master did not register the agent');
    return a;
  }

  /** A connected scheduler that has not subscribed yet. */
  connectScheduler(peer: PeerOptions = {}): FakeScheduler {
    return new FakeScheduler(this, peer);
  }

  /** A connected, subscribed framework. */
  async subscribe(info: Partial<FrameworkInfo> = {}, peer: PeerOptions = {}): Promise<FakeScheduler> {
    const f = await this.connectScheduler(peer).subscribe(info);
    if (!f.frameworkId) throw new Error(`the master did not subscribe the framework: ${f.errors().join(', ')}`);
    return f;
  }

  /** The effects of one kind recorded in the trace (e.g. `'arm'`, `'persistFramework'`). */
  effects<K extends Effect['kind']>(kind: K): Extract<Effect, { kind: K }>[] {
    return this.trace.flatMap((t) => t.effects).filter((e): e is Extract<Effect, { kind: K }> => e.kind === kind);
  }

  /** Runs an allocation cycle now (the interval timer does it too as time advances). */
  async allocate(): Promise<void> {
    this.master.allocateNow();
    await this.settle();
  }
}
