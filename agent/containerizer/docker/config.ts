/**
 * A task's Docker create-container body, as a pure function of the launch spec: resources,
 * networking, port mappings, volumes, environment, labels and the few `docker run` parameters
 * supported. No engine calls here (see engine.ts); the table-driven tests need no Docker.
 */
import path from 'node:path';
import type Docker from 'dockerode';
import type { PortMapping, TaskInfo } from '../../../sdk/protocol/types.js';
import { Resources } from '../../../sdk/resources/resources.js';
import { ContainerLaunchError, type LaunchSpec } from '../types.js';

export const LABEL_TASK_ID = 'agora.task_id';
export const LABEL_FRAMEWORK_ID = 'agora.framework_id';
export const LABEL_AGENT_ID = 'agora.agent_id';
/** Where the sandbox appears inside the container (Mesos's `--sandbox_directory`). */
export const DEFAULT_SANDBOX_MOUNT = '/mnt/mesos/sandbox';
export const CPU_PERIOD_US = 100_000;
const MIN_CPU_SHARES = 2;
const MIN_CPU_QUOTA_US = 1000;

export interface ContainerConfigOptions {
  /** The sandbox's path inside the container (default /mnt/mesos/sandbox). */
  sandboxDirectory?: string;
  /** Set a CFS quota (cpus × 100 ms per 100 ms) besides CPU shares (default true). */
  cfsQuota?: boolean;
}

/** `agora-<task id>` with every character docker does not allow in a name replaced by `_`. */
export function containerName(taskId: string): string {
  return `agora-${taskId.replace(/[^a-zA-Z0-9_.-]/g, '_')}`;
}

/** Gives every port mapping a host port from the task's `ports` resources; throws when one is outside. */
export function resolvePortMappings(task: TaskInfo): Required<PortMapping>[] {
  const mappings = task.container?.docker?.port_mappings ?? [];
  const ranges = Resources.from(task.resources).ranges('ports');
  const inRanges = (p: number) => ranges.some((r) => p >= r.begin && p <= r.end);
  const shown = ranges.map((r) => (r.begin === r.end ? `${r.begin}` : `${r.begin}-${r.end}`)).join(',');
  const used = new Set<number>();
  for (const m of mappings) {
    if (!m.host_port) continue;
    if (!inRanges(m.host_port)) {
      throw new ContainerLaunchError(
        `host port ${m.host_port} (mapped to container port ${m.container_port}) is not within the task's ports resources [${shown}]`,
      );
    }
    used.add(m.host_port);
  }
  const free: number[] = [];
  for (const r of ranges) {
    for (let p = r.begin; p <= r.end && free.length < mappings.length; p++) if (!used.has(p)) free.push(p);
  }
  return mappings.map((m) => {
    let host = m.host_port;
    if (!host) {
      const next = free.shift();
      if (next === undefined) {
        throw new ContainerLaunchError(
          `no host port left in the task's ports resources [${shown}] for container port ${m.container_port}`,
        );
      }
      host = next;
    }
    return { host_port: host, container_port: m.container_port, protocol: (m.protocol ?? 'tcp').toLowerCase() };
  });
}

/** The host port through which the agent reaches `containerPort` of a BRIDGE task (health checks). */
export function hostPortFor(task: TaskInfo, containerPort: number): number | undefined {
  if ((task.container?.docker?.network ?? 'HOST') !== 'BRIDGE') return undefined;
  return resolvePortMappings(task).find((m) => m.container_port === containerPort)?.host_port;
}

/** The container's command: a shell command through `/bin/sh -c`, else the image's entrypoint with arguments. */
function commandOf(task: TaskInfo): { entrypoint?: string[]; cmd?: string[] } {
  const c = task.command;
  if (c?.value && c.shell !== false) return { entrypoint: ['/bin/sh', '-c'], cmd: [c.value] };
  if (c?.value) return { cmd: [c.value, ...(c.arguments ?? [])] };
  if (c?.arguments?.length) return { cmd: [...c.arguments] };
  return {};
}

/** The sandbox bind plus the task's volumes: host paths relative to the sandbox, targets to the mount. */
function volumesOf(spec: LaunchSpec, mount: string): { binds: string[]; anonymous: Record<string, object> } {
  const binds = [`${spec.sandbox}:${mount}:rw`];
  // A task group's shared directory (docs/task-groups.md).
  if (spec.group) binds.push(`${spec.group.sharedDir}:${path.posix.join(mount, 'shared')}:rw`);
  const anonymous: Record<string, object> = {};
  for (const v of spec.task.container?.volumes ?? []) {
    const target = path.posix.isAbsolute(v.container_path)
      ? v.container_path
      : path.posix.join(mount, v.container_path);
    if (!v.host_path) {
      anonymous[target] = {};
      continue;
    }
    const source = path.isAbsolute(v.host_path) ? v.host_path : path.join(spec.sandbox, v.host_path);
    binds.push(`${source}:${target}:${v.mode === 'RO' ? 'ro' : 'rw'}`);
  }
  return { binds, anonymous };
}

/** CPU shares (and CFS quota) and a memory limit without swap, from the task's resources. */
function limitsOf(task: TaskInfo, cfsQuota: boolean): Partial<Docker.HostConfig> {
  const res = Resources.from(task.resources);
  const cpus = res.scalar('cpus');
  const memMb = res.scalar('mem');
  const host: Partial<Docker.HostConfig> = {};
  if (cpus > 0) {
    host.CpuShares = Math.max(MIN_CPU_SHARES, Math.round(cpus * 1024));
    if (cfsQuota) {
      host.CpuPeriod = CPU_PERIOD_US;
      host.CpuQuota = Math.max(MIN_CPU_QUOTA_US, Math.round(cpus * CPU_PERIOD_US));
    }
  }
  if (memMb > 0) {
    host.Memory = Math.round(memMb * 1024 * 1024);
    host.MemorySwap = host.Memory; // no swap beyond the limit
  }
  return host;
}

