/**
 * TLS on a real Fastify server from sdk/http with the transport's WebSockets on the same port,
 * with certificates made by the openssl-backed CertificateMaker: a client verifies the server
 * against the CA (a wrong CA and an expired certificate are refused), mutual TLS on one route,
 * and plain HTTP on the TLS port only when allowed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { expect } from 'chai';
import pino from 'pino';
import WebSocket from 'ws';
import { type AgoraHttp, createHttpServer } from '../../../sdk/http/index.js';
import type { SchedulerCall, SchedulerEvent } from '../../../sdk/protocol/messages.js';
import { SchedulerDriver } from '../../../sdk/scheduler/driver.js';
import {
  initSecureDir,
  loadServerTls,
  OpensslCertificateMaker,
  type Pem,
  readPem,
  type SecurePaths,
  secureServer,
} from '../../../sdk/tls/index.js';
import { attachWebSocketServer, ReconnectingClient, type WebSocketServerHandle } from '../../../sdk/transport/index.js';

const PATH = '/api/v1/agent';
const SCHEDULER_PATH = '/api/v1/scheduler/ws';

/** Waits for `cond`, failing (so that the test's cleanup runs) after `ms`. */
async function until(cond: () => boolean, what: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const silent = pino({ level: 'silent' });

/** A logger whose records land in `lines`. */
function capture(lines: Record<string, unknown>[]): pino.Logger {
  const sink = new Writable({
    write(chunk, _e, cb) {
      for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      cb();
    },
  });
  return pino({ level: 'debug' }, sink);
}

interface Srv {
  app: AgoraHttp;
  ws: WebSocketServerHandle;
  port: number;
  connects: number;
}

async function serve(
  cert: Pem | { cert: Buffer; key: Buffer },
  opts: { ca?: Buffer; requireClientCert?: boolean; allowPlain?: boolean; logger?: pino.Logger } = {},
  path = PATH,
): Promise<Srv> {
  const logger = opts.logger ?? silent;
  const app = createHttpServer({ logger });
  app.get('/health', { config: { action: 'health' } }, async () => ({ ok: true }));
  secureServer(
    app.server,
    {
      cert: Buffer.from(cert.cert),
      key: Buffer.from(cert.key),
      ca: opts.ca,
      requireClientCert: opts.requireClientCert,
      allowPlain: opts.allowPlain,
    },
    logger,
  );
  await app.listen({ port: 0, host: '127.0.0.1' });
  const srv: Srv = { app, port: (app.server.address() as AddressInfo).port, connects: 0 } as Srv;
  srv.ws = attachWebSocketServer(
    app.server,
    [
      {
        path,
        inbound: 'scheduler_to_master',
        requireClientCert: opts.requireClientCert,
        onConnect: () => {
          srv.connects++;
          return { onMessage: () => undefined, onClose: () => undefined };
        },
      },
    ],
    { logger },
  );
  return srv;
}

async function stop(s: Srv): Promise<void> {
  await s.ws.close();
  await s.app.close();
}

function get(
  url: string,
  opts: { ca?: Buffer; cert?: Buffer; key?: Buffer } = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = (url.startsWith('https') ? httpsRequest : httpRequest)(url, { ...opts, agent: false }, (res) => {
      let body = '';
      res.on('data', (c) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The error a raw WebSocket client gets, or its open. */
async function wsAttempt(
  url: string,
  opts: WebSocket.ClientOptions,
): Promise<{ opened: boolean; err?: string; status?: number; body?: string }> {
  const ws = new WebSocket(url, opts);
  return new Promise((resolve) => {
    ws.on('open', () => {
      ws.close();
      resolve({ opened: true });
    });
    ws.on('unexpected-response', (_r, res: IncomingMessage) => {
      let body = '';
      res.on('data', (c) => {
        body += c;
      });
      res.on('end', () => {
        ws.on('error', () => undefined);
        ws.terminate();
        resolve({ opened: false, status: res.statusCode, body });
      });
    });
    ws.on('error', (e: NodeJS.ErrnoException) => resolve({ opened: false, err: e.code ?? e.message }));
  });
}

describe('TLS', function () {
  this.timeout(30_000);
  let dir: string;
  let p: SecurePaths;
  let ca: Buffer;
  let server: Pem;
  let agent: { cert: Buffer; key: Buffer };
  let otherCa: Pem;
  let expired: Pem;
  const maker = new OpensslCertificateMaker();

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'agora-tls-test-'));
    p = await initSecureDir({ dir: join(dir, 'secure'), maker });
    ca = readPem(p.caCert, 'ca');
    server = { cert: String(readPem(p.serverCert, 'c')), key: String(readPem(p.serverKey, 'k')) };
    agent = { cert: readPem(p.agentCert, 'c'), key: readPem(p.agentKey, 'k') };
    otherCa = await maker.makeCa('other-ca', 1);
    const realCa = { cert: String(ca), key: String(readPem(p.caKey, 'k')) };
    expired = await maker.issue(realCa, {
      commonName: 'old',
      dns: ['localhost'],
      ips: ['127.0.0.1'],
      usage: ['server'],
      days: -1,
    });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('serves HTTPS and wss:// that a client verifies against the CA; plain HTTP is refused', async () => {
    const s = await serve(server);
    try {
      expect(await get(`https://127.0.0.1:${s.port}/health`, { ca })).to.deep.equal({
        status: 200,
        body: '{"ok":true}',
      });
      const w = await wsAttempt(`wss://127.0.0.1:${s.port}${PATH}`, { ca });
      expect(w.opened).to.equal(true);
      let plainErr: NodeJS.ErrnoException | undefined;
      await get(`http://127.0.0.1:${s.port}/health`).catch((e) => {
        plainErr = e;
      });
      expect(plainErr?.code).to.be.oneOf(['ECONNRESET', 'EPIPE']);
    } finally {
      await stop(s);
    }
  });

  it('the transport client refuses a server its CA did not sign (no connection is made)', async () => {
    const s = await serve(server);
    const lines: Record<string, unknown>[] = [];
    const client = new ReconnectingClient<'master_to_scheduler', SchedulerCall>({
      url: () => `ws://127.0.0.1:${s.port}${PATH}`,
      inbound: 'master_to_scheduler',
      onOpen: () => undefined,
      onMessage: (_m: SchedulerEvent) => undefined,
      logger: capture(lines),
      tls: { ca: Buffer.from(otherCa.cert) },
    });
    try {
      client.start();
      const refusedTls = (l: Record<string, unknown>) =>
        String(l.msg).startsWith('TLS: the server could not be verified');
      await until(() => lines.some(refusedTls), 'the TLS warning');
      const e = lines.find(refusedTls);
      expect(String(e?.err)).to.match(/self-signed|unable to verify|certificate/i);
      expect(s.connects).to.equal(0);
      expect(client.connected).to.equal(false);
    } finally {
      await client.stop();
      await stop(s);
    }
  });

  it('the same client with the right CA connects over wss://', async () => {
    const s = await serve(server);
    let opened = false;
    const client = new ReconnectingClient<'master_to_scheduler', SchedulerCall>({
      url: () => `ws://127.0.0.1:${s.port}${PATH}`,
      inbound: 'master_to_scheduler',
      onOpen: () => {
        opened = true;
      },
      onMessage: () => undefined,
      logger: silent,
      tls: { ca },
    });
    try {
      client.start();
      await until(() => opened, 'the connection');
      expect(s.connects).to.equal(1);
    } finally {
      await client.stop();
      await stop(s);
    }
  });

  it('the scheduler driver reaches the master over wss:// with tls.ca, and not without it', async () => {
    const s = await serve(server, {}, SCHEDULER_PATH);
    const lines: Record<string, unknown>[] = [];
    const framework = { name: 'f', roles: ['*'], user: 'u' };
    const plain = new SchedulerDriver({ master: `127.0.0.1:${s.port}`, framework, logger: capture(lines) }).start();
    const secure = new SchedulerDriver({
      master: `127.0.0.1:${s.port}`,
      framework,
      logger: silent,
      tls: { ca },
    }).start();
    try {
      await until(() => s.connects === 1, 'the TLS driver');
      // The plain one keeps failing (its bytes are not a handshake) and never connects.
      await until(() => lines.filter((l) => l.msg === 'reconnecting after backoff').length >= 2, 'plain retries');
      expect(s.connects).to.equal(1);
    } finally {
      await plain.stop();
      await secure.stop();
      await stop(s);
    }
  });

  it('an expired server certificate is refused', async () => {
    const s = await serve(expired);
    try {
      const w = await wsAttempt(`wss://127.0.0.1:${s.port}${PATH}`, { ca });
      expect(w).to.deep.equal({ opened: false, err: 'CERT_HAS_EXPIRED' });
      expect(s.connects).to.equal(0);
    } finally {
      await stop(s);
    }
  });

  it('mutual TLS: a route requiring a client certificate refuses a client without one, with a coded answer and a log line', async () => {
    const lines: Record<string, unknown>[] = [];
    const s = await serve(server, { ca, requireClientCert: true, logger: capture(lines) });
    try {
      const without = await wsAttempt(`wss://127.0.0.1:${s.port}${PATH}`, { ca });
      expect(without.status).to.equal(401);
      expect(JSON.parse(without.body ?? '{}').code).to.equal('AGORA_TLS_CLIENT_CERT_REQUIRED');
      expect(lines.some((l) => String(l.msg).includes('without a verified client certificate'))).to.equal(true);
      const foreign = await maker.issue(otherCa, { commonName: 'x', usage: ['client'], days: 1 });
      const wrong = await wsAttempt(`wss://127.0.0.1:${s.port}${PATH}`, { ca, cert: foreign.cert, key: foreign.key });
      expect(wrong.status).to.equal(401);
      expect(s.connects).to.equal(0);
      const withCert = await wsAttempt(`wss://127.0.0.1:${s.port}${PATH}`, { ca, cert: agent.cert, key: agent.key });
      expect(withCert.opened).to.equal(true);
      expect(s.connects).to.equal(1);
      // The HTTP API on the same listener does not ask for one.
      expect((await get(`https://127.0.0.1:${s.port}/health`, { ca })).status).to.equal(200);
    } finally {
      await stop(s);
    }
  });

  it('plain and TLS on one port only with allowPlain (the first byte decides)', async () => {
    const s = await serve(server, { allowPlain: true });
    try {
      expect((await get(`https://127.0.0.1:${s.port}/health`, { ca })).status).to.equal(200);
      expect((await get(`http://127.0.0.1:${s.port}/health`)).status).to.equal(200);
      expect((await wsAttempt(`ws://127.0.0.1:${s.port}${PATH}`, {})).opened).to.equal(true);
      expect((await wsAttempt(`wss://127.0.0.1:${s.port}${PATH}`, { ca })).opened).to.equal(true);
      expect(s.connects).to.equal(2);
    } finally {
      await stop(s);
    }
  });

  it('loadServerTls refuses mutual TLS without a CA, and files that are not PEM, with a code', () => {
    expect(() => loadServerTls({ certFile: p.serverCert, keyFile: p.serverKey, requireClientCert: true }))
      .to.throw()
      .with.property('code', 'AGORA_TLS_BAD_FILE');
    expect(() => readPem(p.credentials, '--tls_cert')).to.throw(/no PEM/);
    expect(() => readPem(join(dir, 'missing.crt'), '--tls_cert')).to.throw(/ENOENT/);
  });
});
