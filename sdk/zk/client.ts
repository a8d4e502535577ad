/**
 * A promise-based ZooKeeper client over the `zookeeper` npm package (a native addon around the C
 * client), with the session life cycle made explicit:
 *
 *   connect() ─▶ 'connected' ⇄ 'disconnected' ─(session timeout passes / server says so)─▶ 'expired'
 *                                                           └─ reconnectOnExpiry: a NEW session ─▶ 'connected'
 *
 * - `disconnected`: the connection dropped; the C client reconnects by itself and the session (with its
 *   ephemeral nodes and watches) survives if it comes back within the session timeout.
 * - `expired`: the session is gone, and with it every ephemeral node it owned. The C client only learns
 *   this when it reaches a server again, so (like Mesos's ZooKeeper group) we also expire the session
 *   locally once we have been disconnected for the session timeout (`expireAfterDisconnectMs`).
 *
 * Every failure is a `ZkError` whose `code` names the ZooKeeper return code (NO_NODE, NODE_EXISTS,
 * BAD_VERSION, CONNECTION_LOSS, SESSION_EXPIRED, ...). `close()` releases the native handle and every
 * timer, so a process that closes its clients exits by itself.
 */
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { type Logger, pino } from 'pino';
import { aclPolicy, OPEN_ACL, sameAcl, worldPerms, type ZkAcl, type ZkAclPolicy, ZkPerm } from './acl.js';
import { type FromWorker, type LogLevel, type ThreadLink, threadLink } from './thread-link.js';
import { parseZkUrl, redact, type ZkCredentials } from './url.js';

/** A session event of a client in the ZooKeeper thread, as the worker reports it. */
type SessionEventFromWorker = Extract<FromWorker, { t: 'event' }>;

// ---- errors ----------------------------------------------------------------------------------

/** Stable codes: one per ZooKeeper return code, plus the client's own (CLOSED, CONNECT_TIMEOUT, NOT_CONNECTED). */
export const ZkErrorCode = {
  SYSTEM_ERROR: 'SYSTEM_ERROR',
  RUNTIME_INCONSISTENCY: 'RUNTIME_INCONSISTENCY',
  DATA_INCONSISTENCY: 'DATA_INCONSISTENCY',
  CONNECTION_LOSS: 'CONNECTION_LOSS',
  MARSHALLING_ERROR: 'MARSHALLING_ERROR',
  UNIMPLEMENTED: 'UNIMPLEMENTED',
  OPERATION_TIMEOUT: 'OPERATION_TIMEOUT',
  BAD_ARGUMENTS: 'BAD_ARGUMENTS',
  INVALID_STATE: 'INVALID_STATE',
  API_ERROR: 'API_ERROR',
  NO_NODE: 'NO_NODE',
  NO_AUTH: 'NO_AUTH',
  BAD_VERSION: 'BAD_VERSION',
  NO_CHILDREN_FOR_EPHEMERALS: 'NO_CHILDREN_FOR_EPHEMERALS',
  NODE_EXISTS: 'NODE_EXISTS',
  NOT_EMPTY: 'NOT_EMPTY',
  SESSION_EXPIRED: 'SESSION_EXPIRED',
  INVALID_CALLBACK: 'INVALID_CALLBACK',
  INVALID_ACL: 'INVALID_ACL',
  AUTH_FAILED: 'AUTH_FAILED',
  CLOSING: 'CLOSING',
  NOTHING: 'NOTHING',
  SESSION_MOVED: 'SESSION_MOVED',
  NOT_READONLY: 'NOT_READONLY',
  /** The client was closed with close(). */
  CLOSED: 'CLOSED',
  /** connect() gave up. */
  CONNECT_TIMEOUT: 'CONNECT_TIMEOUT',
  /** An operation was called before connect() or while no session exists. */
  NOT_CONNECTED: 'NOT_CONNECTED',
  /** A node we created was changed by another client before its ACL was set (it was deleted). */
  TAMPERED: 'TAMPERED',
  UNKNOWN: 'UNKNOWN',
} as const;
export type ZkErrorCode = (typeof ZkErrorCode)[keyof typeof ZkErrorCode];

const RC_TO_CODE: Record<number, ZkErrorCode> = {
  [-1]: ZkErrorCode.SYSTEM_ERROR,
  [-2]: ZkErrorCode.RUNTIME_INCONSISTENCY,
  [-3]: ZkErrorCode.DATA_INCONSISTENCY,
  [-4]: ZkErrorCode.CONNECTION_LOSS,
  [-5]: ZkErrorCode.MARSHALLING_ERROR,
  [-6]: ZkErrorCode.UNIMPLEMENTED,
  [-7]: ZkErrorCode.OPERATION_TIMEOUT,
  [-8]: ZkErrorCode.BAD_ARGUMENTS,
  [-9]: ZkErrorCode.INVALID_STATE,
  [-100]: ZkErrorCode.API_ERROR,
  [-101]: ZkErrorCode.NO_NODE,
  [-102]: ZkErrorCode.NO_AUTH,
  [-103]: ZkErrorCode.BAD_VERSION,
  [-108]: ZkErrorCode.NO_CHILDREN_FOR_EPHEMERALS,
  [-110]: ZkErrorCode.NODE_EXISTS,
  [-111]: ZkErrorCode.NOT_EMPTY,
  [-112]: ZkErrorCode.SESSION_EXPIRED,
  [-113]: ZkErrorCode.INVALID_CALLBACK,
  [-114]: ZkErrorCode.INVALID_ACL,
  [-115]: ZkErrorCode.AUTH_FAILED,
  [-116]: ZkErrorCode.CLOSING,
  [-117]: ZkErrorCode.NOTHING,
  [-118]: ZkErrorCode.SESSION_MOVED,
  [-119]: ZkErrorCode.NOT_READONLY,
};

