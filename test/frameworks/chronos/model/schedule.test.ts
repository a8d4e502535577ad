/**
 * Due-time arithmetic, table-driven over daylight-saving changes (Europe/Berlin, America/New_York,
 * Australia/Lord_Howe's 30-minute shift), leap days and month ends, plus properties: due times
 * strictly increase and nextDue(d) > d. Expected instants are written in UTC, worked out by hand
 * from the zone rules (Berlin CET+1/CEST+2, New York EST-5/EDT-4, Lord Howe +10:30/+11:00).
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { DateTime, Duration, Settings } from 'luxon';
import {
  clearScheduleCaches,
  dueTimesBetween,
  formatIso8601,
  isoRemaining,
  nextDue,
  parseSchedule,
  type Schedule,
} from '../../../../frameworks/chronos/model/index.js';

const T = (iso: string) => Date.parse(iso);
const Z = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString().replace('.000Z', 'Z'));

function sched(text: string, zone = '', now = T('2026-01-01T00:00:00Z')): Schedule {
  const p = parseSchedule(text, zone, now);
  if (!p.ok) throw new Error(p.reason);
  return p.value;
}

/** The first `n` due times at or after `from`. */
function firstDue(s: Schedule, from: string, n: number): (string | null)[] {
  const out: (string | null)[] = [];
  let t = nextDue(s, null, T(from));
  for (let i = 0; i < n && t !== null; i++) {
    out.push(Z(t));
    t = nextDue(s, t, t);
  }
  return out;
}

interface Case {
  name: string;
  schedule: string;
  zone: string;
  from: string;
  want: string[];
}

