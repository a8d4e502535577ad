/**
 * The deployment plan: current root group + target root group → ordered steps. Pure. Stops come
 * first (dependents before what they depend on), then every new app is registered in one step,
 * then apps are scaled or restarted layer by layer in dependency order: an app's layer is one more
 * than the deepest app it depends on, so it starts only once those run (healthy and ready).
 * The steps come from `frameworks/marathon/plan/`; `layers` and `dependencyCycle` are the service's views.
 */

import type { Group as ModelGroup } from '../model/index.js';
import { planDeployment } from '../plan/index.js';
import { allApps, appDependencies } from './groups.js';
import { type AppDef, type GroupDef, SpecError } from './spec.js';

export type ActionKind = 'StartApplication' | 'ScaleApplication' | 'RestartApplication' | 'StopApplication';
export interface PlanAction {
  action: ActionKind;
  app: string;
  /** A pod's action: run like its shadow app's, shown as Marathon names it (StartPod, `pod`). */
  pod?: true;
}

/** An action as Marathon shows it: `{action, app}`, or `{action: 'StartPod', pod}` for a pod. */
export function actionJson(a: { action: string; app: string; pod?: boolean }): {
  action: string;
  app?: string;
  pod?: string;
} {
  return a.pod ? { action: a.action.replace('Application', 'Pod'), pod: a.app } : { action: a.action, app: a.app };
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

/**
 * The steps from `current` to `target`, by the planner of frameworks/marathon/plan (apps only:
 * pods are not run yet); a dependency cycle throws SpecError (422) naming it.
 */
export function plan(current: GroupDef, target: GroupDef, restartIds: ReadonlySet<string> = new Set()): PlanStep[] {
  const r = planDeployment(current as unknown as ModelGroup, target as unknown as ModelGroup, {
    restart: [...restartIds],
  });
  if (!r.ok) throw new SpecError([{ path: '/', errors: [`${r.error} ${r.cycle.join(' -> ')}`] }]);
  const steps: PlanStep[] = [];
  for (const s of r.plan.steps) {
    const actions: PlanAction[] = [];
    // Pods run as their shadow apps (StartPod → StartApplication inside), shown by their own names.
    for (const a of s.actions) {
      if ('app' in a) actions.push({ action: a.action, app: a.app });
      else actions.push({ action: a.action.replace('Pod', 'Application') as ActionKind, app: a.pod, pod: true });
    }
    if (actions.length > 0) steps.push({ actions });
  }
  return steps;
}

function _groupBy<T>(xs: T[], key: (x: T) => number): Map<number, T[]> {
  const m = new Map<number, T[]>();
  for (const x of xs) {
    const k = key(x);
    const list = m.get(k) ?? [];
    list.push(x);
    m.set(k, list);
  }
  return m;
}
