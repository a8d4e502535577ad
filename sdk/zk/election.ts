/**
 * Leader election among masters, the ZooKeeper recipe Mesos uses: each contender creates an
 * ephemeral sequential node `<path>/json.info_<seq>` holding its MasterInfo as JSON; the lowest
 * sequence number leads. Each contender watches only its predecessor (no herd effect when the
 * leader goes), so a leader change wakes one contender.
 *
 * Safety first: `lost` is emitted synchronously, the moment the contender stops being sure it leads
 * — when the connection drops (by default; see `disconnectGraceMs`), when the session expires, when
 * its node disappears, on withdraw() or when the client is closed. The caller must stop acting as
 * leader at once on `lost`.
 *
 * Why not wait for the session timeout before `lost`, as one might expect? ZooKeeper expires a
 * session a session-timeout after it last heard from the client, but the C client notices a dead
 * connection only 2/3 of a session-timeout after it last heard from the server. By then the server
 * may be about 1/3 of a timeout from expiring us and electing someone else; waiting a further full
 * timeout would leave two leaders for up to 2/3 of a timeout. So the default grace is 0 (as Curator's
 * LeaderLatch does on SUSPENDED); a grace below a third of the session timeout, minus network delay,
 * is the most that stays safe.
 *
 * After `lost` the contender keeps contending (unless withdrawn): on reconnection within the same
 * session it re-checks its node and, still lowest, is `elected` again; after an expiry it joins again
 * with a new node at the back of the line.
 */
import { EventEmitter } from 'node:events';
import { type Logger, pino } from 'pino';
import type { MasterInfo } from '../protocol/types.js';
import { type ConnectedEvent, CreateMode, isZkError, joinPath, type ZkClient, ZkErrorCode } from './client.js';
import { ensureProtected } from './protect.js';

/** The label of the JSON MasterInfo nodes Mesos masters write, which tools read to find the leader. */
export const MASTER_INFO_LABEL = 'json.info_';

export type LostReason = 'disconnected' | 'session_expired' | 'node_deleted' | 'withdrawn' | 'closed';

/**
 * `T`: what a contender publishes in its node as JSON (a master's MasterInfo by default; a
 * framework's `{host, port, scheme}` for Marathon, Chronos or yours), read by a `PayloadDetector`.
 */
export interface LeaderElectionOptions<T = MasterInfo> {
  client: ZkClient;
  /** The election's parent node, e.g. `/agora` (created if missing). */
  path: string;
  info: T;
  /** Prefix of the contenders' node names (default `json.info_`, as Mesos masters write). */
  label?: string;
  logger?: Logger;
  /** How long to keep leading while disconnected before emitting `lost`. Default 0 (at once). */
  disconnectGraceMs?: number;
  /** Delay before retrying after an unexpected ZooKeeper error. Default 500 ms. */
  retryDelayMs?: number;
}

export interface LeaderElectionEvents {
  elected: [];
  lost: [LostReason];
}

/** The sequence number of a `label<seq>` node name, or undefined if it is not one. */
export function sequenceOf(name: string, label = MASTER_INFO_LABEL): number | undefined {
  if (!name.startsWith(label)) return undefined;
  const digits = name.slice(label.length);
  return /^[0-9]{10,}$/.test(digits) ? Number(digits) : undefined;
}

/** The `label<seq>` names among `children`, lowest sequence first. */
export function sortedMembers(children: string[], label = MASTER_INFO_LABEL): string[] {
  return children
    .filter((c) => sequenceOf(c, label) !== undefined)
    .sort((a, b) => (sequenceOf(a, label) as number) - (sequenceOf(b, label) as number));
}

export class LeaderElection<T = MasterInfo> extends EventEmitter<LeaderElectionEvents> {
  readonly path: string;
  readonly label: string;
  private readonly client: ZkClient;
  private readonly data: string;
  private readonly log: Logger;
  private readonly graceMs: number;
  private readonly retryDelayMs: number;

  private started = false;
  private stopped = false;
  private leader = false;
  private suspended = false;
  /** Full path of our node, and the session that owns it. */
  private node?: string;
  private nodeSession?: string;
  /** Bumped on every session change or stop, so stale async steps and watchers do nothing. */
  private epoch = 0;
  private running = false;
  private dirty = false;
  private graceTimer?: NodeJS.Timeout;
  private retryTimer?: NodeJS.Timeout;
  private protectedPath = false;

  private readonly onConnected = (e: ConnectedEvent) => this.handleConnected(e);
  private readonly onDisconnected = () => this.handleDisconnected();
  private readonly onExpired = () => this.handleExpired();
  private readonly onClosed = () => this.handleClosed();

