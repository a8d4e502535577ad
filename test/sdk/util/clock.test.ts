import { expect } from 'chai';
import { VirtualClock } from '../../../sdk/util/clock.js';

describe('VirtualClock', () => {
  it('fires timers in due order as time passes, reading each due time while it runs', () => {
    const c = new VirtualClock(1000);
    const seen: Array<[string, number]> = [];
    c.setTimeout(() => seen.push(['b', c.now()]), 20);
    c.setTimeout(() => seen.push(['a', c.now()]), 10);
    c.setTimeout(() => seen.push(['late', c.now()]), 100);
    expect(c.advance(50)).to.equal(2);
    expect(seen).to.deep.equal([
      ['a', 1010],
      ['b', 1020],
    ]);
    expect(c.now()).to.equal(1050);
    expect(c.pending()).to.equal(1);
  });

  it('does not fire a cancelled timer, and repeats an interval until cancelled', () => {
    const c = new VirtualClock();
    let fired = 0;
    let ticks = 0;
    c.setTimeout(() => fired++, 5).cancel();
    const iv = c.setInterval(() => ticks++, 10);
    c.advance(35);
    expect(fired).to.equal(0);
    expect(ticks).to.equal(3);
    iv.cancel();
    c.advance(100);
    expect(ticks).to.equal(3);
  });

  it('fires a timer armed by a firing timer within the same advance when it falls due', () => {
    const c = new VirtualClock();
    const at: number[] = [];
    c.setTimeout(() => c.setTimeout(() => at.push(c.now()), 5), 5);
    c.advance(10);
    expect(at).to.deep.equal([10]);
  });

  it('lets async work started by a timer arm the next one (advanceAsync)', async () => {
    const c = new VirtualClock();
    const at: number[] = [];
    const step = () =>
      void Promise.resolve().then(() => {
        at.push(c.now());
        if (at.length < 3) c.setTimeout(step, 10);
      });
    c.setTimeout(step, 10);
    await c.advanceAsync(30);
    expect(at).to.deep.equal([10, 20, 30]);
  });

  it('refuses to move backwards', () => {
    expect(() => new VirtualClock().advance(-1)).to.throw(RangeError);
  });
});