const ISO_CASES: Case[] = [
  {
    name: 'Berlin P1D keeps 09:00 across the spring change',
    schedule: 'R/2024-03-29T09:00:00/P1D',
    zone: 'Europe/Berlin',
    from: '2024-03-29T00:00:00Z',
    want: ['2024-03-29T08:00:00Z', '2024-03-30T08:00:00Z', '2024-03-31T07:00:00Z', '2024-04-01T07:00:00Z'],
  },
  {
    name: 'Berlin PT24H is exact: 09:00 CET then 10:00 CEST',
    schedule: 'R/2024-03-30T09:00:00/PT24H',
    zone: 'Europe/Berlin',
    from: '2024-03-30T00:00:00Z',
    want: ['2024-03-30T08:00:00Z', '2024-03-31T08:00:00Z', '2024-04-01T08:00:00Z'],
  },
  {
    name: 'Berlin P1D at 02:30: the missing 02:30 runs at 03:30 that day only',
    schedule: 'R/2024-03-30T02:30:00/P1D',
    zone: 'Europe/Berlin',
    from: '2024-03-30T00:00:00Z',
    want: ['2024-03-30T01:30:00Z', '2024-03-31T01:30:00Z', '2024-04-01T00:30:00Z'],
  },
  {
    name: 'Berlin P1D starting at 02:30 inside the gap: 03:30 that day, the written 02:30 after',
    schedule: 'R/2024-03-31T02:30:00/P1D',
    zone: 'Europe/Berlin',
    from: '2024-03-30T00:00:00Z',
    want: ['2024-03-31T01:30:00Z', '2024-04-01T00:30:00Z', '2024-04-02T00:30:00Z'],
  },
  {
    name: 'Berlin P1D starting at the repeated 02:30: its first occurrence',
    schedule: 'R/2024-10-27T02:30:00/P1D',
    zone: 'Europe/Berlin',
    from: '2024-10-26T00:00:00Z',
    want: ['2024-10-27T00:30:00Z', '2024-10-28T01:30:00Z'],
  },
  {
    name: 'New York P1M at 02:30 on the 10th crosses the March gap (02:30 → 03:30) and comes back',
    schedule: 'R/2024-02-10T02:30:00/P1M',
    zone: 'America/New_York',
    from: '2024-02-01T00:00:00Z',
    want: ['2024-02-10T07:30:00Z', '2024-03-10T07:30:00Z', '2024-04-10T06:30:00Z'],
  },
  {
    name: 'Berlin P1D at 02:30 across the autumn change runs once a day',
    schedule: 'R/2024-10-26T02:30:00/P1D',
    zone: 'Europe/Berlin',
    from: '2024-10-26T00:00:00Z',
    want: ['2024-10-26T00:30:00Z', '2024-10-27T00:30:00Z', '2024-10-28T01:30:00Z'],
  },
  {
    name: 'New York P1D keeps 09:00 across the autumn change',
    schedule: 'R/2024-11-02T09:00:00/P1D',
    zone: 'America/New_York',
    from: '2024-11-02T00:00:00Z',
    want: ['2024-11-02T13:00:00Z', '2024-11-03T14:00:00Z', '2024-11-04T14:00:00Z'],
  },
  {
    name: 'New York PT1H over the repeated 01:00 hour: every elapsed hour, 01:00 twice',
    schedule: 'R/2024-11-03T00:00:00/PT1H',
    zone: 'America/New_York',
    from: '2024-11-03T00:00:00Z',
    want: ['2024-11-03T04:00:00Z', '2024-11-03T05:00:00Z', '2024-11-03T06:00:00Z', '2024-11-03T07:00:00Z'],
  },
  {
    name: 'New York P1W keeps Sunday 09:00 over the spring change',
    schedule: 'R/2024-03-03T09:00:00/P1W',
    zone: 'America/New_York',
    from: '2024-03-01T00:00:00Z',
    want: ['2024-03-03T14:00:00Z', '2024-03-10T13:00:00Z', '2024-03-17T13:00:00Z'],
  },
  {
    name: "Lord Howe's 30-minute spring shift: P1D keeps 09:00",
    schedule: 'R/2024-10-05T09:00:00/P1D',
    zone: 'Australia/Lord_Howe',
    from: '2024-10-04T00:00:00Z',
    want: ['2024-10-04T22:30:00Z', '2024-10-05T22:00:00Z', '2024-10-06T22:00:00Z'],
  },
  {
    name: "Lord Howe's 30-minute shift: PT24H is exact (09:30 after the change)",
    schedule: 'R/2024-10-05T09:00:00/PT24H',
    zone: 'Australia/Lord_Howe',
    from: '2024-10-04T00:00:00Z',
    want: ['2024-10-04T22:30:00Z', '2024-10-05T22:30:00Z', '2024-10-06T22:30:00Z'],
  },
  {
    name: "Lord Howe's autumn shift: P1D keeps 09:00 (+11:00 → +10:30)",
    schedule: 'R/2025-04-05T09:00:00/P1D',
    zone: 'Australia/Lord_Howe',
    from: '2025-04-04T00:00:00Z',
    want: ['2025-04-04T22:00:00Z', '2025-04-05T22:30:00Z', '2025-04-06T22:30:00Z'],
  },
  {
    name: "Lord Howe's 30-minute autumn repeat: P1D at 01:45 runs once (the first 01:45)",
    schedule: 'R/2025-04-05T01:45:00/P1D',
    zone: 'Australia/Lord_Howe',
    from: '2025-04-04T00:00:00Z',
    want: ['2025-04-04T14:45:00Z', '2025-04-05T14:45:00Z', '2025-04-06T15:15:00Z'],
  },
  {
    name: 'a leap day yearly: Feb 28 in common years, Feb 29 again in 2028',
    schedule: 'R/2024-02-29T12:00:00Z/P1Y',
    zone: '',
    from: '2024-01-01T00:00:00Z',
    want: [
      '2024-02-29T12:00:00Z',
      '2025-02-28T12:00:00Z',
      '2026-02-28T12:00:00Z',
      '2027-02-28T12:00:00Z',
      '2028-02-29T12:00:00Z',
    ],
  },
  {
    name: 'month ends do not drift (Jan 31 → Feb 29 → Mar 31 → Apr 30)',
    schedule: 'R/2024-01-31T00:00:00Z/P1M',
    zone: '',
    from: '2024-01-01T00:00:00Z',
    want: ['2024-01-31T00:00:00Z', '2024-02-29T00:00:00Z', '2024-03-31T00:00:00Z', '2024-04-30T00:00:00Z'],
  },
  {
    name: 'P1D over a leap day in UTC',
    schedule: 'R/2100-02-27T06:00:00Z/P1D',
    zone: '',
    from: '2100-02-27T00:00:00Z',
    want: ['2100-02-27T06:00:00Z', '2100-02-28T06:00:00Z', '2100-03-01T06:00:00Z'],
  },
  {
    name: 'scheduleTimeZone keeps the written fields (Chronos): 18:32Z read as 18:32 in PST',
    schedule: 'R/2014-10-10T18:32:00Z/PT60M',
    zone: 'PST',
    from: '2014-10-10T00:00:00Z',
    want: ['2014-10-11T01:32:00Z', '2014-10-11T02:32:00Z'],
  },
  {
    name: 'a start with an offset and no zone keeps its instant',
    schedule: 'R/2024-06-01T10:00:00+02:00/PT12H',
    zone: '',
    from: '2024-06-01T00:00:00Z',
    want: ['2024-06-01T08:00:00Z', '2024-06-01T20:00:00Z'],
  },
  {
    name: 'a date-only start means midnight (as in Chronos own tests: R/2008-03-01/P1D)',
    schedule: 'R/2008-03-01/P1D',
    zone: 'America/New_York',
    from: '2008-02-01T00:00:00Z',
    want: ['2008-03-01T05:00:00Z', '2008-03-02T05:00:00Z'],
  },
  {
    name: 'a two-second interval years after its start (no horizon)',
    schedule: 'R/2020-01-01T00:00:00Z/PT2S',
    zone: '',
    from: '2026-11-30T12:00:01.500Z',
    want: ['2026-11-30T12:00:02Z', '2026-11-30T12:00:04Z', '2026-11-30T12:00:06Z'],
  },
  {
    name: 'R3 makes three runs and stops',
    schedule: 'R3/2024-01-01T00:00:00Z/PT10S',
    zone: '',
    from: '2023-12-31T00:00:00Z',
    want: ['2024-01-01T00:00:00Z', '2024-01-01T00:00:10Z', '2024-01-01T00:00:20Z'],
  },
];

