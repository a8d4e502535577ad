/**
 * The deployment planner (Marathon's `DeploymentPlan.apply`), pure: the current root group and the
 * target root group → ordered steps. Actions in one step may run at once; a step starts when the
 * previous one is finished (its apps running, healthy and ready).
 *
 * 1. stop what the target no longer has, dependents before what they depend on (reverse order;
 *    Marathon stops them all in one step);
 * 2. start every new app/pod with 0 instances;
 * 3. for new and changed run specs, in layers by the longest dependency path in the target (an app
 *    comes after everything it depends on, transitively; a dependency on a group means every app and
 *    pod in it; a group's dependencies apply to every app and pod inside it): new → Scale to its
 *    instances; only `instances` changed → Scale; otherwise → Restart (rolling).
 *
 * A dependency cycle makes no plan: `{ok: false, error: 'Dependency graph has cyclic dependencies.'}`.
 */
import type { App, Group, Pod, Rejection } from '../model/index.js';
import { isUnder, rejectOne } from '../model/index.js';

export type RunSpec = { kind: 'app'; spec: App } | { kind: 'pod'; spec: Pod };

export type DeploymentAction =
  | { action: 'StartApplication' | 'StopApplication' | 'RestartApplication'; app: string }
  | { action: 'ScaleApplication'; app: string; instances: number }
  | { action: 'StartPod' | 'StopPod' | 'RestartPod'; pod: string }
  | { action: 'ScalePod'; pod: string; instances: number };

export interface DeploymentStep {
  actions: DeploymentAction[];
}

export interface DeploymentPlan {
  steps: DeploymentStep[];
  /** Ids of run specs the plan touches (what a deployment locks). */
  affected: string[];
}

export type PlanResult = { ok: true; plan: DeploymentPlan } | { ok: false; error: string; cycle: string[] };

export const CYCLE_MESSAGE = 'Dependency graph has cyclic dependencies.';

export interface PlanOptions {
  /** Run specs to restart even if unchanged (POST /v2/apps/{id}/restart). */
  restart?: readonly string[];
}

/** Every app and pod in a group tree, by id. */
export function runSpecsOf(root: Group): Map<string, RunSpec> {
  const out = new Map<string, RunSpec>();
  const walk = (g: Group) => {
    for (const a of g.apps) out.set(a.id, { kind: 'app', spec: a });
    for (const p of g.pods) out.set(p.id, { kind: 'pod', spec: p });
    for (const s of g.groups) walk(s);
  };
  walk(root);
  return out;
}

function instancesOf(r: RunSpec): number {
  return r.kind === 'app' ? r.spec.instances : r.spec.scaling.instances;
}

/** The spec without what does not need a restart to change. */
function configOf(r: RunSpec): string {
  const { version: _v, ...rest } = r.spec as App & Pod;
  const copy: Record<string, unknown> = { ...rest };
  delete copy.versionInfo;
  if (r.kind === 'app') delete copy.instances;
  else copy.scaling = { ...(copy.scaling as object), instances: 0 };
  return stableJson(copy);
}

