/**
 * Resources, commands, containers, health checks and TaskInfo between Mesos's v1 JSON and Agora's
 * wire shapes, both ways. Mesos → Agora produces candidates that the caller validates against
 * Agora's strict schemas (so every bound is checked once, with a path); what Agora has no place
 * for is dropped when harmless (`discovery`, `network_infos`, `limits`) and refused when running
 * without it would be wrong (a custom `executor`, a MESOS container image).
 */
import type { CommandInfo, ContainerInfo, ExecutorInfo, HealthCheck, TaskInfo } from '../protocol/types.js';
import type { Resource } from '../resources/schema.js';
import type { MesosCommand, MesosContainer, MesosResource, MesosTaskInfo } from './schema.js';
import { compact, durationOf, durationSeconds, mid } from './values.js';

/** A task Agora cannot run as Mesos describes it: the reason, said to the framework. */
export class Untranslatable extends Error {}

type Loose = Record<string, unknown>;

// ---------------------------------------------------------------- resources

/**
 * Mesos → Agora: the reservation role is the last of `reservations` (post-refinement form) or
 * `role` (pre-refinement form); `allocation_info` (which role an offer was made to) is dropped.
 */
export function resourceFromMesos(r: MesosResource): Resource {
  const refined =
    r.reservations && r.reservations.length > 0 ? r.reservations[r.reservations.length - 1].role : undefined;
  const role = refined ?? r.reservation?.role ?? r.role;
  return compact({
    name: r.name,
    type: r.type as Resource['type'],
    scalar: r.scalar ? { value: r.scalar.value } : undefined,
    ranges: r.ranges ? { range: r.ranges.range.map((x) => ({ begin: x.begin, end: x.end })) } : undefined,
    set: r.set ? { item: [...r.set.item] } : undefined,
    role: role !== undefined && role !== '*' ? role : undefined,
  });
}

/**
 * Agora → Mesos, in both of Mesos's forms at once: `role` (`*` when unreserved) for frameworks of
 * the pre-refinement API, and `reservations` for those with RESERVATION_REFINEMENT; with
 * `allocation_info` when it is offered to a role.
 */
export function resourceToMesos(r: Resource, allocationRole?: string): Loose {
  const role = r.role ?? '*';
  return compact({
    name: r.name,
    type: r.type,
    scalar: r.scalar ? { value: r.scalar.value } : undefined,
    ranges: r.ranges ? { range: r.ranges.range.map((x) => ({ begin: x.begin, end: x.end })) } : undefined,
    set: r.set ? { item: [...r.set.item] } : undefined,
    role,
    reservations: role !== '*' ? [{ type: 'STATIC', role }] : undefined,
    allocation_info: allocationRole !== undefined ? { role: allocationRole } : undefined,
  });
}

export function resourcesFromMesos(rs: readonly MesosResource[] | undefined): Resource[] {
  return (rs ?? []).map(resourceFromMesos);
}

// ---------------------------------------------------------------- commands and containers

export function commandFromMesos(c: MesosCommand): CommandInfo {
  return compact({
    value: c.value,
    shell: c.shell,
    arguments: c.arguments,
    environment: c.environment
      ? {
          variables: (c.environment.variables ?? []).map((v) =>
            compact({
              name: v.name,
              type: v.type as 'VALUE' | 'SECRET' | undefined,
              value: v.value,
              secret: v.secret as never,
            }),
          ),
        }
      : undefined,
    uris: c.uris?.map((u) => compact({ ...u })),
    user: c.user,
  }) as CommandInfo;
}

export function commandToMesos(c: CommandInfo): Loose {
  return compact({
    value: c.value,
    shell: c.shell,
    arguments: c.arguments,
    environment: c.environment ? { variables: c.environment.variables.map((v) => compact({ ...v })) } : undefined,
    uris: c.uris?.map((u) => compact({ ...u })),
    user: c.user,
  });
}

export function containerFromMesos(c: MesosContainer): ContainerInfo {
  if (c.mesos?.image) {
    throw new Untranslatable(
      'container.mesos.image is not supported (Agora runs images with the docker containerizer): use container.type DOCKER with docker.image',
    );
  }
  const d = c.docker;
  return compact({
    type: c.type as ContainerInfo['type'],
    docker: d
      ? compact({
          image: d.image,
          network: d.network as 'HOST' | 'BRIDGE' | 'NONE' | undefined,
          port_mappings: d.port_mappings?.map((p) => compact({ ...p })) as never,
          privileged: d.privileged,
          parameters: d.parameters?.map((p) => ({ key: p.key, value: p.value })),
          force_pull_image: d.force_pull_image,
        })
      : undefined,
    volumes: c.volumes?.map((v) =>
      compact({
        container_path: v.container_path,
        host_path: v.host_path,
        mode: (v.mode ?? 'RW') as 'RW',
        source: v.source as never,
      }),
    ),
    hostname: c.hostname,
  }) as ContainerInfo;
}

export function containerToMesos(c: ContainerInfo): Loose {
  return compact({
    type: c.type,
    docker: c.docker
      ? compact({
          ...c.docker,
          port_mappings: c.docker.port_mappings?.map((p) => compact({ ...p })),
          parameters: c.docker.parameters?.map((p) => ({ ...p })),
        })
      : undefined,
    volumes: c.volumes?.map((v) => compact({ ...v })),
    hostname: c.hostname,
  });
}

