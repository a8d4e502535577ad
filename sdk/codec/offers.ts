/**
 * The OFFERS encoder: MessagePack written by hand for the one message a master sends most of (a
 * cycle at 10,000 agents sends 10,000 offers, about 5 MB). The generic encoder (msgpackr with
 * `skipValues`) takes its slow path for every map and builds a key array per object; here maps
 * are walked with `for…in`, strings short and ASCII are copied byte by byte, and every object or
 * array an offer holds (its resource list, its attributes) is encoded once and its bytes spliced
 * into every offer that shares it: booking hands all the offers of one distinct value one list.
 *
 * The bytes mean what the generic encoder's mean (any MessagePack reader decodes the same value):
 * the same rules (a field set to `undefined` is left out, `undefined` in an array is nil, integers
 * of 32 bits or less as integers, any other number as a float64), plain data only. Anything else
 * (a bigint, a class instance, a Buffer) makes {@link encodeOffers} return undefined, and the
 * caller falls back to the generic encoder. One difference, in text that is not well-formed: a lone
 * UTF-16 surrogate is written as U+FFFD (valid UTF-8, as Buffer writes it), where msgpackr writes
 * the surrogate's own three bytes (invalid UTF-8) in strings under 64 units.
 *
 * Objects and arrays held by an offer are treated as immutable once encoded (the master builds a
 * fresh list per cycle and replaces, never edits, an agent's attributes): their bytes are kept by
 * identity in a WeakMap, so they go when the value goes.
 */

/** Thrown (and caught in encodeOffers) for a value the hand-written path does not take. */
class NotPlain extends Error {}
const NOT_PLAIN = new NotPlain('not plain data');

const SLAB_BYTES = 1024 * 1024;

/** Frames are cut from a slab (as msgpackr does): each returned frame is a view no later frame overwrites. */
let buf: Buffer = Buffer.allocUnsafeSlow(SLAB_BYTES);
let pos = 0;
/** Where the frame being written starts in `buf`. */
let start = 0;

/** Encoded bytes of the objects and arrays offers hold, by identity. */
let chunks = new WeakMap<object, Buffer>();
/** Chunks shorter than this are re-encoded rather than kept (an empty attributes map is one byte). */
const MIN_CHUNK = 8;

/** For tests: how many offer parts (lists, attribute maps) were encoded rather than spliced from a kept copy. */
export const offersEncoderStats = { partsEncoded: 0, partsSpliced: 0 };

/** For tests: forgets every kept part. */
export function resetOffersEncoder(): void {
  chunks = new WeakMap();
  lastPart = undefined;
  lastPartBytes = undefined;
  offersEncoderStats.partsEncoded = 0;
  offersEncoderStats.partsSpliced = 0;
}

/** Makes room for `n` more bytes, moving the frame written so far to a new slab if needed. */
function ensure(n: number): void {
  if (pos + n <= buf.length) return;
  const written = pos - start;
  const next = Buffer.allocUnsafeSlow(Math.max(SLAB_BYTES, 2 * (written + n)));
  buf.copy(next, 0, start, pos);
  buf = next;
  start = 0;
  pos = written;
}

/**
 * One OFFERS message as MessagePack, or undefined when it holds something other than plain data
 * (the caller then uses the generic encoder).
 */
export function encodeOffers(message: object): Buffer | undefined {
  return encodeWith(writeEnvelope, message);
}

/** Writes one message into the slab with `write`; undefined (and nothing kept) when it is not plain data. */
function encodeWith(write: (message: object) => void, message: object): Buffer | undefined {
  // Leave room for a frame's first bytes; a full slab is replaced rather than grown from a sliver.
  if (buf.length - pos < 4096) {
    buf = Buffer.allocUnsafeSlow(SLAB_BYTES);
    pos = 0;
  }
  start = pos;
  try {
    write(message);
  } catch (e) {
    pos = start;
    if (e === NOT_PLAIN) return undefined;
    throw e;
  }
  const frame = buf.subarray(start, pos);
  start = pos;
  return frame;
}

/**
 * Any message as MessagePack by the same hand-written rules (no splicing), or undefined when it
 * holds something other than plain data. The status updates a master sends in bursts (a failover
 * answers 50,000 reconciliation questions) are small maps the generic encoder takes its slow path
 * for (`skipValues` builds a key array per object).
 */
export function encodePlain(message: object): Buffer | undefined {
  return encodeWith(writeValue, message);
}

function isPlainObject(v: object): boolean {
  const p = Object.getPrototypeOf(v);
  return p === Object.prototype || p === null;
}

