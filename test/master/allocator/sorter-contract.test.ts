/**
 * One contract for every `Sorter`: the same suite runs against the DRF sorter and the random
 * sorter. Assertions about *which* order (DRF shares, weights, tie-breaks) run only for DRF; the
 * rest (membership, activation, allocation bookkeeping, visiting, hierarchy) holds for both.
 *
 * The share arithmetic is worked out in the comments next to each DRF assertion:
 *   share(client) = max over scalar resources r of allocated(r) / total(r), divided by its weight.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { DrfSorter } from '../../../master/allocator/drf-sorter.js';
import { RandomSorter } from '../../../master/allocator/random-sorter.js';
import { ScalarSpace, type Sorter, type SorterOptions } from '../../../master/allocator/sorter.js';
import { Resources } from '../../../sdk/resources/resources.js';
import { seededRng } from '../../../sdk/util/random.js';

const R = (text: string) => Resources.parse(text);

/** A space whose pool is `total` (what shares are fractions of). */
function pool(total: string): ScalarSpace {
  const space = new ScalarSpace();
  space.addTotal(R(total));
  return space;
}

interface ContractOptions {
  /** Run the assertions that depend on DRF's order. */
  drf: boolean;
}

function sorterContract(name: string, make: (options?: SorterOptions) => Sorter, { drf }: ContractOptions): void {
  describe(`Sorter contract: ${name}`, () => {
    describe('membership', () => {
      it('adds clients with distinct indices and finds them by name and index', () => {
        const s = make();
        const a = s.add('a');
        const b = s.add('b');
        expect(a).to.not.equal(b);
        expect(s.contains('a')).to.equal(true);
        expect(s.contains('c')).to.equal(false);
        expect(s.count()).to.equal(2);
        expect(s.indexOf('b')).to.equal(b);
        expect(s.indexOf('c')).to.equal(-1);
        expect(s.nameOf(a)).to.equal('a');
      });

      it('refuses a client added twice', () => {
        const s = make();
        s.add('a');
        expect(() => s.add('a')).to.throw(/already/);
      });

      it('forgets removed clients, and can take them again', () => {
        const s = make();
        s.add('a');
        s.add('b');
        s.allocated('a', R('cpus:1'));
        s.remove('a');
        expect(s.contains('a')).to.equal(false);
        expect(s.count()).to.equal(1);
        expect(s.sort()).to.deep.equal(['b']);
        s.add('a');
        expect(s.allocation('a')).to.deep.equal({});
        expect(s.sort()).to.have.members(['a', 'b']);
      });

      it('rejects unknown clients', () => {
        const s = make();
        expect(() => s.allocated('nobody', R('cpus:1'))).to.throw(/no client/);
        expect(() => s.activate('nobody')).to.throw(/no client/);
      });
    });

    describe('activation', () => {
      it('sorts exactly the active clients', () => {
        const s = make();
        for (const c of ['a', 'b', 'c']) s.add(c);
        expect(s.sort()).to.have.members(['a', 'b', 'c']);
        s.deactivate('b');
        expect(s.isActive('b')).to.equal(false);
        expect(s.sort()).to.have.members(['a', 'c']).and.have.length(2);
        s.activate('b');
        expect(s.sort()).to.have.members(['a', 'b', 'c']);
        // Activating twice, or deactivating an inactive client, changes nothing.
        s.activate('b');
        s.deactivate('c');
        s.deactivate('c');
        expect(s.sort()).to.have.members(['a', 'b']).and.have.length(2);
      });

      it('keeps an inactive client allocation', () => {
        const s = make({ space: pool('cpus:10') });
        s.add('a');
        s.allocated('a', R('cpus:2'));
        s.deactivate('a');
        expect(s.allocation('a')).to.deep.equal({ cpus: 2 });
      });
    });

    describe('allocations', () => {
      it('adds and subtracts scalar quantities, over all reservation roles', () => {
        const s = make({ space: pool('cpus:10;mem:1000') });
        s.add('a');
        s.allocated('a', R('cpus:1.5;mem:100;ports:[31000-31001]'));
        s.allocated('a', R('cpus(analytics):0.5'));
        // 1.5 + 0.5 = 2 cpus (roles summed), 100 mem; ports are not scalars.
        expect(s.allocation('a')).to.deep.equal({ cpus: 2, mem: 100 });
        s.unallocated('a', R('cpus:2;mem:100'));
        expect(s.allocation('a')).to.deep.equal({});
      });

      it('keeps three decimals exactly over many small allocations', () => {
        const s = make({ space: pool('cpus:10') });
        s.add('a');
        for (let i = 0; i < 1000; i++) s.allocated('a', R('cpus:0.001'));
        expect(s.allocation('a')).to.deep.equal({ cpus: 1 });
      });

      it('records the same thing by index (hot path) as by name', () => {
        const space = pool('cpus:10;mem:100');
        const byName = make({ space });
        const byIndex = make({ space });
        const i = byIndex.add('a');
        byName.add('a');
        byName.allocated('a', R('cpus:2;mem:30'));
        const v = [0, 0];
        v[space.find('cpus')] = 2;
        v[space.find('mem')] = 30;
        byIndex.allocatedAt(i, v);
        expect(byIndex.allocation('a')).to.deep.equal(byName.allocation('a'));
        expect(byIndex.share('a')).to.equal(byName.share('a'));
      });
    });

    describe('visiting', () => {
      it('visits every active client once, in sort order for DRF', () => {
        const s = make({ space: pool('cpus:10') });
        for (const [c, cpus] of [
          ['a', 3],
          ['b', 1],
          ['c', 2],
        ] as const) {
          s.add(c);
          s.allocated(c, R(`cpus:${cpus}`));
        }
        const seen: string[] = [];
        s.visit((i) => {
          seen.push(s.nameOf(i));
        });
        expect(seen).to.have.members(['a', 'b', 'c']).and.have.length(3);
        if (drf) expect(seen).to.deep.equal(s.sort());
      });

      it('stops as soon as the visitor returns true', () => {
        const s = make();
        for (const c of ['a', 'b', 'c', 'd']) s.add(c);
        let calls = 0;
        s.visit(() => {
          calls++;
          return true;
        });
        expect(calls).to.equal(1);
      });

      it('refuses changes while a visit is under way', () => {
        const s = make({ space: pool('cpus:10') });
        s.add('a');
        s.add('b');
        expect(() =>
          s.visit((i) => {
            s.allocatedAt(i, [1]);
          }),
        ).to.throw(/during visit/);
        // ...and is usable again afterwards.
        s.allocated('a', R('cpus:1'));
        expect(s.sort()).to.have.length(2);
      });
    });

    describe('hierarchy', () => {
      it('lists leaf clients, including a client that is also a parent', () => {
        const s = make({ hierarchical: true, space: pool('cpus:10') });
        for (const c of ['eng', 'eng/backend', 'eng/frontend', 'ops']) s.add(c);
        expect(s.sort()).to.have.members(['eng', 'eng/backend', 'eng/frontend', 'ops']).and.have.length(4);
        s.remove('eng/backend');
        s.remove('eng/frontend');
        expect(s.sort()).to.have.members(['eng', 'ops']).and.have.length(2);
        s.add('eng/backend');
        expect(s.sort()).to.have.members(['eng', 'eng/backend', 'ops']);
      });

      it('visits only the clients at or below a path', () => {
        const s = make({ hierarchical: true, space: pool('cpus:10') });
        for (const c of ['eng', 'eng/backend', 'eng/backend/api', 'engineering', 'ops']) s.add(c);
        const seen: string[] = [];
        s.visit((i) => {
          seen.push(s.nameOf(i));
        }, 'eng');
        expect(seen).to.have.members(['eng', 'eng/backend', 'eng/backend/api']).and.have.length(3);
        const none: string[] = [];
        s.visit((i) => {
          none.push(s.nameOf(i));
        }, 'missing');
        expect(none).to.deep.equal([]);
      });

      it('keeps deactivated subtrees out of the order', () => {
        const s = make({ hierarchical: true });
        for (const c of ['eng/a', 'eng/b', 'ops']) s.add(c);
        s.deactivate('eng/a');
        s.deactivate('eng/b');
        expect(s.sort()).to.deep.equal(['ops']);
        s.activate('eng/b');
        expect(s.sort()).to.have.members(['eng/b', 'ops']);
      });
    });

    describe('weights', () => {
      it('accepts positive weights only', () => {
        const s = make();
        s.add('a');
        expect(() => s.updateWeight('a', 0)).to.throw(/> 0/);
        expect(() => s.updateWeight('a', -1)).to.throw(/> 0/);
        s.updateWeight('a', 2.5);
        s.updateWeight('not-yet-a-client', 3);
        s.add('not-yet-a-client');
        expect(s.sort()).to.have.length(2);
      });
    });

    if (!drf) return;

    describe('DRF order', () => {
      it('serves the lowest dominant share first', () => {
        const s = make({ space: pool('cpus:10;mem:100') });
        s.add('a');
        s.add('b');
        // a: max(2/10, 10/100) = max(0.2, 0.1) = 0.2 (cpus dominate)
        s.allocated('a', R('cpus:2;mem:10'));
        // b: max(1/10, 30/100) = max(0.1, 0.3) = 0.3 (mem dominates)
        s.allocated('b', R('cpus:1;mem:30'));
        expect(s.share('a')).to.be.closeTo(0.2, 1e-12);
        expect(s.share('b')).to.be.closeTo(0.3, 1e-12);
        expect(s.sort()).to.deep.equal(['a', 'b']);
        // a takes 2 more cpus: max(4/10, 10/100) = 0.4 > 0.3, so b goes first now.
        s.allocated('a', R('cpus:2'));
        expect(s.sort()).to.deep.equal(['b', 'a']);
        // Giving 2 cpus back brings a to 0.2 again.
        s.unallocated('a', R('cpus:2'));
        expect(s.sort()).to.deep.equal(['a', 'b']);
      });

      it('divides shares by weight', () => {
        const s = make({ space: pool('cpus:10;mem:100') });
        s.add('a');
        s.add('b');
        s.allocated('a', R('cpus:2')); // 0.2
        s.allocated('b', R('cpus:3')); // 0.3
        expect(s.sort()).to.deep.equal(['a', 'b']);
        // b at weight 2: 0.3 / 2 = 0.15 < 0.2.
        s.updateWeight('b', 2);
        expect(s.share('b')).to.be.closeTo(0.15, 1e-12);
        expect(s.sort()).to.deep.equal(['b', 'a']);
      });

      it('breaks ties by fewer allocations, then by name', () => {
        const s = make({ space: pool('cpus:10') });
        for (const c of ['c', 'b', 'a']) s.add(c);
        // All at share 0 with no allocations: by name.
        expect(s.sort()).to.deep.equal(['a', 'b', 'c']);
        // a: two allocations of 1 cpu; b: one of 2 cpus. Both 2/10 = 0.2; b has fewer allocations.
        s.allocated('a', R('cpus:1'));
        s.allocated('a', R('cpus:1'));
        s.allocated('b', R('cpus:2'));
        expect(s.sort()).to.deep.equal(['c', 'b', 'a']);
      });

      it('recomputes every share when the pool changes', () => {
        const space = pool('cpus:10;mem:100');
        const s = make({ space });
        s.add('a');
        s.add('b');
        s.allocated('a', R('cpus:4')); // 4/10 = 0.4
        s.allocated('b', R('mem:30')); // 30/100 = 0.3
        expect(s.sort()).to.deep.equal(['b', 'a']);
        // The pool grows to 20 cpus: a = 4/20 = 0.2 < 0.3.
        space.addTotal(R('cpus:10'));
        expect(s.sort()).to.deep.equal(['a', 'b']);
      });

      it('orders each level of the role tree by the subtree shares', () => {
        const s = make({ hierarchical: true, space: pool('cpus:10') });
        for (const c of ['eng/backend', 'eng/frontend', 'ops']) s.add(c);
        // eng/backend holds 4 cpus, eng/frontend none, ops 3:
        //   top level: eng = (4 + 0)/10 = 0.4, ops = 3/10 = 0.3 → ops first;
        //   inside eng: frontend 0 < backend 0.4.
        s.allocated('eng/backend', R('cpus:4'));
        s.allocated('ops', R('cpus:3'));
        expect(s.sort()).to.deep.equal(['ops', 'eng/frontend', 'eng/backend']);
        // A weight on the parent applies to the parent's level: eng at weight 2 → 0.4/2 = 0.2 < 0.3.
        s.updateWeight('eng', 2);
        expect(s.sort()).to.deep.equal(['eng/frontend', 'eng/backend', 'ops']);
      });

      it('lets a role with subroles compete with them as a virtual leaf', () => {
        const s = make({ hierarchical: true, space: pool('cpus:10') });
        s.add('eng');
        s.add('eng/backend');
        s.allocated('eng', R('cpus:1')); // eng's own: 0.1
        s.allocated('eng/backend', R('cpus:2')); // 0.2
        expect(s.sort()).to.deep.equal(['eng', 'eng/backend']);
        expect(s.allocation('eng')).to.deep.equal({ cpus: 1 });
      });

      it('keeps the incremental order equal to a full sort (random operations)', () => {
        const names = ['a', 'b', 'c', 'd', 'e', 'f'];
        const op = fc.oneof(
          fc.record({
            kind: fc.constant('alloc' as const),
            c: fc.integer({ min: 0, max: 5 }),
            cpus: fc.integer({ min: 0, max: 40 }),
            mem: fc.integer({ min: 0, max: 400 }),
          }),
          fc.record({
            kind: fc.constant('free' as const),
            c: fc.integer({ min: 0, max: 5 }),
            cpus: fc.integer({ min: 0, max: 40 }),
          }),
          fc.record({ kind: fc.constant('toggle' as const), c: fc.integer({ min: 0, max: 5 }) }),
          fc.record({
            kind: fc.constant('weight' as const),
            c: fc.integer({ min: 0, max: 5 }),
            w: fc.integer({ min: 1, max: 4 }),
          }),
        );
        fc.assert(
          fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
            const s = make({ space: pool('cpus:100;mem:1000') });
            const model = names.map((n) => ({ n, cpus: 0, mem: 0, count: 0, w: 1, active: true }));
            for (const n of names) s.add(n);
            for (const o of ops) {
              const m = model[o.c];
              if (o.kind === 'alloc') {
                s.allocated(m.n, Resources.scalars({ cpus: o.cpus / 10, mem: o.mem }));
                m.cpus = Math.round((m.cpus + o.cpus / 10) * 1000) / 1000;
                m.mem += o.mem;
                m.count++;
              } else if (o.kind === 'free') {
                const cpus = Math.min(m.cpus, o.cpus / 10);
                s.unallocated(m.n, Resources.scalars({ cpus }));
                m.cpus = Math.round((m.cpus - cpus) * 1000) / 1000;
              } else if (o.kind === 'toggle') {
                m.active = !m.active;
                if (m.active) s.activate(m.n);
                else s.deactivate(m.n);
              } else {
                m.w = o.w;
                s.updateWeight(m.n, o.w);
              }
            }
            const share = (m: (typeof model)[number]) => Math.max(m.cpus / 100, m.mem / 1000) / m.w;
            const expected = model
              .filter((m) => m.active)
              .sort((x, y) => share(x) - share(y) || x.count - y.count || (x.n < y.n ? -1 : 1))
              .map((m) => m.n);
            expect(s.sort()).to.deep.equal(expected);
          }),
          { numRuns: 200 },
        );
      });

      it('stays ordered with many clients (blocks split and merge)', () => {
        const s = make({ space: pool('cpus:100000') });
        const n = 700;
        for (let i = 0; i < n; i++) s.add(`fw-${String(i).padStart(4, '0')}`);
        const rng = seededRng(7);
        for (let k = 0; k < 3000; k++) {
          const i = Math.floor(rng.next() * n);
          s.allocatedAt(i, [Math.floor(rng.next() * 10)]);
          if (k % 97 === 0) s.deactivate(s.nameOf(Math.floor(rng.next() * n)));
          if (k % 89 === 0) s.activate(s.nameOf(Math.floor(rng.next() * n)));
        }
        const order = s.sort();
        for (let i = 1; i < order.length; i++) {
          const [a, b] = [order[i - 1], order[i]];
          expect(s.share(a) <= s.share(b), `${a} (${s.share(a)}) before ${b} (${s.share(b)})`).to.equal(true);
        }
      });
    });
  });
}

