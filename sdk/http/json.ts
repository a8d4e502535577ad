/**
 * JSON bodies with bounded nesting: the depth is measured on the text, before any parse, so a
 * 20,000-deep body costs one linear scan and a 400, never a recursion in the parser, the
 * validator or a handler.
 */

/** Deepest nesting any Agora request body needs is about 8 (resource lists); 32 leaves room. */
export const DEFAULT_MAX_JSON_DEPTH = 32;

/** True when `text` nests arrays/objects deeper than `max` (brackets inside strings do not count). */
export function jsonDepthExceeds(text: string, max: number): boolean {
  let depth = 0;
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
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return false;
}
