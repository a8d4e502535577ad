/**
 * The common HTTP server every Agora component builds its routes on: TypeBox schemas validate
 * and type each route; bodies are JSON only, bounded in size and depth; every error answer is
 * `{code, message}` (reply.ts); an unknown path is 404 and a known path with the wrong method 405
 * with `Allow`; every route declares an `action` and is authorized in one hook (auth.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyPluginAsyncTypebox, TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type RawServerDefault,
} from 'fastify';
import type pino from 'pino';
import type { AgoraError, ErrorClass } from '../errors.js';
import { type Authorizer, allowAll, type Decision, decideAccess } from './auth.js';
import {
  Forbidden,
  Internal,
  JsonTooDeep,
  JsonTooManyValues,
  MethodNotAllowed,
  NotFound,
  Unauthenticated,
} from './errors.js';
import { DEFAULT_MAX_JSON_DEPTH, DEFAULT_MAX_JSON_VALUES, jsonShapeProblem } from './json.js';
import { clientErrorOf, mapError, rawErrorResponse } from './reply.js';
import { RouteTable } from './routes.js';
import { validatorCompiler } from './validator.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** What the route does, for the authorizer (`view_state`, `update_quota`, ...). Required. */
    action?: string;
  }
  interface FastifyInstance {
    /** The authorizer this server asks; WebSocket upgrades on its port ask the same one. */
    authorizer: Authorizer;
  }
  interface FastifyRequest {
    /** What the authorizer learnt: who the caller is (absent: anonymous), the decision, its object. */
    access?: { principal?: string; decision: Decision; target?: string };
  }
}

export type AgoraHttp = FastifyInstance<
  RawServerDefault,
  IncomingMessage,
  ServerResponse,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

/** A surface's routes as a plugin: `app.register(plugin, options)`. */
export type AgoraPlugin<Options extends Record<string, unknown> = Record<never, never>> =
  FastifyPluginAsyncTypebox<Options>;

export const DEFAULT_BODY_LIMIT = 1024 * 1024;
/** Longest a request (headers and body) may take to arrive: a slow sender cannot hold a connection open. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

export interface HttpServerOptions {
  logger: pino.Logger;
  /** Largest request body in bytes (413 above). */
  bodyLimit?: number;
  /** Deepest JSON nesting accepted (400 `AGORA_HTTP_JSON_TOO_DEEP` above). */
  maxJsonDepth?: number;
  /** Most JSON values in a body (400 `AGORA_HTTP_JSON_TOO_MANY_VALUES` above). */
  maxJsonValues?: number;
  authorizer?: Authorizer;
  /** The component's 500 entry (e.g. `AGORA_MASTER_INTERNAL`). */
  internalError?: ErrorClass;
  /** 408 `AGORA_HTTP_REQUEST_TIMEOUT` when a request takes longer to arrive. */
  requestTimeoutMs?: number;
}

