/**
 * The docker containerizer: runs tasks whose `container.type` is DOCKER through the Docker engine,
 * in the manner of Mesos's docker containerizer: one container per task named `agora-<task id>`,
 * labelled so the agent can find it again, the sandbox bind-mounted at /mnt/mesos/sandbox, its
 * output copied into `<sandbox>/stdout|stderr`. The create body comes from config.ts (pure), the
 * engine calls from engine.ts, the log copy from logs.ts.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import Docker from 'dockerode';
import { type Logger, pino } from 'pino';
import type { CommandInfo, TaskInfo } from '../../../sdk/protocol/types.js';
import { Resources } from '../../../sdk/resources/resources.js';
import { type Clock, systemClock } from '../../../sdk/util/clock.js';
import type { CommandRunResult } from '../../health/index.js';
import { chownTree } from '../../launcher/chown.js';
import { SANDBOX_MODE } from '../as-user.js';
import { readProcStatAsync } from '../proc.js';
import {
  type ContainerHandle,
  type Containerizer,
  ContainerLaunchError,
  type LaunchSpec,
  type RecoveredGone,
  type ResourceStatistics,
  type RunningContainer,
  resolveGraceMs,
} from '../types.js';
import { containerConfig, hostPortFor } from './config.js';
import { type DockerHandleData, RunningDockerContainer } from './container.js';
import { DockerEngine, errText } from './engine.js';
import { execInContainer } from './exec.js';
import { copyLogs, sandboxOutputSizes, touchOutput } from './logs.js';

export interface DockerContainerizerOptions {
  /** A dockerode client; by default one on `socketPath`. */
  docker?: Docker;
  /** Docker engine socket (default: dockerode's default, `/var/run/docker.sock` or `DOCKER_HOST`). */
  socketPath?: string;
  logger?: Logger;
  /** Arms the containerizer's timers (default the system clock). */
  clock?: Clock;
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

/** Runs DOCKER tasks through the Docker engine. */
export class DockerContainerizer implements Containerizer {
  readonly name = 'docker';
  readonly docker: Docker;
  readonly logger: Logger;
  private readonly clock: Clock;
  private readonly engine: DockerEngine;
  private readonly opts: DockerContainerizerOptions;
  private readonly running = new Set<RunningDockerContainer>();

