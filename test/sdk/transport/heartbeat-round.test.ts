/**
 * heartbeatRound, the pure part of the transport's heartbeat, on exact times with stand-in peers
 * (only what the round reads and calls): a live peer is never dropped before it has been pinged
 * and given an interval to answer, however the rounds fall against its last sign of life.
 */
import { expect } from 'chai';
import { heartbeatRound, type WsPeer } from '../../../sdk/transport/peer.js';

interface StandIn {
  ws: { readyState: number; ping(): void };
  lastSeen: number;
  lastPingAt: number;
  stalled(now: number): boolean;
  terminate(reason: string): void;
  pings: number;
  terminated?: string;
}

function standIn(lastSeen: number): StandIn {
  const p: StandIn = {
    ws: { readyState: 1, ping: () => p.pings++ },
    lastSeen,
    lastPingAt: 0,
    stalled: () => false,
    terminate: (reason) => {
      p.terminated = reason;
    },
    pings: 0,
  };
  return p;
}

const round = (p: StandIn, now: number) => heartbeatRound([p as unknown as WsPeer<unknown>], 1000, false, now);
const turn = () => new Promise((r) => setImmediate(r));

describe('heartbeatRound: judged silent only after a ping went unanswered', () => {
  it('a round 1 ms short of an interval, then one 1 ms past two: pinged, not dropped (CI saw it dropped)', async () => {
    const p = standIn(1);
    round(p, 1000); // 999 ms of silence: not asked yet
    expect(p.pings).to.equal(0);
    round(p, 2002); // 2,001 ms of silence, never asked: asked now, not dropped
    await turn();
    expect(p.terminated).to.equal(undefined);
    expect(p.pings).to.equal(1);
    p.lastSeen = 2003; // its pong
    round(p, 3002);
    round(p, 4004);
    await turn();
    expect(p.terminated).to.equal(undefined);
  });

  it('a peer that does not answer the ping is dropped the round after more than two intervals', async () => {
    const p = standIn(0);
    round(p, 1000);
    expect(p.pings).to.equal(1);
    round(p, 2000);
    await turn();
    expect(p.terminated).to.equal(undefined);
    round(p, 3000);
    await turn();
    expect(p.terminated).to.equal('heartbeat timeout');
  });

  it('a ping sent before the peer was last heard from does not count: it is asked again first', async () => {
    const p = standIn(0);
    round(p, 1000); // pinged
    p.lastSeen = 1001; // a frame, just after the ping
    round(p, 2000); // 999 ms: not asked
    round(p, 3002); // 2,001 ms, but the only ping is older than the frame: asked, not dropped
    await turn();
    expect(p.terminated).to.equal(undefined);
    expect(p.pings).to.equal(2);
    round(p, 4002); // no answer to that ping
    await turn();
    expect(p.terminated).to.equal('heartbeat timeout');
  });
});
