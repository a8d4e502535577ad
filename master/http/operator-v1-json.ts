/**
 * Mesos's v1 operator JSON (include/mesos/v1/master/master.proto, as protobuf's JSON mapping
 * prints it): ids as `{value}`, times as `{nanoseconds}`, resources as `{name, type, scalar |
 * ranges | set, reservations}`, agent attributes as `{name, type: TEXT, text: {value}}`. Pure:
 * plain records in, plain JSON out; no I/O, no clock.
 */
import type { FrameworkInfo, TaskStatus } from '../../sdk/protocol/types.js';
import { DEFAULT_ROLE, type Resource, Resources } from '../../sdk/resources/resources.js';
import type { AgentEntry, FrameworkEntry, OfferEntry, TaskEntry } from '../registry.js';

export type Json = Record<string, unknown>;
export const id = (value: string) => ({ value });
/** Seconds (a float, as Agora keeps times) → Mesos's TimeInfo. */
export const timeInfo = (seconds: number) => ({ nanoseconds: Math.round(seconds * 1e9) });

/** One Agora resource entry in Mesos v1 JSON; a reserved one carries both `role` (pre-1.4 readers) and `reservations`. */
export function v1Resource(r: Resource): Json {
  const out: Json = { name: r.name, type: r.type };
  if (r.type === 'SCALAR') out.scalar = { value: r.scalar?.value ?? 0 };
  else if (r.type === 'RANGES')
    out.ranges = { range: (r.ranges?.range ?? []).map((x) => ({ begin: x.begin, end: x.end })) };
  else if (r.type === 'SET') out.set = { item: [...(r.set?.item ?? [])] };
  const role = r.role ?? DEFAULT_ROLE;
  if (role !== DEFAULT_ROLE) {
    out.role = role;
    out.reservations = [{ type: 'DYNAMIC', role }];
  }
  return out;
}

export function v1Resources(r: Resources | readonly Resource[]): Json[] {
  const list = r instanceof Resources ? r.toList() : r;
  return list.map(v1Resource);
}

/** Mesos's agent attributes: a list of TEXT attributes. */
export function v1Attributes(attrs: Record<string, string>): Json[] {
  return Object.entries(attrs).map(([name, value]) => ({ name, type: 'TEXT', text: { value } }));
}

export function v1Status(s: TaskStatus, frameworkAgent?: string): Json {
  const out: Json = { task_id: id(s.task_id), state: s.state, timestamp: s.timestamp };
  const agent = s.agent_id ?? frameworkAgent;
  if (agent) out.agent_id = id(agent);
  if (s.message !== undefined) out.message = s.message;
  if (s.reason !== undefined) out.reason = s.reason;
  if (s.source !== undefined) out.source = s.source;
  if (s.healthy !== undefined) out.healthy = s.healthy;
  if (s.uuid !== undefined) out.uuid = s.uuid;
  return out;
}

/** The latest status of a task: what the agent last said, else one made from its state. */
export function latestStatus(t: TaskEntry): TaskStatus {
  if (t.status && t.status.state === t.state) return t.status;
  const last = t.statuses[t.statuses.length - 1];
  return {
    task_id: t.task.task_id,
    state: t.state,
    agent_id: t.agentId,
    timestamp: last?.timestamp ?? 0,
    ...(t.status?.message !== undefined ? { message: t.status.message } : {}),
  };
}

/** Mesos's `Task` (no command: Mesos's Task has none). A command task has no executor id in v1 (Mesos leaves it unset). */
export function v1Task(t: TaskEntry): Json {
  const out: Json = {
    name: t.task.name,
    task_id: id(t.task.task_id),
    framework_id: id(t.frameworkId),
    agent_id: id(t.agentId),
    state: t.state,
    resources: v1Resources(t.resources),
    statuses: t.statuses.map((s) => {
      const st: Json = { task_id: id(t.task.task_id), state: s.state, timestamp: s.timestamp, agent_id: id(t.agentId) };
      if (s.healthy !== undefined) st.healthy = s.healthy;
      return st;
    }),
    status_update_state: t.state,
  };
  if (t.task.labels) out.labels = { labels: t.task.labels.labels };
  if (t.task.container) out.container = t.task.container;
  if (t.task.command?.user) out.user = t.task.command.user;
  return out;
}

export function v1AgentInfo(a: AgentEntry): Json {
  return {
    hostname: a.info.hostname,
    port: a.info.port,
    id: id(a.id),
    resources: v1Resources(a.total),
    attributes: v1Attributes(a.info.attributes),
  };
}

/** Mesos's `Response.GetAgents.Agent`. */
export function v1Agent(a: AgentEntry): Json {
  const out: Json = {
    agent_info: v1AgentInfo(a),
    active: a.state === 'active',
    deactivated: false,
    version: a.version,
    pid: `slave(1)@${a.info.hostname}:${a.info.port}`,
    registered_time: timeInfo(a.registeredAt),
    total_resources: v1Resources(a.total),
    allocated_resources: v1Resources(a.used),
    offered_resources: v1Resources(a.offered),
    capabilities: [{ type: 'MULTI_ROLE' }, { type: 'RESERVATION_REFINEMENT' }],
    resource_providers: [],
  };
  if (a.reregisteredAt !== undefined) out.reregistered_time = timeInfo(a.reregisteredAt);
  return out;
}

