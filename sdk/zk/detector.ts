/**
 * Finding the leading master, as agents, frameworks and tools do.
 *
 * - `LeaderDetector` follows the lowest `json.info_*` child of the election path in ZooKeeper
 *   (the node a `LeaderElection` — or a Mesos master — writes), and reports every change.
 * - `StaticDetector` reports one fixed master (`host:port`, standalone mode).
 * - `createDetector(flag)` picks one from a `--master` flag: `zk://...` or `host:port`.
 *
 * All three implement `MasterDetector`: a `leader` event with `MasterInfo | undefined` on every
 * change, `current()`, and `next(previous?)`, which resolves with a leader different from
 * `previous` (any leader when omitted) as soon as there is one.
 *
 * On a ZooKeeper disconnection the detector keeps reporting the last leader it saw (the leader may
 * well still be there; whoever talks to it will find out); when the session expires it reports
 * `undefined` until it has read the tree again with a new session.
 */
import { EventEmitter } from 'node:events';
import { isIP } from 'node:net';
import { type Logger, pino } from 'pino';
import type { MasterInfo } from '../protocol/types.js';
import { ZkNotAuthorizedError } from './acl.js';
import { type ConnectedEvent, isZkError, joinPath, ZkClient, ZkError, ZkErrorCode } from './client.js';
import { MASTER_INFO_LABEL, sortedMembers } from './election.js';
import { isZkUrl, parseZkUrl } from './url.js';

export const DETECTOR_CLOSED = 'AGORA_DETECTOR_CLOSED' as const;
export const BAD_MASTER_ADDRESS = 'AGORA_BAD_MASTER_ADDRESS' as const;

export class DetectorClosedError extends Error {
  readonly code = DETECTOR_CLOSED;
  constructor() {
    super('the master detector was closed');
    this.name = 'DetectorClosedError';
  }
}

export class MasterAddressError extends Error {
  readonly code = BAD_MASTER_ADDRESS;
  constructor(
    readonly flag: string,
    reason: string,
  ) {
    super(`bad master address '${flag}': ${reason} (expected host:port or zk://host:2181/path)`);
    this.name = 'MasterAddressError';
  }
}

export interface MasterDetectorEvents {
  leader: [MasterInfo | undefined];
}

export interface MasterDetector {
  /** The leader as last seen, if any. */
  current(): MasterInfo | undefined;
  /** Resolves with a leader different from `previous` (any leader if omitted) as soon as there is one. */
  next(previous?: MasterInfo): Promise<MasterInfo>;
  close(): Promise<void>;
  on(event: 'leader', listener: (leader: MasterInfo | undefined) => void): this;
  once(event: 'leader', listener: (leader: MasterInfo | undefined) => void): this;
  off(event: 'leader', listener: (leader: MasterInfo | undefined) => void): this;
}

/** Same master: same id, pid and address. */
export function sameMaster(a: MasterInfo | undefined, b: MasterInfo | undefined): boolean {
  if (!a || !b) return a === b;
  return (
    a.id === b.id &&
    a.pid === b.pid &&
    a.hostname === b.hostname &&
    a.port === b.port &&
    a.address?.ip === b.address?.ip &&
    a.address?.port === b.address?.port
  );
}

/** Parses and checks a MasterInfo JSON document; undefined if it is not one. */
export function parseMasterInfo(text: string): MasterInfo | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  const addr = o.address as Record<string, unknown> | undefined;
  const port = typeof o.port === 'number' ? o.port : typeof addr?.port === 'number' ? addr.port : undefined;
  const hostname =
    typeof o.hostname === 'string' ? o.hostname : typeof addr?.hostname === 'string' ? addr.hostname : '';
  if (typeof o.id !== 'string' || typeof o.pid !== 'string' || port === undefined) return undefined;
  return {
    id: o.id,
    pid: o.pid,
    hostname,
    port,
    address: {
      hostname: typeof addr?.hostname === 'string' ? addr.hostname : hostname,
      ip: typeof addr?.ip === 'string' ? addr.ip : '',
      port: typeof addr?.port === 'number' ? addr.port : port,
    },
    version: typeof o.version === 'string' ? o.version : '',
  };
}

interface NextWaiter {
  previous?: MasterInfo;
  resolve: (m: MasterInfo) => void;
  reject: (err: Error) => void;
}

/** What both detectors share: the current leader, `leader` events and `next()`. */
abstract class BaseDetector extends EventEmitter<MasterDetectorEvents> implements MasterDetector {
  protected leader?: MasterInfo;
  protected closed = false;
  private waiters: NextWaiter[] = [];

  current(): MasterInfo | undefined {
    return this.leader;
  }

  next(previous?: MasterInfo): Promise<MasterInfo> {
    if (this.closed) return Promise.reject(new DetectorClosedError());
    if (this.leader && !sameMaster(this.leader, previous)) return Promise.resolve(this.leader);
    return new Promise<MasterInfo>((resolve, reject) => this.waiters.push({ previous, resolve, reject }));
  }

