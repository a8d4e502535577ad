/**
 * A secret that cannot leak by accident: printing, logging or serialising it gives `***`; only
 * `reveal()` gives the value. Comparisons run in constant time over equal-length digests.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { inspect } from 'node:util';

const MASK = '***';

export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  /** The value itself; for comparing and signing only, never for a log or an answer. */
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return MASK;
  }
  toJSON(): string {
    return MASK;
  }
  [inspect.custom](): string {
    return MASK;
  }
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/** Whether `given` equals the secret, in time independent of where they differ or of their lengths. */
export function secretMatches(secret: Secret, given: string): boolean {
  return timingSafeEqual(digest(secret.reveal()), digest(given));
}

/** Constant-time equality of two strings (through their digests, so lengths may differ). */
export function constantTimeEqual(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}