const CRON_CASES: Case[] = [
  {
    name: 'Berlin 09:00 daily across the spring change',
    schedule: '0 9 * * *',
    zone: 'Europe/Berlin',
    from: '2024-03-30T00:00:00Z',
    want: ['2024-03-30T08:00:00Z', '2024-03-31T07:00:00Z', '2024-04-01T07:00:00Z'],
  },
  {
    name: 'Berlin 02:30 in the spring gap runs at the first valid time after it',
    schedule: '30 2 * * *',
    zone: 'Europe/Berlin',
    from: '2024-03-30T00:00:00Z',
    want: ['2024-03-30T01:30:00Z', '2024-03-31T01:00:00Z', '2024-04-01T00:30:00Z'],
  },
  {
    name: 'Berlin 02:30 in the repeated autumn hour runs once',
    schedule: '30 2 * * *',
    zone: 'Europe/Berlin',
    from: '2024-10-26T00:00:00Z',
    want: ['2024-10-26T00:30:00Z', '2024-10-27T00:30:00Z', '2024-10-28T01:30:00Z'],
  },
  {
    name: 'Berlin every 30 minutes over the autumn change runs on both occurrences',
    schedule: '*/30 * * * *',
    zone: 'Europe/Berlin',
    from: '2024-10-27T00:15:00Z',
    want: ['2024-10-27T00:30:00Z', '2024-10-27T01:00:00Z', '2024-10-27T01:30:00Z', '2024-10-27T02:00:00Z'],
  },
  {
    name: 'New York 01:30 on the autumn change day runs once',
    schedule: '30 1 * * *',
    zone: 'America/New_York',
    from: '2024-11-02T12:00:00Z',
    want: ['2024-11-03T05:30:00Z', '2024-11-04T06:30:00Z'],
  },
  {
    name: 'Lord Howe 02:00 in the 30-minute spring gap runs at 02:30',
    schedule: '0 2 * * *',
    zone: 'Australia/Lord_Howe',
    from: '2024-10-04T00:00:00Z',
    want: ['2024-10-04T15:30:00Z', '2024-10-05T15:30:00Z', '2024-10-06T15:00:00Z'],
  },
  {
    name: "Lord Howe's 30-minute autumn repeat: a fixed 01:45 runs once",
    schedule: '45 1 * * *',
    zone: 'Australia/Lord_Howe',
    from: '2025-04-05T00:00:00Z',
    want: ['2025-04-05T14:45:00Z', '2025-04-06T15:15:00Z'],
  },
  {
    name: "Lord Howe's 30-minute autumn repeat: every 15 minutes runs 01:30 and 01:45 twice",
    schedule: '*/15 1 * * *',
    zone: 'Australia/Lord_Howe',
    from: '2025-04-05T14:00:00Z',
    want: [
      '2025-04-05T14:00:00Z',
      '2025-04-05T14:15:00Z',
      '2025-04-05T14:30:00Z',
      '2025-04-05T14:45:00Z',
      '2025-04-05T15:00:00Z',
      '2025-04-05T15:15:00Z',
      '2025-04-06T14:30:00Z',
    ],
  },
  {
    name: 'L: the last day of each month, Feb 29 in a leap year',
    schedule: '0 12 L * *',
    zone: '',
    from: '2024-01-15T00:00:00Z',
    want: ['2024-01-31T12:00:00Z', '2024-02-29T12:00:00Z', '2024-03-31T12:00:00Z'],
  },
  {
    name: 'L in a common year: Feb 28',
    schedule: '0 12 L 2 *',
    zone: '',
    from: '2025-01-01T00:00:00Z',
    want: ['2025-02-28T12:00:00Z', '2026-02-28T12:00:00Z', '2027-02-28T12:00:00Z', '2028-02-29T12:00:00Z'],
  },
  {
    name: 'Feb 29 only: every four years',
    schedule: '0 0 29 2 *',
    zone: '',
    from: '2024-03-01T00:00:00Z',
    want: ['2028-02-29T00:00:00Z', '2032-02-29T00:00:00Z'],
  },
  {
    name: 'W: the weekday nearest the 15th (Sat Jun 15 → Fri 14th)',
    schedule: '0 9 15W * *',
    zone: '',
    from: '2024-06-01T00:00:00Z',
    want: ['2024-06-14T09:00:00Z', '2024-07-15T09:00:00Z', '2024-08-15T09:00:00Z'],
  },
  {
    name: '#: the second Monday',
    schedule: '0 9 * * 1#2',
    zone: '',
    from: '2024-06-01T00:00:00Z',
    want: ['2024-06-10T09:00:00Z', '2024-07-08T09:00:00Z'],
  },
  {
    name: '5L: the last Friday',
    schedule: '0 9 * * 5L',
    zone: '',
    from: '2024-06-01T00:00:00Z',
    want: ['2024-06-28T09:00:00Z', '2024-07-26T09:00:00Z'],
  },
  {
    name: 'ranges, steps and names',
    schedule: '10-50/20 8-9 * * MON-FRI',
    zone: 'UTC',
    from: '2024-06-07T00:00:00Z',
    want: ['2024-06-07T08:10:00Z', '2024-06-07T08:30:00Z', '2024-06-07T08:50:00Z', '2024-06-07T09:10:00Z'],
  },
  {
    name: 'America/Chicago midnight (Metronome example zone)',
    schedule: '0 0 * * *',
    zone: 'America/Chicago',
    from: '2024-03-09T12:00:00Z',
    want: ['2024-03-10T06:00:00Z', '2024-03-11T05:00:00Z'],
  },
];

