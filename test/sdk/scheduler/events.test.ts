/** The driver's event iterator: buffering, release when the consumer moves on, end and return. */
import { expect } from 'chai';
import { EventStream, MAX_BUFFERED_EVENTS } from '../../../sdk/scheduler/events.js';

describe('EventStream (driver.events())', () => {
  it('buffers events and releases each one only when the consumer asks for the next', async () => {
    const released: string[] = [];
    const s = new EventStream(() => undefined);
    s.push({ type: 'rescind', offerId: 'a' }, () => released.push('a'));
    s.push({ type: 'rescind', offerId: 'b' }, () => released.push('b'));
    expect((await s.next()).value).to.deep.equal({ type: 'rescind', offerId: 'a' });
    expect(released).to.deep.equal([]);
    await s.next();
    expect(released).to.deep.equal(['a']);
    const waiting = s.next(); // nothing buffered: waits
    expect(released).to.deep.equal(['a', 'b']);
    s.push({ type: 'reconciled' });
    expect((await waiting).value).to.deep.equal({ type: 'reconciled' });
  });

  it('ends after the buffered events; return() releases what is left and closes', async () => {
    let closed = 0;
    const released: string[] = [];
    const s = new EventStream(() => closed++);
    s.push({ type: 'disconnected' });
    s.end();
    expect((await s.next()).done).to.equal(false);
    expect((await s.next()).done).to.equal(true);
    const t = new EventStream(() => closed++);
    t.push({ type: 'rescind', offerId: 'x' }, () => released.push('x'));
    t.push({ type: 'rescind', offerId: 'y' }, () => released.push('y'));
    await t.next();
    await t.return();
    expect(released).to.deep.equal(['x', 'y']);
    expect((await t.next()).done).to.equal(true);
    expect(closed).to.be.at.least(2);
  });

  it('drops the oldest heartbeats first when the consumer falls behind, then fails', async () => {
    const s = new EventStream(() => undefined);
    s.push({ type: 'reconciled' });
    for (let i = 0; i < MAX_BUFFERED_EVENTS; i++) s.push({ type: 'heartbeat', at: i });
    expect((await s.next()).value).to.deep.equal({ type: 'reconciled' });
    expect((await s.next()).value).to.deep.equal({ type: 'heartbeat', at: 1 }); // at: 0 was dropped
    const u = new EventStream(() => undefined);
    for (let i = 0; i <= MAX_BUFFERED_EVENTS; i++) u.push({ type: 'rescind', offerId: `o${i}` });
    let failed: Error | undefined;
    try {
      await u.next();
    } catch (e) {
      failed = e as Error;
    }
    expect(failed?.message).to.match(/not consumed/);
  });
});
