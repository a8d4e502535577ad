/**
 * WebSocket endpoints on an existing HTTP server (the master's port): one route per path, each
 * with the direction its inbound frames are validated against.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { pino } from 'pino';
import WebSocket, { WebSocketServer } from 'ws';
import { CodecError, CodecErrorCode } from '../codec/codec.js';
import { type Authorizer, admitUpgrade, rawErrorResponse } from '../http/index.js';
import type { Direction, MessageOf } from '../protocol/messages.js';
import { TlsClientCertRequired } from '../tls/errors.js';
import {
  asCodecError,
  type BackpressureOptions,
  CloseCode,
  closeCodeFor,
  decodeFrame,
  heartbeatRound,
  isTooLargeWsError,
  type Peer,
  resolveOptions,
  startHeartbeat,
  type TransportOptions,
  WsPeer,
} from './peer.js';

export interface ConnectionHandlers<In extends Direction> {
  onMessage(message: MessageOf<In>): void;
  onClose(code: number, reason: string): void;
  /** On a route with `backpressure`: the peer became congested (true) or caught up (false). */
  onBackpressure?(congested: boolean): void;
}

export interface WsRoute<In extends Direction, Out> {
  /** e.g. '/api/v1/agent'; matched on the pathname, the query is ignored. */
  path: string;
  inbound: In;
  /**
   * What connecting here means to the authorizer (e.g. `agent_connect`); required when the server
   * has one. `peer.principal` is who it authenticated.
   */
  action?: string;
  /**
   * Refuse (401 `AGORA_TLS_CLIENT_CERT_REQUIRED`) a connection that did not present a client
   * certificate the listener's CA verified (mutual TLS; see sdk/tls `secureServer`).
   */
  requireClientCert?: boolean;
  onConnect(peer: Peer<Out>, req: IncomingMessage): ConnectionHandlers<In>;
  /**
   * Called for a frame that fails to decode, before the connection is closed (1009 for
   * too-large, 1008 otherwise, reason = the error message cut to fit 123 bytes). Lets the caller
   * send a last ERROR message — except for a frame over maxFrameBytes, which ws refuses from its
   * header alone and answers with 1009 itself, so the peer is already closing by then.
   */
  onProtocolError?(peer: Peer<Out>, error: CodecError): void;
  /**
   * When true, a frame that decodes but is not a valid message (AGORA_PROTOCOL_INVALID_MESSAGE,
   * AGORA_PROTOCOL_UNKNOWN_TYPE) is only reported to onProtocolError and the connection stays
   * open; only frames that cannot be decoded close it. Default false: any refused frame closes it.
   */
  keepOpenOnInvalidMessage?: boolean;
  /**
   * Backpressure instead of the drop at `maxBufferedBytes` (peer.ts `BackpressureOptions`): the
   * handlers' `onBackpressure` hears when a peer is congested and when it has caught up.
   */
  backpressure?: Omit<BackpressureOptions, 'onChange'>;
}

export interface WebSocketServerOptions extends TransportOptions {
  /**
   * Asked at every upgrade with the route's action, before the socket becomes a WebSocket; a
   * refusal is answered 401/403 `{code, message}` and no connection is made. Default: none (open).
   */
  authorizer?: Authorizer;
}

export interface WebSocketServerHandle {
  /** Stops accepting, closes every connection (1001) and resolves once they are all closed. */
  close(): Promise<void>;
  /** Open (or closing) connections. */
  connections(): number;
}

// biome-ignore lint/suspicious/noExplicitAny: routes of different directions live in one list
type AnyRoute = WsRoute<any, any>;

/**
 * The path of a request target, as `new URL(url, base).pathname` gives it. A plain absolute path
 * (every upgrade a peer of ours makes) is read as it is; anything else (dot segments, escapes, an
 * absolute URL) goes through the URL parser.
 */
