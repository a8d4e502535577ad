/**
 * Carries one generated input to the cluster and records what came back: an HTTP answer (status,
 * body, time) or what a WebSocket session saw (events, errors, close code and reason).
 */
import http from 'node:http';
import { Packr } from 'msgpackr';
import WebSocket from 'ws';
import type { HttpInput } from './http-gen.js';
import { rawExchange } from './raw-http.js';
import { WS_PATHS } from './routes.js';
import { bulkJson, expand, isBulk, text } from './values.js';
import type { Frame, WsInput } from './ws-gen.js';

const packr = new Packr({ useRecords: false, moreTypes: false, structuredClone: false });

export interface Target {
  masterUrl: string;
  agentUrl: string;
  masterPort: number;
  agentPort: number;
  /** Marathon's REST API port, when the lane runs one. */
  marathonPort?: number;
  /** Chronos/Metronome's REST API port, when the lane runs one. */
  chronosPort?: number;
  agentWorkDir: string;
  masterWorkDir: string;
  /** Placeholder values; a muted placeholder resolves to an id that exists nowhere. */
  ids: Record<string, string | undefined>;
}

export interface HttpAnswer {
  status: number;
  body: string;
  ms: number;
  error?: string;
}

const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 4 });

function fill(text: string, t: Target): string {
  return text
    .replace(/\$MASTER_WORKDIR/g, t.masterWorkDir)
    .replace(/\$WORKDIR/g, t.agentWorkDir)
    .replace(/\$SANDBOX/g, t.ids.$SANDBOX ?? `${t.agentWorkDir}/sandboxes`)
    .replace(/\$FAKE_AGENT/g, t.ids.$FAKE_AGENT ?? 'no-fake-agent');
}

function bodyBytes(input: HttpInput, t: Target): { bytes?: Buffer; contentType?: string } {
  const b = input.body;
  if (!b) return {};
  if (b.t === 'json') return { bytes: Buffer.from(fill(safeJson(b.value), t)), contentType: 'application/json' };
  if (b.t === 'bulk') return { bytes: Buffer.from(bulkJson(b.bulk)), contentType: 'application/json' };
  return { bytes: Buffer.from(fill(b.text, t)), contentType: b.contentType ?? 'application/json' };
}

function safeJson(v: unknown): string {
  return JSON.stringify(v, (_k, x) => (isBulk(x) ? expand(x) : x)) ?? 'null';
}

export async function sendHttp(input: HttpInput, t: Target, timeoutMs = 15_000): Promise<HttpAnswer> {
  const a = await sendHttpOnce(input, t, timeoutMs, keepAlive);
  // A kept-alive socket the server had already closed is the client's problem: retry on a new one.
  if (a.status === 0 && !input.raw && /hang up|ECONNRESET|EPIPE/.test(a.error ?? ''))
    return sendHttpOnce(input, t, timeoutMs, false);
  return a;
}

async function sendHttpOnce(
  input: HttpInput,
  t: Target,
  timeoutMs: number,
  agent: http.Agent | false,
): Promise<HttpAnswer> {
  const port =
    input.surface === 'master'
      ? t.masterPort
      : input.surface === 'marathon'
        ? (t.marathonPort ?? 1)
        : input.surface === 'chronos'
          ? (t.chronosPort ?? 1)
          : t.agentPort;
  const target = fill(input.target, t);
  const { bytes, contentType } = bodyBytes(input, t);
  const started = performance.now();
  if (input.raw) return sendRaw(port, input.method, target, input.headers, bytes, contentType, started, timeoutMs);
  return new Promise<HttpAnswer>((resolve) => {
    const headers: Record<string, string | string[]> = {};
    if (bytes) {
      headers['content-type'] = contentType ?? 'application/json';
      headers['content-length'] = String(bytes.length);
    }
    for (const [k, v] of input.headers) headers[k] = v;
    let req: http.ClientRequest;
    try {
      req = http.request({ host: '127.0.0.1', port, method: input.method, path: target, headers, agent });
    } catch {
      // The client itself refuses (e.g. an invalid header): fall back to a bare socket.
      void sendRaw(port, input.method, target, input.headers, bytes, contentType, started, timeoutMs).then(resolve);
      return;
    }
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      // A 200 that streams (the operator API's SUBSCRIBE): its first record is enough; abandon the stream.
      const streaming =
        res.statusCode === 200 &&
        res.headers['content-length'] === undefined &&
        (input.route.endsWith('/api/v1') || input.route.endsWith('/v2/events'));
      res.on('data', (c: Buffer) => {
        if (size < 4096) chunks.push(c);
        size += c.length;
        if (streaming && Buffer.concat(chunks).includes(10)) {
          clearTimeout(timer);
          req.destroy();
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
            ms: performance.now() - started,
          });
        }
      });
      res.on('end', () => {
        clearTimeout(timer);
        resolve({
          status: res.statusCode ?? 0,
          body: Buffer.concat(chunks).toString('utf8'),
          ms: performance.now() - started,
        });
      });
      res.on('error', (e) => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, body: '', ms: performance.now() - started, error: e.message });
      });
    });
    req.on('error', (e) => {
      clearTimeout(timer);
      resolve({ status: 0, body: '', ms: performance.now() - started, error: e.message });
    });
    req.end(bytes);
  });
}

