/**
 * Marathon path ids: `/prod/db/mysql`. Segments are lower-case DNS-like labels (`a-z`, `0-9`, `-` and
 * dots between labels); `.` and `..` are allowed in relative ids and resolved against the enclosing
 * group; the last segment must not be a reserved word. A relative id (`mysql`, `../db`) inside a
 * group resolves against that group's id, as Marathon's `canonicalPath` does.
 */
import { MAX_ID_LENGTH, MAX_ID_SEGMENTS } from './limits.js';

/** One segment: DNS-like labels joined by dots, or `.`/`..` (Marathon's ID_PATH_SEGMENT_PATTERN). */
export const ID_SEGMENT_PATTERN =
  '^(([a-z0-9]|[a-z0-9][a-z0-9\\-]*[a-z0-9])\\.)*([a-z0-9]|[a-z0-9][a-z0-9\\-]*[a-z0-9])|(\\.|\\.\\.)$';
// Java's Matcher.matches() is a full match: anchor the whole alternation.
const SEGMENT_RE =
  /^(?:(?:(?:[a-z0-9]|[a-z0-9][a-z0-9-]*[a-z0-9])\.)*(?:[a-z0-9]|[a-z0-9][a-z0-9-]*[a-z0-9])|\.|\.\.)$/;

/** Words an id must not end with (they are sub-resources in the REST API). */
export const RESERVED_SEGMENTS = ['restart', 'tasks', 'versions', '.', '..'] as const;

/** A parsed path id: its segments and whether it started with `/`. */
export interface PathId {
  readonly segments: readonly string[];
  readonly absolute: boolean;
}

/** Parses `in` as Marathon does: leading/trailing slashes trimmed, empty segments dropped. */
export function parsePathId(text: string): PathId {
  const segments = text
    .replace(/^\/+|\/+$/g, '')
    .split('/')
    .filter((s) => s.length > 0);
  return { segments, absolute: text.startsWith('/') };
}

/** `/a/b` form of absolute segments; the root is `/`. */
export function formatPathId(segments: readonly string[]): string {
  return '/' + segments.join('/');
}

/** Resolves `id` (absolute or relative, with `.`/`..`) against the absolute `base`; returns the absolute id. */
export function canonicalPathId(id: string, base = '/'): string {
  const p = parsePathId(id);
  const start = p.absolute ? [] : parsePathId(base).segments.slice();
  const out = start;
  for (const s of p.segments) {
    if (s === '.') continue;
    if (s === '..') out.pop();
    else out.push(s);
  }
  return formatPathId(out);
}

/** Parent of an absolute id (`/a/b` → `/a`, `/a` → `/`). */
export function parentPathId(id: string): string {
  const segs = parsePathId(id).segments;
  return formatPathId(segs.slice(0, -1));
}

/** True when `child` is `parent` or lies below it. */
export function isUnder(child: string, parent: string): boolean {
  if (parent === '/') return true;
  return child === parent || child.startsWith(parent + '/');
}

/**
 * Marathon's messages for a bad id, in its order; empty when valid. With `base` (the enclosing
 * group's absolute id), the id, resolved against it, must be a direct child of it.
 */
export function pathIdProblems(id: string, opts: { base?: string; requireAbsolute?: boolean } = {}): string[] {
  const problems: string[] = [];
  if (id.length > MAX_ID_LENGTH) return [`must be at most ${MAX_ID_LENGTH} characters`];
  const p = parsePathId(id);
  if (p.segments.length > MAX_ID_SEGMENTS) return [`must have at most ${MAX_ID_SEGMENTS} segments`];
  if (!p.segments.every((s) => SEGMENT_RE.test(s))) {
    problems.push(`must fully match regular expression '${ID_SEGMENT_PATTERN}'`);
  }
  const last = p.segments[p.segments.length - 1];
  if (last !== undefined && (RESERVED_SEGMENTS as readonly string[]).includes(last)) {
    problems.push(`must not end with any of the following reserved keywords: ${RESERVED_SEGMENTS.join(', ')}`);
  }
  if (opts.base !== undefined) {
    const canonical = canonicalPathId(id, opts.base);
    if (parentPathId(canonical) !== opts.base) problems.push(`Identifier is not child of '${opts.base}'`);
  }
  if (opts.requireAbsolute && !p.absolute) problems.push('Path needs to be absolute');
  return problems;
}