describe('chronos model: schedules', () => {
  describe('ISO 8601 repeating intervals', () => {
    for (const c of ISO_CASES)
      it(c.name, () => {
        expect(firstDue(sched(c.schedule, c.zone), c.from, c.want.length + 1).slice(0, c.want.length)).to.deep.equal(
          c.want,
        );
      });

    it('Rn: no due time after the last, and the count goes down', () => {
      const s = sched('R3/2024-01-01T00:00:00Z/PT10S');
      expect(nextDue(s, T('2024-01-01T00:00:20Z'), T('2024-01-02T00:00:00Z'))).to.equal(null);
      expect(isoRemaining(s as never, null)).to.equal(3);
      expect(isoRemaining(s as never, T('2024-01-01T00:00:00Z'))).to.equal(2);
      expect(isoRemaining(s as never, T('2024-01-01T00:00:20Z'))).to.equal(0);
      const r0 = sched('R0/2024-01-01T00:00:00Z/PT10S');
      expect(nextDue(r0, null, T('2023-01-01T00:00:00Z'))).to.equal(null);
    });

    it("Chronos's run-once idiom: R1 with a zero period (R1//P, R1/<start>/PT0S) runs once", () => {
      const now = T('2026-11-30T12:00:00Z');
      const once = sched('R1//P', '', now);
      expect(dueTimesBetween(once, now - 1, now + 86_400_000).times).to.deep.equal([now]);
      expect(nextDue(once, now, now)).to.equal(null);
      const at = sched('R1/2026-12-01T00:00:00Z/PT0S', '', now);
      expect(firstDue(at, '2026-11-30T00:00:00Z', 3)).to.deep.equal(['2026-12-01T00:00:00Z']);
      expect(isoRemaining(at as never, T('2026-12-01T00:00:00Z'))).to.equal(0);
      expect(parseSchedule('R2//PT0S', '', now).ok).to.equal(false);
      expect(parseSchedule('R//P', '', now).ok).to.equal(false);
    });

    it("does not depend on today's date (luxon's own offset guess would)", () => {
      const cases = ['R/2024-10-26T02:30:00/P1D', 'R/2024-03-30T02:30:00/P1D', 'R/2025-04-05T01:45:00/P1D'];
      const zones = ['Europe/Berlin', 'Europe/Berlin', 'Australia/Lord_Howe'];
      const crons = ['30 2 * * *', '45 1 * * *'];
      const run = () => {
        clearScheduleCaches();
        return [
          ...cases.map((c, i) => firstDue(sched(c, zones[i]), '2024-01-01T00:00:00Z', 4)),
          ...crons.map((c) => firstDue(sched(c, 'Europe/Berlin'), '2024-10-26T00:00:00Z', 3)),
        ];
      };
      const saved = Settings.now;
      try {
        Settings.now = () => Date.UTC(2030, 6, 1);
        const summer = run();
        Settings.now = () => Date.UTC(2030, 0, 1);
        expect(run()).to.deep.equal(summer);
      } finally {
        Settings.now = saved;
      }
    });

    it('an empty start means now', () => {
      const now = T('2026-11-30T12:00:00.250Z');
      const s = sched('R//PT5S', '', now);
      expect(nextDue(s, null, now)).to.equal(now);
      expect(nextDue(s, now, now)).to.equal(now + 5000);
    });

    it('a start in the past does not replay old runs; lastDue picks up missed ones', () => {
      const s = sched('R/2014-01-01T00:00:00Z/P1D');
      expect(Z(nextDue(s, null, T('2026-11-30T12:00:00Z')))).to.equal('2026-12-01T00:00:00Z');
      expect(Z(nextDue(s, T('2026-11-28T00:00:00Z'), T('2026-11-30T12:00:00Z')))).to.equal('2026-11-29T00:00:00Z');
    });

    it('prints back in its zone and round-trips', () => {
      const s = sched('R5/2024-03-29T09:00:00/P1D', 'Europe/Berlin');
      const text = formatIso8601(s as never);
      expect(text).to.equal('R5/2024-03-29T09:00:00.000+01:00/P1D');
      expect(sched(text, 'Europe/Berlin')).to.deep.equal(s);
      expect(formatIso8601(sched('R/2024-03-29T09:00:00Z/PT2S') as never)).to.equal('R/2024-03-29T09:00:00.000Z/PT2S');
      const gap = sched('R/2024-03-31T02:30:00/P1D', 'Europe/Berlin');
      expect(formatIso8601(gap as never)).to.equal('R/2024-03-31T02:30:00.000+02:00/P1D');
      expect(sched(formatIso8601(gap as never), 'Europe/Berlin')).to.deep.equal(gap);
    });

    for (const [text, zone, why] of [
      ['R/2024-01-01T00:00:00Z/PT0S', '', 'shorter than one second'],
      ['R/2024-01-01T00:00:00Z/PT0.5S', '', 'shorter than one second'],
      ['R/2024-01-01T00:00:00Z/PT-1S', '', 'negative'],
      ['R/2024-01-01T00:00:00Z/P', '', 'not an ISO 8601 duration'],
      ['R/tomorrow/PT1S', '', 'not an ISO 8601 date'],
      ['R-1/2024-01-01T00:00:00Z/PT1S', '', 'not of the form'],
      ['R/2024-01-01T00:00:00Z', '', 'not of the form'],
      ['R/2024-01-01T00:00:00Z/PT1S', 'Mars/Olympus_Mons', 'unknown time zone'],
      ['R99999999999/2024-01-01T00:00:00Z/PT1S', '', 'above'],
      ['R/1900-01-01T00:00:00Z/PT1S', '', 'outside the years'],
      [`R/2024-01-01T00:00:00Z/PT${'1'.repeat(300)}S`, '', 'longer than'],
    ] as const)
      it(`refuses ${text.slice(0, 50)}${zone ? ' in ' + zone : ''}: ${why}`, () => {
        const p = parseSchedule(text, zone, 0);
        expect(p.ok).to.equal(false);
        if (!p.ok) expect(p.reason).to.include(why);
      });
  });

  describe('cron', () => {
    for (const c of CRON_CASES)
      it(c.name, () => {
        expect(firstDue(sched(c.schedule, c.zone), c.from, c.want.length)).to.deep.equal(c.want);
      });

    it("Metronome's own cron cases (CronSpecFormatTest): both day fields must match", () => {
      const from = '2017-10-02T10:00:00Z';
      const cases: [string, string][] = [
        ['0 9 1-7 * 1', '2017-11-06T09:00:00Z'],
        ['0 9 1-7 * 1-5', '2017-10-03T09:00:00Z'],
        ['0 9 1-7 * 6-7', '2017-10-07T09:00:00Z'],
        ['0 9 8-14 * 1-5', '2017-10-09T09:00:00Z'],
        ['0 9 22-28 * 6-7', '2017-10-22T09:00:00Z'],
        ['* * * * 3', '2017-10-04T00:00:00Z'],
        ['* * */1 * 3', '2017-10-04T00:00:00Z'],
        ['0 0 20-31 2 *', '2018-02-20T00:00:00Z'],
        ['0 0 29 2 *', '2020-02-29T00:00:00Z'],
      ];
      for (const [c, want] of cases) expect(firstDue(sched(c, 'UTC'), from, 1), c).to.deep.equal([want]);
      const mondays: [string, string][] = [
        ['2017-04-25', '2017-05-01'],
        ['2017-07-28', '2017-07-31'],
        ['2017-12-27', '2018-01-01'],
        ['2018-04-29', '2018-04-30'],
        ['2018-09-30', '2018-10-01'],
        ['2018-12-26', '2018-12-31'],
      ];
      for (const [f, want] of mondays)
        expect(firstDue(sched('* * * * 1', 'UTC'), `${f}T00:00:01Z`, 1)).to.deep.equal([`${want}T00:00:00Z`]);
      expect(firstDue(sched('0 0 * * 7', 'UTC'), from, 1)).to.deep.equal(['2017-10-08T00:00:00Z']);
    });

    it('an optional sixth field is the year', () => {
      expect(firstDue(sched('30 6 1 1 * 2030', 'UTC'), '2026-01-01T00:00:00Z', 3)).to.deep.equal([
        '2030-01-01T06:30:00Z',
      ]);
      expect(firstDue(sched('0 0 1 * * 2027-2028', 'UTC'), '2026-01-01T00:00:00Z', 1)).to.deep.equal([
        '2027-01-01T00:00:00Z',
      ]);
    });

    for (const [text, why] of [
      ['0 0 * * * * *', 'five fields'],
      ['0 0 * * * MON', 'the sixth field is the year'],
      ['* * *', 'five fields'],
      ['61 * * * *', 'invalid cron'],
      ['0 0 30 2 *', 'never matches'],
      ['0 0 x * *', 'invalid cron'],
    ] as const)
      it(`refuses '${text}': ${why}`, () => {
        const p = parseSchedule(text, 'UTC', 0);
        expect(p.ok).to.equal(false);
        if (!p.ok) expect(p.reason).to.include(why);
      });
  });

  describe('dueTimesBetween', () => {
    it('lists (after, until] in order and says when it stopped at max', () => {
      const s = sched('R/2024-01-01T00:00:00Z/PT1S');
      const all = dueTimesBetween(s, T('2024-01-01T00:00:00Z'), T('2024-01-01T00:00:05Z'));
      expect(all.times.map(Z)).to.deep.equal([1, 2, 3, 4, 5].map((i) => `2024-01-01T00:00:0${i}Z`));
      expect(all.truncated).to.equal(false);
      const cut = dueTimesBetween(s, T('2024-01-01T00:00:00Z'), T('2024-01-02T00:00:00Z'), 3);
      expect(cut.times).to.have.length(3);
      expect(cut.truncated).to.equal(true);
    });
  });

  describe('fast paths agree with the libraries', () => {
    it('time-unit periods (plain arithmetic) equal luxon stepping in the zone', () => {
      fc.assert(
        fc.property(
          fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2040, 0, 1) }),
          fc.constantFrom('PT1S', 'PT7S', 'PT90M', 'PT24H', 'PT1H30M15S'),
          fc.constantFrom('Europe/Berlin', 'Australia/Lord_Howe', 'America/New_York'),
          fc.integer({ min: 0, max: 5000 }),
          (st, period, zone, k) => {
            const s = sched(`R/${new Date(st).toISOString().replace('Z', '')}/${period}`, zone);
            const d = dueTimesBetween(s, s.kind === 'iso' ? s.start - 1 : 0, Number.MAX_SAFE_INTEGER, k + 1).times[k];
            const start = DateTime.fromMillis((s as { start: number }).start, { zone });
            expect(d).to.equal(start.plus(Duration.fromISO(period).mapUnits((u) => u * k)).toMillis());
          },
        ),
        { numRuns: 200 },
      );
    });

    it("UTC crons (croner's fixed offset) equal the same cron in a UTC+0 zone without DST", () => {
      const crons = ['* * * * *', '*/7 * * * *', '30 2 * * *', '0 0 L * *', '0 9 15W * *', '0 9 * * 1#2', '5 4 * * 0'];
      fc.assert(
        fc.property(
          fc.constantFrom(...crons),
          fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2040, 0, 1) }),
          (c, from) => {
            const a = dueTimesBetween(sched(c, ''), from, from + 90 * 86_400_000, 5).times;
            const b = dueTimesBetween(sched(c, 'Africa/Abidjan'), from, from + 90 * 86_400_000, 5).times;
            expect(a).to.deep.equal(b);
          },
        ),
        { numRuns: 100 },
      );
    });
  });

  describe('properties', () => {
    const zones = [
      '',
      'UTC',
      'Europe/Berlin',
      'America/New_York',
      'Australia/Lord_Howe',
      'Asia/Kolkata',
      'Pacific/Apia',
    ];
    const periods = [
      'PT1S',
      'PT7S',
      'PT1M',
      'PT45M',
      'PT1H',
      'PT24H',
      'P1D',
      'P1W',
      'P1M',
      'P1Y',
      'P1DT12H',
      'P2M3DT4H',
    ];
    const crons = [
      '* * * * *',
      '*/7 * * * *',
      '30 2 * * *',
      '0 0 L * *',
      '0 9 15W * *',
      '0 9 * * 1#2',
      '15 1-3 * * 0',
      '0 0 29 2 *',
    ];
    const start = fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2040, 0, 1) });
    const isoSchedule = fc
      .tuple(start, fc.constantFrom(...periods), fc.constantFrom(...zones), fc.option(fc.integer({ min: 1, max: 50 })))
      .map(([st, p, z, n]) =>
        sched(`R${n ?? ''}/${new Date(st).toISOString().replace('Z', '')}/${p}`, z === '' ? 'UTC' : z),
      );
    const cronSchedule = fc.tuple(fc.constantFrom(...crons), fc.constantFrom(...zones)).map(([c, z]) => sched(c, z));
    const anySchedule = fc.oneof(isoSchedule, cronSchedule);

    it('due times strictly increase, and nextDue(d) > d', () => {
      fc.assert(
        fc.property(anySchedule, start, (s, from) => {
          const { times } = dueTimesBetween(s, from, from + 400 * 86_400_000, 40);
          for (let i = 1; i < times.length; i++) expect(times[i]).to.be.greaterThan(times[i - 1]);
          for (const d of times) {
            const n = nextDue(s, d, d);
            if (n !== null) expect(n).to.be.greaterThan(d);
          }
        }),
        { numRuns: 300 },
      );
    });

    it('dueTimesBetween agrees with walking nextDue, and nextDue(null, now) is the first at or after now', () => {
      fc.assert(
        fc.property(anySchedule, start, (s, from) => {
          const { times } = dueTimesBetween(s, from, from + 30 * 86_400_000, 15);
          let t = nextDue(s, from, from);
          for (const d of times) {
            expect(t).to.equal(d);
            t = nextDue(s, d, d);
          }
          const first = nextDue(s, null, from + 1);
          if (times.length > 0) expect(first).to.equal(times[0]);
        }),
        { numRuns: 200 },
      );
    });
  });
});
