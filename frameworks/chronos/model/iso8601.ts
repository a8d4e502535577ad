/**
 * Chronos's repeating intervals, `R[n]/<start>/<period>` (ISO 8601-1 §4.5): bare `R` repeats for ever,
 * `Rn` runs n times, an empty start means "now". Arithmetic is luxon's, done in the schedule's zone:
 * calendar units (`P1D`, `P1W`, `P1M`, `P1Y`) keep the wall-clock time across daylight-saving changes,
 * time units (`PT24H`, `PT90M`, `PT2S`) are exact elapsed time. Due time k is always computed from
 * the start as `start + k × period` (never by stepping from the previous due time), so a month-end
 * start does not drift (Jan 31 → Feb 29 → Mar 31) and a wall time skipped by a DST gap only moves
 * that one run (to the first valid time after the gap), not the ones after it.
 *
 * With a `scheduleTimeZone`, the start's written date and time are read in that zone and its offset
 * is ignored (Chronos's `withZoneRetainFields`): `R/2014-10-10T18:32:00Z/PT60M` with `PST` first runs at
 * 18:32 in Los Angeles.
 */
import { DateTime, Duration } from 'luxon';
import { effectiveZone, zoneProblem } from './timezone.js';

/** A parsed Chronos schedule. */
export interface IsoSchedule {
  readonly kind: 'iso';
  /** How many runs in all (`Rn`); `null` for bare `R` (for ever). */
  readonly repeat: number | null;
  /** The first due time, ms since the epoch. */
  readonly start: number;
  /** The ISO 8601 duration between due times, as written (`P1D`, `PT10S`). */
  readonly period: string;
  /** IANA (or Java legacy) zone the arithmetic runs in; `''` means UTC. */
  readonly timeZone: string;
}

/** Longest schedule text accepted. */
export const MAX_SCHEDULE_LENGTH = 256;
/** Most repetitions `Rn` may ask for. */
export const MAX_REPEAT = 1_000_000_000;
/** Shortest period: one second. */
export const MIN_PERIOD_MS = 1000;
/** Earliest and latest start accepted (years). */
const MIN_YEAR = 1970;
const MAX_YEAR = 9999;

const SHAPE = /^R(\d*)\/([^/]*)\/(P[^/]*)$/;

export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

/** Parses a period (`P1D`, `PT2S`, `P1Y2M`), refusing zero, negative and sub-second ones. */
export function parsePeriod(text: string): Parsed<Duration> {
  const d = Duration.fromISO(text);
  if (!d.isValid) return { ok: false, reason: `'${text}' is not an ISO 8601 duration (e.g. PT10S, P1D, P1M)` };
  const units = Object.values(d.toObject()) as number[];
  if (units.some((u) => u < 0 || !Number.isFinite(u))) return { ok: false, reason: `period '${text}' is negative` };
  if (d.toMillis() < MIN_PERIOD_MS) return { ok: false, reason: `period '${text}' is shorter than one second` };
  if (units.some((u) => u > 1e9)) return { ok: false, reason: `period '${text}' is too long` };
  return { ok: true, value: d };
}

/**
 * Parses `R[n]/<start>/<period>` with an optional zone. `now` (ms) is the start when it is empty
 * (Chronos: "now"); pass the time the job was submitted.
 */
export function parseIso8601(text: string, timeZone: string, now: number): Parsed<IsoSchedule> {
  if (text.length > MAX_SCHEDULE_LENGTH)
    return { ok: false, reason: `schedule longer than ${MAX_SCHEDULE_LENGTH} characters` };
  const zp = zoneProblem(timeZone);
  if (zp) return { ok: false, reason: zp };
  const m = SHAPE.exec(text);
  if (!m) return { ok: false, reason: `schedule '${text}' is not of the form R[n]/<ISO 8601 start>/<ISO 8601 period>` };
  let repeat: number | null = null;
  if (m[1] !== '') {
    repeat = Number(m[1]);
    if (!Number.isSafeInteger(repeat) || repeat > MAX_REPEAT)
      return { ok: false, reason: `repetitions R${m[1]} above ${MAX_REPEAT}` };
  }
  const period = parsePeriod(m[3]);
  if (!period.ok) return period;
  let start: number;
  if (m[2] === '') start = now;
  else {
    const s = parseStart(m[2], timeZone);
    if (!s.ok) return s;
    start = s.value;
  }
  return { ok: true, value: { kind: 'iso', repeat, start, period: m[3], timeZone } };
}

function parseStart(text: string, timeZone: string): Parsed<number> {
  const zone = effectiveZone(timeZone);
  const written = DateTime.fromISO(text, { setZone: true, zone: 'UTC' });
  if (!written.isValid) return { ok: false, reason: `start '${text}' is not an ISO 8601 date and time` };
  if (written.year < MIN_YEAR || written.year > MAX_YEAR)
    return { ok: false, reason: `start '${text}' is outside the years ${MIN_YEAR}–${MAX_YEAR}` };
  if (timeZone === '') return { ok: true, value: written.toMillis() };
  // The written fields, read in the schedule's zone (the written offset is ignored, as Chronos does).
  const local = DateTime.fromObject(
    {
      year: written.year,
      month: written.month,
      day: written.day,
      hour: written.hour,
      minute: written.minute,
      second: written.second,
      millisecond: written.millisecond,
    },
    { zone },
  );
  return { ok: true, value: local.toMillis() };
}

/** Due time number `k` (0 = the start), ms. */
export function isoDueAt(s: IsoSchedule, k: number): number {
  const d = Duration.fromISO(s.period);
  const start = DateTime.fromMillis(s.start, { zone: effectiveZone(s.timeZone) });
  if (k === 0) return s.start;
  return start.plus(d.mapUnits((u) => u * k)).toMillis();
}

/** The index of the first due time at or after `t` (may be beyond the last repetition). */
export function isoIndexAtOrAfter(s: IsoSchedule, t: number): number {
  if (t <= s.start) return 0;
  const approx = Duration.fromISO(s.period).toMillis();
  let k = Math.max(0, Math.floor((t - s.start) / approx));
  // The estimate is exact for time units and off by a little for calendar ones: walk to the answer.
  while (k > 0 && isoDueAt(s, k - 1) >= t) k--;
  while (isoDueAt(s, k) < t) k++;
  return k;
}

/** True when due time `k` exists (within `Rn`). */
export function isoHasIndex(s: IsoSchedule, k: number): boolean {
  return s.repeat === null || k < s.repeat;
}

/** How many runs are left after the due time `lastDue` (Chronos's counting-down `Rn`); `null` for ever. */
export function isoRemaining(s: IsoSchedule, lastDue: number | null): number | null {
  if (s.repeat === null) return null;
  if (lastDue === null) return s.repeat;
  const used = isoIndexAtOrAfter(s, lastDue + 1);
  return Math.max(0, s.repeat - used);
}

/** Chronos's text of a schedule: `R[n]/<start in its zone>/<period>`. */
export function formatIso8601(s: IsoSchedule): string {
  return formatIsoFrom(s, s.start, s.repeat);
}

/**
 * The text Chronos shows after runs: the remaining count and the next start (Chronos rewrites its
 * schedule after each run). `next` is the next due time, `remaining` the runs left.
 */
export function formatIsoFrom(s: IsoSchedule, next: number, remaining: number | null): string {
  const dt = DateTime.fromMillis(next, { zone: effectiveZone(s.timeZone) });
  const start = s.timeZone === '' ? dt.toUTC().toISO() : dt.toISO();
  return `R${remaining === null ? '' : remaining}/${start}/${s.period}`;
}
