/**
 * The wire codec: bytes ⇄ message. Pure, no sockets.
 *
 * A frame is exactly one MessagePack value, a map (msgpackr with records off, so any MessagePack
 * library can read and write it). Decoding checks, in order: the size limit, the number of values
 * and the nesting depth (all three before any parsing; sdk/codec/scan.ts), that the bytes hold one
 * complete value and nothing else, that the value is plain data (maps, arrays, strings, numbers,
 * booleans, nil — no extension types, no `__proto__` keys), and finally the message's structure
 * for its direction (`validateMessage`). Every failure is a `CodecError` with a stable code.
 */
import { type Options, Packr } from 'msgpackr';
import { AgoraError, statusOf } from '../errors.js';
import type { AnyMessage, Direction, MessageOf } from '../protocol/messages.js';
import { type PartialAccept, ProtocolError, validateMessage } from '../protocol/validate.js';
import { encodeOffers, encodePlain } from './offers.js';
import { MAX_DEPTH, scanFrame } from './scan.js';

/** Largest frame accepted (and sent) by default: 4 MiB. */
export const DEFAULT_MAX_FRAME_BYTES = 4 * 1024 * 1024;

export { MAX_DEPTH, MAX_ELEMENTS } from './scan.js';

export const CodecErrorCode = {
  FRAME_TOO_LARGE: 'AGORA_CODEC_FRAME_TOO_LARGE',
  MALFORMED: 'AGORA_CODEC_MALFORMED',
  TOO_MANY_ELEMENTS: 'AGORA_CODEC_TOO_MANY_ELEMENTS',
  TOO_DEEP: 'AGORA_CODEC_TOO_DEEP',
  INVALID_MESSAGE: 'AGORA_PROTOCOL_INVALID_MESSAGE',
  UNKNOWN_TYPE: 'AGORA_PROTOCOL_UNKNOWN_TYPE',
} as const;

/** A frame that cannot be decoded or is not a valid message; `code` is one of {@link CodecErrorCode}. */
export class CodecError extends AgoraError {
  /** For an ACCEPT refused only for some operations or tasks: the valid rest (see `ProtocolError.partial`). */
  readonly partial?: PartialAccept;
  constructor(message: string, code: string, options?: { cause?: unknown; partial?: PartialAccept }) {
    super(code, message, statusOf(code), options);
    this.name = 'CodecError';
    if (options?.partial) this.partial = options.partial;
  }
}

// One Packr for the process. `skipValues` drops properties whose value is undefined (as
// JSON.stringify does) and `encodeUndefinedAsNil` turns a stray undefined in an array into nil, so
// no msgpackr-specific extension is ever written. `structuredClone: false` refuses the reference
// extensions (which could build cycles) on the way in; `int64AsType: 'auto'` keeps 64-bit integers
// that fit a double as numbers (others become bigints, which the plain-data check rejects).
const packrOptions: Omit<Options, 'int64AsType'> & {
  // Both are supported at run time but missing from msgpackr's type declarations.
  skipValues?: unknown[];
  int64AsType?: 'bigint' | 'number' | 'string' | 'auto';
} = {
  useRecords: false,
  skipValues: [undefined],
  encodeUndefinedAsNil: true,
  structuredClone: false,
  moreTypes: false,
  int64AsType: 'auto',
};
const packr = new Packr(packrOptions as Options);

/**
 * Encodes one message as one MessagePack map. Fields set to `undefined` are left out. Messages go
 * through a hand-written encoder (sdk/codec/offers.ts: the same value, several times cheaper; for
 * OFFERS, the bulk of what a master sends, each shared resource list encoded once); a message
 * holding anything but plain data through msgpackr.
 */
export function encode(message: AnyMessage): Buffer {
  const frame = message.type === 'OFFERS' ? encodeOffers(message) : encodePlain(message);
  if (frame !== undefined) return frame;
  return packr.pack(message);
}

/** The generic encoder alone (msgpackr), whatever the message: what {@link encode} must mean the same as. */
export function encodeGeneric(message: AnyMessage): Buffer {
  return packr.pack(message);
}

/**
 * Decodes and validates one frame received in `direction`. Throws `CodecError`:
 * `AGORA_CODEC_FRAME_TOO_LARGE` (checked before parsing), `AGORA_CODEC_MALFORMED`, or the
 * `ProtocolError` codes `AGORA_PROTOCOL_INVALID_MESSAGE` / `AGORA_PROTOCOL_UNKNOWN_TYPE`.
 */
