/**
 * The shared judge of a slow reader (sdk/transport/backlog-meter.ts), on its own: congested past
 * the high water, clear at a quarter of it, over the bound only on a non-empty buffer, and stalled
 * only when congested with nothing taken for longer than the stall timeout. The transports that use
 * it (WsPeer, the v1 HTTP scheduler stream) are tested over real sockets in backpressure.test.ts,
 * scheduler-backpressure.test.ts and v1-scheduler.test.ts.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { type BacklogBounds, BacklogMeter, overBound } from '../../../sdk/transport/backlog-meter.js';

const BOUNDS: BacklogBounds = { highWaterBytes: 1000, maxBufferedBytes: 10_000, stallTimeoutMs: 60_000 };

function meter(bounds: BacklogBounds = BOUNDS) {
  const clock = { t: 1_000_000, now: () => clock.t };
  return { clock, m: new BacklogMeter(bounds, clock) };
}

describe('backlog meter', () => {
  it('is congested past the high water, not at it, and clear again only at a quarter of it', () => {
    const { m } = meter();
    expect(m.judge(1000, 0), 'at the high water').to.equal(undefined);
    expect(m.congested).to.equal(false);
    expect(m.judge(1001, 0)).to.equal('congested');
    expect(m.congested).to.equal(true);
    expect(m.judge(5000, 0), 'already congested').to.equal(undefined);
    expect(m.judge(251, 0), 'just above a quarter').to.equal(undefined);
    expect(m.congested).to.equal(true);
    expect(m.judge(250, 0)).to.equal('clear');
    expect(m.congested).to.equal(false);
    expect(m.judge(900, 0), 'under the high water after clearing').to.equal(undefined);
  });

  it('drops past the bound, but a write onto an empty buffer always goes', () => {
    const { m } = meter();
    expect(m.overBound(0, 1_000_000), 'empty buffer').to.equal(false);
    expect(m.overBound(1, 9_999), 'exactly the bound').to.equal(false);
    expect(m.overBound(1, 10_000)).to.equal(true);
    expect(overBound(5, 6, 10)).to.equal(true);
    expect(overBound(5, 5, 10)).to.equal(false);
  });

  it('stalls a congested reader that takes nothing for longer than the stall timeout, counted from congestion', () => {
    const { clock, m } = meter();
    m.judge(0, 100); // took bytes long ago
    clock.t += 500_000;
    m.judge(2000, 100);
    expect(m.stalled(), 'just congested').to.equal(false);
    clock.t += 60_000;
    expect(m.stalled(), 'at the stall timeout').to.equal(false);
    clock.t += 1;
    expect(m.stalled()).to.equal(true);
    expect(m.stalled(clock.t - 1), 'as of an earlier time').to.equal(false);
  });

  it('counts only a rise of what was taken as progress', () => {
    const { clock, m } = meter();
    m.judge(2000, 100);
    clock.t += 50_000;
    m.judge(2000, 100); // the same count: no progress
    m.judge(2000, 90); // a fall (pings buffered after the frames): no progress either
    clock.t += 10_001;
    expect(m.stalled()).to.equal(true);
    m.judge(2000, 101); // one byte taken
    expect(m.stalled()).to.equal(false);
    clock.t += 60_001;
    expect(m.stalled()).to.equal(true);
  });

  it('never stalls a reader that is not congested', () => {
    const { clock, m } = meter();
    m.judge(900, 0);
    clock.t += 1_000_000;
    expect(m.stalled()).to.equal(false);
    m.judge(2000, 0);
    m.judge(100, 0);
    clock.t += 1_000_000;
    expect(m.stalled(), 'cleared').to.equal(false);
  });

  it('over any run: the changes alternate, the state follows the hysteresis, a stall needs the quiet time', () => {
    const step = fc.record({
      backlog: fc.integer({ min: 0, max: 4000 }),
      taken: fc.integer({ min: 0, max: 50 }),
      advance: fc.integer({ min: 0, max: 40_000 }),
    });
    fc.assert(
      fc.property(fc.integer({ min: 4, max: 3000 }), fc.array(step, { maxLength: 60 }), (hw, steps) => {
        const bounds = { highWaterBytes: hw, maxBufferedBytes: 10 * hw, stallTimeoutMs: 60_000 };
        const { clock, m } = meter(bounds);
        let expected = false;
        let last: string | undefined;
        let mark = 0;
        let quietSince = clock.t;
        for (const s of steps) {
          clock.t += s.advance;
          const before = m.congested;
          const change = m.judge(s.backlog, s.taken);
          if (s.taken > mark) {
            mark = s.taken;
            quietSince = clock.t;
          }
          if (!expected && s.backlog > hw) {
            expected = true;
            quietSince = clock.t;
          } else if (expected && s.backlog <= hw / 4) expected = false;
          expect(m.congested).to.equal(expected);
          expect(change).to.equal(before === expected ? undefined : expected ? 'congested' : 'clear');
          if (change) {
            expect(change, 'changes alternate').to.not.equal(last);
            last = change;
          }
          expect(m.stalled()).to.equal(expected && clock.t - quietSince > 60_000);
        }
      }),
      { seed: 20261201, numRuns: 300 },
    );
  });
});
