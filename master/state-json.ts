/**
 * The operator views of the master, in the shapes Mesos users read: `/master/state` and
 * `/metrics/snapshot` (same key names).
 */

import { TaskState } from '../sdk/protocol/types.js';
import { Resources, resourcesObject } from '../sdk/resources/resources.js';
import type { RefusalFilter } from './allocator/types.js';
import type { Master } from './master.js';
import type { AgentEntry, FrameworkEntry, TaskEntry } from './registry.js';

function reservedByRole(r: Resources): Record<string, Record<string, number | string>> {
  const out: Record<string, Record<string, number | string>> = {};
  for (const role of r.roles()) if (role !== '*') out[role] = resourcesObject(r.reservedFor(role));
  return out;
}

function taskJson(t: TaskEntry) {
  return {
    id: t.task.task_id,
    name: t.task.name,
    framework_id: t.frameworkId,
    // A command task's executor is named after the task (as Mesos's command executor; the agent agrees).
    executor_id: t.task.task_id,
    slave_id: t.agentId,
    agent_id: t.agentId,
    state: t.state,
    role: t.role,
    resources: resourcesObject(t.resources),
    statuses: t.statuses.map((s) => ({
      state: s.state,
      timestamp: s.timestamp,
      ...(s.healthy !== undefined ? { healthy: s.healthy } : {}),
    })),
    labels: t.task.labels?.labels ?? [],
    container: t.task.container,
  };
}

function agentJson(a: AgentEntry) {
  return {
    id: a.id,
    pid: `slave(1)@${a.info.hostname}:${a.info.port}`,
    hostname: a.info.hostname,
    port: a.info.port,
    registered_time: a.registeredAt,
    reregistered_time: a.reregisteredAt,
    resources: resourcesObject(a.total),
    used_resources: resourcesObject(a.used),
    offered_resources: resourcesObject(a.offered),
    unreserved_resources: resourcesObject(a.total.unreserved()),
    reserved_resources: reservedByRole(a.total),
    attributes: a.info.attributes,
    active: a.state === 'active',
    state: a.state,
    version: a.version,
  };
}

/**
 * The framework's refusal filters counted per role (filters are per role: a DECLINE holds back only
 * the declined offer's role). A filter of no recorded role, which this master never makes, is in
 * `active_filters` only. Expired filters not yet swept by a cycle are not counted. Built from a Map: a role name is never taken for an object's own key.
 */
function filtersByRole(active: readonly RefusalFilter[]): Record<string, number> {
  const n = new Map<string, number>();
  for (const x of active) if (x.role !== undefined) n.set(x.role, (n.get(x.role) ?? 0) + 1);
  return Object.fromEntries(n);
}

function frameworkJson(master: Master, f: FrameworkEntry) {
  // Expired filters stay in the books until a cycle sweeps them; they filter nothing meanwhile.
  const now = master.nowMs();
  const active = f.filters.filter((x) => x.expiresAt > now);
  const tasks = [...f.tasks].map((k) => master.tasks.get(k)).filter((t): t is TaskEntry => !!t);
  let used = Resources.empty();
  for (const t of tasks) used = used.plus(t.resources);
  let offered = Resources.empty();
  for (const id of f.offers) {
    const o = master.offers.get(id);
    if (o) offered = offered.plus(o.resources);
  }
  return {
    id: f.id,
    name: f.info.name,
    user: f.info.user ?? '',
    hostname: f.info.hostname ?? '',
    role: f.roles[0],
    roles: f.roles,
    suppressed_roles: [...f.suppressedRoles],
    capabilities: (f.info.capabilities ?? []).map((c) => c.type),
    failover_timeout: f.info.failover_timeout ?? 0,
    checkpoint: f.info.checkpoint ?? false,
    principal: f.info.principal ?? '',
    webui_url: f.info.webui_url ?? '',
    active: f.active,
    connected: f.connected,
    registered_time: f.registeredAt,
    reregistered_time: f.reregisteredAt,
    unregistered_time: f.unregisteredAt ?? 0,
    resources: resourcesObject(used.plus(offered)),
    used_resources: resourcesObject(used),
    offered_resources: resourcesObject(offered),
    tasks: tasks.filter((t) => t.state !== TaskState.UNREACHABLE).map(taskJson),
    unreachable_tasks: tasks.filter((t) => t.state === TaskState.UNREACHABLE).map(taskJson),
    completed_tasks: f.completedTasks.map(taskJson),
    offers: [...f.offers].flatMap((id) => {
      const o = master.offers.get(id);
      return o
        ? [{ id: o.id, framework_id: o.frameworkId, slave_id: o.agentId, resources: resourcesObject(o.resources) }]
        : [];
    }),
    // Agora: the start of "why is my framework getting nothing".
    offer_stats: {
      offers_sent: f.stats.offersSent,
      offers_declined: f.stats.offersDeclined,
      offers_accepted: f.stats.offersAccepted,
      offers_rescinded: f.stats.offersRescinded,
      agents_skipped_last_cycle: f.stats.lastSkipped,
      active_filters: active.length,
      active_filters_by_role: filtersByRole(active),
    },
  };
}

