/**
 * The docker containerizer: runs tasks whose `container.type` is DOCKER through the Docker engine
 * (dockerode), in the manner of Mesos's docker containerizer (src/slave/containerizer/docker.cpp):
 * one container per task named `agora-<task id>`, labelled so the agent can find it again, the
 * sandbox bind-mounted at /mnt/mesos/sandbox, its output copied into `<sandbox>/stdout|stderr`.
 */
import { createWriteStream, promises as fs, readFileSync, type WriteStream } from 'node:fs';
import { constants as osConstants } from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import { type Logger, pino } from 'pino';
import type { PortMapping, TaskInfo } from '../../sdk/protocol/types.js';
import { Resources } from '../../sdk/resources/resources.js';
import {
  type ContainerExit,
  type ContainerHandle,
  type Containerizer,
  ContainerLaunchError,
  type LaunchSpec,
  type RecoveredGone,
  type ResourceStatistics,
  type RunningContainer,
  resolveGraceMs,
} from './types.js';

export const LABEL_TASK_ID = 'agora.task_id';
export const LABEL_FRAMEWORK_ID = 'agora.framework_id';
export const LABEL_AGENT_ID = 'agora.agent_id';
/** Where the sandbox appears inside the container (Mesos's `--sandbox_directory`). */
export const DEFAULT_SANDBOX_MOUNT = '/mnt/mesos/sandbox';
const CPU_PERIOD_US = 100_000;
const MIN_CPU_SHARES = 2;

export interface DockerContainerizerOptions {
  /** A dockerode client; by default one on `socketPath`. */
  docker?: Docker;
  /** Docker engine socket (default: dockerode's default, `/var/run/docker.sock` or `DOCKER_HOST`). */
  socketPath?: string;
  logger?: Logger;
  /**
   * Grace between SIGTERM (docker stop) and SIGKILL when neither `kill()` nor the task's
   * `kill_policy` gives one (Mesos `--docker_stop_timeout`; default 0).
   */
  stopTimeoutMs?: number;
  /** Set a CFS quota (cpus × 100 ms per 100 ms) besides CPU shares (default true). */
  cfsQuota?: boolean;
  /** How long an exited container is kept before removal (Mesos `--docker_remove_delay`; default 0). */
  removeDelayMs?: number;
  /** Longest wait for an image pull (default 5 minutes). */
  pullTimeoutMs?: number;
  /** The sandbox's path inside the container (default /mnt/mesos/sandbox). */
  sandboxDirectory?: string;
  /** Poll interval when the engine's wait call breaks off (e.g. a daemon restart); default 1000 ms. */
  pollIntervalMs?: number;
}

