/**
 * Instances (one Mesos task each) and the TaskInfo built for one: command or Docker container,
 * resources taken by placement, Marathon's environment, the app's Mesos health check (or its
 * first) mapped to the agent's check (the others Marathon runs: core/checks.ts). Pure, given the ids it is handed.
 */
import type { HealthCheck, Offer, Resource, TaskInfo } from 'agora/sdk';
import type { AppDef, HealthCheckDef } from './spec.js';

export interface Instance {
  taskId: string;
  appId: string;
  version: string;
  agentId: string;
  host: string;
  attributes: Record<string, string>;
  ports: number[];
  state: string;
  stagedAt: string;
  startedAt?: string;
  /** undefined: no result yet (or no checks). */
  healthy?: boolean;
  /** A kill was sent (scale-down, upgrade, health); a terminal state will not be replaced. */
  killing?: boolean;
  /** When it became unreachable (ms since the epoch). */
  unreachableSince?: number;
  lastMessage?: string;
  /** Its readiness check passed (apps with readinessChecks only). */
  ready?: boolean;
  /** A pod instance: the state of each of its tasks (task id → state); its `taskId` is the instance id. */
  groupTasks?: Record<string, string>;
}

/** The Mesos task ids of an instance: its one task, or each task of its group. */
export function taskIdsOf(i: Instance): string[] {
  return i.groupTasks ? Object.keys(i.groupTasks) : [i.taskId];
}

/** The task id of an instance of `appId`: the path with `_` for `/`, then `.` and a unique part. */
export function taskIdFor(appId: string, unique: string): string {
  return `${appId.slice(1).replace(/\//g, '_')}.${unique}`;
}

/** The app id a task id belongs to (inverse of taskIdFor). */
export function appIdOfTask(taskId: string): string {
  const dot = taskId.lastIndexOf('.');
  return `/${(dot < 0 ? taskId : taskId.slice(0, dot)).replace(/_/g, '/')}`;
}

export function isActive(i: Instance): boolean {
  return ![
    'TASK_FINISHED',
    'TASK_FAILED',
    'TASK_KILLED',
    'TASK_ERROR',
    'TASK_LOST',
    'TASK_DROPPED',
    'TASK_GONE',
    'TASK_GONE_BY_OPERATOR',
  ].includes(i.state);
}

const MESOS_CHECKS = new Set(['COMMAND', 'MESOS_HTTP', 'MESOS_HTTPS', 'MESOS_TCP']);

/** The check the agent runs (one per task): the app's Mesos check, else its first; -1 without checks. */
export function agentCheckIndex(app: AppDef): number {
  if (app.healthChecks.length === 0) return -1;
  const m = app.healthChecks.findIndex((h) => MESOS_CHECKS.has(h.protocol));
  return Math.max(m, 0);
}

/** The checks Marathon probes itself (core/checks.ts): every HTTP/HTTPS/TCP check but the agent's. */
export function marathonCheckIndexes(app: AppDef): number[] {
  const agent = agentCheckIndex(app);
  const out: number[] = [];
  app.healthChecks.forEach((h, idx) => {
    if (idx !== agent && !MESOS_CHECKS.has(h.protocol)) out.push(idx);
  });
  return out;
}

/** Running and, when the app has health checks, passing all of them (the agent's and Marathon's). */
export function isHealthy(app: AppDef | undefined, i: Instance): boolean {
  if (i.state !== 'TASK_RUNNING' || i.killing) return false;
  if (!app || app.healthChecks.length === 0) return true;
  if (i.healthy !== true) return false;
  for (const idx of marathonCheckIndexes(app)) if (i.checks?.[idx]?.alive !== true) return false;
  return true;
}

/** Healthy and, when the app has readiness checks, ready: what deployments and upgrades wait for. */
export function isAvailable(app: AppDef | undefined, i: Instance): boolean {
  if (!isHealthy(app, i)) return false;
  return !app || app.readinessChecks.length === 0 || i.ready === true;
}

/** The URL of an instance's readiness check `index`, or undefined when its port is unknown. */
export function readinessUrl(app: AppDef, i: Instance, index = 0): string | undefined {
  const rc = app.readinessChecks[index] as { protocol?: string; path?: string; portName?: string } | undefined;
  if (!rc) return undefined;
  const names =
    app.portDefinitions.length > 0
      ? app.portDefinitions.map((p) => p.name)
      : ((app.container?.portMappings ?? []) as { name?: string }[]).map((m) => m.name);
  const idx = names.indexOf(rc.portName);
  const port = i.ports[Math.max(idx, 0)];
  if (!port) return undefined;
  return `${rc.protocol === 'HTTPS' ? 'https' : 'http'}://${i.host}:${port}${rc.path ?? '/'}`;
}

