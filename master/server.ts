/**
 * Starts a master: the fastify HTTP server for the operator API, the WebSocket endpoints for
 * agents and schedulers on the same port, the registrar's Store, and either a ZooKeeper election
 * (`--zk`) or standalone leadership.
 */
import type { FastifyInstance } from 'fastify';
import type pino from 'pino';
import { AGENT_CONNECT, SCHEDULER_CONNECT } from '../sdk/auth/index.js';
import type { Authorizer } from '../sdk/http/index.js';
import { AGENT_WS_PATH, Direction, SCHEDULER_WS_PATH } from '../sdk/protocol/messages.js';
import type { MasterInfo } from '../sdk/protocol/types.js';
import { FileStore, type Store, ZkStore } from '../sdk/store/index.js';
import { type ServerTls, secureServer } from '../sdk/tls/index.js';
import { attachWebSocketServer } from '../sdk/transport/index.js';
import { systemClock } from '../sdk/util/clock.js';
import { joinPath, LeaderDetector, LeaderElection, redactZkUrl, ZkClient } from '../sdk/zk/index.js';
import { allocate } from './allocator/index.js';
import { buildMasterHttp, OperatorEventStream, SCHEDULER_BACKPRESSURE } from './http/index.js';
import { Master, type MasterOptions } from './master.js';
import { Registrar } from './registrar.js';
import { SecretStore, SecretsDelivery } from './secrets/index.js';

export { AGENT_WS_PATH, SCHEDULER_WS_PATH } from '../sdk/protocol/messages.js';

/** Pending connections the kernel may queue before the master accepts them. */
export const LISTEN_BACKLOG = 65_535;

export interface MasterServerOptions extends Omit<MasterOptions, 'allocate' | 'registrar' | 'leaderInfo'> {
  host?: string;
  allocate?: MasterOptions['allocate'];
  maxFrameBytes?: number;
  heartbeatIntervalMs?: number;
  /** Where the standalone registrar keeps its files. */
  workDir: string;
  /** `zk://host:2181/agora`: elect the leader and keep the registrar in ZooKeeper. */
  zk?: string;
  zkSessionTimeoutMs?: number;
  /** Who may do what over HTTP (sdk/http/auth.ts); everyone by default. */
  authorizer?: Authorizer;
  /** Serve TLS (sdk/tls); with requireClientCert, agents must present a certificate. */
  tls?: ServerTls;
  /** The AES-256 key of the secret store (`--secrets_key_file`); absent: secrets are disabled. */
  secretsKey?: Buffer;
  /** The flags as given on the command line (shown by `/master/state`, `/flags`, GET_FLAGS). */
  flags?: Record<string, string>;
  /** The v1 operator event stream's bounds (master/http/operator-v1-stream.ts). */
  operatorStream?: { heartbeatIntervalMs?: number; maxBufferedBytes?: number; maxSubscribers?: number };
  /** Mesos's web UI files (its `src/webui`), served at `/` (Mesos's `--webui_dir`). */
  webuiDir?: string;
  /**
   * Backpressure on scheduler connections, WebSocket and v1 HTTP event stream (docs/protocol.md): past `highWaterBytes`
   * unread (default 1 MiB) no new offers go to the framework until it has read its backlog; it is
   * dropped only past `maxBufferedBytes` (default 64 MiB) or when it takes no byte for
   * `stallTimeoutMs` (default 60 s) while congested.
   */
  schedulerBackpressure?: { highWaterBytes?: number; maxBufferedBytes?: number; stallTimeoutMs?: number };
  /**
   * With `zk`: while standing by, read the registrar ahead this often (ms; 0: not at all), so that
   * at the election recovery reads only the keys changed since (master/registrar.ts). Default 5000:
   * a pass over an unchanged registry of 5,000 agents costs the standby about 30 ms of CPU.
   */
  registrarReadAheadMs?: number;
}

export { SCHEDULER_BACKPRESSURE };

export interface RunningMaster {
  master: Master;
  http: FastifyInstance;
  /** The port actually bound (useful with port 0). */
  port: number;
  close(): Promise<void>;
}