/** `{type: 'OFFERS', offers: {offers: [...]}}`: every field generic except the offers, each written by writeOffer. */
function writeEnvelope(m: object): void {
  if (!isPlainObject(m)) throw NOT_PLAIN;
  const r = m as Record<string, unknown>;
  writeMapHeader(definedKeys(r));
  for (const k in r) {
    const v = r[k];
    if (v === undefined) continue;
    writeString(k);
    if (k === 'offers' && typeof v === 'object' && v !== null && !Array.isArray(v) && isPlainObject(v)) {
      const body = v as Record<string, unknown>;
      writeMapHeader(definedKeys(body));
      for (const bk in body) {
        const bv = body[bk];
        if (bv === undefined) continue;
        writeString(bk);
        if (bk === 'offers' && Array.isArray(bv)) {
          writeArrayHeader(bv.length);
          for (let i = 0; i < bv.length; i++) writeOffer(bv[i]);
        } else {
          writeValue(bv);
        }
      }
    } else {
      writeValue(v);
    }
  }
}

/**
 * Keys of offers already met, with their MessagePack bytes: an offer's seven keys are the same
 * strings in every offer (property names are interned), so each is found by identity (at its
 * position in the last offer first) and its bytes copied, instead of being re-encoded unit by unit.
 * Bounded: keys beyond the first {@link MAX_KEYS} distinct ones are written the ordinary way.
 */
const keyNames: string[] = [];
const keyBytes: Uint8Array[] = [];
const MAX_KEYS = 32;

/** Writes an offer's key: its kept bytes when known (`hint` is the position to try first). */
function writeKey(k: string, hint: number): void {
  let j = hint < keyNames.length && keyNames[hint] === k ? hint : keyNames.indexOf(k);
  if (j < 0) {
    if (keyNames.length >= MAX_KEYS || k.length > 64) {
      writeString(k);
      return;
    }
    const from = pos - start; // from the frame's start: `ensure` may move the frame
    writeString(k);
    keyNames.push(k);
    keyBytes.push(Uint8Array.prototype.slice.call(buf, start + from, pos));
    return;
  }
  const b = keyBytes[j];
  const n = b.length;
  ensure(n);
  for (j = 0; j < n; j++) buf[pos + j] = b[j];
  pos += n;
}

/** The last part spliced and its bytes: consecutive offers of one value share their resource list. */
let lastPart: object | undefined;
let lastPartBytes: Buffer | undefined;

/** One offer: keys copied from their kept bytes, strings written directly, objects and arrays spliced from their kept bytes. */
function writeOffer(o: unknown): void {
  if (typeof o !== 'object' || o === null || Array.isArray(o) || !isPlainObject(o)) {
    writeValue(o);
    return;
  }
  const r = o as Record<string, unknown>;
  // One walk: the map header's byte is reserved and written once the fields are counted (moved
  // out in the rare map of 16 fields or more).
  ensure(1);
  const header = pos - start; // from the frame's start: `ensure` may move the frame
  pos++;
  let n = 0;
  for (const k in r) {
    const v = r[k];
    if (v === undefined) continue;
    writeKey(k, n);
    n++;
    if (typeof v === 'string') writeString(v);
    else if (typeof v === 'object' && v !== null) writePart(v);
    else writeValue(v);
  }
  if (n < 16) {
    buf[start + header] = 0x80 | n;
    return;
  }
  // map16 or map32: the fields move out by two or four bytes.
  const extra = n < 0x10000 ? 2 : 4;
  ensure(extra);
  const h = start + header;
  buf.copyWithin(h + 1 + extra, h + 1, pos);
  pos += extra;
  if (extra === 2) {
    buf[h] = 0xde;
    buf[h + 1] = n >> 8;
    buf[h + 2] = n & 0xff;
  } else {
    buf[h] = 0xdf;
    buf.writeUInt32BE(n, h + 1);
  }
}

/** True for a plain object with no enumerable key (an agent's empty attributes): written as one byte. */
function isEmptyPlain(v: object): boolean {
  for (const _ in v) return false;
  return !Array.isArray(v) && isPlainObject(v);
}

/** An object or array an offer holds: its kept bytes, or encoded now (and kept when worth it). */
function writePart(v: object): void {
  let kept = v === lastPart ? lastPartBytes : chunks.get(v);
  if (kept !== undefined) {
    offersEncoderStats.partsSpliced++;
    lastPart = v;
    lastPartBytes = kept;
    const n = kept.length;
    ensure(n);
    if (n < 64) {
      for (let i = 0; i < n; i++) buf[pos + i] = kept[i];
    } else {
      buf.set(kept, pos);
    }
    pos += n;
    return;
  }
  offersEncoderStats.partsEncoded++;
  if (isEmptyPlain(v)) {
    ensure(1);
    buf[pos++] = 0x80;
    return;
  }
  const from = pos - start;
  writeValue(v);
  // `ensure` may have moved the frame to a new slab: offsets are from the frame's start.
  const n = pos - start - from;
  if (n >= MIN_CHUNK) {
    kept = Buffer.from(buf.subarray(start + from, pos));
    chunks.set(v, kept);
    lastPart = v;
    lastPartBytes = kept;
  }
}

