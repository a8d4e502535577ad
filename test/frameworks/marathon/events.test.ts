import { VirtualClock } from 'agora/sdk/testing';
import { expect } from 'chai';
import { EventBus } from '../../../frameworks/marathon/core/events.js';

describe('marathon event bus', () => {
  it('filters by event type, and drops a subscriber whose queue is full without holding up the others', () => {
    const bus = new EventBus(new VirtualClock(0));
    const fast: string[] = [];
    const filtered: string[] = [];
    let slowQueue = 0;
    let dropped = '';
    bus.subscribe({ types: new Set(), write: (e) => fast.push(e.eventType) > 0, close: () => undefined });
    bus.subscribe({
      types: new Set(['deployment_success']),
      write: (e) => filtered.push(e.eventType) > 0,
      close: () => undefined,
    });
    bus.subscribe({
      types: new Set(),
      write: () => ++slowQueue <= 2,
      close: (why) => {
        dropped = why;
      },
    });
    for (let i = 0; i < 5; i++) bus.emit(i === 4 ? 'deployment_success' : 'status_update_event', { n: i });
    expect(fast).to.have.length(5);
    expect(filtered).to.deep.equal(['deployment_success']);
    expect(dropped).to.match(/behind/);
    expect(slowQueue).to.equal(3, 'not written to after it was dropped');
    expect(bus.size).to.equal(2);
    expect(bus.dropped).to.equal(1);
  });
});