function healthFromMesos(h: NonNullable<MesosTaskInfo['health_check']>): HealthCheck {
  // Before Mesos 1.2 a health check had no type and only a command.
  const type = h.type ?? (h.command ? 'COMMAND' : h.http ? 'HTTP' : h.tcp ? 'TCP' : undefined);
  return compact({
    type: type as HealthCheck['type'],
    http: h.http
      ? compact({ port: h.http.port, path: h.http.path, scheme: h.http.scheme, statuses: h.http.statuses })
      : undefined,
    tcp: h.tcp ? { port: h.tcp.port } : undefined,
    command: h.command ? commandFromMesos(h.command) : undefined,
    delay_seconds: h.delay_seconds,
    interval_seconds: h.interval_seconds,
    timeout_seconds: h.timeout_seconds,
    consecutive_failures: h.consecutive_failures,
    grace_period_seconds: h.grace_period_seconds,
  }) as HealthCheck;
}

function healthToMesos(h: HealthCheck): Loose {
  return compact({
    ...h,
    http: h.http ? compact({ ...h.http }) : undefined,
    command: h.command ? commandToMesos(h.command) : undefined,
  });
}

// ---------------------------------------------------------------- tasks and executors

/** Mesos → Agora. Throws {@link Untranslatable} for what Agora cannot run as described. */
export function taskFromMesos(t: MesosTaskInfo): TaskInfo {
  if (t.executor) {
    throw new Untranslatable(
      'custom executors are not supported: give the task a command (Agora runs it with its command executor) or use LAUNCH_GROUP with the DEFAULT executor',
    );
  }
  return compact({
    name: t.name,
    task_id: t.task_id.value,
    agent_id: t.agent_id.value,
    resources: resourcesFromMesos(t.resources),
    command: t.command ? commandFromMesos(t.command) : undefined,
    container: t.container ? containerFromMesos(t.container) : undefined,
    health_check: t.health_check ? healthFromMesos(t.health_check) : undefined,
    kill_policy: t.kill_policy
      ? compact({
          grace_period_seconds: t.kill_policy.grace_period ? durationSeconds(t.kill_policy.grace_period) : undefined,
        })
      : undefined,
    labels: t.labels
      ? { labels: (t.labels.labels ?? []).map((l) => compact({ key: l.key, value: l.value })) }
      : undefined,
  }) as TaskInfo;
}

/** Agora → Mesos. */
export function taskToMesos(t: TaskInfo): Loose {
  return compact({
    name: t.name,
    task_id: mid(t.task_id),
    agent_id: mid(t.agent_id),
    resources: t.resources.map((r) => resourceToMesos(r)),
    command: t.command ? commandToMesos(t.command) : undefined,
    container: t.container ? containerToMesos(t.container) : undefined,
    health_check: t.health_check ? healthToMesos(t.health_check) : undefined,
    kill_policy: t.kill_policy
      ? compact({
          grace_period:
            t.kill_policy.grace_period_seconds !== undefined
              ? durationOf(t.kill_policy.grace_period_seconds)
              : undefined,
        })
      : undefined,
    labels: t.labels ? { labels: t.labels.labels.map((l) => compact({ ...l })) } : undefined,
  });
}

type MesosExecutor = {
  executor_id?: { value?: unknown };
  type?: unknown;
  framework_id?: { value?: unknown };
  name?: unknown;
  resources?: MesosResource[];
  container?: MesosContainer;
  labels?: MesosTaskInfo['labels'];
  command?: unknown;
};

/** A LAUNCH_GROUP's executor, Mesos → Agora (only the DEFAULT executor: Agora runs no custom executor). */
export function executorFromMesos(e: MesosExecutor): ExecutorInfo {
  if (e.type !== undefined && e.type !== 'DEFAULT') {
    throw new Untranslatable(
      `executor type ${JSON.stringify(String(e.type)).slice(0, 40)} is not supported: use DEFAULT`,
    );
  }
  if (e.command !== undefined) throw new Untranslatable('a DEFAULT executor has no command');
  return compact({
    executor_id: e.executor_id?.value as string,
    type: 'DEFAULT',
    framework_id: e.framework_id?.value as string | undefined,
    name: e.name as string | undefined,
    resources: resourcesFromMesos(e.resources),
    container: e.container ? containerFromMesos(e.container) : undefined,
    labels: e.labels
      ? { labels: (e.labels.labels ?? []).map((l) => compact({ key: l.key, value: l.value })) }
      : undefined,
  }) as ExecutorInfo;
}

export function executorToMesos(e: ExecutorInfo): Loose {
  return compact({
    executor_id: mid(e.executor_id),
    type: e.type,
    framework_id: e.framework_id !== undefined ? mid(e.framework_id) : undefined,
    name: e.name,
    resources: e.resources.map((r) => resourceToMesos(r)),
    container: e.container ? containerToMesos(e.container) : undefined,
    labels: e.labels ? { labels: e.labels.labels.map((l) => compact({ ...l })) } : undefined,
  });
}
