/**
 * Resource arithmetic in Mesos's model: named scalars (cpus, mem, disk, gpus), ranges (ports) and
 * sets, each optionally reserved for a role. A `Resources` value is immutable; every operation
 * returns a new one.
 *
 * Scalars are kept to three decimals, as Mesos does, so that adding and subtracting 0.1 a thousand
 * times comes back to exactly where it started instead of drifting.
 */

import { ResourcesInvalid } from '../errors.js';
import { DEFAULT_ROLE } from './roles.js';
import { type Range, type Resource, resourceProblem } from './schema.js';

export { DEFAULT_ROLE } from './roles.js';
export { MAX_PORT, MAX_RANGES, MAX_SCALAR, type Range, type Resource, type ResourceType } from './schema.js';

/** Rounds to Mesos's fixed point of three decimals. */
export function fixed(value: number): number {
  return Math.round(value * 1000) / 1000;
}

function roleOf(r: Resource): string {
  return r.role ?? DEFAULT_ROLE;
}

function keyOf(r: Resource): string {
  return `${r.name}\u0000${roleOf(r)}`;
}

/** Normalises a list of ranges: sorted, merged where they touch or overlap. */
export function mergeRanges(ranges: readonly Range[]): Range[] {
  const sorted = ranges.filter((r) => r.end >= r.begin).sort((a, b) => a.begin - b.begin);
  const out: Range[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r.begin <= last.end + 1) {
      if (r.end > last.end) last.end = r.end;
    } else {
      out.push({ begin: r.begin, end: r.end });
    }
  }
  return out;
}

/** a − b over normalised range lists. */
export function subtractRanges(a: readonly Range[], b: readonly Range[]): Range[] {
  let out = mergeRanges(a);
  for (const cut of mergeRanges(b)) {
    const next: Range[] = [];
    for (const r of out) {
      if (cut.end < r.begin || cut.begin > r.end) {
        next.push(r);
        continue;
      }
      if (cut.begin > r.begin) next.push({ begin: r.begin, end: cut.begin - 1 });
      if (cut.end < r.end) next.push({ begin: cut.end + 1, end: r.end });
    }
    out = next;
  }
  return out;
}

/** Whether every value of `inner` lies inside `outer`. */
export function rangesContain(outer: readonly Range[], inner: readonly Range[]): boolean {
  const o = mergeRanges(outer);
  for (const r of mergeRanges(inner)) {
    if (!o.some((x) => x.begin <= r.begin && r.end <= x.end)) return false;
  }
  return true;
}

function rangeCount(ranges: readonly Range[]): number {
  let n = 0;
  for (const r of ranges) n += r.end - r.begin + 1;
  return n;
}

function cloneResource(r: Resource): Resource {
  const c: Resource = { name: r.name, type: r.type };
  if (r.role !== undefined && r.role !== DEFAULT_ROLE) c.role = r.role;
  if (r.scalar) c.scalar = { value: r.scalar.value };
  if (r.ranges) c.ranges = { range: r.ranges.range.map((x) => ({ begin: x.begin, end: x.end })) };
  if (r.set) c.set = { item: [...r.set.item] };
  return c;
}

function isEmptyResource(r: Resource): boolean {
  switch (r.type) {
    case 'SCALAR':
      return !r.scalar || r.scalar.value <= 0;
    case 'RANGES':
      return !r.ranges || r.ranges.range.length === 0;
    case 'SET':
      return !r.set || r.set.item.length === 0;
  }
}

/** A resource entry or text that does not parse or is out of bounds (`AGORA_RESOURCES_INVALID`). */
export class ResourceError extends ResourcesInvalid {}

/** An immutable bag of resources, one entry per (name, role). */
export class Resources {
  private readonly byKey: ReadonlyMap<string, Resource>;

  private constructor(byKey: Map<string, Resource>) {
    this.byKey = byKey;
  }

  static empty(): Resources {
    return new Resources(new Map());
  }

  /** Builds from wire entries, merging duplicates and validating types. */
  static from(list: readonly Resource[] | Resources | undefined): Resources {
    if (list instanceof Resources) return list;
    const acc = new Map<string, Resource>();
    for (const r of list ?? []) {
      validateResource(r);
      addInto(acc, r);
    }
    return new Resources(acc);
  }

  /** Parses Mesos's text form: `cpus:2;mem:1024;ports:[31000-32000];cpus(analytics):4;zones:{a,b}`. */
  static parse(text: string): Resources {
    return Resources.from(parseResourceList(text));
  }

