/**
 * The scheduler driver: what a framework author builds on. It subscribes to the leading master
 * (and re-subscribes with the same framework id after any disconnection, so tasks are kept within
 * `failover_timeout`), turns events into callbacks, and offers the calls of Mesos's v1 scheduler
 * API: accept/launch, decline, kill, acknowledge, reconcile, suppress, revive, teardown.
 */
import { EventEmitter } from 'node:events';
import pino from 'pino';
import { Direction, SCHEDULER_WS_PATH, type SchedulerCall, type SchedulerEvent } from '../protocol/messages.js';
import type { Filters, FrameworkInfo, MasterInfo, Offer, Operation, TaskInfo, TaskStatus } from '../protocol/types.js';
import { validateMessage } from '../protocol/validate.js';
import { type ClientSecurity, ReconnectingClient } from '../transport/index.js';
import { type Clock, systemClock } from '../util/clock.js';
import { followLeader, type LeaderEndpoint } from '../zk/follow-leader.js';

export { SCHEDULER_WS_PATH };

export interface DriverOptions extends ClientSecurity {
  /** Where the leading master is: `host:port`, `zk://host:2181/agora` (follows the election), or a function giving `host:port`. */
  master: string | (() => string | undefined | Promise<string | undefined>);
  framework: FrameworkInfo;
  /** Acknowledge every status update as soon as it is handed to the 'update' listeners (default true). */
  implicitAcknowledgements?: boolean;
  logger?: pino.Logger;
  /** Arms the transport's heartbeat and reconnection timers and tells the time; default `systemClock`. */
  clock?: Clock;
  // credential: sent as Basic authentication at every upgrade; tls: wss:// and the CA to verify with.
}

export interface SchedulerDriverEvents {
  subscribed: [{ frameworkId: string; masterInfo: MasterInfo; resubscribed: boolean }];
  offers: [Offer[]];
  rescind: [string];
  update: [TaskStatus];
  failure: [string];
  error: [{ message: string; code?: string }];
  /** The connection to the master is gone: every offer received so far is void. */
  disconnected: [];
}

/** The call as it will be sent, with a placeholder framework id before the first SUBSCRIBED. */
function withId(c: SchedulerCall, frameworkId: string): SchedulerCall {
  return 'framework_id' in c && c.framework_id === '' ? { ...c, framework_id: frameworkId || 'unsubscribed' } : c;
}

/** Turns `host:port` into the scheduler WebSocket URL. */
export function schedulerUrl(hostPort: string): string {
  if (hostPort.startsWith('ws://') || hostPort.startsWith('wss://')) return hostPort;
  return `ws://${hostPort}${SCHEDULER_WS_PATH}`;
}

export class SchedulerDriver extends EventEmitter<SchedulerDriverEvents> {
  frameworkId?: string;
  masterInfo?: MasterInfo;
  private readonly client: ReconnectingClient<typeof Direction.MasterToScheduler, SchedulerCall>;
  private readonly log: pino.Logger;
  private subscribedOnce = false;
  private endpoint?: LeaderEndpoint;
  private lastUrl?: string;
  /** When the master last sent a HEARTBEAT event (ms since the epoch). */
  lastHeartbeat?: number;
  private subscribedNow = false;
  private readonly clock: Clock;

  constructor(private readonly opts: DriverOptions) {
    super();
    this.log = opts.logger ?? pino({ level: 'silent' });
    this.clock = opts.clock ?? systemClock;
    this.frameworkId = opts.framework.id;
    const master = opts.master;
    let url: () => string | undefined | Promise<string | undefined>;
    if (typeof master === 'string') {
      // host:port, or zk://... following the elected leader (reconnecting when it changes).
      this.endpoint = followLeader(master, SCHEDULER_WS_PATH, {
        logger: this.log,
        onChange: () => {
          if (this.endpoint?.url() !== this.lastUrl) this.client.reconnectNow();
        },
      });
      const endpoint = this.endpoint;
      url = () => {
        this.lastUrl = endpoint.url();
        return this.lastUrl;
      };
    } else {
      url = async () => {
        const m = await master();
        return m ? schedulerUrl(m) : undefined;
      };
    }
    this.client = new ReconnectingClient({
      url,
      inbound: Direction.MasterToScheduler,
      onOpen: () => this.subscribe(),
      onMessage: (e) => this.onEvent(e),
      onClose: () => {
        if (this.subscribedNow) this.emit('disconnected');
        this.subscribedNow = false;
      },
      onRefused: (status, code, message) => {
        const error = {
          code: code ?? `HTTP_${status}`,
          message: `the master refused the connection: ${message ?? `HTTP ${status}`}`,
        };
        if (this.listenerCount('error') > 0) this.emit('error', error);
      },
      logger: this.log.child({ component: 'transport' }),
      clock: this.clock,
      credential: opts.credential,
      tls: opts.tls,
    });
  }

  get subscribed(): boolean {
    return this.subscribedNow;
  }

