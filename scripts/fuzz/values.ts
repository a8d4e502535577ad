/**
 * Hostile building blocks shared by the HTTP and WebSocket generators: strings that look like
 * paths, ids and role names, numbers at the edges of doubles, and JSON-like trees.
 */
import fc from 'fast-check';

/** Strings an id, a role or a path segment should be checked against. */
export const NASTY_STRINGS = [
  '',
  '.',
  '..',
  '/',
  '../',
  '../..',
  '../etc',
  '../../../../etc/passwd',
  'a/b',
  '/etc/passwd',
  '\0',
  'a\0b',
  ' ',
  'a b',
  '\n',
  'a\r\nb',
  '\t',
  '*',
  '-x',
  '~',
  '\\',
  '%',
  '%00',
  '%25',
  '%2e%2e',
  '%2F',
  '%2e%2e%2f%2e%2e',
  'meta',
  'sandboxes',
  'store',
  'latest',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'S0',
  'F0',
  'web',
  'web/api',
  'a/../b',
  '\u202e',
  '\ud800',
  'é',
  '😀',
  'x'.repeat(257),
  'x'.repeat(1025),
  'r'.repeat(100_000),
];

export const nastyString: fc.Arbitrary<string> = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(...NASTY_STRINGS) },
  { weight: 2, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.stringMatching(/^[a-z][a-z0-9_-]{0,12}$/) },
);

/** Numbers a quantity, a weight or a timeout should be checked against. */
export const NASTY_NUMBERS = [
  0,
  -0,
  -1,
  1,
  0.5,
  0.001,
  1e-300,
  5e-324,
  1e306,
  1e307,
  1e308,
  -1e308,
  1.7976931348623157e308,
  2 ** 31,
  2 ** 31 - 1,
  2 ** 32,
  2 ** 53,
  2 ** 53 + 2,
  -(2 ** 53),
  1e21,
  Number.MAX_SAFE_INTEGER,
  Number.MIN_SAFE_INTEGER,
];

export const nastyNumber: fc.Arbitrary<number> = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(...NASTY_NUMBERS) },
  { weight: 2, arbitrary: fc.double() },
  { weight: 2, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.double({ min: 0, max: 8, noNaN: true }) },
);

/** A number that msgpack can carry but JSON cannot. */
export const nonFinite: fc.Arbitrary<number> = fc.constantFrom(Number.NaN, Infinity, -Infinity);

export const nastyScalar: fc.Arbitrary<unknown> = fc.oneof(nastyString, nastyNumber, fc.boolean(), fc.constant(null));

/** JSON-like trees, small and shrinkable. */
export const jsonish: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    nastyScalar,
    fc.array(tie('node'), { maxLength: 5 }),
    fc.dictionary(nastyString, tie('node'), { maxKeys: 5 }),
  ),
})).node;

/**
 * A large or deep value described rather than stored, so that inputs print small and shrink:
 * `expand` builds it just before sending.
 */
export type Bulk =
  | { bulk: 'deep'; shape: 'array' | 'map'; depth: number }
  | { bulk: 'many'; shape: 'emptyMaps' | 'zeros' | 'strings'; count: number }
  | { bulk: 'longString'; length: number };

export const bulk: fc.Arbitrary<Bulk> = fc.oneof(
  fc.record({
    bulk: fc.constant('deep' as const),
    shape: fc.constantFrom('array' as const, 'map' as const),
    depth: fc.oneof(fc.integer({ min: 1, max: 64 }), fc.constantFrom(1000, 5000, 20_000)),
  }),
  fc.record({
    bulk: fc.constant('many' as const),
    shape: fc.constantFrom('emptyMaps' as const, 'zeros' as const, 'strings' as const),
    count: fc.oneof(fc.integer({ min: 0, max: 2000 }), fc.constantFrom(100_001, 500_000)),
  }),
  fc.record({
    bulk: fc.constant('longString' as const),
    length: fc.oneof(fc.integer({ min: 0, max: 5000 }), fc.constantFrom(70_000, 1_100_000)),
  }),
);

export function isBulk(v: unknown): v is Bulk {
  return typeof v === 'object' && v !== null && typeof (v as { bulk?: unknown }).bulk === 'string';
}

/** Builds the value a Bulk describes. */
export function expand(b: Bulk): unknown {
  switch (b.bulk) {
    case 'deep': {
      let v: unknown = b.shape === 'array' ? [] : {};
      for (let i = 0; i < b.depth; i++) v = b.shape === 'array' ? [v] : { a: v };
      return v;
    }
    case 'many':
      return Array.from({ length: b.count }, (_, i) =>
        b.shape === 'emptyMaps' ? {} : b.shape === 'zeros' ? 0 : `s${i}`,
      );
    case 'longString':
      return 'x'.repeat(b.length);
  }
}

/** JSON text of a bulk value, built as text (a 20,000-deep value would overflow JSON.stringify). */
export function bulkJson(b: Bulk): string {
  if (b.bulk === 'deep') {
    return b.shape === 'array'
      ? '['.repeat(b.depth) + ']'.repeat(b.depth)
      : '{"a":'.repeat(b.depth) + '{}' + '}'.repeat(b.depth);
  }
  return JSON.stringify(expand(b));
}

/** Mesos's role name rule, written here independently as the oracle. */
export function validRoleName(name: unknown): boolean {
  if (typeof name !== 'string' || name === '') return false;
  if (name === '*') return true;
  if (name.length > 256 || name.startsWith('/') || name.endsWith('/')) return false;
  return name
    .split('/')
    .every(
      (part) =>
        part !== '' &&
        part !== '.' &&
        part !== '..' &&
        !part.startsWith('-') &&
        !/[\s\\*]/.test(part) &&
        ![...part].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f),
    );
}

/** Mesos's id rule (task, framework, agent ids): non-empty, no '/', no NUL or control, not '.' or '..'. */
export function validId(id: unknown): boolean {
  if (typeof id !== 'string' || id === '' || id === '.' || id === '..') return false;
  if (id.length > 1024) return false;
  return ![...id].some(
    (c) => c === '/' || c === '\\' || c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f || /\s/.test(c),
  );
}

/** Largest scalar quantity a sane cluster has (Mesos bounds scalars; 1e15 is far above any machine). */
export const MAX_SANE_QUANTITY = 1e15;

/** Percent-encodes like encodeURIComponent, but never throws (a lone surrogate becomes U+FFFD). */
export function pct(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9\-_.!~*'()]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Percent-encodes only what an HTTP client refuses to put in a request target (controls, space, non-ASCII). */
export function pctUnsafe(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8'))
    out += b > 0x20 && b < 0x7f ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  return out;
}

/** Text of any decoded value, never throwing (an object may carry its own `toString` key). */
export function text(v: unknown): string {
  if (typeof v === 'string') return v;
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return Object.prototype.toString.call(v);
  }
}
