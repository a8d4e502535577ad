/**
 * Marathon's REST API v2 on the common HTTP server: every route in Marathon's error shapes, behind
 * the one authorization hook; a non-leader proxies each request (but `/ping` and `/v2/leader`) to
 * the leader, as Marathon does.
 */
import http from 'node:http';
import { type AgoraHttp, type Authorizer, createHttpServer } from 'agora/sdk';
import type pino from 'pino';
import { Internal, NoLeader } from '../errors.js';
import { appRoutes } from './apps.js';
import type { MarathonHttpContext } from './context.js';
import { deploymentRoutes } from './deployments.js';
import { eventRoutes } from './events.js';
import { groupRoutes } from './groups.js';
import { miscRoutes } from './misc.js';
import { podRoutes } from './pods.js';
import { marathonErrorHandler } from './reply.js';

export * from './context.js';

export interface MarathonHttpOptions {
  logger: pino.Logger;
  authorizer?: Authorizer;
  /** Largest request body (root groups can be large); default 8 MiB. */
  bodyLimit?: number;
  maxEventBufferBytes?: number;
}

const VIA = 'x-marathon-via';
const LOCAL = new Set(['/ping', '/v2/leader']);

export function createMarathonHttp(ctx: MarathonHttpContext, opts: MarathonHttpOptions): AgoraHttp {
  const app = createHttpServer({
    logger: opts.logger,
    authorizer: opts.authorizer,
    bodyLimit: opts.bodyLimit ?? 8 * 1024 * 1024,
    maxJsonValues: 2_000_000,
    maxJsonDepth: 64,
    internalError: Internal,
  });
  app.addHook('onRequest', async (req, reply) => {
    const path = req.url.split('?')[0];
    if (LOCAL.has(path)) return;
    const l = ctx.leader();
    if (l.isLeader) return;
    if (!l.leader || req.headers[VIA]) throw new NoLeader('Could not determine the current leader');
    reply.hijack();
    const [host, port] = splitHostPort(l.leader);
    const upstream = http.request(
      { host, port, method: req.method, path: req.url, headers: { ...req.headers, host: l.leader, [VIA]: '1' } },
      (res) => {
        reply.raw.writeHead(res.statusCode ?? 502, res.headers);
        res.pipe(reply.raw);
      },
    );
    upstream.on('error', (err) => {
      if (!reply.raw.headersSent) {
        reply.raw.writeHead(502, { 'content-type': 'application/json' });
        reply.raw.end(
          JSON.stringify({ code: NoLeader.code, message: `the leader at ${l.leader} did not answer: ${err.message}` }),
        );
      } else reply.raw.destroy();
    });
    reply.raw.on('close', () => upstream.destroy());
    req.raw.pipe(upstream);
  });
  app.register(async (scope) => {
    scope.setErrorHandler(marathonErrorHandler);
    await scope.register(miscRoutes(ctx));
    await scope.register(appRoutes(ctx));
    await scope.register(groupRoutes(ctx));
    await scope.register(deploymentRoutes(ctx));
    await scope.register(podRoutes(ctx));
    await scope.register(eventRoutes(ctx, opts.maxEventBufferBytes));
  });
  return app;
}

function splitHostPort(hp: string): [string, number] {
  const i = hp.lastIndexOf(':');
  return [hp.slice(0, i).replace(/^\[|\]$/g, ''), Number(hp.slice(i + 1))];
}
