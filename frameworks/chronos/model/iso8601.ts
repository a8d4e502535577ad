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
import { DateTime, Duration, type Zone } from 'luxon';
import { effectiveZone, luxonZone, zoneProblem } from './timezone.js';

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
  /**
   * The written wall-clock start (`2024-03-31T02:30:00.000`), kept when it does not exist in the
   * zone (a spring-forward gap), so the runs after the first keep the written time.
   */
  readonly localStart?: string;
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

/**
 * Parses a period (`P1D`, `PT2S`, `P1Y2M`), refusing negative and sub-second ones. With
 * `singleRun` (`R1`, `R0`: Chronos's run-once idiom `R1//P` or `R1/<start>/PT0S`) a zero period is
 * fine, since there is no second due time.
 */
export function parsePeriod(text: string, singleRun = false): Parsed<Duration> {
  const d = Duration.fromISO(text);
  if (!d.isValid || (!/\d/.test(text) && !(singleRun && text === 'P')))
    return { ok: false, reason: `'${text}' is not an ISO 8601 duration (e.g. PT10S, P1D, P1M)` };
  const units = Object.values(d.toObject()) as number[];
  if (units.some((u) => u < 0 || !Number.isFinite(u))) return { ok: false, reason: `period '${text}' is negative` };
  if (units.some((u) => u > 1e9)) return { ok: false, reason: `period '${text}' is too long` };
  if (singleRun && d.toMillis() === 0) return { ok: true, value: d };
  if (d.toMillis() < MIN_PERIOD_MS) return { ok: false, reason: `period '${text}' is shorter than one second` };
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
  const period = parsePeriod(m[3], repeat !== null && repeat <= 1);
  if (!period.ok) return period;
  if (m[2] === '') return { ok: true, value: { kind: 'iso', repeat, start: now, period: m[3], timeZone } };
  const st = parseStart(m[2], timeZone);
  if (!st.ok) return st;
  return { ok: true, value: { kind: 'iso', repeat, period: m[3], timeZone, ...st.value } };
}

const FIELDS = ['year', 'month', 'day', 'hour', 'minute', 'second', 'millisecond'] as const;
type Fields = Record<(typeof FIELDS)[number], number>;
const fieldsOf = (d: DateTime): Fields => Object.fromEntries(FIELDS.map((f) => [f, d[f]])) as Fields;
const sameFields = (a: DateTime, b: DateTime) => FIELDS.every((f) => a[f] === b[f]);
const DAY = 86_400_000;

/**
 * The instant of a wall-clock time (given as the ms of those fields read in UTC) in a zone, by a
 * fixed rule (luxon's own guess depends on today's date, which would make this impure): a time that
 * occurs twice is its first occurrence; a time skipped by a gap moves forward by the gap's length
 * (02:30 on the spring-forward night is 03:30), as java.time does.
 */
export function instantOfWallTime(wallMs: number, zone: Zone): number {
  const before = zone.offset(wallMs - DAY);
  const after = zone.offset(wallMs + DAY);
  const valid = [before, after]
    .map((o) => wallMs - o * 60_000)
    .filter((utc, i, all) => all.indexOf(utc) === i && zone.offset(utc) * 60_000 === wallMs - utc);
  if (valid.length > 0) return Math.min(...valid);
  return wallMs - before * 60_000;
}

function zoneObject(name: string): Zone {
  return DateTime.fromMillis(0, { zone: name }).zone;
}

function parseStart(text: string, timeZone: string): Parsed<{ start: number; localStart?: string }> {
  const zone = effectiveZone(timeZone);
  const written = DateTime.fromISO(text, { setZone: true, zone: 'UTC' });
  if (!written.isValid) return { ok: false, reason: `start '${text}' is not an ISO 8601 date and time` };
  if (written.year < MIN_YEAR || written.year > MAX_YEAR)
    return { ok: false, reason: `start '${text}' is outside the years ${MIN_YEAR}–${MAX_YEAR}` };
  if (timeZone === '') return { ok: true, value: { start: written.toMillis() } };
  // The written fields, read in the schedule's zone (the written offset is ignored, as Chronos does).
  const wall = DateTime.fromObject(fieldsOf(written), { zone: 'utc' });
  const start = instantOfWallTime(wall.toMillis(), zoneObject(zone));
  if (sameFields(DateTime.fromMillis(start, { zone }), written)) return { ok: true, value: { start } };
  // In a gap: moved forward; keep the written time for the runs after this one.
  return { ok: true, value: { start, localStart: wall.toISO({ includeOffset: false }) as string } };
}