export class ZkError extends Error {
  constructor(
    readonly code: ZkErrorCode,
    message: string,
    /** The native return code, when the error came from ZooKeeper. */
    readonly rc?: number,
    readonly path?: string,
  ) {
    super(message);
    this.name = 'ZkError';
  }

  /** True for errors after which the operation's outcome is unknown or the session is gone. */
  get isConnectionError(): boolean {
    return (
      this.code === ZkErrorCode.CONNECTION_LOSS ||
      this.code === ZkErrorCode.SESSION_EXPIRED ||
      this.code === ZkErrorCode.OPERATION_TIMEOUT ||
      this.code === ZkErrorCode.CLOSING ||
      this.code === ZkErrorCode.NOT_CONNECTED ||
      this.code === ZkErrorCode.INVALID_STATE ||
      this.code === ZkErrorCode.SESSION_MOVED
    );
  }
}

export function isZkError(err: unknown, code?: ZkErrorCode): err is ZkError {
  return err instanceof ZkError && (code === undefined || err.code === code);
}

export function zkErrorFromRc(rc: number, op: string, path?: string): ZkError {
  const code = RC_TO_CODE[rc] ?? ZkErrorCode.UNKNOWN;
  const where = path === undefined ? '' : ` ${path}`;
  return new ZkError(code, `ZooKeeper ${op}${where} failed: ${code} (rc ${rc})`, rc, path);
}

// ---- the native package, typed by what we use ------------------------------------------------

interface NativeStat {
  czxid: number;
  mzxid: number;
  pzxid: number;
  ctime: Date | number;
  mtime: Date | number;
  version: number;
  cversion: number;
  aversion: number;
  ephemeralOwner: string;
  dataLength: number;
  numChildren: number;
}
/** As the addon reads and writes them (`a_set_acl` renames `perms` to the C field `perm`). */
interface NativeAclEntry {
  perms: number;
  scheme: string;
  auth: string;
}
type NativeWatcher = (type: number, state: number, path: string) => void;
interface NativeZooKeeper {
  on(event: 'connect' | 'connecting', listener: () => void): void;
  on(event: 'close', listener: (self: unknown, code: number) => void): void;
  init(config: Record<string, unknown>): unknown;
  close(): unknown;
  a_create(path: string, data: Buffer, flags: number, cb: (rc: number, err: string, path: string) => void): number;
  a_exists(path: string, watch: boolean, cb: (rc: number, err: string, stat: NativeStat) => void): number;
  aw_exists(path: string, w: NativeWatcher, cb: (rc: number, err: string, stat: NativeStat) => void): number;
  a_get(
    path: string,
    watch: boolean,
    cb: (rc: number, err: string, stat: NativeStat, data: Buffer | null) => void,
  ): number;
  aw_get(
    path: string,
    w: NativeWatcher,
    cb: (rc: number, err: string, stat: NativeStat, data: Buffer | null) => void,
  ): number;
  a_get_children(path: string, watch: boolean, cb: (rc: number, err: string, children: string[]) => void): number;
  aw_get_children(path: string, w: NativeWatcher, cb: (rc: number, err: string, children: string[]) => void): number;
  a_set(path: string, data: Buffer, version: number, cb: (rc: number, err: string, stat: NativeStat) => void): number;
  a_delete_(path: string, version: number, cb: (rc: number, err: string) => void): number;
  a_get_acl(
    path: string,
    cb: (rc: number, err: string, acl: NativeAclEntry[] | null, stat: NativeStat) => void,
  ): number;
  a_set_acl(path: string, version: number, acl: NativeAclEntry[], cb: (rc: number, err: string) => void): number;
  add_auth(scheme: string, auth: string, cb: (rc: number, err: string) => void): number;
  readonly timeout: number;
  readonly client_id: string;
  readonly client_password: string;
}
type NativeCtor = new (config: Record<string, unknown>) => NativeZooKeeper;

let nativeCtor: NativeCtor | undefined;
/** Loads the addon on first use, so that modules importing this file do not need it unless they connect. */
function loadNative(): NativeCtor {
  if (!nativeCtor) {
    const require = createRequire(import.meta.url);
    nativeCtor = require('zookeeper') as NativeCtor;
  }
  return nativeCtor;
}

const ZOO_EXPIRED_SESSION_STATE = -112;
const ZOO_AUTH_FAILED_STATE = -113;
const RC_CLOSING = -116;

// ---- public types ----------------------------------------------------------------------------

export const CreateMode = {
  PERSISTENT: 0,
  EPHEMERAL: 1,
  PERSISTENT_SEQUENTIAL: 2,
  EPHEMERAL_SEQUENTIAL: 3,
} as const;
export type CreateMode = (typeof CreateMode)[keyof typeof CreateMode];