/** What the docker containerizer keeps in `ContainerHandle.data`. */
interface DockerHandleData {
  containerId: string;
  image: string;
  sandbox: string;
  cpus: number;
  memMb: number;
  /** Sizes of `<sandbox>/stdout|stderr` before the container's output was appended. */
  stdoutOffset: number;
  stderrOffset: number;
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
  for (const r of ranges) for (let p = r.begin; p <= r.end; p++) if (!used.has(p)) free.push(p);
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

/** The engine's create-container body for a task (pure; exported for tests). */
export function containerConfig(
  spec: LaunchSpec,
  opts: { sandboxDirectory?: string; cfsQuota?: boolean } = {},
): Docker.ContainerCreateOptions {
  const { task } = spec;
  const docker = task.container?.docker;
  if (!docker?.image) throw new ContainerLaunchError(`task ${task.task_id} has no docker image`);
  const mount = opts.sandboxDirectory ?? DEFAULT_SANDBOX_MOUNT;
  const res = Resources.from(task.resources);
  const cpus = res.scalar('cpus');
  const memMb = res.scalar('mem');

  const cmd = task.command;
  let entrypoint: string[] | undefined;
  let command: string[] | undefined;
  if (cmd?.value && cmd.shell !== false) {
    entrypoint = ['/bin/sh', '-c'];
    command = [cmd.value];
  } else if (cmd?.value) {
    command = [cmd.value, ...(cmd.arguments ?? [])];
  } else if (cmd?.arguments?.length) {
    command = [...cmd.arguments];
  }

  const env: Record<string, string> = {
    ...spec.env,
    MESOS_SANDBOX: mount,
    MESOS_CONTAINER_NAME: containerName(task.task_id),
  };

  const labels: Record<string, string> = {};
  for (const l of task.labels?.labels ?? []) labels[l.key] = l.value ?? '';
  labels[LABEL_TASK_ID] = task.task_id;
  labels[LABEL_FRAMEWORK_ID] = spec.frameworkId;
  labels[LABEL_AGENT_ID] = spec.agentId;

  const binds = [`${spec.sandbox}:${mount}:rw`];
  const anonymous: Record<string, object> = {};
  for (const v of task.container?.volumes ?? []) {
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

  const network = docker.network ?? 'HOST';
  const host: Docker.HostConfig = {
    Binds: binds,
    Privileged: docker.privileged ?? false,
    NetworkMode: network === 'BRIDGE' ? 'bridge' : network === 'NONE' ? 'none' : 'host',
  };
  if (cpus > 0) {
    host.CpuShares = Math.max(MIN_CPU_SHARES, Math.round(cpus * 1024));
    if (opts.cfsQuota ?? true) {
      host.CpuPeriod = CPU_PERIOD_US;
      host.CpuQuota = Math.max(1000, Math.round(cpus * CPU_PERIOD_US));
    }
  }
  if (memMb > 0) {
    host.Memory = Math.round(memMb * 1024 * 1024);
    host.MemorySwap = host.Memory; // no swap beyond the limit
  }
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
    name: containerName(task.task_id),
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
  if (entrypoint) config.Entrypoint = entrypoint;
  if (command) config.Cmd = command;
  if (Object.keys(exposed).length) config.ExposedPorts = exposed;
  if (Object.keys(anonymous).length) config.Volumes = anonymous;
  if (task.container?.hostname && network !== 'HOST') config.Hostname = task.container.hostname;
  applyParameters(config, docker.parameters ?? []);
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

function parseSize(v: string): number {
  const m = /^(\d+(?:\.\d+)?)([bkmg]?)b?$/i.exec(v.trim());
  if (!m) throw new ContainerLaunchError(`invalid size '${v}' in docker parameters`);
  const unit = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2].toLowerCase() as '' | 'b' | 'k' | 'm' | 'g'];
  return Math.round(Number(m[1]) * unit);
}

export interface AgoraContainerSummary {
  /** Docker's container id. */
  id: string;
  /** Name without the leading `/`. */
  name: string;
  taskId: string;
  frameworkId: string;
  agentId: string;
  /** Docker's state: running, exited, created, ... */
  state: string;
}

/** Containers carrying Agora's labels, all or those of one agent (for orphan cleanup). */
export async function listAgoraContainers(docker: Docker, agentId?: string): Promise<AgoraContainerSummary[]> {
  const label = agentId === undefined ? [LABEL_AGENT_ID] : [`${LABEL_AGENT_ID}=${agentId}`];
  const list = await docker.listContainers({ all: true, filters: { label } });
  return list.map((c) => ({
    id: c.Id,
    name: (c.Names[0] ?? '').replace(/^\//, ''),
    taskId: c.Labels[LABEL_TASK_ID] ?? '',
    frameworkId: c.Labels[LABEL_FRAMEWORK_ID] ?? '',
    agentId: c.Labels[LABEL_AGENT_ID] ?? '',
    state: c.State,
  }));
}

function statusCode(err: unknown): number | undefined {
  return typeof err === 'object' && err !== null ? (err as { statusCode?: number }).statusCode : undefined;
}

function errText(err: unknown): string {
  if (typeof err === 'object' && err !== null) {
    const e = err as { json?: { message?: string }; message?: string };
    if (e.json?.message) return e.json.message;
    if (e.message) return e.message.replace(/^\(HTTP code \d+\)\s*[a-z ]*-\s*/, '');
  }
  return String(err);
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function signalName(code: number): string | null {
  if (code <= 128) return null;
  const n = code - 128;
  for (const [name, num] of Object.entries(osConstants.signals)) if (num === n) return name;
  return null;
}

function procStartTime(pid: number): number | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[19]);
  } catch {
    return undefined;
  }
}

async function fileSize(p: string): Promise<number> {
  try {
    return (await fs.stat(p)).size;
  } catch {
    return 0;
  }
}

