/**
 * One `Resources` value per distinct resource list of tasks (a cluster's tasks come in a few
 * shapes: the tasks of one app or job ask for the same), and of agents (a cluster's machines too). A new leader rebuilding 50,000 tasks from
 * re-registrations built, validated and kept 50,000 copies of a handful of values; `Resources` is
 * immutable, so tasks of one shape share one. Only lists of plain scalar entries are shared (the
 * key says everything such an entry holds); any other list is built as before. Bounded: the cache
 * starts over when full.
 */
import { DEFAULT_ROLE, type Resource, Resources } from '../../sdk/resources/resources.js';
import { unreadableReason } from './records.js';

/** Distinct lists kept at once. */
export const MAX_SHARED_TASK_RESOURCES = 4096;

const shared = new Map<string, Resources>();

/** `Resources.from(list)`, shared with every earlier task of the same scalar list. */
export function taskResources(list: readonly Resource[]): Resources {
  const key = keyOf(list);
  if (key === undefined) return Resources.from(list);
  const have = shared.get(key);
  if (have) return have;
  const built = Resources.from(list); // validated here, once per distinct list
  if (shared.size >= MAX_SHARED_TASK_RESOURCES) shared.clear();
  shared.set(key, built);
  return built;
}

/** Shared values found to read back from JSON (each is checked once). */
const readable = new WeakSet<Resources>();

/**
 * Why `resources` would not read back equal from JSON (records.ts `unreadableReason` over its
 * entries, at path `resources`), or undefined: checked once per value (agents of one shape share it).
 */
export function unreadableResources(resources: Resources): string | undefined {
  if (readable.has(resources)) return undefined;
  const why = unreadableReason(resources.toList(), 'resources');
  if (why === undefined) readable.add(resources);
  return why;
}

/** A key naming the whole list when every entry is a plain scalar, else undefined. */
function keyOf(list: readonly Resource[]): string | undefined {
  let key = '';
  for (const r of list) {
    if (r.type !== 'SCALAR' || r.ranges !== undefined || r.set !== undefined) return undefined;
    const value = r.scalar?.value;
    if (typeof value !== 'number' || typeof r.name !== 'string') return undefined;
    const role = r.role ?? DEFAULT_ROLE;
    if (typeof role !== 'string') return undefined;
    // Length-prefixed: one key for one list whatever its names hold (an invalid list, refused by
    // Resources.from and never kept, cannot take the key of a valid one).
    key += `${r.name.length}:${r.name}${role.length}:${role}${value};`;
  }
  return key;
}
