/**
 * unreachableStrategy and the health-check kill rule, table-driven on a timeline (ms).
 */
import { expect } from 'chai';
import { healthAction, unreachableDecision } from '../../../../frameworks/marathon/plan/index.js';

describe('marathon/plan unreachableDecision', () => {
  const s = { inactiveAfterSeconds: 300, expungeAfterSeconds: 600 };
  const table: [string, Parameters<typeof unreachableDecision>[0], number, ReturnType<typeof unreachableDecision>][] = [
    ['just unreachable', s, 0, { state: 'unreachable', nextChangeAtMs: 300_000 }],
    ['before inactiveAfter', s, 299_999, { state: 'unreachable', nextChangeAtMs: 300_000 }],
    ['at inactiveAfter: replaced', s, 300_000, { state: 'inactive', nextChangeAtMs: 600_000 }],
    ['at expungeAfter: expunged', s, 600_000, { state: 'expunged' }],
    [
      "Marathon 1.10's default 0/0: expunged at once",
      { inactiveAfterSeconds: 0, expungeAfterSeconds: 0 },
      0,
      { state: 'expunged' },
    ],
    ['disabled waits for ever', 'disabled', 1e12, { state: 'unreachable' }],
  ];
  for (const [name, strategy, now, expected] of table) {
    it(name, () => {
      expect(unreachableDecision(strategy, 0, now)).to.deep.equal(expected);
    });
  }
});

describe('marathon/plan healthAction', () => {
  const policy = { maxConsecutiveFailures: 3, gracePeriodSeconds: 60 };
  const base = { running: true, runningSinceMs: 0, consecutiveFailures: 3, everHealthy: true };
  const table: [
    string,
    Parameters<typeof healthAction>[0],
    Partial<typeof base> & { unreachable?: boolean },
    number,
    string,
  ][] = [
    ['3 of 3 failures: kill', policy, {}, 120_000, 'kill'],
    ['2 of 3: keep', policy, { consecutiveFailures: 2 }, 120_000, 'keep'],
    ['in grace, never healthy: ignore', policy, { everHealthy: false }, 59_999, 'ignore'],
    ['grace over, never healthy: kill', policy, { everHealthy: false }, 60_000, 'kill'],
    ['in grace but was healthy: kill', policy, {}, 1_000, 'kill'],
    ['not running: ignore', policy, { running: false }, 120_000, 'ignore'],
    ['unreachable: keep', policy, { unreachable: true }, 120_000, 'keep'],
    [
      'maxConsecutiveFailures 0: never kill',
      { ...policy, maxConsecutiveFailures: 0 },
      { consecutiveFailures: 99 },
      120_000,
      'keep',
    ],
  ];
  for (const [name, p, over, now, expected] of table) {
    it(name, () => {
      expect(healthAction(p, { ...base, ...over }, now)).to.equal(expected);
    });
  }
});
