/**
 * A plain client of Mesos's v1 operator API, as a tool written from Mesos's documentation would
 * be: `POST /api/v1` with JSON, and SUBSCRIBE read with node:http, its RecordIO records
 * (`<length>\n<json>`) split by hand here (not with Agora's own decoder), following a 307 to the
 * leader.
 */
import { request } from 'node:http';
import { waitFor } from './cluster.js';

// biome-ignore lint/suspicious/noExplicitAny: operator events are loosely typed JSON
export type Event = any;

/** Waits until this master leads (a standalone master answers /health before it has taken over). */
export async function leading(master: { url: string }): Promise<void> {
  await waitFor(`${master.url} to lead`, async () => {
    const r = await fetch(`${master.url}/health`);
    return ((await r.json()) as { leading?: boolean }).leading;
  });
}

export async function call(
  base: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: Event; text: string }> {
  const r = await fetch(`${base}/api/v1`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const text = await r.text();
  let json: Event;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: r.status, json, text };
}

/** GET `url?jsonp=cb`: the content type and the value the callback would be called with. */
export async function jsonp(url: string, cb: string): Promise<{ type: string; value: Event }> {
  const r = await fetch(`${url}${url.includes('?') ? '&' : '?'}jsonp=${encodeURIComponent(cb)}`);
  const text = await r.text();
  if (r.status !== 200) throw new Error(`${url}: HTTP ${r.status} ${text.slice(0, 200)}`);
  const prefix = `${cb}(`;
  if (!text.startsWith(prefix) || !text.endsWith(');'))
    throw new Error(`${url}: not ${cb}(...);: ${text.slice(0, 80)}`);
  return { type: r.headers.get('content-type') ?? '', value: JSON.parse(text.slice(prefix.length, -2)) };
}

export class Subscription {
  readonly events: Event[] = [];
  ended = false;
  private buf = Buffer.alloc(0);
  private req?: ReturnType<typeof request>;
  /** Where the stream came from (after redirects). */
  url = '';

  private constructor() {}

  /** Subscribes at `base` (following 307s to the leader); resolves once SUBSCRIBED has arrived. */
  static async open(base: string, headers: Record<string, string> = {}): Promise<Subscription> {
    const s = new Subscription();
    await s.connect(base, headers, 5);
    await waitFor('SUBSCRIBED', () => s.events.some((e) => e.type === 'SUBSCRIBED'));
    return s;
  }

  private connect(base: string, headers: Record<string, string>, redirects: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const u = new URL('/api/v1', base);
      const req = request(
        u,
        { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json', ...headers } },
        (res) => {
          if (res.statusCode === 307 && res.headers.location && redirects > 0) {
            res.resume();
            const next = new URL(res.headers.location);
            this.connect(`${next.protocol}//${next.host}`, headers, redirects - 1).then(resolve, reject);
            return;
          }
          if (res.statusCode !== 200) {
            let text = '';
            res.on('data', (d) => {
              text += d;
            });
            res.on('end', () => reject(new Error(`SUBSCRIBE: HTTP ${res.statusCode} ${text}`)));
            return;
          }
          this.url = base;
          res.on('data', (chunk: Buffer) => this.feed(chunk));
          res.on('end', () => {
            this.ended = true;
          });
          res.on('error', () => {
            this.ended = true;
          });
          resolve();
        },
      );
      req.on('error', (e) => {
        this.ended = true;
        reject(e);
      });
      req.end(JSON.stringify({ type: 'SUBSCRIBE' }));
      this.req = req;
    });
  }

  private feed(chunk: Buffer): void {
    this.buf = Buffer.concat([this.buf, chunk]);
    for (;;) {
      const nl = this.buf.indexOf('\n');
      if (nl < 0) return;
      const n = Number(this.buf.subarray(0, nl).toString());
      if (!Number.isInteger(n)) throw new Error(`bad RecordIO length ${this.buf.subarray(0, nl).toString()}`);
      if (this.buf.length < nl + 1 + n) return;
      this.events.push(JSON.parse(this.buf.subarray(nl + 1, nl + 1 + n).toString('utf8')));
      this.buf = this.buf.subarray(nl + 1 + n);
    }
  }

  /** The first event of this type (matching `pred`) seen since the subscription opened. */
  async waitFor(type: string, pred: (e: Event) => boolean = () => true, timeoutMs = 30_000): Promise<Event> {
    return waitFor(
      () => `${type} on the operator stream (seen: ${[...new Set(this.events.map((e) => e.type))].join(', ')})`,
      () => this.events.find((e) => e.type === type && pred(e)),
      timeoutMs,
      50,
    );
  }

  close(): void {
    this.req?.destroy();
  }
}