  constructor(options: LeaderElectionOptions<T>) {
    super();
    this.client = options.client;
    this.path = options.path;
    this.label = options.label ?? MASTER_INFO_LABEL;
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(this.label)) throw new RangeError(`invalid election label ${this.label}`);
    this.data = JSON.stringify(options.info);
    this.log = (options.logger ?? pino({ level: 'silent' })).child({
      component: 'leader-election',
      path: options.path,
    });
    this.graceMs = options.disconnectGraceMs ?? 0;
    this.retryDelayMs = options.retryDelayMs ?? 500;
    const third = this.client.sessionTimeoutMs / 3;
    if (this.graceMs >= third) {
      this.log.warn(
        { disconnectGraceMs: this.graceMs, sessionTimeoutMs: this.client.sessionTimeoutMs },
        'disconnectGraceMs is not below a third of the session timeout: two masters may lead at once',
      );
    }
  }

  get isLeader(): boolean {
    return this.leader;
  }

  /** The full path of our `json.info_<seq>` node, while we have one. */
  get nodePath(): string | undefined {
    return this.node;
  }

  /**
   * Joins the election (connecting the client if needed); resolves once our node exists — or, if the
   * connection dropped meanwhile, once joining is left to the reconnection. `elected` follows when we
   * are first in line.
   */
  async start(): Promise<void> {
    if (this.stopped) throw new Error('LeaderElection: withdrawn; create a new one');
    if (this.started) return;
    if (!this.client.connected) await this.client.connect();
    if (this.started || this.stopped) return;
    this.started = true;
    this.client.on('connected', this.onConnected);
    this.client.on('disconnected', this.onDisconnected);
    this.client.on('expired', this.onExpired);
    this.client.on('closed', this.onClosed);
    try {
      await this.join(this.epoch);
    } catch (err) {
      if (!(isZkError(err) && err.isConnectionError)) {
        this.stop('withdrawn');
        throw err;
      }
      this.log.warn({ err }, 'joining interrupted by the connection; will join on reconnection');
    }
    this.schedule();
  }

  /** Leaves the election: emits `lost` ('withdrawn') if leading, deletes our node, stops watching. */
  async withdraw(): Promise<void> {
    if (this.stopped) return;
    this.stop('withdrawn');
    const node = this.node;
    this.node = undefined;
    if (node && this.client.connected) {
      try {
        await this.client.delete(node);
      } catch (err) {
        if (!isZkError(err, ZkErrorCode.NO_NODE)) this.log.warn({ err, node }, 'could not delete our election node');
      }
    }
  }

  // ---- session events ------------------------------------------------------------------------

  private handleDisconnected(): void {
    if (this.stopped) return;
    this.suspended = true;
    if (!this.leader) return;
    if (this.graceMs <= 0) {
      this.lose('disconnected');
      return;
    }
    this.clearGrace();
    this.graceTimer = setTimeout(() => {
      this.graceTimer = undefined;
      if (this.suspended) this.lose('disconnected');
    }, this.graceMs);
  }

  private handleConnected(e: ConnectedEvent): void {
    if (this.stopped) return;
    this.suspended = false;
    this.clearGrace();
    if (e.newSession && this.nodeSession !== e.sessionId) {
      // Our node (if any) belonged to a session that is gone.
      if (this.leader) this.lose('session_expired');
      this.node = undefined;
      this.epoch++;
    }
    this.schedule();
  }

  private handleExpired(): void {
    if (this.stopped) return;
    this.clearGrace();
    this.epoch++;
    this.node = undefined;
    if (this.leader) this.lose('session_expired');
  }

  private handleClosed(): void {
    if (this.stopped) return;
    this.stop('closed');
    this.node = undefined;
  }

  // ---- the election proper -------------------------------------------------------------------

  /** Runs `step` until nothing new happened while it ran; never two at once. */
  private schedule(): void {
    this.dirty = true;
    if (this.running || this.stopped) return;
    this.running = true;
    void (async () => {
      try {
        while (this.dirty && !this.stopped) {
          this.dirty = false;
          await this.step();
        }
      } finally {
        this.running = false;
      }
    })();
  }

  private async step(): Promise<void> {
    if (this.stopped || this.suspended || !this.client.connected) return;
    const epoch = this.epoch;
    try {
      if (!this.node) await this.join(epoch);
      if (epoch === this.epoch) await this.evaluate(epoch);
    } catch (err) {
      if (this.stopped || epoch !== this.epoch) return;
      if (isZkError(err) && err.isConnectionError) {
        // The session events will bring us back here.
        this.log.debug({ err }, 'election step interrupted by the connection');
        return;
      }
      this.log.error({ err }, 'election step failed; retrying');
      this.clearRetry();
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        this.schedule();
      }, this.retryDelayMs);
    }
  }

  /** Makes sure we have a node: adopts one this session already owns (after a lost reply), else creates one. */
  private async join(epoch: number): Promise<void> {
    if (this.node || this.stopped) return;
    if (!this.protectedPath) {
      // Once: the path readable by all, writable by our credentials; open json.info nodes tightened.
      await ensureProtected(this.client, this.path, this.client.acls.publicRead, this.log, {
        children: (name) => name.startsWith(this.label),
      });
      this.protectedPath = true;
    } else {
      await this.client.mkdirp(this.path, this.client.acls.publicRead);
    }
    const session = this.client.sessionId;
    const owned = await this.findOwnNode(session);
    if (epoch !== this.epoch || this.stopped) return;
    if (owned) {
      this.node = owned;
      this.nodeSession = session;
      this.log.info({ node: owned }, 'found our election node again');
      return;
    }
    const created = await this.client.create(
      joinPath(this.path, this.label),
      this.data,
      CreateMode.EPHEMERAL_SEQUENTIAL,
      this.client.acls.publicRead,
    );
    if (epoch !== this.epoch || this.stopped) {
      // Withdrawn (or the session changed) while creating: do not leave a node behind.
      this.client.delete(created).catch(() => undefined);
      return;
    }
    this.node = created;
    this.nodeSession = this.client.sessionId;
    this.log.info({ node: created }, 'joined the election');
  }

  private async findOwnNode(session: string | undefined): Promise<string | undefined> {
    if (!session) return undefined;
    const members = sortedMembers(await this.client.getChildren(this.path), this.label);
    for (const name of members) {
      const full = joinPath(this.path, name);
      try {
        const { data, stat } = await this.client.get(full);
        if (stat.ephemeralOwner === session && data.toString('utf8') === this.data) return full;
      } catch (err) {
        if (!isZkError(err, ZkErrorCode.NO_NODE)) throw err;
      }
    }
    return undefined;
  }

  private async evaluate(epoch: number): Promise<void> {
    const node = this.node;
    if (!node) return;
    const ours = node.slice(node.lastIndexOf('/') + 1);
    const members = sortedMembers(await this.client.getChildren(this.path), this.label);
    if (epoch !== this.epoch || this.stopped || this.suspended || node !== this.node) return;
    const index = members.indexOf(ours);
    if (index < 0) {
      this.log.warn({ node }, 'our election node is gone; joining again');
      this.node = undefined;
      if (this.leader) this.lose('node_deleted');
      this.dirty = true;
      return;
    }
    if (index === 0) {
      // Watch our own node: if someone deletes it, we must step down.
      const stat = await this.client.exists(node, (ev) => this.onWatch(epoch, ev.type));
      if (epoch !== this.epoch || this.stopped || this.suspended || node !== this.node) return;
      if (!stat) {
        this.dirty = true;
        return;
      }
      if (!this.leader) {
        this.leader = true;
        this.log.info({ node }, 'elected leader');
        this.emit('elected');
      }
      return;
    }
    if (this.leader) {
      // Cannot happen with sequential nodes unless the tree was tampered with; be safe.
      this.lose('node_deleted');
    }
    const predecessor = joinPath(this.path, members[index - 1]);
    const stat = await this.client.exists(predecessor, (ev) => this.onWatch(epoch, ev.type));
    if (!stat && epoch === this.epoch) this.dirty = true;
  }

  private onWatch(epoch: number, type: string): void {
    if (this.stopped || epoch !== this.epoch) return;
    if (type === 'session' || type === 'not_watching') return;
    this.schedule();
  }

  private lose(reason: LostReason): void {
    if (!this.leader) return;
    this.leader = false;
    this.log.warn({ reason, node: this.node }, 'lost leadership');
    this.emit('lost', reason);
  }

  private stop(reason: LostReason): void {
    this.stopped = true;
    this.epoch++;
    this.clearGrace();
    this.clearRetry();
    this.client.off('connected', this.onConnected);
    this.client.off('disconnected', this.onDisconnected);
    this.client.off('expired', this.onExpired);
    this.client.off('closed', this.onClosed);
    this.lose(reason);
  }

  private clearGrace(): void {
    if (this.graceTimer) clearTimeout(this.graceTimer);
    this.graceTimer = undefined;
  }

  private clearRetry(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }
}
