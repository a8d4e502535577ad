/**
 * Authentication at the WebSocket upgrade: the server asks its authorizer with the route's action
 * before any WebSocket exists; a refusal is a coded 401/403 and no connection; the principal the
 * authorizer proved reaches the route. The client and the scheduler driver send their credential
 * as Basic authentication. A stub authorizer stands for sdk/auth's (same interface).
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import pino from 'pino';
import WebSocket from 'ws';
import type { AccessRequest, Authorizer } from '../../../sdk/http/index.js';
import type { SchedulerCall, SchedulerEvent } from '../../../sdk/protocol/messages.js';
import { SchedulerDriver } from '../../../sdk/scheduler/driver.js';
import {
  attachWebSocketServer,
  type Peer,
  ReconnectingClient,
  type WebSocketServerHandle,
  type WsRoute,
} from '../../../sdk/transport/index.js';

const PATH = '/api/v1/scheduler/ws';

/** Waits for `cond`, failing (so that the test's cleanup runs) after `ms`. */
async function until(cond: () => boolean, what: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const silent = pino({ level: 'silent' });

/** Knows `fw` (secret `s3cret`, may connect) and `intruder` (secret `x`, may not). */
function stubAuthorizer(asked: string[]): Authorizer {
  const secrets: Record<string, string> = { fw: 's3cret', intruder: 'x' };
  return {
    authorize(request: AccessRequest, action: string) {
      asked.push(action);
      const h = request.headers.authorization;
      if (!h?.startsWith('Basic ')) return 'unauthenticated';
      const text = Buffer.from(h.slice(6), 'base64').toString('utf8');
      const i = text.indexOf(':');
      const principal = text.slice(0, i);
      if (secrets[principal] === undefined || secrets[principal] !== text.slice(i + 1)) return 'unauthenticated';
      if (principal !== 'fw') return 'deny';
      return { decision: 'allow', principal } as unknown as 'allow';
    },
  };
}

interface Setup {
  http: Server;
  ws: WebSocketServerHandle;
  port: number;
  connects: { peer: Peer<SchedulerEvent>; req: IncomingMessage }[];
  asked: string[];
}

async function setup(withAuthorizer = true): Promise<Setup> {
  const connects: Setup['connects'] = [];
  const asked: string[] = [];
  const route: WsRoute<'scheduler_to_master', SchedulerEvent> = {
    path: PATH,
    inbound: 'scheduler_to_master',
    action: 'scheduler_connect',
    onConnect(peer, req) {
      connects.push({ peer, req });
      return { onMessage: (_m: SchedulerCall) => undefined, onClose: () => undefined };
    },
  };
  const http = createServer((_q, r) => r.end());
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const ws = attachWebSocketServer(http, [route], {
    logger: silent,
    authorizer: withAuthorizer ? stubAuthorizer(asked) : undefined,
  });
  return { http, ws, port: (http.address() as AddressInfo).port, connects, asked };
}

async function teardown(s: Setup): Promise<void> {
  await s.ws.close();
  s.http.closeAllConnections();
  await new Promise<void>((r) => s.http.close(() => r()));
}

/** The HTTP answer to an upgrade that was refused: status and body. */
async function refusal(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  const ws = new WebSocket(url, { headers });
  ws.on('error', () => undefined); // terminate() below reports 'closed before established'
  const [, res] = (await once(ws, 'unexpected-response')) as [unknown, IncomingMessage];
  let body = '';
  for await (const chunk of res) body += chunk;
  ws.terminate();
  return { status: res.statusCode ?? 0, body };
}

const basic = (p: string, s: string) => `Basic ${Buffer.from(`${p}:${s}`).toString('base64')}`;

describe('WebSocket upgrade authentication', () => {
  let s: Setup;
  afterEach(async () => {
    if (s) await teardown(s);
  });

  it('refuses an upgrade without credentials with a coded 401 and no connection', async () => {
    s = await setup();
    const r = await refusal(`ws://127.0.0.1:${s.port}${PATH}`);
    expect(r.status).to.equal(401);
    expect(JSON.parse(r.body).code).to.equal('AGORA_HTTP_UNAUTHENTICATED');
    expect(s.connects).to.have.length(0);
    expect(s.ws.connections()).to.equal(0);
    expect(s.asked).to.deep.equal(['scheduler_connect']);
  });

  it('refuses a wrong secret (401) and a known principal not allowed (403)', async () => {
    s = await setup();
    const wrong = await refusal(`ws://127.0.0.1:${s.port}${PATH}`, { authorization: basic('fw', 'nope') });
    expect(wrong.status).to.equal(401);
    const denied = await refusal(`ws://127.0.0.1:${s.port}${PATH}`, { authorization: basic('intruder', 'x') });
    expect(denied.status).to.equal(403);
    expect(JSON.parse(denied.body).code).to.equal('AGORA_HTTP_FORBIDDEN');
    expect(s.connects).to.have.length(0);
  });

  it('accepts the right credential from the client and hands the principal to the route', async () => {
    s = await setup();
    const client = new ReconnectingClient<'master_to_scheduler', SchedulerCall>({
      url: () => `ws://127.0.0.1:${s.port}${PATH}`,
      inbound: 'master_to_scheduler',
      onOpen: () => undefined,
      onMessage: () => undefined,
      logger: silent,
      credential: { principal: 'fw', secret: 's3cret' },
    });
    client.start();
    await until(() => s.connects.length > 0, 'a connection');
    expect(s.connects[0].peer.principal).to.equal('fw');
    expect(s.connects[0].req.headers.authorization).to.equal(basic('fw', 's3cret'));
    await client.stop();
  });

  it('the scheduler driver sends its credential at the upgrade', async () => {
    s = await setup();
    const driver = new SchedulerDriver({
      master: `127.0.0.1:${s.port}`,
      framework: { name: 'f', roles: ['*'], user: 'u' },
      logger: silent,
      credential: { principal: 'fw', secret: 's3cret' },
    }).start();
    await until(() => s.connects.length > 0, 'a connection');
    expect(s.connects[0].peer.principal).to.equal('fw');
    await driver.stop();
  });

  it('without an authorizer, upgrades are open and anonymous', async () => {
    s = await setup(false);
    const ws = new WebSocket(`ws://127.0.0.1:${s.port}${PATH}`);
    await once(ws, 'open');
    expect(s.connects[0].peer.principal).to.equal(undefined);
    ws.close();
    await once(ws, 'close');
  });
});

describe('WebSocket upgrade refusals reach the client', () => {
  it('onRefused gets the status and the code of the answer', async () => {
    const s = await setup();
    const refusals: { status: number; code?: string }[] = [];
    const client = new ReconnectingClient<'master_to_scheduler', SchedulerCall>({
      url: () => `ws://127.0.0.1:${s.port}${PATH}`,
      inbound: 'master_to_scheduler',
      onOpen: () => undefined,
      onMessage: () => undefined,
      onRefused: (status, code) => refusals.push({ status, code }),
      logger: silent,
      credential: { principal: 'intruder', secret: 'x' },
    });
    try {
      client.start();
      await until(() => refusals.length > 0, 'a refusal');
      expect(refusals[0]).to.deep.equal({ status: 403, code: 'AGORA_HTTP_FORBIDDEN' });
    } finally {
      await client.stop();
      await teardown(s);
    }
  });
});
