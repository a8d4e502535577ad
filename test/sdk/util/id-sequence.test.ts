import { expect } from 'chai';
import { IdSequence } from '../../../sdk/util/id.js';

describe('IdSequence', () => {
  it("numbers each tag from 0 on its own, as '<prefix>-<tag><n>', never twice", () => {
    const ids = new IdSequence('20261202-abc');
    const got = [ids.next('O'), ids.next('O'), ids.next('S'), ids.next('O'), ids.next('S'), ids.next('F')];
    expect(got).to.deep.equal([
      '20261202-abc-O0',
      '20261202-abc-O1',
      '20261202-abc-S0',
      '20261202-abc-O2',
      '20261202-abc-S1',
      '20261202-abc-F0',
    ]);
    const many = new Set<string>();
    for (let i = 0; i < 10_000; i++) many.add(ids.next('O'));
    expect(many.size).to.equal(10_000);
    expect(many.has('20261202-abc-O2')).to.equal(false);
  });

  it('keeps a sequence per instance: two masters with different prefixes never share ids', () => {
    const a = new IdSequence('a');
    const b = new IdSequence('b');
    expect([a.next('O'), b.next('O'), a.next('O')]).to.deep.equal(['a-O0', 'b-O0', 'a-O1']);
  });
});
