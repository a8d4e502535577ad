/**
 * A WebSocket client that keeps itself connected: it asks for the target on every attempt (the
 * leading master can move), backs off exponentially with full jitter between failed attempts,
 * heartbeats the server and treats a silent one as dead.
 */
import WebSocket from 'ws';
import type { Direction, MessageOf } from '../protocol/messages.js';
import type { Timer } from '../util/clock.js';
import { mathRandom, type Rng } from '../util/random.js';
import {
  asCodecError,
  CloseCode,
  closeCodeFor,
  DEFAULT_CLIENT_MAX_BUFFERED_BYTES,
  decodeFrame,
  heartbeatRound,
  isTooLargeWsError,
  type Peer,
  type ResolvedOptions,
  resolveOptions,
  startHeartbeat,
  type TransportOptions,
  WsPeer,
} from './peer.js';

/** A principal and its secret, sent as HTTP Basic authentication at the upgrade (never logged). */
export interface Credential {
  principal: string;
  secret: string;
}

/** How a client proves itself and checks the server. */
export interface ClientSecurity {
  credential?: Credential;
  /**
   * TLS: `ws://` targets become `wss://`; the server is verified against `ca` (the system store
   * when absent); `cert`/`key` are presented when the server asks for a client certificate.
   */
  tls?: { ca?: string | Buffer; cert?: string | Buffer; key?: string | Buffer };
}

/** `Basic base64(principal:secret)`; a principal holding `:` cannot be sent this way. */
export function basicAuthorization(c: Credential): string {
  if (c.principal.includes(':')) throw new RangeError('a principal sent by Basic authentication cannot hold ":"');
  return `Basic ${Buffer.from(`${c.principal}:${c.secret}`, 'utf8').toString('base64')}`;
}

/** `ws://` → `wss://` when TLS is on; anything else as given. */
export function secureUrl(url: string, tls: boolean): string {
  return tls && url.startsWith('ws://') ? `wss://${url.slice(5)}` : url;
}

export interface ClientOptions<In extends Direction, Out> extends TransportOptions, ClientSecurity {
  /** Called on every (re)connection attempt; return undefined when no target is known yet (retry after backoff). */
  url: () => string | undefined | Promise<string | undefined>;
  inbound: In;
  /** The connection is open; `send` works from here on (also inside this callback). */
  onOpen(peer: Peer<Out>): void;
  onMessage(message: MessageOf<In>): void;
  /** A connection that had opened is closed (once per onOpen). */
  onClose?(code: number, reason: string): void;
  /**
   * The server answered the upgrade with an HTTP error instead (401/403 from its authorizer, with
   * the `code` of its `{code, message}` body when there is one); the client retries after backoff.
   */
  onRefused?(status: number, code: string | undefined, message: string | undefined): void;
  /**
   * An attempt failed before the connection opened (refused, unreachable, TLS not verified,
   * timed out): why, and how many attempts in a row have failed, this one included.
   */
  onAttemptFailed?(reason: string, failures: number): void;
  /** Defaults 200, 10_000; exponential x2 with full jitter from rng; reset after a successful open. */
  backoff?: { initialMs?: number; maxMs?: number };
  rng?: Rng;
}

interface Connection<Out> {
  ws: WebSocket;
  peer: WsPeer<Out>;
  opened: boolean;
  heartbeat?: Timer;
}

/**
 * The wait before the next attempt after `failures` failed ones: full jitter, uniform in
 * [0, min(maxMs, initialMs · 2^failures)).
 */
export function backoffDelayMs(failures: number, initialMs: number, maxMs: number, rng: Rng): number {
  const ceiling = Math.min(maxMs, initialMs * 2 ** Math.min(failures, 30));
  return Math.floor(rng.next() * ceiling);
}

/** A client's backoff settings with their defaults (200 ms doubling to 10 s), checked. */
export function resolveBackoff(backoff: { initialMs?: number; maxMs?: number } | undefined): {
  initialMs: number;
  maxMs: number;
} {
  const initialMs = backoff?.initialMs ?? 200;
  const maxMs = backoff?.maxMs ?? 10_000;
  if (!(initialMs > 0) || !(maxMs >= initialMs)) {
    throw new RangeError(`backoff needs 0 < initialMs <= maxMs, got ${initialMs} and ${maxMs}`);
  }
  return { initialMs, maxMs };
}

