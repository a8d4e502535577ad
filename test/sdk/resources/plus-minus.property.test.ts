/**
 * `plus` and `minus` join and cut ranges in one linear pass over the two normalised lists (and share
 * the entries only one side has). These properties check them, on random overlapping, touching and
 * disjoint ranges and on scalars, against a model that counts every port one by one: a
 * join that leaves two touching ranges apart, a cut that drops a single-port piece, or a shared
 * entry changed in place fails them.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { type Range, type Resource, Resources } from '../../../sdk/resources/resources.js';

/** Ranges within a small window, so that overlaps and touching ends are common. */
const range = fc
  .tuple(fc.integer({ min: 0, max: 60 }), fc.integer({ min: 0, max: 6 }))
  .map(([begin, len]) => ({ begin, end: begin + len }));
const ranges = fc.array(range, { maxLength: 8 });
const scalar = fc.integer({ min: 0, max: 4000 }).map((n) => n / 1000);

function value(ports: Range[], cpus: number, role?: string): Resource[] {
  const out: Resource[] = [{ name: 'cpus', type: 'SCALAR', scalar: { value: cpus } }];
  if (ports.length > 0) out.push({ name: 'ports', type: 'RANGES', ranges: { range: ports } });
  if (role) out.push({ name: 'mem', type: 'SCALAR', role, scalar: { value: 64 } });
  return out;
}

/** Every port in a list, as a set (the model). */
function portsOf(list: readonly Range[]): Set<number> {
  const s = new Set<number>();
  for (const r of list) for (let p = r.begin; p <= r.end; p++) s.add(p);
  return s;
}

/** The model's set as normalised ranges: sorted, and no two of them overlapping or touching. */
function normalised(set: Set<number>): Range[] {
  const sorted = [...set].sort((a, b) => a - b);
  const out: Range[] = [];
  for (const p of sorted) {
    const last = out[out.length - 1];
    if (last && p === last.end + 1) last.end = p;
    else out.push({ begin: p, end: p });
  }
  return out;
}

/** The ports entry's ranges as stored (`ranges()` would normalise them again and hide a bad join). */
function stored(res: Resources): Range[] {
  return res.toList().find((r) => r.name === 'ports')?.ranges?.range ?? [];
}

describe('Resources plus/minus against a port-by-port model (fast-check)', () => {
  it('a.plus(b) holds every port of either side, in normalised ranges, and adds the scalars', () => {
    fc.assert(
      fc.property(ranges, ranges, scalar, scalar, (ra, rb, ca, cb) => {
        const a = Resources.from(value(ra, ca));
        const b = Resources.from(value(rb, cb, 'web'));
        const sum = a.plus(b);
        const want = portsOf([...ra, ...rb]);
        expect(stored(sum)).to.deep.equal(normalised(want));
        expect(sum.scalar('cpus')).to.equal(Math.round((ca + cb) * 1000) / 1000);
        expect(sum.scalar('mem', 'web')).to.equal(64);
        // Neither side changed (entries are shared, never written in place).
        expect(a.ranges('ports')).to.deep.equal(normalised(portsOf(ra)));
        expect(b.ranges('ports')).to.deep.equal(normalised(portsOf(rb)));
      }),
      { numRuns: 500 },
    );
  });

  it('a.minus(b) holds the ports of a not in b, in normalised ranges, and goes no lower than empty', () => {
    fc.assert(
      fc.property(ranges, ranges, scalar, scalar, (ra, rb, ca, cb) => {
        const a = Resources.from(value(ra, ca, 'web'));
        const b = Resources.from(value(rb, cb));
        const diff = a.minus(b);
        const want = portsOf(ra);
        for (const p of portsOf(rb)) want.delete(p);
        expect(stored(diff)).to.deep.equal(normalised(want));
        const cpus = Math.round((ca - cb) * 1000) / 1000;
        expect(diff.scalar('cpus')).to.equal(Math.max(cpus, 0));
        expect(diff.scalar('mem', 'web'), 'an entry the cut does not touch is kept').to.equal(64);
        expect(a.ranges('ports')).to.deep.equal(normalised(portsOf(ra)));
      }),
      { numRuns: 500 },
    );
  });

  it('(a.plus(b)).minus(b) contains a.minus(b), and a.plus(b) contains both sides', () => {
    fc.assert(
      fc.property(ranges, ranges, (ra, rb) => {
        const a = Resources.from(value(ra, 1));
        const b = Resources.from(value(rb, 1));
        const sum = a.plus(b);
        expect(sum.contains(a) && sum.contains(b)).to.equal(true);
        expect(sum.minus(b).contains(a.minus(b))).to.equal(true);
      }),
      { numRuns: 300 },
    );
  });
});
