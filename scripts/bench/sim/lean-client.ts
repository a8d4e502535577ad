/**
 * A lean WebSocket client for the simulated agents of the master benchmarks (sim/agents.ts) only:
 * not part of the SDK, and not for real agents or frameworks.
 *
 * Why: the benchmarks hold thousands of agent connections in one or two processes on the same
 * cores as the master under test. Held by the SDK's ReconnectingClient (the `ws` library over
 * Node's http client), 5,000 agents reconnecting at once in a failover cost those processes 3.5 to
 * 6.7 s of CPU, mostly connection setup: a randomBytes(16) and a SHA-1 object per handshake, an
 * http ClientRequest with its parser, ws's per-connection objects. This client speaks the same
 * protocol over a bare `net.Socket`:
 *
 * - the HTTP/1.1 upgrade request is built once per target URL; the Sec-WebSocket-Key is a random
 *   12-byte prefix made once per process and a 4-byte count (base64 of 16 bytes, as RFC 6455 asks);
 * - the answer must be `101` with `Upgrade: websocket`, `Connection: Upgrade`, the
 *   Sec-WebSocket-Accept of that key (one one-shot SHA-1 per connection) and no extension or
 *   subprotocol; anything else (a 503, a 400, a wrong accept) fails the attempt, which is retried
 *   after backoff;
 * - server frames are parsed in place (unmasked; FIN and opcode; 7-, 16- and 64-bit lengths;
 *   continuation frames; a message over `maxFrameBytes` closes with 1009 as ws's maxPayload does);
 *   a ping is answered by a pong with the same payload, a close is echoed and the socket ended;
 *   a message is decoded and validated by the SDK codec exactly as the SDK client does (binary
 *   only, the same Direction and frame limit; a frame that does not decode closes the connection
 *   with 1008/1009 and it reconnects);
 * - client frames are masked with a fresh 32-bit key per frame from a xorshift generator seeded
 *   once per process, XORed while the frame is copied;
 * - frames sent in one turn of the event loop leave in one write (cork until the check phase, or
 *   5 ms at most), as the SDK's peer does.
 *
 * What ReconnectingClient does that agents.ts uses is kept as it is: the URL asked for on every
 * attempt (undefined: retry after backoff), the backoff (`backoffDelayMs`, full jitter, reset at an
 * open), `reconnectNow` (onClose at once, then a new attempt), `stop` (resolves once every socket
 * is closed), onOpen/onMessage/onClose once per opened connection, a handshake timeout and a
 * closing-handshake timeout of max(1 s, two heartbeat intervals), and the heartbeat (ping a server
 * not heard from for an interval, drop one silent for two; one timer for every connection of the
 * process). Left out, as agents.ts needs none of it: TLS, credentials, onRefused/onAttemptFailed,
 * logging, the send-buffer bound and backpressure, an injected clock.
 */
