/**
 * Resources in Mesos's JSON form, as TypeBox schemas (the wire type and its validation from one
 * definition), with the bounds every entry must respect. `Resources.from`/`parse` apply the same
 * rule through {@link resourceProblem}, so a value refused on the wire is refused everywhere.
 */
import { type Static, Type } from 'typebox';
import { MAX_ROLE_LENGTH, roleNameProblem } from './roles.js';

/**
 * Largest scalar accepted (cpus, mem in MB, disk in MB, gpus...): inside Mesos's own range (it keeps
 * scalars as int64 thousandths, about 9.2e15), the master's quota bound, and far enough from
 * Number.MAX_VALUE that no sum over any cluster reaches Infinity. (Three-decimal arithmetic is exact
 * up to about 9e12; above that a double rounds to whole units.)
 */
export const MAX_SCALAR = 1e15;
/** Largest value of a range bound; `ports` ranges stop at {@link MAX_PORT}. */
export const MAX_RANGE_VALUE = 0xffff_ffff;
export const MAX_PORT = 65_535;
/** Most ranges in one resource entry. */
export const MAX_RANGES = 16_384;
/** Most items in one SET entry, and their longest. */
export const MAX_SET_ITEMS = 4_096;
export const MAX_SET_ITEM_LENGTH = 256;
/** Longest resource name. */
export const MAX_RESOURCE_NAME_LENGTH = 128;
/** Most entries in one resource list. */
export const MAX_RESOURCE_ENTRIES = 1_024;

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

export const RangeSchema = Type.Object(
  {
    begin: Type.Integer({ minimum: 0, maximum: MAX_RANGE_VALUE }),
    end: Type.Integer({ minimum: 0, maximum: MAX_RANGE_VALUE }),
  },
  { additionalProperties: false },
);
export type Range = Static<typeof RangeSchema>;

export const ResourceTypeSchema = Type.Union([Type.Literal('SCALAR'), Type.Literal('RANGES'), Type.Literal('SET')]);
export type ResourceType = Static<typeof ResourceTypeSchema>;

const ResourceShape = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: MAX_RESOURCE_NAME_LENGTH }),
    type: ResourceTypeSchema,
    scalar: Type.Optional(
      Type.Object({ value: Type.Number({ minimum: 0, maximum: MAX_SCALAR }) }, { additionalProperties: false }),
    ),
    ranges: Type.Optional(
      Type.Object({ range: Type.Array(RangeSchema, { maxItems: MAX_RANGES }) }, { additionalProperties: false }),
    ),
    set: Type.Optional(
      Type.Object(
        { item: Type.Array(Type.String({ maxLength: MAX_SET_ITEM_LENGTH }), { maxItems: MAX_SET_ITEMS }) },
        { additionalProperties: false },
      ),
    ),
    role: Type.Optional(Type.String({ minLength: 1, maxLength: MAX_ROLE_LENGTH })),
  },
  { additionalProperties: false },
);

/** One resource entry (`role` defaults to `*`). */
export type Resource = Static<typeof ResourceShape>;

/**
 * Why `r` is not a valid resource entry, or undefined. Checks everything, including what a schema
 * cannot say alone: the payload that matches `type`, ordered ranges, port bounds, the role name.
 */
export function resourceProblem(r: Resource): string | undefined {
  if (r === null || typeof r !== 'object') return 'a resource must be an object';
  if (typeof r.name !== 'string' || r.name.length > MAX_RESOURCE_NAME_LENGTH || !NAME_RE.test(r.name)) {
    return `invalid resource name ${JSON.stringify(r.name)?.slice(0, 80)}`;
  }
  if (r.role !== undefined) {
    const why = roleNameProblem(r.role);
    if (why) return `invalid role on resource '${r.name}': ${why}`;
  }
  switch (r.type) {
    case 'SCALAR': {
      const v = r.scalar?.value;
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > MAX_SCALAR) {
        return `scalar resource '${r.name}' needs a value in [0, ${MAX_SCALAR}], got ${JSON.stringify(v)}`;
      }
      return undefined;
    }
    case 'RANGES': {
      const list = r.ranges?.range;
      if (!Array.isArray(list)) return `ranges resource '${r.name}' needs ranges.range`;
      if (list.length > MAX_RANGES) return `ranges resource '${r.name}' has more than ${MAX_RANGES} ranges`;
      const max = r.name === 'ports' ? MAX_PORT : MAX_RANGE_VALUE;
      for (const x of list) {
        if (!Number.isInteger(x?.begin) || !Number.isInteger(x?.end) || x.begin < 0 || x.end < x.begin || x.end > max) {
          return `invalid range ${JSON.stringify(x)} in '${r.name}' (need 0 <= begin <= end <= ${max})`;
        }
      }
      return undefined;
    }
    case 'SET': {
      const items = r.set?.item;
      if (!Array.isArray(items) || !items.every((i) => typeof i === 'string' && i.length <= MAX_SET_ITEM_LENGTH)) {
        return `set resource '${r.name}' needs set.item as strings of at most ${MAX_SET_ITEM_LENGTH} characters`;
      }
      if (items.length > MAX_SET_ITEMS) return `set resource '${r.name}' has more than ${MAX_SET_ITEMS} items`;
      return undefined;
    }
    default:
      return `resource '${r.name}' has unknown type ${JSON.stringify(r.type)?.slice(0, 40)}`;
  }
}

/** Why a list is not valid (an entry, or one name and role given with two types), or undefined. */
export function resourceListProblem(list: readonly Resource[]): string | undefined {
  if (list.length > MAX_RESOURCE_ENTRIES) return `more than ${MAX_RESOURCE_ENTRIES} resource entries`;
  let types: Map<string, string> | undefined;
  for (let i = 0; i < list.length; i++) {
    const r = list[i];
    const why = resourceProblem(r);
    if (why) return `[${i}]: ${why}`;
    if (list.length > 1) {
      types ??= new Map();
      const key = `${r.name}\u0000${r.role ?? '*'}`;
      const seen = types.get(key);
      if (seen !== undefined && seen !== r.type)
        return `[${i}]: resource '${r.name}' is given as both ${seen} and ${r.type}`;
      types.set(key, r.type);
    }
  }
  return undefined;
}

/** One resource entry on the wire. */
export const ResourceSchema = Type.Refine(
  ResourceShape,
  (r) => resourceProblem(r) === undefined,
  (r) => resourceProblem(r) ?? 'invalid resource',
);

/** A resource list on the wire: bounded, each entry valid, no name and role with two types. */
export const ResourceListSchema = Type.Refine(
  Type.Array(ResourceShape, { maxItems: MAX_RESOURCE_ENTRIES }),
  (list) => resourceListProblem(list) === undefined,
  (list) => resourceListProblem(list) ?? 'invalid resources',
);
