/**
 * Deployments in progress: which definition each app runs while a deployment is part way (apps in
 * later steps keep their original definition), when an action is done, and how a deployment is
 * shown in `/v2/deployments` (Marathon's shape, plus why it is waiting). Pure.
 */
import { allApps, findApp } from './groups.js';
import { type Instance, isActive, isAvailable } from './instances.js';
import { actionJson } from './planner.js';
import { allPods, podShadow } from './pods.js';
import type { StoredDeployment } from './repository.js';
import type { AppDef, GroupDef } from './spec.js';

/** Every app, and every pod as its shadow app, in a root group. */
export function runSpecs(root: GroupDef): AppDef[] {
  return [...allApps(root), ...allPods(root).map(podShadow)];
}

export function findRunSpec(root: GroupDef, id: string): AppDef | undefined {
  const app = findApp(root, id);
  if (app) return app;
  const pod = allPods(root).find((p) => p.id === id);
  return pod ? podShadow(pod) : undefined;
}

/** The definition version instances are compared with: a scale does not make instances old. */
export function configVersion(app: AppDef): string {
  return app.versionInfo?.lastConfigChangeAt ?? app.version;
}

/**
 * What every app should run now: the root group's definition, except apps whose step in a running
 * deployment has not come yet, which keep their original one (or do not exist yet).
 */
export function effectiveApps(root: GroupDef, deployments: readonly StoredDeployment[]): Map<string, AppDef> {
  const out = new Map(runSpecs(root).map((a) => [a.id, a]));
  for (const d of deployments) {
    d.steps.forEach((step, i) => {
      if (i <= d.done) return;
      for (const a of step.actions) {
        // A stop in a later step: keep running the original until then; a scale/restart: keep the original.
        const original = findRunSpec(d.original, a.app);
        if (a.action === 'StartApplication') continue;
        if (a.action === 'ScaleApplication' && !original) {
          // A new app registered in an earlier step: it exists with no instances until its step.
          const target = out.get(a.app);
          if (target) out.set(a.app, { ...target, instances: 0 });
          continue;
        }
        if (original) out.set(a.app, original);
      }
    });
  }
  return out;
}

export interface ActionState {
  done: boolean;
  /** Why it is not done yet, in words. */
  waitingFor?: string;
}

export function actionState(
  action: { action: string; app: string },
  target: AppDef | undefined,
  instances: readonly Instance[],
): ActionState {
  const active = instances.filter(isActive);
  if (action.action === 'StartApplication') return { done: true };
  if (action.action === 'StopApplication' || !target) {
    return active.length === 0 ? { done: true } : { done: false, waitingFor: `${active.length} instance(s) to stop` };
  }
  const cv = configVersion(target);
  const old = active.filter((i) => i.version !== cv);
  const current = active.filter((i) => i.version === cv && !i.killing);
  const healthy = current.filter((i) => isAvailable(target, i)).length;
  if (old.length === 0 && healthy === target.instances && current.length === target.instances) return { done: true };
  const parts: string[] = [];
  if (healthy < target.instances) {
    parts.push(
      `${healthy} of ${target.instances} instance(s) ${[target.healthChecks.length > 0 ? 'healthy' : 'running', ...(target.readinessChecks.length > 0 ? ['ready'] : [])].join(' and ')}`,
    );
  }
  if (old.length > 0) parts.push(`${old.length} old instance(s) to replace`);
  if (current.length > target.instances) parts.push(`${current.length - target.instances} instance(s) to kill`);
  return { done: false, waitingFor: parts.join('; ') };
}

/** The deployment as `/v2/deployments` shows it. */
export function deploymentJson(
  d: StoredDeployment,
  why: (app: string) => string | undefined,
  readiness: (app: string) => Record<string, unknown>[] = () => [],
): Record<string, unknown> {
  const step = d.steps[d.done];
  return {
    id: d.id,
    version: d.version,
    affectedApps: d.affectedApps,
    affectedPods: d.affectedPods,
    steps: d.steps.map((s) => ({ actions: s.actions.map(actionJson) })),
    currentActions: (step?.actions ?? []).map((a) => {
      const waiting = why(a.app);
      return {
        ...actionJson(a),
        readinessCheckResults: readiness(a.app),
        ...(waiting ? { waitingFor: waiting } : {}),
      };
    }),
    currentStep: Math.min(d.done + 1, d.steps.length),
    totalSteps: d.steps.length,
  };
}

/** The plan as Marathon's deployment events carry it. */
export function planJson(d: StoredDeployment): Record<string, unknown> {
  return {
    id: d.id,
    version: d.version,
    original: d.original,
    target: d.target,
    steps: d.steps.map((s) => ({ actions: s.actions.map(actionJson) })),
  };
}
