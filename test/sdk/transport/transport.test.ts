/**
 * The transport over real sockets on 127.0.0.1 (port 0). Nothing is mocked; waits are on events
 * (bounded by mocha's timeout), never on wall-clock thresholds. The suite runs without --exit, so
 * a timer or socket left behind by stop()/close() keeps the process alive and shows.
 */

import { createHook } from 'node:async_hooks';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import WebSocket, { WebSocketServer } from 'ws';
import { CodecError, encode } from '../../../sdk/codec/index.js';
import type { SchedulerCall, SchedulerEvent } from '../../../sdk/protocol/messages.js';
import {
  attachWebSocketServer,
  backoffDelayMs,
  DEFAULT_MAX_BUFFERED_BYTES,
  type Peer,
  ReconnectingClient,
  resolveBackoff,
  type TransportOptions,
  type WebSocketServerHandle,
  type WsRoute,
} from '../../../sdk/transport/index.js';
import { seededRng } from '../../../sdk/util/random.js';
import { offer, schedulerCalls, schedulerEvents } from '../codec/fixtures.js';

const SCHEDULER_PATH = '/api/v1/scheduler/ws';
const AGENT_PATH = '/api/v1/agent';

type SchedulerPeer = Peer<SchedulerEvent>;

interface Recording {
  peers: SchedulerPeer[];
  requests: IncomingMessage[];
  messages: SchedulerCall[];
  closes: { code: number; reason: string }[];
  protocolErrors: CodecError[];
}

interface Hooks {
  onConnect?(peer: SchedulerPeer, req: IncomingMessage): void;
  onMessage?(peer: SchedulerPeer, message: SchedulerCall): void;
  onProtocolError?(peer: SchedulerPeer, error: CodecError): void;
}

function recordingRoute(hooks: Hooks = {}): { route: WsRoute<'scheduler_to_master', SchedulerEvent>; rec: Recording } {
  const rec: Recording = { peers: [], requests: [], messages: [], closes: [], protocolErrors: [] };
  return {
    rec,
    route: {
      path: SCHEDULER_PATH,
      inbound: 'scheduler_to_master',
      onConnect(peer, req) {
        rec.peers.push(peer);
        rec.requests.push(req);
        hooks.onConnect?.(peer, req);
        return {
          onMessage(message) {
            rec.messages.push(message);
            hooks.onMessage?.(peer, message);
          },
          onClose(code, reason) {
            rec.closes.push({ code, reason });
          },
        };
      },
      onProtocolError(peer, error) {
        rec.protocolErrors.push(error);
        hooks.onProtocolError?.(peer, error);
      },
    },
  };
}

/** Polls until `cond` holds; the test's timeout bounds the wait. */
async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 5));
}

interface Running {
  http: Server;
  handle: WebSocketServerHandle;
  port: number;
  url(path?: string): string;
  close(): Promise<void>;
}

const cleanups: (() => Promise<void> | void)[] = [];

