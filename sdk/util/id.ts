import { randomUUID } from 'node:crypto';
import { IdInvalid } from '../errors.js';

/** Ids in Mesos's spirit: a stable prefix per master run and a counter (`<uuid>-O12`). */
export function newId(): string {
  return randomUUID();
}

/** `<prefix>-S0`, `<prefix>-S1`, `<prefix>-O0`...: one counter per tag, as Mesos numbers agents, offers, frameworks. */
export class IdSequence {
  /**
   * Per tag, its `<prefix>-<tag>` made once and the next number: a master books 10,000 offers a
   * cycle at 10,000 agents, and building each id from the prefix, the dash and the tag made two
   * throwaway strings per id, and a Map write, before the id itself.
   */
  private readonly counters = new Map<string, { head: string; n: number }>();
  constructor(private readonly prefix: string) {}
  next(tag: string): string {
    let c = this.counters.get(tag);
    if (c === undefined) {
      c = { head: `${this.prefix}-${tag}`, n: 0 };
      this.counters.set(tag, c);
    }
    return c.head + c.n++;
  }
}

/** Longest id accepted: one path component on common file systems (ids name sandbox directories). */
export const MAX_ID_LENGTH = 255;

// C0 and C1 control characters (tab and newline among them), DEL, and both path separators.
const FORBIDDEN_IN_ID = /[\p{Cc}/\\]/u;

/**
 * Why `id` is not a valid task, framework, agent, executor or offer id, or undefined when it is.
 * The rule follows Mesos's `validateID` (non-empty, no control characters, no path separators)
 * and keeps an id safe as one path component: not `.` or `..`, at most
 * {@link MAX_ID_LENGTH} UTF-16 units.
 */
export function idProblem(id: unknown): string | undefined {
  if (typeof id !== 'string') return 'an id must be a string';
  if (id.length === 0) return 'an id must be non-empty';
  if (id.length > MAX_ID_LENGTH) return `an id must be at most ${MAX_ID_LENGTH} characters (got ${id.length})`;
  if (id === '.' || id === '..') return `'${id}' is not a valid id`;
  if (FORBIDDEN_IN_ID.test(id)) return 'an id must not contain control characters, / or \\';
  return undefined;
}

/** Whether `id` passes {@link idProblem}. */
export function isValidId(id: unknown): id is string {
  return idProblem(id) === undefined;
}

/** Returns `id` when valid; otherwise throws `IdInvalid` (`AGORA_ID_INVALID`) naming `what` (e.g. 'task id'). */
export function validateId(id: unknown, what = 'id'): string {
  const why = idProblem(id);
  if (why !== undefined) throw new IdInvalid(`invalid ${what} ${JSON.stringify(id)?.slice(0, 80)}: ${why}`);
  return id as string;
}