/**
 * What arithmetic on a schedule needs, worked out once per schedule: periods of time units only
 * (`PT2S`, `PT24H`) are a fixed number of milliseconds in every zone, so their due times are plain
 * multiplication. Other periods: the calendar part (years … days) is added to the wall-clock start
 * (luxon, in UTC, so no zone rules apply to it), the result is read in the schedule's zone (a time
 * in a gap moves forward for that run only), then the time part is added as elapsed time.
 */
interface Compiled {
  exactMs: number | null;
  /** The wall-clock start as a UTC DateTime (its fields are the zone's local fields). */
  wall: DateTime;
  calendar: Duration;
  timeMs: number;
  zone: Zone;
  /** Average length of the period (ms), for a first guess of an index. */
  approxMs: number;
  memo: Map<number, number>;
}
// By schedule (not by object: 10,000 jobs posted with one schedule share the work), bounded; each
// keeps a small memo of due times, since reading a time in a zone costs Intl calls.
const compiledCache = new Map<string, Compiled>();
const CACHE_MAX = 10_000;
const MEMO_MAX = 64;
const CALENDAR = ['years', 'quarters', 'months', 'weeks', 'days'] as const;

/** Empties the memo (tests use it to recompute under other conditions). */
export function clearIsoCache(): void {
  compiledCache.clear();
}

function compiled(s: IsoSchedule): Compiled {
  const key = `${s.start}|${s.period}|${s.timeZone}|${s.localStart ?? ''}`;
  let c = compiledCache.get(key);
  if (!c) {
    const duration = Duration.fromISO(s.period);
    const o = duration.toObject() as Record<string, number | undefined>;
    const cal = Object.fromEntries(CALENDAR.map((u) => [u, o[u] ?? 0]));
    const calendar = Duration.fromObject(cal);
    const isCalendar = CALENDAR.some((u) => (o[u] ?? 0) !== 0);
    const timeMs = duration.minus(calendar).toMillis();
    const zone = zoneObject(luxonZone(s.timeZone));
    const wall = s.localStart
      ? DateTime.fromISO(s.localStart, { zone: 'utc' })
      : DateTime.fromObject(fieldsOf(DateTime.fromMillis(s.start, { zone })), { zone: 'utc' });
    c = {
      exactMs: isCalendar ? null : duration.toMillis(),
      wall,
      calendar,
      timeMs,
      zone,
      approxMs: isCalendar
        ? Duration.fromObject(duration.toObject(), { conversionAccuracy: 'longterm' }).toMillis()
        : duration.toMillis(),
      memo: new Map(),
    };
    if (compiledCache.size >= CACHE_MAX) compiledCache.delete(compiledCache.keys().next().value as string);
    compiledCache.set(key, c);
  }
  return c;
}

/** Due time number `k` (0 = the start), ms. */
export function isoDueAt(s: IsoSchedule, k: number): number {
  if (k === 0) return s.start;
  const c = compiled(s);
  if (c.exactMs !== null) return s.start + k * c.exactMs;
  const hit = c.memo.get(k);
  if (hit !== undefined) return hit;
  const wallK = c.wall.plus(c.calendar.mapUnits((u) => u * k));
  const t = instantOfWallTime(wallK.toMillis(), c.zone) + k * c.timeMs;
  if (c.memo.size >= MEMO_MAX) c.memo.delete(c.memo.keys().next().value as number);
  c.memo.set(k, t);
  return t;
}

/** The index of the first due time at or after `t` (may be beyond the last repetition). */
export function isoIndexAtOrAfter(s: IsoSchedule, t: number): number {
  if (t <= s.start) return 0;
  const c = compiled(s);
  if (c.exactMs !== null) return Math.ceil((t - s.start) / c.exactMs);
  let k = Math.max(0, Math.floor((t - s.start) / c.approxMs));
  // The estimate is off by a little for calendar units: walk to the answer.
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
  // A start written inside a gap is shown as written, so reading it back keeps the written time.
  const written = next === s.start && s.localStart ? s.localStart + dt.toFormat('ZZ') : null;
  const start = written ?? (s.timeZone === '' ? dt.toUTC().toISO() : dt.toISO());
  return `R${remaining === null ? '' : remaining}/${start}/${s.period}`;
}
