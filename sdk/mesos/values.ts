/**
 * Small conversions between Mesos's JSON conventions and Agora's: `{value}` ids, status uuids as
 * base64 bytes, DurationInfo nanoseconds, dotted IPv4 as Mesos's uint32, and dropping absent fields.
 */

/** `{"value": id}`. */
export function mid(value: string): { value: string } {
  return { value };
}

/** The same object without its undefined fields (so that a strict schema sees only what is there). */
export function compact<T extends Record<string, unknown>>(o: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out as T;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A status update's uuid as Mesos sends it: raw bytes in base64. Agora's agents make canonical
 * UUIDs, sent as their 16 bytes (as Mesos's own); any other token as its UTF-8 bytes.
 */
export function uuidToBase64(uuid: string): string {
  if (UUID_RE.test(uuid)) return Buffer.from(uuid.replace(/-/g, ''), 'hex').toString('base64');
  return Buffer.from(uuid, 'utf8').toString('base64');
}

/** The reverse of {@link uuidToBase64}: 16 bytes are a canonical UUID, other lengths UTF-8 text. */
export function uuidFromBase64(b64: string): string {
  const bytes = Buffer.from(b64, 'base64');
  if (bytes.length === 16) {
    const h = bytes.toString('hex');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }
  return bytes.toString('utf8');
}

/** Whether `s` is base64 as protobuf's JSON writes bytes (standard or URL-safe alphabet, padding optional). */
export function isBase64(s: string): boolean {
  return /^[A-Za-z0-9+/_-]*={0,2}$/.test(s);
}

/** DurationInfo `{nanoseconds}` (a number, or an int64 written as a string) as seconds. */
export function durationSeconds(d: { nanoseconds: number | string }): number {
  return Number(d.nanoseconds) / 1e9;
}

/** Seconds as DurationInfo. */
export function durationOf(seconds: number): { nanoseconds: number } {
  return { nanoseconds: Math.round(seconds * 1e9) };
}

/**
 * A dotted IPv4 address as MasterInfo.ip: Mesos stores the address's network-order bytes read as a
 * little-endian uint32 (127.0.0.1 → 16777343). 0 for anything else (IPv6, a name).
 */
export function ipv4ToUint32(ip: string): number {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (!m) return 0;
  const b = m.slice(1).map(Number);
  if (b.some((x) => x > 255)) return 0;
  return (b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)) >>> 0;
}

/** The reverse of {@link ipv4ToUint32}. */
export function uint32ToIpv4(n: number): string {
  return [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, (n >>> 24) & 255].join('.');
}

/**
 * The value with every object field whose value is `null` removed, at any depth (up to `maxDepth`):
 * Mesos's JSON parser takes `null` as an unset field, and client libraries send many of them
 * (`"id": null, "role": null`). Arrays keep their items (a null item stays, and is refused). A
 * `__proto__` key (JSON.parse makes it an own field) is dropped.
 */
export function dropNulls(value: unknown, maxDepth = 64): unknown {
  if (maxDepth <= 0 || typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map((v) => dropNulls(v, maxDepth - 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    // `__proto__` is no Mesos field; assigning it would set the copy's prototype.
    if (v !== null && k !== '__proto__') out[k] = dropNulls(v, maxDepth - 1);
  }
  return out;
}