export function createHttpServer(opts: HttpServerOptions): AgoraHttp {
  const log = opts.logger;
  const internal = opts.internalError ?? Internal;
  const authorizer = opts.authorizer ?? allowAll;
  const maxDepth = opts.maxJsonDepth ?? DEFAULT_MAX_JSON_DEPTH;
  const maxValues = opts.maxJsonValues ?? DEFAULT_MAX_JSON_VALUES;
  const send = (err: unknown, r: unknown, url: string) => {
    const reply = r as FastifyReply;
    const m = mapError(err, internal);
    if (m.internal) log.error({ err, url }, 'HTTP request failed');
    else if (m.status === 503) log.debug({ code: m.body.code, url }, 'HTTP request answered 503');
    return reply.status(m.status).send(m.body);
  };
  const app = Fastify({
    logger: false,
    bodyLimit: opts.bodyLimit ?? DEFAULT_BODY_LIMIT,
    requestTimeout: opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket) {
      if (err.code === 'ECONNRESET' || !socket.writable) {
        socket.destroy();
        return;
      }
      socket.end(rawErrorResponse(clientErrorOf(err.code)));
    },
    frameworkErrors: (err, req, reply) => send(err, reply, req.url),
  }).withTypeProvider<TypeBoxTypeProvider>();
  // No silent cut at 2,000 headers (Node's default): a header dropped there (Transfer-Encoding, say)
  // leaves the rest of the request to be misread. The header size limit bounds them instead (431).
  app.server.maxHeadersCount = 0;
  app.setValidatorCompiler(validatorCompiler);
  app.decorate('authorizer', authorizer);

  // JSON only, its shape checked on the text before the usual (prototype-poisoning-safe) parse.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    const problem = jsonShapeProblem(body as string, maxDepth, maxValues);
    if (problem) {
      done(
        problem === 'too_deep'
          ? new JsonTooDeep(`JSON nests deeper than ${maxDepth} levels`)
          : new JsonTooManyValues(`JSON holds more than ${maxValues} values`),
        undefined,
      );
      return;
    }
    parseJson(req, body as string, done);
  });

  const routes = new RouteTable();
  app.addHook('onRoute', (route) => {
    if (!route.config?.action) {
      throw new Error(`route ${route.method} ${route.url} declares no config.action for the authorizer`);
    }
    routes.add(route.url, route.method);
  });

  app.decorateRequest('access', undefined);
  const refuse = (err: AgoraError, reply: FastifyReply) => {
    if (err.statusCode === 401 && authorizer.challenge) void reply.header('www-authenticate', authorizer.challenge);
    throw err;
  };
  if (authorizer.authenticate) {
    const authenticate = authorizer.authenticate.bind(authorizer);
    // Before the body is read: an unknown caller gets 401 (or 429) without its body parsed or validated.
    app.addHook('onRequest', async (req, reply) => {
      const action = req.routeOptions.config?.action;
      if (!action) return;
      const v = authenticate({ method: req.method, url: req.url, headers: req.headers, ip: req.ip }, action);
      req.access = { principal: v.principal, decision: v.decision };
      if (v.decision === 'allow') return;
      const cls = v.decision === 'unauthenticated' ? Unauthenticated : Forbidden;
      refuse(v.error ?? new cls(`'${action}' needs credentials`), reply);
    });
  }
  app.addHook('preHandler', async (req, reply) => {
    const action = req.routeOptions.config.action;
    if (!action) return; // the not-found handler
    const out = await decideAccess(
      authorizer,
      {
        method: req.method,
        url: req.url,
        headers: req.headers,
        ip: req.ip,
        params: req.params,
        query: req.query,
        body: req.body,
        authenticated: req.access ? { principal: req.access.principal } : undefined,
      },
      action,
    );
    req.access = { principal: out.principal ?? req.access?.principal, decision: out.decision, target: out.target };
    if (out.error) refuse(out.error, reply);
  });
  if (authorizer.answered) {
    const answered = authorizer.answered.bind(authorizer);
    app.addHook('onResponse', async (req, reply) => {
      const action = req.routeOptions.config.action;
      if (!action) return;
      answered({
        principal: req.access?.principal,
        action,
        method: req.method,
        path: req.url.split('?')[0],
        target: req.access?.target,
        // A request refused before the authorizer ran (a bad body) was not decided on: 'allow' as far as access goes.
        decision: req.access?.decision ?? 'allow',
        status: reply.statusCode,
        ip: req.ip,
      });
    });
  }

  const noRoute = (req: FastifyRequest, reply: FastifyReply) => {
    const path = req.url.split('?')[0];
    const allowed = routes.allowed(path);
    if (allowed.length > 0 && !allowed.includes(req.method)) {
      void reply.header('allow', allowed.join(', '));
      return send(
        new MethodNotAllowed(`${req.method} is not allowed on ${path}; use ${allowed.join(', ')}`),
        reply,
        req.url,
      );
    }
    return send(new NotFound(`no route for ${req.method} ${path}`), reply, req.url);
  };
  app.setNotFoundHandler(noRoute);
  // A request with no route is answered 404/405 even when its body cannot be read: the body of a
  // request that cannot be served is not what the caller must fix first.
  app.setErrorHandler(async (err, req, reply) => {
    const code = String((err as { code?: unknown }).code);
    if (req.is404 && code.startsWith('FST_ERR_CTP_')) return noRoute(req, reply);
    // The 413 comes after what is left of the body has been read and dropped (bounded): answered
    // at once, the connection closes while the client is still writing, and it sees a reset
    // (EPIPE) instead of the coded answer.
    if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') await dropRestOfBody(req.raw);
    return send(err, reply, req.url);
  });
  return app;
}

/** The most of a refused body read and dropped before the 413, in bytes and in time. */
const DROP_MAX_BYTES = 16 * 1024 * 1024;
const DROP_MAX_MS = 5_000;

/** Reads and drops the rest of a request body, up to DROP_MAX_BYTES / DROP_MAX_MS. */
function dropRestOfBody(raw: IncomingMessage): Promise<void> {
  if (raw.complete || raw.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    let seen = 0;
    const done = () => {
      clearTimeout(timer);
      raw.off('data', onData);
      raw.off('end', done);
      raw.off('close', done);
      raw.pause();
      resolve();
    };
    const onData = (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > DROP_MAX_BYTES) done();
    };
    const timer = setTimeout(done, DROP_MAX_MS);
    raw.on('data', onData);
    raw.once('end', done);
    raw.once('close', done);
    raw.resume();
  });
}
