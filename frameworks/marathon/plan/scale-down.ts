/**
 * Which instances to kill when an app scales down (Marathon's `ScalingProposition` with
 * `Constraints.selectInstancesToKill`):
 *
 * 1. instances not running yet (staging, starting, unreachable) go first;
 * 2. then, for GROUP_BY constraints, instances whose removal keeps each GROUP_BY field's spread
 *    even: repeatedly, from the largest groups of the most uneven field, the first instance whose
 *    removal leaves every field's spread (largest group − smallest, emptied groups counting as 0)
 *    at most 1 or smaller than before;
 * 3. the rest by `killSelection` (YOUNGEST_FIRST: the latest started first; OLDEST_FIRST: the
 *    earliest), which also orders the candidates within steps 1 and 2.
 */
import { type Constraint, fieldValue, type PlacedInstance } from 'agora/sdk';
import type { KillSelection } from '../model/index.js';

export interface RunningInstance extends PlacedInstance {
  id: string;
  startedAtMs: number;
  /** Running (false: staging/starting/unreachable, killed first). */
  running?: boolean;
}

/** One GROUP_BY field's groups of instance ids. */
class Distribution {
  constructor(readonly groups: readonly (readonly RunningInstance[])[]) {}

  private sizes(without: ReadonlySet<string>): number[] {
    return this.groups.map((g) => g.filter((i) => !without.has(i.id)).length);
  }

  difference(without: ReadonlySet<string> = new Set()): number {
    const s = this.sizes(without);
    return s.length === 0 ? 0 : Math.max(...s) - Math.min(...s);
  }

  isMoreEvenWithout(selected: ReadonlySet<string>): boolean {
    const after = this.difference(selected);
    return after <= 1 || this.difference() > after;
  }

  /** Instances of the largest groups (none when all groups are the same size). */
  candidates(without: ReadonlySet<string>): RunningInstance[] {
    const s = this.sizes(without);
    const max = Math.max(...s);
    if (s.every((n) => n === max)) return [];
    return this.groups.filter((_, k) => s[k] === max).flatMap((g) => g.filter((i) => !without.has(i.id)));
  }
}

/** Ids of `count` instances to kill (fewer only when there are fewer instances). */
export function selectInstancesToKill(
  instances: readonly RunningInstance[],
  count: number,
  opts: { killSelection: KillSelection; constraints?: readonly Constraint[] },
): string[] {
  if (count <= 0) return [];
  const byAge = (a: RunningInstance, b: RunningInstance) =>
    (opts.killSelection === 'YOUNGEST_FIRST' ? b.startedAtMs - a.startedAtMs : a.startedAtMs - b.startedAtMs) ||
    a.id.localeCompare(b.id);
  const ordered = [...instances].sort(byAge);
  if (count >= ordered.length) return ordered.map((i) => i.id);
  const chosen = new Set<string>();
  for (const i of ordered) {
    if (chosen.size >= count) break;
    if (i.running === false) chosen.add(i.id);
  }
  const running = ordered.filter((i) => !chosen.has(i.id));
  const distributions = (opts.constraints ?? [])
    .filter((c) => c.operator === 'GROUP_BY')
    .map((c) => {
      const groups = new Map<string | undefined, RunningInstance[]>();
      for (const i of running) {
        const k = fieldValue(c.field, i);
        const g = groups.get(k) ?? [];
        g.push(i);
        groups.set(k, g);
      }
      return new Distribution([...groups.values()]);
    });
  const byConstraint = new Set<string>();
  while (distributions.length > 0 && chosen.size < count) {
    const tried = [...distributions]
      .sort((a, b) => b.difference(byConstraint) - a.difference(byConstraint))
      .flatMap((d) => d.candidates(byConstraint).sort(byAge))
      .concat(running.filter((i) => !byConstraint.has(i.id)));
    const pick = tried.find((t) => {
      const next = new Set(byConstraint).add(t.id);
      return distributions.every((d) => d.isMoreEvenWithout(next));
    });
    if (!pick) break;
    byConstraint.add(pick.id);
    chosen.add(pick.id);
  }
  for (const i of ordered) {
    if (chosen.size >= count) break;
    chosen.add(i.id);
  }
  return ordered
    .filter((i) => chosen.has(i.id))
    .sort((a, b) => rank(a) - rank(b))
    .map((i) => i.id);

  function rank(i: RunningInstance): number {
    // The order they were chosen in: not running, then by constraint, then by age.
    return i.running === false ? 0 : byConstraint.has(i.id) ? 1 : 2;
  }
}
