/** How apps, tasks, groups and queue entries look in Marathon 1.10's JSON. */

import { readinessJson } from '../core/checks.js';
import { configVersion } from '../core/deployments.js';
import { agentCheckIndex, type Instance, isActive, isHealthy } from '../core/instances.js';
import type { OfferStats, Scheduler } from '../core/scheduler.js';
import type { AppDef, GroupDef } from '../core/spec.js';

export function taskJson(i: Instance, app: AppDef | undefined): Record<string, unknown> {
  const checks = app?.healthChecks.length ?? 0;
  return {
    id: i.taskId,
    appId: i.appId,
    host: i.host,
    ports: i.ports,
    servicePorts: app?.portDefinitions.map((p) => p.port) ?? [],
    slaveId: i.agentId,
    stagedAt: i.stagedAt,
    ...(i.startedAt ? { startedAt: i.startedAt } : {}),
    state: i.state,
    version: i.version,
    ipAddresses: [],
    localVolumes: [],
    ...(checks > 0 && app ? { healthCheckResults: healthResults(i, app) } : {}),
    ...(i.readiness ? { readinessCheckResults: readinessJson(i) } : {}),
  };
}

/** One result per check that has reported: the agent's, then those Marathon runs. */
function healthResults(i: Instance, app: AppDef): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const agent = agentCheckIndex(app);
  app.healthChecks.forEach((_, idx) => {
    if (idx === agent) {
      if (i.healthy === undefined) return;
      out.push({
        alive: i.healthy,
        consecutiveFailures: i.healthy ? 0 : 1,
        firstSuccess: null,
        lastFailure: null,
        lastSuccess: null,
        lastFailureCause: i.healthy ? null : (i.lastMessage ?? null),
        instanceId: i.taskId,
      });
      return;
    }
    const st = i.checks?.[idx];
    if (!st || st.alive === undefined) return;
    out.push({
      alive: st.alive,
      consecutiveFailures: st.consecutiveFailures,
      firstSuccess: st.firstSuccess ?? null,
      lastFailure: st.lastFailure ?? null,
      lastSuccess: st.lastSuccess ?? null,
      lastFailureCause: st.lastFailureCause ?? null,
      instanceId: i.taskId,
    });
  });
  return out;
}

export interface Embed {
  tasks: boolean;
  counts: boolean;
  deployments: boolean;
  lastTaskFailure: boolean;
  taskStats: boolean;
  readiness: boolean;
}

export function parseEmbed(
  raw: string | string[] | undefined,
  prefix: 'app' | 'apps' | 'group.apps',
  single: boolean,
): Embed {
  const list = (Array.isArray(raw) ? raw : raw ? [raw] : []).flatMap((s) => s.split(','));
  const has = (what: string) =>
    list.includes(`${prefix}.${what}`) || (prefix !== 'apps' && list.includes(`apps.${what}`));
  return {
    tasks: has('tasks') || (single && list.length === 0),
    counts: true,
    deployments: true,
    lastTaskFailure: has('lastTaskFailure') || (single && list.length === 0),
    taskStats: has('taskStats'),
    readiness: has('readiness'),
  };
}

export function appJson(app: AppDef, s: Scheduler, embed: Embed): Record<string, unknown> {
  const instances = s.instancesOf(app.id).filter(isActive);
  const out: Record<string, unknown> = { ...app };
  if (embed.counts) {
    out.tasksStaged = instances.filter((i) => i.state === 'TASK_STAGING' || i.state === 'TASK_STARTING').length;
    out.tasksRunning = instances.filter((i) => i.state === 'TASK_RUNNING').length;
    out.tasksHealthy = app.healthChecks.length > 0 ? instances.filter((i) => isHealthy(app, i)).length : 0;
    out.tasksUnhealthy = app.healthChecks.length > 0 ? instances.filter((i) => i.healthy === false).length : 0;
  }
  if (embed.deployments)
    out.deployments = s.deployments.filter((d) => d.affectedApps.includes(app.id)).map((d) => ({ id: d.id }));
  if (embed.tasks) out.tasks = instances.map((i) => taskJson(i, app));
  if (embed.lastTaskFailure) {
    const f = s.lastFailure.get(app.id);
    if (f) out.lastTaskFailure = f;
  }
  if (embed.taskStats) out.taskStats = taskStats(app, instances);
  if (embed.readiness) out.readinessCheckResults = instances.filter(isActive).flatMap(readinessJson);
  return out;
}

function taskStats(app: AppDef, instances: Instance[]): Record<string, unknown> {
  const cv = configVersion(app);
  const block = (list: Instance[]) => ({
    stats: {
      counts: {
        staged: list.filter((i) => i.state !== 'TASK_RUNNING').length,
        running: list.filter((i) => i.state === 'TASK_RUNNING').length,
        healthy: list.filter((i) => isHealthy(app, i)).length,
        unhealthy: list.filter((i) => i.healthy === false).length,
      },
    },
  });
  return {
    startedAfterLastScaling: block(instances.filter((i) => (i.startedAt ?? '') >= app.versionInfo.lastScalingAt)),
    withLatestConfig: block(instances.filter((i) => i.version === cv)),
    withOutdatedConfig: block(instances.filter((i) => i.version !== cv)),
    totalSummary: block(instances),
  };
}

export function groupJson(
  g: GroupDef,
  s: Scheduler,
  embedApps: Embed | undefined,
  depth = Number.POSITIVE_INFINITY,
): Record<string, unknown> {
  return {
    id: g.id,
    apps: embedApps ? g.apps.map((a) => appJson(a, s, embedApps)) : g.apps,
    pods: g.pods,
    groups: depth > 0 ? g.groups.map((c) => groupJson(c, s, embedApps, depth - 1)) : [],
    dependencies: g.dependencies,
    version: g.version,
    ...(g.enforceRole !== undefined ? { enforceRole: g.enforceRole } : {}),
  };
}

export function queueEntry(app: AppDef, count: number, s: Scheduler, now: number): Record<string, unknown> {
  const st: OfferStats | undefined = s.stats.get(app.id);
  const b = s.backoff.get(app.id);
  const left = b ? Math.max(0, Math.ceil((b.until - now) / 1000)) : 0;
  const reasons = Object.entries(st?.byReason ?? {});
  return {
    count,
    delay: { timeLeftSeconds: left, overdue: left === 0 },
    since: new Date(s.waitingSince.get(app.id) ?? now).toISOString(),
    app,
    processedOffersSummary: {
      processedOffersCount: st?.processed ?? 0,
      unusedOffersCount: st?.unused ?? 0,
      ...(st?.lastUnusedAt ? { lastUnusedOfferAt: st.lastUnusedAt } : {}),
      ...(st?.lastUsedAt ? { lastUsedOfferAt: st.lastUsedAt } : {}),
      rejectSummaryLastOffers: reasons.map(([reason, declined]) => ({
        reason,
        declined,
        processed: st?.processed ?? 0,
      })),
      rejectSummaryLaunchAttempt: reasons.map(([reason, declined]) => ({
        reason,
        declined,
        processed: st?.processed ?? 0,
      })),
      unfulfilledConstraints: st?.byConstraint ?? {},
    },
    lastUnusedOffers: st?.lastUnused ?? [],
  };
}
