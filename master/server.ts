/**
 * Starts a master: the fastify HTTP server for the operator API, the WebSocket endpoints for
 * agents and schedulers on the same port, and the Master itself.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type pino from 'pino';
import { Direction, type MasterToAgentMessage, type SchedulerEvent } from '../sdk/protocol/messages.js';
import { attachWebSocketServer } from '../sdk/transport/index.js';
import { allocate } from './allocator/index.js';
import { Master, type MasterOptions } from './master.js';
import { registerOperatorRoutes, roleViews } from './operator-api.js';
import { masterState, metricsSnapshot } from './state-json.js';

export const AGENT_WS_PATH = '/api/v1/agent';
export const SCHEDULER_WS_PATH = '/api/v1/scheduler/ws';

export interface MasterServerOptions extends Omit<MasterOptions, 'allocate'> {
  host?: string;
  allocate?: MasterOptions['allocate'];
  maxFrameBytes?: number;
  heartbeatIntervalMs?: number;
}

export interface RunningMaster {
  master: Master;
  http: FastifyInstance;
  /** The port actually bound (useful with port 0). */
  port: number;
  close(): Promise<void>;
}

export async function startMaster(opts: MasterServerOptions): Promise<RunningMaster> {
  const log: pino.Logger = opts.logger;
  const http = Fastify({ logger: false, bodyLimit: 1024 * 1024 });
  // Routes are declared before listening; the Master is built after, once port 0 has resolved.
  let master: Master | undefined;
  const ready = (): Master => {
    if (!master) throw Object.assign(new Error('master is starting'), { statusCode: 503 });
    return master;
  };
  http.setErrorHandler((err, _req, reply) => {
    const e = err as Error & { statusCode?: number; code?: string };
    const status = e.statusCode ?? 500;
    if (status >= 500) log.error({ err: e }, 'operator API error');
    void reply.status(status).send({ message: e.message, code: e.code ?? 'AGORA_MASTER_INTERNAL' });
  });
  registerOperatorRoutes(http, ready);
  http.get('/health', async () => ({ healthy: true, leading: ready().leading }));
  const state = async () => masterState(ready());
  http.get('/master/state', state);
  http.get('/state', state);
  http.get('/master/state.json', state);
  const metrics = async () => {
    const m = ready();
    const out = metricsSnapshot(m);
    for (const v of roleViews(m)) out[`allocator/mesos/roles/${v.name}/shares/dominant`] = v.dominantShare;
    return out;
  };
  http.get('/metrics/snapshot', metrics);
  http.get('/master/metrics/snapshot', metrics);

  await http.listen({ port: opts.port, host: opts.host ?? '0.0.0.0' });
  const addr = http.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : opts.port;
  const m = new Master({ ...opts, port, allocate: opts.allocate ?? allocate });
  master = m;

  const ws = attachWebSocketServer(
    http.server,
    [
      {
        path: AGENT_WS_PATH,
        inbound: Direction.AgentToMaster,
        onConnect: (peer) => m.onAgentConnect(peer),
        onProtocolError: (peer, err) => m.onAgentProtocolError(peer, err),
      },
      {
        path: SCHEDULER_WS_PATH,
        inbound: Direction.SchedulerToMaster,
        onConnect: (peer) => m.onSchedulerConnect(peer),
        onProtocolError: (peer, err) => m.onSchedulerProtocolError(peer, err),
      },
    ] as Parameters<typeof attachWebSocketServer>[1],
    {
      logger: log.child({ component: 'transport' }),
      maxFrameBytes: opts.maxFrameBytes,
      heartbeatIntervalMs: opts.heartbeatIntervalMs,
    },
  );

  m.start();
  log.info({ port, masterId: m.info.id }, `master listening on ${m.info.address.ip}:${port}`);
  return {
    master: m,
    http,
    port,
    async close() {
      m.stop();
      await ws.close();
      await http.close();
    },
  };
}

export type { MasterToAgentMessage, SchedulerEvent };
