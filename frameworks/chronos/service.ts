/**
 * One Chronos instance: its HTTP API, its state in the Store (ZooKeeper with `zk`, files otherwise),
 * and — while it leads — the engine and its scheduler driver. With ZooKeeper, instances elect one
 * leader (the master's election recipe, over a node holding this instance's HTTP address); the
 * others forward requests to it. Leadership lost = stop acting at once (`onLeadershipLost`, by
 * default the process exits, as Chronos does, so that a stale leader never launches).
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import {
  type ClientSecurity,
  type Clock,
  FileStore,
  LeaderDetector,
  LeaderElection,
  type MasterInfo,
  parseZkUrl,
  SchedulerDriver,
  type Store,
  systemClock,
  ZkClient,
  ZkStore,
} from 'agora/sdk';
import type pino from 'pino';
import type { Authorizer } from '../../sdk/http/index.js';
import { exitClosingZk } from '../../sdk/zk/thread-link.js';
import { Engine } from './engine/engine.js';
import { ENGINE_DRIVER_OPTIONS, storedFrameworkId, wireEngine } from './engine/wire.js';
import { createChronosHttp } from './http/index.js';

/** The master's error to a framework connection that another subscription of the same framework replaced. */
const FRAMEWORK_FAILED_OVER = 'AGORA_MASTER_FRAMEWORK_FAILED_OVER';

export interface ChronosOptions extends ClientSecurity {
  /** The master: host:port or zk://…/agora. */
  master: string;
  /** zk://host:2181/chronos: state under `<path>/state`, the election under `<path>/leader`. */
  zk?: string;
  workDir: string;
  port: number;
  host?: string;
  advertiseIp?: string;
  hostname?: string;
  logger: pino.Logger;
  authorizer?: Authorizer;
  clock?: Clock;
  frameworkName?: string;
  role?: string;
  user?: string;
  failoverTimeoutSecs?: number;
  historyLimit?: number;
  zkSessionTimeoutMs?: number;
  /** Called when leadership is lost; default: exit the process (a new instance rejoins). */
  onLeadershipLost?: () => void;
}

export interface RunningChronos {
  port: number;
  readonly leading: boolean;
  engine: () => Engine | undefined;
  close(): Promise<void>;
}

