import { expect } from 'chai';
import { mergeRanges, ResourceError, Resources, subtractRanges } from '../../../sdk/resources/resources.js';

describe('Resources', () => {
  describe('parse and print (Mesos text form)', () => {
    const cases: [string, string][] = [
      ['cpus:2;mem:1024', 'cpus:2;mem:1024'],
      ['mem:1024;cpus:2', 'cpus:2;mem:1024'],
      ['cpus:0.5;cpus:0.25', 'cpus:0.75'],
      ['ports:[31000-32000]', 'ports:[31000-32000]'],
      ['ports:[31000-31005,31006-31010, 40000-40000]', 'ports:[31000-31010,40000-40000]'],
      ['cpus(analytics):4;cpus:1', 'cpus:1;cpus(analytics):4'],
      ['zones:{a,b,a}', 'zones:{a,b}'],
      ['gpus:0;cpus:1', 'cpus:1'],
      [' cpus : 1 ; ', 'cpus:1'],
      ['cpus(*):1', 'cpus:1'],
      ['cpus(eng/backend):2', 'cpus(eng/backend):2'],
    ];
    for (const [input, printed] of cases) {
      it(`'${input}' → '${printed}'`, () => {
        expect(Resources.parse(input).toString()).to.equal(printed);
      });
    }
    const bad: [string, RegExp][] = [
      ['cpus', /name:value/],
      ['cpus:abc', /not a number/],
      ['cpus:-1', /not a number/],
      ['ports:[10-5]', /invalid range/],
      ['ports:[1-2', /must end with \]/],
      ['ports:[a-b]', /not a range/],
      ['cp us:1', /not a resource name/],
      ['cpus:1;cpus:[1-2]', /both SCALAR and RANGES/],
      ['cpus(bad role!):1', /invalid role/],
    ];
    for (const [input, why] of bad) {
      it(`rejects '${input}'`, () => {
        expect(() => Resources.parse(input)).to.throw(ResourceError, why);
      });
    }
  });

  describe('arithmetic', () => {
    it('adds and subtracts 0.1 a thousand times without drift', () => {
      let r = Resources.parse('cpus:1');
      const tenth = Resources.parse('cpus:0.1');
      for (let i = 0; i < 1000; i++) r = r.plus(tenth);
      expect(r.scalar('cpus')).to.equal(101);
      for (let i = 0; i < 1000; i++) r = r.minus(tenth);
      expect(r.scalar('cpus')).to.equal(1);
      expect(r.toString()).to.equal('cpus:1');
    });

    const table: { a: string; b: string; plus: string; minus: string; contains: boolean }[] = [
      { a: 'cpus:2;mem:1024', b: 'cpus:1;mem:512', plus: 'cpus:3;mem:1536', minus: 'cpus:1;mem:512', contains: true },
      { a: 'cpus:1', b: 'cpus:1.5', plus: 'cpus:2.5', minus: '', contains: false },
      { a: 'cpus:1', b: 'mem:1', plus: 'cpus:1;mem:1', minus: 'cpus:1', contains: false },
      {
        a: 'ports:[31000-32000]',
        b: 'ports:[31000-31000,31500-31600]',
        plus: 'ports:[31000-32000]',
        minus: 'ports:[31001-31499,31601-32000]',
        contains: true,
      },
      {
        a: 'ports:[31000-31010]',
        b: 'ports:[31005-31020]',
        plus: 'ports:[31000-31020]',
        minus: 'ports:[31000-31004]',
        contains: false,
      },
      { a: 'cpus(a):2', b: 'cpus:1', plus: 'cpus:1;cpus(a):2', minus: 'cpus(a):2', contains: false },
      { a: 'cpus(a):2;cpus:1', b: 'cpus(a):1', plus: 'cpus:1;cpus(a):3', minus: 'cpus:1;cpus(a):1', contains: true },
      { a: 'zones:{a,b}', b: 'zones:{b}', plus: 'zones:{a,b}', minus: 'zones:{a}', contains: true },
      { a: 'cpus:0.3', b: 'cpus:0.1;cpus:0.2', plus: 'cpus:0.6', minus: '', contains: true },
    ];
    for (const t of table) {
      it(`${t.a} ± ${t.b}`, () => {
        const a = Resources.parse(t.a);
        const b = Resources.parse(t.b);
        expect(a.plus(b).toString()).to.equal(t.plus);
        expect(a.minus(b).toString()).to.equal(t.minus);
        expect(a.contains(b)).to.equal(t.contains);
      });
    }

    it('is immutable', () => {
      const a = Resources.parse('cpus:2');
      a.plus(Resources.parse('cpus:1'));
      a.minus(Resources.parse('cpus:1'));
      expect(a.toString()).to.equal('cpus:2');
    });

    it('keeps roles apart and moves them with withRole', () => {
      const r = Resources.parse('cpus:1;cpus(analytics):4;mem:64');
      expect(r.scalar('cpus')).to.equal(5);
      expect(r.scalar('cpus', 'analytics')).to.equal(4);
      expect(r.allocatableTo('analytics').toString()).to.equal('cpus:1;cpus(analytics):4;mem:64');
      expect(r.allocatableTo('web').toString()).to.equal('cpus:1;mem:64');
      expect(r.unreserved().withRole('web').toString()).to.equal('cpus(web):1;mem(web):64');
      expect(r.scalarTotals()).to.deep.equal({ cpus: 5, mem: 64 });
    });

    it('round-trips through the wire form', () => {
      const r = Resources.parse('cpus:1.5;mem:64;ports:[1-5,9-9];cpus(x):2;s:{q}');
      expect(Resources.from(JSON.parse(JSON.stringify(r.toList()))).equals(r)).to.equal(true);
    });

    it('rejects malformed wire entries', () => {
      const bad: unknown[] = [
        [{ name: 'cpus', type: 'SCALAR', scalar: { value: Number.NaN } }],
        [{ name: 'cpus', type: 'SCALAR' }],
        [{ name: 'cpus', type: 'WHAT', scalar: { value: 1 } }],
        [{ name: 'ports', type: 'RANGES', ranges: { range: [{ begin: 5, end: 1 }] } }],
        [{ name: 'x', type: 'SET', set: { item: [1] } }],
        [null],
      ];
      for (const b of bad) expect(() => Resources.from(b as never), JSON.stringify(b)).to.throw(ResourceError);
    });
  });

  describe('ranges', () => {
    it('merges adjacent and overlapping ranges', () => {
      expect(
        mergeRanges([
          { begin: 5, end: 9 },
          { begin: 1, end: 4 },
          { begin: 8, end: 12 },
        ]),
      ).to.deep.equal([{ begin: 1, end: 12 }]);
    });
    it('subtracts a hole', () => {
      expect(subtractRanges([{ begin: 1, end: 10 }], [{ begin: 3, end: 4 }])).to.deep.equal([
        { begin: 1, end: 2 },
        { begin: 5, end: 10 },
      ]);
    });
  });
});