export interface ZkStat {
  version: number;
  cversion: number;
  aversion: number;
  czxid: number;
  mzxid: number;
  pzxid: number;
  /** Server time of creation / last change, in ms since the epoch. */
  ctime: number;
  mtime: number;
  /** The owning session's id (hex, as `ZkClient.sessionId`) for an ephemeral node; undefined otherwise. */
  ephemeralOwner?: string;
  dataLength: number;
  numChildren: number;
}

export type WatchEventType = 'created' | 'deleted' | 'changed' | 'child' | 'session' | 'not_watching';
export interface WatchEvent {
  type: WatchEventType;
  path: string;
}
export type Watcher = (event: WatchEvent) => void;

export type ZkClientState = 'idle' | 'connecting' | 'connected' | 'disconnected' | 'expired' | 'closed';

export interface ZkClientOptions {
  /** Comma-separated `host:port` list (the `servers` of a parsed zk:// URL). */
  servers: string;
  /** Requested session timeout; the server clamps it to [2, 20] ticks unless configured otherwise. Default 10 s. */
  sessionTimeoutMs?: number;
  /** How long connect() waits for the first session. Default: 2 × the session timeout. */
  connectTimeoutMs?: number;
  /** After the session expires, open a new one (and emit 'connected' with newSession=true). Default true. */
  reconnectOnExpiry?: boolean;
  /**
   * Declare the session expired after being disconnected this long, without waiting for a server to
   * say so (Mesos does the same). Default: the negotiated session timeout. 0 disables it.
   */
  expireAfterDisconnectMs?: number;
  /** Digest credentials (from `zk://user:pass@...`), added to every session. */
  credentials?: ZkCredentials;
  /** Attach to an existing session instead of opening a new one (used by tests to force an expiry). */
  session?: { id: string; password: string };
  logger?: Logger;
  /** The C client's own stderr logging (0 = off, 1 = errors ... 4 = debug). Default 0. */
  nativeLogLevel?: 0 | 1 | 2 | 3 | 4;
  /**
   * Where the native session runs. 'worker': in the process's ZooKeeper thread (one shared
   * worker_threads Worker), so that a busy event loop cannot delay its pings and cost it the session;
   * this object forwards calls and replays events. 'main': on this thread's event loop. Default:
   * `DEFAULT_ZK_THREAD` (docs/zookeeper.md, "The session's own thread").
   */
  thread?: ZkThread;
}

export type ZkThread = 'worker' | 'main';
/** The default `thread` of ZkClientOptions; the environment variable AGORA_ZK_THREAD overrides it. */
export const DEFAULT_ZK_THREAD: ZkThread = 'worker';

function chooseThread(option: ZkThread | undefined): ZkThread {
  if (option) return option;
  const env = process.env.AGORA_ZK_THREAD;
  return env === 'main' || env === 'worker' ? env : DEFAULT_ZK_THREAD;
}

const LOG_LEVELS: LogLevel[] = ['debug', 'info', 'warn', 'error'];

export interface ConnectedEvent {
  sessionId: string;
  /** True when this is a different session from the previous 'connected' (ephemeral nodes are gone). */
  newSession: boolean;
}
export interface ExpiredEvent {
  sessionId: string;
  /** 'server': ZooKeeper said so; 'local': disconnected longer than expireAfterDisconnectMs. */
  reason: 'server' | 'local';
}

export interface ZkClientEvents {
  connected: [ConnectedEvent];
  disconnected: [];
  expired: [ExpiredEvent];
  closed: [];
}

interface Waiter {
  resolve: () => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/** A native handle and why it ended (to translate the CLOSING errors of its pending calls). */
interface Handle {
  zk: NativeZooKeeper;
  ended?: 'expired' | 'closed';
}

const WATCH_TYPES: Record<number, WatchEventType> = {
  1: 'created',
  2: 'deleted',
  3: 'changed',
  4: 'child',
  [-1]: 'session',
  [-2]: 'not_watching',
};

export class ZkClient extends EventEmitter<ZkClientEvents> {
  readonly servers: string;
  readonly sessionTimeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly reconnectOnExpiry: boolean;
  private readonly expireAfterDisconnectMs: number | undefined;
  /** A private field, so that logging or serialising the client never shows the password. */
  readonly #credentials?: ZkCredentials;
  /** Private (like the credentials): it holds the credentials' digest. */
  readonly #acls: ZkAclPolicy;
  /** Nodes created whose ACL could not be set (the connection dropped): fixed on reconnection. */
  private readonly aclPending = new Map<string, ZkAcl>();
  private readonly log: Logger;
  private readonly nativeLogLevel: number;
  private attach?: { id: string; password: string };

  private handle?: Handle;
  private _state: ZkClientState = 'idle';
  private lastSessionId?: string;
  private everConnected = false;
  private waiters: Waiter[] = [];
  private expireTimer?: NodeJS.Timeout;
  /** Set when the session runs in the ZooKeeper thread: the link and this client's id there. */
  private readonly remote?: { link: ThreadLink; id: number };
  private remotePassword?: string;
  private remoteTimeoutMs?: number;
  private remoteClosedEmitted = false;

