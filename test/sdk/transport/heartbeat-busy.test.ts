/**
 * A busy process runs its timers before it reads the sockets that became readable meanwhile: the
 * heartbeat must read what has already arrived before it calls a peer silent (issue 14: under load
 * the master dropped live agents in the middle of the placement benchmark's fill, and the launches
 * written to them were lost). Virtual clock; the peer's frame is on the wire when the round runs.
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import WebSocket from 'ws';
import { attachWebSocketServer } from '../../../sdk/transport/index.js';
import { VirtualClock } from '../../../sdk/util/clock.js';

const io = (ms = 30) => new Promise((r) => setTimeout(r, ms));

describe('transport heartbeat in a busy process', () => {
  it('does not drop a peer whose frame arrived before the round but was not read yet', async () => {
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
    const ws = new WebSocket(`ws://127.0.0.1:${(http.address() as AddressInfo).port}/ws`, { autoPong: false });
    try {
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
    } finally {
      ws.terminate();
      await handle.close();
      http.closeAllConnections();
      await new Promise<void>((r) => http.close(() => r()));
    }
  });
});
