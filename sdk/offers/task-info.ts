/**
 * TaskInfo builders, one spec for every containerizer: `posix` (a command on the host), `linux`
 * (a command in its own namespaces and cgroups: ContainerInfo MESOS), `docker` (an image, HOST or
 * BRIDGE network, port mappings). Environment, secret references (as environment variables or as
 * files), fetched URIs, health checks, kill grace and labels are the same for all. The result is
 * checked against the wire schema, so a mistake shows here and not as TASK_ERROR later.
 */
import { Compile } from 'typebox/compile';
import {
  type CommandInfo,
  type CommandUri,
  type ContainerInfo,
  type EnvironmentVariable,
  type HealthCheck,
  type PortMapping,
  type TaskInfo,
  TaskInfoSchema,
  type Volume,
} from '../protocol/types.js';
import { type Resource, Resources } from '../resources/resources.js';
import { InvalidTaskSpec } from './errors.js';

export type Containerizer = 'posix' | 'linux' | 'docker';

export interface DockerSpec {
  image: string;
  /** HOST (default), BRIDGE (the container gets its own address; reach it through port mappings) or NONE. */
  network?: 'HOST' | 'BRIDGE' | 'NONE';
  /**
   * BRIDGE port mappings. A mapping without `hostPort` gets the task's host ports in order (the
   * `ports` of its resources, e.g. those `take` chose).
   */
  portMappings?: { containerPort: number; hostPort?: number; protocol?: 'tcp' | 'udp' }[];
  privileged?: boolean;
  forcePullImage?: boolean;
  /** Extra `docker run` parameters: `{key: 'label', value: 'a=b'}`. */
  parameters?: { key: string; value: string }[];
}

export interface TaskSpec {
  id: string;
  name?: string;
  agentId: string;
  /** What the task books: usually `take(...).taken`. */
  resources: Resources | readonly Resource[];
  /** Default: `docker` when `docker` is given, else `posix`. */
  containerizer?: Containerizer;
  /** The command: run through `/bin/sh -c` unless `shell` is false (then `command` is the executable and `args` its argv). */
  command?: string;
  shell?: boolean;
  args?: string[];
  /** Run as this user (the agent must allow it). */
  user?: string;
  env?: Readonly<Record<string, string>>;
  /** Environment variables whose values are secrets: variable name → secret name (`/prod/db/password`). */
  secretEnv?: Readonly<Record<string, string>>;
  /** Files whose contents are secrets: path (relative: in the sandbox) → secret name. */
  secretFiles?: Readonly<Record<string, string>>;
  /** URIs the agent fetches into the sandbox before the task starts. */
  uris?: (string | CommandUri)[];
  docker?: DockerSpec;
  /** linux: a network namespace of the task's own (with only loopback). */
  networkIsolation?: boolean;
  hostname?: string;
  volumes?: Volume[];
  healthCheck?: HealthCheck;
  /** Seconds between SIGTERM and SIGKILL when the task is killed. */
  killGraceSeconds?: number;
  labels?: Readonly<Record<string, string>>;
}

const check = Compile(TaskInfoSchema);

/** Builds and checks a TaskInfo; throws InvalidTaskSpec (naming the field) when the result is not valid. */
export function buildTaskInfo(spec: TaskSpec): TaskInfo {
  const containerizer = spec.containerizer ?? (spec.docker ? 'docker' : 'posix');
  const resources = Resources.from(spec.resources as Resource[]).toList();
  const command = commandInfo(spec, containerizer);
  const task: TaskInfo = {
    name: spec.name ?? spec.id,
    task_id: spec.id,
    agent_id: spec.agentId,
    resources,
  };
  if (command) task.command = command;
  const container = containerInfo(spec, containerizer, resources);
  if (container) task.container = container;
  if (spec.healthCheck) task.health_check = spec.healthCheck;
  if (spec.killGraceSeconds !== undefined) task.kill_policy = { grace_period_seconds: spec.killGraceSeconds };
  if (spec.labels) task.labels = { labels: Object.entries(spec.labels).map(([key, value]) => ({ key, value })) };
  assertValid(task);
  return task;
}

/** Throws InvalidTaskSpec with the first schema error of `task`. */
export function assertValid(task: TaskInfo): void {
  const value: unknown = task;
  if (check.Check(value)) return;
  const e = [...check.Errors(value)].find((x) => x.keyword !== 'anyOf') ?? [...check.Errors(value)][0];
  throw new InvalidTaskSpec(
    `task ${String(task.task_id).slice(0, 64)}: ${e?.instancePath || '/'} ${e?.message ?? 'is invalid'}`,
  );
}