export function v1FrameworkInfo(info: FrameworkInfo & { id: string }, roles: readonly string[]): Json {
  const out: Json = {
    id: id(info.id),
    name: info.name,
    user: info.user ?? '',
    roles: [...roles],
    failover_timeout: info.failover_timeout ?? 0,
    checkpoint: info.checkpoint ?? false,
    capabilities: (info.capabilities ?? []).map((c) => ({ type: c.type })),
  };
  if (info.hostname) out.hostname = info.hostname;
  if (info.principal) out.principal = info.principal;
  if (info.webui_url) out.webui_url = info.webui_url;
  return out;
}

export function v1Offer(o: OfferEntry, hostname: string | undefined): Json {
  return {
    id: id(o.id),
    framework_id: id(o.frameworkId),
    agent_id: id(o.agentId),
    hostname: hostname ?? '',
    resources: v1Resources(o.resources),
    allocation_info: { role: o.role },
  };
}

/** What a framework holds, read from the master's maps. */
export interface FrameworkHoldings {
  offers: OfferEntry[];
  allocated: Resources;
  offered: Resources;
}

/** Mesos's `Response.GetFrameworks.Framework`. */
export function v1Framework(
  f: FrameworkEntry,
  held: FrameworkHoldings,
  hostOf: (agentId: string) => string | undefined,
): Json {
  const out: Json = {
    framework_info: v1FrameworkInfo(f.info, f.roles),
    active: f.active,
    connected: f.connected,
    recovered: false,
    registered_time: timeInfo(f.registeredAt),
    offers: held.offers.map((o) => v1Offer(o, hostOf(o.agentId))),
    inverse_offers: [],
    allocated_resources: v1Resources(held.allocated),
    offered_resources: v1Resources(held.offered),
  };
  if (f.reregisteredAt !== undefined) out.reregistered_time = timeInfo(f.reregisteredAt);
  if (f.unregisteredAt !== undefined) out.unregistered_time = timeInfo(f.unregisteredAt);
  return out;
}

/** Mesos's `Role`: name, weight, frameworks, resources (allocated and offered). */
export function v1Role(v: {
  name: string;
  weight: number;
  frameworks: string[];
  allocated: Resources;
  offered: Resources;
}): Json {
  return {
    name: v.name,
    weight: v.weight,
    frameworks: v.frameworks.map(id),
    resources: v1Resources(v.allocated.plus(v.offered)),
    allocated: v1Resources(v.allocated),
    offered: v1Resources(v.offered),
  };
}

/** Mesos's `Response.GetMetrics`: every metric as `{name, value}`, in name order. */
export function v1Metrics(snapshot: Record<string, number>): Json[] {
  return Object.keys(snapshot)
    .sort()
    .map((name) => ({ name, value: snapshot[name] }));
}

/** Mesos's `Response.GetFlags`: every flag as `{name, value}`, in name order. */
export function v1Flags(flags: Record<string, string>): Json[] {
  return Object.keys(flags)
    .sort()
    .map((name) => ({ name, value: flags[name] }));
}

/** A framework's tasks split as Mesos's GET_TASKS: live (not unreachable), unreachable, completed. */
export function splitTasks(live: readonly TaskEntry[], completed: readonly TaskEntry[]) {
  return {
    tasks: live.filter((t) => t.state !== 'TASK_UNREACHABLE'),
    unreachable: live.filter((t) => t.state === 'TASK_UNREACHABLE'),
    completed,
  };
}

/**
 * Mesos v1 JSON resources (as an operator sends them) to Agora's: the role is the last of
 * `reservations` (Mesos 1.4+) or `role` (older); a refined reservation (more than one role) is
 * refused, as Agora reserves for one role. Throws with the reason; the result is validated after.
 */
export function fromV1Resources(list: readonly unknown[]): Resource[] {
  return list.map((raw, i) => {
    if (!raw || typeof raw !== 'object') throw new Error(`[${i}]: a resource must be an object`);
    const r = raw as Record<string, unknown>;
    const reservations = Array.isArray(r.reservations) ? (r.reservations as { role?: unknown }[]) : [];
    if (reservations.length > 1) throw new Error(`[${i}]: refined reservations (more than one role) are not supported`);
    const role = reservations.length === 1 ? reservations[0]?.role : r.role;
    if (role !== undefined && typeof role !== 'string') throw new Error(`[${i}]: the role must be a string`);
    const out: Record<string, unknown> = { name: r.name, type: r.type };
    if (r.scalar !== undefined) out.scalar = r.scalar;
    if (r.ranges !== undefined) out.ranges = r.ranges;
    if (r.set !== undefined) out.set = r.set;
    if (role !== undefined && role !== DEFAULT_ROLE) out.role = role;
    return out as Resource;
  });
}
