/**
 * Which instances to kill when an app scales down: instances not yet running first, then as
 * GROUP_BY constraints ask (so the remaining ones stay evenly spread, Marathon's
 * `Constraints.selectInstancesToKill`), then by `killSelection` (YOUNGEST_FIRST: the latest started).
 */
import { type Constraint, fieldValue, type PlacedInstance } from '../../../sdk/placement/index.js';
import type { KillSelection } from '../model/index.js';

export interface RunningInstance extends PlacedInstance {
  id: string;
  startedAtMs: number;
  /** Running (false: staging/starting/unreachable, killed first). */
  running?: boolean;
}

/** Ids of `count` instances to kill (fewer only when there are fewer instances). */
export function selectInstancesToKill(
  instances: readonly RunningInstance[],
  count: number,
  opts: { killSelection: KillSelection; constraints?: readonly Constraint[] },
): string[] {
  if (count <= 0) return [];
  if (count >= instances.length) return instances.map((i) => i.id);
  const chosen: string[] = [];
  const remaining = new Map(instances.map((i) => [i.id, i]));
  const byAge = (a: RunningInstance, b: RunningInstance) =>
    opts.killSelection === 'YOUNGEST_FIRST'
      ? b.startedAtMs - a.startedAtMs || a.id.localeCompare(b.id)
      : a.startedAtMs - b.startedAtMs || a.id.localeCompare(b.id);
  for (const i of [...instances].filter((x) => x.running === false).sort(byAge)) {
    if (chosen.length >= count) break;
    chosen.push(i.id);
    remaining.delete(i.id);
  }
  const groupBys = (opts.constraints ?? []).filter((c) => c.operator === 'GROUP_BY');
  while (chosen.length < count && groupBys.length > 0) {
    // From the largest group of the most uneven GROUP_BY field, the instance that goes first by age.
    let best: RunningInstance | undefined;
    let bestSpread = 0;
    for (const c of groupBys) {
      const groups = new Map<string | undefined, RunningInstance[]>();
      for (const i of remaining.values()) {
        const k = fieldValue(c.field, i);
        const g = groups.get(k) ?? [];
        g.push(i);
        groups.set(k, g);
      }
      const sizes = [...groups.values()].map((g) => g.length);
      const spread = Math.max(...sizes) - Math.min(...sizes);
      if (spread > bestSpread) {
        bestSpread = spread;
        const largest = [...groups.values()].filter((g) => g.length === Math.max(...sizes)).flat();
        best = largest.sort(byAge)[0];
      }
    }
    if (!best) break;
    chosen.push(best.id);
    remaining.delete(best.id);
  }
  for (const i of [...remaining.values()].sort(byAge)) {
    if (chosen.length >= count) break;
    chosen.push(i.id);
  }
  return chosen;
}