  constructor(options: ZkClientOptions) {
    super();
    if (!options.servers?.trim()) throw new TypeError('ZkClient: servers is required');
    this.servers = options.servers;
    this.sessionTimeoutMs = options.sessionTimeoutMs ?? 10_000;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 2 * this.sessionTimeoutMs;
    this.reconnectOnExpiry = options.reconnectOnExpiry ?? true;
    this.expireAfterDisconnectMs = options.expireAfterDisconnectMs;
    this.#credentials = options.credentials;
    this.#acls = aclPolicy(options.credentials);
    this.attach = options.session;
    this.log = (options.logger ?? pino({ level: 'silent' })).child({ component: 'zk-client' });
    this.nativeLogLevel = options.nativeLogLevel ?? 0;
    if (chooseThread(options.thread) === 'worker') {
      const { logger: _logger, thread: _thread, ...plain } = options;
      const levels = LOG_LEVELS.filter((l) => this.log.isLevelEnabled(l));
      const link = threadLink();
      const id = link.open(plain as Record<string, unknown>, levels, {
        event: (m) => this.onRemoteEvent(m),
        log: (level, obj, msg) => this.log[level](obj, msg),
      });
      this.remote = { link, id };
    }
  }

  /** A client for a `zk://` URL, and the URL's path. */
  static fromUrl(
    url: string,
    options: Omit<ZkClientOptions, 'servers' | 'credentials'> = {},
  ): { client: ZkClient; path: string } {
    const parsed = parseZkUrl(url);
    return {
      client: new ZkClient({ ...options, servers: parsed.servers, credentials: parsed.credentials }),
      path: parsed.path,
    };
  }

  /** The ACLs for the nodes this client creates: open without credentials, owned by them with. */
  get acls(): ZkAclPolicy {
    return this.#acls;
  }

  get state(): ZkClientState {
    return this._state;
  }
  get connected(): boolean {
    return this._state === 'connected';
  }
  /** The current session's id (hex), once connected. */
  get sessionId(): string | undefined {
    return this.lastSessionId;
  }
  /** The current session's password (hex); with sessionId it lets another client attach to the session. */
  get sessionPassword(): string | undefined {
    if (this.remote) return this.remotePassword;
    return this.handle && this.everConnected ? this.handle.zk.client_password : undefined;
  }
  /** The session timeout the server granted (the requested one until connected). */
  get negotiatedSessionTimeoutMs(): number {
    if (this.remote) return this.remoteTimeoutMs || this.sessionTimeoutMs;
    return this.handle && this.everConnected ? this.handle.zk.timeout : this.sessionTimeoutMs;
  }