  /** Scalar shorthand: `Resources.scalars({cpus: 1, mem: 128})`. */
  static scalars(values: Record<string, number>, role?: string): Resources {
    return Resources.from(
      Object.entries(values).map(([name, value]) => ({
        name,
        type: 'SCALAR' as const,
        scalar: { value },
        ...(role && role !== DEFAULT_ROLE ? { role } : {}),
      })),
    );
  }

  toList(): Resource[] {
    return [...this.byKey.values()].map(cloneResource);
  }

  toJSON(): Resource[] {
    return this.toList();
  }

  isEmpty(): boolean {
    return this.byKey.size === 0;
  }

  /** Sum of a scalar over all roles (or just `role`). */
  scalar(name: string, role?: string): number {
    let sum = 0;
    for (const r of this.byKey.values()) {
      if (r.name === name && r.type === 'SCALAR' && (role === undefined || roleOf(r) === role)) {
        sum += r.scalar?.value ?? 0;
      }
    }
    return fixed(sum);
  }

  /** All ranges of a resource, over all roles (or just `role`). */
  ranges(name: string, role?: string): Range[] {
    const out: Range[] = [];
    for (const r of this.byKey.values()) {
      if (r.name === name && r.type === 'RANGES' && (role === undefined || roleOf(r) === role)) {
        out.push(...(r.ranges?.range ?? []));
      }
    }
    return mergeRanges(out);
  }

  /** Scalar totals by name, over every role: the figures DRF shares are computed from. */
  scalarTotals(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const r of this.byKey.values()) {
      if (r.type === 'SCALAR') out[r.name] = fixed((out[r.name] ?? 0) + (r.scalar?.value ?? 0));
    }
    return out;
  }

  roles(): string[] {
    return [...new Set([...this.byKey.values()].map(roleOf))];
  }

  /**
   * Hands each stored entry to `fn`, allocating nothing (the allocator's read-only walk: `fn` must
   * not change the entry).
   */
  forEachEntry(fn: (r: Readonly<Resource>) => unknown): void {
    for (const r of this.byKey.values()) fn(r);
  }

  /** Only the entries that pass `pred`. */
  filter(pred: (r: Resource) => boolean): Resources {
    const m = new Map<string, Resource>();
    for (const [k, r] of this.byKey) if (pred(r)) m.set(k, cloneResource(r));
    return new Resources(m);
  }

  /** Entries reserved for `role` (or unreserved, for `*`). */
  reservedFor(role: string): Resources {
    return this.filter((r) => roleOf(r) === role);
  }

  unreserved(): Resources {
    return this.reservedFor(DEFAULT_ROLE);
  }

  /** Entries usable by a framework in `role`: unreserved plus those reserved for it. */
  allocatableTo(role: string): Resources {
    return this.filter((r) => roleOf(r) === DEFAULT_ROLE || roleOf(r) === role);
  }

  /** The same resources, all moved to `role` (used by RESERVE; `*` unreserves). */
  withRole(role: string): Resources {
    const acc = new Map<string, Resource>();
    for (const r of this.byKey.values()) addInto(acc, { ...cloneResource(r), role });
    return new Resources(acc);
  }

  /**
   * this + other. Stored entries are never changed in place, so the result shares every entry only
   * one side has, and makes a new one only where both have the name and role (ranges joined by one
   * linear merge of the two normalised lists): copying both sides entry by entry and sorting their
   * ranges again cost a master booking 10,000 offers about a third of its garbage.
   */
  plus(other: Resources | readonly Resource[]): Resources {
    const acc = copyOf(this.byKey);
    Resources.from(other).byKey.forEach((r, key) => {
      if (isEmptyResource(r)) return;
      const have = acc.get(key);
      acc.set(key, have === undefined ? r : joined(have, r));
    });
    return new Resources(acc);
  }

  /**
   * this − other. Entries go no lower than empty; callers check `contains` first when an
   * underflow would be a mistake.
   */
  minus(other: Resources | readonly Resource[]): Resources {
    // As in `plus`: entries the subtraction does not touch are shared, ranges cut in one pass.
    const acc = copyOf(this.byKey);
    Resources.from(other).byKey.forEach((r, key) => {
      const have = acc.get(key);
      if (!have) return;
      const c = derived(have);
      if (have.type === 'SCALAR') {
        c.scalar = { value: fixed((have.scalar?.value ?? 0) - (r.scalar?.value ?? 0)) };
      } else if (have.type === 'RANGES') {
        c.ranges = { range: rangesWithout(have.ranges?.range ?? [], r.ranges?.range ?? []) };
      } else {
        const drop = new Set(r.set?.item ?? []);
        c.set = { item: (have.set?.item ?? []).filter((i) => !drop.has(i)) };
      }
      if (isEmptyResource(c)) acc.delete(key);
      else acc.set(key, c);
    });
    return new Resources(acc);
  }

  /** Whether `other` fits inside this, entry by entry (same name and role). */
  contains(other: Resources | readonly Resource[]): boolean {
    for (const r of Resources.from(other).byKey.values()) {
      const have = this.byKey.get(keyOf(r));
      if (!have) {
        if (isEmptyResource(r)) continue;
        return false;
      }
      if (have.type !== r.type) return false;
      if (r.type === 'SCALAR') {
        if (fixed(have.scalar?.value ?? 0) < fixed(r.scalar?.value ?? 0)) return false;
      } else if (r.type === 'RANGES') {
        if (!rangesContain(have.ranges?.range ?? [], r.ranges?.range ?? [])) return false;
      } else {
        const items = new Set(have.set?.item ?? []);
        if (!(r.set?.item ?? []).every((i) => items.has(i))) return false;
      }
    }
    return true;
  }

  equals(other: Resources): boolean {
    return this.contains(other) && other.contains(this);
  }

  /** Mesos's text form, entries sorted by name then role: `cpus:2;mem:1024;ports:[31000-32000]`. */
  toString(): string {
    const entries = [...this.byKey.values()].sort(
      (a, b) => a.name.localeCompare(b.name) || roleOf(a).localeCompare(roleOf(b)),
    );
    return entries.map(formatResource).join(';');
  }
}