export function masterState(master: Master) {
  const agents = [...master.agents.values()];
  const leader = master.info;
  return {
    version: leader.version,
    id: leader.id,
    pid: leader.pid,
    hostname: leader.hostname,
    leader: master.leading ? leader.pid : undefined,
    leader_info: master.leading ? leader : undefined,
    elected_time: master.electedAt !== undefined ? master.electedAt / 1000 : undefined,
    start_time: master.startedAt / 1000,
    activated_slaves: agents.filter((a) => a.state === 'active').length,
    deactivated_slaves: agents.filter((a) => a.state === 'disconnected').length,
    unreachable_slaves: agents.filter((a) => a.state === 'unreachable').length,
    slaves: agents.filter((a) => a.state !== 'unreachable' && a.state !== 'gone').map(agentJson),
    unreachable_agents: agents.filter((a) => a.state === 'unreachable').map(agentJson),
    gone_agents: agents.filter((a) => a.state === 'gone').map((a) => a.id),
    frameworks: [...master.frameworks.values()].map((f) => frameworkJson(master, f)),
    completed_frameworks: master.completedFrameworks.map((f) => frameworkJson(master, f)),
  };
}

export function metricsSnapshot(master: Master): Record<string, number> {
  const agents = [...master.agents.values()];
  let total = Resources.empty();
  let used = Resources.empty();
  for (const a of agents) {
    if (a.state === 'unreachable' || a.state === 'gone') continue;
    total = total.plus(a.total);
    used = used.plus(a.used);
  }
  const c = master.counters.tasks;
  const n = (s: TaskState) => c[s] ?? 0;
  const m: Record<string, number> = {
    'master/elected': master.leading ? 1 : 0,
    'master/uptime_secs': (Date.now() - master.startedAt) / 1000,
    'master/slaves_active': agents.filter((a) => a.state === 'active').length,
    'master/slaves_inactive': agents.filter((a) => a.state === 'disconnected').length,
    'master/slaves_connected': agents.filter((a) => a.peer).length,
    'master/slaves_disconnected': agents.filter((a) => !a.peer).length,
    'master/slaves_unreachable': agents.filter((a) => a.state === 'unreachable').length,
    'master/slaves_gone': agents.filter((a) => a.state === 'gone').length,
    'master/frameworks_active': [...master.frameworks.values()].filter((f) => f.active && f.connected).length,
    'master/frameworks_inactive': [...master.frameworks.values()].filter((f) => !(f.active && f.connected)).length,
    'master/frameworks_connected': [...master.frameworks.values()].filter((f) => f.connected).length,
    'master/frameworks_disconnected': [...master.frameworks.values()].filter((f) => !f.connected).length,
    'master/outstanding_offers': master.offers.size,
    'master/offers_pending': master.offers.size,
    'master/offers_sent': master.counters.offersSent,
    'master/offers_declined': master.counters.offersDeclined,
    'master/offers_rescinded': master.counters.offersRescinded,
    'master/tasks_staging': n(TaskState.STAGING),
    'master/tasks_starting': n(TaskState.STARTING),
    'master/tasks_running': n(TaskState.RUNNING),
    'master/tasks_killing': n(TaskState.KILLING),
    'master/tasks_finished': n(TaskState.FINISHED),
    'master/tasks_failed': n(TaskState.FAILED),
    'master/tasks_killed': n(TaskState.KILLED),
    'master/tasks_lost': n(TaskState.LOST),
    'master/tasks_error': n(TaskState.ERROR),
    'master/tasks_unreachable': n(TaskState.UNREACHABLE),
    'master/tasks_dropped': n(TaskState.DROPPED),
    'master/tasks_gone': n(TaskState.GONE),
    'master/invalid_frames': master.counters.invalidFrames,
    'master/messages_status_update': master.counters.statusUpdates,
    // What the master refused or dropped from callers it does not trust (issues 9 and 10).
    'master/status_updates_dropped': master.counters.statusUpdatesDropped,
    'master/acknowledgements_dropped': master.counters.acknowledgementsDropped,
    'master/agent_registrations_refused': master.counters.agentRegistrationsRefused,
    'master/registrar_bad_records': master.counters.registrarBadRecords,
    'master/registrar_writes_refused': master.counters.registrarWritesRefused,
    'master/auth_refusals': master.counters.authRefusals,
    'master/connections_over_address_cap': master.counters.connectionsOverAddressCap,
    'master/connections_idle_closed': master.counters.connectionsIdleClosed,
    'master/framework_calls_rate_limited': master.counters.frameworkCallsRateLimited,
    'master/framework_connections_congested': master.counters.schedulerCongestions,
    'allocator/mesos/allocation_runs': master.counters.allocationRuns,
    'allocator/mesos/allocation_run_ms': master.counters.lastAllocationMs,
  };
  for (const name of ['cpus', 'mem', 'disk', 'gpus']) {
    const t = total.scalar(name);
    const u = used.scalar(name);
    m[`master/${name}_total`] = t;
    m[`master/${name}_used`] = u;
    m[`master/${name}_percent`] = t > 0 ? u / t : 0;
  }
  return m;
}