  abstract close(): Promise<void>;

  protected setLeader(leader: MasterInfo | undefined): void {
    if (this.closed || sameMaster(this.leader, leader)) return;
    this.leader = leader;
    this.emit('leader', leader);
    if (!leader) return;
    const ready = this.waiters.filter((w) => !sameMaster(leader, w.previous));
    this.waiters = this.waiters.filter((w) => sameMaster(leader, w.previous));
    for (const w of ready) w.resolve(leader);
  }

  protected rejectWaiters(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.reject(new DetectorClosedError());
  }
}

export interface LeaderDetectorOptions {
  client: ZkClient;
  /** The election path, e.g. `/agora`. */
  path: string;
  logger?: Logger;
  /** Close the client when the detector is closed (createDetector's own client). Default false. */
  ownsClient?: boolean;
  /** Delay before retrying after an unexpected error (or a failed connect). Default 1000 ms. */
  retryDelayMs?: number;
}

export class LeaderDetector extends BaseDetector {
  readonly path: string;
  private readonly client: ZkClient;
  private readonly log: Logger;
  private readonly ownsClient: boolean;
  private readonly retryDelayMs: number;
  private started = false;
  private loop?: Promise<void>;
  private dirty = false;
  private epoch = 0;
  private retryTimer?: NodeJS.Timeout;
  private leaderNode?: string;

  private readonly onConnected = (_e: ConnectedEvent) => void this.schedule();
  private readonly onExpired = () => {
    this.epoch++;
    this.leaderNode = undefined;
    this.setLeader(undefined);
  };
  private readonly onClientClosed = () => void this.close();

  constructor(options: LeaderDetectorOptions) {
    super();
    this.client = options.client;
    this.path = options.path;
    this.ownsClient = options.ownsClient ?? false;
    this.retryDelayMs = options.retryDelayMs ?? 1000;
    this.log = (options.logger ?? pino({ level: 'silent' })).child({
      component: 'leader-detector',
      path: options.path,
    });
  }

  /** Starts following; resolves after the first look at the tree (connecting the client if needed). */
  async start(): Promise<void> {
    if (this.closed) throw new DetectorClosedError();
    if (this.started) return;
    this.started = true;
    // Listen first: if the first connect() times out, a later connection still starts the detection.
    this.client.on('connected', this.onConnected);
    this.client.on('expired', this.onExpired);
    this.client.on('closed', this.onClientClosed);
    if (!this.client.connected) await this.client.connect();
    await this.schedule();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.epoch++;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.client.off('connected', this.onConnected);
    this.client.off('expired', this.onExpired);
    this.client.off('closed', this.onClientClosed);
    this.rejectWaiters();
    if (this.ownsClient) await this.client.close();
  }

  /** Runs `read` until nothing new happened while it ran; never two at once. Resolves when idle. */
  private schedule(): Promise<void> {
    this.dirty = true;
    if (this.closed) return Promise.resolve();
    if (!this.loop) {
      this.loop = (async () => {
        await Promise.resolve(); // let `this.loop` be assigned before the loop can end
        try {
          while (this.dirty && !this.closed) {
            this.dirty = false;
            if (!this.client.connected) break;
            try {
              await this.read(this.epoch);
            } catch (err) {
              if (this.closed) break;
              if (isZkError(err) && err.isConnectionError) {
                this.log.debug({ err }, 'detection interrupted by the connection');
              } else {
                this.log.error({ err }, 'detection failed; retrying');
                this.retryLater();
              }
            }
          }
        } finally {
          this.loop = undefined;
        }
      })();
    }
    return this.loop;
  }

  private retryLater(): void {
    if (this.retryTimer || this.closed) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.schedule();
    }, this.retryDelayMs);
  }

  private watch = (epoch: number) => () => {
    if (epoch === this.epoch) void this.schedule();
  };

  private async read(epoch: number): Promise<void> {
    let children: string[];
    try {
      children = await this.client.getChildren(this.path, this.watch(epoch));
    } catch (err) {
      if (isZkError(err, ZkErrorCode.NO_AUTH)) {
        throw new ZkNotAuthorizedError(
          `ZooKeeper node ${this.path} may not be read with these credentials; give the masters' credentials in the zk:// URL`,
        );
      }
      if (!isZkError(err, ZkErrorCode.NO_NODE)) throw err;
      // No election path yet: wait for it to be created.
      const stat = await this.client.exists(this.path, this.watch(epoch));
      if (epoch !== this.epoch) return;
      if (stat) this.dirty = true;
      this.leaderNode = undefined;
      this.setLeader(undefined);
      return;
    }
    if (epoch !== this.epoch) return;
    const members = sortedMembers(children, MASTER_INFO_LABEL);
    const lowest = members[0];
    if (!lowest) {
      this.leaderNode = undefined;
      this.setLeader(undefined);
      return;
    }
    if (lowest === this.leaderNode && this.leader) return;
    let text: string;
    try {
      text = (await this.client.get(joinPath(this.path, lowest))).data.toString('utf8');
    } catch (err) {
      if (isZkError(err, ZkErrorCode.NO_NODE)) {
        // Gone between the listing and the read; the children watch brings us back.
        this.dirty = true;
        return;
      }
      throw err;
    }
    if (epoch !== this.epoch) return;
    const info = parseMasterInfo(text);
    this.leaderNode = lowest;
    if (!info) {
      this.log.error({ node: lowest }, 'the leading node does not hold a MasterInfo JSON document');
      this.setLeader(undefined);
      return;
    }
    if (!sameMaster(this.leader, info)) this.log.info({ node: lowest, leader: info.pid }, 'detected a new leader');
    this.setLeader(info);
  }
}

