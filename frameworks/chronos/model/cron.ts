/**
 * Cron schedules (Metronome's `cron`, and Agora's extension to Chronos), with Metronome's syntax
 * (cron-utils as Metronome configures it): five fields (minute hour day-of-month month day-of-week)
 * and an optional sixth, the year; ranges, lists, steps, names, day of week 0-7 (0 and 7 are
 * Sunday), `L` (last day of the month, or `5L`/`5#L` last Friday), `W` (nearest weekday) and `#`
 * (`1#2`, the second Monday), read in an IANA zone. When both day fields are restricted a day must
 * match both (`0 9 1-7 * 1` is the first Monday of the month), as in Metronome, unlike Vixie cron's
 * either. Parsing and the calendar walk are croner's.
 *
 * Across daylight-saving changes (croner's rules, which match Vixie cron): a job at a fixed time
 * (`30 2 * * *`) that falls in a spring-forward gap runs at the first valid time after the gap, and
 * runs once when the autumn hour repeats; an interval job (`*\/15 * * * *`) skips the times that do
 * not exist and runs on both occurrences of a repeated time.
 */
import { Cron } from 'croner';
import type { Parsed } from './iso8601.js';
import { effectiveZone, isUtc, zoneProblem } from './timezone.js';

export interface CronSchedule {
  readonly kind: 'cron';
  /** The five-field expression as written. */
  readonly cron: string;
  /** IANA zone; `''` means UTC. */
  readonly timeZone: string;
}

/** Longest cron text accepted. */
export const MAX_CRON_LENGTH = 256;

// Parsed patterns, by zone and text, each with a small memo of answers: both are pure, so caching
// changes nothing but speed (10,000 jobs on `* * * * *` ask the same question every minute, and a
// zoned croner answer costs ~0.2 ms of Intl calls; UTC uses croner's fast fixed offset).
interface Compiled {
  cron: Cron;
  memo: Map<number, number | null>;
}
const cache = new Map<string, Compiled>();
const CACHE_MAX = 10_000;
const MEMO_MAX = 64;

/** Empties the memo (tests use it to recompute under other conditions). */
export function clearCronCache(): void {
  cache.clear();
}

function compile(expr: string, timeZone: string): Compiled {
  const key = timeZone + '\u0000' + expr;
  let c = cache.get(key);
  if (!c) {
    const zone = isUtc(timeZone) ? { utcOffset: 0 } : { timezone: effectiveZone(timeZone) };
    // Five fields, or six with a year: croner's seven-part form with the seconds at 0.
    const fields = expr.split(' ');
    const cron =
      fields.length === 6
        ? new Cron(`0 ${expr}`, { paused: true, mode: '7-part', domAndDow: true, ...zone })
        : new Cron(expr, { paused: true, mode: '5-part', domAndDow: true, ...zone });
    c = { cron, memo: new Map() };
    if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value as string);
    cache.set(key, c);
  }
  return c;
}

/** Parses a five-field cron expression in a zone. */
export function parseCron(expr: string, timeZone: string): Parsed<CronSchedule> {
  if (expr.length > MAX_CRON_LENGTH) return { ok: false, reason: `cron longer than ${MAX_CRON_LENGTH} characters` };
  const zp = zoneProblem(timeZone);
  if (zp) return { ok: false, reason: zp };
  const text = expr.trim().replace(/\s+/g, ' ');
  const fields = text.split(' ');
  if (fields.length !== 5 && fields.length !== 6)
    return {
      ok: false,
      reason: `cron '${expr}' must have five fields (minute hour day-of-month month day-of-week) and an optional year`,
    };
  if (fields.length === 6 && !/^[\d*,/-]+$/.test(fields[5]))
    return { ok: false, reason: `cron '${expr}': the sixth field is the year (e.g. 2030, 2030-2035, *)` };
  try {
    const c = compile(text, timeZone).cron;
    // A pattern that can never match (`0 0 30 2 *`) is refused rather than left to wait for ever.
    if (c.nextRun(new Date(0)) === null) return { ok: false, reason: `cron '${expr}' never matches` };
  } catch (e) {
    return { ok: false, reason: `invalid cron '${expr}': ${(e as Error).message}` };
  }
  return { ok: true, value: { kind: 'cron', cron: text, timeZone } };
}

/** The first cron time strictly after `after` (ms), or null when there is none. */
export function cronNextAfter(s: CronSchedule, after: number): number | null {
  const c = compile(s.cron, s.timeZone);
  const hit = c.memo.get(after);
  if (hit !== undefined) return hit;
  // croner works in whole seconds and returns the next match strictly after the second it is given.
  const next = c.cron.nextRun(new Date(after));
  let t = next === null ? null : next.getTime();
  if (t !== null && t <= after) t = cronNextAfter(s, t);
  if (c.memo.size >= MEMO_MAX) c.memo.delete(c.memo.keys().next().value as number);
  c.memo.set(after, t);
  return t;
}