/**
 * Copies a multiplexed docker log stream (8-byte frame headers: stream type, 3 zero bytes, length)
 * into the sandbox's stdout and stderr files, appending, after skipping bytes already copied.
 */
async function copyLogs(
  stream: NodeJS.ReadableStream,
  sandbox: string,
  skip: { stdout: number; stderr: number },
): Promise<void> {
  const out = createWriteStream(path.join(sandbox, 'stdout'), { flags: 'a' });
  const err = createWriteStream(path.join(sandbox, 'stderr'), { flags: 'a' });
  let pending: Buffer = Buffer.alloc(0);
  const toSkip = { ...skip };
  const emit = (kind: number, payload: Buffer) => {
    const key = kind === 2 ? 'stderr' : 'stdout';
    let data = payload;
    if (toSkip[key] > 0) {
      const n = Math.min(toSkip[key], data.length);
      toSkip[key] -= n;
      data = data.subarray(n);
    }
    if (data.length) (key === 'stderr' ? err : out).write(data);
  };
  await new Promise<void>((resolve) => {
    stream.on('data', (chunk: Buffer) => {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      while (pending.length >= 8) {
        const size = pending.readUInt32BE(4);
        if (pending.length < 8 + size) break;
        emit(pending[0], pending.subarray(8, 8 + size));
        pending = pending.subarray(8 + size);
      }
    });
    stream.on('end', resolve);
    stream.on('close', resolve);
    stream.on('error', resolve);
  });
  await Promise.all([closeStream(out), closeStream(err)]);
}

function closeStream(s: WriteStream): Promise<void> {
  return new Promise((resolve) => s.end(() => resolve()));
}

class RunningDockerContainer implements RunningContainer {
  private killed = false;
  private readonly done: Promise<ContainerExit>;
  private readonly abort = new AbortController();

  constructor(
    readonly handle: ContainerHandle,
    private readonly owner: DockerContainerizer,
    private readonly task: TaskInfo,
    skip: { stdout: number; stderr: number },
  ) {
    this.done = this.run(skip).catch((err: unknown) => ({
      exitCode: null,
      signal: null,
      killed: this.killed,
      reason: 'REASON_EXECUTOR_TERMINATED',
      message: `lost track of docker container ${handle.id}: ${errText(err)}`,
    }));
  }

  private get data(): DockerHandleData {
    return this.handle.data as unknown as DockerHandleData;
  }

  private async run(skip: { stdout: number; stderr: number }): Promise<ContainerExit> {
    const container = this.owner.docker.getContainer(this.data.containerId);
    const signal = this.abort.signal;
    const logsDone = this.followLogs(container, skip);
    const exited = await this.owner.waitForExit(container, signal);
    // The log stream ends when the container stops: every line is in the sandbox before wait() resolves.
    await logsDone;
    if (!exited || signal.aborted) return new Promise<ContainerExit>(() => undefined);
    const exit = await this.owner.exitOf(container, this.data, this.killed);
    await this.owner.removeLater(container);
    return exit;
  }

  private async followLogs(container: Docker.Container, skip: { stdout: number; stderr: number }): Promise<void> {
    try {
      const stream = await container.logs({
        follow: true,
        stdout: true,
        stderr: true,
        abortSignal: this.abort.signal,
      } as Docker.ContainerLogsOptions & { follow: true });
      await copyLogs(stream, this.data.sandbox, skip);
    } catch (err) {
      if (!this.abort.signal.aborted) {
        this.owner.logger.warn({ err, container: this.handle.id }, 'could not follow container logs');
      }
    }
  }

  wait(): Promise<ContainerExit> {
    return this.done;
  }

  async kill(gracePeriodMs: number): Promise<void> {
    this.killed = true;
    const grace = this.owner.graceFor(this.task, gracePeriodMs);
    const container = this.owner.docker.getContainer(this.data.containerId);
    try {
      await container.stop({ t: Math.ceil(grace / 1000) });
    } catch (err) {
      const code = statusCode(err);
      // 304: already stopped; 404: already gone.
      if (code !== 304 && code !== 404) {
        this.owner.logger.warn({ err, container: this.handle.id }, 'docker stop failed; sending SIGKILL');
        await container.kill({ signal: 'SIGKILL' }).catch(() => undefined);
      }
    }
  }

