/**
 * How much of one offer Marathon takes: at most half of each of its scalars (cpus, mem, disk,
 * gpus), and always at least one instance, as Marathon's `max_instances_per_offer` bounds it. The
 * rest goes back with the ACCEPT, so the allocator decides again who gets it, counting what the
 * services just took. Without it, a services role offered a whole agent takes all it lacks at once
 * and can pass its weighted share for good (nothing takes a long-running instance back): beside
 * a batch role weighted 2:1, the shares went to 3:1. Chronos takes offers the same way
 * (frameworks/chronos/engine/slice.ts says why in full).
 */
import type { Resource, TaskNeed } from 'agora/sdk';

export class OfferSlice {
  private readonly cap = new Map<string, number>();
  private readonly used = new Map<string, number>();
  private tasks = 0;

  constructor(resources: readonly Resource[]) {
    for (const r of resources) {
      if (r.type !== 'SCALAR' || !r.scalar) continue;
      this.cap.set(r.name, (this.cap.get(r.name) ?? 0) + r.scalar.value / 2);
    }
  }

  /** Whether one more task with this need stays within half the offer (the first always does). */
  admits(need: TaskNeed): boolean {
    if (this.tasks === 0) return true;
    for (const [name, v] of needScalars(need)) {
      if ((this.used.get(name) ?? 0) + v > (this.cap.get(name) ?? 0) + 1e-9) return false;
    }
    return true;
  }

  /** Counts a task placed on the offer. */
  add(need: TaskNeed): void {
    this.tasks++;
    for (const [name, v] of needScalars(need)) this.used.set(name, (this.used.get(name) ?? 0) + v);
  }
}

function needScalars(need: TaskNeed): [string, number][] {
  const out: [string, number][] = [];
  if (need.cpus) out.push(['cpus', need.cpus]);
  if (need.mem) out.push(['mem', need.mem]);
  if (need.disk) out.push(['disk', need.disk]);
  if (need.gpus) out.push(['gpus', need.gpus]);
  for (const [k, v] of Object.entries(need.scalars ?? {})) if (v) out.push([k, v]);
  return out;
}
