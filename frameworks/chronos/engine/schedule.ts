/**
 * Due-time arithmetic the runner acts on, pure: (schedule, time zone, after) → next due time.
 * ISO 8601 repeating intervals (`R[n]/start/period`) through luxon, so `P1D` keeps the wall-clock
 * hour across a DST change and `PT24H` does not; five-field cron through croner (L, W, #, ranges,
 * steps, a time zone). No horizon: a due time a few seconds away is as good as one a day away.
 *
 * This is the service's adapter; the full model (frameworks/chronos/model) supersedes it where
 * they overlap.
 */
import { Cron } from 'croner';
import { DateTime, Duration } from 'luxon';

export type Schedule =
  | {
      kind: 'iso' /** repetitions left; undefined = forever */;
      repeat?: number;
      startMs: number;
      period: string;
      tz: string;
    }
  | { kind: 'cron'; expr: string; tz: string };

export class ScheduleError extends Error {}

/** Parses Chronos's `R[n]/<start>/<period>`; an empty start means `nowMs`. */
export function parseIso(text: string, tz: string, nowMs: number): Schedule {
  const parts = text.trim().split('/');
  if (parts.length !== 3) throw new ScheduleError(`schedule '${text}' is not R[n]/<ISO 8601 start>/<ISO 8601 period>`);
  const [r, start, period] = parts as [string, string, string];
  const m = /^R(\d*)$/.exec(r);
  if (!m) throw new ScheduleError(`schedule '${text}': the repetitions must be R or Rn (n a whole number)`);
  const repeat = m[1] === '' ? undefined : Number(m[1]);
  if (repeat !== undefined && !Number.isSafeInteger(repeat))
    throw new ScheduleError(`schedule '${text}': repetitions too large`);
  zoneCheck(tz);
  let startMs = nowMs;
  if (start !== '') {
    const d = DateTime.fromISO(start, { zone: tz, setZone: false });
    if (!d.isValid) throw new ScheduleError(`schedule '${text}': start '${start}' is not an ISO 8601 date-time`);
    startMs = d.toMillis();
  }
  const dur = Duration.fromISO(period);
  if (!dur.isValid) throw new ScheduleError(`schedule '${text}': period '${period}' is not an ISO 8601 duration`);
  if (dur.toMillis() < 1000) throw new ScheduleError(`schedule '${text}': the period must be at least one second`);
  return { kind: 'iso', repeat, startMs, period, tz };
}

export function parseCron(expr: string, tz: string): Schedule {
  zoneCheck(tz);
  const fields = expr.trim().split(/\s+/);
  if (fields.length !== 5)
    throw new ScheduleError(`cron '${expr}' must have five fields (minute hour day month weekday)`);
  try {
    new Cron(expr, { timezone: tz, paused: true });
  } catch (e) {
    throw new ScheduleError(`cron '${expr}': ${(e as Error).message}`);
  }
  return { kind: 'cron', expr: expr.trim(), tz };
}

function zoneCheck(tz: string): void {
  if (!DateTime.now().setZone(tz).isValid) throw new ScheduleError(`time zone '${tz}' is not an IANA time zone`);
}

/** The `k`-th occurrence (0 = start) of an ISO schedule. */
function isoAt(s: Extract<Schedule, { kind: 'iso' }>, k: number): number {
  const dur = Duration.fromISO(s.period);
  const start = DateTime.fromMillis(s.startMs, { zone: s.tz });
  return start.plus(dur.mapUnits((x) => x * k)).toMillis();
}

/**
 * The first due time strictly after `afterMs` (or at/after `start` when `afterMs` is before it),
 * with the number of occurrences it is from the start; undefined when the schedule has ended.
 */
export function nextDue(s: Schedule, afterMs: number): number | undefined {
  if (s.kind === 'cron') {
    const next = new Cron(s.expr, { timezone: s.tz, paused: true }).nextRun(new Date(afterMs));
    return next ? next.getTime() : undefined;
  }
  if (s.startMs > afterMs) return s.repeat === 0 ? undefined : s.startMs;
  const approx = Duration.fromISO(s.period).toMillis();
  let k = Math.max(0, Math.floor((afterMs - s.startMs) / approx) - 1);
  while (isoAt(s, k) <= afterMs) k++;
  while (k > 0 && isoAt(s, k - 1) > afterMs) k--;
  if (s.repeat !== undefined && k >= s.repeat) return undefined;
  return isoAt(s, k);
}

/** Every due time in (afterMs, untilMs], at most `limit` of them (the rest counted). */
export function dueBetween(
  s: Schedule,
  afterMs: number,
  untilMs: number,
  limit = 1000,
): { due: number[]; more: number } {
  const due: number[] = [];
  let more = 0;
  let t = afterMs;
  for (;;) {
    const n = nextDue(s, t);
    if (n === undefined || n > untilMs) break;
    if (due.length < limit) due.push(n);
    else more++;
    if (more > 1_000_000) break;
    t = n;
  }
  return { due, more };
}

/** Chronos's durations (`PT60S`) in milliseconds. */
export function isoDurationMs(text: string): number {
  const d = Duration.fromISO(text);
  if (!d.isValid) throw new ScheduleError(`'${text}' is not an ISO 8601 duration`);
  return d.toMillis();
}
