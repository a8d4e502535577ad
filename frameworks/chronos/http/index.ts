/**
 * The Chronos service's HTTP face: Chronos's API under `/v1/scheduler` and `/scheduler`,
 * Metronome's under `/v1/jobs`, `/ping` and `/metrics`. A non-leader forwards every API request to
 * the leader (Chronos answered 400 there) and relays its answer; `/ping`, `/metrics` and
 * `/scheduler/leader` answer locally.
 */
import type pino from 'pino';
import { type AgoraHttp, type Authorizer, createHttpServer } from '../../../sdk/http/index.js';
import { Internal, NoLeader } from '../errors.js';
import { chronosRoutes } from './chronos-routes.js';
import type { ChronosHttpOptions } from './context.js';
import { metronomeRoutes } from './metronome-routes.js';

export interface ChronosHttpServerOptions extends ChronosHttpOptions {
  logger: pino.Logger;
  authorizer?: Authorizer;
  /** True when this instance leads (answers itself); false: forward to `leader()`. */
  leading: () => boolean;
  metrics: () => Record<string, number>;
}

const FORWARDED = 'x-agora-chronos-forwarded';
const LEADER_WAIT_MS = 10_000;
const LOCAL = new Set(['/ping', '/metrics', '/scheduler/leader', '/v1/scheduler/leader']);

export function createChronosHttp(opts: ChronosHttpServerOptions): AgoraHttp {
  const app = createHttpServer({ logger: opts.logger, authorizer: opts.authorizer, internalError: Internal });
  app.addHook('preHandler', async (req, reply) => {
    const path = req.url.split('?')[0] as string;
    if (opts.leading() || LOCAL.has(path) || !req.routeOptions.config?.action) return;
    if (req.headers[FORWARDED]) throw new NoLeader('the instance this was forwarded to does not lead any more; retry');
    // Just after a start or a failover the leader may not be known yet: wait a little for the election.
    let leader = opts.leader();
    for (let waited = 0; !leader && !opts.leading() && waited < LEADER_WAIT_MS; waited += 100) {
      await new Promise((r) => setTimeout(r, 100));
      leader = opts.leader();
    }
    if (opts.leading()) return;
    if (!leader) throw new NoLeader('no leading Chronos is known yet; retry');
    const headers: Record<string, string> = { [FORWARDED]: '1' };
    for (const h of ['authorization', 'content-type', 'accept']) {
      const v = req.headers[h];
      if (typeof v === 'string') headers[h] = v;
    }
    let res: Response;
    try {
      res = await fetch(`http://${leader}${req.url}`, {
        method: req.method,
        headers,
        body:
          req.body === undefined || req.method === 'GET' || req.method === 'HEAD'
            ? undefined
            : JSON.stringify(req.body),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (e) {
      throw new NoLeader(`the leader at ${leader} did not answer: ${(e as Error).message}`);
    }
    const text = await res.text();
    void reply.status(res.status);
    const type = res.headers.get('content-type');
    if (type) void reply.header('content-type', type);
    void reply.header('x-agora-chronos-leader', leader);
    return reply.send(text);
  });
  app.get('/ping', { config: { action: 'view_health' } }, async (_req, reply) => reply.type('text/plain').send('pong'));
  app.get('/metrics', { config: { action: 'chronos_read' } }, async () => ({
    leading: opts.leading() ? 1 : 0,
    ...opts.metrics(),
  }));
  void app.register(chronosRoutes, { ...opts, base: '/v1/scheduler' });
  void app.register(chronosRoutes, { ...opts, base: '/scheduler' });
  void app.register(metronomeRoutes, opts);
  return app;
}
