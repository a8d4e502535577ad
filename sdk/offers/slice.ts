/**
 * How much of one offer a pass takes: at most half of each of its scalars (cpus, mem, disk, gpus,
 * others), and always at least one task. The rest goes back with the ACCEPT (no refusal filter), so
 * the master's allocator decides again who gets it, now counting what this framework just took.
 *
 * Why: the allocator offers a whole agent's free resources to the role that is poorest at that
 * instant (as Mesos's does). A burst of batch jobs launched together ends together, so at that
 * moment the batch role holds almost nothing, is offered whole agents back and would take all of
 * them: roles weighted above it never climb past where the burst left them. The other way round, a
 * services role offered a whole agent while poorest takes all it lacks at once and can pass its
 * weighted share for good (nothing takes a long-running instance back). Taking half per offer is
 * DRF's progressive filling in halves: each return trip re-sorts the roles, and a role that passed
 * another's weighted share stops being offered what is left. Marathon and Chronos both take offers
 * this way (docs/chronos.md, "Batch beside services").
 */
import type { Resource } from '../resources/resources.js';
import type { TaskNeed } from './fit.js';

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