/**
 * A copy of an entry map, by `forEach`: `new Map(map)` walks the iterator protocol, an array per
 * entry (about 1 MB per 10,000-offer booking).
 */
function copyOf(byKey: ReadonlyMap<string, Resource>): Map<string, Resource> {
  const acc = new Map<string, Resource>();
  byKey.forEach((r, key) => {
    acc.set(key, r);
  });
  return acc;
}

/**
 * A new entry with `have`'s name, role and contents, in `cloneResource`'s key order, for one field
 * to be replaced (the nested values it keeps are shared: stored entries are never changed in place).
 */
function derived(have: Resource): Resource {
  const c: Resource = { name: have.name, type: have.type };
  if (have.role !== undefined && have.role !== DEFAULT_ROLE) c.role = have.role;
  if (have.scalar) c.scalar = have.scalar;
  if (have.ranges) c.ranges = have.ranges;
  if (have.set) c.set = have.set;
  return c;
}

/** Two stored entries of one name and role added up (as `addInto` adds to a copy of `have`). */
function joined(have: Resource, r: Resource): Resource {
  if (have.type !== r.type) {
    throw new ResourceError(`resource '${r.name}' is given as both ${have.type} and ${r.type}`);
  }
  const c = derived(have);
  if (have.type === 'SCALAR') {
    c.scalar = { value: fixed((have.scalar?.value ?? 0) + (r.scalar?.value ?? 0)) };
  } else if (have.type === 'RANGES') {
    c.ranges = { range: rangesJoined(have.ranges?.range ?? [], r.ranges?.range ?? []) };
  } else {
    c.set = { item: [...new Set([...(have.set?.item ?? []), ...(r.set?.item ?? [])])] };
  }
  return c;
}

/**
 * a ∪ b for two normalised lists (sorted, merged where they touch: every stored entry's ranges are),
 * normalised, in one linear merge: the same list `mergeRanges([...a, ...b])` gives.
 */
function rangesJoined(a: readonly Range[], b: readonly Range[]): Range[] {
  const out: Range[] = [];
  let i = 0;
  let j = 0;
  let last: Range | undefined;
  while (i < a.length || j < b.length) {
    const r = j >= b.length || (i < a.length && a[i].begin <= b[j].begin) ? a[i++] : b[j++];
    if (last !== undefined && r.begin <= last.end + 1) {
      if (r.end > last.end) last.end = r.end;
    } else {
      last = { begin: r.begin, end: r.end };
      out.push(last);
    }
  }
  return out;
}

/**
 * a − b for two normalised lists, normalised, in one pass over both: the same list
 * `subtractRanges(a, b)` gives (the difference of two integer sets as maximal ranges).
 */
function rangesWithout(a: readonly Range[], b: readonly Range[]): Range[] {
  const out: Range[] = [];
  let j = 0;
  for (let i = 0; i < a.length; i++) {
    let begin = a[i].begin;
    const end = a[i].end;
    while (j < b.length && b[j].end < begin) j++;
    for (let k = j; k < b.length && b[k].begin <= end && begin <= end; k++) {
      const cut = b[k];
      if (cut.begin > begin) out.push({ begin, end: cut.begin - 1 });
      begin = cut.end + 1;
    }
    if (begin <= end) out.push({ begin, end });
  }
  return out;
}