sorterContract('DRF', (options) => new DrfSorter(options), { drf: true });
sorterContract('random', (options) => new RandomSorter(seededRng(1), options), { drf: false });

describe('RandomSorter (beyond the contract)', () => {
  it('replays the same order from the same seed', () => {
    const orders = [1, 2].map(() => {
      const s = new RandomSorter(seededRng(99));
      for (let i = 0; i < 20; i++) s.add(`c${i}`);
      return [s.sort(), s.sort()];
    });
    expect(orders[0]).to.deep.equal(orders[1]);
    expect(orders[0][0]).to.not.deep.equal(orders[0][1]); // drawn afresh each time
  });

  it('puts a client first in proportion to its weight', () => {
    const s = new RandomSorter(seededRng(5));
    s.add('a');
    s.add('b');
    s.updateWeight('a', 3);
    let aFirst = 0;
    const draws = 4000;
    for (let i = 0; i < draws; i++) if (s.sort()[0] === 'a') aFirst++;
    // weight 3 against 1: a comes first with probability 3/4.
    expect(aFirst / draws).to.be.within(0.72, 0.78);
  });

  it('applies weights per level of the role tree', () => {
    const s = new RandomSorter(seededRng(11), { hierarchical: true });
    for (const c of ['eng/a', 'eng/b', 'eng/c', 'ops']) s.add(c);
    // Level 1: eng and ops at weight 1 each, so ops is first half of the time, even though
    // eng has three clients (a flat shuffle would put ops first a quarter of the time).
    let opsFirst = 0;
    const draws = 4000;
    for (let i = 0; i < draws; i++) if (s.sort()[0] === 'ops') opsFirst++;
    expect(opsFirst / draws).to.be.within(0.46, 0.54);
  });
});
