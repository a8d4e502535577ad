/**
 * The outstanding offers' index (master/state/offer-index.ts) behaves as a Map keyed by offer id,
 * whatever the ids look like, and keeps no shard large for the master's own ids.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { OfferIndex, SHARDS, shardOf } from '../../../master/state/offer-index.js';

describe('OfferIndex', () => {
  it('agrees with a Map under any sequence of set, delete and clear', () => {
    // Mostly ids from a small pool, so that deletes and overwrites hit ids that were set.
    const pool = ['', 'O', 'm-O0', 'm-O1', 'm-O9', 'm-O10', 'm-O99', 'm-O100', 'other id'];
    const id = fc.oneof(
      { arbitrary: fc.constantFrom(...pool), weight: 4 },
      { arbitrary: fc.string({ maxLength: 6 }), weight: 1 },
    );
    const op = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), id, v: fc.integer() }),
      fc.record({ kind: fc.constant('delete' as const), id }),
      fc.record({ kind: fc.constant('clear' as const) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const index = new OfferIndex<number>();
        const model = new Map<string, number>();
        for (const o of ops) {
          if (o.kind === 'set') {
            index.set(o.id, o.v);
            model.set(o.id, o.v);
          } else if (o.kind === 'delete') {
            expect(index.delete(o.id)).to.equal(model.delete(o.id));
          } else {
            index.clear();
            model.clear();
          }
          expect(index.size).to.equal(model.size);
        }
        for (const [k, v] of model) {
          expect(index.get(k)).to.equal(v);
          expect(index.has(k)).to.equal(true);
        }
        const sorted = (it: Iterable<[string, number]>) =>
          [...it].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
        expect(sorted(index)).to.deep.equal(sorted(model));
        expect(sorted(index.entries())).to.deep.equal(sorted(model.entries()));
        expect([...index.keys()].sort()).to.deep.equal([...model.keys()].sort());
        expect([...index.values()].sort()).to.deep.equal([...model.values()].sort());
        const seen: [string, number][] = [];
        index.forEach((v, k, m) => {
          expect(m).to.equal(index);
          seen.push([k, v]);
        });
        expect(sorted(seen)).to.deep.equal(sorted(model));
      }),
    );
  });

  it("spreads the master's sequential ids so that no shard holds more than twice its share", () => {
    const sizes = new Array<number>(SHARDS).fill(0);
    for (let i = 0; i < 10_000; i++) sizes[shardOf(`c0ffee-0001-O${i + 1}`)]++;
    expect(Math.max(...sizes), `shard sizes ${sizes.join(',')}`).to.be.at.most((2 * 10_000) / SHARDS);
  });
});
