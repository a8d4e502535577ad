import { expect } from 'chai';
import { parseDuration } from '../../../sdk/util/duration.js';

describe('parseDuration (Mesos flag form)', () => {
  const ok: [string, number][] = [
    ['15secs', 15_000],
    ['500ms', 500],
    ['2mins', 120_000],
    ['1hrs', 3_600_000],
    ['1days', 86_400_000],
    ['1weeks', 604_800_000],
    ['10', 10_000],
    ['1.5s', 1500],
  ];
  for (const [t, ms] of ok) it(`${t} = ${ms} ms`, () => expect(parseDuration(t)).to.equal(ms));
  for (const t of ['', 'abc', '5 parsecs', '-1s', '1e3s']) {
    it(`rejects '${t}'`, () => expect(() => parseDuration(t)).to.throw(/not a duration/));
  }
});