  /** Stops watching without touching the container (as when the agent goes away); wait() never resolves. */
  detach(): void {
    this.abort.abort();
  }
}

/** Runs DOCKER tasks through the Docker engine. */
export class DockerContainerizer implements Containerizer {
  readonly name = 'docker';
  readonly docker: Docker;
  readonly logger: Logger;
  private readonly opts: DockerContainerizerOptions;
  private readonly running = new Set<RunningDockerContainer>();

  constructor(opts: DockerContainerizerOptions = {}) {
    this.opts = opts;
    this.docker = opts.docker ?? new Docker(opts.socketPath ? { socketPath: opts.socketPath } : undefined);
    this.logger = opts.logger ?? pino({ level: 'silent' });
  }

  async available(): Promise<{ ok: true } | { ok: false; reason: string }> {
    try {
      await this.docker.ping();
      return { ok: true };
    } catch (err) {
      return {
        ok: false,
        reason: `the Docker engine does not answer (${errText(err)}); run 'bash scripts/docker.sh all'`,
      };
    }
  }

  canLaunch(task: TaskInfo): boolean {
    const c = task.container;
    return c?.type === 'DOCKER' && !!c.docker?.image && (c.containerizer === undefined || c.containerizer === 'docker');
  }

  async launch(spec: LaunchSpec): Promise<RunningContainer> {
    const { task } = spec;
    await fs.mkdir(spec.sandbox, { recursive: true });
    const config = containerConfig(spec, {
      sandboxDirectory: this.opts.sandboxDirectory,
      cfsQuota: this.opts.cfsQuota,
    });
    const image = config.Image as string;
    if (task.container?.docker?.force_pull_image) await this.ensureImage(image, true);
    const container = await this.create(config, image, config.name as string);
    const name = config.name as string;
    const stdoutOffset = await fileSize(path.join(spec.sandbox, 'stdout'));
    const stderrOffset = await fileSize(path.join(spec.sandbox, 'stderr'));
    try {
      await container.start();
    } catch (err) {
      await container.remove({ force: true }).catch(() => undefined);
      throw new ContainerLaunchError(`could not start container ${name}: ${errText(err)}`);
    }
    const res = Resources.from(task.resources);
    const data: DockerHandleData = {
      containerId: container.id,
      image,
      sandbox: spec.sandbox,
      cpus: res.scalar('cpus'),
      memMb: res.scalar('mem'),
      stdoutOffset,
      stderrOffset,
    };
    const handle: ContainerHandle = { containerizer: this.name, id: name, data: { ...data } };
    try {
      const info = await container.inspect();
      if (info.State.Pid > 0) {
        handle.pid = info.State.Pid;
        handle.startTime = procStartTime(info.State.Pid);
      }
    } catch {
      // The container may already have exited; wait() reports it.
    }
    this.logger.info({ task: task.task_id, container: name, image }, 'docker container started');
    return this.track(new RunningDockerContainer(handle, this, task, { stdout: 0, stderr: 0 }));
  }

  async recover(handle: ContainerHandle, spec: LaunchSpec): Promise<RunningContainer | RecoveredGone> {
    const prior = (handle.data ?? {}) as Partial<DockerHandleData>;
    const info = await this.find(handle.id, spec.task.task_id);
    if (!info) {
      return {
        gone: true,
        exit: {
          exitCode: null,
          signal: null,
          killed: false,
          reason: 'REASON_EXECUTOR_TERMINATED',
          message: `docker container ${handle.id} was not found after the agent restarted`,
        },
      };
    }
    const res = Resources.from(spec.task.resources);
    const data: DockerHandleData = {
      containerId: info.Id,
      image: info.Config.Image,
      sandbox: spec.sandbox,
      cpus: prior.cpus ?? res.scalar('cpus'),
      memMb: prior.memMb ?? res.scalar('mem'),
      stdoutOffset: prior.stdoutOffset ?? 0,
      stderrOffset: prior.stderrOffset ?? 0,
    };
    // Output already copied before the restart is not copied twice.
    const skip = {
      stdout: Math.max(0, (await fileSize(path.join(spec.sandbox, 'stdout'))) - data.stdoutOffset),
      stderr: Math.max(0, (await fileSize(path.join(spec.sandbox, 'stderr'))) - data.stderrOffset),
    };
    const recovered: ContainerHandle = { ...handle, data: { ...data } };
    if (info.State.Pid > 0) recovered.pid = info.State.Pid;
    const container = this.docker.getContainer(info.Id);
    if (info.State.Running || info.State.Paused || info.State.Restarting) {
      this.logger.info({ container: handle.id }, 'recovered running docker container');
      return this.track(new RunningDockerContainer(recovered, this, spec.task, skip));
    }
    try {
      const stream = await container.logs({ follow: true, stdout: true, stderr: true });
      await copyLogs(stream, spec.sandbox, skip);
    } catch (err) {
      this.logger.warn({ err, container: handle.id }, 'could not copy the logs of an exited container');
    }
    const exit = await this.exitOf(container, data, false);
    await this.removeLater(container);
    return { gone: true, exit };
  }