export async function startMaster(opts: MasterServerOptions): Promise<RunningMaster> {
  const log: pino.Logger = opts.logger;
  // Routes are declared before listening; the Master is built after, once port 0 has resolved.
  let master: Master | undefined;
  let leader: () => MasterInfo | undefined = () => undefined;
  let secretStore: SecretStore | undefined;
  const events = new OperatorEventStream({
    clock: opts.clock ?? systemClock,
    master: () => master,
    ...opts.operatorStream,
    onSlowSubscriber: (i) => log.warn(i, 'operator API subscriber fell behind; disconnected'),
  });
  const http = buildMasterHttp({
    flags: opts.flags,
    events,
    webuiDir: opts.webuiDir,
    schedulerBackpressure: opts.schedulerBackpressure,
    logger: log.child({ component: 'http' }),
    authorizer: opts.authorizer,
    current: () => master,
    leader: () => leader(),
    secrets: { enabled: !!opts.secretsKey, store: () => secretStore },
  });
  if (opts.tls) secureServer(http.server, opts.tls, log);
  // After a failover every agent reconnects the moment ZooKeeper names this master: Node's default
  // accept backlog (511) overflowed at 5,000 agents, and each connection dropped there waited for
  // TCP's SYN retransmission (1 s, 3 s, 7 s ...). The kernel caps it at net.core.somaxconn.
  await http.listen({ port: opts.port, host: opts.host ?? '0.0.0.0', backlog: LISTEN_BACKLOG });
  const addr = http.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : opts.port;

  let zkClient: ZkClient | undefined;
  let zkPath = '';
  let store: Store;
  if (opts.zk) {
    const c = ZkClient.fromUrl(opts.zk, { sessionTimeoutMs: opts.zkSessionTimeoutMs ?? 10_000, logger: log });
    zkClient = c.client;
    zkPath = c.path;
    log.info({ zk: redactZkUrl(opts.zk) }, 'connecting to ZooKeeper');
    await zkClient.connect();
    store = await ZkStore.open({ client: zkClient, root: joinPath(zkPath, 'state'), logger: log });
  } else {
    store = await FileStore.open(opts.workDir, { logger: log });
  }
  const registrar = new Registrar(store, log.child({ component: 'registrar' }));
  if (opts.secretsKey) secretStore = new SecretStore(store, opts.secretsKey);
  const permits = opts.authorizer?.permits?.bind(opts.authorizer);
  const m = new Master({
    ...opts,
    secrets: new SecretsDelivery(
      secretStore,
      (principal, name) => permits?.(principal, 'access_secrets', name) ?? true,
      log.child({ component: 'secrets' }),
    ),
    port,
    allocate: opts.allocate ?? allocate,
    registrar,
    leaderInfo: () => leader(),
    trace: (event, effects) => {
      opts.trace?.(event, effects);
      events.observe(event, effects);
    },
  });
  master = m;

  const ws = attachWebSocketServer(
    http.server,
    [
      {
        path: AGENT_WS_PATH,
        inbound: Direction.AgentToMaster,
        action: AGENT_CONNECT,
        requireClientCert: opts.tls?.requireClientCert,
        onConnect: (peer) => m.onAgentConnect(peer),
        onProtocolError: (peer, err) => m.onAgentProtocolError(peer, err),
      },
      {
        path: SCHEDULER_WS_PATH,
        inbound: Direction.SchedulerToMaster,
        action: SCHEDULER_CONNECT,
        onConnect: (peer) => m.onSchedulerConnect(peer),
        onProtocolError: (peer, err) => m.onSchedulerProtocolError(peer, err),
        // An invalid call is answered (ERROR, or TASK_ERROR for its bad tasks); only a frame that
        // does not decode closes the connection (issue 9, D11).
        keepOpenOnInvalidMessage: true,
        // A framework slow to read is held back from offers, not dropped (status updates still go).
        backpressure: { ...SCHEDULER_BACKPRESSURE, ...opts.schedulerBackpressure },
      },
    ] as Parameters<typeof attachWebSocketServer>[1],
    {
      logger: log.child({ component: 'transport' }),
      authorizer: opts.authorizer,
      maxFrameBytes: opts.maxFrameBytes,
      heartbeatIntervalMs: opts.heartbeatIntervalMs,
    },
  );

  m.start();
  let election: LeaderElection | undefined;
  let detector: LeaderDetector | undefined;
  if (zkClient) {
    detector = new LeaderDetector({ client: zkClient, path: zkPath, logger: log });
    const d = detector;
    // Elected but still recovering counts as us: never send peers to a leader our detector has
    // not yet seen go (it may be the dead one).
    leader = () => (election?.isLeader ? m.info : d.current());
    election = new LeaderElection({ client: zkClient, path: zkPath, info: m.info, logger: log });
    const readAheadMs = opts.registrarReadAheadMs ?? 5000;
    election.on('elected', () => {
      registrar.stopReadAhead();
      m.becomeLeader().catch((e: Error) => {
        log.error({ err: e.message }, 'could not take over as leader; stepping down');
        m.stepDown(`recovery failed: ${e.message}`);
      });
    });
    election.on('lost', (reason) => {
      m.stepDown(`lost leadership in ZooKeeper (${reason})`);
      // Standing by again (unless withdrawn): read ahead for the next election.
      if (reason !== 'withdrawn' && reason !== 'closed') registrar.startReadAhead(readAheadMs);
    });
    await detector.start();
    registrar.startReadAhead(readAheadMs);
    await election.start();
    log.info(
      { port, masterId: m.info.id },
      `master listening on ${m.info.address.ip}:${port}; contending for leadership`,
    );
  } else {
    leader = () => m.info;
    await m.becomeLeader();
    log.info({ port, masterId: m.info.id }, `master listening on ${m.info.address.ip}:${port} (standalone)`);
  }
  return {
    master: m,
    http,
    port,
    async close() {
      events.closeAll();
      m.stop();
      await election?.withdraw();
      await detector?.close();
      await ws.close();
      await http.close();
      await registrar.close();
      await zkClient?.close();
    },
  };
}