function definedKeys(r: Record<string, unknown>): number {
  let n = 0;
  for (const k in r) if (r[k] !== undefined) n++;
  return n;
}

/** Any plain value, by the generic encoder's rules. */
function writeValue(v: unknown): void {
  switch (typeof v) {
    case 'string':
      writeString(v);
      return;
    case 'number':
      writeNumber(v);
      return;
    case 'boolean':
      ensure(1);
      buf[pos++] = v ? 0xc3 : 0xc2;
      return;
    case 'undefined':
      // Only reached inside an array (map fields set to undefined are skipped): nil.
      ensure(1);
      buf[pos++] = 0xc0;
      return;
    case 'object': {
      if (v === null) {
        ensure(1);
        buf[pos++] = 0xc0;
        return;
      }
      if (Array.isArray(v)) {
        writeArrayHeader(v.length);
        for (let i = 0; i < v.length; i++) writeValue(v[i]);
        return;
      }
      if (!isPlainObject(v)) throw NOT_PLAIN;
      const r = v as Record<string, unknown>;
      writeMapHeader(definedKeys(r));
      for (const k in r) {
        const x = r[k];
        if (x === undefined) continue;
        writeString(k);
        writeValue(x);
      }
      return;
    }
    default:
      throw NOT_PLAIN;
  }
}

function writeNumber(v: number): void {
  ensure(9);
  if (v >>> 0 === v) {
    if (v < 0x80) {
      buf[pos++] = v;
    } else if (v < 0x100) {
      buf[pos++] = 0xcc;
      buf[pos++] = v;
    } else if (v < 0x10000) {
      buf[pos++] = 0xcd;
      buf[pos++] = v >> 8;
      buf[pos++] = v & 0xff;
    } else {
      buf[pos++] = 0xce;
      buf.writeUInt32BE(v, pos);
      pos += 4;
    }
  } else if (v >> 0 === v) {
    if (v >= -0x20) {
      buf[pos++] = 0x100 + v;
    } else if (v >= -0x80) {
      buf[pos++] = 0xd0;
      buf[pos++] = v + 0x100;
    } else if (v >= -0x8000) {
      buf[pos++] = 0xd1;
      buf.writeInt16BE(v, pos);
      pos += 2;
    } else {
      buf[pos++] = 0xd2;
      buf.writeInt32BE(v, pos);
      pos += 4;
    }
  } else {
    buf[pos++] = 0xcb;
    buf.writeDoubleBE(v, pos);
    pos += 8;
  }
}

/** A string with the shortest header for its UTF-8 length; short ASCII strings copied unit by unit. */
function writeString(s: string): void {
  const len = s.length;
  ensure(5 + 3 * len);
  if (len < 0x100) {
    const h = len < 32 ? 1 : 2;
    const at = pos + h;
    let i = 0;
    for (; i < len; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) break;
      buf[at + i] = c;
    }
    if (i === len) {
      if (h === 1) {
        buf[pos] = 0xa0 | len;
      } else {
        buf[pos] = 0xd9;
        buf[pos + 1] = len;
      }
      pos = at + len;
      return;
    }
  }
  const n = Buffer.byteLength(s, 'utf8');
  if (n < 32) {
    buf[pos++] = 0xa0 | n;
  } else if (n < 0x100) {
    buf[pos++] = 0xd9;
    buf[pos++] = n;
  } else if (n < 0x10000) {
    buf[pos++] = 0xda;
    buf[pos++] = n >> 8;
    buf[pos++] = n & 0xff;
  } else {
    buf[pos++] = 0xdb;
    buf.writeUInt32BE(n, pos);
    pos += 4;
  }
  pos += buf.write(s, pos, n, 'utf8');
}

function writeArrayHeader(n: number): void {
  ensure(5);
  if (n < 16) {
    buf[pos++] = 0x90 | n;
  } else if (n < 0x10000) {
    buf[pos++] = 0xdc;
    buf[pos++] = n >> 8;
    buf[pos++] = n & 0xff;
  } else {
    buf[pos++] = 0xdd;
    buf.writeUInt32BE(n, pos);
    pos += 4;
  }
}

function writeMapHeader(n: number): void {
  ensure(5);
  if (n < 16) {
    buf[pos++] = 0x80 | n;
  } else if (n < 0x10000) {
    buf[pos++] = 0xde;
    buf[pos++] = n >> 8;
    buf[pos++] = n & 0xff;
  } else {
    buf[pos++] = 0xdf;
    buf.writeUInt32BE(n, pos);
    pos += 4;
  }
}
