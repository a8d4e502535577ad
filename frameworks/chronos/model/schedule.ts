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
import { clearCronCache, cronNextAfter, parseCron } from './cron.js';
import type { IsoSchedule, Parsed } from './iso8601.js';
import { clearIsoCache, isoDueAt, isoHasIndex, isoIndexAtOrAfter, isoRemaining, parseIso8601 } from './iso8601.js';

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
  const c = parseCron(text, timeZone);
  if (c.ok || c.reason.includes('time zone')) return c;
  return { ok: false, reason: `neither R[n]/<start>/<period> nor a cron: ${c.reason}` };
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
  if (s.kind === 'iso') {
    // Walk the indices directly instead of searching for each one again.
    for (let k = isoIndexAtOrAfter(s, after + 1); isoHasIndex(s, k); k++) {
      const t = isoDueAt(s, k);
      if (t > until) break;
      if (times.length === limit) return { times, truncated: true };
      times.push(t);
    }
    return { times, truncated: false };
  }
  let t = dueAfter(s, after);
  while (t !== null && t <= until) {
    if (times.length === limit) return { times, truncated: true };
    times.push(t);
    t = dueAfter(s, t);
  }
  return { times, truncated: false };
}

/**
 * What Chronos's GET shows of a schedule's progress: the next due time and, for `Rn`, the runs left
 * (null for ever, and for cron). Pass the result to `jobToChronos`.
 */
export function scheduleProgress(
  s: Schedule,
  lastDue: number | null,
  now: number,
): { nextDue: number | null; remaining: number | null } {
  return { nextDue: nextDue(s, lastDue, now), remaining: s.kind === 'iso' ? isoRemaining(s, lastDue) : null };
}

/** Empties the due-time memos (they only save time; tests recompute under other conditions). */
export function clearScheduleCaches(): void {
  clearIsoCache();
  clearCronCache();
}