function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const keys = Object.keys(v as object).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${stableJson((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/**
 * The dependency graph over run specs: id → ids it depends on (apps/pods named directly, every run
 * spec under a named group, and for each enclosing group's dependencies the same).
 */
export function dependencyGraph(root: Group): Map<string, Set<string>> {
  const specs = runSpecsOf(root);
  const ids = [...specs.keys()];
  const expand = (dep: string): string[] =>
    specs.has(dep) ? [dep] : ids.filter((id) => isUnder(id, dep) && id !== dep);
  const graph = new Map<string, Set<string>>();
  const walk = (g: Group, inherited: readonly string[]) => {
    const deps = [...inherited, ...g.dependencies];
    const add = (id: string, own: readonly string[]) => {
      const set = new Set<string>();
      for (const d of [...deps, ...own]) for (const t of expand(d)) if (t !== id) set.add(t);
      graph.set(id, set);
    };
    for (const a of g.apps) add(a.id, a.dependencies);
    for (const p of g.pods) add(p.id, []);
    for (const s of g.groups) walk(s, deps);
  };
  walk(root, []);
  return graph;
}

/** A cycle in the graph (its ids, first repeated at the end), or undefined. */
export function findCycle(graph: Map<string, Set<string>>): string[] | undefined {
  const state = new Map<string, 1 | 2>();
  const stack: string[] = [];
  const visit = (id: string): string[] | undefined => {
    state.set(id, 1);
    stack.push(id);
    for (const d of [...(graph.get(id) ?? [])].sort()) {
      const s = state.get(d);
      if (s === 1) return [...stack.slice(stack.indexOf(d)), d];
      if (s === undefined) {
        const c = visit(d);
        if (c) return c;
      }
    }
    stack.pop();
    state.set(id, 2);
    return undefined;
  };
  for (const id of [...graph.keys()].sort()) {
    if (!state.has(id)) {
      const c = visit(id);
      if (c) return c;
    }
  }
  return undefined;
}

/**
 * Marathon's root-group rule that needs the whole tree: no dependency cycle. A 422 as Marathon gives
 * it (`{"message":"Object is not valid","details":[{"path":"/","errors":["Dependency graph has cyclic
 * dependencies."]}]}`), or undefined when the root is fine.
 */
export function rootGroupProblem(root: Group): Rejection | undefined {
  return findCycle(dependencyGraph(root)) ? rejectOne('/', CYCLE_MESSAGE) : undefined;
}

/** Longest dependency path from each id (1 = depends on nothing), over an acyclic graph. */
function depthOf(graph: Map<string, Set<string>>): Map<string, number> {
  const memo = new Map<string, number>();
  const depth = (id: string): number => {
    const m = memo.get(id);
    if (m !== undefined) return m;
    let d = 1;
    for (const dep of graph.get(id) ?? []) d = Math.max(d, 1 + depth(dep));
    memo.set(id, d);
    return d;
  };
  for (const id of graph.keys()) depth(id);
  return memo;
}

function layered(ids: readonly string[], depths: Map<string, number>): string[][] {
  const byDepth = new Map<number, string[]>();
  for (const id of ids) {
    const d = depths.get(id) ?? 1;
    const l = byDepth.get(d) ?? [];
    l.push(id);
    byDepth.set(d, l);
  }
  return [...byDepth.keys()].sort((a, b) => a - b).map((d) => (byDepth.get(d) ?? []).sort());
}

function act(kind: RunSpec['kind'], verb: 'Start' | 'Stop' | 'Restart', id: string): DeploymentAction {
  return kind === 'app' ? { action: `${verb}Application`, app: id } : { action: `${verb}Pod`, pod: id };
}

function scale(r: RunSpec): DeploymentAction {
  return r.kind === 'app'
    ? { action: 'ScaleApplication', app: r.spec.id, instances: instancesOf(r) }
    : { action: 'ScalePod', pod: r.spec.id, instances: instancesOf(r) };
}

/** Plans the way from `current` to `target`. */
export function planDeployment(current: Group, target: Group, opts: PlanOptions = {}): PlanResult {
  const targetGraph = dependencyGraph(target);
  const cycle = findCycle(targetGraph);
  if (cycle) return { ok: false, error: CYCLE_MESSAGE, cycle };
  const before = runSpecsOf(current);
  const after = runSpecsOf(target);
  const restart = new Set(opts.restart ?? []);
  const steps: DeploymentStep[] = [];

  // 1. stops, in reverse dependency order of the current group
  const removed = [...before.keys()].filter((id) => !after.has(id) || after.get(id)?.kind !== before.get(id)?.kind);
  const currentGraph = dependencyGraph(current);
  const currentDepths = findCycle(currentGraph) ? new Map<string, number>() : depthOf(currentGraph);
  for (const layer of layered(removed, currentDepths).reverse()) {
    steps.push({ actions: layer.map((id) => act((before.get(id) as RunSpec).kind, 'Stop', id)) });
  }
  // 2. starts with 0 instances
  const removedSet = new Set(removed);
  const added = [...after.keys()].filter((id) => !before.has(id) || removedSet.has(id)).sort();
  const addedSet = new Set(added);
  if (added.length > 0) steps.push({ actions: added.map((id) => act((after.get(id) as RunSpec).kind, 'Start', id)) });
  // 3. scale / restart in dependency layers
  const changed = [...after.keys()].filter((id) => {
    if (addedSet.has(id)) return true;
    const a = before.get(id) as RunSpec;
    const b = after.get(id) as RunSpec;
    return restart.has(id) || configOf(a) !== configOf(b) || instancesOf(a) !== instancesOf(b);
  });
  const depths = depthOf(targetGraph);
  for (const layer of layered(changed, depths)) {
    const actions: DeploymentAction[] = [];
    for (const id of layer) {
      const b = after.get(id) as RunSpec;
      const a = before.get(id);
      if (!a || addedSet.has(id)) actions.push(scale(b));
      else if (restart.has(id) || configOf(a) !== configOf(b)) {
        // Scaled to 0: nothing to roll, only scale.
        actions.push(instancesOf(b) === 0 ? scale(b) : act(b.kind, 'Restart', id));
      } else actions.push(scale(b));
    }
    if (actions.length > 0) steps.push({ actions });
  }
  return { ok: true, plan: { steps, affected: [...new Set([...removed, ...changed])].sort() } };
}
