/** The fuzzers' hand-written HTTP exchange, against a plain socket server that answers as told. */
import net from 'node:net';
import { expect } from 'chai';
import { dechunk, rawExchange } from '../../scripts/fuzz/raw-http.js';

function serve(answer: (request: string) => string | null): Promise<{ port: number; close: () => void }> {
  return new Promise((resolve) => {
    const server = net.createServer((sock) => {
      let got = '';
      sock.on('data', (c) => {
        got += c.toString('latin1');
        if (!got.includes('\r\n\r\n')) return;
        const a = answer(got);
        if (a !== null) sock.write(a);
      });
      sock.on('error', () => {});
    });
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      resolve({ port, close: () => server.close() });
    });
  });
}

describe('fuzz raw HTTP exchange', () => {
  it('de-chunks up to the last chunk or the first bad size', () => {
    expect(dechunk('3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n')).to.equal('abcde');
    expect(dechunk('3\r\nabc\r\nzz\r\nnope')).to.equal('abc');
  });

  it('sends the bytes as given and reads a content-length answer without waiting for close', async () => {
    let seen = '';
    const s = await serve((req) => {
      seen = req;
      return 'HTTP/1.1 400 Bad Request\r\nContent-Length: 5\r\n\r\nhello';
    });
    try {
      const a = await rawExchange(s.port, {
        lines: ['GET /a%zz HTTP/1.1', 'Host: x'],
        body: [],
        timeoutMs: 5000,
        timeoutError: 'late',
      });
      expect(a).to.deep.equal({ status: 400, body: 'hello', error: undefined });
      expect(seen.startsWith('GET /a%zz HTTP/1.1\r\nHost: x\r\n\r\n')).to.equal(true);
    } finally {
      s.close();
    }
  });

  it('stops at the last chunk only when asked, and times out with the given error', async () => {
    const s = await serve(() => 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n');
    try {
      const req = { lines: ['GET / HTTP/1.1'], body: [], timeoutMs: 300, timeoutError: 'late' };
      expect(await rawExchange(s.port, { ...req, stopAtLastChunk: true })).to.deep.equal({
        status: 200,
        body: 'ok',
        error: undefined,
      });
      // Without it the answer is read until the time runs out (the server keeps the socket open).
      const a = await rawExchange(s.port, req);
      expect(a.status).to.equal(200);
      expect(a.body).to.equal('ok');
    } finally {
      s.close();
    }
  });

  it('says when no status line came back', async () => {
    const s = await serve(() => null);
    try {
      const a = await rawExchange(s.port, {
        lines: ['GET / HTTP/1.1'],
        body: [],
        timeoutMs: 200,
        timeoutError: 'late',
      });
      expect(a).to.deep.equal({ status: 0, body: '', error: 'late' });
    } finally {
      s.close();
    }
  });
});
