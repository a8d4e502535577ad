/**
 * Time-zone names for schedules. Chronos read `scheduleTimeZone` through Java's `TimeZone`, so the
 * old three-letter ids (`PST`, `CST`, `IST`, `ECT` …) work beside IANA names; Node's ICU knows the
 * same aliases, so luxon validates both. Unlike Java (which quietly falls back to GMT), an unknown
 * name is refused: a job that silently runs at the wrong hour is worse than a 400.
 */
import { IANAZone } from 'luxon';

/** The zone a schedule uses when none is given (Chronos: the start's own offset, i.e. UTC for `Z`; Metronome: UTC). */
export const DEFAULT_ZONE = 'UTC';

/** Longest zone name accepted (the longest IANA name is about 32 characters). */
export const MAX_ZONE_LENGTH = 64;

/** `null` when `name` is a usable zone, else the reason it is not. An empty name means UTC. */
export function zoneProblem(name: string): string | null {
  if (name === '') return null;
  if (name.length > MAX_ZONE_LENGTH) return `time zone name longer than ${MAX_ZONE_LENGTH} characters`;
  if (!IANAZone.isValidZone(name)) return `unknown time zone '${name}' (use an IANA name such as Europe/Berlin)`;
  return null;
}

/** The zone to compute in: the given name, or UTC for an empty one. Call after {@link zoneProblem}. */
export function effectiveZone(name: string | undefined): string {
  return name === undefined || name === '' ? DEFAULT_ZONE : name;
}

/** True when a zone name means UTC itself (arithmetic then needs no time-zone database lookups). */
export function isUtc(name: string | undefined): boolean {
  return (
    name === undefined ||
    name === '' ||
    name === 'UTC' ||
    name === 'Etc/UTC' ||
    name === 'Z' ||
    name === 'GMT' ||
    name === 'Etc/GMT'
  );
}

/** The zone to give luxon: its fast fixed `utc` zone for UTC, else the name. */
export function luxonZone(name: string | undefined): string {
  return isUtc(name) ? 'utc' : (name as string);
}
