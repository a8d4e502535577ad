/**
 * One HTTP/1.1 exchange written by hand on a plain socket: any bytes in the request line, headers
 * and body, which `node:http` would refuse to send. Shared by the HTTP and the Mesos fuzzers.
 */
import net from 'node:net';

export interface RawAnswer {
  /** 0 when no status line came back. */
  status: number;
  /** The body (de-chunked when the answer was chunked), at most 4,096 characters. */
  body: string;
  error?: string;
}

export interface RawRequest {
  /** The request line and headers, without the blank line that ends them. */
  lines: string[];
  /** Written after the head, as given. */
  body: Buffer[];
  /** Give up after this long with `timeoutError`. */
  timeoutMs: number;
  timeoutError: string;
  /** Also stop once a chunked answer's last chunk has arrived. */
  stopAtLastChunk?: boolean;
}

/** Sends the request and reads the answer until it is whole, the server closes, or the time is up. */
export function rawExchange(port: number, req: RawRequest): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let done = false;
    const finish = (error?: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      const text = Buffer.concat(chunks).toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      const sep = text.indexOf('\r\n\r\n');
      const head = sep >= 0 ? text.slice(0, sep) : text;
      let body = sep >= 0 ? text.slice(sep + 4) : '';
      if (/transfer-encoding:\s*chunked/i.test(head)) body = dechunk(body);
      resolve({
        status: m ? Number(m[1]) : 0,
        body: Buffer.from(body, 'latin1').toString('utf8').slice(0, 4096),
        error: m ? undefined : (error ?? 'no HTTP answer'),
      });
    };
    const timer = setTimeout(() => finish(req.timeoutError), req.timeoutMs);
    sock.on('data', (c) => {
      chunks.push(c);
      // One answer is enough: stop once a full body has arrived.
      const text = Buffer.concat(chunks).toString('latin1');
      const sep = text.indexOf('\r\n\r\n');
      if (sep < 0) return;
      const len = /content-length:\s*(\d+)/i.exec(text.slice(0, sep));
      if (len && text.length - sep - 4 >= Number(len[1])) finish();
      else if (req.stopAtLastChunk && /\r\n0\r\n\r\n$/.test(text)) finish();
    });
    sock.on('end', () => finish());
    sock.on('close', () => finish());
    sock.on('error', (e) => finish(e.message));
    sock.write(Buffer.from(`${req.lines.join('\r\n')}\r\n\r\n`, 'latin1'));
    for (const b of req.body) sock.write(b);
  });
}

/** The data of a chunked body, up to its last chunk or the first malformed size. */
export function dechunk(s: string): string {
  let out = '';
  let i = 0;
  while (i < s.length) {
    const nl = s.indexOf('\r\n', i);
    if (nl < 0) break;
    const n = Number.parseInt(s.slice(i, nl), 16);
    if (!Number.isFinite(n) || n === 0) break;
    out += s.slice(nl + 2, nl + 2 + n);
    i = nl + 2 + n + 2;
  }
  return out;
}
