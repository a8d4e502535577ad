/**
 * Carries Mesos v1 scheduler input to the master: `MesosStream` holds one SUBSCRIBE's RecordIO
 * event stream (the lane's HTTP fixture framework, or a session's own), `sendMesos` plays a
 * session (subscribe, then each call with the stream id it names) and records every answer and
 * what the stream saw.
 */
import http from 'node:http';
import type { Body } from './http-gen.js';
import type { MesosCall, MesosInput } from './mesos-gen.js';
import { rawExchange } from './raw-http.js';
import type { Target } from './send.js';
import { bulkJson, expand, isBulk } from './values.js';

export const SCHEDULER_PATH = '/api/v1/scheduler';

// biome-ignore lint/suspicious/noExplicitAny: events are read loosely
export type MesosEvent = any;

/** One SUBSCRIBE held open: its stream id, framework id and the events it received. */
export class MesosStream {
  streamId = '';
  frameworkId = '';
  status = 0;
  /** The error body when the SUBSCRIBE was refused. */
  refusal = '';
  events: MesosEvent[] = [];
  ended = false;
  /** Set when the stream ended or errored before we closed it. */
  endedByServer = false;
  private req?: http.ClientRequest;
  private res?: http.IncomingMessage;
  private buf = Buffer.alloc(0);
  private closing = false;
  private waiters: (() => void)[] = [];

  /** Opens the stream and waits for its first event (or its refusal). */
  static async open(port: number, body: string, timeoutMs = 10_000): Promise<MesosStream> {
    const s = new MesosStream();
    await s.start(port, body, timeoutMs);
    return s;
  }

  private start(port: number, body: string, timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.refusal ||= `no first event within ${timeoutMs} ms`;
        resolve();
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      const req = http.request({
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: SCHEDULER_PATH,
        agent: false,
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          'content-length': Buffer.byteLength(body),
        },
      });
      this.req = req;
      req.on('error', (e) => {
        this.refusal ||= e.message;
        this.markEnded();
        done();
      });
      req.on('response', (res) => {
        this.res = res;
        this.status = res.statusCode ?? 0;
        this.streamId = String(res.headers['mesos-stream-id'] ?? '');
        if (this.status !== 200) {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            this.refusal = Buffer.concat(chunks).toString('utf8').slice(0, 2000);
            this.ended = true;
            done();
          });
          res.on('error', () => done());
          return;
        }
        res.on('data', (c: Buffer) => {
          this.buf = Buffer.concat([this.buf, c]);
          this.parse();
          if (this.events.length > 0) done();
        });
        res.on('end', () => {
          this.markEnded();
          done();
        });
        res.on('error', () => {
          this.markEnded();
          done();
        });
        res.on('close', () => this.markEnded());
      });
      req.end(body);
    });
  }

  private markEnded(): void {
    if (this.ended) return;
    this.ended = true;
    if (!this.closing) this.endedByServer = true;
    this.wake();
  }

  private wake(): void {
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w();
  }

  /** RecordIO: `<length>\n<json>` records. */
  private parse(): void {
    for (;;) {
      const nl = this.buf.indexOf(10);
      if (nl < 0) return;
      const len = Number(this.buf.subarray(0, nl).toString('latin1'));
      if (!Number.isInteger(len) || len < 0) {
        this.events.push({ type: 'UNPARSABLE_RECORDIO', head: this.buf.subarray(0, 40).toString('latin1') });
        this.buf = Buffer.alloc(0);
        return;
      }
      if (this.buf.length < nl + 1 + len) return;
      const text = this.buf.subarray(nl + 1, nl + 1 + len).toString('utf8');
      this.buf = this.buf.subarray(nl + 1 + len);
      let ev: MesosEvent;
      try {
        ev = JSON.parse(text);
      } catch {
        ev = { type: 'UNPARSABLE_JSON', text: text.slice(0, 200) };
      }
      this.events.push(ev);
      if (ev?.type === 'SUBSCRIBED') this.frameworkId = String(ev.subscribed?.framework_id?.value ?? '');
      this.wake();
    }
  }

  /** Waits until `until()` holds, the stream ends, or `ms` pass. */
  wait(ms: number, until: () => boolean): Promise<void> {
    return new Promise((resolve) => {
      if (until() || this.ended) return resolve();
      const timer = setTimeout(resolve, ms);
      const check = () => {
        if (until() || this.ended) {
          clearTimeout(timer);
          resolve();
        } else this.waiters.push(check);
      };
      this.waiters.push(check);
    });
  }

  /** The first offer id seen on the stream, if any. */
  offerId(): string | undefined {
    for (const e of this.events)
      if (e?.type === 'OFFERS') {
        const id = e.offers?.offers?.[0]?.id?.value;
        if (typeof id === 'string') return id;
      }
    return undefined;
  }

  /** ERROR events received (the only way the master refuses an accepted call). */
  errors(): string[] {
    return this.events.filter((e) => e?.type === 'ERROR').map((e) => String(e.error?.message ?? JSON.stringify(e)));
  }

  close(): void {
    this.closing = true;
    this.req?.destroy();
    this.res?.destroy();
    this.ended = true;
    this.wake();
  }
}