/** The MasterInfo for a fixed `host:port` (also `master@host:port`; the port defaults to 5050). */
export function masterInfoFromAddress(flag: string): MasterInfo {
  let s = flag.trim();
  if (!s) throw new MasterAddressError(flag, 'empty');
  if (s.startsWith('http://')) s = s.slice('http://'.length).replace(/\/+$/, '');
  const at = s.indexOf('@');
  if (at >= 0) s = s.slice(at + 1);
  let host: string;
  let portText: string | undefined;
  if (s.startsWith('[')) {
    const close = s.indexOf(']');
    if (close < 0) throw new MasterAddressError(flag, "unclosed '['");
    host = s.slice(1, close);
    const rest = s.slice(close + 1);
    if (rest && !rest.startsWith(':')) throw new MasterAddressError(flag, `unexpected '${rest}'`);
    portText = rest ? rest.slice(1) : undefined;
  } else {
    const parts = s.split(':');
    if (parts.length > 2) throw new MasterAddressError(flag, 'too many colons (write IPv6 as [addr]:port)');
    host = parts[0];
    portText = parts[1];
  }
  if (!host || /[\s/]/.test(host)) throw new MasterAddressError(flag, 'no valid host');
  let port = 5050;
  if (portText !== undefined) {
    if (!/^[0-9]{1,5}$/.test(portText)) throw new MasterAddressError(flag, `port '${portText}' is not a number`);
    port = Number(portText);
    if (port < 1 || port > 65535) throw new MasterAddressError(flag, `port ${port} out of range`);
  }
  const hostPort = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  return {
    id: `static@${hostPort}`,
    pid: `master@${hostPort}`,
    hostname: host,
    port,
    address: { hostname: host, ip: isIP(host) ? host : '', port },
    version: '',
  };
}

/** A detector for one fixed master (standalone mode): it is always the leader. */
export class StaticDetector extends BaseDetector {
  constructor(master: string | MasterInfo) {
    super();
    const info = typeof master === 'string' ? masterInfoFromAddress(master) : master;
    this.leader = info;
    // Also announce it, for listeners attached right after construction.
    queueMicrotask(() => {
      if (!this.closed) this.emit('leader', info);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.rejectWaiters();
  }
}

export interface CreateDetectorOptions {
  logger?: Logger;
  sessionTimeoutMs?: number;
  connectTimeoutMs?: number;
}

/**
 * A detector for a `--master` flag: `zk://[user:pass@]host:2181[,...]/path` follows the election in
 * ZooKeeper (with its own client, connected in the background and retried until it succeeds or the
 * detector is closed); `host:port` is a fixed master.
 */
export function createDetector(masterFlag: string, opts: CreateDetectorOptions = {}): MasterDetector {
  if (!isZkUrl(masterFlag)) return new StaticDetector(masterFlag);
  const url = parseZkUrl(masterFlag);
  const client = new ZkClient({
    servers: url.servers,
    credentials: url.credentials,
    sessionTimeoutMs: opts.sessionTimeoutMs,
    connectTimeoutMs: opts.connectTimeoutMs,
    logger: opts.logger,
  });
  const detector = new LeaderDetector({ client, path: url.path, logger: opts.logger, ownsClient: true });
  const log = (opts.logger ?? pino({ level: 'silent' })).child({ component: 'leader-detector' });
  const begin = (): void => {
    detector.start().catch((err: unknown) => {
      if (isZkError(err, ZkErrorCode.CLOSED) || err instanceof DetectorClosedError) return;
      if (err instanceof ZkError && err.code === ZkErrorCode.CONNECT_TIMEOUT) {
        log.warn({ err: err.message }, 'ZooKeeper not reachable yet; retrying');
        // start() is one-shot; retry the connection and let the 'connected' event drive detection.
        const retry = (): void => {
          client.connect().catch((e: unknown) => {
            if (isZkError(e, ZkErrorCode.CLOSED)) return;
            log.warn({ err: (e as Error).message }, 'ZooKeeper not reachable yet; retrying');
            retry();
          });
        };
        retry();
        return;
      }
      log.error({ err }, 'master detection failed to start');
    });
  };
  begin();
  return detector;
}
