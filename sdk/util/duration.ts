/**
 * Durations in Mesos's flag form: `15secs`, `500ms`, `2mins`, `1hrs`, `1days`, `1weeks`
 * (singular and short forms too: `1sec`, `10s`, `5m`). A bare number is taken as seconds.
 */
const UNITS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  ms: 1,
  s: 1000,
  sec: 1000,
  secs: 1000,
  m: 60_000,
  min: 60_000,
  mins: 60_000,
  h: 3_600_000,
  hr: 3_600_000,
  hrs: 3_600_000,
  d: 86_400_000,
  day: 86_400_000,
  days: 86_400_000,
  w: 604_800_000,
  week: 604_800_000,
  weeks: 604_800_000,
};

/** Milliseconds, or throws with a message that shows the accepted forms. */
export function parseDuration(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/.exec(text);
  const unit = m?.[2] || 's';
  if (!m || !(unit in UNITS)) {
    throw new Error(`'${text}' is not a duration; use forms like 500ms, 15secs, 2mins, 1hrs, 1days`);
  }
  return Number(m[1]) * UNITS[unit];
}
