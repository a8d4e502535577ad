import { expect } from 'chai';
import fc from 'fast-check';
import { fits, howMany, type OfferLike, type TaskNeed, take, takeAll, whyNot } from '../../../sdk/offers/index.js';
import { Resources } from '../../../sdk/resources/resources.js';
import { seededRng } from '../../../sdk/util/random.js';

function offer(text: string, role = '*', attributes: Record<string, string> = {}): OfferLike {
  return { resources: Resources.parse(text).toList(), allocation_role: role, attributes };
}

describe('sdk/offers fit and take', () => {
  describe('fits (table)', () => {
    const cases: [string, OfferLike, TaskNeed, boolean | RegExp][] = [
      ['scalars within', offer('cpus:2;mem:1024;disk:100'), { cpus: 1, mem: 512, disk: 10 }, true],
      ['exactly the offer', offer('cpus:2;mem:1024'), { cpus: 2, mem: 1024 }, true],
      ['too many cpus', offer('cpus:2;mem:1024'), { cpus: 2.5 }, /cpus: needs 2.5, the offer has 2/],
      ['gpus absent', offer('cpus:2'), { gpus: 1 }, /gpus: needs 1, the offer has 0/],
      ['other scalar', offer('cpus:1;fpgas:2'), { scalars: { fpgas: 2 } }, true],
      ['fractions to three decimals', offer('cpus:0.3'), { cpus: 0.1 + 0.2 }, true],
      ['negative need', offer('cpus:1'), { cpus: -1 }, /not a quantity/],
      ['specific port free', offer('cpus:1;ports:[31000-31010]'), { ports: [31005] }, true],
      ['specific port not free', offer('cpus:1;ports:[31000-31010]'), { ports: [8080] }, /port 8080 is not free/],
      ['port twice', offer('ports:[31000-31010]'), { ports: [31001, 31001] }, /asked for twice/],
      ['any N ports', offer('ports:[31000-31002]'), { anyPorts: 3 }, true],
      ['too many ports', offer('ports:[31000-31002]'), { anyPorts: 4 }, /needs 4 more, the offer has 3/],
      [
        'named + any overlap counted once',
        offer('ports:[31000-31001]'),
        { ports: [31000], anyPorts: 2 },
        /needs 2 more/,
      ],
      ['reserved + unreserved cpus combine', offer('cpus(web):1;cpus:1', 'web'), { cpus: 2 }, true],
      ['reserved only', offer('cpus(web):1;cpus:1', 'web'), { cpus: 2, reservation: 'reserved' }, /roles web/],
      ['unreserved only', offer('cpus(web):1;cpus:1', 'web'), { cpus: 1.5, reservation: 'unreserved' }, /roles \*/],
      ['reserved for another role is not usable', offer('cpus(db):4', 'web'), { cpus: 1 }, /has 0 for roles web, \*/],
      ['reserved asked, offer for *', offer('cpus:1'), { cpus: 1, reservation: 'reserved' }, /unreserved role/],
      ['reserved ports', offer('ports(web):[80-80]', 'web'), { ports: [80] }, true],
      ['attribute equal', offer('cpus:1', '*', { rack: 'r1' }), { cpus: 1, attributes: { rack: 'r1' } }, true],
      ['attribute one of', offer('cpus:1', '*', { rack: 'r2' }), { attributes: { rack: ['r1', 'r2'] } }, true],
      ['attribute differs', offer('cpus:1', '*', { rack: 'r2' }), { attributes: { rack: 'r1' } }, /has 'r2', not 'r1'/],
      ['attribute missing', offer('cpus:1'), { attributes: { zone: 'a' } }, /has none/],
    ];
    for (const [name, o, need, want] of cases) {
      it(name, () => {
        if (want === true) expect(whyNot(o, need)).to.deep.equal([]);
        else {
          expect(fits(o, need)).to.equal(false);
          expect(whyNot(o, need).join('; ')).to.match(want as RegExp);
        }
      });
    }
  });

  describe('take (table)', () => {
    it('takes reserved resources first, then unreserved', () => {
      const r = take(offer('cpus(web):1;cpus:2;mem:100', 'web'), { cpus: 1.5, mem: 50 });
      expect(r.ok).to.equal(true);
      if (!r.ok) return;
      expect(r.taken.toString()).to.equal('cpus:0.5;cpus(web):1;mem:50');
      expect(r.left.toString()).to.equal('cpus:1.5;mem:50');
    });
    it('chooses the lowest free ports without an Rng, named ports first in the order given', () => {
      const r = take(offer('ports:[31000-31010]'), { ports: [31005, 31001], anyPorts: 3 });
      expect(r.ok && r.ports).to.deep.equal([31005, 31001, 31000, 31002, 31003]);
      expect(r.ok && r.left.toString()).to.equal('ports:[31004-31004,31006-31010]');
    });
    it('chooses random ports through the injected Rng, the same for the same seed', () => {
      const o = offer('ports:[20000-30000]');
      const a = take(o, { anyPorts: 5 }, { rng: seededRng(7) });
      const b = take(o, { anyPorts: 5 }, { rng: seededRng(7) });
      const c = take(o, { anyPorts: 5 }, { rng: seededRng(8) });
      expect(a.ok && b.ok && c.ok).to.equal(true);
      if (!a.ok || !b.ok || !c.ok) return;
      expect(a.ports).to.deep.equal(b.ports);
      expect(a.ports).to.not.deep.equal(c.ports);
      expect(new Set(a.ports).size).to.equal(5);
      expect(a.ports).to.not.deep.equal([20000, 20001, 20002, 20003, 20004]);
    });
    it('takeAll is all or none and says which need failed', () => {
      const o = offer('cpus:2;mem:256');
      const ok = takeAll(o, [
        { cpus: 0.5, mem: 64 },
        { cpus: 1, mem: 128 },
      ]);
      expect(ok.ok && ok.left.toString()).to.equal('cpus:0.5;mem:64');
      const no = takeAll(o, [{ cpus: 1 }, { cpus: 1 }, { cpus: 0.1 }]);
      expect(no.ok).to.equal(false);
      expect(!no.ok && no.index).to.equal(2);
    });
    it('howMany counts copies', () => {
      expect(howMany(offer('cpus:2;mem:1000;ports:[1-3]'), { cpus: 0.5, mem: 100, anyPorts: 1 })).to.equal(3);
      expect(howMany(offer('cpus:2'), {})).to.equal(0);
    });
  });

  describe('properties (fast-check)', () => {
    const offerArb = fc
      .record({
        cpus: fc.integer({ min: 0, max: 8000 }),
        cpusR: fc.integer({ min: 0, max: 4000 }),
        mem: fc.integer({ min: 0, max: 4096 }),
        lo: fc.integer({ min: 1, max: 60000 }),
        len: fc.integer({ min: 0, max: 200 }),
        rlo: fc.integer({ min: 61000, max: 65000 }),
        rlen: fc.integer({ min: 0, max: 50 }),
      })
      .map((o) => {
        const parts = [`cpus:${o.cpus / 1000}`, `cpus(web):${o.cpusR / 1000}`, `mem:${o.mem}`];
        if (o.len > 0) parts.push(`ports:[${o.lo}-${o.lo + o.len - 1}]`);
        if (o.rlen > 0) parts.push(`ports(web):[${o.rlo}-${o.rlo + o.rlen - 1}]`);
        return offer(parts.join(';'), 'web');
      });
    const needArb = fc.record({
      cpus: fc.integer({ min: 0, max: 8000 }).map((n) => n / 1000),
      mem: fc.integer({ min: 0, max: 5000 }),
      anyPorts: fc.integer({ min: 0, max: 60 }),
      ports: fc.array(fc.integer({ min: 1, max: 65535 }), { maxLength: 3 }),
      reservation: fc.constantFrom<'any' | 'reserved' | 'unreserved'>('any', 'reserved', 'unreserved'),
    });

    it('take never gives more than the offer, and left + taken = the offer', () => {
      fc.assert(
        fc.property(offerArb, needArb, fc.option(fc.integer()), (o, need, seed) => {
          const r = take(o, need, seed === null ? {} : { rng: seededRng(seed) });
          const all = Resources.from(o.resources);
          if (!r.ok) return;
          expect(all.contains(r.taken)).to.equal(true);
          expect(r.left.plus(r.taken).equals(all)).to.equal(true);
        }),
        { numRuns: 400 },
      );
    });

    it('what is taken is what was asked: the scalars, and as many distinct ports as asked', () => {
      fc.assert(
        fc.property(offerArb, needArb, fc.option(fc.integer()), (o, need, seed) => {
          const r = take(o, need, seed === null ? {} : { rng: seededRng(seed) });
          if (!r.ok) return;
          expect(r.taken.scalar('cpus')).to.equal(need.cpus);
          expect(r.taken.scalar('mem')).to.equal(need.mem);
          expect(new Set(r.ports).size).to.equal(r.ports.length);
          expect(r.ports.length).to.equal(need.ports.length + need.anyPorts);
          for (const p of need.ports) expect(r.ports).to.include(p);
          if (need.reservation === 'reserved') expect(r.taken.roles().every((x) => x === 'web')).to.equal(true);
          if (need.reservation === 'unreserved') expect(r.taken.roles().every((x) => x === '*')).to.equal(true);
        }),
        { numRuns: 400 },
      );
    });

    it('a need that does not fit says why, and fits agrees with take', () => {
      fc.assert(
        fc.property(offerArb, needArb, (o, need) => {
          const r = take(o, need);
          expect(fits(o, need)).to.equal(r.ok);
          if (!r.ok) expect(r.reasons.length).to.be.greaterThan(0);
        }),
        { numRuns: 300 },
      );
    });
  });
});