export function decode<D extends Direction>(
  direction: D,
  frame: Uint8Array,
  maxBytes: number = DEFAULT_MAX_FRAME_BYTES,
): MessageOf<D> {
  if (frame.byteLength > maxBytes) {
    throw new CodecError(
      `frame of ${frame.byteLength} bytes exceeds the limit of ${maxBytes} bytes`,
      CodecErrorCode.FRAME_TOO_LARGE,
    );
  }
  if (frame.byteLength === 0) throw new CodecError('malformed frame: empty', CodecErrorCode.MALFORMED);
  checkShape(frame);

  let value: unknown;
  try {
    value = packr.unpack(frame);
  } catch (e) {
    throw new CodecError(`malformed frame: ${describeUnpackError(e)}`, CodecErrorCode.MALFORMED, { cause: e });
  }

  // One walk finds what is not plain data and notes whether any value is bad (below).
  badValueSeen = false;
  const problem = plainDataProblem(value, false);
  if (problem !== undefined) throw new CodecError(`malformed frame: ${problem}`, CodecErrorCode.MALFORMED);
  // A non-finite number (NaN, ±Infinity) or an integer beyond ±2^53 decodes: the frame is a message
  // with a bad value, refused by its schema at that value's path (bounded numbers, no NaN), so an
  // ACCEPT bad only in one task refuses only that task and the connection stays. Its path is found
  // by a second walk, only when the first saw one.
  const badNumber = badValueSeen ? plainDataProblem(value, true) : undefined;

  try {
    const message = validateMessage(direction, value);
    if (badNumber !== undefined) {
      throw new CodecError(`invalid ${direction} message: ${badNumber}`, CodecErrorCode.INVALID_MESSAGE);
    }
    return message;
  } catch (e) {
    if (e instanceof CodecError) throw e;
    if (e instanceof ProtocolError) {
      throw new CodecError(`invalid ${direction} message: ${e.message}`, e.code, { cause: e, partial: e.partial });
    }
    throw new CodecError(`invalid ${direction} message: ${String(e)}`, CodecErrorCode.INVALID_MESSAGE, { cause: e });
  }
}

/**
 * Throws `AGORA_CODEC_TOO_MANY_ELEMENTS` or `AGORA_CODEC_TOO_DEEP` when the encoded value breaks
 * the element or depth cap (sdk/codec/scan.ts), without decoding it. Senders use it too, so that
 * what they send is never refused for its shape.
 */
export function checkShape(frame: Uint8Array, what = 'frame'): void {
  const problem = scanFrame(frame);
  if (problem === undefined) return;
  throw new CodecError(
    `${what}: ${problem.message}`,
    problem.kind === 'elements' ? CodecErrorCode.TOO_MANY_ELEMENTS : CodecErrorCode.TOO_DEEP,
  );
}

function describeUnpackError(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  if (e instanceof RangeError && /call stack/i.test(message)) return 'nested too deeply';
  if (/end of buffer not reached/i.test(message)) return 'trailing bytes after the first value (one value per frame)';
  if (/unexpected end/i.test(message)) return 'truncated MessagePack data';
  return `not MessagePack (${message.slice(0, 80)})`;
}

/**
 * Returns why `root` is not plain data (JSON-like and at most MAX_DEPTH deep, hence acyclic), or
 * undefined when it is. The recursion is bounded by MAX_DEPTH; the path is only built on failure.
 */
function plainDataProblem(root: unknown, numbers: boolean): string | undefined {
  const problem = check(root, 0, numbers);
  return problem && `message${problem.path.reverse().join('')}: ${problem.what}`;
}

interface Problem {
  what: string;
  /** Path segments, innermost first. */
  path: string[];
}

/**
 * Set by a walk without `numbers` that passed a value the walk with `numbers` would refuse (reset
 * by the caller before the walk; decoding is synchronous).
 */
let badValueSeen = false;

/**
 * With `numbers`, finds only bad values (numbers, undefined); without, everything else that is not
 * plain data, noting in `badValueSeen` whether it passed a bad value.
 */
function check(v: unknown, depth: number, numbers: boolean): Problem | undefined {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return undefined;
    case 'number':
      if (Number.isFinite(v)) return undefined;
      badValueSeen = true;
      return numbers ? { what: 'non-finite number', path: [] } : undefined;
    case 'object':
      break;
    case 'bigint':
      badValueSeen = true;
      return numbers ? { what: 'integer beyond ±2^53', path: [] } : undefined;
    case 'undefined':
      // msgpackr decodes its own `undefined` marker: absent in a map (as nil), a bad value in an array.
      badValueSeen = true;
      return numbers ? { what: 'undefined value', path: [] } : undefined;
    default:
      if (numbers) return undefined;
      return { what: `${typeof v} is not plain data (MessagePack extension types are not accepted)`, path: [] };
  }
  if (v === null) return undefined;
  if (depth >= MAX_DEPTH) return { what: `nested deeper than ${MAX_DEPTH} levels`, path: [] };
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const p = check(v[i], depth + 1, numbers);
      if (p) {
        p.path.push(`[${i}]`);
        return p;
      }
    }
    return undefined;
  }
  if (Object.getPrototypeOf(v) !== Object.prototype) {
    const kind = (v as object).constructor?.name ?? 'object';
    return { what: `${kind} is not plain data (MessagePack extension types are not accepted)`, path: [] };
  }
  for (const key in v) {
    // msgpackr renames a `__proto__` map key to `__proto_` so that it cannot reach the prototype;
    // refuse the frame rather than let a renamed key through.
    if (key === '__proto_' || key === '__proto__') return { what: 'forbidden key "__proto__"', path: [] };
    const x = (v as Record<string, unknown>)[key];
    // A nil field means the same as an absent one (another encoder may write optional fields as nil).
    if (x === null || x === undefined) {
      delete (v as Record<string, unknown>)[key];
      continue;
    }
    const p = check(x, depth + 1, numbers);
    if (p) {
      p.path.push(`.${key}`);
      return p;
    }
  }
  return undefined;
}