  constructor(opts: DockerContainerizerOptions = {}) {
    this.opts = opts;
    this.docker = opts.docker ?? new Docker(opts.socketPath ? { socketPath: opts.socketPath } : undefined);
    this.logger = opts.logger ?? pino({ level: 'silent' });
    this.clock = opts.clock ?? systemClock;
    this.engine = new DockerEngine(this.docker, {
      logger: this.logger,
      clock: this.clock,
      removeDelayMs: opts.removeDelayMs,
      pullTimeoutMs: opts.pullTimeoutMs,
      pollIntervalMs: opts.pollIntervalMs,
    });
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
    const user = spec.user;
    if (user) {
      // As Mesos does: the task's user owns its sandbox on the host (docker resolves the name in the image).
      try {
        // stdout and stderr first, so that they are the user's too (as for posix and linux tasks).
        for (const f of ['stdout', 'stderr']) await touchOutput(path.join(spec.sandbox, f));
        chownTree({ path: spec.sandbox, uid: user.uid, gid: user.gid, mode: SANDBOX_MODE });
      } catch (err) {
        throw new ContainerLaunchError(`could not give the sandbox to user '${user.name}': ${errText(err)}`);
      }
    }
    const config = containerConfig(spec, {
      sandboxDirectory: this.opts.sandboxDirectory,
      cfsQuota: this.opts.cfsQuota,
    });
    const image = config.Image as string;
    const name = config.name as string;
    if (task.container?.docker?.force_pull_image) await this.engine.ensureImage(image, true);
    const container = await this.engine.create(config);
    const offsets = await sandboxOutputSizes(spec.sandbox);
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
      stdoutOffset: offsets.stdout,
      stderrOffset: offsets.stderr,
    };
    const handle: ContainerHandle = { containerizer: this.name, id: name, data: { ...data } };
    try {
      const info = await container.inspect();
      if (info.State.Pid > 0) {
        handle.pid = info.State.Pid;
        handle.startTime = (await readProcStatAsync(info.State.Pid))?.startTime;
      }
    } catch {
      // The container may already have exited; wait() reports it.
    }
    this.logger.info({ task: task.task_id, container: name, image }, 'docker container started');
    return this.track(handle, task, { stdout: 0, stderr: 0 });
  }

  async recover(handle: ContainerHandle, spec: LaunchSpec): Promise<RunningContainer | RecoveredGone> {
    const prior = (handle.data ?? {}) as Partial<DockerHandleData>;
    const info = await this.engine.find(handle.id, spec.task.task_id);
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
    const sizes = await sandboxOutputSizes(spec.sandbox);
    const skip = {
      stdout: Math.max(0, sizes.stdout - data.stdoutOffset),
      stderr: Math.max(0, sizes.stderr - data.stderrOffset),
    };
    const recovered: ContainerHandle = { ...handle, data: { ...data } };
    if (info.State.Pid > 0) recovered.pid = info.State.Pid;
    if (info.State.Running || info.State.Paused || info.State.Restarting) {
      this.logger.info({ container: handle.id }, 'recovered running docker container');
      return this.track(recovered, spec.task, skip);
    }
    const container = this.docker.getContainer(info.Id);
    try {
      const stream = await container.logs({ follow: true, stdout: true, stderr: true });
      await copyLogs(stream, spec.sandbox, skip);
    } catch (err) {
      this.logger.warn({ err, container: handle.id }, 'could not copy the logs of an exited container');
    }
    const exit = await this.engine.exitOf(container, data, false);
    await this.engine.removeLater(container);
    return { gone: true, exit };
  }

  async usage(handle: ContainerHandle): Promise<ResourceStatistics | undefined> {
    const data = handle.data as unknown as DockerHandleData | undefined;
    const stats = await this.engine.stats(data?.containerId ?? handle.id);
    if (!stats) return undefined;
    const cpu = stats.cpu_stats?.cpu_usage;
    const mem = stats.memory_stats ?? ({} as Docker.ContainerStats['memory_stats']);
    const memStats = (mem.stats ?? {}) as Record<string, number | undefined>;
    const out: ResourceStatistics = { timestamp: this.clock.now() / 1000 };
    if (cpu?.usage_in_usermode !== undefined) out.cpus_user_time_secs = cpu.usage_in_usermode / 1e9;
    if (cpu?.usage_in_kernelmode !== undefined) out.cpus_system_time_secs = cpu.usage_in_kernelmode / 1e9;
    if (data?.cpus) out.cpus_limit = data.cpus;
    const rss = memStats.rss ?? memStats.total_rss ?? memStats.anon ?? mem.usage;
    if (rss !== undefined) out.mem_rss_bytes = rss;
    if (data?.memMb) out.mem_limit_bytes = Math.round(data.memMb * 1024 * 1024);
    else if (mem.limit !== undefined) out.mem_limit_bytes = mem.limit;
    return out;
  }

  /** Runs a command inside the task's container (`docker exec`): COMMAND health checks see what the task sees. */
  exec(
    handle: ContainerHandle,
    command: CommandInfo,
    opts: { env: Record<string, string>; timeoutMs: number },
  ): Promise<CommandRunResult> {
    const id = (handle.data as Partial<DockerHandleData> | undefined)?.containerId ?? handle.id;
    return execInContainer(this.docker, this.clock, id, command, opts);
  }

  /** The host port of a BRIDGE task's container port; undefined when the port is reached directly. */
  hostPort(task: TaskInfo, containerPort: number): number | undefined {
    return hostPortFor(task, containerPort);
  }

  /** Stops watching every container without touching them, as an agent that goes away would. */
  detach(): void {
    for (const c of this.running) c.detach();
    this.running.clear();
  }

  private track(handle: ContainerHandle, task: TaskInfo, skip: { stdout: number; stderr: number }): RunningContainer {
    const graceFor = (requestedMs: number) => resolveGraceMs(task, requestedMs, this.opts.stopTimeoutMs ?? 0);
    const c = new RunningDockerContainer(handle, this.engine, this.logger, graceFor, skip);
    this.running.add(c);
    c.wait().then(() => this.running.delete(c));
    return c;
  }
}
