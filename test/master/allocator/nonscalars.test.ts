/**
 * The allocator's allocation-free range containment agrees with the resource library's
 * `rangesContain` (which normalises both sides first), for any outer and inner range lists.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { rangesWithin } from '../../../master/allocator/nonscalars.js';
import { mergeRanges, rangesContain } from '../../../sdk/resources/resources.js';

const range = fc
  .record({ begin: fc.integer({ min: 0, max: 60 }), len: fc.integer({ min: -1, max: 12 }) })
  .map((r) => ({ begin: r.begin, end: r.begin + r.len }));

describe('allocator range containment', () => {
  it('rangesWithin(merged outer, inner) equals rangesContain(outer, inner)', () => {
    fc.assert(
      fc.property(fc.array(range, { maxLength: 8 }), fc.array(range, { maxLength: 8 }), (outer, inner) => {
        expect(rangesWithin(mergeRanges(outer), inner)).to.equal(rangesContain(outer, inner));
      }),
      { numRuns: 2000 },
    );
  });
});
