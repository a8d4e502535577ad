/**
 * `POST /api/v1/scheduler`: Mesos's v1 scheduler HTTP API (docs/mesos-scheduler-api.md), in JSON.
 * A SUBSCRIBE answers 200 with a chunked RecordIO stream of events and a `Mesos-Stream-Id`; every
 * other call comes on a connection of its own with that header and answers 202 (or 4xx with
 * `{code, message}`). Calls are translated (sdk/mesos) into Agora's wire calls and given to the
 * master as a scheduler peer's, so HTTP and WebSocket frameworks share one allocator and one set
 * of offers. Authentication is the WebSocket path's (`scheduler_connect`, Basic or bearer); the
 * authenticated principal must be the framework's. A master that does not lead redirects (307,
 * master/http/redirect.ts).
 */
import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type pino from 'pino';
import { PrincipalMismatch } from '../../sdk/auth/errors.js';
import { SCHEDULER_CONNECT } from '../../sdk/auth/index.js';
import { CodecError } from '../../sdk/codec/index.js';
import { AgoraError, type ErrorClass } from '../../sdk/errors.js';
import type { AgoraPlugin } from '../../sdk/http/index.js';
import { callFromMesos, type FromMesosCall } from '../../sdk/mesos/index.js';
import { ProtocolErrorCode } from '../../sdk/protocol/validate.js';
import { FrameworkRemoved, UnknownFramework } from '../errors.js';
import type { Master } from '../master.js';
import { type MasterHttpOptions, ready } from './context.js';
import {
  BadStreamId,
  MissingContentType,
  NotAcceptable,
  NotSubscribedHttp,
  UnsupportedMediaType,
} from './v1-scheduler-errors.js';
import { HttpStreamPeer, SCHEDULER_BACKPRESSURE, type SchedulerBackpressure } from './v1-scheduler-stream.js';

/**
 * Mesos answers `400 Bad Request` where Agora's catalogue says 404 / 403 (an unknown or torn-down
 * framework, a principal that is not the framework's: `Master::Http::scheduler` and the call
 * validation in Mesos's master): the status is Mesos's, the stable code stays Agora's.
 */
function badRequest(cls: ErrorClass, message: string): AgoraError {
  return new AgoraError(cls.code, message, 400);
}

export const V1_SCHEDULER_PATH = '/api/v1/scheduler';
export const STREAM_ID_HEADER = 'mesos-stream-id';

export type V1SchedulerOptions = MasterHttpOptions & {
  logger: pino.Logger;
  /** Backpressure on each event stream (defaults: SCHEDULER_BACKPRESSURE, as the WebSocket's). */
  backpressure?: Partial<SchedulerBackpressure>;
};

type Handlers = ReturnType<Master['onSchedulerConnect']>;
interface Stream {
  peer: HttpStreamPeer;
  handlers: Handlers;
  master: Master;
}

function mediaType(header: string | undefined): string | undefined {
  const t = header?.split(';')[0].trim().toLowerCase();
  return t === '' ? undefined : t;
}

function acceptsJson(accept: string | undefined): boolean {
  if (accept === undefined || accept.trim() === '') return true;
  return accept
    .split(',')
    .map((p) => p.split(';')[0].trim().toLowerCase())
    .some((t) => t === 'application/json' || t === 'application/*' || t === '*/*');
}

/**
 * Offer.url's address of an agent: its advertised hostname and port; the hostname stands in for
 * the IP when it is not an address itself (the master keeps no agent IP of its own).
 */
function agentAddress(master: Master, agentId: string): { hostname: string; ip: string; port: number } | undefined {
  const a = master.agents.get(agentId);
  if (!a) return undefined;
  return { hostname: a.info.hostname, ip: a.info.hostname, port: a.info.port };
}