  async usage(handle: ContainerHandle): Promise<ResourceStatistics | undefined> {
    const data = handle.data as unknown as DockerHandleData | undefined;
    const container = this.docker.getContainer(data?.containerId ?? handle.id);
    let stats: Docker.ContainerStats;
    try {
      stats = await container.stats({ stream: false });
    } catch (err) {
      if (statusCode(err) === 404) return undefined;
      throw err;
    }
    const cpu = stats.cpu_stats?.cpu_usage;
    const mem = stats.memory_stats ?? ({} as Docker.ContainerStats['memory_stats']);
    const memStats = (mem.stats ?? {}) as Record<string, number | undefined>;
    const out: ResourceStatistics = { timestamp: Date.now() / 1000 };
    if (cpu?.usage_in_usermode !== undefined) out.cpus_user_time_secs = cpu.usage_in_usermode / 1e9;
    if (cpu?.usage_in_kernelmode !== undefined) out.cpus_system_time_secs = cpu.usage_in_kernelmode / 1e9;
    if (data?.cpus) out.cpus_limit = data.cpus;
    const rss = memStats.rss ?? memStats.total_rss ?? memStats.anon ?? mem.usage;
    if (rss !== undefined) out.mem_rss_bytes = rss;
    if (data?.memMb) out.mem_limit_bytes = Math.round(data.memMb * 1024 * 1024);
    else if (mem.limit !== undefined) out.mem_limit_bytes = mem.limit;
    return out;
  }

  /** Stops watching every container without touching them, as an agent that goes away would. */
  detach(): void {
    for (const c of this.running) c.detach();
    this.running.clear();
  }

  // ---- helpers used by RunningDockerContainer ----

  /** The grace for a kill: the caller's when given (>= 0), else the task's kill policy, else the flag. */
  graceFor(task: TaskInfo, requestedMs: number): number {
    return resolveGraceMs(task, requestedMs, this.opts.stopTimeoutMs ?? 0);
  }

  /** Resolves true once the container has stopped, false when `signal` aborted the watch. */
  async waitForExit(container: Docker.Container, signal: AbortSignal): Promise<boolean> {
    while (!signal.aborted) {
      try {
        await container.wait({ abortSignal: signal });
        return !signal.aborted;
      } catch (err) {
        if (signal.aborted) return false;
        if (statusCode(err) === 404) return true;
        this.logger.warn({ err, container: container.id }, 'docker wait failed; polling');
      }
      await sleep(this.opts.pollIntervalMs ?? 1000);
      try {
        const info = await container.inspect();
        if (!info.State.Running && !info.State.Restarting && !info.State.Paused) return true;
      } catch (err) {
        if (statusCode(err) === 404) return true;
      }
    }
    return false;
  }

