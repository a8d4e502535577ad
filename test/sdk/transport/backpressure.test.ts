/**
 * Backpressure on a route that asks for it (WsRoute.backpressure), over real sockets on 127.0.0.1
 * with the heartbeat on a virtual clock: a peer that stops reading is reported congested and keeps
 * getting what is sent past the transport's drop bound; it is reported clear once it has read; and
 * one that stays congested taking nothing past the stall timeout is closed (1013 'peer blocked').
 * Waits are on events and on virtual time, never on wall-clock thresholds.
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import WebSocket from 'ws';
import { encode } from '../../../sdk/codec/index.js';
import type { SchedulerEvent } from '../../../sdk/protocol/messages.js';
import { attachWebSocketServer, type Peer } from '../../../sdk/transport/index.js';
import { VirtualClock } from '../../../sdk/util/clock.js';
import { offer, schedulerCalls } from '../codec/fixtures.js';

const io = (ms = 0) => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await io(5);
}

describe('transport backpressure (route opt-in)', function () {
  this.timeout(60_000);
  const cleanups: (() => Promise<void> | void)[] = [];

  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function server() {
    const clock = new VirtualClock(1_000_000);
    const http = createServer();
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
    const peers: Peer<SchedulerEvent>[] = [];
    const changes: boolean[] = [];
    const closes: { code: number; reason: string }[] = [];
    let received = 0;
    const handle = attachWebSocketServer(
      http,
      [
        {
          path: '/ws',
          inbound: 'scheduler_to_master',
          backpressure: { highWaterBytes: 64 * 1024, maxBufferedBytes: 256 * 1024 * 1024, stallTimeoutMs: 5000 },
          onConnect: (peer: Peer<SchedulerEvent>) => {
            peers.push(peer);
            return {
              onMessage: () => received++,
              onClose: (code: number, reason: string) => closes.push({ code, reason }),
              onBackpressure: (c: boolean) => changes.push(c),
            };
          },
        },
      ],
      // The transport's own drop bound: a route without backpressure closes a peer past it.
      { heartbeatIntervalMs: 1000, clock, maxBufferedBytes: 64 * 1024 },
    );
    cleanups.push(async () => {
      await handle.close();
      http.closeAllConnections();
      await new Promise<void>((r) => http.close(() => r()));
    });
    const ws = new WebSocket(`ws://127.0.0.1:${(http.address() as AddressInfo).port}/ws`);
    cleanups.push(() => ws.terminate());
    await once(ws, 'open');
    await until(() => peers.length === 1);
    return { clock, peer: peers[0], ws, changes, closes, received: () => received };
  }

  const offers = { type: 'OFFERS', offers: { offers: Array.from({ length: 100 }, (_, i) => offer(i)) } } as const;

  /** Sends frames turn after turn until the peer has been reported congested and `bytes` more went out. */
  async function fill(peer: Peer<SchedulerEvent>, changes: boolean[], bytes: number): Promise<number> {
    const frameBytes = encode(offers).byteLength;
    let sent = 0;
    let after = 0;
    while (after < bytes) {
      for (let i = 0; i < 16; i++) {
        expect(peer.send(offers), 'a congested peer still takes frames').to.equal(true);
        sent++;
        if (changes.length > 0) after += frameBytes;
      }
      await new Promise((r) => setImmediate(r));
    }
    return sent;
  }

  it('reports a peer that stops reading congested, keeps sending past the drop bound, and reports it clear once it reads', async () => {
    const { peer, ws, changes, closes } = await server();
    const socket = (ws as unknown as { _socket: import('node:net').Socket })._socket;
    socket.pause();
    // Well past the transport's 64 KiB drop bound once congested (and past the kernel's buffers).
    const sent = await fill(peer, changes, 16 * 1024 * 1024);
    expect(changes).to.deep.equal([true]);
    expect(peer.open).to.equal(true);
    expect(peer.backlog?.()).to.be.greaterThan(64 * 1024);
    let got = 0;
    ws.on('message', () => got++);
    socket.resume();
    await until(() => got === sent && changes.length === 2);
    expect(changes).to.deep.equal([true, false]);
    expect(closes).to.deep.equal([]);
  });

  it('closes a congested peer (1013) that takes no byte for the stall timeout, and not before', async () => {
    const { clock, peer, ws, changes, closes, received } = await server();
    const socket = (ws as unknown as { _socket: import('node:net').Socket })._socket;
    socket.pause();
    await fill(peer, changes, 4 * 1024 * 1024);
    const closed = new Promise<{ code: number; reason: string }>((r) =>
      peer.open
        ? ws.once('close', (code, reason) => r({ code, reason: reason.toString() }))
        : r({ code: 0, reason: '' }),
    );
    // The peer keeps writing (so the heartbeat sees it alive) but reads nothing. Heartbeats at
    // 1 s: at 5 s congested it is not yet over the stall timeout.
    let n = 0;
    const step = async () => {
      ws.send(encode(schedulerCalls.ACCEPT));
      n++;
      await until(() => received() === n);
      clock.advance(1000);
      await io();
    };
    for (let i = 0; i < 5; i++) await step();
    expect(peer.open, 'open at the stall timeout').to.equal(true);
    await step();
    expect(peer.open, 'closed past the stall timeout').to.equal(false);
    // Read again: the frames, then the close frame with its code and reason.
    socket.resume();
    const { code, reason } = await closed;
    expect(code).to.equal(1013);
    expect(reason).to.equal('peer blocked: took nothing while congested');
    await until(() => closes.length === 1);
    expect(closes[0].code).to.equal(1013);
  });
});
