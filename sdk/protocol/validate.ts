/**
 * Validation of decoded frames against the message schemas (messages.ts), compiled once per
 * message type. Every frame is checked here before it reaches any state; a frame that fails gives
 * a `ProtocolError` whose message names the path that is wrong.
 */

import { Compile, type Validator } from 'typebox/compile';
import type { TLocalizedValidationError } from 'typebox/error';
import { AgoraError, statusOf } from '../errors.js';
import { type Direction, type MessageOf, MessageSchemas } from './messages.js';

export const ProtocolErrorCode = {
  INVALID_MESSAGE: 'AGORA_PROTOCOL_INVALID_MESSAGE',
  UNKNOWN_TYPE: 'AGORA_PROTOCOL_UNKNOWN_TYPE',
} as const;

/** A value that is not a valid message of its direction (`AGORA_PROTOCOL_INVALID_MESSAGE` / `_UNKNOWN_TYPE`). */
export class ProtocolError extends AgoraError {
  constructor(message: string, code: string = ProtocolErrorCode.INVALID_MESSAGE) {
    super(code, message, statusOf(code));
    this.name = 'ProtocolError';
  }
}

type Validators = ReadonlyMap<string, Validator>;

const validators: Record<Direction, Validators> = Object.fromEntries(
  Object.entries(MessageSchemas).map(([direction, byType]) => [
    direction,
    new Map(Object.entries(byType).map(([type, schema]) => [type, Compile(schema)])),
  ]),
) as unknown as Record<Direction, Validators>;

/**
 * Checks that `value` is a well-formed message for `direction` and returns it typed.
 * Throws `ProtocolError` naming the first field that is wrong.
 */
export function validateMessage<D extends Direction>(direction: D, value: unknown): MessageOf<D> {
  const table = Object.hasOwn(validators, direction) ? validators[direction] : undefined;
  if (!table) throw new ProtocolError(`unknown direction ${String(direction).slice(0, 64)}`);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ProtocolError('message: expected an object with a "type" field');
  }
  const type = (value as { type?: unknown }).type;
  if (typeof type !== 'string') throw new ProtocolError('message.type: expected a string');
  const validator = table.get(type);
  if (!validator) {
    throw new ProtocolError(
      `message.type: unknown type ${JSON.stringify(type).slice(0, 64)} for ${direction} (expected one of ${[...table.keys()].join(', ')})`,
      ProtocolErrorCode.UNKNOWN_TYPE,
    );
  }
  if (!validator.Check(value)) throw new ProtocolError(describe(validator.Errors(value)));
  return value as MessageOf<D>;
}

/**
 * One line for the most specific error: the deepest path wins (in a union, the branch whose tag
 * matched goes deepest), then the first reported.
 */
function describe(errors: TLocalizedValidationError[]): string {
  let best: { path: string; what: string; depth: number } | undefined;
  for (const e of errors) {
    if (e.keyword === 'anyOf' || e.keyword === 'boolean') continue;
    const segments = e.instancePath === '' ? [] : e.instancePath.slice(1).split('/');
    let what = e.message;
    if (e.keyword === 'type') {
      const t = String((e.params as { type?: unknown }).type);
      what = `expected ${/^[aeiou]/.test(t) ? 'an' : 'a'} ${t}`;
    } else if (e.keyword === 'required') {
      const missing = (e.params as { requiredProperties?: string[] }).requiredProperties?.[0];
      if (missing !== undefined) {
        segments.push(missing);
        what = 'is required';
      }
    } else if (e.keyword === 'additionalProperties') {
      const extra = (e.params as { additionalProperties?: string[] }).additionalProperties?.[0];
      if (extra !== undefined) {
        segments.push(extra);
        what = 'is not a known field';
      }
    }
    if (!best || segments.length > best.depth) best = { path: pathOf(segments), what, depth: segments.length };
  }
  return best ? `${best.path}: ${best.what}`.slice(0, 1024) : 'message: invalid';
}

function pathOf(segments: string[]): string {
  let out = 'message';
  for (const raw of segments) {
    const s = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (/^\d+$/.test(s)) out += `[${s}]`;
    else if (s.length <= 64 && /^[A-Za-z_][A-Za-z0-9_]*$/.test(s)) out += `.${s}`;
    else out += `[${JSON.stringify(s.slice(0, 64))}${s.length > 64 ? '…' : ''}]`;
  }
  return out;
}
