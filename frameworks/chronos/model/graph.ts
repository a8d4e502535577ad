/**
 * The dependency graph (Chronos `parents`, Metronome `dependencies`) and its durable bookkeeping.
 *
 * A child runs once every one of its parents has finished well since the child's last run: succeeded,
 * or failed with `softError` (a soft failure counts as done). The marks live in a plain, serialisable
 * {@link DependencyState} the service persists with each change, so a new leader knows which parents
 * already finished: Chronos kept this in memory and lost it on failover.
 *
 * All functions are pure: they return new values and never change their arguments.
 */

export interface GraphJob {
  name: string;
  parents: readonly string[];
}

/** Per child, the parents that finished since the child last ran, and when. */
export interface DependencyState {
  marks: Record<string, Record<string, number>>;
}

export function emptyDependencyState(): DependencyState {
  return { marks: {} };
}

/** Children of every job, in name order. */
export function childrenOf(jobs: readonly GraphJob[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const j of jobs) out.set(j.name, out.get(j.name) ?? []);
  for (const j of jobs) for (const p of j.parents) out.set(p, [...(out.get(p) ?? []), j.name]);
  for (const [k, v] of out) out.set(k, [...new Set(v)].sort());
  return out;
}

/** A cycle (as a path `a → b → … → a`) or null. Iterative, so a deep chain does not overflow the stack. */
export function findCycle(jobs: readonly GraphJob[]): string[] | null {
  const parents = new Map(jobs.map((j) => [j.name, [...j.parents]]));
  const colour = new Map<string, 1 | 2>(); // 1 on the path, 2 done
  for (const start of [...parents.keys()].sort()) {
    if (colour.has(start)) continue;
    const stack: { name: string; next: number }[] = [{ name: start, next: 0 }];
    colour.set(start, 1);
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      const ps = parents.get(top.name) ?? [];
      if (top.next >= ps.length) {
        colour.set(top.name, 2);
        stack.pop();
        continue;
      }
      const p = ps[top.next++];
      const c = colour.get(p);
      if (c === 1) {
        const i = stack.findIndex((f) => f.name === p);
        // Edges go parent → child; the stack walks child → parent, so reverse it.
        return [...stack.slice(i).map((f) => f.name), p].reverse();
      }
      if (c === undefined && parents.has(p)) {
        colour.set(p, 1);
        stack.push({ name: p, next: 0 });
      }
    }
  }
  return null;
}

/**
 * Whether `job` may be added to (or replace its namesake in) `jobs`: every parent must exist and the
 * graph must stay acyclic. Returns the reason it may not, or null.
 */
export function dependencyProblem(jobs: readonly GraphJob[], job: GraphJob): string | null {
  const names = new Set(jobs.map((j) => j.name));
  const missing = job.parents.filter((p) => !names.has(p) && p !== job.name);
  if (missing.length > 0) return `unknown parent job(s): ${missing.slice(0, 10).join(', ')}`;
  if (job.parents.includes(job.name)) return 'a job cannot be its own parent';
  const next = [...jobs.filter((j) => j.name !== job.name), job];
  const cycle = findCycle(next);
  return cycle ? `dependency cycle: ${cycle.join(' → ')}` : null;
}

/** A child that became ready: run it, with the time its last parent finished as the trigger. */
export interface ReadyChild {
  name: string;
  triggeredAt: number;
}

/**
 * A parent finished at `at`. `done` is true for a success, and for a failure of a `softError` parent.
 * Children whose parents are now all done are returned and their marks cleared (the service records
 * their runs in the same durable write as the new state).
 */
export function recordParentFinished(
  state: DependencyState,
  jobs: readonly GraphJob[],
  parent: string,
  done: boolean,
  at: number,
): { state: DependencyState; ready: ReadyChild[] } {
  if (!done) return { state, ready: [] };
  const marks = { ...state.marks };
  const ready: ReadyChild[] = [];
  for (const child of jobs.filter((j) => j.parents.includes(parent)).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const m = { ...(marks[child.name] ?? {}), [parent]: at };
    if (child.parents.every((p) => m[p] !== undefined)) {
      ready.push({ name: child.name, triggeredAt: at });
      delete marks[child.name];
    } else marks[child.name] = m;
  }
  return { state: { marks }, ready };
}