export interface MesosAnswer {
  call: MesosCall;
  status: number;
  body: string;
  /** The `Mesos-Stream-Id` an answer carried (a SUBSCRIBE sent as a call that opened a stream). */
  streamId?: string;
  /** The `type` and `framework_id.value` of the body actually sent, when it parsed. */
  sentType?: string;
  sentFw?: string;
  /** Did the call carry a `Mesos-Stream-Id`, and was it this session's own stream's? */
  sentStream: 'own' | 'other' | 'none';
  /** Size of the body sent. */
  bodyBytes: number;
  ms: number;
  error?: string;
}

export interface MesosOutcome {
  /** Status of the session's own SUBSCRIBE (0 when there was none). */
  subscribeStatus: number;
  subscribeRefusal: string;
  frameworkId: string;
  answers: MesosAnswer[];
  /** The session's stream ended before the session closed it. */
  streamEndedByServer: boolean;
  streamErrors: string[];
  events: string[];
}

/** Replaces placeholders anywhere in a value; expands bulk values. */
function resolve(v: unknown, ids: Record<string, string | undefined>): unknown {
  if (typeof v === 'string') return v.startsWith('$') && v in ids ? (ids[v] ?? `unset${v.slice(1)}`) : v;
  // JSON.stringify recurses: a value thousands deep goes out as a whole bulk body instead (bulkJson).
  if (isBulk(v)) return expand(v.bulk === 'deep' ? { ...v, depth: Math.min(v.depth, 500) } : v);
  if (Array.isArray(v)) return v.map((x) => resolve(x, ids));
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      if (k === '__proto__')
        Object.defineProperty(out, k, { value: resolve(x, ids), enumerable: true, writable: true, configurable: true });
      else out[k] = resolve(x, ids);
    }
    return out;
  }
  return v;
}

function bodyText(b: Body, ids: Record<string, string | undefined>): string {
  if (b.t === 'bulk') return bulkJson(b.bulk);
  if (b.t === 'json') return JSON.stringify(resolve(b.value, ids)) ?? 'null';
  return b.text.replace(/\$[A-Z_]+/g, (m) => (m in ids ? (ids[m] ?? `unset${m.slice(1)}`) : m));
}

/** The headers a call carries (stream id by reference, content type, accept). */
function headersOf(
  call: MesosCall,
  ownStream: string | undefined,
  otherStream: string | undefined,
): [string, string][] {
  const h: [string, string][] = [];
  if (call.contentType !== null) h.push(['content-type', call.contentType]);
  if (call.accept !== undefined) h.push(['accept', call.accept]);
  const sid =
    call.stream === 'own'
      ? (ownStream ?? '11111111-1111-4111-8111-111111111111')
      : call.stream === 'other'
        ? otherStream
        : call.stream === 'literal'
          ? call.streamLiteral
          : undefined;
  if (sid !== undefined) h.push(['mesos-stream-id', sid]);
  return h;
}

/** Sends one call; a 200 with a stream id (an accepted SUBSCRIBE) is read up to its first record and closed. */
export function sendCall(
  port: number,
  call: MesosCall,
  headers: [string, string][],
  body: string,
  timeoutMs = 15_000,
): Promise<MesosAnswer> {
  const started = performance.now();
  if (call.chunked) return sendChunked(port, call, headers, timeoutMs, started);
  return new Promise((resolveAnswer) => {
    const h: Record<string, string> = { 'content-length': String(Buffer.byteLength(body)) };
    for (const [k, v] of headers) h[k] = v;
    let req: http.ClientRequest;
    let settled = false;
    const finish = (a: Omit<MesosAnswer, 'call' | 'ms' | 'sentStream' | 'bodyBytes'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolveAnswer({
        call,
        ms: performance.now() - started,
        sentStream: 'none',
        bodyBytes: Buffer.byteLength(body),
        ...a,
      });
    };
    try {
      req = http.request({ host: '127.0.0.1', port, method: 'POST', path: SCHEDULER_PATH, headers: h, agent: false });
    } catch (e) {
      // The client refuses the header (a control character): that is not something the server saw.
      resolveAnswer({
        call,
        sentStream: 'none',
        bodyBytes: 0,
        status: -1,
        body: '',
        ms: 0,
        error: (e as Error).message,
      });
      return;
    }
    const timer = setTimeout(
      () => finish({ status: 0, body: '', error: `no answer within ${timeoutMs} ms` }),
      timeoutMs,
    );
    req.on('error', (e) => finish({ status: 0, body: '', error: e.message }));
    req.on('response', (res) => {
      const status = res.statusCode ?? 0;
      const sid = res.headers['mesos-stream-id'];
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        if (size < 8192) chunks.push(c);
        size += c.length;
        // A stream: its first record is enough.
        if (sid && Buffer.concat(chunks).includes(10))
          setTimeout(
            () =>
              finish({ status, body: Buffer.concat(chunks).toString('utf8').slice(0, 4096), streamId: String(sid) }),
            20,
          );
      });
      res.on('end', () => finish({ status, body: Buffer.concat(chunks).toString('utf8').slice(0, 4096) }));
      res.on('error', (e) => finish({ status, body: '', error: e.message }));
    });
    req.end(body);
  });
}

