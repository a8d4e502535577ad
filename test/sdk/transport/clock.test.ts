/**
 * The transport's timers run on the injected Clock: with a VirtualClock nothing fires until the
 * test moves time, and then the heartbeat and the reconnection backoff act as they would in real time.
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import WebSocket from 'ws';
import type { SchedulerEvent } from '../../../sdk/protocol/messages.js';
import { attachWebSocketServer, ReconnectingClient } from '../../../sdk/transport/index.js';
import { VirtualClock } from '../../../sdk/util/clock.js';
import { seededRng } from '../../../sdk/util/random.js';

/** Real time for sockets to do their I/O (not a threshold: the virtual clock is stopped meanwhile). */
const io = (ms = 30) => new Promise((r) => setTimeout(r, ms));

describe('transport timers on the injected Clock', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  /** A server on a free port whose heartbeat runs on a virtual clock (100 ms interval); closes recorded. */
  async function virtualServer() {
    const clock = new VirtualClock(1_000_000);
    const http = createServer();
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
    const closes: { code: number; reason: string }[] = [];
    const handle = attachWebSocketServer(
      http,
      [
        {
          path: '/ws',
          inbound: 'scheduler_to_master',
          onConnect: () => ({ onMessage() {}, onClose: (code, reason) => closes.push({ code, reason }) }),
        },
      ],
      { heartbeatIntervalMs: 100, clock },
    );
    cleanups.push(async () => {
      await handle.close();
      http.closeAllConnections();
      await new Promise<void>((r) => http.close(() => r()));
    });
    return { clock, closes, handle, url: `ws://127.0.0.1:${(http.address() as AddressInfo).port}/ws` };
  }

  it('heartbeats on virtual time: a silent peer is dropped only when the clock passes two intervals', async () => {
    const { clock, closes, handle, url } = await virtualServer();
    const healthy = new WebSocket(url);
    const silent = new WebSocket(url, { autoPong: false });
    cleanups.push(() => {
      healthy.terminate();
      silent.terminate();
    });
    await Promise.all([once(healthy, 'open'), once(silent, 'open')]);
    let pings = 0;
    silent.on('ping', () => pings++);

    // Real time passes, virtual time does not: nobody is dropped.
    await io(400);
    expect(pings).to.equal(0);
    expect(silent.readyState).to.equal(WebSocket.OPEN);
    expect(handle.connections()).to.equal(2);

    // Two intervals: pinged twice, not yet silent for more than two intervals.
    for (let i = 0; i < 2; i++) {
      clock.advance(100);
      await io();
    }
    expect(pings).to.equal(2);
    expect(silent.readyState).to.equal(WebSocket.OPEN);
    // The third round finds the silent peer quiet for 300 ms > 2 × 100 ms.
    clock.advance(100);
    const [code] = (await once(silent, 'close')) as [number];
    expect(code).to.equal(1006);
    while (closes.length === 0) await io(5);
    expect(closes).to.deep.equal([{ code: 1006, reason: 'heartbeat timeout' }]);
    expect(healthy.readyState).to.equal(WebSocket.OPEN);
  });

  it('pings only a peer it has not heard from for an interval (a peer that pings it is not pinged back)', async () => {
    const { clock, handle, url } = await virtualServer();
    const chatty = new WebSocket(url);
    const quiet = new WebSocket(url);
    cleanups.push(() => {
      chatty.terminate();
      quiet.terminate();
    });
    await Promise.all([once(chatty, 'open'), once(quiet, 'open')]);
    const pings = { chatty: 0, quiet: 0 };
    chatty.on('ping', () => pings.chatty++);
    quiet.on('ping', () => pings.quiet++);
    for (let i = 0; i < 4; i++) {
      clock.advance(60);
      chatty.ping(); // its own heartbeat, more often than the server's
      await io();
      clock.advance(40);
      await io();
    }
    // The quiet one answered every round's ping; the chatty one was heard from within every interval.
    expect(pings.quiet).to.equal(4);
    expect(pings.chatty).to.equal(0);
    expect(handle.connections()).to.equal(2);
  });

  it('backs off on virtual time: the next attempt waits for the clock', async () => {
    const clock = new VirtualClock(0);
    let attempts = 0;
    const client = new ReconnectingClient<'master_to_scheduler', SchedulerEvent>({
      url: () => {
        attempts++;
        return undefined; // no leader known yet: retry after backoff
      },
      inbound: 'master_to_scheduler',
      onOpen() {},
      onMessage() {},
      backoff: { initialMs: 200, maxMs: 10_000 },
      rng: seededRng(1),
      clock,
    });
    cleanups.push(() => client.stop());
    client.start();
    await io();
    expect(attempts).to.equal(1);
    await io(300); // real time alone does not bring the retry
    expect(attempts).to.equal(1);
    expect(clock.pending()).to.equal(1);
    // The first wait is below initialMs (full jitter); moving the clock to it brings attempt 2.
    const due = clock.nextDue() ?? Number.NaN;
    expect(due).to.be.within(0, 200);
    clock.advanceTo(due);
    await io();
    expect(attempts).to.equal(2);
    expect(clock.pending()).to.equal(1);
    await client.stop();
    expect(clock.pending()).to.equal(0);
  });

  // A busy process runs its timers before it reads the sockets that became readable meanwhile: the
  // heartbeat must read what has already arrived before it calls a peer silent (issue 14: under load
  // the master dropped live agents in the middle of the placement benchmark's fill, and the launches
  // written to them were lost).
  it('does not drop a peer whose frame arrived before the round but was not read yet', async () => {
    const { clock, closes, url } = await virtualServer();
    const ws = new WebSocket(url, { autoPong: false });
    cleanups.push(() => ws.terminate());
    await once(ws, 'open');
    await io();
    // The peer speaks (a ping of its own); in the same turn, before the server has read it, the
    // process falls three intervals behind and runs the rounds it owes.
    ws.ping();
    clock.advance(300);
    await io(100);
    expect(closes, 'the peer that spoke is still connected').to.deep.equal([]);
    expect(ws.readyState).to.equal(WebSocket.OPEN);
    // A peer that stays silent is still dropped once two more intervals pass.
    clock.advance(300);
    const [code] = (await once(ws, 'close')) as [number];
    expect(code).to.equal(1006);
    while (closes.length === 0) await io(5);
    expect(closes).to.deep.equal([{ code: 1006, reason: 'heartbeat timeout' }]);
  });
});
