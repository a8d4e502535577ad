/**
 * One Marathon process: the REST API, and — while it leads — the service. With ZooKeeper, several
 * processes elect a leader under `<zk path>/leader` (each publishes its HTTP address); the others
 * proxy requests to it. Leadership lost: the service stops at once (no two schedulers act), and the
 * process contends again. `DELETE /v2/leader` abdicates the same way. Without ZooKeeper it leads alone.
 */
import { hostname as osHostname } from 'node:os';
import type { AgoraHttp, Authorizer, Store } from 'agora/sdk';
import { type Clock, Leadership, systemClock, type ZkClient } from 'agora/sdk';
import type pino from 'pino';
import { MarathonService, type ServiceDriver } from './core/service.js';
import { NoLeader } from './errors.js';
import { createMarathonHttp } from './http/index.js';

export interface MarathonNodeOptions {
  store: Store;
  /** Connected ZooKeeper client and the Marathon path (`/marathon`) for the election; none: standalone. */
  zk?: { client: ZkClient; path: string };
  host: string;
  port: number;
  /** Address others reach this process at (default host, or 127.0.0.1 for 0.0.0.0). */
  advertiseHost?: string;
  logger: pino.Logger;
  clock?: Clock;
  authorizer?: Authorizer;
  createDriver(frameworkId: string | undefined): ServiceDriver;
  /** Shown in /v2/info's marathon_config. */
  config?: Record<string, unknown>;
  tickMs?: number;
  /** Marathon's role (`--mesos_role`): apps and pods that name none get it. */
  role?: string;
}

export const MARATHON_VERSION = '1.10.0-agora';

/** What a Marathon publishes in the election: where its REST API is. */
export interface LeaderPayload {
  host: string;
  port: number;
  scheme: 'http' | 'https';
  version: string;
}

function parsePayload(v: unknown): LeaderPayload | undefined {
  const p = v as Partial<LeaderPayload> | null;
  if (!p || typeof p.host !== 'string' || typeof p.port !== 'number' || !Number.isInteger(p.port)) return undefined;
  return {
    host: p.host,
    port: p.port,
    scheme: p.scheme === 'https' ? 'https' : 'http',
    version: String(p.version ?? ''),
  };
}

export class MarathonNode {
  http!: AgoraHttp;
  port = 0;
  service?: MarathonService;
  private leadership?: Leadership<LeaderPayload>;
  private readonly clock: Clock;
  private readonly log: pino.Logger;
  private info!: LeaderPayload;
  private starting?: Promise<void>;
  private closed = false;

  constructor(private readonly opts: MarathonNodeOptions) {
    this.clock = opts.clock ?? systemClock;
    this.log = opts.logger;
  }

  get address(): string {
    return `${this.info.host}:${this.port}`;
  }

  get isLeader(): boolean {
    return this.service !== undefined;
  }

  async start(): Promise<void> {
    this.http = createMarathonHttp(
      {
        clock: this.clock,
        service: () => {
          if (!this.service) throw new NoLeader('this Marathon is not the leader (yet)');
          return this.service;
        },
        leader: () => ({ isLeader: this.isLeader, leader: this.leaderAddress() }),
        abdicate: () => this.abdicate(),
        info: () => this.infoJson(),
      },
      { logger: this.log, authorizer: this.opts.authorizer },
    );
    await this.http.listen({ port: this.opts.port, host: this.opts.host });
    const addr = this.http.server.address();
    this.port = typeof addr === 'object' && addr ? addr.port : this.opts.port;
    const ip = this.opts.advertiseHost ?? (this.opts.host === '0.0.0.0' ? '127.0.0.1' : this.opts.host);
    this.info = { host: ip, port: this.port, scheme: 'http', version: MARATHON_VERSION };
    if (!this.opts.zk) {
      await this.lead();
      this.log.info({ port: this.port }, `marathon listening on ${this.address} (standalone leader)`);
      return;
    }
    await this.contend();
    this.log.info({ port: this.port }, `marathon listening on ${this.address}; contending for leadership`);
  }

  /** Joins the election (the SDK's generic one, publishing this REST API's address). */
  private async contend(): Promise<void> {
    if (!this.opts.zk || this.closed) return;
    const leadership = new Leadership<LeaderPayload>({
      client: this.opts.zk.client,
      path: `${this.opts.zk.path.replace(/\/$/, '')}/leader`,
      info: this.info,
      parse: parsePayload,
      logger: this.log,
    });
    this.leadership = leadership;
    leadership.on('elected', () => {
      this.log.info('elected leader');
      this.starting = this.lead().catch((err) => {
        this.log.error({ err }, 'could not start as leader; abdicating');
        void this.abdicate();
      });
    });
    leadership.on('lost', (reason) => {
      this.log.warn({ reason }, 'lost leadership');
      void this.stepDown();
    });
    await leadership.start();
  }

  private async lead(): Promise<void> {
    const service = new MarathonService({
      store: this.opts.store,
      clock: this.clock,
      logger: this.log.child({ component: 'marathon' }),
      createDriver: this.opts.createDriver,
      tickMs: this.opts.tickMs,
      role: this.opts.role,
    });
    await service.start();
    this.service = service;
  }

  private async stepDown(): Promise<void> {
    await this.starting;
    const s = this.service;
    this.service = undefined;
    await s?.stop();
  }

  /** Gives up leadership (and joins the election again at the back); false when not leading. */
  async abdicate(): Promise<boolean> {
    if (!this.isLeader) return false;
    if (!this.leadership) {
      // Standalone: restart the service (state reloaded from the store).
      await this.stepDown();
      await this.lead();
      return true;
    }
    const l = this.leadership;
    this.leadership = undefined;
    await l.stop();
    await this.stepDown();
    setTimeout(() => void this.contend(), 100).unref();
    return true;
  }

  leaderAddress(): string | undefined {
    if (this.isLeader) return this.address;
    const l = this.leadership?.leader();
    return l ? `${l.host}:${l.port}` : undefined;
  }

  private infoJson(): Record<string, unknown> {
    return {
      name: 'marathon',
      version: MARATHON_VERSION,
      buildref: 'agora',
      elected: this.isLeader,
      leader: this.leaderAddress() ?? null,
      frameworkId: this.service?.frameworkId ?? null,
      marathon_config: { hostname: osHostname(), http_port: this.port, ...this.opts.config },
      zookeeper_config: this.opts.zk ? { zk_path: this.opts.zk.path } : {},
      http_config: { http_port: this.port },
      event_subscriber: { type: 'sse' },
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.leadership?.stop().catch(() => undefined);
    await this.stepDown();
    await this.http?.close();
  }
}