/** The child ran by other means (manual run): its marks start over. */
export function clearMarks(state: DependencyState, child: string): DependencyState {
  if (!(child in state.marks)) return state;
  const marks = { ...state.marks };
  delete marks[child];
  return { marks };
}

/** Which parents a child still waits for. */
export function waitingFor(state: DependencyState, child: GraphJob): string[] {
  const m = state.marks[child.name] ?? {};
  return child.parents.filter((p) => m[p] === undefined);
}

/** How a deleted job's children change. */
export type ChildChange<S> =
  | { name: string; parents: string[] }
  | { name: string; parents: []; inheritSchedule: S; scheduleTimeZone?: string };

/**
 * Deleting a job re-attaches its children as Chronos does:
 * - deleting a dependent job: each child's parents become its other parents plus the deleted job's
 *   parents (the chain closes over the gap);
 * - deleting a scheduled job: a child whose only parent it was becomes a scheduled job with the
 *   deleted job's schedule (Chronos turns every child into one; a child with other parents here
 *   just loses this parent, so its other dependencies are not dropped silently).
 */
export function childrenAfterDelete<S>(
  jobs: readonly (GraphJob & { schedule: S | null })[],
  name: string,
): ChildChange<S>[] {
  const gone = jobs.find((j) => j.name === name);
  if (!gone) return [];
  const out: ChildChange<S>[] = [];
  for (const child of jobs.filter((j) => j.parents.includes(name))) {
    const others = child.parents.filter((p) => p !== name);
    if (gone.parents.length > 0) out.push({ name: child.name, parents: [...new Set([...others, ...gone.parents])] });
    else if (others.length === 0 && gone.schedule !== null)
      out.push({ name: child.name, parents: [], inheritSchedule: gone.schedule });
    else out.push({ name: child.name, parents: others });
  }
  return out;
}

/** Drops a deleted job from the marks (as a child and as a parent). */
export function forgetJob(state: DependencyState, name: string): DependencyState {
  const marks: DependencyState['marks'] = {};
  for (const [child, m] of Object.entries(state.marks)) {
    if (child === name) continue;
    const { [name]: _gone, ...rest } = m;
    marks[child] = rest;
  }
  return { marks };
}

/** `GET graph/dot`: Graphviz, vertices numbered in name order, labelled with job names (jgrapht's DOTExporter shape). */
export function renderDot(jobs: readonly GraphJob[]): string {
  const names = [...new Set(jobs.map((j) => j.name))].sort();
  const id = new Map(names.map((n, i) => [n, i + 1]));
  const lines = ['digraph G {'];
  for (const n of names) lines.push(`  ${id.get(n)} [ label="${n.replace(/["\\]/g, '\\$&')}" ];`);
  for (const j of [...jobs].sort((a, b) => (a.name < b.name ? -1 : 1)))
    for (const p of j.parents) if (id.has(p)) lines.push(`  ${id.get(p)} -> ${id.get(j.name)};`);
  lines.push('}');
  return lines.join('\n') + '\n';
}

/**
 * `GET graph/csv`: Chronos's lines `node,<name>,<last state>,<current state>` (last: success |
 * failure | fresh; current: idle | queued | `N running`) then `link,<parent>,<child>`.
 */
export function renderCsv(
  jobs: readonly GraphJob[],
  lastState: (name: string) => string,
  currentState: (name: string) => string,
): string {
  const sorted = [...jobs].sort((a, b) => (a.name < b.name ? -1 : 1));
  const lines = sorted.map((j) => `node,${j.name},${lastState(j.name)},${currentState(j.name)}`);
  for (const j of sorted) for (const p of j.parents) lines.push(`link,${p},${j.name}`);
  return lines.map((l) => l + '\n').join('');
}
