/**
 * JSON bodies with bounded nesting and size: depth and the number of values are measured on the
 * text, before any parse, so a 20,000-deep body or a million tiny values cost one linear scan and
 * a 400, never a recursion in the parser or seconds in the validator.
 */

/** Deepest nesting any Agora request body needs is about 8 (resource lists); 32 leaves room. */
export const DEFAULT_MAX_JSON_DEPTH = 32;
/** Most values (array items and object members) in one body; the largest Agora body (1000 weights) has about 3000. */
export const DEFAULT_MAX_JSON_VALUES = 10_000;

export type JsonShapeProblem = 'too_deep' | 'too_many_values';

/** Why `text` is over the limits, or undefined; brackets and commas inside strings do not count. */
export function jsonShapeProblem(text: string, maxDepth: number, maxValues: number): JsonShapeProblem | undefined {
  let depth = 0;
  let values = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > maxDepth) return 'too_deep';
      if (++values > maxValues) return 'too_many_values';
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    } else if (c === 0x2c) {
      if (++values > maxValues) return 'too_many_values';
    }
  }
  return undefined;
}

/** True when `text` nests arrays/objects deeper than `max`. */
export function jsonDepthExceeds(text: string, max: number): boolean {
  return jsonShapeProblem(text, max, Number.POSITIVE_INFINITY) === 'too_deep';
}