  start(): this {
    this.client.start();
    return this;
  }

  /** Disconnects without tearing the framework down: the master keeps its tasks for failover_timeout. */
  async stop(): Promise<void> {
    await this.client.stop();
    await this.endpoint?.close();
  }

  private subscribe(): void {
    const framework_info: FrameworkInfo = { ...this.opts.framework };
    if (this.frameworkId) framework_info.id = this.frameworkId;
    this.client.send({ type: 'SUBSCRIBE', subscribe: { framework_info } });
  }

  private onEvent(e: SchedulerEvent): void {
    switch (e.type) {
      case 'SUBSCRIBED': {
        const resubscribed = this.subscribedOnce;
        this.frameworkId = e.subscribed.framework_id;
        this.masterInfo = e.subscribed.master_info;
        this.subscribedOnce = true;
        this.subscribedNow = true;
        this.emit('subscribed', { frameworkId: this.frameworkId, masterInfo: this.masterInfo, resubscribed });
        return;
      }
      case 'OFFERS':
        this.emit('offers', e.offers.offers);
        return;
      case 'RESCIND':
        this.emit('rescind', e.rescind.offer_id);
        return;
      case 'UPDATE': {
        const status = e.update.status;
        this.emit('update', status);
        if (this.opts.implicitAcknowledgements !== false && status.uuid) this.acknowledge(status);
        return;
      }
      case 'FAILURE':
        this.emit('failure', e.failure.agent_id);
        return;
      case 'ERROR':
        this.log.warn({ error: e.error }, 'master reported an error');
        if (this.listenerCount('error') > 0) this.emit('error', e.error);
        return;
      case 'HEARTBEAT':
        this.lastHeartbeat = this.clock.now();
        return;
      case 'LEADER':
        // Reconnect at once only to a leader we were not trying; otherwise the usual backoff.
        if (this.endpoint?.hint(e.leader.master_info)) this.client.reconnectNow();
        else this.log.info('connected master is not the leader; retrying with backoff');
        return;
    }
  }

  /**
   * Sends a call; false when not subscribed. A call the master would refuse (a bad task id, a
   * negative scalar, a field out of bounds) throws `ProtocolError` here, naming the field, instead
   * of costing the connection.
   */
  private call(c: SchedulerCall): boolean {
    validateMessage(Direction.SchedulerToMaster, withId(c, this.fid()));
    if (!this.frameworkId || !this.subscribedNow) return false;
    return this.client.send(c);
  }

  private fid(): string {
    return this.frameworkId ?? '';
  }

  accept(offerIds: string[], operations: Operation[], filters?: Filters): boolean {
    return this.call({
      type: 'ACCEPT',
      framework_id: this.fid(),
      accept: { offer_ids: offerIds, operations, filters },
    });
  }

  /** Launches `tasks` on `offer` (LAUNCH operation); what is left goes back with `filters`. */
  launch(offer: Offer | Offer[], tasks: TaskInfo[], filters?: Filters): boolean {
    const offers = Array.isArray(offer) ? offer : [offer];
    return this.accept(
      offers.map((o) => o.id),
      [{ type: 'LAUNCH', launch: { task_infos: tasks } }],
      filters,
    );
  }

  decline(offerIds: string[], filters: Filters = { refuse_seconds: 5 }): boolean {
    return this.call({ type: 'DECLINE', framework_id: this.fid(), decline: { offer_ids: offerIds, filters } });
  }

  kill(taskId: string, agentId?: string): boolean {
    return this.call({ type: 'KILL', framework_id: this.fid(), kill: { task_id: taskId, agent_id: agentId } });
  }

  acknowledge(status: TaskStatus): boolean {
    if (!status.uuid || !status.agent_id) return false;
    return this.call({
      type: 'ACKNOWLEDGE',
      framework_id: this.fid(),
      acknowledge: { agent_id: status.agent_id, task_id: status.task_id, uuid: status.uuid },
    });
  }

  /** Explicit reconciliation of the tasks named, or implicit (all of the framework's tasks) with none. */
  reconcile(tasks: { task_id: string; agent_id?: string }[] = []): boolean {
    return this.call({ type: 'RECONCILE', framework_id: this.fid(), reconcile: { tasks } });
  }

  suppress(roles?: string[]): boolean {
    return this.call({ type: 'SUPPRESS', framework_id: this.fid(), suppress: roles ? { roles } : undefined });
  }

  revive(roles?: string[]): boolean {
    return this.call({ type: 'REVIVE', framework_id: this.fid(), revive: roles ? { roles } : undefined });
  }

  /** Ends the framework: the master kills its tasks and forgets it. */
  async teardown(): Promise<void> {
    this.call({ type: 'TEARDOWN', framework_id: this.fid() });
    // Give the TEARDOWN a moment to leave before the connection closes.
    await new Promise<void>((r) => this.clock.setTimeout(r, 50));
    await this.stop();
  }
}
