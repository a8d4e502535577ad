/**
 * A plain HTTP client of Mesos's v1 scheduler API, written from Mesos's documentation with
 * node:http only: SUBSCRIBE opens a stream whose RecordIO records are parsed as JSON events;
 * every other call is a POST of its own carrying `Mesos-Stream-Id`.
 */
import { type IncomingHttpHeaders, request } from 'node:http';
import { RecordIoDecoder } from '../../sdk/mesos/recordio.js';

// biome-ignore lint/suspicious/noExplicitAny: events are read as loose JSON in tests
export type Json = Record<string, any>;

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  json?: Json;
}

/** POSTs `body` (a value as JSON, or raw text) and reads the whole answer (follows nothing). */
export function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers, 'content-length': Buffer.byteLength(text) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const b = Buffer.concat(chunks).toString('utf8');
          let json: Json | undefined;
          try {
            json = b ? JSON.parse(b) : undefined;
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: b, json });
        });
      },
    );
    req.on('error', reject);
    req.end(text);
  });
}

/** An open SUBSCRIBE: its answer's status and headers, and the events read so far. */
export class MesosStream {
  readonly events: Json[] = [];
  status = 0;
  headers: IncomingHttpHeaders = {};
  /** Set when the stream ended (by the master or the network). */
  ended = false;
  /** The body of a non-200 answer. */
  body = '';
  private waiters: (() => void)[] = [];
  private destroy: () => void = () => {};
  /** Reads again after `open(..., pause = true)`. */
  resume: () => void = () => {};

  get streamId(): string {
    return String(this.headers['mesos-stream-id'] ?? '');
  }

  get frameworkId(): string | undefined {
    return this.events.find((e) => e.type === 'SUBSCRIBED')?.subscribed.framework_id.value;
  }

  /** Opens the stream; resolves once the answer's headers arrived. `pause`: read nothing (a slow reader). */
  static open(url: string, call: Json, headers: Record<string, string> = {}, pause = false): Promise<MesosStream> {
    const s = new MesosStream();
    const text = JSON.stringify(call);
    return new Promise((resolve, reject) => {
      const req = request(
        url,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
        },
        (res) => {
          s.status = res.statusCode ?? 0;
          s.headers = res.headers;
          s.destroy = () => res.destroy();
          s.resume = () => res.resume();
          const decoder = new RecordIoDecoder();
          if (pause) res.pause();
          res.on('data', (c: Buffer) => {
            if (s.status !== 200) {
              s.body += c.toString('utf8');
              return;
            }
            for (const r of decoder.push(c)) s.events.push(JSON.parse(r.toString('utf8')));
            s.wake();
          });
          const end = () => {
            s.ended = true;
            s.wake();
          };
          res.on('end', end);
          res.on('close', end);
          res.on('error', end);
          resolve(s);
        },
      );
      req.on('error', reject);
      req.end(text);
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Waits until `pred` holds over the events (or the stream ends: then throws); 30 s by default, room for a task to start on a loaded CI machine. */
  async until<T>(pred: (events: Json[]) => T | undefined, what = 'an event', timeoutMs = 30_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = pred(this.events);
      if (v !== undefined && v !== false) return v;
      if (this.ended)
        throw new Error(`the stream ended before ${what}; events: ${JSON.stringify(this.events).slice(0, 2000)}`);
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`no ${what} within ${timeoutMs} ms; events: ${JSON.stringify(this.events).slice(0, 2000)}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  /** The first event of `type` after index `from`. */
  next(type: string, from = 0, timeoutMs?: number): Promise<Json> {
    return this.until((es) => es.slice(from).find((e) => e.type === type), `a ${type} event`, timeoutMs);
  }

  /** Waits for the stream to end. */
  async closed(timeoutMs = 20_000): Promise<void> {
    await this.until(() => (this.ended ? true : undefined), 'the end of the stream', timeoutMs).catch((e: Error) => {
      if (!this.ended) throw e;
    });
  }

  close(): void {
    this.destroy();
  }
}