/** Writes the request by hand (any bytes in the target) and reads the answer until the server closes. */
async function sendRaw(
  port: number,
  method: string,
  target: string,
  extra: [string, string][],
  bytes: Buffer | undefined,
  contentType: string | undefined,
  started: number,
  timeoutMs: number,
): Promise<HttpAnswer> {
  const lines = [`${method} ${target} HTTP/1.1`, `Host: 127.0.0.1:${port}`, 'Connection: close'];
  for (const [k, v] of extra) lines.push(`${k}: ${v}`);
  if (bytes) lines.push(`Content-Type: ${contentType ?? 'application/json'}`, `Content-Length: ${bytes.length}`);
  const a = await rawExchange(port, {
    lines,
    body: bytes ? [bytes] : [],
    timeoutMs,
    timeoutError: `no answer within ${timeoutMs} ms`,
    stopAtLastChunk: true,
  });
  return { ...a, ms: performance.now() - started };
}

// ------------------------------------------------------------------ WebSocket sessions

export interface WsEvent {
  type: string;
  value: Record<string, unknown>;
}

export interface WsOutcome {
  /** Did the upgrade succeed? */
  opened: boolean;
  events: WsEvent[];
  close?: { code: number; reason: string; byServer: boolean };
  /** Frames actually sent (after placeholders were filled). */
  sent: unknown[];
  /** Framework ids the master acknowledged with SUBSCRIBED; agent ids with (RE)REGISTERED. */
  subscribed: string[];
  registered: string[];
  /** Milliseconds from the last frame sent to the server closing, when it did. */
  closeAfterMs?: number;
  error?: string;
  ms: number;
}

/** Replaces placeholders anywhere in a message; `$OFFER`/`$FW`/`$OWN_AGENT` come from this session. */
function resolveValue(v: unknown, ids: Record<string, string | undefined>): unknown {
  if (typeof v === 'string') return v.startsWith('$') && v in ids ? (ids[v] ?? `unset${v.slice(1)}`) : v;
  // msgpackr packs recursively: a value nested thousands deep goes out as a hand-made frame instead.
  if (isBulk(v)) return expand(v.bulk === 'deep' ? { ...v, depth: Math.min(v.depth, 500) } : v);
  if (Array.isArray(v)) return v.map((x) => resolveValue(x, ids));
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = resolveValue(x, ids);
    return out;
  }
  return v;
}

function frameBytes(f: Frame, ids: Record<string, string | undefined>): { data: Buffer | string; value?: unknown } {
  switch (f.t) {
    case 'msg': {
      const value = resolveValue(f.value, ids);
      return { data: packr.pack(value), value };
    }
    case 'hex':
      return { data: Buffer.from(f.hex, 'hex') };
    case 'emptyMaps': {
      const b = Buffer.alloc(5 + f.count, 0x80);
      b[0] = 0xdd;
      b.writeUInt32BE(f.count, 1);
      return { data: b };
    }
    case 'deepArrays':
      // [[[…[]…]]]: `depth` fixarray-of-one headers, then an empty fixarray.
      return { data: Buffer.concat([Buffer.alloc(f.depth, 0x91), Buffer.from([0x90])]) };
    case 'text':
      return { data: f.text };
  }
}

function needs(f: Frame, name: string): boolean {
  return f.t === 'msg' && JSON.stringify(f.value ?? null)?.includes(`"${name}"`) === true;
}

