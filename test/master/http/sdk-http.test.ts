/**
 * The common HTTP layer (sdk/http) on a bare server: the authorization hook, routes that declare
 * no action, the error mapping (nothing internal leaks from a 5xx), the JSON depth scan, 404/405.
 */
import type { IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import { type Duplex, Writable } from 'node:stream';
import { expect } from 'chai';
import { pino } from 'pino';
import { Type } from 'typebox';
import { AgoraError } from '../../../sdk/errors.js';
import {
  type AccessRequest,
  type AgoraHttp,
  authorizeUpgrade,
  createHttpServer,
  type Decision,
  guardUpgrade,
  jsonDepthExceeds,
  jsonShapeProblem,
  mapError,
} from '../../../sdk/http/index.js';

function captureLogger(lines: string[]) {
  return pino(
    { level: 'info' },
    new Writable({
      write(chunk, _enc, cb) {
        lines.push(String(chunk));
        cb();
      },
    }),
  );
}

describe('sdk/http: the common HTTP layer', () => {
  describe('authorization', () => {
    let app: AgoraHttp;
    const seen: [string, AccessRequest][] = [];
    let decision: Decision = 'allow';
    beforeEach(async () => {
      seen.length = 0;
      decision = 'allow';
      app = createHttpServer({
        logger: pino({ level: 'silent' }),
        authorizer: {
          authorize: (req, action) => {
            seen.push([action, req]);
            return decision;
          },
        },
      });
      app.get('/thing', { config: { action: 'view_thing' } }, async () => ({ ok: true }));
      app.post(
        '/thing',
        { config: { action: 'update_thing' }, schema: { body: Type.Object({ role: Type.String() }) } },
        async () => ({ ok: true }),
      );
      await app.ready();
    });
    afterEach(() => app.close());

    it("asks the authorizer with each route's action and the validated request", async () => {
      expect((await app.inject({ url: '/thing' })).statusCode).to.equal(200);
      expect((await app.inject({ method: 'POST', url: '/thing', payload: { role: 'web' } })).statusCode).to.equal(200);
      expect(seen.map(([a]) => a)).to.deep.equal(['view_thing', 'update_thing']);
      expect(seen[1][1].body).to.deep.equal({ role: 'web' });
      expect(seen[1][1].method).to.equal('POST');
    });

    it('answers 403 on deny and 401 when unauthenticated, without running the handler', async () => {
      decision = 'deny';
      const d = await app.inject({ method: 'POST', url: '/thing', payload: { role: 'web' } });
      expect([d.statusCode, d.json().code]).to.deep.equal([403, 'AGORA_HTTP_FORBIDDEN']);
      decision = 'unauthenticated';
      const u = await app.inject({ url: '/thing' });
      expect([u.statusCode, u.json().code]).to.deep.equal([401, 'AGORA_HTTP_UNAUTHENTICATED']);
    });

    it('is not consulted for a path no route has', async () => {
      const r = await app.inject({ url: '/other' });
      expect([r.statusCode, r.json().code]).to.deep.equal([404, 'AGORA_HTTP_NOT_FOUND']);
      expect(seen).to.deep.equal([]);
    });

    it('decides WebSocket upgrades through an authorizer of the same interface', async () => {
      const authorizer = {
        authorize: (req: AccessRequest, action: string): Decision => {
          seen.push([action, req]);
          return decision;
        },
      };
      const req = {
        method: 'GET',
        url: '/api/v1/scheduler/ws',
        headers: { a: 'b' },
        socket: { remoteAddress: '10.0.0.1' },
      };
      expect(await authorizeUpgrade(authorizer, req as unknown as IncomingMessage, 'subscribe')).to.equal(undefined);
      decision = 'deny';
      const refused = await authorizeUpgrade(authorizer, req as unknown as IncomingMessage, 'subscribe');
      expect([refused?.statusCode, refused?.code]).to.deep.equal([403, 'AGORA_HTTP_FORBIDDEN']);
      expect(seen.map(([a, r]) => [a, r.ip, r.url])).to.deep.equal([
        ['subscribe', '10.0.0.1', '/api/v1/scheduler/ws'],
        ['subscribe', '10.0.0.1', '/api/v1/scheduler/ws'],
      ]);
    });
  });

  it('writes a refused upgrade as an HTTP answer with a code, and closes the socket', async () => {
    let written = '';
    let ended = false;
    const socket = new Writable({
      write(chunk, _enc, cb) {
        written += chunk;
        cb();
      },
      final(cb) {
        ended = true;
        cb();
      },
    });
    const req = { method: 'GET', url: '/api/v1/agent', headers: {}, socket: { remoteAddress: '10.0.0.2' } };
    const deny = { authorize: (): Decision => 'unauthenticated' };
    const go = await guardUpgrade(
      deny,
      req as unknown as IncomingMessage,
      socket as unknown as Duplex,
      'register_agent',
    );
    await new Promise((r) => setImmediate(r));
    expect(go).to.equal(false);
    expect(ended).to.equal(true);
    expect(written).to.match(/^HTTP\/1\.1 401 /);
    expect(written).to.include('"code":"AGORA_HTTP_UNAUTHENTICATED"');
    const allow = { authorize: (): Decision => 'allow' };
    expect(await guardUpgrade(allow, req as unknown as IncomingMessage, socket as unknown as Duplex, 'x')).to.equal(
      true,
    );
  });

  it('never echoes a huge key of the body back in an error (found by the fuzzer)', async () => {
    const app = createHttpServer({ logger: pino({ level: 'silent' }) });
    app.post(
      '/x',
      {
        config: { action: 'test' },
        schema: { body: Type.Object({ a: Type.Number() }, { additionalProperties: false }) },
      },
      async () => ({}),
    );
    const key = 'r'.repeat(50_000);
    const res = await app.inject({ method: 'POST', url: '/x', payload: { a: 1, [key]: { b: 1 } } });
    expect(res.statusCode).to.equal(400);
    expect(res.json().code).to.equal('AGORA_HTTP_INVALID_REQUEST');
    expect(res.body.length).to.be.below(2_000);
    await app.close();
  });

  it('refuses to declare a route without an action', async () => {
    const app = createHttpServer({ logger: pino({ level: 'silent' }) });
    expect(() => app.get('/x', async () => ({}))).to.throw(/config\.action/);
    await app.close();
  });

  it('answers an unexpected failure with 500 and a code, logging it, leaking no message, stack or path', async () => {
    const lines: string[] = [];
    const app = createHttpServer({ logger: captureLogger(lines) });
    app.get('/boom', { config: { action: 'x' } }, async () => {
      throw new Error("ENOENT: no such file or directory, open '/var/lib/agora/secret/file'");
    });
    app.get('/unavailable', { config: { action: 'x' } }, async () => {
      throw new AgoraError('AGORA_TEST_UNAVAILABLE', 'store at /var/lib/agora/store is gone', 503);
    });
    const r = await app.inject({ url: '/boom' });
    expect(r.statusCode).to.equal(500);
    expect(r.json().code).to.equal('AGORA_HTTP_INTERNAL');
    expect(r.body).to.not.match(/ENOENT|\/var\/lib|at /);
    expect(lines.join('')).to.include('/var/lib/agora/secret/file');
    const u = await app.inject({ url: '/unavailable' });
    expect(u.statusCode).to.equal(503);
    expect(u.json()).to.deep.equal({ code: 'AGORA_TEST_UNAVAILABLE', message: 'store at <path> is gone' });
    await app.close();
  });

  it('answers a request the HTTP parser cannot read with 400 and a code', async () => {
    const app = createHttpServer({ logger: pino({ level: 'silent' }) });
    app.get('/x', { config: { action: 'x' } }, async () => ({}));
    await app.listen({ port: 0, host: '127.0.0.1' });
    const port = (app.server.address() as { port: number }).port;
    const raw = await new Promise<string>((resolve, reject) => {
      let got = '';
      const s = connect(port, '127.0.0.1', () => s.write('GET /x HTTP/1.1\r\nHost: a\r\nBad Header\r\n\r\n'));
      s.on('data', (d) => {
        got += d;
      });
      s.on('end', () => resolve(got));
      s.on('error', reject);
    });
    await app.close();
    expect(raw).to.match(/^HTTP\/1\.1 400 /);
    expect(JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4))).to.deep.equal({
      code: 'AGORA_HTTP_BAD_REQUEST',
      message: 'malformed HTTP request',
    });
  });

  it('keeps 4xx messages of Agora errors as they are', () => {
    const m = mapError(new AgoraError('AGORA_X', 'role /a/b is bad', 400));
    expect(m).to.deep.equal({ status: 400, body: { code: 'AGORA_X', message: 'role /a/b is bad' }, internal: false });
  });

  it('measures JSON depth on the text, ignoring brackets inside strings', () => {
    expect(jsonDepthExceeds('[[[]]]', 3)).to.equal(false);
    expect(jsonDepthExceeds('[[[[]]]]', 3)).to.equal(true);
    expect(jsonDepthExceeds(JSON.stringify({ a: '[[[[[[', b: ['{{{{'] }), 2)).to.equal(false);
    expect(jsonDepthExceeds(JSON.stringify({ a: 'x\\"[[[[' }), 1)).to.equal(false);
    expect(jsonDepthExceeds('{"a":{"b":{"c":1}}}', 2)).to.equal(true);
  });

  it('counts JSON values on the text, ignoring commas inside strings', () => {
    expect(jsonShapeProblem('[1,2,3]', 5, 3)).to.equal(undefined);
    expect(jsonShapeProblem('[1,2,3,4]', 5, 3)).to.equal('too_many_values');
    expect(jsonShapeProblem(JSON.stringify(['a,b,c,d,e,f']), 5, 3)).to.equal(undefined);
    expect(jsonShapeProblem('[{},{},{}]', 5, 3)).to.equal('too_many_values');
  });
});