/** A call whose body is hand-written `Transfer-Encoding: chunked` (garbage sizes, no final chunk). */
async function sendChunked(
  port: number,
  call: MesosCall,
  headers: [string, string][],
  timeoutMs: number,
  started: number,
): Promise<MesosAnswer> {
  const lines = [
    `POST ${SCHEDULER_PATH} HTTP/1.1`,
    `Host: 127.0.0.1:${port}`,
    'Connection: close',
    'Transfer-Encoding: chunked',
  ];
  for (const [k, v] of headers) lines.push(`${k}: ${v}`);
  // A body that never ends may rightly get no answer: stop waiting after a while.
  const a = await rawExchange(port, {
    lines,
    body: (call.chunked ?? []).map((c) => Buffer.from(c, 'latin1')),
    timeoutMs: Math.min(timeoutMs, 500),
    timeoutError: 'incomplete body: no answer (expected)',
  });
  return { call, sentStream: 'none', bodyBytes: 0, ...a, ms: performance.now() - started };
}

/** The SUBSCRIBE a session opens its own stream with. */
export function subscribeBody(name: string): string {
  return JSON.stringify({
    type: 'SUBSCRIBE',
    subscribe: { framework_info: { user: 'root', name, roles: ['*'], capabilities: [{ type: 'MULTI_ROLE' }] } },
  });
}

/** Plays a Mesos input: subscribe (when it says so), each call in order, then close the stream. */
export async function sendMesos(input: MesosInput, t: Target, other?: MesosStream): Promise<MesosOutcome> {
  const out: MesosOutcome = {
    subscribeStatus: 0,
    subscribeRefusal: '',
    frameworkId: '',
    answers: [],
    streamEndedByServer: false,
    streamErrors: [],
    events: [],
  };
  let own: MesosStream | undefined;
  if (input.subscribe) {
    own = await MesosStream.open(t.masterPort, subscribeBody('fuzz-mesos-session'));
    out.subscribeStatus = own.status;
    out.subscribeRefusal = own.refusal;
    out.frameworkId = own.frameworkId;
  }
  try {
    for (const call of input.calls) {
      if (own?.ended) break;
      // A call that names `$OFFER` waits a moment for the stream's first offer.
      if (own && JSON.stringify(call.body).includes('$OFFER')) await own.wait(150, () => own?.offerId() !== undefined);
      const ids: Record<string, string | undefined> = {
        ...t.ids,
        $MFW: own?.frameworkId || undefined,
        $MFIX_FW: other?.frameworkId,
        $OFFER: own?.offerId(),
      };
      const before = own?.events.length ?? 0;
      const text = bodyText(call.body, ids);
      const a = await sendCall(t.masterPort, call, headersOf(call, own?.streamId, other?.streamId), text);
      a.sentStream = call.stream === 'own' && own?.streamId ? 'own' : call.stream === 'none' ? 'none' : 'other';
      if (text.length < 200_000) {
        try {
          const v = JSON.parse(text);
          if (typeof v?.type === 'string') a.sentType = v.type;
          if (typeof v?.framework_id?.value === 'string') a.sentFw = v.framework_id.value;
        } catch {
          // not JSON: no type
        }
      }
      out.answers.push(a);
      if (own && a.status >= 200 && a.status < 300) await own.wait(30, () => (own?.events.length ?? 0) > before);
    }
    if (own) await own.wait(20, () => false);
  } finally {
    if (own) {
      out.streamEndedByServer = own.endedByServer;
      out.streamErrors = own.errors();
      out.events = own.events.map((e) => String(e?.type));
      own.close();
    }
  }
  return out;
}