export class ReconnectingClient<In extends Direction, Out> {
  private readonly options: ResolvedOptions;
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly rng: Rng;
  private started = false;
  private stopped = false;
  /** Failed attempts since the last successful open. */
  private failures = 0;
  /** Bumped by every new attempt, reconnectNow and stop, so a stale attempt can tell. */
  private generation = 0;
  private retryTimer: Timer | undefined;
  private current: Connection<Out> | undefined;
  /** Every socket not yet closed, including ones dropped by reconnectNow. */
  private readonly live = new Set<WebSocket>();

  constructor(private readonly opts: ClientOptions<In, Out>) {
    this.options = resolveOptions(opts, DEFAULT_CLIENT_MAX_BUFFERED_BYTES);
    ({ initialMs: this.initialMs, maxMs: this.maxMs } = resolveBackoff(opts.backoff));
    this.rng = opts.rng ?? mathRandom;
  }

  get connected(): boolean {
    return this.current?.peer.open ?? false;
  }

  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    void this.connect();
  }

  /** Closes, stops reconnecting, and resolves when every socket is closed. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.generation++;
    this.clearRetry();
    const sockets = [...this.live];
    this.current?.peer.close(CloseCode.NORMAL, 'client stopping');
    await Promise.all(
      sockets.map(
        (ws) =>
          new Promise<void>((resolve) => {
            if (ws.readyState === WebSocket.CLOSED) resolve();
            else ws.once('close', () => resolve());
          }),
      ),
    );
  }

  /** False when not connected. */
  send(message: Out): boolean {
    const peer = this.current?.peer;
    return peer ? peer.send(message) : false;
  }

  /** Drops the current connection (if any) and reconnects at once (e.g. the leader changed). */
  reconnectNow(): void {
    this.reconnectAfter(0);
  }

  /**
   * Drops the current connection (if any) and makes the next attempt after `delayMs` on the
   * client's clock, instead of any attempt already planned: how an agent spreads the
   * re-registrations of a whole cluster when the leader changes (`--registration_backoff_factor`),
   * rather than all of them reaching the new leader in the same instant. Failed attempts after that
   * back off as usual.
   */
  reconnectAfter(delayMs: number): void {
    if (!this.started || this.stopped) return;
    if (!(delayMs >= 0 && Number.isFinite(delayMs))) throw new RangeError(`a reconnection delay of ${delayMs} ms`);
    this.failures = 0;
    this.clearRetry();
    const old = this.current;
    this.current = undefined;
    if (old) {
      old.peer.close(CloseCode.NORMAL, 'reconnecting');
      // The old socket finishes closing in the background; the user hears of it now, so that
      // onClose comes before the next onOpen.
      if (old.opened) this.notifyClose(CloseCode.NORMAL, 'reconnecting');
    }
    if (delayMs === 0) {
      void this.connect();
      return;
    }
    // A stale attempt still under way must not connect meanwhile.
    this.generation++;
    this.retryTimer = this.options.clock.setTimeout(() => {
      this.retryTimer = undefined;
      void this.connect();
    }, delayMs);
  }

  private async connect(): Promise<void> {
    const generation = ++this.generation;
    let url: string | undefined;
    try {
      url = await this.opts.url();
    } catch (err) {
      this.options.logger.warn({ err }, 'could not resolve the address to connect to');
    }
    if (generation !== this.generation || this.stopped) return;
    if (url === undefined) {
      this.options.logger.debug('no address to connect to yet');
      this.scheduleRetry();
      return;
    }
    const credential = this.opts.credential;
    const tls = this.opts.tls;
    url = secureUrl(url, tls !== undefined);
    let ws: WebSocket;
    try {
      ws = new WebSocket(url, {
        ...(credential ? { headers: { authorization: basicAuthorization(credential) } } : {}),
        ...(tls ? { ca: tls.ca, cert: tls.cert, key: tls.key } : {}),
        maxPayload: this.options.maxFrameBytes,
        perMessageDeflate: false,
        handshakeTimeout: this.options.closeTimeoutMs,
        // Not in @types/ws yet: how long a closing handshake may take before the socket is destroyed.
        ...({ closeTimeout: this.options.closeTimeoutMs } as object),
      });
    } catch (err) {
      this.options.logger.warn({ err, url }, 'invalid address');
      this.scheduleRetry();
      return;
    }
    this.watch(ws, url);
  }

  private watch(ws: WebSocket, url: string): void {
    const log = this.options.logger.child({ url });
    const peer = new WsPeer<Out>(ws, safeHost(url), this.options, log);
    const conn: Connection<Out> = { ws, peer, opened: false };
    this.current = conn;
    this.live.add(ws);
    const isCurrent = () => this.current === conn;

    ws.on('open', () => {
      peer.touch();
      if (!isCurrent() || this.stopped) {
        peer.close(CloseCode.NORMAL, 'client stopping');
        return;
      }
      conn.opened = true;
      this.failures = 0;
      conn.heartbeat = startHeartbeat(this.options.clock, this.options.heartbeatIntervalMs, (late, now) =>
        heartbeatRound([peer as WsPeer<unknown>], this.options.heartbeatIntervalMs, late, now),
      );
      log.debug({ peer: peer.id }, 'connected');
      try {
        this.opts.onOpen(peer);
      } catch (err) {
        log.error({ err }, 'onOpen handler threw');
      }
    });
    ws.on('message', (data, isBinary) => {
      peer.touch();
      if (ws.readyState !== WebSocket.OPEN || !isCurrent()) return;
      let message: MessageOf<In>;
      try {
        message = decodeFrame(this.opts.inbound, data, isBinary, this.options.maxFrameBytes);
      } catch (e) {
        const error = asCodecError(e);
        log.warn({ code: error.code, err: error.message }, 'server sent a frame that does not decode; reconnecting');
        peer.close(closeCodeFor(error), error.message);
        return;
      }
      try {
        this.opts.onMessage(message);
      } catch (err) {
        log.error({ err, type: (message as { type?: string }).type }, 'onMessage handler threw');
      }
    });
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        if (body.length < MAX_REFUSAL_BODY) body += c.slice(0, MAX_REFUSAL_BODY - body.length);
      });
      res.on('error', () => undefined);
      res.on('end', () => {
        const { code, message } = refusalOf(body);
        log.warn({ status: res.statusCode, code, message }, 'the server refused the connection');
        try {
          this.opts.onRefused?.(res.statusCode ?? 0, code, message);
        } catch (err) {
          log.error({ err }, 'onRefused handler threw');
        }
        ws.terminate();
      });
    });
    ws.on('pong', () => peer.touch());
    ws.on('ping', () => peer.touch());
    ws.on('error', (err) => {
      if (!conn.opened && isCurrent()) {
        const code = (err as NodeJS.ErrnoException).code;
        try {
          this.opts.onAttemptFailed?.(code ? `${code}: ${err.message}` : err.message, this.failures + 1);
        } catch (e) {
          log.error({ err: e }, 'onAttemptFailed handler threw');
        }
      }
      if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|ERR_SSL/.test((err as NodeJS.ErrnoException).code ?? '')) {
        log.warn({ err: err.message }, 'TLS: the server could not be verified; check --ca_file');
        return;
      }
      if (isTooLargeWsError(err)) {
        peer.noteLocalClose(
          CloseCode.MESSAGE_TOO_BIG,
          `frame exceeds the limit of ${this.options.maxFrameBytes} bytes`,
        );
        log.warn('server sent an over-size frame; reconnecting');
        return;
      }
      // A failed attempt (refused, 404, timeout) lands here too; 'close' follows and retries.
      log.debug({ err: err.message }, 'WebSocket error');
    });
    ws.on('close', (code, reason) => {
      conn.heartbeat?.cancel();
      this.live.delete(ws);
      if (!isCurrent()) return; // dropped by reconnectNow (already reported) or superseded
      this.current = undefined;
      const info = peer.closeInfo(code, reason);
      if (conn.opened) {
        log.debug(info, 'connection closed');
        this.notifyClose(info.code, info.reason);
      }
      if (!this.stopped) this.scheduleRetry();
    });
  }

  private notifyClose(code: number, reason: string): void {
    try {
      this.opts.onClose?.(code, reason);
    } catch (err) {
      this.options.logger.error({ err }, 'onClose handler threw');
    }
  }

  private scheduleRetry(): void {
    if (this.stopped) return;
    this.clearRetry();
    const delay = backoffDelayMs(this.failures, this.initialMs, this.maxMs, this.rng);
    this.failures++;
    this.options.logger.debug({ delay, failures: this.failures }, 'reconnecting after backoff');
    this.retryTimer = this.options.clock.setTimeout(() => {
      this.retryTimer = undefined;
      void this.connect();
    }, delay);
  }

  private clearRetry(): void {
    this.retryTimer?.cancel();
    this.retryTimer = undefined;
  }
}

const MAX_REFUSAL_BODY = 4096;

/** `{code, message}` of an error answer, when it is one. */
function refusalOf(body: string): { code?: string; message?: string } {
  try {
    const v = JSON.parse(body) as { code?: unknown; message?: unknown };
    return {
      code: typeof v.code === 'string' ? v.code.slice(0, 100) : undefined,
      message: typeof v.message === 'string' ? v.message.slice(0, 500) : undefined,
    };
  } catch {
    return {};
  }
}

function safeHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}
