/** The fuzzer's own oracles: a wrong oracle would hide defects or invent them. */
import { expect } from 'chai';
import fc from 'fast-check';
import { refusalChanges } from '../../scripts/fuzz/observe.js';
import { bulkJson, expand, pct, validId, validRoleName } from '../../scripts/fuzz/values.js';

describe('fuzz oracles', () => {
  it("Mesos's role rule: accepts real roles, refuses path-like and control characters", () => {
    for (const ok of ['*', 'web', 'a/b', 'batch/x/y', 'dev-1', 'a.b', '__proto__'])
      expect(validRoleName(ok), ok).to.equal(true);
    for (const bad of [
      '',
      '.',
      '..',
      '/a',
      'a/',
      'a//b',
      'a/../b',
      '-x',
      'a b',
      'a\nb',
      'a\0b',
      '\\',
      'a*',
      'x'.repeat(257),
    ])
      expect(validRoleName(bad), JSON.stringify(bad)).to.equal(false);
  });

  it("Mesos's id rule: refuses '.', '..', separators, whitespace and control characters", () => {
    for (const ok of ['F0', 'abc-S1', 'fuzz.task', 'a:b@c']) expect(validId(ok), ok).to.equal(true);
    for (const bad of ['', '.', '..', 'a/b', '/', 'a\\b', 'a b', '\n', 'a\0b', 'x'.repeat(1025)])
      expect(validId(bad), JSON.stringify(bad)).to.equal(false);
  });

  it('refused input may not add ids or change values; ids leaving a list are a timer, not a change', () => {
    const before = { agents: ['S0'], weights: '[]', records: 3 };
    expect(refusalChanges(before, { agents: ['S0'], weights: '[]', records: 3 })).to.deep.equal([]);
    expect(refusalChanges(before, { agents: [], weights: '[]', records: 3 })).to.deep.equal([]);
    expect(refusalChanges(before, { agents: ['S0', 'S1'], weights: '[]', records: 3 })).to.have.length(1);
    expect(refusalChanges(before, { agents: ['S0'], weights: '[{"role":"a"}]', records: 3 })).to.have.length(1);
    expect(refusalChanges(before, { agents: ['S0'], weights: '[]', records: 4 })).to.have.length(1);
  });

  it('percent-encoding never throws, and decodes back for well-formed strings', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        const e = pct(s);
        expect(e).to.match(/^[A-Za-z0-9\-_.!~*'()%]*$/);
        if (Buffer.from(s, 'utf8').toString('utf8') === s) expect(decodeURIComponent(e)).to.equal(s);
      }),
    );
  });

  it('bulk values: 20,000-deep JSON is written as text, not built by recursion', () => {
    const text = bulkJson({ bulk: 'deep', shape: 'array', depth: 20_000 });
    expect(text.length).to.equal(40_000);
    expect(text.startsWith('['.repeat(20_000))).to.equal(true);
    expect(expand({ bulk: 'many', shape: 'zeros', count: 3 })).to.deep.equal([0, 0, 0]);
  });
});
