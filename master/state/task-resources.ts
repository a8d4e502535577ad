/**
 * One `Resources` value per distinct resource list of tasks (a cluster's tasks come in a few
 * shapes: the tasks of one app or job ask for the same), and of agents (a cluster's machines too). A new leader rebuilding 50,000 tasks from
 * re-registrations built, validated and kept 50,000 copies of a handful of values; `Resources` is
 * immutable, so tasks of one shape share one. Lists of plain scalar and plain range entries are
 * shared (the key says everything such an entry holds: agents with ports share their total, and
 * the allocator matches agents of one shape by identity); lists with sets are built as before.
 * Bounded: the cache starts over when full.
 */
import { type TaskRecord, TaskState } from '../../sdk/protocol/types.js';
import { DEFAULT_ROLE, type Resource, Resources } from '../../sdk/resources/resources.js';
import { unreadableReason } from './records.js';

/** Distinct lists kept at once. */
export const MAX_SHARED_TASK_RESOURCES = 4096;

/** Ranges an entry may hold and still be shared (an agent's ports, a task's few). */
const MAX_SHARED_RANGES = 64;

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

/** A key naming the whole list when every entry is a plain scalar or plain ranges, else undefined. */
function keyOf(list: readonly Resource[]): string | undefined {
  let key = '';
  for (const r of list) {
    if (typeof r.name !== 'string' || r.set !== undefined) return undefined;
    const role = r.role ?? DEFAULT_ROLE;
    if (typeof role !== 'string') return undefined;
    // Length-prefixed: one key for one list whatever its names hold (an invalid list, refused by
    // Resources.from and never kept, cannot take the key of a valid one).
    key += `${r.name.length}:${r.name}${role.length}:${role}`;
    if (r.type === 'SCALAR' && r.ranges === undefined) {
      const value = r.scalar?.value;
      if (typeof value !== 'number') return undefined;
      key += `${value};`;
    } else if (r.type === 'RANGES' && r.scalar === undefined) {
      // Ports: an agent's total, and the ports its tasks hold (tasks of one shape placed alike).
      // Long lists (unusual, and bounded only by the validation that follows) are built as before.
      const range = r.ranges?.range;
      if (!Array.isArray(range) || range.length > MAX_SHARED_RANGES) return undefined;
      key += '[';
      for (const x of range) {
        if (typeof x?.begin !== 'number' || typeof x.end !== 'number') return undefined;
        key += `${x.begin}-${x.end},`;
      }
      key += '];';
    } else return undefined;
  }
  return key;
}

/**
 * Resource lists themselves, shared by tasks of one shape (beside the `Resources` values above).
 * A new leader keeps every re-registered task's `TaskInfo` as decoded: 50,000 copies of a handful
 * of lists (an array, its entries, their scalars and the names' strings: about a quarter of what a
 * task keeps), all copied by the young generation's scavenges during the burst. Only a list whose
 * every entry is a plain scalar with no field beyond name, type, scalar.value and role is shared,
 * keyed by everything it holds (an absent role apart from '*'), so the shared list is equal to
 * the one it replaces as data; it is frozen, so that code editing a task's list in place would fail
 * loudly instead of editing every task of the shape.
 */
const sharedLists = new Map<string, readonly Resource[]>();

/** `list`, or a frozen list equal to it as data that earlier tasks of the same shape share. */
export function sharedTaskList(list: Resource[]): Resource[] {
  const key = exactKeyOf(list);
  if (key === undefined) return list;
  const have = sharedLists.get(key);
  if (have) return have as Resource[];
  const copy = Object.freeze(
    list.map((r) => {
      const c: Resource = { name: r.name, type: r.type };
      if (r.scalar !== undefined) c.scalar = Object.freeze({ value: r.scalar.value });
      if (r.role !== undefined) c.role = r.role;
      return Object.freeze(c);
    }),
  );
  if (sharedLists.size >= MAX_SHARED_TASK_RESOURCES) sharedLists.clear();
  sharedLists.set(key, copy);
  return copy as Resource[];
}

/** Everything a list of plain scalar entries holds, in order; undefined for any other list. */
function exactKeyOf(list: readonly Resource[]): string | undefined {
  if (!Array.isArray(list)) return undefined;
  let key = '';
  for (const r of list) {
    if (typeof r !== 'object' || r === null || Object.getPrototypeOf(r) !== Object.prototype) return undefined;
    let fields = 0;
    for (const k in r) {
      if (k !== 'name' && k !== 'type' && k !== 'scalar' && k !== 'role') return undefined;
      if ((r as unknown as Record<string, unknown>)[k] === undefined) return undefined;
      fields++;
    }
    const { name, type, scalar, role } = r;
    if (typeof name !== 'string' || type !== 'SCALAR') return undefined;
    if (typeof scalar !== 'object' || scalar === null || Object.getPrototypeOf(scalar) !== Object.prototype) {
      return undefined;
    }
    let scalarFields = 0;
    for (const k in scalar) {
      if (k !== 'value') return undefined;
      scalarFields++;
    }
    if (scalarFields !== 1 || typeof scalar.value !== 'number') return undefined;
    if (role !== undefined && typeof role !== 'string') return undefined;
    if (fields !== (role === undefined ? 3 : 4)) return undefined;
    // Length-prefixed, role absent ('-') apart from any role; the value as JSON writes it back.
    const value = Object.is(scalar.value, -0) ? '-0' : String(scalar.value);
    key += `${name.length}:${name}${role === undefined ? '-' : `${role.length}:${role}`}${value};`;
  }
  return key;
}

/** The task states and status sources as constants: one string each, not one per decoded status. */
const CANONICAL = new Map<string, string>(
  [...Object.values(TaskState), 'SOURCE_MASTER', 'SOURCE_AGENT', 'SOURCE_EXECUTOR'].map((v) => [v, v]),
);

/**
 * A task an agent reports on re-registration, about to be kept: its resource list shared with the
 * tasks of its shape (`sharedTaskList`), and the strings it repeats (the agent's id, its task id
 * as name, its state and source) replaced by equal ones held once. Equal strings are the same
 * value to every reader; what changes is only how many copies the heap holds and copies.
 */
export function shareRecovered(agentId: string, rec: TaskRecord): void {
  const task = rec.task;
  task.resources = sharedTaskList(task.resources);
  if (task.agent_id === agentId) task.agent_id = agentId;
  if (task.name === task.task_id) task.name = task.task_id;
  rec.state = (CANONICAL.get(rec.state) as TaskState | undefined) ?? rec.state;
  const st = rec.status;
  if (!st) return;
  if (st.task_id === task.task_id) st.task_id = task.task_id;
  if (st.agent_id === agentId) st.agent_id = agentId;
  st.state = (CANONICAL.get(st.state) as TaskState | undefined) ?? st.state;
  if (st.source !== undefined) st.source = (CANONICAL.get(st.source) as typeof st.source | undefined) ?? st.source;
}
