/**
 * A pass over the MessagePack bytes of a frame, before anything is decoded, that counts its values
 * and measures its nesting. Decoding allocates an object per map and array, so a frame of a few
 * million one-byte empty maps (legal in size) costs seconds of CPU; this pass refuses it in
 * milliseconds without allocating. It reads headers only: string, binary and extension payloads
 * are skipped by their length. Anything it does not recognise (a reserved byte, a truncated value)
 * ends the pass without a verdict, for the decoder to refuse with its own error.
 */

/**
 * Most MessagePack values (map keys and values, array items, scalars) in one frame. A 4 MiB frame
 * of realistic offers or tasks holds about 730,000.
 */
export const MAX_ELEMENTS = 1_048_576;

/**
 * Most maps and arrays in one frame (each costs an allocation when decoded). A 4 MiB frame of
 * realistic offers or tasks holds about 165,000.
 */
export const MAX_CONTAINERS = 262_144;

/** Deepest nesting of maps and arrays a frame may have; real messages stay near 10. */
export const MAX_DEPTH = 32;

export interface ScanLimits {
  maxElements: number;
  maxContainers: number;
  maxDepth: number;
}

export const DEFAULT_SCAN_LIMITS: ScanLimits = {
  maxElements: MAX_ELEMENTS,
  maxContainers: MAX_CONTAINERS,
  maxDepth: MAX_DEPTH,
};

export type ScanProblem = { kind: 'elements'; message: string } | { kind: 'depth'; message: string };

/** Counts the values and depth of the first MessagePack value in `b`; returns the first limit it breaks. */
export function scanFrame(b: Uint8Array, limits: ScanLimits = DEFAULT_SCAN_LIMITS): ScanProblem | undefined {
  const { maxElements, maxContainers, maxDepth } = limits;
  // remaining[d]: values still to read in the container open at depth d (depth 0: the root value).
  // One buffer for every scan (scans are synchronous), grown for larger limits.
  if (stack.length < maxDepth + 2) stack = new Float64Array(maxDepth + 2);
  const remaining = stack;
  let depth = 0;
  remaining[0] = 1;
  let elements = 0;
  let containers = 0;
  let pos = 0;
  const end = b.length;

  while (depth >= 0) {
    if (remaining[depth] === 0) {
      depth--;
      continue;
    }
    if (pos >= end) return undefined; // truncated: the decoder says so
    remaining[depth]--;
    elements++;
    if (elements > maxElements) return tooMany(maxElements);
    const t = b[pos++];
    let children = -1; // > -1 when t opens a container
    if (t <= 0x7f || t >= 0xe0 || t === 0xc0 || t === 0xc2 || t === 0xc3) continue;
    if (t <= 0x8f) children = (t & 0x0f) * 2;
    else if (t <= 0x9f) children = t & 0x0f;
    else if (t <= 0xbf) pos += t & 0x1f;
    else {
      switch (t) {
        case 0xc4: // bin 8
        case 0xd9: // str 8
          if (pos + 1 > end) return undefined;
          pos += 1 + b[pos];
          break;
        case 0xc5:
        case 0xda:
          if (pos + 2 > end) return undefined;
          pos += 2 + u16(b, pos);
          break;
        case 0xc6:
        case 0xdb:
          if (pos + 4 > end) return undefined;
          pos += 4 + u32(b, pos);
          break;
        case 0xc7: // ext 8: length, type, data
          if (pos + 1 > end) return undefined;
          pos += 2 + b[pos];
          break;
        case 0xc8:
          if (pos + 2 > end) return undefined;
          pos += 3 + u16(b, pos);
          break;
        case 0xc9:
          if (pos + 4 > end) return undefined;
          pos += 5 + u32(b, pos);
          break;
        case 0xcc:
        case 0xd0:
          pos += 1;
          break;
        case 0xcd:
        case 0xd1:
          pos += 2;
          break;
        case 0xca:
        case 0xce:
        case 0xd2:
          pos += 4;
          break;
        case 0xcb:
        case 0xcf:
        case 0xd3:
          pos += 8;
          break;
        case 0xd4: // fixext 1..16: type byte and data
          pos += 2;
          break;
        case 0xd5:
          pos += 3;
          break;
        case 0xd6:
          pos += 5;
          break;
        case 0xd7:
          pos += 9;
          break;
        case 0xd8:
          pos += 17;
          break;
        case 0xdc: // array 16
          if (pos + 2 > end) return undefined;
          children = u16(b, pos);
          pos += 2;
          break;
        case 0xdd:
          if (pos + 4 > end) return undefined;
          children = u32(b, pos);
          pos += 4;
          break;
        case 0xde: // map 16
          if (pos + 2 > end) return undefined;
          children = u16(b, pos) * 2;
          pos += 2;
          break;
        case 0xdf:
          if (pos + 4 > end) return undefined;
          children = u32(b, pos) * 2;
          pos += 4;
          break;
        default:
          return undefined; // 0xc1, never used: the decoder refuses it
      }
    }
    if (children >= 0) {
      if (++containers > maxContainers) {
        return { kind: 'elements', message: `more than ${maxContainers} maps and arrays in one frame` };
      }
      // A container announcing more values than the cap allows is refused before they are read.
      if (elements + children > maxElements) return tooMany(maxElements);
      if (depth + 1 > maxDepth) return { kind: 'depth', message: `nested deeper than ${maxDepth} levels` };
      if (children > 0) remaining[++depth] = children;
    }
  }
  return undefined;
}

let stack = new Float64Array(MAX_DEPTH + 2);

function u16(b: Uint8Array, p: number): number {
  return (b[p] << 8) | b[p + 1];
}

function u32(b: Uint8Array, p: number): number {
  return b[p] * 0x1000000 + ((b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]);
}

function tooMany(max: number): ScanProblem {
  return { kind: 'elements', message: `more than ${max} values in one frame` };
}
