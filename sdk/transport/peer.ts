/**
 * One WebSocket connection seen as a typed peer: messages out are encoded with the codec, frames
 * in are decoded and validated before anyone sees them. Shared by the server and the client;
 * together with them, the only code in the project that touches `ws`.
 */
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import WebSocket from 'ws';
import { CodecError, CodecErrorCode, checkShape, DEFAULT_MAX_FRAME_BYTES, decode, encode } from '../codec/codec.js';
import type { AnyMessage, Direction, MessageOf } from '../protocol/messages.js';
import { type Clock, systemClock, type Timer } from '../util/clock.js';
import { BacklogMeter, overBound } from './backlog-meter.js';

export interface Peer<Out> {
  /** Random id per connection. */
  readonly id: string;
  readonly remoteAddress: string;
  /** The principal the server's authorizer authenticated at the upgrade; undefined when anonymous. */
  readonly principal?: string;
  readonly open: boolean;
  /**
   * Encodes and sends; returns false when closed, or when the peer is too slow: if
   * ws.bufferedAmount would exceed maxBufferedBytes the connection is closed with code 1013
   * ('peer too slow') instead of buffering without bound. Throws `CodecError`
   * (AGORA_CODEC_FRAME_TOO_LARGE) when the encoded message exceeds maxFrameBytes, or
   * (AGORA_CODEC_TOO_MANY_ELEMENTS / AGORA_CODEC_TOO_DEEP) when it breaks the codec's value caps:
   * the receiver would refuse it and drop the connection, so the caller must split it.
   */
  send(message: Out): boolean;
  close(code?: number, reason?: string): void;
  /**
   * Bytes sent in earlier turns of the event loop and not yet taken by the socket (what the peer
   * could have read and has not). Absent on peers that do not track it.
   */
  backlog?(): number;
}

/**
 * Backpressure instead of a drop (a route opts in, e.g. the master's scheduler connections): a
 * peer whose backlog passes `highWaterBytes` is reported congested (so the sender can hold back
 * what is optional, such as offers) and clear again once its backlog is down to a quarter of
 * that; messages still go. It is closed (1013) only when its backlog passes `maxBufferedBytes`,
 * or when, congested, its socket took no byte for `stallTimeoutMs`.
 */
export interface BackpressureOptions {
  highWaterBytes: number;
  maxBufferedBytes: number;
  stallTimeoutMs: number;
  /** Told when the peer becomes congested (true) and when it has caught up (false). */
  onChange?(congested: boolean): void;
}

export const DEFAULT_BACKPRESSURE_HIGH_WATER_BYTES = 1024 * 1024;
export const DEFAULT_BACKPRESSURE_MAX_BUFFERED_BYTES = 256 * 1024 * 1024;

export interface TransportOptions {
  /** Default DEFAULT_MAX_FRAME_BYTES, also passed to ws maxPayload. */
  maxFrameBytes?: number;
  /**
   * Default 5000: ws ping every interval; a peer that has not answered (pong or any frame) for
   * 2 intervals is terminated.
   */
  heartbeatIntervalMs?: number;
  /**
   * Bytes that may wait unsent, counted from earlier turns of the event loop only (default 8 MiB
   * on the server, DEFAULT_CLIENT_MAX_BUFFERED_BYTES on a client). What one turn sends is not held
   * against the peer: it has had no chance to read it yet.
   */
  maxBufferedBytes?: number;
  logger?: pino.Logger;
  /** Arms the heartbeat and reconnection timers and tells the time; default `systemClock`. */
  clock?: Clock;
}

export const DEFAULT_HEARTBEAT_INTERVAL_MS = 5000;
export const DEFAULT_MAX_BUFFERED_BYTES = 8 * 1024 * 1024;
/**
 * A client's bound (a framework or an agent writing to its master). What it buffers is its own
 * output, waiting for a master that is busy, not a stranger that stopped reading: closing its own
 * connection for it only throws away the calls buffered (a framework ACCEPTing one OFFERS event of
 * 10,000 offers wrote 12 MiB in one turn and cut itself off at 8 MiB).
 */
