/**
 * Non-scalar resources (port ranges, sets) in the cycle: each agent's free entries per reservation
 * role, computed once per distinct content (a homogeneous cluster has a handful of port layouts, not
 * one per agent) and shared as immutable values; hashing and exact comparison of entry lists; and
 * range containment that allocates nothing.
 */
import { DEFAULT_ROLE, type Range, type Resource, subtractRanges } from '../../sdk/resources/resources.js';
import type { Cycle, FreeNonScalars } from './state.js';

/** FNV-style mixing of a number (truncated to 32 bits) into a 32-bit hash. */
export function mix(h: number, v: number): number {
  return Math.imul(h ^ (Math.round(v) | 0), 0x01000193) >>> 0;
}

export function textHash(cy: Cycle, text: string): number {
  let h = cy.textHashes.get(text);
  if (h === undefined) {
    h = 0x811c9dc5;
    for (let i = 0; i < text.length; i++) h = mix(h, text.charCodeAt(i));
    cy.textHashes.set(text, h);
  }
  return h;
}

export function hashNonScalars(cy: Cycle, h: number, list: readonly Resource[]): number {
  for (let i = 0; i < list.length; i++) {
    const r = list[i];
    h = mix(h, textHash(cy, r.name));
    if (r.role !== undefined) h = mix(h, textHash(cy, r.role));
    const ranges = r.ranges?.range;
    if (ranges) for (let k = 0; k < ranges.length; k++) h = mix(mix(h, ranges[k].begin), ranges[k].end);
    const items = r.set?.item;
    if (items) for (let k = 0; k < items.length; k++) h = mix(h, textHash(cy, items[k]));
  }
  return h;
}

/**
 * A hash of entry lists' numbers only (ranges, item counts): cheap, and an exact comparison decides
 * between lists that share it.
 */
function contentHash(list: readonly Resource[], h: number): number {
  for (let i = 0; i < list.length; i++) {
    const r = list[i];
    const ranges = r.ranges?.range;
    if (ranges) for (let k = 0; k < ranges.length; k++) h = mix(mix(h, ranges[k].begin), ranges[k].end);
    const items = r.set?.item;
    if (items) h = mix(h, items.length);
  }
  return h;
}

/** The hash of a free list, kept by identity (lists are shared between agents and never mutated). */
export function listHash(cy: Cycle, list: readonly Resource[]): number {
  let h = cy.nsHashes.get(list);
  if (h === undefined) {
    h = hashNonScalars(cy, 0x811c9dc5, list);
    cy.nsHashes.set(list, h);
  }
  return h;
}

/** Entry lists equal entry by entry (names, types, roles, ranges, items, in order). */
export function sameNonScalars(a: readonly Resource[], b: readonly Resource[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!sameEntry(a[i], b[i])) return false;
  return true;
}

/** One non-scalar entry equal to another: name, type, role, ranges and items (in order). */
export function sameEntry(x: Readonly<Resource>, y: Readonly<Resource>): boolean {
  if (x === y) return true;
  if (x.name !== y.name || x.type !== y.type || (x.role ?? DEFAULT_ROLE) !== (y.role ?? DEFAULT_ROLE)) return false;
  const xr = x.ranges?.range ?? NO_RANGES;
  const yr = y.ranges?.range ?? NO_RANGES;
  if (xr.length !== yr.length) return false;
  for (let k = 0; k < xr.length; k++) if (xr[k].begin !== yr[k].begin || xr[k].end !== yr[k].end) return false;
  const xs = x.set?.item ?? NO_ITEMS;
  const ys = y.set?.item ?? NO_ITEMS;
  if (xs.length !== ys.length) return false;
  for (let k = 0; k < xs.length; k++) if (xs[k] !== ys[k]) return false;
  return true;
}

const NO_RANGES: Range[] = [];
const NO_ITEMS: string[] = [];
const NO_ENTRIES: Resource[] = [];

/**
 * Free non-scalar entries of agent `a` for one reservation role (`*`: unreserved): total − used.
 * Agents with the same entries share one result (never mutated), found by hash and confirmed by an
 * exact comparison, so the range arithmetic runs once per distinct layout.
 */
export function freeNonScalars(cy: Cycle, a: number, role: string): Resource[] {
  const total = cy.nsTotal[a];
  if (!total) return NO_ENTRIES;
  if (role === DEFAULT_ROLE) {
    // Asked for several times per agent (filters, the offer): once per cycle.
    const known = cy.nsFreeU[a];
    if (known) return known;
    const free = freeNonScalarsOf(cy, a, total, role);
    cy.nsFreeU[a] = free;
    return free;
  }
  return freeNonScalarsOf(cy, a, total, role);
}

function freeNonScalarsOf(cy: Cycle, a: number, total: readonly Resource[], role: string): Resource[] {
  const used = cy.nsUsed[a] ?? NO_ENTRIES;
  // Neighbouring agents usually share a layout: try the last one found before hashing.
  const last = cy.nsLast;
  if (last && last.role === role && sameNonScalars(last.total, total) && sameNonScalars(last.used, used)) {
    return last.free;
  }
  const h = contentHash(used, contentHash(total, total.length));
  const known = cy.nsFree.get(h);
  if (known) {
    for (const k of known) {
      if (k.role === role && sameNonScalars(k.total, total) && sameNonScalars(k.used, used)) {
        cy.nsLast = k;
        return k.free;
      }
    }
  }
  const free = computeFree(total, used, role);
  const entry: FreeNonScalars = { role, total, used, free };
  cy.nsLast = entry;
  if (known) known.push(entry);
  else cy.nsFree.set(h, [entry]);
  return free;
}

function computeFree(total: readonly Resource[], used: readonly Resource[], role: string): Resource[] {
  const out: Resource[] = [];
  for (const t of total) {
    if ((t.role ?? DEFAULT_ROLE) !== role) continue;
    if (used.length === 0) {
      out.push(t); // nothing of it is in use: the stored entry as it is (never mutated)
      continue;
    }
    const same = used.filter((u) => u.name === t.name && (u.role ?? DEFAULT_ROLE) === role);
    const entry: Resource = { name: t.name, type: t.type };
    if (role !== DEFAULT_ROLE) entry.role = role;
    if (t.type === 'RANGES') {
      const range = subtractRanges(
        t.ranges?.range ?? [],
        same.flatMap((u) => u.ranges?.range ?? []),
      );
      if (range.length === 0) continue;
      entry.ranges = { range };
    } else if (t.type === 'SET') {
      const drop = new Set(same.flatMap((u) => u.set?.item ?? []));
      const item = (t.set?.item ?? []).filter((i) => !drop.has(i));
      if (item.length === 0) continue;
      entry.set = { item };
    } else {
      continue;
    }
    out.push(entry);
  }
  return out;
}

/**
 * Whether every range of `inner` lies inside `outer`, which must be sorted and merged (no two
 * ranges touching). `inner` may be in any order. Allocates nothing: a binary search per range.
 */
export function rangesWithin(outer: readonly Range[], inner: readonly Range[]): boolean {
  for (let i = 0; i < inner.length; i++) {
    const r = inner[i];
    if (r.end < r.begin) continue;
    let lo = 0;
    let hi = outer.length - 1;
    let at = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (outer[mid].begin <= r.begin) {
        at = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    if (at < 0 || outer[at].end < r.end) return false;
  }
  return true;
}
