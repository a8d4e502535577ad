/**
 * Booking a cycle's offers (master/state/offers.ts): the frame-size bound never under-counts an
 * encoding, and a framework's allocation after a cycle equals its tasks plus its offers added one
 * by one (booking sums identical offers by count instead).
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { allocate } from '../../../master/allocator/index.js';
import { encodedBound, offerEncodedBound, splitUnder } from '../../../master/state/offers.js';
import { DeclineOffersShape } from '../../../scripts/bench/allocator.js';
import { WholeCycle } from '../../../scripts/bench/sim/whole-cycle.js';
import { encode } from '../../../sdk/codec/index.js';
import type { SchedulerEvent } from '../../../sdk/protocol/messages.js';
import { Resources } from '../../../sdk/resources/resources.js';
import { seededRng } from '../../../sdk/util/random.js';

const resource = fc.oneof(
  fc.record({ name: fc.string(), type: fc.constant('SCALAR'), scalar: fc.record({ value: fc.double() }) }),
  fc.record({
    name: fc.string(),
    type: fc.constant('RANGES'),
    ranges: fc.record({ range: fc.array(fc.record({ begin: fc.nat(), end: fc.nat() })) }),
  }),
);
const offer = fc.record({
  id: fc.string({ unit: 'grapheme' }),
  framework_id: fc.string(),
  agent_id: fc.string(),
  hostname: fc.string({ unit: 'binary' }),
  resources: fc.array(resource, { maxLength: 6 }),
  attributes: fc.dictionary(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'binary' })),
  allocation_role: fc.option(fc.string(), { nil: undefined }),
});

describe('offer booking (master/state/offers.ts)', () => {
  it('bounds the encoded size of any OFFERS message from above', () => {
    fc.assert(
      fc.property(fc.array(offer, { maxLength: 20 }), (offers) => {
        const message = { type: 'OFFERS', offers: { offers } } as SchedulerEvent;
        expect(encodedBound(message)).to.be.at.least(encode(message).byteLength);
      }),
      { numRuns: 300 },
    );
    // Booking sums one bound per offer, from bounds it keeps per resource list and attributes.
    fc.assert(
      fc.property(offer, (o) => {
        expect(offerEncodedBound(o as never)).to.be.at.least(encode(o as never).byteLength);
      }),
      { numRuns: 300 },
    );
    // Three UTF-8 bytes per UTF-16 unit: the worst case.
    const wide = {
      type: 'OFFERS',
      offers: { offers: [{ hostname: '\u20ac'.repeat(1000) }] },
    } as unknown as SchedulerEvent;
    expect(encodedBound(wide)).to.be.at.least(encode(wide).byteLength);
  });

  it('splits a batch too large for one frame into frames that each fit', () => {
    const item = { id: 'x'.repeat(100), n: 12345 };
    const items = Array.from({ length: 200 }, () => item);
    const chunks = splitUnder(items, 1024 + 5000);
    expect(chunks.length).to.be.greaterThan(1);
    expect(chunks.flat()).to.have.length(200);
    for (const c of chunks)
      expect(encode({ type: 'HEARTBEAT', c } as unknown as SchedulerEvent).byteLength).to.be.at.most(5000 + 64);
  });

  it("leaves each framework's allocation equal to its tasks plus its offers, added one by one", () => {
    const w = WholeCycle.fromSnapshot(new DeclineOffersShape(60, 4).snapshot());
    for (let round = 0; round < 3; round++) {
      const t = w.run(allocate, seededRng(round));
      expect(t.offers).to.be.greaterThan(0);
      for (const fw of w.state.frameworks.values()) {
        let want = Resources.empty();
        for (const key of fw.tasks) {
          const task = w.state.tasks.get(key);
          if (task) want = want.plus(task.resources);
        }
        for (const id of fw.offers) {
          const o = w.state.offers.get(id);
          if (o) want = want.plus(o.resources);
        }
        const got = fw.allocated.get('*') ?? Resources.empty();
        expect(got.toString(), fw.id).to.equal(want.toString());
      }
      w.declineAll(3600);
    }
  });
});