export const DEFAULT_CLIENT_MAX_BUFFERED_BYTES = 256 * 1024 * 1024;

/** Close codes used by the transport (RFC 6455 §7.4.1 and the IANA registry). */
export const CloseCode = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  /** Reported locally (never sent) for a connection dropped without a closing handshake. */
  ABNORMAL: 1006,
  POLICY_VIOLATION: 1008,
  MESSAGE_TOO_BIG: 1009,
  INTERNAL_ERROR: 1011,
  TRY_AGAIN_LATER: 1013,
} as const;

/** A close reason may carry at most 123 bytes of UTF-8. */
export const MAX_CLOSE_REASON_BYTES = 123;

export interface ResolvedOptions {
  maxFrameBytes: number;
  heartbeatIntervalMs: number;
  maxBufferedBytes: number;
  /** How long a closing handshake may take before the socket is destroyed. */
  closeTimeoutMs: number;
  logger: pino.Logger;
  clock: Clock;
}

let silentLogger: pino.Logger | undefined;

export function resolveOptions(
  opts: TransportOptions = {},
  defaultMaxBufferedBytes = DEFAULT_MAX_BUFFERED_BYTES,
): ResolvedOptions {
  const heartbeatIntervalMs = positive(opts.heartbeatIntervalMs, DEFAULT_HEARTBEAT_INTERVAL_MS, 'heartbeatIntervalMs');
  silentLogger ??= pino({ level: 'silent' });
  return {
    maxFrameBytes: positive(opts.maxFrameBytes, DEFAULT_MAX_FRAME_BYTES, 'maxFrameBytes'),
    heartbeatIntervalMs,
    maxBufferedBytes: positive(opts.maxBufferedBytes, defaultMaxBufferedBytes, 'maxBufferedBytes'),
    // A peer that does not finish the closing handshake is as dead as one that misses two pings.
    closeTimeoutMs: Math.max(1000, 2 * heartbeatIntervalMs),
    logger: opts.logger ?? silentLogger,
    clock: opts.clock ?? systemClock,
  };
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be a positive number, got ${value}`);
  return value;
}

/** Cuts `text` to at most `maxBytes` of UTF-8 without splitting a character. */
export function truncateUtf8(text: string, maxBytes = MAX_CLOSE_REASON_BYTES): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  let out = '';
  let used = 0;
  for (const ch of text) {
    const n = Buffer.byteLength(ch);
    if (used + n > maxBytes) break;
    out += ch;
    used += n;
  }
  return out;
}

/** The close code for a frame that failed to decode: 1009 when too large, 1008 otherwise. */
export function closeCodeFor(error: CodecError): number {
  return error.code === CodecErrorCode.FRAME_TOO_LARGE ? CloseCode.MESSAGE_TOO_BIG : CloseCode.POLICY_VIOLATION;
}

/** The error ws raises (and closes with 1009) for a frame over maxPayload. */
export function isTooLargeWsError(err: Error): boolean {
  return (err as { code?: string }).code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH';
}

/** Decodes one inbound ws frame; text frames are refused like any other malformed frame. */
export function decodeFrame<D extends Direction>(
  direction: D,
  data: WebSocket.RawData,
  isBinary: boolean,
  maxFrameBytes: number,
): MessageOf<D> {
  if (!isBinary) {
    throw new CodecError(
      'malformed frame: text frames are not accepted (send one msgpack message per binary frame)',
      CodecErrorCode.MALFORMED,
    );
  }
  const bytes = Array.isArray(data) ? Buffer.concat(data) : data instanceof ArrayBuffer ? Buffer.from(data) : data;
  return decode(direction, bytes, maxFrameBytes);
}

export function asCodecError(e: unknown): CodecError {
  if (e instanceof CodecError) return e;
  return new CodecError(`malformed frame: ${e instanceof Error ? e.message : String(e)}`, CodecErrorCode.MALFORMED, {
    cause: e,
  });
}

// Reading the system's random source for every connection cost a new leader, taking 5,000 agents
// back at once, a few percent of its time: one read per process, then a count.
const PEER_ID_PREFIX = `${randomBytes(4).toString('hex')}-`;
let nextPeer = 0;

/** The Peer over one ws socket, with the bookkeeping the server and the client need. */
export class WsPeer<Out> implements Peer<Out> {
  /** Unique in the process (a random prefix and a count): a name for logs, not a secret. */
  readonly id = `${PEER_ID_PREFIX}${(nextPeer++).toString(16)}`;
  /** clock.now() of the last sign of life (open, pong, ping or any frame). */
  lastSeen: number;
  /** clock.now() of the last ping the heartbeat sent it (0: none yet). */
  lastPingAt = 0;
  principal?: string;
  private localClose: { code: number; reason: string } | undefined;
  /** Backpressure: on when the route asked for it (set by the server before any send). */
  bp: BackpressureOptions | undefined;
  /** Bytes handed to ws.send, ever; minus ws.bufferedAmount, what the socket has taken. */
  private sentBytes = 0;
  /** Judges the backlog against `bp` (backlog-meter.ts); made at the first judgement. */
  private meter: BacklogMeter | undefined;

  constructor(
    readonly ws: WebSocket,
    readonly remoteAddress: string,
    private readonly opts: ResolvedOptions,
    private readonly log: pino.Logger,
  ) {
    this.lastSeen = opts.clock.now();
  }

  backlog(): number {
    return Math.max(0, this.ws.bufferedAmount - this.bytesThisTurn());
  }

  /** Its backlog is over the high water (and not yet down to a quarter of it). */
  get congested(): boolean {
    return this.meter?.congested ?? false;
  }

  /** Re-judges congestion (after a send, a drain, a heartbeat): set above the high water, cleared at a quarter of it. */
  checkBackpressure(): void {
    const bp = this.bp;
    if (!bp) return;
    this.meter ??= new BacklogMeter(bp, this.opts.clock);
    const backlog = this.backlog();
    // Pings the heartbeat writes are buffered too but not counted in sentBytes: only a rise counts.
    const change = this.meter.judge(backlog, this.sentBytes - this.ws.bufferedAmount);
    if (change === 'congested') {
      this.log.info(
        { peer: this.id, remote: this.remoteAddress, backlog, highWater: bp.highWaterBytes },
        'peer congested: holding back what can wait',
      );
      this.notify(true);
      this.watchDrain();
    } else if (change === 'clear') {
      this.log.info({ peer: this.id, remote: this.remoteAddress, backlog }, 'peer caught up');
      this.notify(false);
    }
  }

  /** Whether a congested peer's socket has taken nothing for the stall timeout (checked each heartbeat). */
  stalled(now: number): boolean {
    if (!this.bp || !this.congested) return false;
    this.checkBackpressure();
    if (!this.meter?.stalled(now)) return false;
    this.log.warn(
      { peer: this.id, remote: this.remoteAddress, backlog: this.backlog(), stallTimeoutMs: this.bp.stallTimeoutMs },
      'peer blocked: congested and took nothing for the stall timeout; closing',
    );
    return true;
  }

  private notify(congested: boolean): void {
    try {
      this.bp?.onChange?.(congested);
    } catch (err) {
      this.log.error({ err, peer: this.id }, 'backpressure handler threw');
    }
  }

  /** While congested, every time the socket empties its buffer, judge again. */
  private watchDrain(): void {
    const socket = (this.ws as unknown as { _socket?: import('node:net').Socket })._socket;
    if (!socket) return;
    const onDrain = () => {
      if (!this.open) return;
      this.checkBackpressure();
      if (this.congested) socket.once('drain', onDrain);
    };
    socket.once('drain', onDrain);
  }

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  send(message: Out): boolean {
    if (!this.open) return false;
    const frame = encode(message as AnyMessage);
    if (frame.byteLength > this.opts.maxFrameBytes) {
      throw new CodecError(
        `outgoing ${(message as AnyMessage).type} of ${frame.byteLength} bytes exceeds the frame limit of ${this.opts.maxFrameBytes} bytes`,
        CodecErrorCode.FRAME_TOO_LARGE,
      );
    }
    // The receiver refuses a frame of too many values or too deep; refuse to send it instead.
    checkShape(frame, `outgoing ${(message as AnyMessage).type}`);
    // Only bytes left from earlier turns count: those the peer could have read and did not. A burst
    // written in one turn (an OFFERS event split in several frames, the ACCEPTs answering one) goes
    // out whole; the peer is judged by what it has not taken by the next turn.
    const buffered = Math.max(0, this.ws.bufferedAmount - this.bytesThisTurn());
    const limit = this.bp?.maxBufferedBytes ?? this.opts.maxBufferedBytes;
    // A frame is always allowed onto an empty buffer, so a limit below one frame cannot wedge a peer.
    if (overBound(buffered, frame.byteLength, limit)) {
      this.log.warn(
        {
          peer: this.id,
          remote: this.remoteAddress,
          buffered: this.ws.bufferedAmount,
          limit,
        },
        'peer too slow: closing instead of buffering more',
      );
      this.close(CloseCode.TRY_AGAIN_LATER, 'peer too slow');
      return false;
    }
    this.cork();
    this.ws.send(frame, { binary: true });
    this.turnBytes = this.bytesThisTurn() + frame.byteLength;
    this.turnOf = turn;
    this.sentBytes += frame.byteLength;
    // Only earlier turns' bytes count, and those do not change within a turn: judge once per turn.
    if (this.bp && this.turnBytes === frame.byteLength) this.checkBackpressure();
    // A long pass of the loop (thousands of sockets read in one poll phase) must not hold every
    // answer until it ends: what is corked leaves after at most MAX_CORK_MS.
    if (performance.now() - corkedSince > MAX_CORK_MS) flushCorked();
    return true;
  }

  /** Bytes sent in this turn of the event loop (none yet if the last send was in an earlier turn). */
  private bytesThisTurn(): number {
    return this.turnOf === turn ? this.turnBytes : 0;
  }

  /** Bytes sent in turn `turnOf` of the event loop (see `turn`). */
  private turnBytes = 0;
  private turnOf = -1;
  private corkedSocket: import('node:net').Socket | undefined;

  /**
   * Frames sent in one turn of the event loop leave in one socket write: cork now, uncork when the
   * turn ends. A turn is one pass of the event loop: every callback of its poll phase (each socket
   * that had input), then its check phase, where the uncork runs (`setImmediate`). Ending it at the
   * next tick instead (after each callback) cost a master one write per framework per agent message
   * in a failover: 5,000 re-registrations, each answering reconciliation for ten frameworks, made
   * 55,000 small writes. A poll phase can last long under a burst (libuv reads up to 48 × 1,024
   * ready sockets before it moves on): corked bytes also leave once corked for MAX_CORK_MS.
   */
  private cork(): void {
    if (this.corkedSocket !== undefined) return;
    const socket = (this.ws as unknown as { _socket?: import('node:net').Socket })._socket;
    if (!socket) return;
    socket.cork();
    this.corkedSocket = socket;
    if (corked.length === 0) corkedSince = performance.now();
    corked.push(this);
    if (!endArmed) {
      endArmed = true;
      setImmediate(endTurn);
    }
  }

  /** Lets what is corked leave now (the turn's byte count is kept until the turn ends). */
  uncork(): void {
    const socket = this.corkedSocket;
    if (socket === undefined) return;
    this.corkedSocket = undefined;
    socket.uncork();
  }

  close(code: number = CloseCode.NORMAL, reason = ''): void {
    const state = this.ws.readyState;
    if (state === WebSocket.CLOSING || state === WebSocket.CLOSED) return;
    const cut = truncateUtf8(reason);
    this.localClose ??= { code, reason: cut };
    this.ws.close(code, cut);
  }

  /** Drops the connection without a closing handshake (dead or unresponsive peer). */
  terminate(reason: string): void {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    this.localClose ??= { code: CloseCode.ABNORMAL, reason };
    this.ws.terminate();
  }

  /** Records a close that ws started on its own (e.g. 1009 for a frame over maxPayload). */
  noteLocalClose(code: number, reason: string): void {
    this.localClose ??= { code, reason: truncateUtf8(reason) };
  }

  touch(): void {
    this.lastSeen = this.opts.clock.now();
  }

  /**
   * The code and reason to report for the close: ours when this side started it (the remote's
   * echo, or the 1006 of a dropped socket, says less), otherwise what the remote sent.
   */
  closeInfo(wsCode: number, wsReason: Buffer): { code: number; reason: string } {
    return this.localClose ?? { code: wsCode, reason: wsReason.toString('utf8') };
  }
}

/** Longest time a frame waits corked in a long pass of the event loop. */
const MAX_CORK_MS = 5;
/** The pass of the event loop: counted up in each check phase (bytes of earlier turns are a peer's backlog). */
let turn = 0;
/** Peers corked now, uncorked together at the end of the turn or after MAX_CORK_MS. */
let corked: WsPeer<unknown>[] = [];
/** When the first of `corked` was corked (performance.now()). */
let corkedSince = Number.POSITIVE_INFINITY;
let endArmed = false;

function flushCorked(): void {
  const peers = corked;
  corked = [];
  corkedSince = Number.POSITIVE_INFINITY;
  for (const peer of peers) peer.uncork();
}

function endTurn(): void {
  endArmed = false;
  turn++;
  flushCorked();
}

/**
 * One heartbeat round over `peers`: terminate the ones silent for more than two intervals and
 * pinged since they were last heard from, ping the others not heard from for an interval or more. When the round itself runs late (the event loop was blocked, so pongs could not be
 * read either) nobody is terminated this time.
 *
 * A peer found silent is judged again only after the input that has already arrived has been
 * read (setImmediate runs after the event loop's poll phase, and timers run before it): a busy
 * process, whose timers fire before it reads the pongs and frames waiting in its sockets, must not
 * drop live peers for its own delay (under load this dropped agents in the middle of a fill, and
 * every launch written to them was lost).
 */
export function heartbeatRound(peers: Iterable<WsPeer<unknown>>, intervalMs: number, late: boolean, now: number): void {
  const suspects: WsPeer<unknown>[] = [];
  for (const peer of peers) {
    if (peer.ws.readyState !== WebSocket.OPEN && peer.ws.readyState !== WebSocket.CLOSING) continue;
    // The clock went back: count from now rather than wait for it to catch up.
    if (peer.lastSeen > now) peer.lastSeen = now;
    // Only a peer pinged since it was last heard from can be judged silent: a round that comes a
    // millisecond short of an interval skips the ping (below), and the next one, a millisecond past
    // two intervals, dropped a live peer that had never been asked (a test saw it with a client
    // that does not ping on its own).
    if (!late && now - peer.lastSeen > 2 * intervalMs && peer.lastPingAt >= peer.lastSeen) {
      suspects.push(peer);
      continue;
    }
    if (!late && peer.stalled(now)) {
      peer.close(CloseCode.TRY_AGAIN_LATER, 'peer blocked: took nothing while congested');
      continue;
    }
    // Heard from within the last interval (a frame, a pong, or its own ping): nothing to ask. Both
    // ends of a connection heartbeat, so without this each pinged the other every interval; and
    // a new leader taking 5,000 agents back wrote a ping to every one of them in the middle of
    // the burst (the agents' pings, answered with a pong each, were a tenth of its time).
    if (now - peer.lastSeen < intervalMs) continue;
    if (peer.ws.readyState === WebSocket.OPEN) {
      peer.ws.ping();
      peer.lastPingAt = now;
    }
  }
  if (suspects.length === 0) return;
  setImmediate(() => {
    for (const peer of suspects) {
      if (now - peer.lastSeen > 2 * intervalMs) peer.terminate('heartbeat timeout');
      else if (peer.ws.readyState === WebSocket.OPEN) {
        peer.ws.ping();
        peer.lastPingAt = now;
      }
    }
  });
}

/**
 * An interval on `clock` that reports whether each tick came late (more than half an interval, or
 * the clock went back) and the time it ran at.
 */
export function startHeartbeat(clock: Clock, intervalMs: number, round: (late: boolean, now: number) => void): Timer {
  let last = clock.now();
  return clock.setInterval(() => {
    const now = clock.now();
    const late = now - last > 1.5 * intervalMs || now < last;
    last = now;
    round(late, now);
  }, intervalMs);
}
