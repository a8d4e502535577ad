/**
 * TLS on a Node HTTP server that already exists (the one Fastify built, with its WebSocket
 * upgrades): its raw connections go through a TLS server first and reach the HTTP server
 * decrypted, as `https` composes them. Listening, closing and `address()` stay the HTTP server's,
 * so a component adds TLS with one call before it listens.
 *
 * With `allowPlain` (a migration), the first byte of each connection decides: 0x16 (a TLS
 * handshake record) goes to TLS, anything else is served plain. Without it, plain bytes fail the
 * handshake and the connection is closed.
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import type pino from 'pino';
import type { ServerTls } from './files.js';

/** The first byte of a TLS handshake record. */
export const TLS_HANDSHAKE_BYTE = 0x16;
/** How long a connection may stay silent before its first byte (allowPlain only). */
export const FIRST_BYTE_TIMEOUT_MS = 30_000;
/** How long a TLS handshake may take (Node's default is 120 s). */
export const HANDSHAKE_TIMEOUT_MS = 10_000;

type ConnectionListener = (socket: Socket) => void;

/**
 * Makes `server` serve TLS with `tls`. Call before `listen`. Connections keep `socket.authorized`
 * (a verified client certificate) for routes that require one.
 */
export function secureServer(server: Server, tls: ServerTls, logger?: pino.Logger): void {
  const log = logger?.child({ component: 'tls' });
  const httpListeners = server.listeners('connection') as ConnectionListener[];
  if (httpListeners.length === 0) throw new Error('secureServer: the server has no connection listener');
  const toHttp = (socket: Socket) => {
    for (const l of httpListeners) l.call(server, socket);
  };
  const front = createTlsServer({
    cert: tls.cert,
    key: tls.key,
    ca: tls.ca,
    requestCert: tls.requireClientCert === true,
    // Routes decide (the agent route refuses without a verified certificate; the API does not ask).
    rejectUnauthorized: false,
    minVersion: 'TLSv1.2',
    // A client that opens a connection and never finishes the handshake does not hold it for long.
    handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
  });
  front.on('secureConnection', (socket: TLSSocket) => toHttp(socket));
  front.on('tlsClientError', (err: NodeJS.ErrnoException, socket: TLSSocket) => {
    log?.info({ remote: socket.remoteAddress, err: err.code ?? err.message }, 'TLS handshake failed');
    socket.destroy();
  });
  const toTls = (socket: Socket) => {
    // HTTP servers accept half-open sockets; a TLS handshake the client abandons must end the socket.
    socket.allowHalfOpen = false;
    front.emit('connection', socket);
  };
  server.removeAllListeners('connection');
  server.on('connection', (socket: Socket) => {
    if (!tls.allowPlain) {
      toTls(socket);
      return;
    }
    socket.setTimeout(FIRST_BYTE_TIMEOUT_MS, () => socket.destroy());
    socket.once('data', (chunk: Buffer) => {
      socket.setTimeout(0);
      socket.pause();
      socket.unshift(chunk);
      if (chunk[0] === TLS_HANDSHAKE_BYTE) toTls(socket);
      else {
        log?.debug({ remote: socket.remoteAddress }, 'plain connection on a TLS port (allowed for migration)');
        toHttp(socket);
      }
      process.nextTick(() => socket.resume());
    });
  });
  const fields = { clientCerts: tls.requireClientCert === true, allowPlain: tls.allowPlain === true };
  if (tls.allowPlain)
    log?.warn(fields, 'serving TLS AND PLAIN HTTP on one port (--tls_allow_plain, for a migration only)');
  else log?.info(fields, 'serving TLS');
}
