/**
 * Leader election for frameworks: several instances of a framework (Marathon, Chronos, yours)
 * contend under one ZooKeeper path; one leads and acts, the others follow and know where the
 * leader is (to proxy or redirect to it). What a leader publishes is the caller's JSON payload,
 * e.g. `{host, port, scheme}`, checked by the caller's `parse` on the way back.
 *
 * - `PayloadDetector<T>` follows whoever leads under a path (the lowest `<label><seq>` node).
 * - `Leadership<T>` is one instance: a `LeaderElection<T>` publishing its payload, plus a detector.
 *   `elected`/`lost` (from the election: stop acting as leader at once on `lost`) and `leader`
 *   (the current leader's payload, ours included, or undefined).
 */
import { EventEmitter } from 'node:events';
import { type Logger, pino } from 'pino';
import { isZkError, joinPath, type ZkClient, ZkErrorCode } from './client.js';
import { LeaderElection, type LostReason, sortedMembers } from './election.js';

/** The node name prefix framework elections use unless told otherwise. */
export const FRAMEWORK_LEADER_LABEL = 'leader_';

export interface PayloadDetectorOptions<T> {
  client: ZkClient;
  path: string;
  /** Checks a leader's payload (parsed JSON); undefined: not a valid payload (treated as no leader). */
  parse: (value: unknown) => T | undefined;
  label?: string;
  logger?: Logger;
}

export interface PayloadDetectorEvents<T> {
  leader: [T | undefined];
}

export class PayloadDetector<T> extends EventEmitter<PayloadDetectorEvents<T>> {
  private readonly log: Logger;
  private readonly label: string;
  private current?: { node: string; value: T; text: string };
  private closed = false;
  private epoch = 0;
  private running = false;
  private dirty = false;
  private readonly onConnected = () => this.schedule();
  private readonly onExpired = () => {
    this.epoch++;
    this.set(undefined);
  };

  constructor(private readonly opts: PayloadDetectorOptions<T>) {
    super();
    this.label = opts.label ?? FRAMEWORK_LEADER_LABEL;
    this.log = (opts.logger ?? pino({ level: 'silent' })).child({ component: 'payload-detector', path: opts.path });
  }

  /** The leader's payload now, or undefined. */
  leader(): T | undefined {
    return this.current?.value;
  }

  async start(): Promise<void> {
    this.opts.client.on('connected', this.onConnected);
    this.opts.client.on('expired', this.onExpired);
    if (!this.opts.client.connected) await this.opts.client.connect();
    await this.read(this.epoch);
  }

  close(): void {
    this.closed = true;
    this.epoch++;
    this.opts.client.off('connected', this.onConnected);
    this.opts.client.off('expired', this.onExpired);
  }

  private schedule(): void {
    this.dirty = true;
    if (this.running || this.closed) return;
    this.running = true;
    void (async () => {
      try {
        while (this.dirty && !this.closed) {
          this.dirty = false;
          if (!this.opts.client.connected) break;
          try {
            await this.read(this.epoch);
          } catch (err) {
            if (!(isZkError(err) && err.isConnectionError)) this.log.error({ err }, 'leader detection failed');
          }
        }
      } finally {
        this.running = false;
      }
    })();
  }

  private async read(epoch: number): Promise<void> {
    const { client, path } = this.opts;
    const watch = () => {
      if (epoch === this.epoch) this.schedule();
    };
    let children: string[];
    try {
      children = await client.getChildren(path, watch);
    } catch (err) {
      if (!isZkError(err, ZkErrorCode.NO_NODE)) throw err;
      const stat = await client.exists(path, watch);
      if (stat) this.dirty = true;
      this.set(undefined);
      return;
    }
    if (epoch !== this.epoch) return;
    const lowest = sortedMembers(children, this.label)[0];
    if (!lowest) {
      this.set(undefined);
      return;
    }
    let text: string;
    try {
      text = (await client.get(joinPath(path, lowest))).data.toString('utf8');
    } catch (err) {
      if (isZkError(err, ZkErrorCode.NO_NODE)) {
        this.dirty = true;
        return;
      }
      throw err;
    }
    if (epoch !== this.epoch) return;
    let value: T | undefined;
    try {
      value = this.opts.parse(JSON.parse(text));
    } catch {
      value = undefined;
    }
    if (value === undefined) {
      this.log.error({ node: lowest }, 'the leading node does not hold a valid payload');
      this.set(undefined);
      return;
    }
    this.set({ node: lowest, value, text });
  }

  private set(next: { node: string; value: T; text: string } | undefined): void {
    if (this.closed) return;
    if (next?.node === this.current?.node && next?.text === this.current?.text) return;
    this.current = next;
    this.emit('leader', next?.value);
  }
}

export interface LeadershipOptions<T> {
  client: ZkClient;
  /** Where the instances of one framework contend, e.g. `/marathon/leader`. */
  path: string;
  /** What this instance publishes while contending (and leading). */
  info: T;
  parse: (value: unknown) => T | undefined;
  label?: string;
  logger?: Logger;
}

export interface LeadershipEvents<T> {
  elected: [];
  lost: [LostReason];
  leader: [T | undefined];
}

/** One instance of a framework in its election (see the file comment). */
export class Leadership<T> extends EventEmitter<LeadershipEvents<T>> {
  readonly election: LeaderElection<T>;
  readonly detector: PayloadDetector<T>;

  constructor(opts: LeadershipOptions<T>) {
    super();
    const label = opts.label ?? FRAMEWORK_LEADER_LABEL;
    this.election = new LeaderElection<T>({ ...opts, label });
    this.detector = new PayloadDetector<T>({ ...opts, label });
    this.election.on('elected', () => this.emit('elected'));
    this.election.on('lost', (r) => this.emit('lost', r));
    this.detector.on('leader', (l) => this.emit('leader', l));
  }

  get isLeader(): boolean {
    return this.election.isLeader;
  }

  /** The current leader's payload (ours when we lead), or undefined. */
  leader(): T | undefined {
    return this.detector.leader();
  }

  async start(): Promise<void> {
    await this.detector.start();
    await this.election.start();
  }

  /** Leaves the election (emits `lost` if leading) and stops following. */
  async stop(): Promise<void> {
    await this.election.withdraw();
    this.detector.close();
  }
}