/** The engine's create-container body for a task. Throws ContainerLaunchError for what cannot run. */
export function containerConfig(spec: LaunchSpec, opts: ContainerConfigOptions = {}): Docker.ContainerCreateOptions {
  const { task } = spec;
  const docker = task.container?.docker;
  if (!docker?.image) throw new ContainerLaunchError(`task ${task.task_id} has no docker image`);
  const mount = opts.sandboxDirectory ?? DEFAULT_SANDBOX_MOUNT;
  const name = containerName(task.task_id);

  const env: Record<string, string> = { ...spec.env, MESOS_SANDBOX: mount, MESOS_CONTAINER_NAME: name };
  const labels: Record<string, string> = {};
  for (const l of task.labels?.labels ?? []) labels[l.key] = l.value ?? '';
  labels[LABEL_TASK_ID] = task.task_id;
  labels[LABEL_FRAMEWORK_ID] = spec.frameworkId;
  labels[LABEL_AGENT_ID] = spec.agentId;

  const { binds, anonymous } = volumesOf(spec, mount);
  const joined = spec.group?.joinContainer;
  // A later task of a group joins the first one's network: no network, ports or hostname of its own.
  const network = joined ? 'JOINED' : (docker.network ?? 'HOST');
  const host: Docker.HostConfig = {
    Binds: binds,
    Privileged: docker.privileged ?? false,
    NetworkMode: joined
      ? `container:${joined}`
      : network === 'BRIDGE'
        ? 'bridge'
        : network === 'NONE'
          ? 'none'
          : 'host',
    ...limitsOf(task, opts.cfsQuota ?? true),
  };
  const exposed: Record<string, object> = {};
  if (network === 'BRIDGE') {
    const bindings: Record<string, { HostPort: string }[]> = {};
    for (const m of resolvePortMappings(task)) {
      const key = `${m.container_port}/${m.protocol}`;
      exposed[key] = {};
      bindings[key] = [...(bindings[key] ?? []), { HostPort: String(m.host_port) }];
    }
    host.PortBindings = bindings;
  }

  const config: Docker.ContainerCreateOptions = {
    name,
    Image: docker.image,
    Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
    Labels: labels,
    WorkingDir: mount,
    HostConfig: host,
    Tty: false,
    AttachStdin: false,
    AttachStdout: false,
    AttachStderr: false,
  };
  const { entrypoint, cmd } = commandOf(task);
  if (entrypoint) config.Entrypoint = entrypoint;
  if (cmd) config.Cmd = cmd;
  if (Object.keys(exposed).length) config.ExposedPorts = exposed;
  if (Object.keys(anonymous).length) config.Volumes = anonymous;
  if (task.container?.hostname && network !== 'HOST' && !joined) config.Hostname = task.container.hostname;
  applyParameters(config, docker.parameters ?? []);
  if (spec.user) {
    // The switched user wins: a `user` parameter naming another would bypass who may run as whom.
    if (config.User !== undefined && config.User !== spec.user.name) {
      throw new ContainerLaunchError(
        `docker parameter user=${config.User} conflicts with the task's user '${spec.user.name}' (--switch_user is on)`,
        'REASON_TASK_INVALID',
      );
    }
    config.User = spec.user.name;
  }
  return config;
}

/** The few `docker run` flags from `docker.parameters` that map onto the create body. */
function applyParameters(config: Docker.ContainerCreateOptions, params: { key: string; value: string }[]): void {
  const host = config.HostConfig as Docker.HostConfig;
  for (const { key, value } of params) {
    switch (key) {
      case 'label': {
        const i = value.indexOf('=');
        (config.Labels as Record<string, string>)[i < 0 ? value : value.slice(0, i)] = i < 0 ? '' : value.slice(i + 1);
        break;
      }
      case 'env':
      case 'e':
        config.Env = [...(config.Env ?? []), value];
        break;
      case 'user':
      case 'u':
        config.User = value;
        break;
      case 'workdir':
      case 'w':
        config.WorkingDir = value;
        break;
      case 'entrypoint':
        config.Entrypoint = value ? [value] : [];
        break;
      case 'hostname':
      case 'h':
        config.Hostname = value;
        break;
      case 'cap-add':
        host.CapAdd = [...(host.CapAdd ?? []), value];
        break;
      case 'cap-drop':
        host.CapDrop = [...(host.CapDrop ?? []), value];
        break;
      case 'add-host':
        host.ExtraHosts = [...(host.ExtraHosts ?? []), value];
        break;
      case 'shm-size':
        host.ShmSize = parseSize(value);
        break;
      case 'memory-swap':
        host.MemorySwap = value === '-1' ? -1 : parseSize(value);
        break;
      case 'stop-signal':
        config.StopSignal = value;
        break;
      default:
        throw new ContainerLaunchError(`unsupported docker parameter '${key}'`);
    }
  }
}

/** `512m`, `1g`, `100` (bytes) → bytes. */
export function parseSize(v: string): number {
  const m = /^(\d+(?:\.\d+)?)([bkmg]?)b?$/i.exec(v.trim());
  if (!m) throw new ContainerLaunchError(`invalid size '${v}' in docker parameters`);
  const unit = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2].toLowerCase() as '' | 'b' | 'k' | 'm' | 'g'];
  return Math.round(Number(m[1]) * unit);
}
