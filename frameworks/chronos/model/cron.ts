/**
 * Cron schedules (Metronome's `cron`, and Agora's extension to Chronos): five fields
 * (minute hour day-of-month month day-of-week) with ranges, lists, steps, names, `L` (last day of the
 * month, or `5L`/`5#L` last Friday), `W` (nearest weekday) and `#` (`1#2`, the second Monday), read in
 * an IANA zone. Parsing and the calendar walk are croner's. Day-of-month and day-of-week combine with
 * OR when both are restricted, as in Vixie cron and Metronome.
 *
 * Across daylight-saving changes (croner's rules, which match Vixie cron): a job at a fixed time
 * (`30 2 * * *`) that falls in a spring-forward gap runs at the first valid time after the gap, and
 * runs once when the autumn hour repeats; an interval job (`*\/15 * * * *`) skips the times that do
 * not exist and runs on both occurrences of a repeated time.
 */
import { Cron } from 'croner';
import type { Parsed } from './iso8601.js';
import { effectiveZone, zoneProblem } from './timezone.js';

export interface CronSchedule {
  readonly kind: 'cron';
  /** The five-field expression as written. */
  readonly cron: string;
  /** IANA zone; `''` means UTC. */
  readonly timeZone: string;
}

/** Longest cron text accepted. */
export const MAX_CRON_LENGTH = 256;

// Parsed patterns, by zone and text: the parse is pure, so caching it changes nothing but speed.
const cache = new Map<string, Cron>();
const CACHE_MAX = 10_000;

function compile(expr: string, timeZone: string): Cron {
  const key = timeZone + '\u0000' + expr;
  let c = cache.get(key);
  if (!c) {
    c = new Cron(expr, { paused: true, mode: '5-part', timezone: effectiveZone(timeZone) });
    if (cache.size >= CACHE_MAX) cache.clear();
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
  if (text.split(' ').length !== 5)
    return { ok: false, reason: `cron '${expr}' must have five fields: minute hour day-of-month month day-of-week` };
  try {
    const c = compile(text, timeZone);
    // A pattern that can never match (`0 0 30 2 *`) is refused rather than left to wait for ever.
    if (c.nextRun(new Date(0)) === null) return { ok: false, reason: `cron '${expr}' never matches` };
  } catch (e) {
    return { ok: false, reason: `invalid cron '${expr}': ${(e as Error).message}` };
  }
  return { ok: true, value: { kind: 'cron', cron: text, timeZone } };
}

/** The first cron time strictly after `after` (ms), or null when there is none. */
export function cronNextAfter(s: CronSchedule, after: number): number | null {
  // croner works in whole seconds and returns the next match strictly after the second it is given.
  const next = compile(s.cron, s.timeZone).nextRun(new Date(after));
  if (next === null) return null;
  const t = next.getTime();
  return t > after ? t : cronNextAfter(s, t);
}