function commandInfo(spec: TaskSpec, containerizer: Containerizer): CommandInfo | undefined {
  const variables: EnvironmentVariable[] = Object.entries(spec.env ?? {}).map(([name, value]) => ({ name, value }));
  for (const [name, secret] of Object.entries(spec.secretEnv ?? {})) {
    variables.push({ name, type: 'SECRET', secret: { type: 'REFERENCE', reference: { name: secret } } });
  }
  const c: CommandInfo = {};
  if (spec.command !== undefined) c.value = spec.command;
  if (spec.shell === false) c.shell = false;
  if (spec.args) c.arguments = spec.args;
  if (variables.length > 0) c.environment = { variables };
  if (spec.uris?.length) c.uris = spec.uris.map((u) => (typeof u === 'string' ? { value: u } : u));
  if (spec.user) c.user = spec.user;
  if (c.value === undefined && containerizer !== 'docker') {
    throw new InvalidTaskSpec(`task ${spec.id}: a ${containerizer} task needs a command`);
  }
  return Object.keys(c).length === 0 ? undefined : c;
}

function containerInfo(spec: TaskSpec, containerizer: Containerizer, resources: Resource[]): ContainerInfo | undefined {
  const volumes: Volume[] = [...(spec.volumes ?? [])];
  for (const [path, secret] of Object.entries(spec.secretFiles ?? {})) {
    volumes.push({
      container_path: path,
      mode: 'RO',
      source: { type: 'SECRET', secret: { type: 'REFERENCE', reference: { name: secret } } },
    });
  }
  const extras: Partial<ContainerInfo> = {};
  if (volumes.length > 0) extras.volumes = volumes;
  if (spec.hostname) extras.hostname = spec.hostname;
  if (containerizer === 'docker') {
    const d = spec.docker;
    if (!d?.image) throw new InvalidTaskSpec(`task ${spec.id}: a docker task needs docker.image`);
    const docker: NonNullable<ContainerInfo['docker']> = { image: d.image, network: d.network ?? 'HOST' };
    if (d.portMappings?.length) {
      if (docker.network !== 'BRIDGE') throw new InvalidTaskSpec(`task ${spec.id}: port mappings need network BRIDGE`);
      docker.port_mappings = portMappings(spec.id, d.portMappings, resources);
    }
    if (d.privileged) docker.privileged = true;
    if (d.forcePullImage) docker.force_pull_image = true;
    if (d.parameters?.length) docker.parameters = d.parameters;
    return { type: 'DOCKER', docker, ...extras };
  }
  if (spec.docker) throw new InvalidTaskSpec(`task ${spec.id}: docker settings need containerizer 'docker'`);
  if (containerizer === 'linux') {
    return {
      type: 'MESOS',
      containerizer: 'linux',
      ...(spec.networkIsolation ? { network_isolation: true } : {}),
      ...extras,
    };
  }
  if (spec.networkIsolation)
    throw new InvalidTaskSpec(`task ${spec.id}: network isolation needs containerizer 'linux'`);
  if (Object.keys(extras).length === 0) return undefined;
  return { type: 'MESOS', ...extras };
}

/** Mappings without a host port take the task's host ports in order; every host port must be the task's. */
function portMappings(
  id: string,
  given: NonNullable<DockerSpec['portMappings']>,
  resources: Resource[],
): PortMapping[] {
  const own = Resources.from(resources).ranges('ports');
  const hostPorts: number[] = [];
  for (const r of own) for (let p = r.begin; p <= r.end && hostPorts.length <= given.length; p++) hostPorts.push(p);
  const used = new Set(given.map((m) => m.hostPort).filter((p) => p !== undefined));
  const spare = hostPorts.filter((p) => !used.has(p));
  return given.map((m) => {
    const host = m.hostPort ?? spare.shift();
    if (host === undefined)
      throw new InvalidTaskSpec(`task ${id}: more port mappings than host ports in its resources`);
    if (!own.some((r) => r.begin <= host && host <= r.end)) {
      throw new InvalidTaskSpec(`task ${id}: host port ${host} is not among the task's port resources`);
    }
    return { host_port: host, container_port: m.containerPort, ...(m.protocol ? { protocol: m.protocol } : {}) };
  });
}

/** An HTTP health check on `port` (of the task, or the container port under BRIDGE). */
export function httpHealthCheck(port: number, path = '/', opts: Partial<HealthCheck> = {}): HealthCheck {
  return { type: 'HTTP', http: { port, path }, ...opts };
}

export function tcpHealthCheck(port: number, opts: Partial<HealthCheck> = {}): HealthCheck {
  return { type: 'TCP', tcp: { port }, ...opts };
}

export function commandHealthCheck(command: string, opts: Partial<HealthCheck> = {}): HealthCheck {
  return { type: 'COMMAND', command: { value: command }, ...opts };
}