import { hash, randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import {
  CodecError,
  CodecErrorCode,
  checkShape,
  DEFAULT_MAX_FRAME_BYTES,
  decode,
  encode,
} from '../../../sdk/codec/codec.js';
import type { AnyMessage, Direction, MessageOf } from '../../../sdk/protocol/messages.js';
import { backoffDelayMs, resolveBackoff } from '../../../sdk/transport/client.js';
import {
  asCodecError,
  CloseCode,
  closeCodeFor,
  DEFAULT_HEARTBEAT_INTERVAL_MS,
  type Peer,
  truncateUtf8,
} from '../../../sdk/transport/peer.js';
import { mathRandom, type Rng } from '../../../sdk/util/random.js';

export interface LeanClientOptions<In extends Direction, Out> {
  /** Asked on every (re)connection attempt; undefined when no target is known yet (retry after backoff). */
  url: () => string | undefined;
  inbound: In;
  /** The connection is open; `send` works from here on (also inside this callback). */
  onOpen(peer: LeanPeer<Out>): void;
  onMessage(message: MessageOf<In>): void;
  /** A connection that had opened is closed (once per onOpen). */
  onClose?(code: number, reason: string): void;
  /** As ReconnectingClient: defaults 200, 10_000; x2 with full jitter; reset after an open. */
  backoff?: { initialMs?: number; maxMs?: number };
  /** Default DEFAULT_MAX_FRAME_BYTES (inbound messages and outbound frames). */
  maxFrameBytes?: number;
  rng?: Rng;
}

/** A Peer that can also send a frame already encoded (the failover bench's pre-encoded REREGISTER). */
export interface LeanPeer<Out> extends Peer<Out> {
  sendEncoded(frame: Uint8Array): boolean;
}

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const HEARTBEAT_MS = DEFAULT_HEARTBEAT_INTERVAL_MS;
/** As resolveOptions: a closing handshake (and an upgrade) may take this long. */
const CLOSE_TIMEOUT_MS = Math.max(1000, 2 * HEARTBEAT_MS);
/** An upgrade answer's head larger than this is refused. */
const MAX_HEAD_BYTES = 16 * 1024;

// Per process: 12 random bytes (16 base64 characters) start every key; a count ends it.
const KEY_PREFIX = randomBytes(12).toString('base64');
let keyCount = randomBytes(4).readUInt32BE(0);
const keyTail = Buffer.alloc(4);

/** A new Sec-WebSocket-Key: base64 of 16 bytes, the last four a count. */
export function nextKey(): string {
  keyCount = (keyCount + 1) >>> 0;
  keyTail.writeUInt32BE(keyCount, 0);
  return KEY_PREFIX + keyTail.toString('base64');
}

/** The Sec-WebSocket-Accept a server must answer `key` with (RFC 6455 §4.2.2). */
export function acceptFor(key: string): string {
  return hash('sha1', key + GUID, 'base64');
}

// xorshift32 for the mask keys: seeded once per process, never 0.
let maskState = randomBytes(4).readUInt32BE(0) | 1;
function nextMask(): number {
  let x = maskState;
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  maskState = x;
  return x >>> 0;
}

const OP_CONT = 0x0;
const OP_TEXT = 0x1;
const OP_BINARY = 0x2;
const OP_CLOSE = 0x8;
const OP_PING = 0x9;
const OP_PONG = 0xa;

/** One client frame (FIN set), masked with a fresh key while the payload is copied in. */
export function maskedFrame(opcode: number, payload: Uint8Array): Buffer {
  const len = payload.length;
  const head = len < 126 ? 6 : len < 65536 ? 8 : 14;
  const out = Buffer.allocUnsafe(head + len);
  out[0] = 0x80 | opcode;
  if (len < 126) {
    out[1] = 0x80 | len;
  } else if (len < 65536) {
    out[1] = 0x80 | 126;
    out[2] = len >>> 8;
    out[3] = len & 0xff;
  } else {
    out[1] = 0x80 | 127;
    out.writeUInt32BE(Math.floor(len / 0x100000000), 2);
    out.writeUInt32BE(len >>> 0, 6);
  }
  const m = nextMask();
  const m0 = m >>> 24;
  const m1 = (m >>> 16) & 0xff;
  const m2 = (m >>> 8) & 0xff;
  const m3 = m & 0xff;
  let o = head - 4;
  out[o] = m0;
  out[o + 1] = m1;
  out[o + 2] = m2;
  out[o + 3] = m3;
  o = head;
  const whole = len & ~3;
  let i = 0;
  for (; i < whole; i += 4, o += 4) {
    out[o] = payload[i] ^ m0;
    out[o + 1] = payload[i + 1] ^ m1;
    out[o + 2] = payload[i + 2] ^ m2;
    out[o + 3] = payload[i + 3] ^ m3;
  }
  const key = [m0, m1, m2, m3];
  for (; i < len; i++, o++) out[o] = payload[i] ^ key[i & 3];
  return out;
}

interface Target {
  host: string;
  port: number;
  remote: string;
  /** The upgrade request up to the key's value. */
  request: string;
}

const targets = new Map<string, Target>();

/** The parsed target of a ws:// URL, made once per URL. Throws on anything else. */
function targetOf(url: string): Target {
  let t = targets.get(url);
  if (t) return t;
  const u = new URL(url);
  if (u.protocol !== 'ws:') throw new Error(`the lean client speaks ws:// only, not ${u.protocol}`);
  const port = u.port === '' ? 80 : Number(u.port);
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  t = {
    host,
    port,
    remote: u.host,
    request:
      `GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
      'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ',
  };
  targets.set(url, t);
  return t;
}

const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

let nextId = 0;
const ID_PREFIX = `lean-${randomBytes(4).toString('hex')}-`;

/** One connection: the handshake, the frames, the closing handshake. */
export class LeanConnection<In extends Direction, Out> implements LeanPeer<Out> {
  readonly id = `${ID_PREFIX}${(nextId++).toString(16)}`;
  readonly remoteAddress: string;
  state = CONNECTING;
  /** The owner called onOpen for it. */
  opened = false;
  /** Date.now() of the last sign of life from the server. */
  lastSeen = Date.now();
  /** Date.now() of the last heartbeat ping sent (0: none yet). */
  lastPingAt = 0;
  private readonly socket: Socket;
  private readonly accept: string;
  /** Bytes received and not parsed yet, and how many are needed before parsing can go on. */
  private pending: Buffer[] = [];
  private pendingLen = 0;
  private need = 0;
  /** A fragmented message being received. */
  private fragments: Buffer[] = [];
  private fragmentsLen = 0;
  private fragmentOp = -1;
  private closeSent = false;
  private closeReceived: { code: number; reason: string } | undefined;
  private localClose: { code: number; reason: string } | undefined;
  private closeTimer: NodeJS.Timeout | undefined;
  private corked = false;
  /** False once a close frame came, a protocol error or a refusal: what follows is not read. */
  private reading = true;

  constructor(
    private readonly owner: LeanClient<In, Out>,
    target: Target,
  ) {
    this.remoteAddress = target.remote;
    const key = nextKey();
    this.accept = acceptFor(key);
    const socket = connect(target.port, target.host);
    this.socket = socket;
    socket.setNoDelay(true);
    socket.setTimeout(CLOSE_TIMEOUT_MS);
    // Written at once: the socket holds it until it is connected.
    socket.write(`${target.request}${key}\r\n\r\n`, 'latin1');
    socket.on('data', (chunk: Buffer) => this.data(chunk));
    socket.on('timeout', () => socket.destroy());
    socket.on('error', () => undefined); // 'close' follows
    socket.on('close', () => this.closed());
  }

  get open(): boolean {
    return this.state === OPEN;
  }

  send(message: Out): boolean {
    if (this.state !== OPEN) return false;
    const frame = encode(message as AnyMessage);
    const max = this.owner.maxFrameBytes;
    if (frame.byteLength > max) {
      throw new CodecError(
        `outgoing ${(message as AnyMessage).type} of ${frame.byteLength} bytes exceeds the frame limit of ${max} bytes`,
        CodecErrorCode.FRAME_TOO_LARGE,
      );
    }
    checkShape(frame, `outgoing ${(message as AnyMessage).type}`);
    this.write(maskedFrame(OP_BINARY, frame));
    return true;
  }

  sendEncoded(frame: Uint8Array): boolean {
    if (this.state !== OPEN) return false;
    this.write(maskedFrame(OP_BINARY, frame));
    return true;
  }

  close(code: number = CloseCode.NORMAL, reason = ''): void {
    if (this.state === CLOSING || this.state === CLOSED) return;
    const cut = truncateUtf8(reason);
    this.localClose ??= { code, reason: cut };
    if (this.state === CONNECTING) {
      // As ws: a connection closed before it opened is dropped.
      this.state = CLOSING;
      this.socket.destroy();
      return;
    }
    this.state = CLOSING;
    this.sendClose(code, cut);
    if (this.closeReceived) this.socket.end();
    else this.armCloseTimer();
  }

  /** Drops the connection without a closing handshake. */
  terminate(reason: string): void {
    if (this.state === CLOSED) return;
    this.localClose ??= { code: CloseCode.ABNORMAL, reason };
    this.socket.destroy();
  }

  /** The heartbeat's ping (empty payload). */
  ping(): void {
    if (this.state !== OPEN) return;
    this.write(maskedFrame(OP_PING, EMPTY));
    this.lastPingAt = Date.now();
  }

  private armCloseTimer(): void {
    this.closeTimer ??= setTimeout(() => this.socket.destroy(), CLOSE_TIMEOUT_MS);
  }

  private sendClose(code: number, reason: string): void {
    if (this.closeSent) return;
    this.closeSent = true;
    let payload: Buffer = EMPTY;
    if (code !== 1005) {
      payload = Buffer.allocUnsafe(2 + Buffer.byteLength(reason));
      payload.writeUInt16BE(code, 0);
      payload.write(reason, 2, 'utf8');
    }
    this.write(maskedFrame(OP_CLOSE, payload));
  }

  /** Writes, corked until the end of this turn of the event loop (or MAX_CORK_MS). */
  private write(frame: Buffer): void {
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      if (corked.length === 0) corkedSince = performance.now();
      corked.push(this);
      if (!endArmed) {
        endArmed = true;
        setImmediate(endTurn);
      }
    }
    this.socket.write(frame);
    if (performance.now() - corkedSince > MAX_CORK_MS) flushCorked();
  }

  uncork(): void {
    if (!this.corked) return;
    this.corked = false;
    this.socket.uncork();
  }

  private data(chunk: Buffer): void {
    if (!this.reading) return;
    this.lastSeen = Date.now();
    this.pending.push(chunk);
    this.pendingLen += chunk.length;
    if (this.pendingLen < this.need) return;
    const buf = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending, this.pendingLen);
    this.pending = [];
    this.pendingLen = 0;
    this.need = 0;
    let off = 0;
    if (this.state === CONNECTING) {
      off = this.handshake(buf);
      if (off < 0) return;
    }
    off = this.frames(buf, off);
    if (off >= 0 && off < buf.length) {
      this.pending.push(buf.subarray(off));
      this.pendingLen = buf.length - off;
    }
  }

  /** Reads the upgrade answer; returns where the frames start, or -1 (waiting for more, or refused). */
  private handshake(buf: Buffer): number {
    const end = buf.indexOf('\r\n\r\n', 0, 'latin1');
    if (end < 0) {
      if (buf.length > MAX_HEAD_BYTES) this.refuse();
      else {
        this.pending.push(buf);
        this.pendingLen = buf.length;
      }
      return -1;
    }
    const lines = buf.toString('latin1', 0, end).split('\r\n');
    if (!/^HTTP\/1\.1 101(?: |$)/.test(lines[0])) {
      this.refuse();
      return -1;
    }
    let upgrade = '';
    let connection = '';
    let accept = '';
    let other = false;
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i];
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === 'upgrade') upgrade = value.toLowerCase();
      else if (name === 'connection') connection = value.toLowerCase();
      else if (name === 'sec-websocket-accept') accept = value;
      else if (name === 'sec-websocket-extensions' || name === 'sec-websocket-protocol') other = true;
    }
    if (upgrade !== 'websocket' || !/(?:^|,)\s*upgrade\s*(?:,|$)/.test(connection) || accept !== this.accept || other) {
      this.refuse();
      return -1;
    }
    this.state = OPEN;
    this.socket.setTimeout(0);
    openConnections.add(this as LeanConnection<Direction, unknown>);
    armHeartbeat();
    this.owner.opened(this);
    return this.state === OPEN || this.state === CLOSING ? end + 4 : -1;
  }

  /** Not a WebSocket answer: the attempt failed (retried after backoff). */
  private refuse(): void {
    this.reading = false;
    this.state = CLOSING;
    this.socket.destroy();
  }

  /** Parses every whole frame from `off`; returns where the unparsed rest starts (-1: stop). */
  private frames(buf: Buffer, start: number): number {
    let off = start;
    const max = this.owner.maxFrameBytes;
    while (this.state === OPEN || this.state === CLOSING) {
      const left = buf.length - off;
      if (left < 2) {
        this.need = 2;
        return off;
      }
      const b0 = buf[off];
      const b1 = buf[off + 1];
      const fin = (b0 & 0x80) !== 0;
      const op = b0 & 0x0f;
      if ((b0 & 0x70) !== 0) return this.fail(1002, 'RSV bits set');
      if ((b1 & 0x80) !== 0) return this.fail(1002, 'a server frame must not be masked');
      let len = b1 & 0x7f;
      let head = 2;
      if (len === 126) {
        if (left < 4) {
          this.need = 4;
          return off;
        }
        len = buf.readUInt16BE(off + 2);
        head = 4;
      } else if (len === 127) {
        if (left < 10) {
          this.need = 10;
          return off;
        }
        const high = buf.readUInt32BE(off + 2);
        if (high > 0x1fffff) return this.fail(1009, 'frame length too large');
        len = high * 0x100000000 + buf.readUInt32BE(off + 6);
        head = 10;
      }
      if (op >= 0x8) {
        if (op !== OP_CLOSE && op !== OP_PING && op !== OP_PONG) return this.fail(1002, `opcode ${op}`);
        if (!fin || len > 125) return this.fail(1002, 'bad control frame');
      } else {
        if (op !== OP_CONT && op !== OP_TEXT && op !== OP_BINARY) return this.fail(1002, `opcode ${op}`);
        if ((op === OP_CONT) !== this.fragmentOp >= 0) return this.fail(1002, 'bad continuation');
        // As ws's maxPayload: refused from the header, before the payload arrives.
        if (this.fragmentsLen + len > max) {
          return this.fail(CloseCode.MESSAGE_TOO_BIG, `frame exceeds the limit of ${max} bytes`);
        }
      }
      if (left < head + len) {
        this.need = head + len;
        return off;
      }
      const payload = buf.subarray(off + head, off + head + len);
      off += head + len;
      if (op === OP_PING) {
        if (this.state === OPEN) this.write(maskedFrame(OP_PONG, payload));
      } else if (op === OP_PONG) {
        // lastSeen is already set
      } else if (op === OP_CLOSE) {
        this.closeFrame(payload);
        return -1;
      } else if (fin && op !== OP_CONT) {
        this.deliver(payload, op === OP_BINARY);
      } else {
        if (op !== OP_CONT) this.fragmentOp = op;
        this.fragments.push(payload);
        this.fragmentsLen += len;
        if (fin) {
          const whole = Buffer.concat(this.fragments, this.fragmentsLen);
          const binary = this.fragmentOp === OP_BINARY;
          this.fragments = [];
          this.fragmentsLen = 0;
          this.fragmentOp = -1;
          this.deliver(whole, binary);
        }
      }
    }
    return -1;
  }

  private deliver(data: Buffer, binary: boolean): void {
    if (this.state !== OPEN) return; // closing: drop the rest, as the SDK client does
    let message: MessageOf<In>;
    try {
      if (!binary) {
        throw new CodecError(
          'malformed frame: text frames are not accepted (send one msgpack message per binary frame)',
          CodecErrorCode.MALFORMED,
        );
      }
      message = decode(this.owner.inbound, data, this.owner.maxFrameBytes);
    } catch (e) {
      const error = asCodecError(e);
      this.close(closeCodeFor(error), error.message);
      return;
    }
    this.owner.message(this, message);
  }

  private closeFrame(payload: Buffer): void {
    let code = 1005;
    let reason = '';
    if (payload.length >= 2) {
      code = payload.readUInt16BE(0);
      reason = payload.toString('utf8', 2);
    }
    this.closeReceived = { code, reason };
    this.reading = false;
    if (this.state === OPEN) {
      // As ws: echo the code (none for none) and end.
      this.state = CLOSING;
      this.sendClose(code, reason);
    }
    this.socket.end();
    this.armCloseTimer();
  }

  /** A protocol error: close with `code` and end the socket without waiting. */
  private fail(code: number, reason: string): number {
    this.localClose ??= { code, reason };
    this.reading = false;
    if (this.state === OPEN) this.sendClose(code, reason);
    this.state = CLOSING;
    this.socket.end();
    this.armCloseTimer();
    return -1;
  }

  private closed(): void {
    if (this.state === CLOSED) return;
    this.state = CLOSED;
    clearTimeout(this.closeTimer);
    openConnections.delete(this as LeanConnection<Direction, unknown>);
    const info = this.localClose ?? this.closeReceived ?? { code: CloseCode.ABNORMAL, reason: '' };
    this.owner.closed(this, info.code, info.reason);
  }
}

const EMPTY = Buffer.alloc(0);

/** Longest time a frame waits corked in a long pass of the event loop (as the SDK's peer). */
const MAX_CORK_MS = 5;
let corked: LeanConnection<Direction, unknown>[] = [];
let corkedSince = Number.POSITIVE_INFINITY;
let endArmed = false;

function flushCorked(): void {
  const list = corked;
  corked = [];
  corkedSince = Number.POSITIVE_INFINITY;
  for (const c of list) c.uncork();
}

function endTurn(): void {
  endArmed = false;
  flushCorked();
}

// One heartbeat for every open connection of the process (heartbeatRound's rules).
const openConnections = new Set<LeanConnection<Direction, unknown>>();
let heartbeat: NodeJS.Timeout | undefined;
let heartbeatLast = 0;

function armHeartbeat(): void {
  if (heartbeat) return;
  heartbeatLast = Date.now();
  heartbeat = setInterval(heartbeatRound, HEARTBEAT_MS);
  heartbeat.unref();
}

function heartbeatRound(): void {
  if (openConnections.size === 0) {
    clearInterval(heartbeat);
    heartbeat = undefined;
    return;
  }
  const now = Date.now();
  const late = now - heartbeatLast > 1.5 * HEARTBEAT_MS || now < heartbeatLast;
  heartbeatLast = now;
  const suspects: LeanConnection<Direction, unknown>[] = [];
  for (const c of openConnections) {
    if (c.lastSeen > now) c.lastSeen = now;
    // As the SDK's heartbeatRound: only a server pinged since it was last heard from is judged.
    if (!late && now - c.lastSeen > 2 * HEARTBEAT_MS && c.lastPingAt >= c.lastSeen) {
      suspects.push(c);
      continue;
    }
    if (now - c.lastSeen < HEARTBEAT_MS) continue;
    c.ping();
  }
  if (suspects.length === 0) return;
  // Judged again once the input already waiting has been read (as heartbeatRound).
  setImmediate(() => {
    for (const c of suspects) {
      if (now - c.lastSeen > 2 * HEARTBEAT_MS) c.terminate('heartbeat timeout');
      else c.ping();
    }
  });
}

/** ReconnectingClient's behaviour that sim/agents.ts uses, over LeanConnection. */
export class LeanClient<In extends Direction, Out> {
  readonly inbound: In;
  readonly maxFrameBytes: number;
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly rng: Rng;
  private started = false;
  private stopped = false;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private current: LeanConnection<In, Out> | undefined;
  /** Every connection not yet closed, including ones dropped by reconnectNow. */
  private readonly live = new Set<LeanConnection<In, Out>>();
  private waiters: (() => void)[] = [];

  constructor(private readonly opts: LeanClientOptions<In, Out>) {
    this.inbound = opts.inbound;
    this.maxFrameBytes = opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    ({ initialMs: this.initialMs, maxMs: this.maxMs } = resolveBackoff(opts.backoff));
    this.rng = opts.rng ?? mathRandom;
  }

  get connected(): boolean {
    return this.current?.open ?? false;
  }

  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    this.connect();
  }

  /** Closes, stops reconnecting, and resolves when every socket is closed. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.clearRetry();
    this.current?.close(CloseCode.NORMAL, 'client stopping');
    if (this.live.size === 0) return;
    await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  /** False when not connected. */
  send(message: Out): boolean {
    return this.current ? this.current.send(message) : false;
  }

  /** Drops the current connection (if any) and reconnects at once (e.g. the leader changed). */
  reconnectNow(): void {
    this.reconnectAfter(0);
  }

  /** As ReconnectingClient's: drops the connection and makes the next attempt after `delayMs`. */
  reconnectAfter(delayMs: number): void {
    if (!this.started || this.stopped) return;
    this.failures = 0;
    this.clearRetry();
    const old = this.current;
    this.current = undefined;
    if (old) {
      old.close(CloseCode.NORMAL, 'reconnecting');
      if (old.opened) this.notifyClose(CloseCode.NORMAL, 'reconnecting');
    }
    if (delayMs <= 0) {
      this.connect();
      return;
    }
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.connect();
    }, delayMs);
  }

  private connect(): void {
    let url: string | undefined;
    try {
      url = this.opts.url();
    } catch {
      url = undefined;
    }
    if (this.stopped) return;
    if (url === undefined) {
      this.scheduleRetry();
      return;
    }
    let target: Target;
    try {
      target = targetOf(url);
    } catch {
      this.scheduleRetry();
      return;
    }
    const conn = new LeanConnection<In, Out>(this, target);
    this.current = conn;
    this.live.add(conn);
  }

  /** The connection's handshake succeeded. */
  opened(conn: LeanConnection<In, Out>): void {
    if (this.current !== conn || this.stopped) {
      conn.close(CloseCode.NORMAL, 'client stopping');
      return;
    }
    conn.opened = true;
    this.failures = 0;
    try {
      this.opts.onOpen(conn);
    } catch {
      // as ReconnectingClient: a handler that throws does not break the connection
    }
  }

  message(conn: LeanConnection<In, Out>, message: MessageOf<In>): void {
    if (this.current !== conn) return;
    try {
      this.opts.onMessage(message);
    } catch {
      // as ReconnectingClient
    }
  }

  closed(conn: LeanConnection<In, Out>, code: number, reason: string): void {
    this.live.delete(conn);
    if (this.live.size === 0 && this.waiters.length > 0) {
      const w = this.waiters;
      this.waiters = [];
      for (const resolve of w) resolve();
    }
    if (this.current !== conn) return; // dropped by reconnectNow (already reported) or superseded
    this.current = undefined;
    if (conn.opened) this.notifyClose(code, reason);
    if (!this.stopped) this.scheduleRetry();
  }

  private notifyClose(code: number, reason: string): void {
    try {
      this.opts.onClose?.(code, reason);
    } catch {
      // as ReconnectingClient
    }
  }

  private scheduleRetry(): void {
    if (this.stopped) return;
    this.clearRetry();
    const delay = backoffDelayMs(this.failures, this.initialMs, this.maxMs, this.rng);
    this.failures++;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.connect();
    }, delay);
  }

  private clearRetry(): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }
}