export function pathnameOf(url: string | undefined): string {
  const target = url ?? '/';
  const q = target.search(/[?#]/);
  const path = q < 0 ? target : target.slice(0, q);
  if (/^\/[A-Za-z0-9_\-/]*$/.test(path) && !path.includes('//')) return path;
  try {
    return new URL(target, 'http://localhost').pathname;
  } catch {
    return '';
  }
}

/** A frame that decoded into plain data but is not a valid message of its direction. */
function isInvalidMessage(error: CodecError): boolean {
  return error.code === CodecErrorCode.INVALID_MESSAGE || error.code === CodecErrorCode.UNKNOWN_TYPE;
}

export function attachWebSocketServer(
  server: Server,
  routes: AnyRoute[],
  opts?: WebSocketServerOptions,
): WebSocketServerHandle {
  const options = resolveOptions(opts);
  const authorizer = opts?.authorizer;
  const log = options.logger.child({ component: 'ws-server' });
  const byPath = new Map<string, AnyRoute>();
  for (const route of routes) {
    if (byPath.has(route.path)) throw new Error(`two WebSocket routes for ${route.path}`);
    if (authorizer && !route.action)
      throw new Error(`WebSocket route ${route.path} declares no action for the authorizer`);
    byPath.set(route.path, route);
  }

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: options.maxFrameBytes,
    perMessageDeflate: false,
    clientTracking: false,
    // Not in @types/ws yet: how long a closing handshake may take before the socket is destroyed.
    ...({ closeTimeout: options.closeTimeoutMs } as object),
  });
  const peers = new Set<WsPeer<unknown>>();
  let closing = false;

  const timer = startHeartbeat(options.clock, options.heartbeatIntervalMs, (late, now) =>
    heartbeatRound(peers, options.heartbeatIntervalMs, late, now),
  );

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', (err) => log.debug({ err }, 'socket error during upgrade'));
    const pathname = pathnameOf(req.url);
    const route = byPath.get(pathname);
    if (!route || closing) {
      const status = closing ? '503 Service Unavailable' : '404 Not Found';
      log.debug({ url: req.url, status }, 'refusing WebSocket upgrade');
      socket.once('finish', () => socket.destroy());
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    if (route.requireClientCert && !(req.socket as TLSSocket).authorized) {
      const why = (req.socket as TLSSocket).authorizationError ?? 'no TLS';
      log.warn(
        { remote: req.socket.remoteAddress, path: pathname, why: String(why) },
        'refused a connection without a verified client certificate (mutual TLS is required on this route)',
      );
      socket.once('finish', () => socket.destroy());
      socket.end(
        rawErrorResponse(
          new TlsClientCertRequired(`${pathname} requires a client certificate signed by the cluster CA`),
        ),
      );
      return;
    }
    if (!authorizer || !route.action) {
      wss.handleUpgrade(req, socket, head, (ws) => accept(route, ws, req, undefined));
      return;
    }
    admitUpgrade(authorizer, req, socket, route.action).then(
      (admission) => {
        if (!admission.ok) {
          log.info({ remote: req.socket.remoteAddress, path: pathname }, 'refused a WebSocket upgrade');
          return;
        }
        if (closing || socket.destroyed) {
          socket.destroy();
          return;
        }
        wss.handleUpgrade(req, socket, head, (ws) => accept(route, ws, req, admission.principal));
      },
      (err) => {
        log.error({ err, path: pathname }, 'the authorizer failed; refusing the upgrade');
        socket.once('finish', () => socket.destroy());
        socket.end('HTTP/1.1 500 Internal Server Error\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      },
    );
  };
  server.on('upgrade', onUpgrade);

  function accept(route: AnyRoute, ws: WebSocket, req: IncomingMessage, principal: string | undefined): void {
    const remoteAddress = req.socket.remoteAddress ?? 'unknown';
    const peer = new WsPeer<unknown>(ws, remoteAddress, options, log);
    peer.principal = principal;
    if (route.backpressure) {
      peer.bp = { ...route.backpressure, onChange: (congested) => handlers?.onBackpressure?.(congested) };
    }
    // The connection's own logger, made when it first logs (most never do: a child logger per
    // connection was a few percent of a new leader's time taking 5,000 agents back).
    let plogMade: pino.Logger | undefined;
    const plog = (): pino.Logger => {
      plogMade ??= log.child({ peer: peer.id, remote: remoteAddress, path: route.path, principal });
      return plogMade;
    };
    peers.add(peer);
    let handlers: ConnectionHandlers<Direction> | undefined;

    const protocolError = (error: CodecError) => {
      const keepOpen = route.keepOpenOnInvalidMessage === true && isInvalidMessage(error);
      plog().warn(
        { code: error.code, err: error.message },
        keepOpen ? 'refusing an invalid message' : 'refusing a frame that does not decode; closing',
      );
      try {
        route.onProtocolError?.(peer, error);
      } catch (err) {
        plog().error({ err }, 'onProtocolError handler threw');
      }
      if (!keepOpen) peer.close(closeCodeFor(error), error.message);
    };

    ws.on('message', (data, isBinary) => {
      peer.touch();
      if (ws.readyState !== WebSocket.OPEN || !handlers) return; // after a protocol error: drop the rest
      let message: MessageOf<Direction>;
      try {
        message = decodeFrame(route.inbound, data, isBinary, options.maxFrameBytes);
      } catch (e) {
        protocolError(asCodecError(e));
        return;
      }
      try {
        handlers.onMessage(message);
      } catch (err) {
        plog().error({ err, type: message.type }, 'onMessage handler threw');
      }
    });
    ws.on('pong', () => peer.touch());
    ws.on('ping', () => peer.touch());
    ws.on('error', (err) => {
      if (isTooLargeWsError(err)) {
        // ws has already started closing with 1009; still tell the route why.
        const error = new CodecError(
          `frame exceeds the limit of ${options.maxFrameBytes} bytes`,
          CodecErrorCode.FRAME_TOO_LARGE,
          { cause: err },
        );
        peer.noteLocalClose(CloseCode.MESSAGE_TOO_BIG, error.message);
        plog().warn({ code: error.code }, 'refusing an over-size frame; closing');
        try {
          route.onProtocolError?.(peer, error);
        } catch (e) {
          plog().error({ err: e }, 'onProtocolError handler threw');
        }
        return;
      }
      plog().warn({ err }, 'WebSocket error');
    });
    ws.on('close', (code, reason) => {
      peers.delete(peer);
      const info = peer.closeInfo(code, reason);
      if (log.isLevelEnabled('debug')) plog().debug(info, 'connection closed');
      try {
        handlers?.onClose(info.code, info.reason);
      } catch (err) {
        plog().error({ err }, 'onClose handler threw');
      }
    });

    if (closing) {
      peer.close(CloseCode.GOING_AWAY, 'server shutting down');
      return;
    }
    try {
      handlers = route.onConnect(peer, req);
    } catch (err) {
      plog().error({ err }, 'onConnect handler threw; closing the connection');
      peer.close(CloseCode.INTERNAL_ERROR, 'internal error');
      return;
    }
    if (log.isLevelEnabled('debug')) plog().debug('connection open');
  }

  return {
    connections: () => peers.size,
    async close() {
      if (!closing) {
        closing = true;
        server.off('upgrade', onUpgrade);
        timer.cancel();
      }
      await Promise.all(
        [...peers].map(
          (peer) =>
            new Promise<void>((resolve) => {
              if (peer.ws.readyState === WebSocket.CLOSED) return resolve();
              peer.ws.once('close', () => resolve());
              peer.close(CloseCode.GOING_AWAY, 'server shutting down');
            }),
        ),
      );
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