export async function startChronos(o: ChronosOptions): Promise<RunningChronos> {
  const log = o.logger;
  const clock = o.clock ?? systemClock;
  let store: Store;
  let zkPath = '';
  if (o.zk) {
    zkPath = parseZkUrl(o.zk).path;
    store = await ZkStore.connect(o.zk, {
      root: `${zkPath.replace(/\/$/, '')}/state`,
      logger: log,
      sessionTimeoutMs: o.zkSessionTimeoutMs,
    });
  } else {
    mkdirSync(o.workDir, { recursive: true });
    store = await FileStore.open(o.workDir, { logger: log });
  }
  let engine: Engine | undefined;
  let leading = false;
  let driver: SchedulerDriver | undefined;
  let leaderAddress: string | undefined;
  const host = o.host ?? '127.0.0.1';
  const advertise = o.advertiseIp ?? '127.0.0.1';
  const engineOf = () => (leading ? engine : undefined);
  let closing = false;
  /** Bumped when leading starts or stops: a lead() still loading when leadership ends does not go on. */
  let term = 0;

  const http = createChronosHttp({
    logger: log,
    authorizer: o.authorizer,
    clock,
    engine: engineOf,
    leader: () => leaderAddress,
    leading: () => leading,
    metrics: () => ({ jobs: engine?.jobs.size ?? 0, ...(engine?.metrics ?? {}) }),
  });
  await http.listen({ port: o.port, host });
  const addr = http.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : o.port;
  const self = `${advertise}:${port}`;

  const lead = async () => {
    const mine = ++term;
    const e = new Engine({
      store,
      clock,
      logger: log.child({ component: 'chronos-engine' }),
      historyLimit: o.historyLimit,
      user: o.user,
    });
    await e.load();
    const fid = await storedFrameworkId(store);
    if (mine !== term || !leading) {
      // Leadership ended while the state loaded (possible when onLeadershipLost does not exit):
      // starting a driver now would make a leader nobody elected.
      log.warn('leadership ended while loading the state: not starting the engine');
      e.detach();
      return;
    }
    log.info({ jobs: e.jobs.size, frameworkId: fid }, 'leading: state loaded');
    const d = new SchedulerDriver({
      master: o.master,
      credential: o.credential,
      tls: o.tls,
      clock,
      logger: log.child({ component: 'driver' }),
      ...ENGINE_DRIVER_OPTIONS,
      framework: {
        name: o.frameworkName ?? 'chronos',
        id: fid,
        roles: [o.role ?? '*'],
        user: o.user ?? process.env.USER ?? 'root',
        failover_timeout: o.failoverTimeoutSecs ?? 7 * 86400,
        checkpoint: true,
        webui_url: `http://${self}`,
      },
    });
    engine = e;
    driver = d;
    wireEngine(e, d, store, log);
    // Mesos's framework failover: the master gives the framework to the newest subscription and tells
    // the one before "failed over". Here that means another instance leads (it subscribed with the
    // shared framework id) while this one still believes it does (its ZooKeeper session not yet
    // known lost). Re-subscribing would take the framework back and the two would alternate; the
    // Mesos driver aborts instead, and so does this instance: it stops leading at once.
    d.on('error', (err) => {
      if (err.code !== FRAMEWORK_FAILED_OVER || d !== driver || !leading) return;
      log.warn('the master handed this framework to another subscription: another instance leads; stop acting');
      void stopLeading();
      if (!closing) (o.onLeadershipLost ?? (() => void exitClosingZk(1)))();
    });
    d.start();
  };

  const stopLeading = async () => {
    term++;
    leading = false;
    engine?.detach();
    await driver?.stop().catch(() => undefined);
    driver = undefined;
    engine = undefined;
  };

  let election: LeaderElection | undefined;
  let detector: LeaderDetector | undefined;
  let zkClient: ZkClient | undefined;
  if (o.zk) {
    const url = parseZkUrl(o.zk);
    zkClient = new ZkClient({
      servers: url.servers,
      credentials: url.credentials,
      sessionTimeoutMs: o.zkSessionTimeoutMs,
      logger: log,
    });
    await zkClient.connect();
    const info: MasterInfo = {
      id: randomUUID(),
      pid: `chronos@${self}`,
      hostname: o.hostname ?? advertise,
      port,
      address: { hostname: o.hostname ?? advertise, ip: advertise, port },
      version: 'agora-chronos',
    };
    const path = `${zkPath.replace(/\/$/, '')}/leader`;
    detector = new LeaderDetector({ client: zkClient, path, logger: log });
    detector.on('leader', (m: MasterInfo | undefined) => {
      leaderAddress = m ? `${m.address.ip}:${m.address.port}` : undefined;
    });
    void detector.start().catch((err) => log.error({ err }, 'leader detection failed'));
    election = new LeaderElection({ client: zkClient, path, info, logger: log });
    election.on('elected', () => {
      if (closing) return;
      log.info('elected leader');
      leading = true;
      leaderAddress = self;
      lead().catch((err) => {
        log.error({ err }, 'could not start leading');
        void stopLeading();
      });
    });
    election.on('lost', (reason) => {
      if (!leading) return;
      log.warn({ reason }, 'leadership lost: stop acting');
      void stopLeading();
      if (!closing) (o.onLeadershipLost ?? (() => void exitClosingZk(1)))();
    });
    await election.start();
  } else {
    leading = true;
    leaderAddress = self;
    await lead();
  }
  log.info({ port, zk: !!o.zk }, `chronos listening on port ${port}`);
  return {
    port,
    get leading() {
      return leading;
    },
    engine: engineOf,
    async close() {
      closing = true;
      await stopLeading();
      await election?.withdraw().catch(() => undefined);
      await detector?.close().catch(() => undefined);
      await zkClient?.close().catch(() => undefined);
      await http.close();
      await store.close();
    },
  };
}