export const v1SchedulerRoutes: AgoraPlugin<V1SchedulerOptions> = async (app, opts) => {
  const log = opts.logger;
  const bp: SchedulerBackpressure = { ...SCHEDULER_BACKPRESSURE, ...opts.backpressure };
  const streams = new Map<string, Stream>();
  /** The open stream that carries each framework (the last SUBSCRIBED wins: a failover takes over). */
  const byFramework = new Map<string, Stream>();

  // Before the body is read: Mesos's JSON only (after the redirect and authentication hooks of the server).
  app.addHook('onRequest', async (req) => {
    if (req.method !== 'POST') return;
    const type = mediaType(req.headers['content-type']);
    if (type === undefined) throw new MissingContentType("expecting 'Content-Type: application/json'");
    if (type !== 'application/json') {
      throw new UnsupportedMediaType(
        `Content-Type '${type.slice(0, 64)}' is not supported: Agora speaks Mesos's v1 scheduler API in JSON only; send 'Content-Type: application/json'`,
      );
    }
  });

  app.post(V1_SCHEDULER_PATH, { config: { action: SCHEDULER_CONNECT } }, async (req, reply) => {
    const master = ready(opts);
    const translated = callFromMesos(req.body);
    const principal = req.access?.principal;
    const type = translated.kind === 'call' ? translated.call.type : translated.type;
    if (type === 'SUBSCRIBE' && translated.kind === 'call') return subscribe(master, req, reply, translated, principal);
    // Every call but SUBSCRIBE carries a validated framework id (sdk/mesos refuses one without).
    const frameworkId =
      translated.kind === 'call' && 'framework_id' in translated.call
        ? translated.call.framework_id
        : String((req.body as { framework_id?: { value?: unknown } }).framework_id?.value ?? '');
    const stream = streamFor(master, req, frameworkId, principal);
    if (translated.kind === 'call') {
      if (translated.refused.length > 0) {
        const err = new CodecError('some operations of the ACCEPT are invalid', ProtocolErrorCode.INVALID_MESSAGE, {
          partial: { call: translated.call as never, refused: translated.refused },
        });
        master.onSchedulerProtocolError(stream.peer, err);
      } else {
        stream.handlers.onMessage(translated.call);
      }
    }
    // Mesos answers UPDATE_FRAMEWORK with 200 (its outcome, when refused, arrives as an ERROR event here).
    return reply.status(type === 'UPDATE_FRAMEWORK' ? 200 : 202).send();
  });

  /** The stream a non-SUBSCRIBE call of `frameworkId` belongs to, or the 4xx Mesos answers. */
  function streamFor(master: Master, req: FastifyRequest, frameworkId: string, principal?: string): Stream {
    const fw = master.frameworks.get(frameworkId);
    if (!fw) {
      if (master.completedFrameworks.some((f) => f.id === frameworkId)) {
        throw badRequest(FrameworkRemoved, `framework ${frameworkId} cannot be found: it has been torn down`);
      }
      throw badRequest(UnknownFramework, `framework ${frameworkId} cannot be found`);
    }
    if (principal !== undefined && fw.principal !== principal) {
      throw badRequest(
        PrincipalMismatch,
        `the authenticated principal is not the principal of framework ${frameworkId}`,
      );
    }
    if (!fw.connected) throw new NotSubscribedHttp(`framework ${frameworkId} is not subscribed`);
    const stream = byFramework.get(frameworkId);
    if (!stream?.peer.open) {
      throw new NotSubscribedHttp(`framework ${frameworkId} is not subscribed through this HTTP API`);
    }
    const header = req.headers[STREAM_ID_HEADER];
    if (typeof header !== 'string' || header === '') {
      throw new BadStreamId(
        "every call but SUBSCRIBE must carry the 'Mesos-Stream-Id' header its SUBSCRIBE answered with",
      );
    }
    if (header !== stream.peer.id) {
      throw new BadStreamId(
        `the stream id '${header.slice(0, 128)}' is not the one of framework ${frameworkId}'s current subscription`,
      );
    }
    return stream;
  }

  async function subscribe(
    master: Master,
    req: FastifyRequest,
    reply: FastifyReply,
    t: Extract<FromMesosCall, { kind: 'call' }>,
    principal: string | undefined,
  ): Promise<FastifyReply> {
    if (req.headers[STREAM_ID_HEADER] !== undefined) {
      throw new BadStreamId("a SUBSCRIBE must not carry a 'Mesos-Stream-Id' header; the master gives a new one");
    }
    if (!acceptsJson(req.headers.accept)) {
      throw new NotAcceptable("the event stream is JSON: 'Accept' must allow application/json");
    }
    const call = t.call as Extract<typeof t.call, { type: 'SUBSCRIBE' }>;
    const info = call.subscribe.framework_info;
    if (principal !== undefined && info.principal !== undefined && info.principal !== principal) {
      throw badRequest(
        PrincipalMismatch,
        `SUBSCRIBE claims principal '${info.principal}' but authenticated as '${principal}'`,
      );
    }
    // As Mesos: a framework that authenticated without naming a principal gets the authenticated one.
    if (principal !== undefined && info.principal === undefined) info.principal = principal;
    // A framework id that is torn down or was never issued is refused as Mesos refuses a subscription:
    // 200, then an ERROR event (its message starts with the code) and the stream ends (master/state).
    // The stream id is the capability every later call shows (without authentication, the only
    // one): random, and never logged.
    const streamId = randomUUID();
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'application/json',
      'mesos-stream-id': streamId,
      'cache-control': 'no-cache',
    });
    res.flushHeaders();
    const pending = t.suppressedRoles && t.suppressedRoles.length > 0 ? t.suppressedRoles : undefined;
    const peer = new HttpStreamPeer(
      streamId,
      res,
      req.ip,
      principal,
      bp,
      log,
      (p, frameworkId) => {
        const s = streams.get(p.id);
        if (!s) return;
        byFramework.set(frameworkId, s);
        // `subscribe.suppressed_roles`: suppressed as soon as the framework is in.
        if (pending)
          s.handlers.onMessage({ type: 'SUPPRESS', framework_id: frameworkId, suppress: { roles: pending } });
      },
      { agentAddress: (id) => agentAddress(master, id) },
    );
    // Every POST (this SUBSCRIBE and each later call) was counted once against `--rate_limits` at the
    // HTTP door (sdk/auth answers 429 over budget): the master must not count the calls again.
    const handlers = master.onSchedulerConnect(peer, { callsRateLimited: true });
    // A congested stream gets no new offers until it has read its backlog (as a WebSocket).
    peer.onBackpressure = 'onBackpressure' in handlers ? handlers.onBackpressure : undefined;
    const stream: Stream = { peer, handlers, master };
    streams.set(streamId, stream);
    let gone = false;
    const onGone = () => {
      if (gone) return;
      gone = true;
      streams.delete(streamId);
      if (peer.frameworkId !== undefined && byFramework.get(peer.frameworkId) === stream)
        byFramework.delete(peer.frameworkId);
      peer.close();
      handlers.onClose();
    };
    res.on('close', onGone);
    req.raw.on('close', () => {
      if (res.writableEnded || res.destroyed) onGone();
    });
    log.info({ remote: req.ip, principal, name: info.name }, 'HTTP scheduler subscribing');
    handlers.onMessage(call);
    return reply;
  }
};