  /** Opens the session (if not yet) and resolves once connected; rejects with CONNECT_TIMEOUT naming the servers. */
  connect(): Promise<void> {
    if (this._state === 'closed') return Promise.reject(this.closedError('connect'));
    if (this._state === 'connected') return Promise.resolve();
    if (this.remote) return this.remoteConnect(this.remote);
    if (!this.handle) this.openSession();
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters = this.waiters.filter((w) => w !== waiter);
          // Never connected at all: drop the attempt, so that nothing keeps the process alive.
          if (!this.everConnected && this.waiters.length === 0) this.dropHandle('closed');
          reject(
            new ZkError(
              ZkErrorCode.CONNECT_TIMEOUT,
              `could not connect to ZooKeeper at ${this.servers} within ${this.connectTimeoutMs} ms`,
            ),
          );
        }, this.connectTimeoutMs),
      };
      this.waiters.push(waiter);
    });
  }

  /** Ends the session (its ephemeral nodes go at once) and releases the native handle and timers. */
  async close(): Promise<void> {
    if (this._state === 'closed') return;
    if (this.remote) return this.remoteClose(this.remote);
    this._state = 'closed';
    this.clearExpireTimer();
    this.dropHandle('closed');
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) {
      clearTimeout(w.timer);
      w.reject(this.closedError('connect'));
    }
    this.emit('closed');
  }

  // ---- operations ----------------------------------------------------------------------------

  /**
   * Creates a node with `acl` (default: `acls.private`, which is the open ACL without credentials);
   * resolves with its actual path (with the sequence suffix for sequential modes).
   */
  async create(
    path: string,
    data: Buffer | string = '',
    mode: CreateMode = CreateMode.PERSISTENT,
    acl: ZkAcl = this.acls.private,
  ): Promise<string> {
    if (this.remote) return this.forward('create', path, [path, data, mode, acl]);
    if (sameAcl(acl, OPEN_ACL)) return this.createOpen(path, toBuffer(data), mode);
    return (await this.createNode(path, data, mode, acl)).path;
  }

  /**
   * Creates a node and resolves with its path and stat. The addon can only create open nodes, so a
   * node with another ACL is created open, then sealed (`seal`); data that others may not read is
   * written only after that (create empty, seal, set data at version 0). A node that another client
   * changed while it was open is deleted (TAMPERED); a node whose data another holder of the
   * credentials set first gives NODE_EXISTS. If the connection drops before the node is sealed, it
   * is sealed (or deleted) on reconnection.
   */
  async createNode(
    path: string,
    data: Buffer | string = '',
    mode: CreateMode = CreateMode.PERSISTENT,
    acl: ZkAcl = this.acls.private,
  ): Promise<{ path: string; stat: ZkStat }> {
    if (this.remote) return this.forward('createNode', path, [path, data, mode, acl]);
    const bytes = toBuffer(data);
    if (sameAcl(acl, OPEN_ACL)) {
      const created = await this.createOpen(path, bytes, mode);
      const stat = await this.exists(created);
      if (!stat) throw zkErrorFromRc(-101, 'create', created);
      return { path: created, stat };
    }
    const hidden = bytes.length > 0 && (worldPerms(acl) & ZkPerm.READ) === 0;
    const created = await this.createOpen(path, hidden ? Buffer.alloc(0) : bytes, mode);
    this.aclPending.set(created, acl);
    let stat: ZkStat;
    try {
      stat = await this.seal(created, acl);
    } catch (err) {
      if (!(isZkError(err) && err.isConnectionError)) this.aclPending.delete(created);
      throw err;
    }
    this.aclPending.delete(created);
    if (!hidden) return { path: created, stat };
    try {
      return { path: created, stat: await this.set(created, bytes, 0) };
    } catch (err) {
      if (!isZkError(err, ZkErrorCode.BAD_VERSION)) throw err;
      throw new ZkError(ZkErrorCode.NODE_EXISTS, `ZooKeeper create ${created}: written by another client first`);
    }
  }

  /**
   * Gives a node that was created open (ACL version 0) the ACL `acl`, if nobody changed it while it
   * was open; otherwise deletes it and throws TAMPERED. If another holder of the credentials sealed
   * it first (our ACL version check fails but the ACL is `acl`), that is fine. Resolves with its stat.
   */
  async seal(path: string, acl: ZkAcl): Promise<ZkStat> {
    if (this.remote) return this.forward('seal', path, [path, acl]);
    let ours = true;
    try {
      await this.setAcl(path, acl, 0);
    } catch (err) {
      if (!isZkError(err, ZkErrorCode.BAD_VERSION)) throw err;
      // Set by someone else meanwhile (another master sealing it, or not): make it ours again. Its ACL
      // is not read, as the addon crashes on a getACL that fails.
      const now = await this.exists(path);
      if (!now) throw zkErrorFromRc(-101, 'seal', path);
      try {
        await this.setAcl(path, acl, now.aversion);
      } catch (e) {
        if (isZkError(e, ZkErrorCode.NO_AUTH)) throw await this.tampered(path, 'its ACL was changed to exclude us');
        throw e;
      }
      ours = false;
    }
    const stat = await this.exists(path);
    if (!stat) throw zkErrorFromRc(-101, 'seal', path);
    if (ours && (stat.version !== 0 || stat.cversion !== 0))
      throw await this.tampered(path, 'its data or children were changed while it was open');
    return stat;
  }

  private async tampered(path: string, why: string): Promise<ZkError> {
    this.log.error({ path }, `deleting a node another client changed before its ACL was set: ${why}`);
    await this.delete(path).catch((err: unknown) => this.log.warn({ err, path }, 'could not delete the node'));
    return new ZkError(ZkErrorCode.TAMPERED, `ZooKeeper node ${path} was changed while open (${why}); deleted`);
  }

  private createOpen(path: string, data: Buffer, mode: CreateMode): Promise<string> {
    return this.call<string>('create', path, (zk, done) =>
      zk.a_create(path, data, mode, (rc, _e, created) => done(rc, created)),
    );
  }

  /**
   * The node's ACL and stat (its `aversion` is the ACL's version). Beware: the addon (v7) crashes the
   * process when a getACL fails (NO_NODE, NO_AUTH, a lost connection), so Agora itself never calls
   * this; it is for tools and tests, on nodes known to exist and be readable.
   */
  getAcl(path: string): Promise<{ acl: ZkAcl; stat: ZkStat }> {
    if (this.remote) return this.forward('getAcl', path, [path]);
    return this.call('getAcl', path, (zk, done) =>
      zk.a_get_acl(path, (rc, _e, acl, stat) =>
        done(
          rc,
          rc === 0
            ? { acl: (acl ?? []).map((e) => ({ perms: e.perms, scheme: e.scheme, id: e.auth })), stat: toStat(stat) }
            : undefined,
        ),
      ),
    );
  }

  /** Replaces the node's ACL if its ACL version is `aversion` (-1: any); BAD_VERSION otherwise. */
  setAcl(path: string, acl: ZkAcl, aversion = -1): Promise<void> {
    if (acl.length === 0) return Promise.reject(new ZkError(ZkErrorCode.INVALID_ACL, 'an empty ACL', undefined, path));
    if (this.remote) return this.forward('setAcl', path, [path, acl, aversion]);
    const native = acl.map((e) => ({ perm: e.perms, perms: e.perms, scheme: e.scheme, auth: e.id }));
    return this.call<void>('setAcl', path, (zk, done) =>
      zk.a_set_acl(path, aversion, native, (rc) => done(rc, undefined)),
    );
  }

  /** The node's data and stat; rejects with NO_NODE if absent. `watcher` fires once on change/deletion. */
  get(path: string, watcher?: Watcher): Promise<{ data: Buffer; stat: ZkStat }> {
    if (this.remote)
      return this.forward<{ data: Uint8Array; stat: ZkStat }>('get', path, [path], watcher).then((r) => ({
        data: toNodeBuffer(r.data),
        stat: r.stat,
      }));
    return this.call('get', path, (zk, done) => {
      const cb = (rc: number, _e: string, stat: NativeStat, data: Buffer | null) =>
        done(rc, rc === 0 ? { data: data ?? Buffer.alloc(0), stat: toStat(stat) } : undefined);
      return watcher ? zk.aw_get(path, this.wrapWatcher(watcher), cb) : zk.a_get(path, false, cb);
    });
  }

  /** Sets the data if the node's version is `version` (-1: any); resolves with the new stat; BAD_VERSION otherwise. */
  set(path: string, data: Buffer | string, version = -1): Promise<ZkStat> {
    if (this.remote) return this.forward('set', path, [path, data, version]);
    return this.call('set', path, (zk, done) =>
      zk.a_set(path, toBuffer(data), version, (rc, _e, stat) => done(rc, rc === 0 ? toStat(stat) : undefined)),
    );
  }

  /** The node's stat, or undefined if absent. `watcher` fires once on creation, change or deletion. */
  exists(path: string, watcher?: Watcher): Promise<ZkStat | undefined> {
    if (this.remote) return this.forward('exists', path, [path], watcher);
    return this.call('exists', path, (zk, done) => {
      const cb = (rc: number, _e: string, stat: NativeStat) => {
        if (rc === -101) done(0, undefined);
        else done(rc, rc === 0 ? toStat(stat) : undefined);
      };
      return watcher ? zk.aw_exists(path, this.wrapWatcher(watcher), cb) : zk.a_exists(path, false, cb);
    });
  }

  /** The names (not paths) of the node's children. `watcher` fires once when they change or the node goes. */
  getChildren(path: string, watcher?: Watcher): Promise<string[]> {
    if (this.remote) return this.forward('getChildren', path, [path], watcher);
    return this.call('getChildren', path, (zk, done) => {
      const cb = (rc: number, _e: string, children: string[]) => done(rc, rc === 0 ? (children ?? []) : undefined);
      return watcher ? zk.aw_get_children(path, this.wrapWatcher(watcher), cb) : zk.a_get_children(path, false, cb);
    });
  }

  /** Deletes the node if its version is `version` (-1: any). */
  delete(path: string, version = -1): Promise<void> {
    if (this.remote) return this.forward('delete', path, [path, version]);
    return this.call<void>('delete', path, (zk, done) => zk.a_delete_(path, version, (rc) => done(rc, undefined)));
  }

  /** Creates the node and any missing ancestors (persistent, empty, with `acl`); fine if they exist. */
  async mkdirp(path: string, acl: ZkAcl = this.acls.private): Promise<void> {
    if (this.remote) return this.forward('mkdirp', path, [path, acl]);
    assertPath(path);
    if (path === '/') return;
    if (await this.exists(path)) return;
    const segments = path.split('/').slice(1);
    let current = '';
    for (const segment of segments) {
      current += `/${segment}`;
      try {
        await this.create(current, '', CreateMode.PERSISTENT, acl);
      } catch (err) {
        if (!isZkError(err, ZkErrorCode.NODE_EXISTS)) throw err;
      }
    }
  }

  // ---- the session in the ZooKeeper thread ---------------------------------------------------

  private async remoteConnect(remote: { link: ThreadLink; id: number }): Promise<void> {
    remote.link.hold(remote.id, true);
    if (this._state === 'idle') this._state = 'connecting';
    try {
      await this.forward<void>('connect', undefined, []);
    } catch (err) {
      // Never connected (the worker dropped the attempt): nothing left to keep the process alive for.
      if (!this.everConnected && this._state !== 'closed') {
        this._state = 'idle';
        remote.link.hold(remote.id, false);
      }
      throw err;
    }
  }

  private async remoteClose(remote: { link: ThreadLink; id: number }): Promise<void> {
    // Closed at once, as the in-thread client is; 'closed' is emitted when the worker has closed it.
    this._state = 'closed';
    try {
      await this.forward<void>('close', undefined, []);
    } catch (err) {
      this.log.debug({ err }, 'closing the client in the ZooKeeper thread failed');
    }
    // The worker's 'closed' event came first (and was replayed); if the worker was gone, say it here.
    if (!this.remoteClosedEmitted) {
      this.remoteClosedEmitted = true;
      this.emit('closed');
    }
    remote.link.forget(remote.id);
  }

  /** Replays a session event of the client in the ZooKeeper thread, in the order it happened there. */
  private onRemoteEvent(m: SessionEventFromWorker): void {
    if (this._state === 'closed' && m.name !== 'closed') return;
    this._state = m.state as ZkClientState;
    if (m.sessionId !== undefined) this.lastSessionId = m.sessionId;
    this.remotePassword = m.sessionPassword;
    if (m.negotiatedSessionTimeoutMs) this.remoteTimeoutMs = m.negotiatedSessionTimeoutMs;
    switch (m.name) {
      case 'connected':
        this.everConnected = true;
        this.emit('connected', m.data as ConnectedEvent);
        return;
      case 'disconnected':
        this.emit('disconnected');
        return;
      case 'expired':
        this.emit('expired', m.data as ExpiredEvent);
        return;
      case 'closed':
        this._state = 'closed';
        if (!this.remoteClosedEmitted) {
          this.remoteClosedEmitted = true;
          this.emit('closed');
        }
        return;
    }
  }

  /** Runs `op` on the client in the ZooKeeper thread; its failures come back as the same ZkErrors. */
  private async forward<T>(op: string, path: string | undefined, args: unknown[], watcher?: Watcher): Promise<T> {
    const remote = this.remote;
    if (!remote) throw new Error('ZkClient.forward without a ZooKeeper thread');
    if (this._state === 'closed' && op !== 'close') throw this.closedError(op, path);
    const onWatch = watcher
      ? (e: { type: string; path: string }) => {
          try {
            watcher({ type: e.type as WatchEventType, path: e.path });
          } catch (err) {
            this.log.error({ err, path: e.path }, 'a ZooKeeper watcher threw');
          }
        }
      : undefined;
    try {
      return (await remote.link.call(remote.id, op, args, onWatch)) as T;
    } catch (err) {
      const e = err as { code?: string; message?: string; rc?: number; path?: string };
      const code = (e.code && e.code in ZkErrorCode ? e.code : ZkErrorCode.UNKNOWN) as ZkErrorCode;
      throw new ZkError(code, e.message ?? String(err), e.rc, e.path);
    }
  }

  // ---- session life cycle --------------------------------------------------------------------

  private openSession(): void {
    const Native = loadNative();
    const config: Record<string, unknown> = {
      connect: this.servers,
      timeout: this.sessionTimeoutMs,
      debug_level: this.nativeLogLevel,
      host_order_deterministic: false,
      // The addon closes the handle (as if the session expired) after 10 reads that return no complete
      // reply, which a large (~1 MB) node takes; we detect dead connections through the session instead.
      response_counter_limit: 2 ** 30,
    };
    if (this.attach) {
      config.client_id = this.attach.id;
      config.client_password = this.attach.password;
      this.attach = undefined;
    }
    const zk = new Native(config);
    const handle: Handle = { zk };
    this.handle = handle;
    this._state = 'connecting';
    zk.on('connect', () => this.onNativeConnect(handle));
    zk.on('connecting', () => this.onNativeConnecting(handle));
    zk.on('close', (_self, code) => this.onNativeClose(handle, code));
    this.log.debug({ servers: this.servers }, 'opening a ZooKeeper session');
    zk.init({});
    if (this.#credentials) {
      // Added before the session exists: the C client sends it first on every (re)connection of this
      // handle, ahead of any queued request. A new session gets a new handle, and this again.
      const { username, password } = this.#credentials;
      const rc = zk.add_auth('digest', `${username}:${password}`, (authRc) => {
        if (authRc !== 0) this.log.error({ rc: authRc, user: username }, 'ZooKeeper rejected the digest credentials');
      });
      if (rc !== 0) this.log.error({ rc, user: username }, 'could not add the digest credentials to the session');
    }
  }

  private onNativeConnect(handle: Handle): void {
    if (handle !== this.handle || handle.ended) return;
    this.clearExpireTimer();
    const sessionId = handle.zk.client_id;
    const newSession = sessionId !== this.lastSessionId;
    this.lastSessionId = sessionId;
    this.everConnected = true;
    const announce = () => {
      if (handle !== this.handle || handle.ended) return;
      this._state = 'connected';
      this.log.info({ sessionId, newSession, timeoutMs: handle.zk.timeout }, 'connected to ZooKeeper');
      const waiters = this.waiters;
      this.waiters = [];
      for (const w of waiters) {
        clearTimeout(w.timer);
        w.resolve();
      }
      this.emit('connected', { sessionId, newSession });
    };
    announce();
    if (this.aclPending.size > 0) void this.sealPending();
  }

  /** Seals the nodes whose creation was interrupted before their ACL was set. */
  private async sealPending(): Promise<void> {
    for (const [path, acl] of [...this.aclPending]) {
      if (!this.connected) return;
      try {
        const stat = await this.exists(path);
        if (stat && stat.aversion === 0) await this.seal(path, acl);
        this.aclPending.delete(path);
      } catch (err) {
        if (isZkError(err) && err.isConnectionError) return;
        this.aclPending.delete(path);
        this.log.warn({ err, path }, 'could not set the ACL of a node created before the connection dropped');
      }
    }
  }

  private onNativeConnecting(handle: Handle): void {
    if (handle !== this.handle || handle.ended) return;
    if (this._state !== 'connected') return;
    this._state = 'disconnected';
    this.log.warn({ sessionId: this.lastSessionId, servers: this.servers }, 'disconnected from ZooKeeper');
    const after = this.expireAfterDisconnectMs ?? handle.zk.timeout ?? this.sessionTimeoutMs;
    if (after > 0) {
      this.clearExpireTimer();
      this.expireTimer = setTimeout(() => {
        this.expireTimer = undefined;
        if (handle === this.handle && this._state === 'disconnected') this.expire('local');
      }, after);
    }
    this.emit('disconnected');
  }

  private onNativeClose(handle: Handle, code: number): void {
    if (handle !== this.handle || handle.ended) return;
    if (code === ZOO_EXPIRED_SESSION_STATE) {
      this.expire('server');
    } else if (code === ZOO_AUTH_FAILED_STATE) {
      this.log.error({ servers: this.servers }, 'ZooKeeper authentication failed; closing the client');
      void this.close();
    } else {
      // Closed underneath us for another reason: treat like an expiry (the session is unusable).
      this.expire('server');
    }
  }

  private expire(reason: 'server' | 'local'): void {
    const sessionId = this.lastSessionId ?? '';
    this.clearExpireTimer();
    this.dropHandle('expired');
    this._state = 'expired';
    this.log.warn({ sessionId, reason }, 'ZooKeeper session expired');
    this.emit('expired', { sessionId, reason });
    if (this.reconnectOnExpiry && this._state === 'expired') this.openSession();
  }

  private dropHandle(why: 'expired' | 'closed'): void {
    const handle = this.handle;
    this.handle = undefined;
    if (!handle || handle.ended) return;
    handle.ended = why;
    try {
      handle.zk.close();
    } catch (err) {
      this.log.debug({ err }, 'closing the native handle failed');
    }
    if (!this.everConnected && this._state !== 'closed') this._state = 'idle';
  }

  private clearExpireTimer(): void {
    if (this.expireTimer) clearTimeout(this.expireTimer);
    this.expireTimer = undefined;
  }

  // ---- plumbing ------------------------------------------------------------------------------

  private call<T>(
    op: string,
    path: string,
    invoke: (zk: NativeZooKeeper, done: (rc: number, result: T | undefined) => void) => number,
  ): Promise<T> {
    try {
      assertPath(path);
    } catch (err) {
      return Promise.reject(err);
    }
    const handle = this.handle;
    if (this._state === 'closed') return Promise.reject(this.closedError(op, path));
    if (!handle) {
      const code = this._state === 'expired' ? ZkErrorCode.SESSION_EXPIRED : ZkErrorCode.NOT_CONNECTED;
      return Promise.reject(
        new ZkError(code, `ZooKeeper ${op} ${path}: no session (state ${this._state})`, undefined, path),
      );
    }
    return new Promise<T>((resolve, reject) => {
      const fail = (rc: number) => {
        if (rc === RC_CLOSING || rc === -9) {
          if (handle.ended === 'closed' || this._state === 'closed') return reject(this.closedError(op, path));
          if (handle.ended === 'expired') return reject(zkErrorFromRc(ZOO_EXPIRED_SESSION_STATE, op, path));
        }
        reject(zkErrorFromRc(rc, op, path));
      };
      let rc: number;
      try {
        rc = invoke(handle.zk, (cbRc, result) => (cbRc === 0 ? resolve(result as T) : fail(cbRc)));
      } catch (err) {
        return reject(
          new ZkError(ZkErrorCode.BAD_ARGUMENTS, `ZooKeeper ${op} ${path}: ${String(err)}`, undefined, path),
        );
      }
      if (typeof rc === 'number' && rc !== 0) fail(rc);
    });
  }

  private wrapWatcher(watcher: Watcher): NativeWatcher {
    return (type, _state, path) => {
      try {
        watcher({ type: WATCH_TYPES[type] ?? 'session', path });
      } catch (err) {
        this.log.error({ err, path }, 'a ZooKeeper watcher threw');
      }
    };
  }

  private closedError(op: string, path?: string): ZkError {
    return new ZkError(
      ZkErrorCode.CLOSED,
      `ZooKeeper ${op}${path ? ` ${path}` : ''}: the client is closed`,
      undefined,
      path,
    );
  }
}