  async exitOf(container: Docker.Container, data: DockerHandleData, killed: boolean): Promise<ContainerExit> {
    let state: Docker.ContainerInspectInfo['State'];
    try {
      state = (await container.inspect()).State;
    } catch {
      return {
        exitCode: null,
        signal: null,
        killed,
        reason: killed ? undefined : 'REASON_EXECUTOR_TERMINATED',
        message: `docker container ${data.containerId.slice(0, 12)} disappeared`,
      };
    }
    const code = state.ExitCode;
    // The engine learns of an OOM kill from an event that can arrive after the exit event: give a
    // memory-limited container that died of a signal (the OOM killer's SIGKILL: 137) a moment for
    // `OOMKilled` to be set.
    for (let i = 0; i < 10 && code > 128 && !killed && data.memMb > 0 && !state.OOMKilled; i++) {
      await sleep(100);
      const again = await container.inspect().catch(() => undefined);
      if (again) state = again.State;
    }
    const exit: ContainerExit = { exitCode: code, signal: signalName(code), killed };
    if (state.OOMKilled) {
      exit.reason = 'REASON_CONTAINER_LIMITATION_MEMORY';
      exit.message = `Memory limit exceeded: the container was OOM-killed (memory limit ${data.memMb} MB)`;
    } else if (state.Error) {
      exit.reason = 'REASON_EXECUTOR_TERMINATED';
      exit.message = `docker reported: ${state.Error}`;
    } else if (!killed) {
      exit.message = `Command exited with status ${code}`;
    }
    return exit;
  }

  async removeLater(container: Docker.Container): Promise<void> {
    const delay = this.opts.removeDelayMs ?? 0;
    const remove = () =>
      container.remove({ force: true, v: true }).catch((err: unknown) => {
        if (statusCode(err) !== 404) this.logger.warn({ err, container: container.id }, 'could not remove container');
      });
    if (delay <= 0) {
      await remove();
      return;
    }
    setTimeout(remove, delay).unref();
  }

  private track(c: RunningDockerContainer): RunningDockerContainer {
    this.running.add(c);
    c.wait().then(() => this.running.delete(c));
    return c;
  }

  /**
   * Creates the container, asking the engine only what it must: a missing image (404) is looked
   * for and pulled, a leftover container of the same name (409) is removed, then it tries again.
   * The common case is one call instead of three.
   */
  private async create(config: Docker.ContainerCreateOptions, image: string, name: string): Promise<Docker.Container> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.docker.createContainer(config);
      } catch (err) {
        const code = statusCode(err);
        if (attempt < 2 && code === 404) {
          await this.ensureImage(image, false);
          continue;
        }
        if (attempt < 2 && code === 409) {
          await this.removeStale(name);
          continue;
        }
        throw new ContainerLaunchError(`could not create container ${name} from image '${image}': ${errText(err)}`);
      }
    }
  }

  private async ensureImage(image: string, forcePull: boolean): Promise<void> {
    let present = true;
    try {
      await this.docker.getImage(image).inspect();
    } catch {
      present = false;
    }
    if (present && !forcePull) return;
    try {
      await this.pull(image);
    } catch (err) {
      if (present) {
        this.logger.warn({ err, image }, 'force pull failed; using the local image');
        return;
      }
      throw new ContainerLaunchError(
        `image '${image}' is not present on this agent and could not be pulled: ${errText(err)}`,
      );
    }
  }

  private async pull(image: string): Promise<void> {
    const timeoutMs = this.opts.pullTimeoutMs ?? 5 * 60_000;
    const stream = await this.docker.pull(image);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        (stream as { destroy?: () => void }).destroy?.();
        reject(new Error(`pull timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      timer.unref();
      this.docker.modem.followProgress(stream, (err: Error | null, events: { error?: string }[]) => {
        clearTimeout(timer);
        const failed = events?.find((e) => e.error);
        if (err) reject(err);
        else if (failed) reject(new Error(failed.error));
        else resolve();
      });
    });
  }

  /** A leftover container with this name: an exited one is removed, a running one refuses the launch. */
  private async removeStale(name: string): Promise<void> {
    let info: Docker.ContainerInspectInfo;
    try {
      info = await this.docker.getContainer(name).inspect();
    } catch {
      return;
    }
    if (info.State.Running) throw new ContainerLaunchError(`a container named ${name} is already running`);
    await this.docker
      .getContainer(info.Id)
      .remove({ force: true })
      .catch(() => undefined);
  }

  private async find(name: string, taskId: string): Promise<Docker.ContainerInspectInfo | undefined> {
    try {
      const info = await this.docker.getContainer(name).inspect();
      if (info.Config.Labels?.[LABEL_TASK_ID] === taskId) return info;
    } catch (err) {
      if (statusCode(err) !== 404) throw err;
    }
    const list = await this.docker.listContainers({ all: true, filters: { label: [`${LABEL_TASK_ID}=${taskId}`] } });
    if (!list.length) return undefined;
    return this.docker.getContainer(list[0].Id).inspect();
  }
}
