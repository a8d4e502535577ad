/**
 * The deployment plan: current root group + target root group → ordered steps. Pure. Stops come
 * first (dependents before what they depend on), then every new app is registered in one step,
 * then apps are scaled or restarted layer by layer in dependency order: an app's layer is one more
 * than the deepest app it depends on, so it starts only once those run (healthy and ready).
 * `frameworks/marathon/plan/` (wip/marathon-model) is the full planner; this is the interface the
 * service uses.
 */
import { allApps, appDependencies } from './groups.js';
import { type AppDef, type GroupDef, onlyScaled } from './spec.js';

export type ActionKind = 'StartApplication' | 'ScaleApplication' | 'RestartApplication' | 'StopApplication';
export interface PlanAction {
  action: ActionKind;
  app: string;
}
export interface PlanStep {
  actions: PlanAction[];
}

/** Each app's layer in `root`'s dependency graph (0: depends on nothing); a cycle is cut where found. */
export function layers(root: GroupDef): Map<string, number> {
  const apps = new Map(allApps(root).map((a) => [a.id, a]));
  const depth = new Map<string, number>();
  const visiting = new Set<string>();
  const visit = (id: string): number => {
    const known = depth.get(id);
    if (known !== undefined) return known;
    if (visiting.has(id)) return 0;
    visiting.add(id);
    const app = apps.get(id) as AppDef;
    let d = 0;
    for (const dep of appDependencies(root, app)) if (apps.has(dep)) d = Math.max(d, visit(dep) + 1);
    visiting.delete(id);
    depth.set(id, d);
    return d;
  };
  for (const id of apps.keys()) visit(id);
  return depth;
}

/** A cycle in the dependencies, as app ids, or undefined. */
export function dependencyCycle(root: GroupDef): string[] | undefined {
  const apps = new Map(allApps(root).map((a) => [a.id, a]));
  const state = new Map<string, 1 | 2>();
  const stack: string[] = [];
  const visit = (id: string): string[] | undefined => {
    if (state.get(id) === 2) return undefined;
    if (state.get(id) === 1) return stack.slice(stack.indexOf(id)).concat(id);
    state.set(id, 1);
    stack.push(id);
    for (const dep of appDependencies(root, apps.get(id) as AppDef)) {
      if (!apps.has(dep)) continue;
      const c = visit(dep);
      if (c) return c;
    }
    stack.pop();
    state.set(id, 2);
    return undefined;
  };
  for (const id of apps.keys()) {
    const c = visit(id);
    if (c) return c;
  }
  return undefined;
}

export function plan(current: GroupDef, target: GroupDef, restartIds: ReadonlySet<string> = new Set()): PlanStep[] {
  const from = new Map(allApps(current).map((a) => [a.id, a]));
  const to = new Map(allApps(target).map((a) => [a.id, a]));
  const steps: PlanStep[] = [];
  const stopped = [...from.keys()].filter((id) => !to.has(id));
  if (stopped.length > 0) {
    const depth = layers(current);
    const byLayer = groupBy(stopped, (id) => depth.get(id) ?? 0);
    for (const layer of [...byLayer.keys()].sort((a, b) => b - a)) {
      steps.push({ actions: (byLayer.get(layer) ?? []).map((app) => ({ action: 'StopApplication', app })) });
    }
  }
  const started = [...to.keys()].filter((id) => !from.has(id));
  if (started.length > 0) steps.push({ actions: started.map((app) => ({ action: 'StartApplication', app })) });
  const depth = layers(target);
  const changes: PlanAction[] = [];
  for (const [id, app] of to) {
    const old = from.get(id);
    if (!old) {
      if (app.instances > 0) changes.push({ action: 'ScaleApplication', app: id });
    } else if (restartIds.has(id) || !onlyScaled(old, app)) {
      changes.push({ action: 'RestartApplication', app: id });
    } else if (old.instances !== app.instances) {
      changes.push({ action: 'ScaleApplication', app: id });
    }
  }
  const byLayer = groupBy(changes, (a) => depth.get(a.app) ?? 0);
  for (const layer of [...byLayer.keys()].sort((a, b) => a - b)) steps.push({ actions: byLayer.get(layer) ?? [] });
  return steps;
}

function groupBy<T>(xs: T[], key: (x: T) => number): Map<number, T[]> {
  const m = new Map<number, T[]>();
  for (const x of xs) {
    const k = key(x);
    const list = m.get(k) ?? [];
    list.push(x);
    m.set(k, list);
  }
  return m;
}