async function listen(
  // biome-ignore lint/suspicious/noExplicitAny: routes of any direction
  routes: WsRoute<any, any>[],
  opts?: TransportOptions,
  port = 0,
): Promise<Running> {
  const http = createServer((_req, res) => {
    res.statusCode = 404;
    res.end();
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(port, '127.0.0.1', () => resolve());
  });
  const handle = attachWebSocketServer(http, routes, opts);
  const actual = (http.address() as AddressInfo).port;
  let closed = false;
  const running: Running = {
    http,
    handle,
    port: actual,
    url: (path = SCHEDULER_PATH) => `ws://127.0.0.1:${actual}${path}`,
    async close() {
      if (closed) return;
      closed = true;
      await handle.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
  cleanups.push(() => running.close());
  return running;
}

async function rawClient(url: string, opts?: WebSocket.ClientOptions): Promise<WebSocket> {
  const ws = new WebSocket(url, opts);
  cleanups.push(() => {
    if (ws.readyState !== WebSocket.CLOSED) ws.terminate();
  });
  await once(ws, 'open');
  return ws;
}

function closeOf(ws: WebSocket): Promise<{ code: number; reason: string }> {
  if (ws.readyState === WebSocket.CLOSED) throw new Error('already closed');
  return once(ws, 'close').then(([code, reason]) => ({ code: code as number, reason: String(reason) }));
}

interface ClientRecording {
  opens: number;
  events: SchedulerEvent[];
  closes: { code: number; reason: string }[];
}

function schedulerClient(
  url: () => string | undefined | Promise<string | undefined>,
  extra: Partial<ConstructorParameters<typeof ReconnectingClient<'master_to_scheduler', SchedulerCall>>[0]> = {},
): { client: ReconnectingClient<'master_to_scheduler', SchedulerCall>; rec: ClientRecording } {
  const rec: ClientRecording = { opens: 0, events: [], closes: [] };
  const client = new ReconnectingClient<'master_to_scheduler', SchedulerCall>({
    url,
    inbound: 'master_to_scheduler',
    backoff: { initialMs: 10, maxMs: 100 },
    rng: seededRng(42),
    onOpen: () => {
      rec.opens++;
    },
    onMessage: (event) => {
      rec.events.push(event);
    },
    onClose: (code, reason) => {
      rec.closes.push({ code, reason });
    },
    ...extra,
  });
  cleanups.push(() => client.stop());
  return { client, rec };
}

/** A server-side route that answers SUBSCRIBE with SUBSCRIBED and KILL with an UPDATE. */
function echoHooks(): Hooks {
  return {
    onMessage(peer, message) {
      if (message.type === 'SUBSCRIBE') peer.send(schedulerEvents.SUBSCRIBED);
      if (message.type === 'KILL') {
        peer.send({
          ...schedulerEvents.UPDATE,
          update: { status: { ...schedulerEvents.UPDATE.update.status, state: 'TASK_KILLED' } },
        });
      }
    },
  };
}

describe('transport (real sockets)', function () {
  this.timeout(20_000);

  afterEach(async () => {
    while (cleanups.length > 0) await cleanups.pop()!();
  });

  it('carries typed messages both ways and reports the close to both sides', async () => {
    const { route, rec } = recordingRoute(echoHooks());
    const server = await listen([route]);
    const { client, rec: crec } = schedulerClient(() => `${server.url()}?framework=marathon`, {
      onOpen: () => {
        crec.opens++;
        // send works from inside onOpen (the agent registers there)
        expect(client.send(schedulerCalls.SUBSCRIBE)).to.equal(true);
      },
    });
    expect(client.connected).to.equal(false);
    expect(client.send(schedulerCalls.KILL)).to.equal(false);
    client.start();
    await until(() => crec.events.length === 1);
    expect(client.connected).to.equal(true);
    expect(crec.events[0]).to.deep.equal(schedulerEvents.SUBSCRIBED);
    expect(rec.messages[0]).to.deep.equal(schedulerCalls.SUBSCRIBE);
    expect(rec.requests[0].url).to.equal(`${SCHEDULER_PATH}?framework=marathon`);
    expect(rec.peers[0].remoteAddress).to.equal('127.0.0.1');
    expect(rec.peers[0].id).to.match(/^[0-9a-f]{8}-[0-9a-f]+$/);
    expect(rec.peers[0].open).to.equal(true);
    expect(server.handle.connections()).to.equal(1);

    expect(client.send(schedulerCalls.ACCEPT)).to.equal(true);
    expect(client.send(schedulerCalls.KILL)).to.equal(true);
    await until(() => crec.events.length === 2);
    expect(rec.messages.map((m) => m.type)).to.deep.equal(['SUBSCRIBE', 'ACCEPT', 'KILL']);
    expect(rec.messages[1]).to.deep.equal(schedulerCalls.ACCEPT);
    expect(crec.events[1].type === 'UPDATE' && crec.events[1].update.status.state).to.equal('TASK_KILLED');

    await client.stop();
    expect(client.connected).to.equal(false);
    expect(client.send(schedulerCalls.KILL)).to.equal(false);
    expect(crec.closes).to.deep.equal([{ code: 1000, reason: 'client stopping' }]);
    await until(() => rec.closes.length === 1);
    expect(rec.closes[0]).to.deep.equal({ code: 1000, reason: 'client stopping' });
    expect(rec.peers[0].open).to.equal(false);
    expect(rec.peers[0].send(schedulerEvents.HEARTBEAT)).to.equal(false);
    expect(server.handle.connections()).to.equal(0);
  });

  it('serves several routes, each validating its own direction', async () => {
    const agentMessages: string[] = [];
    const { route } = recordingRoute();
    const agentRoute: WsRoute<'agent_to_master', unknown> = {
      path: AGENT_PATH,
      inbound: 'agent_to_master',
      onConnect: () => ({ onMessage: (m) => agentMessages.push(m.type), onClose: () => {} }),
    };
    const server = await listen([route, agentRoute]);
    const agent = await rawClient(server.url(AGENT_PATH));
    agent.send(encode({ type: 'PONG', seq: 1 }));
    await until(() => agentMessages.length === 1);
    expect(agentMessages).to.deep.equal(['PONG']);
    // A scheduler call is not an agent message.
    const closed = closeOf(agent);
    agent.send(encode(schedulerCalls.KILL));
    const { code, reason } = await closed;
    expect(code).to.equal(1008);
    expect(reason).to.match(/unknown type "KILL" for agent_to_master/);
  });

  it('with keepOpenOnInvalidMessage, reports an invalid message and keeps the connection; garbage still closes it', async () => {
    const { route, rec } = recordingRoute();
    const server = await listen([{ ...route, keepOpenOnInvalidMessage: true }]);
    const ws = await rawClient(server.url());
    ws.send(encode({ ...schedulerCalls.DECLINE, decline: { offer_ids: 'o-1' } } as unknown as SchedulerCall));
    ws.send(encode({ type: 'LAUNCH_EVERYTHING' } as unknown as SchedulerCall));
    ws.send(encode(schedulerCalls.KILL));
    await until(() => rec.messages.length === 1);
    expect(rec.messages).to.deep.equal([schedulerCalls.KILL]);
    expect(rec.protocolErrors.map((e) => e.code)).to.deep.equal([
      'AGORA_PROTOCOL_INVALID_MESSAGE',
      'AGORA_PROTOCOL_UNKNOWN_TYPE',
    ]);
    expect(ws.readyState).to.equal(WebSocket.OPEN);
    const closed = closeOf(ws);
    ws.send(Buffer.from([0xc1]));
    expect((await closed).code).to.equal(1008);
    expect(rec.protocolErrors.at(-1)?.code).to.equal('AGORA_CODEC_MALFORMED');
  });

  it('closes a peer that sends garbage (1008) or an over-size frame (1009); others keep working', async () => {
    const { route, rec } = recordingRoute({
      ...echoHooks(),
      onProtocolError(peer, error) {
        peer.send({ type: 'ERROR', error: { message: error.message, code: error.code } });
      },
    });
    const server = await listen([route], { maxFrameBytes: 16 * 1024 });
    const { client, rec: crec } = schedulerClient(() => server.url());
    client.start();
    await until(() => client.connected);

    // Random bytes: the route hears of it, may send a last ERROR, then the peer is closed with 1008.
    const garbage = await rawClient(server.url());
    const lastWords: unknown[] = [];
    garbage.on('message', (data) => lastWords.push(data));
    const garbageClosed = closeOf(garbage);
    garbage.send(Buffer.from('9c0b7a11ff00e3d2c1b0a99887766554433221100f', 'hex'));
    const g = await garbageClosed;
    expect(g.code).to.equal(1008);
    expect(g.reason).to.match(/^malformed frame/);
    expect(Buffer.byteLength(g.reason)).to.be.at.most(123);
    expect(lastWords).to.have.length(1);
    expect(rec.protocolErrors[0]).to.be.instanceOf(CodecError);
    expect(rec.protocolErrors[0].code).to.equal('AGORA_CODEC_MALFORMED');

    // Over maxFrameBytes: ws refuses it from the header and closes with 1009.
    const big = await rawClient(server.url());
    const bigClosed = closeOf(big);
    big.send(Buffer.alloc(64 * 1024, 0xa1));
    expect((await bigClosed).code).to.equal(1009);
    await until(() => rec.protocolErrors.length === 2);
    expect(rec.protocolErrors[1].code).to.equal('AGORA_CODEC_FRAME_TOO_LARGE');

    // A text frame (even valid JSON of a valid message) is a protocol error too.
    const text = await rawClient(server.url());
    const textClosed = closeOf(text);
    text.send(JSON.stringify(schedulerCalls.KILL));
    const t = await textClosed;
    expect(t.code).to.equal(1008);
    expect(t.reason).to.match(/text frames/);

    // A well-formed frame that is not a valid message (offer_ids a string).
    const invalid = await rawClient(server.url());
    const invalidClosed = closeOf(invalid);
    invalid.send(encode({ ...schedulerCalls.DECLINE, decline: { offer_ids: 'o-1' } } as unknown as SchedulerCall));
    const i = await invalidClosed;
    expect(i.code).to.equal(1008);
    expect(i.reason).to.match(/offer_ids: expected an array/);
    expect(rec.protocolErrors.map((e) => e.code)).to.deep.equal([
      'AGORA_CODEC_MALFORMED',
      'AGORA_CODEC_FRAME_TOO_LARGE',
      'AGORA_CODEC_MALFORMED',
      'AGORA_PROTOCOL_INVALID_MESSAGE',
    ]);

    // Through all of that, the well-behaved client stayed connected and is still served.
    expect(crec.opens).to.equal(1);
    expect(crec.closes).to.deep.equal([]);
    expect(client.send(schedulerCalls.SUBSCRIBE)).to.equal(true);
    await until(() => crec.events.length === 1);
    expect(crec.events[0].type).to.equal('SUBSCRIBED');
    await until(() => server.handle.connections() === 1);
  });

  it('survives handlers that throw', async () => {
    let calls = 0;
    const { route, rec } = recordingRoute({
      onMessage(peer) {
        calls++;
        if (calls === 1) throw new Error('handler bug');
        peer.send(schedulerEvents.HEARTBEAT);
      },
    });
    const server = await listen([route]);
    const { client, rec: crec } = schedulerClient(() => server.url(), {
      onMessage: (event) => {
        crec.events.push(event);
        throw new Error('client handler bug');
      },
    });
    client.start();
    await until(() => client.connected);
    client.send(schedulerCalls.KILL);
    client.send(schedulerCalls.KILL);
    await until(() => crec.events.length === 1);
    expect(rec.messages).to.have.length(2);
    expect(client.connected).to.equal(true);
    expect(rec.closes).to.deep.equal([]);
  });

  it('refuses upgrades on unknown paths with 404', async () => {
    const { route, rec } = recordingRoute();
    const server = await listen([route]);
    const ws = new WebSocket(server.url('/api/v1/nope'));
    const [err] = (await once(ws, 'error').catch((e) => [e])) as [Error];
    expect(err.message).to.match(/404/);
    expect(rec.peers).to.have.length(0);
    expect(server.handle.connections()).to.equal(0);
    // The path is matched exactly; the query string does not matter.
    await rawClient(server.url(`${SCHEDULER_PATH}?x=1`));
    await until(() => rec.peers.length === 1);
  });

  it('reconnects with backoff after the server closes the connection', async () => {
    const { route, rec } = recordingRoute({
      onConnect(peer) {
        if (rec.peers.length === 1) peer.close(4000, 'go away');
      },
    });
    const server = await listen([route]);
    const { client, rec: crec } = schedulerClient(() => server.url());
    client.start();
    await until(() => crec.opens === 2 && client.connected);
    expect(crec.closes).to.deep.equal([{ code: 4000, reason: 'go away' }]);
    expect(rec.peers).to.have.length(2);
    expect(rec.peers[0].id).to.not.equal(rec.peers[1].id);
    expect(rec.closes[0]).to.deep.equal({ code: 4000, reason: 'go away' });
  });

  it('reconnects after the server restarts on the same port', async () => {
    const first = recordingRoute();
    const server = await listen([first.route]);
    let urlCalls = 0;
    const { client, rec: crec } = schedulerClient(() => {
      urlCalls++;
      return server.url();
    });
    client.start();
    await until(() => client.connected);
    await server.close();
    await until(() => crec.closes.length === 1);
    expect(crec.closes[0]).to.deep.equal({ code: 1001, reason: 'server shutting down' });
    // Attempts against the closed port fail and are retried.
    const callsAtDown = urlCalls;
    await until(() => urlCalls >= callsAtDown + 3);
    expect(client.connected).to.equal(false);

    const second = recordingRoute();
    await listen([second.route], undefined, server.port);
    await until(() => crec.opens === 2 && client.connected);
    expect(second.rec.peers).to.have.length(1);
    client.send(schedulerCalls.TEARDOWN);
    await until(() => second.rec.messages.length === 1);
    expect(second.rec.messages[0]).to.deep.equal(schedulerCalls.TEARDOWN);
  });

  it('retries while the target is unknown, then connects', async () => {
    const { route } = recordingRoute();
    const server = await listen([route]);
    let known: string | undefined;
    let calls = 0;
    const { client, rec } = schedulerClient(async () => {
      calls++;
      if (calls === 2) throw new Error('ZooKeeper is unreachable');
      return known;
    });
    client.start();
    await until(() => calls >= 4);
    expect(rec.opens).to.equal(0);
    known = server.url();
    await until(() => client.connected);
    expect(rec.opens).to.equal(1);
  });

  it('reconnectNow drops the current connection and connects to the new target at once', async () => {
    const a = recordingRoute();
    const b = recordingRoute();
    const serverA = await listen([a.route]);
    const serverB = await listen([b.route]);
    let target = serverA.url();
    const order: string[] = [];
    const { client } = schedulerClient(() => target, {
      backoff: { initialMs: 60_000, maxMs: 60_000 }, // a retry would never come in time: only reconnectNow can
      onOpen: () => order.push('open'),
      onClose: (code, reason) => order.push(`close ${code} ${reason}`),
    });
    client.start();
    await until(() => client.connected);
    target = serverB.url();
    client.reconnectNow();
    expect(client.connected).to.equal(false);
    await until(() => client.connected);
    expect(order).to.deep.equal(['open', 'close 1000 reconnecting', 'open']);
    expect(b.rec.peers).to.have.length(1);
    await until(() => a.rec.closes.length === 1);
    expect(a.rec.closes[0]).to.deep.equal({ code: 1000, reason: 'reconnecting' });
  });

  it('terminates a peer that stops answering pings (server heartbeat)', async () => {
    const { route, rec } = recordingRoute();
    // 1 s, not 100 ms: a round more than half an interval late judges nobody (peer.ts), and on a
    // loaded machine 50 ms of slip made every round late, so the silent peer was never dropped;
    // 500 ms still timed out at load 6 on 2 cores (test files running side by side, and a build).
    const server = await listen([route], { heartbeatIntervalMs: 1000 });
    const healthy = await rawClient(server.url());
    const silent = await rawClient(server.url(), { autoPong: false });
    const silentClosed = closeOf(silent);
    const { code } = await silentClosed;
    expect(code).to.equal(1006); // dropped without a closing handshake
    await until(() => rec.closes.length === 1);
    expect(rec.closes[0]).to.deep.equal({ code: 1006, reason: 'heartbeat timeout' });
    // The peer that answers pings was given the same time and is still there.
    expect(healthy.readyState).to.equal(WebSocket.OPEN);
    expect(server.handle.connections()).to.equal(1);
  });

  it('treats a silent server as dead and reconnects (client heartbeat)', async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, autoPong: false });
    await once(wss, 'listening');
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          for (const ws of wss.clients) ws.terminate();
          wss.close(() => resolve());
        }),
    );
    let accepted = 0;
    wss.on('connection', () => accepted++);
    const port = (wss.address() as AddressInfo).port;
    const { client, rec } = schedulerClient(() => `ws://127.0.0.1:${port}/`, { heartbeatIntervalMs: 100 });
    client.start();
    await until(() => rec.opens === 2);
    expect(rec.closes[0]).to.deep.equal({ code: 1006, reason: 'heartbeat timeout' });
    expect(accepted).to.be.at.least(2);
  });

  it('drops the connection and reconnects when the server sends a frame that does not decode', async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await once(wss, 'listening');
    cleanups.push(() => new Promise<void>((resolve) => wss.close(() => resolve())));
    const serverSeen: number[] = [];
    let n = 0;
    wss.on('connection', (ws) => {
      n++;
      ws.on('close', (code) => serverSeen.push(code));
      if (n === 1)
        ws.send(Buffer.from([0xc1, 0x00, 0x01])); // garbage
      else ws.send(encode(schedulerEvents.HEARTBEAT));
    });
    const port = (wss.address() as AddressInfo).port;
    const { client, rec } = schedulerClient(() => `ws://127.0.0.1:${port}/`);
    client.start();
    await until(() => rec.events.length === 1);
    expect(rec.events[0]).to.deep.equal(schedulerEvents.HEARTBEAT);
    expect(rec.opens).to.equal(2);
    expect(rec.closes[0].code).to.equal(1008);
    expect(rec.closes[0].reason).to.match(/malformed frame/);
    expect(serverSeen[0]).to.equal(1008);
  });

  it('closes a peer that does not read (1013) instead of buffering without bound', async () => {
    const maxBufferedBytes = 64 * 1024;
    const { route, rec } = recordingRoute();
    const server = await listen([route], { maxBufferedBytes });
    const slow = await rawClient(server.url());
    await until(() => rec.peers.length === 1);
    const peer = rec.peers[0];
    // Stop reading: the kernel buffers fill, then the server's own send buffer.
    (slow as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
    const offers = { type: 'OFFERS', offers: { offers: Array.from({ length: 100 }, (_, i) => offer(i)) } } as const;
    const frameBytes = encode(offers).byteLength;
    let sentBytes = 0;
    let refused = false;
    // Push until the transport refuses, yielding to the event loop so the socket can flush what it can.
    // The bound (1 GiB) is only there to end the test if back-pressure were missing.
    while (!refused && sentBytes < 1024 ** 3) {
      for (let i = 0; i < 16 && !refused; i++) {
        if (peer.send(offers)) sentBytes += frameBytes;
        else refused = true;
      }
      await new Promise((r) => setImmediate(r));
    }
    expect(refused).to.equal(true);
    expect(peer.open).to.equal(false);
    expect(peer.send(offers)).to.equal(false);
    // Read again: everything buffered arrives, then the close frame with its code.
    const closed = closeOf(slow);
    let received = 0;
    slow.on('message', () => received++);
    (slow as unknown as { _socket: { resume(): void } })._socket.resume();
    const { code, reason } = await closed;
    expect(code).to.equal(1013);
    expect(reason).to.equal('peer too slow');
    expect(received * frameBytes).to.equal(sentBytes);
    await until(() => rec.closes.length === 1);
    expect(rec.closes[0]).to.deep.equal({ code: 1013, reason: 'peer too slow' });
  });

  it('sends a burst larger than the buffer bound in one turn whole (the peer is judged by the next turn)', async () => {
    const maxBufferedBytes = 64 * 1024;
    const { route, rec } = recordingRoute();
    const server = await listen([route], { maxBufferedBytes });
    const ws = await rawClient(server.url());
    await until(() => rec.peers.length === 1);
    let received = 0;
    ws.on('message', () => received++);
    const offers = { type: 'OFFERS', offers: { offers: Array.from({ length: 100 }, (_, i) => offer(i)) } } as const;
    const frameBytes = encode(offers).byteLength;
    // One OFFERS event split in frames, written in one synchronous turn: four times the bound.
    const frames = Math.ceil((4 * maxBufferedBytes) / frameBytes);
    const sent: boolean[] = [];
    for (let i = 0; i < frames; i++) sent.push(rec.peers[0].send(offers));
    expect(sent.every(Boolean)).to.equal(true);
    await until(() => received === frames);
    expect(rec.peers[0].open).to.equal(true);
    expect(rec.closes).to.deep.equal([]);
  });

  it('a client does not cut itself off while its master is slow to read what it wrote (default bound)', async () => {
    const { route, rec } = recordingRoute();
    const server = await listen([route]);
    const sockets: import('node:net').Socket[] = [];
    server.http.on('connection', (s) => sockets.push(s));
    const { client, rec: crec } = schedulerClient(() => server.url());
    client.start();
    await until(() => rec.peers.length === 1 && client.connected);
    // The master stops reading (busy); the framework goes on writing ACCEPTs, turn after turn,
    // three times the server's own 8 MiB bound in all.
    for (const s of sockets) s.pause();
    const accept = schedulerCalls.ACCEPT;
    const callBytes = encode(accept).byteLength;
    const calls = Math.ceil((3 * DEFAULT_MAX_BUFFERED_BYTES) / callBytes);
    let refused = 0;
    for (let i = 0; i < calls; i++) {
      if (!client.send(accept)) refused++;
      if (i % 2000 === 0) await new Promise((r) => setImmediate(r));
    }
    await new Promise((r) => setImmediate(r));
    expect(refused).to.equal(0);
    expect(client.connected).to.equal(true);
    for (const s of sockets) s.resume();
    await until(() => rec.messages.length === calls);
    expect(crec.closes).to.deep.equal([]);
  });

  it('refuses to send a message larger than the frame limit', async () => {
    const { route, rec } = recordingRoute();
    const server = await listen([route], { maxFrameBytes: 4096 });
    await rawClient(server.url());
    await until(() => rec.peers.length === 1);
    const huge = { type: 'OFFERS', offers: { offers: Array.from({ length: 50 }, (_, i) => offer(i)) } } as const;
    expect(() => rec.peers[0].send(huge))
      .to.throw(CodecError)
      .with.property('code', 'AGORA_CODEC_FRAME_TOO_LARGE');
    expect(rec.peers[0].open).to.equal(true);
  });

  it('cuts close reasons to 123 bytes of UTF-8', async () => {
    const { route, rec } = recordingRoute();
    const server = await listen([route]);
    const ws = await rawClient(server.url());
    await until(() => rec.peers.length === 1);
    const closed = closeOf(ws);
    rec.peers[0].close(4001, 'é'.repeat(100)); // 200 bytes
    const { code, reason } = await closed;
    expect(code).to.equal(4001);
    expect(reason).to.equal('é'.repeat(61));
  });

  it('server close() closes every connection with 1001 and stops accepting', async () => {
    const { route } = recordingRoute();
    const server = await listen([route]);
    const a = await rawClient(server.url());
    const b = await rawClient(server.url());
    const closes = Promise.all([closeOf(a), closeOf(b)]);
    await server.handle.close();
    expect((await closes).map((c) => c.code)).to.deep.equal([1001, 1001]);
    expect(server.handle.connections()).to.equal(0);
  });

  it('stop() and close() leave no timer or socket behind', async () => {
    // Every timer and TCP handle created from here on (by our code, ws or node:http) must be gone
    // once the client is stopped and the server closed. (Mocha starts its own timeout timer once
    // this function has returned its promise: let that happen before watching.)
    await new Promise((r) => setImmediate(r));
    const live = new Map<number, string>();
    const hook = createHook({
      init(id, type) {
        if (type === 'Timeout' || type === 'TCPWRAP' || type === 'TCPSERVERWRAP') live.set(id, type);
      },
      destroy(id) {
        live.delete(id);
      },
    }).enable();
    try {
      const { route } = recordingRoute();
      const server = await listen([route], { heartbeatIntervalMs: 20 });
      const { client, rec } = schedulerClient(() => server.url(), { heartbeatIntervalMs: 20 });
      client.start();
      await until(() => client.connected);
      expect([...live.values()].filter((t) => t === 'Timeout').length).to.be.at.least(2); // the heartbeats
      // A client waiting out a long backoff when stopped.
      let asked = false;
      const { client: waiting } = schedulerClient(
        () => {
          asked = true;
          return undefined;
        },
        { backoff: { initialMs: 60_000, maxMs: 60_000 } },
      );
      waiting.start();
      await until(() => asked);
      await client.stop();
      await waiting.stop();
      await server.close();
      expect(rec.closes).to.have.length(1);
      // Destroy hooks run asynchronously; poll with setImmediate (not tracked) until all are gone.
      // A leak makes this test time out.
      while (live.size > 0) await new Promise((r) => setImmediate(r));
    } finally {
      hook.disable();
    }
  });

  it('takes backoff settings with defaults, and refuses ones that cannot back off', () => {
    expect(resolveBackoff(undefined)).to.deep.equal({ initialMs: 200, maxMs: 10_000 });
    expect(resolveBackoff({ initialMs: 50, maxMs: 2000 })).to.deep.equal({ initialMs: 50, maxMs: 2000 });
    expect(() => resolveBackoff({ initialMs: 0 })).to.throw(RangeError, /0 < initialMs <= maxMs/);
    expect(() => resolveBackoff({ initialMs: 500, maxMs: 100 })).to.throw(RangeError, /got 500 and 100/);
    expect(() => resolveBackoff({ initialMs: Number.NaN })).to.throw(RangeError);
  });

  it('backs off exponentially with full jitter, capped', () => {
    const top = { next: () => 0.999_999 };
    const delays = Array.from({ length: 9 }, (_, failures) => backoffDelayMs(failures, 200, 10_000, top));
    expect(delays).to.deep.equal([199, 399, 799, 1599, 3199, 6399, 9999, 9999, 9999]);
    expect(backoffDelayMs(3, 200, 10_000, { next: () => 0 })).to.equal(0);
    const rng = seededRng(7);
    for (let failures = 0; failures < 50; failures++) {
      const d = backoffDelayMs(failures, 200, 10_000, rng);
      expect(d)
        .to.be.at.least(0)
        .and.below(Math.min(10_000, 200 * 2 ** failures));
    }
  });
});
