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

// ================================================================ the SDK's catalogue
// Add new entries at the end of their section; never rename or reuse a code. Errors that come in
// families (CodecError, ProtocolError, StoreError) carry one of these codes and take the status
// declared here through `statusOf`.

// ---------------------------------------------------------------- resources, ids
export const ResourcesInvalid = defineError('AGORA_RESOURCES_INVALID', 400, 'ResourceError');
export const IdInvalid = defineError('AGORA_ID_INVALID', 400, 'IdError');

// ---------------------------------------------------------------- wire protocol and codec
export const ProtocolInvalidMessage = defineError('AGORA_PROTOCOL_INVALID_MESSAGE', 400, 'ProtocolError');
export const ProtocolUnknownType = defineError('AGORA_PROTOCOL_UNKNOWN_TYPE', 400, 'ProtocolError');
export const CodecFrameTooLarge = defineError('AGORA_CODEC_FRAME_TOO_LARGE', 413, 'CodecError');
export const CodecMalformed = defineError('AGORA_CODEC_MALFORMED', 400, 'CodecError');
export const CodecTooManyElements = defineError('AGORA_CODEC_TOO_MANY_ELEMENTS', 413, 'CodecError');
export const CodecTooDeep = defineError('AGORA_CODEC_TOO_DEEP', 400, 'CodecError');

// ---------------------------------------------------------------- store
export const StoreConflict = defineError('AGORA_STORE_CONFLICT', 409, 'StoreConflictError');
export const StoreBadKey = defineError('AGORA_STORE_BAD_KEY', 400, 'StoreKeyError');
export const StoreBadValue = defineError('AGORA_STORE_BAD_VALUE', 400, 'StoreValueError');
export const StoreLocked = defineError('AGORA_STORE_LOCKED', 503, 'StoreLockedError');
export const StoreClosed = defineError('AGORA_STORE_CLOSED', 503, 'StoreClosedError');
export const StoreCorrupt = defineError('AGORA_STORE_CORRUPT', 500, 'StoreCorruptError');
export const StoreUnavailable = defineError('AGORA_STORE_UNAVAILABLE', 503, 'StoreUnavailableError');

// ---------------------------------------------------------------- ZooKeeper URL and leader detection
// Declared for sdk/zk (whose classes still extend Error; they are to move onto these entries).
export const ZkBadUrl = defineError('AGORA_ZK_BAD_URL', 400, 'ZkUrlError');
export const BadMasterAddress = defineError('AGORA_BAD_MASTER_ADDRESS', 400, 'MasterAddressError');
export const DetectorClosed = defineError('AGORA_DETECTOR_CLOSED', 503, 'DetectorClosedError');

const SDK_CATALOGUE: readonly ErrorClass[] = [
  ResourcesInvalid,
  IdInvalid,
  ProtocolInvalidMessage,
  ProtocolUnknownType,
  CodecFrameTooLarge,
  CodecMalformed,
  CodecTooManyElements,
  CodecTooDeep,
  StoreConflict,
  StoreBadKey,
  StoreBadValue,
  StoreLocked,
  StoreClosed,
  StoreCorrupt,
  StoreUnavailable,
  ZkBadUrl,
  BadMasterAddress,
  DetectorClosed,
];
const STATUS_BY_CODE = new Map(SDK_CATALOGUE.map((c) => [c.code, c.statusCode]));

/** The HTTP status the SDK catalogue declares for `code` (500 for a code it does not hold). */
export function statusOf(code: string): number {
  return STATUS_BY_CODE.get(code) ?? 500;
}