function addInto(acc: Map<string, Resource>, r: Resource): void {
  if (isEmptyResource(r)) return;
  const key = keyOf(r);
  const have = acc.get(key);
  if (!have) {
    const c = cloneResource(r);
    if (c.type === 'SCALAR' && c.scalar) c.scalar.value = fixed(c.scalar.value);
    if (c.type === 'RANGES' && c.ranges) c.ranges.range = mergeRanges(c.ranges.range);
    if (c.type === 'SET' && c.set) c.set.item = [...new Set(c.set.item)];
    acc.set(key, c);
    return;
  }
  if (have.type !== r.type) {
    throw new ResourceError(`resource '${r.name}' is given as both ${have.type} and ${r.type}`);
  }
  if (have.type === 'SCALAR') {
    have.scalar = { value: fixed((have.scalar?.value ?? 0) + (r.scalar?.value ?? 0)) };
  } else if (have.type === 'RANGES') {
    have.ranges = { range: mergeRanges([...(have.ranges?.range ?? []), ...(r.ranges?.range ?? [])]) };
  } else {
    have.set = { item: [...new Set([...(have.set?.item ?? []), ...(r.set?.item ?? [])])] };
  }
}

/** Throws `ResourceError` unless `r` passes the wire rule (`resourceProblem`, sdk/resources/schema.ts). */
function validateResource(r: Resource): void {
  const why = resourceProblem(r);
  if (why !== undefined) throw new ResourceError(why);
}

/** Parses `name(role):value` entries separated by `;`. */
export function parseResourceList(text: string): Resource[] {
  const out: Resource[] = [];
  for (const raw of text.split(';')) {
    const part = raw.trim();
    if (!part) continue;
    const colon = part.indexOf(':');
    if (colon < 0) throw new ResourceError(`'${part}' is not of the form name:value (e.g. cpus:2)`);
    const head = part.slice(0, colon).trim();
    const value = part.slice(colon + 1).trim();
    const m = /^([^()\s]+)(?:\(([^()]*)\))?$/.exec(head);
    if (!m) throw new ResourceError(`'${head}' is not a resource name, optionally with (role)`);
    const name = m[1];
    const role = m[2] === undefined || m[2] === '' ? undefined : m[2];
    let r: Resource;
    if (value.startsWith('[')) {
      if (!value.endsWith(']')) throw new ResourceError(`ranges for '${name}' must end with ]`);
      const range: Range[] = [];
      for (const piece of value.slice(1, -1).split(',')) {
        const p = piece.trim();
        if (!p) continue;
        const rm = /^(\d+)\s*-\s*(\d+)$/.exec(p);
        if (!rm) throw new ResourceError(`'${p}' in '${name}' is not a range like 31000-32000`);
        range.push({ begin: Number(rm[1]), end: Number(rm[2]) });
      }
      r = { name, type: 'RANGES', ranges: { range } };
    } else if (value.startsWith('{')) {
      if (!value.endsWith('}')) throw new ResourceError(`set for '${name}' must end with }`);
      const item = value
        .slice(1, -1)
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      r = { name, type: 'SET', set: { item } };
    } else {
      if (!/^[0-9]*\.?[0-9]+$/.test(value)) {
        throw new ResourceError(`'${value}' is not a number for '${name}'`);
      }
      r = { name, type: 'SCALAR', scalar: { value: Number(value) } };
    }
    if (role && role !== DEFAULT_ROLE) r.role = role;
    validateResource(r);
    out.push(r);
  }
  return out;
}

function formatResource(r: Resource): string {
  const head = roleOf(r) === DEFAULT_ROLE ? r.name : `${r.name}(${roleOf(r)})`;
  switch (r.type) {
    case 'SCALAR':
      return `${head}:${fixed(r.scalar?.value ?? 0)}`;
    case 'RANGES':
      return `${head}:[${(r.ranges?.range ?? []).map((x) => `${x.begin}-${x.end}`).join(',')}]`;
    case 'SET':
      return `${head}:{${(r.set?.item ?? []).join(',')}}`;
  }
}

export function countPorts(r: Resources): number {
  return rangeCount(r.ranges('ports'));
}

/** Mesos's object form of resources: `{cpus: 2, mem: 1024, disk: 0, gpus: 0, ports: "[31000-32000]"}`. */
export function resourcesObject(r: Resources): Record<string, number | string> {
  const out: Record<string, number | string> = { cpus: 0, mem: 0, disk: 0, gpus: 0 };
  Object.assign(out, r.scalarTotals());
  const ports = r.ranges('ports');
  if (ports.length > 0) out.ports = `[${ports.map((p) => `${p.begin}-${p.end}`).join(', ')}]`;
  return out;
}
