/**
 * The shape of every error catalogue in Agora (fastify's `lib/errors.js` is the model): an error
 * class per failure, each with a stable code that is never reused and the HTTP status it maps to,
 * declared once. `sdk/errors.ts` holds the SDK's; `master/errors.ts` and `agent/errors.ts` hold
 * theirs. docs/errors.md lists them all and a test keeps the two in step.
 *
 * Expected outcomes (an offer declined, an app that cannot be placed yet) are values, not errors.
 */

/** Every error Agora reports to a caller. */
export class AgoraError extends Error {
  constructor(
    /** Stable code, `AGORA_<COMPONENT>_<WHAT>`; never reused for another meaning. */
    readonly code: string,
    message: string,
    /** The HTTP status this error answers with when it reaches an HTTP caller. */
    readonly statusCode: number = 500,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }

  /** The body of an HTTP error answer. */
  toJSON(): { code: string; message: string } {
    return { code: this.code, message: this.message };
  }
}

/** A class of errors with one code and one status, as a catalogue entry. */
export interface ErrorClass {
  new (message: string, options?: { cause?: unknown }): AgoraError;
  readonly code: string;
  readonly statusCode: number;
}

/**
 * Declares a catalogue entry: `const NotFound = defineError(code, 404, 'NotFoundError')`,
 * then `throw new NotFound('no such thing: ' + id)`.
 */
export function defineError(code: string, statusCode: number, name: string): ErrorClass {
  const cls = class extends AgoraError {
    static readonly code = code;
    static readonly statusCode = statusCode;
    constructor(message: string, options?: { cause?: unknown }) {
      super(code, message, statusCode, options);
      this.name = name;
    }
  };
  Object.defineProperty(cls, 'name', { value: name });
  return cls;
}

/** The codes of a catalogue object (its values that are error classes), for the catalogue test. */
export function codesOf(catalogue: Record<string, unknown>): string[] {
  return Object.values(catalogue)
    .filter((v): v is ErrorClass => typeof v === 'function' && typeof (v as { code?: unknown }).code === 'string')
    .map((v) => v.code);
}
