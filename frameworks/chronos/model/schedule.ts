/**
 * One schedule type for both faces and the pure due-time arithmetic the runner obeys:
 * `nextDue(schedule, lastDue, now)` and `dueTimesBetween(schedule, after, until, max)`. No horizon:
 * intervals of a second work, and due times are computed exactly, never sampled.
 *
 * Rules:
 * - With a `lastDue` (the last due time the runner already handled: ran or recorded as skipped),
 *   the next due time is the first one strictly after it, even if it is in the past (a missed run;
 *   the missed-run policy decides what happens to it, see policy.ts).
 * - Without one (a job never due yet), it is the first due time at or after `now`: a job posted with
 *   a start in 2014 does not replay ten years of runs.
 * - `Rn` yields n due times; after the last, `nextDue` is `null` (the runner disables the job).
 */
import type { CronSchedule } from './cron.js';
import { cronNextAfter, parseCron } from './cron.js';
import type { IsoSchedule, Parsed } from './iso8601.js';
import { isoDueAt, isoHasIndex, isoIndexAtOrAfter, parseIso8601 } from './iso8601.js';

export type Schedule = IsoSchedule | CronSchedule;

/** Most due times {@link dueTimesBetween} returns when not told. */
export const DEFAULT_MAX_DUE_TIMES = 1000;
/** Hard ceiling on one {@link dueTimesBetween} answer. */
export const MAX_DUE_TIMES = 100_000;

/**
 * Parses either syntax: a Chronos `R…/…/P…` interval or a five-field cron. `now` fills an empty start.
 */
export function parseSchedule(text: string, timeZone: string, now: number): Parsed<Schedule> {
  if (text.startsWith('R')) return parseIso8601(text, timeZone, now);
  return parseCron(text, timeZone);
}

/** The first due time strictly after `after` (ms), or null when the schedule has ended. */
export function dueAfter(s: Schedule, after: number): number | null {
  if (s.kind === 'cron') return cronNextAfter(s, after);
  const k = isoIndexAtOrAfter(s, after + 1);
  return isoHasIndex(s, k) ? isoDueAt(s, k) : null;
}

/** The first due time at or after `at` (ms), or null. */
export function dueAtOrAfter(s: Schedule, at: number): number | null {
  return dueAfter(s, at - 1);
}

/**
 * The next due time: the first after `lastDue` when there is one, else the first at or after `now`.
 * `null` when the schedule has no more due times.
 */
export function nextDue(s: Schedule, lastDue: number | null, now: number): number | null {
  return lastDue === null ? dueAtOrAfter(s, now) : dueAfter(s, lastDue);
}

/** Due times in `(after, until]`, in order, at most `max`; `truncated` says there were more. */
export function dueTimesBetween(
  s: Schedule,
  after: number,
  until: number,
  max: number = DEFAULT_MAX_DUE_TIMES,
): { times: number[]; truncated: boolean } {
  const limit = Math.max(0, Math.min(Math.floor(max), MAX_DUE_TIMES));
  const times: number[] = [];
  let t = dueAfter(s, after);
  while (t !== null && t <= until) {
    if (times.length === limit) return { times, truncated: true };
    times.push(t);
    t = dueAfter(s, t);
  }
  return { times, truncated: false };
}