function toBuffer(data: Buffer | string): Buffer {
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
}

function toNodeBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

function toMillis(t: Date | number): number {
  return t instanceof Date ? t.getTime() : Number(t);
}

function toStat(s: NativeStat): ZkStat {
  const owner = s.ephemeralOwner;
  return {
    version: s.version,
    cversion: s.cversion,
    aversion: s.aversion,
    czxid: s.czxid,
    mzxid: s.mzxid,
    pzxid: s.pzxid,
    ctime: toMillis(s.ctime),
    mtime: toMillis(s.mtime),
    ephemeralOwner: owner && owner !== '0' ? owner : undefined,
    dataLength: s.dataLength,
    numChildren: s.numChildren,
  };
}

/** ZooKeeper paths: absolute, no trailing slash (except `/`), no empty, `.` or `..` segments. */
export function assertPath(path: string): void {
  const bad = (why: string) =>
    new ZkError(ZkErrorCode.BAD_ARGUMENTS, `bad ZooKeeper path '${path}': ${why}`, undefined, path);
  if (typeof path !== 'string' || !path.startsWith('/')) throw bad('it must start with /');
  if (path === '/') return;
  if (path.endsWith('/')) throw bad('trailing /');
  for (const segment of path.slice(1).split('/')) {
    if (!segment) throw bad('empty segment');
    if (segment === '.' || segment === '..') throw bad(`'${segment}' segment`);
    if (segment.includes('\u0000')) throw bad('NUL character');
  }
}

/** Joins ZooKeeper path parts: joinPath('/agora', 'state', 'x') → '/agora/state/x'. */
export function joinPath(base: string, ...parts: string[]): string {
  let out = base === '/' ? '' : base;
  for (const part of parts) if (part) out += `/${part}`;
  return out || '/';
}

export { redact as redactZkUrl };