export async function sendWs(input: WsInput, t: Target, quietMs = 10): Promise<WsOutcome> {
  const started = performance.now();
  const out: WsOutcome = { opened: false, events: [], sent: [], subscribed: [], registered: [], ms: 0 };
  const url = `ws://127.0.0.1:${t.masterPort}${WS_PATHS[input.endpoint]}`;
  const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 64 * 1024 * 1024, handshakeTimeout: 10_000 });
  const ids: Record<string, string | undefined> = { ...t.ids };
  let wake: (() => void) | undefined;
  let closedResolve: () => void = () => {};
  const closed = new Promise<void>((r) => {
    closedResolve = r;
  });
  let lastSentAt = 0;
  let closingByUs = false;
  ws.on('message', (data: Buffer) => {
    let v: unknown;
    try {
      v = packr.unpack(data);
    } catch {
      v = { type: 'UNDECODABLE' };
    }
    const value = (v && typeof v === 'object' ? v : { type: text(v) }) as Record<string, unknown>;
    const type = text(value.type);
    out.events.push({ type, value });
    if (type === 'SUBSCRIBED') {
      const fid = text((value.subscribed as { framework_id?: unknown })?.framework_id);
      out.subscribed.push(fid);
      ids.$FW = fid;
    } else if (type === 'REGISTERED' || type === 'REREGISTERED') {
      const aid = text(value.agent_id);
      out.registered.push(aid);
      ids.$OWN_AGENT = aid;
    } else if (type === 'OFFERS' && !ids.$OFFER) {
      const offers = (value.offers as { offers?: { id?: string }[] })?.offers ?? [];
      if (offers[0]?.id) ids.$OFFER = offers[0].id;
    } else if (type === 'PING' && input.endpoint === 'agent') {
      // A fake agent that answers pings stays as alive as a real one.
      try {
        ws.send(packr.pack({ type: 'PONG', seq: value.seq }));
      } catch {
        // closing
      }
    }
    wake?.();
  });
  ws.on('close', (code, reason) => {
    out.close = { code, reason: reason.toString(), byServer: !closingByUs };
    if (!closingByUs && lastSentAt) out.closeAfterMs = performance.now() - lastSentAt;
    wake?.();
    closedResolve();
  });
  ws.on('error', (e) => {
    out.error = e.message;
    wake?.();
  });
  const opened = await new Promise<boolean>((resolve) => {
    ws.once('open', () => resolve(true));
    ws.once('close', () => resolve(false));
    ws.once('error', () => resolve(false));
  });
  out.opened = opened;
  if (!opened) {
    out.ms = performance.now() - started;
    return out;
  }
  const waitFor = (ms: number, until: () => boolean) =>
    new Promise<void>((resolve) => {
      if (until() || out.close) return resolve();
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      }
      wake = () => {
        if (until() || out.close) done();
      };
    });
  ids.$OFFER = undefined;
  ids.$FW = undefined;
  ids.$OWN_AGENT = undefined;
  for (const f of input.frames) {
    if (out.close || ws.readyState !== WebSocket.OPEN) break;
    if (needs(f, '$OFFER') && !ids.$OFFER && out.subscribed.length > 0) await waitFor(150, () => !!ids.$OFFER);
    if (out.close || ws.readyState !== WebSocket.OPEN) break;
    const { data, value } = frameBytes(f, ids);
    out.sent.push(
      value ??
        (f.t === 'emptyMaps' ? `<${f.count} empty maps>` : f.t === 'deepArrays' ? `<arrays ${f.depth} deep>` : f),
    );
    const before = out.events.length;
    lastSentAt = performance.now();
    await new Promise<void>((resolve) => ws.send(data, { binary: f.t !== 'text' }, () => resolve()));
    const type = f.t === 'msg' ? (value as { type?: unknown })?.type : undefined;
    const expectsAnswer = type === 'SUBSCRIBE' || type === 'REGISTER' || type === 'REREGISTER';
    // The answer to SUBSCRIBE or REGISTER comes once the registrar holds the record: wait for it
    // (up to 10 s; a few ms normally), or a session that leaves first is counted as refused while
    // the master may still be writing what it admits.
    await waitFor(expectsAnswer ? 10_000 : f.t === 'msg' ? quietMs : 500, () => out.events.length > before);
  }
  if (!out.close) await waitFor(quietMs * 2, () => false);
  if (!out.close) {
    closingByUs = true;
    ws.close(1000, 'fuzz session over');
    const timer = setTimeout(() => ws.terminate(), 2000);
    await closed;
    clearTimeout(timer);
  }
  out.ms = performance.now() - started;
  return out;
}

export function closeAllHttp(): void {
  keepAlive.destroy();
}