function mapHealthCheck(h: HealthCheckDef, ports: number[], app: AppDef): HealthCheck | undefined {
  const common = {
    delay_seconds: h.delaySeconds,
    interval_seconds: h.intervalSeconds,
    timeout_seconds: h.timeoutSeconds,
    consecutive_failures: h.maxConsecutiveFailures,
    grace_period_seconds: h.gracePeriodSeconds,
  };
  const port = h.port ?? (h.portIndex !== undefined ? ports[h.portIndex] : undefined);
  switch (h.protocol) {
    case 'HTTP':
    case 'HTTPS':
    case 'MESOS_HTTP':
    case 'MESOS_HTTPS':
      if (!port) return undefined;
      return {
        type: 'HTTP',
        http: { port, path: h.path ?? '/', ...(h.protocol.endsWith('HTTPS') ? { scheme: 'https' } : {}) },
        ...common,
      };
    case 'TCP':
    case 'MESOS_TCP':
      if (!port) return undefined;
      return { type: 'TCP', tcp: { port }, ...common };
    case 'COMMAND':
      return { type: 'COMMAND', command: { value: h.command?.value ?? 'true', shell: true }, ...common };
    default:
      void app;
      return undefined;
  }
}

function envOf(app: AppDef, taskId: string, offer: Offer, ports: number[]): { name: string; value: string }[] {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(app.env)) if (typeof v === 'string') env[k] = v;
  ports.forEach((p, i) => {
    env[`PORT${i}`] = String(p);
    const name = app.portDefinitions[i]?.name;
    if (name) env[`PORT_${name.toUpperCase().replace(/[^A-Z0-9_]/g, '_')}`] = String(p);
  });
  if (ports.length > 0) {
    env.PORT = String(ports[0]);
    env.PORTS = ports.join(',');
  }
  env.HOST = offer.hostname;
  env.MARATHON_APP_ID = app.id;
  env.MARATHON_APP_VERSION = app.version;
  env.MARATHON_APP_RESOURCE_CPUS = String(app.cpus);
  env.MARATHON_APP_RESOURCE_MEM = String(app.mem);
  env.MARATHON_APP_RESOURCE_DISK = String(app.disk);
  env.MARATHON_APP_LABELS = Object.keys(app.labels).join(' ');
  if (app.container?.docker?.image) env.MARATHON_APP_DOCKER_IMAGE = app.container.docker.image;
  env.MESOS_TASK_ID = taskId;
  return Object.entries(env).map(([name, value]) => ({ name, value }));
}

/** The TaskInfo for one instance of `app` on `offer`, with the resources and host ports placement took. */
export function buildTaskInfo(
  app: AppDef,
  offer: Offer,
  taskId: string,
  resources: Resource[],
  ports: number[],
): TaskInfo {
  const variables = envOf(app, taskId, offer, ports);
  const uris = app.fetch.map((f) => ({
    value: f.uri,
    ...(f.executable !== undefined ? { executable: f.executable } : {}),
    ...(f.extract !== undefined ? { extract: f.extract } : {}),
    ...(f.cache !== undefined ? { cache: f.cache } : {}),
  }));
  const task: TaskInfo = {
    name: app.id.slice(1).split('/').reverse().join('.'),
    task_id: taskId,
    agent_id: offer.agent_id,
    resources,
    labels: { labels: Object.entries(app.labels).map(([key, value]) => ({ key, value: String(value) })) },
  };
  const docker = app.container?.type !== 'MESOS' ? app.container?.docker : undefined;
  const shell = app.cmd !== undefined && app.cmd !== null;
  if (shell || app.args || !docker) {
    task.command = {
      ...(shell ? { value: app.cmd as string, shell: true } : { shell: false }),
      ...(app.args ? { arguments: app.args } : {}),
      ...(!shell && app.args && !docker ? { value: app.args[0] } : {}),
      environment: { variables },
      ...(uris.length > 0 ? { uris } : {}),
      ...(app.user ? { user: app.user } : {}),
    };
  } else {
    task.command = { shell: false, environment: { variables }, ...(uris.length > 0 ? { uris } : {}) };
  }
  if (docker?.image) {
    const bridged = app.networks.some((n) => n.mode === 'container/bridge');
    const mappings = (app.container.portMappings ?? []) as {
      containerPort?: number;
      hostPort?: number;
      protocol?: string;
    }[];
    let hostIndex = 0;
    const port_mappings = bridged
      ? mappings
          .filter((m) => m.hostPort !== undefined)
          .map((m) => {
            const host = ports[hostIndex++];
            return { host_port: host, container_port: m.containerPort || host, protocol: m.protocol ?? 'tcp' };
          })
      : undefined;
    task.container = {
      type: 'DOCKER',
      containerizer: 'docker',
      docker: {
        image: docker.image,
        network: bridged ? 'BRIDGE' : 'HOST',
        ...(port_mappings && port_mappings.length > 0 ? { port_mappings } : {}),
        ...(docker.privileged ? { privileged: true } : {}),
        ...(docker.forcePullImage ? { force_pull_image: true } : {}),
        ...(docker.parameters ? { parameters: docker.parameters } : {}),
      },
    };
  }
  const agentCheck = agentCheckIndex(app);
  const hc = agentCheck >= 0 ? mapHealthCheck(app.healthChecks[agentCheck], ports, app) : undefined;
  if (hc) task.health_check = hc;
  if (app.taskKillGracePeriodSeconds !== undefined)
    task.kill_policy = { grace_period_seconds: app.taskKillGracePeriodSeconds };
  return task;
}
