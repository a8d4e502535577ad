/**
 * The simulated agents' lean WebSocket client (scripts/bench/sim/lean-client.ts) against a real
 * `ws` WebSocketServer set up as Agora's (no compression, a frame limit), in this process: the
 * handshake, frames both ways at every length encoding, a fragmented message, ping/pong, the
 * closing handshake, and the attempts it must refuse and retry with backoff.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { expect } from 'chai';
import { type WebSocket, WebSocketServer } from 'ws';
import { freePort, sleep } from '../../scripts/bench/sim/cluster.js';
import { acceptFor, LeanClient, type LeanPeer, maskedFrame, nextKey } from '../../scripts/bench/sim/lean-client.js';
import { decode, encode } from '../../sdk/codec/codec.js';
import { AGENT_WS_PATH, type AgentMessage, Direction, type MasterToAgentMessage } from '../../sdk/protocol/messages.js';

async function until(what: string, ok: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/**
 * An HTTP server whose upgrades go to a ws server configured as Agora's, unless `refuse` answers
 * one first (returns true when it did).
 */
async function master(refuse?: (n: number, req: IncomingMessage, socket: Socket) => boolean) {
  const port = await freePort();
  const server: Server = createServer((_req, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 4 * 1024 * 1024 });
  const received: AgentMessage[] = [];
  const sockets: WebSocket[] = [];
  const requests: IncomingMessage[] = [];
  let upgrades = 0;
  const upgradeAt: number[] = [];
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const n = upgrades++;
    upgradeAt.push(Date.now());
    requests.push(req);
    if (refuse?.(n, req, socket)) return;
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.push(ws);
      ws.on('message', (data, isBinary) => {
        expect(isBinary).to.equal(true);
        received.push(decode(Direction.AgentToMaster, data as Buffer));
      });
    });
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
  return {
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}${AGENT_WS_PATH}`,
    received,
    sockets,
    requests,
    upgrades: () => upgrades,
    upgradeAt,
    last: () => sockets[sockets.length - 1],
    send: (m: MasterToAgentMessage) => sockets[sockets.length - 1].send(encode(m)),
    close: async () => {
      for (const ws of sockets) ws.terminate();
      await new Promise<void>((r) => server.close(() => r()));
      server.closeAllConnections();
    },
  };
}

type Client = LeanClient<typeof Direction.MasterToAgent, AgentMessage>;

function client(url: string, extra: { initialMs?: number; maxMs?: number; maxFrameBytes?: number } = {}) {
  const got: MasterToAgentMessage[] = [];
  const closes: { code: number; reason: string }[] = [];
  let opens = 0;
  let peer: LeanPeer<AgentMessage> | undefined;
  const c: Client = new LeanClient({
    url: () => url,
    inbound: Direction.MasterToAgent,
    backoff: { initialMs: extra.initialMs ?? 20, maxMs: extra.maxMs ?? 2000 },
    maxFrameBytes: extra.maxFrameBytes,
    // Always near the top of the jitter range, so that the waits show the doubling.
    rng: { next: () => 0.999 },
    onOpen: (p) => {
      opens++;
      peer = p;
    },
    onMessage: (m) => got.push(m),
    onClose: (code, reason) => {
      closes.push({ code, reason });
      peer = undefined;
    },
  });
  return { c, got, closes, opens: () => opens, peer: () => peer };
}

const update = (message: string): AgentMessage => ({
  type: 'STATUS_UPDATE',
  update: {
    framework_id: 'fw-1',
    status: { task_id: 't1', state: 'TASK_RUNNING', source: 'SOURCE_EXECUTOR', timestamp: 1, uuid: 'u1', message },
  },
});

describe('bench lean WebSocket client (simulated agents)', () => {
  let m: Awaited<ReturnType<typeof master>> | undefined;
  let cl: ReturnType<typeof client> | undefined;
  afterEach(async () => {
    await cl?.c.stop();
    await m?.close();
    cl = undefined;
    m = undefined;
  });

  it('opens with a valid upgrade (the path, a 16-byte key, version 13) and sends and receives messages', async () => {
    m = await master();
    cl = client(m.url);
    cl.c.start();
    await until('open', () => cl?.opens() === 1 && m?.sockets.length === 1);
    expect(cl.c.connected).to.equal(true);
    const req = m.requests[0];
    expect(req.url).to.equal(AGENT_WS_PATH);
    expect(req.headers['sec-websocket-version']).to.equal('13');
    expect(Buffer.from(req.headers['sec-websocket-key'] as string, 'base64')).to.have.length(16);
    cl.peer()?.send({ type: 'PONG', seq: 7 });
    m.send({ type: 'PING', seq: 8 });
    await until('both messages', () => m?.received.length === 1 && cl?.got.length === 1);
    expect(m.received[0]).to.deep.equal({ type: 'PONG', seq: 7 });
    expect(cl.got[0]).to.deep.equal({ type: 'PING', seq: 8 });
  });

  it('sends and receives frames of 7-, 16- and 64-bit lengths', async () => {
    m = await master();
    cl = client(m.url);
    cl.c.start();
    await until('open', () => cl?.opens() === 1 && m?.sockets.length === 1);
    const out: AgentMessage[] = [{ type: 'PONG', seq: 1 }, update('b'.repeat(1000)), update('c'.repeat(65_536))];
    const back: MasterToAgentMessage[] = [
      { type: 'PING', seq: 2 },
      { type: 'SHUTDOWN', message: 'd'.repeat(1000) },
      { type: 'SHUTDOWN', message: 'e'.repeat(65_536) },
    ];
    // Encoded: under 126 bytes, under 65,536, and over it.
    for (const list of [out, back]) {
      const sizes = list.map((x) => encode(x).length);
      expect(sizes[0]).to.be.below(126);
      expect(sizes[1]).to.be.within(126, 65_535);
      expect(sizes[2]).to.be.above(65_535);
    }
    // Both ends opened: the server has the socket as soon as it answers 101, and on a loaded
    // machine the client may not have read that answer yet, so peer() was still undefined and
    // these sends went nowhere (CI, 2026-12-02).
    for (const x of out) cl.peer()?.send(x);
    for (const x of back) m.send(x);
    await until('every message', () => m?.received.length === 3 && cl?.got.length === 3);
    expect(m.received).to.deep.equal(out);
    expect(cl.got).to.deep.equal(back);
    expect(cl.c.connected).to.equal(true);
  });

  it('joins a fragmented server message (a ping between its fragments)', async () => {
    m = await master();
    cl = client(m.url);
    cl.c.start();
    await until('open', () => cl?.opens() === 1 && m?.sockets.length === 1);
    const frame = encode({ type: 'SHUTDOWN', message: 'x'.repeat(300) });
    const ws = m.last();
    ws.send(frame.subarray(0, 10), { binary: true, fin: false });
    ws.send(frame.subarray(10, 200), { binary: true, fin: false });
    ws.ping(Buffer.from('mid'));
    ws.send(frame.subarray(200), { binary: true, fin: true });
    m.send({ type: 'PING', seq: 1 });
    await until('both messages', () => cl?.got.length === 2);
    expect(cl.got[0]).to.deep.equal({ type: 'SHUTDOWN', message: 'x'.repeat(300) });
    expect(cl.got[1]).to.deep.equal({ type: 'PING', seq: 1 });
  });

  it('answers a ping with a pong of the same payload', async () => {
    m = await master();
    cl = client(m.url);
    cl.c.start();
    await until('open', () => cl?.opens() === 1 && m?.sockets.length === 1);
    const pongs: string[] = [];
    m.last().on('pong', (data) => pongs.push(data.toString()));
    m.last().ping(Buffer.from('ping-1'));
    m.last().ping(Buffer.from('p'.repeat(125)));
    await until('two pongs', () => pongs.length === 2);
    expect(pongs).to.deep.equal(['ping-1', 'p'.repeat(125)]);
  });

  it('echoes a server close, reports it once, and connects again', async () => {
    m = await master();
    cl = client(m.url);
    cl.c.start();
    await until('open', () => cl?.opens() === 1 && m?.sockets.length === 1);
    const echoed = new Promise<number>((r) => m?.last().once('close', (code) => r(code)));
    m.last().close(4001, 'bye');
    expect(await echoed).to.equal(4001);
    await until('closed', () => cl?.closes.length === 1);
    expect(cl.closes[0]).to.deep.equal({ code: 4001, reason: 'bye' });
    await until('reconnected', () => cl?.opens() === 2 && m?.sockets.length === 2);
  });

  it('closes with 1008 on a text frame and 1009 on a message over its limit, as the SDK client', async () => {
    m = await master();
    cl = client(m.url, { maxFrameBytes: 1000 });
    cl.c.start();
    await until('open', () => cl?.opens() === 1 && m?.sockets.length === 1);
    const first = new Promise<number>((r) => m?.last().once('close', (code) => r(code)));
    // A valid message's bytes, but in a text frame: refused all the same.
    m.last().send(encode({ type: 'PING', seq: 3 }), { binary: false });
    expect(await first).to.equal(1008);
    await until('second open', () => m?.sockets.length === 2);
    const second = new Promise<number>((r) => m?.last().once('close', (code) => r(code)));
    m.send({ type: 'SHUTDOWN', message: 'y'.repeat(2000) });
    expect(await second).to.equal(1009);
    expect(cl.got).to.deep.equal([]);
  });

  it('retries with backoff when the server answers 503 or 400 instead of 101', async () => {
    m = await master((n, req, socket) => {
      if (n >= 3) return false;
      // The 400 even carries the headers of a good upgrade: its status alone must refuse it.
      const accept = acceptFor(req.headers['sec-websocket-key'] as string);
      const head =
        n === 1
          ? `400 Bad Request\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}`
          : '503 Service Unavailable\r\nConnection: close';
      socket.end(`HTTP/1.1 ${head}\r\nContent-Length: 0\r\n\r\n`);
      return true;
    });
    cl = client(m.url, { initialMs: 40 });
    cl.c.start();
    await until('open after three refusals', () => cl?.opens() === 1 && m?.sockets.length === 1);
    expect(m.upgrades()).to.equal(4);
    // Waits of 39, 79 and 159 ms (the jitter is pinned near its ceiling of 40, 80, 160): a timer
    // never fires early, so each wait is at least that (less a millisecond of rounding), which a
    // client that did not double would miss. No upper bound: a loaded machine fires timers late.
    const waits = m.upgradeAt.slice(1).map((t, i) => t - m!.upgradeAt[i]);
    expect(waits[0]).to.be.at.least(38);
    expect(waits[1]).to.be.at.least(78);
    expect(waits[2]).to.be.at.least(158);
    expect(cl.closes).to.deep.equal([]);
  });

  it('refuses a 101 with the wrong Sec-WebSocket-Accept, and keeps trying', async () => {
    m = await master((n, req, socket) => {
      if (n >= 2) return false;
      const wrong =
        n === 0
          ? acceptFor('dGhlIHNhbXBsZSBub25jZQ==')
          : acceptFor(req.headers['sec-websocket-key'] as string).replace(/^./, (c) => (c === 'A' ? 'B' : 'A'));
      socket.write(
        `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${wrong}\r\n\r\n`,
      );
      // A frame that an accepting client would deliver.
      socket.write(Buffer.from([0x82, 0x00]));
      setTimeout(() => socket.destroy(), 500).unref();
      return true;
    });
    cl = client(m.url);
    cl.c.start();
    await until('open on the third attempt', () => cl?.opens() === 1 && m?.sockets.length === 1);
    expect(m.upgrades()).to.equal(3);
    expect(cl.closes).to.deep.equal([]);
  });

  it('masks each frame with a key of its own', () => {
    const payload = Buffer.from('the same payload, twice');
    const a = maskedFrame(2, payload);
    const b = maskedFrame(2, payload);
    expect(a[1] & 0x80).to.equal(0x80);
    const keyA = a.subarray(2, 6);
    const keyB = b.subarray(2, 6);
    expect(keyA.equals(keyB)).to.equal(false);
    const unmask = (f: Buffer) => Buffer.from(f.subarray(6).map((x, i) => x ^ f[2 + (i & 3)]));
    expect(unmask(a).equals(payload)).to.equal(true);
    expect(unmask(b).equals(payload)).to.equal(true);
    expect(nextKey()).to.not.equal(nextKey());
  });
});
