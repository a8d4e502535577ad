/**
 * The Docker engine calls of the docker containerizer (dockerode), each asking the engine only
 * what it must: create (pulling a missing image, removing a stopped leftover of the same name),
 * wait, stop, inspect an exit, remove, list, find again after a restart.
 */
import type Docker from 'dockerode';
import type { Logger } from 'pino';
import type { Clock } from '../../../sdk/util/clock.js';
import { signalOfStatus } from '../proc.js';
import { type ContainerExit, ContainerLaunchError } from '../types.js';
import { LABEL_AGENT_ID, LABEL_FRAMEWORK_ID, LABEL_TASK_ID } from './config.js';

export interface EngineOptions {
  logger: Logger;
  clock: Clock;
  /** How long an exited container is kept before removal (Mesos `--docker_remove_delay`; default 0). */
  removeDelayMs?: number;
  /** Longest wait for an image pull (default 5 minutes). */
  pullTimeoutMs?: number;
  /** Poll interval when the engine's wait call breaks off (e.g. a daemon restart); default 1000 ms. */
  pollIntervalMs?: number;
}

/** What an exit report needs to know of the container. */
export interface ExitContext {
  containerId: string;
  memMb: number;
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

/** The HTTP status of a dockerode error (404 no such container, 304 already stopped, 409 conflict). */
export function statusCode(err: unknown): number | undefined {
  return typeof err === 'object' && err !== null ? (err as { statusCode?: number }).statusCode : undefined;
}

/** The engine's message of a dockerode error, without dockerode's prefix. */
export function errText(err: unknown): string {
  if (typeof err === 'object' && err !== null) {
    const e = err as { json?: { message?: string }; message?: string };
    if (e.json?.message) return e.json.message;
    if (e.message) return e.message.replace(/^\(HTTP code \d+\)\s*[a-z ]*-\s*/, '');
  }
  return String(err);
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

/** Tries to read an OOM flag this many times (100 ms apart) after a signal death. */
const OOM_SETTLE_TRIES = 10;
const OOM_SETTLE_MS = 100;

export class DockerEngine {
  constructor(
    readonly docker: Docker,
    private readonly opts: EngineOptions,
  ) {}

  private sleep(ms: number): Promise<void> {
    return new Promise((r) => this.opts.clock.setTimeout(r, ms).unref());
  }

  /**
   * Creates the container. A missing image (404) is pulled and a leftover container of the same
   * name (409) removed, then it tries again: the common case is one call instead of three.
   */
  async create(config: Docker.ContainerCreateOptions): Promise<Docker.Container> {
    const image = config.Image as string;
    const name = config.name as string;
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

  /** Pulls the image when it is missing, or always with `forcePull` (keeping a local copy if that fails). */
  async ensureImage(image: string, forcePull: boolean): Promise<void> {
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
        this.opts.logger.warn({ err, image }, 'force pull failed; using the local image');
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
      const timer = this.opts.clock
        .setTimeout(() => {
          (stream as { destroy?: () => void }).destroy?.();
          reject(new Error(`pull timed out after ${timeoutMs} ms`));
        }, timeoutMs)
        .unref();
      this.docker.modem.followProgress(stream, (err: Error | null, events: { error?: string }[]) => {
        timer.cancel();
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

  /** The container of this task again: by name, else by its task label. */
  async find(name: string, taskId: string): Promise<Docker.ContainerInspectInfo | undefined> {
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

  /** Resolves true once the container has stopped, false when `signal` aborted the watch. */
  async waitForExit(container: Docker.Container, signal: AbortSignal): Promise<boolean> {
    while (!signal.aborted) {
      try {
        await container.wait({ abortSignal: signal });
        return !signal.aborted;
      } catch (err) {
        if (signal.aborted) return false;
        if (statusCode(err) === 404) return true;
        this.opts.logger.warn({ err, container: container.id }, 'docker wait failed; polling');
      }
      await this.sleep(this.opts.pollIntervalMs ?? 1000);
      try {
        const info = await container.inspect();
        if (!info.State.Running && !info.State.Restarting && !info.State.Paused) return true;
      } catch (err) {
        if (statusCode(err) === 404) return true;
      }
    }
    return false;
  }

  /** `docker stop` with a grace in whole seconds; SIGKILL when stop itself fails. */
  async stop(containerId: string, graceMs: number): Promise<void> {
    const container = this.docker.getContainer(containerId);
    try {
      await container.stop({ t: Math.ceil(graceMs / 1000) });
    } catch (err) {
      const code = statusCode(err);
      // 304: already stopped; 404: already gone.
      if (code !== 304 && code !== 404) {
        this.opts.logger.warn({ err, container: containerId }, 'docker stop failed; sending SIGKILL');
        await container.kill({ signal: 'SIGKILL' }).catch(() => undefined);
      }
    }
  }

  /** How a stopped container ended, in the containerizer's terms (OOM kills named as such). */
  async exitOf(container: Docker.Container, ctx: ExitContext, killed: boolean): Promise<ContainerExit> {
    let state: Docker.ContainerInspectInfo['State'];
    try {
      state = (await container.inspect()).State;
    } catch {
      return {
        exitCode: null,
        signal: null,
        killed,
        reason: killed ? undefined : 'REASON_EXECUTOR_TERMINATED',
        message: `docker container ${ctx.containerId.slice(0, 12)} disappeared`,
      };
    }
    const code = state.ExitCode;
    // The engine learns of an OOM kill from an event that can arrive after the exit event: give a
    // memory-limited container that died of a signal (the OOM killer's SIGKILL: 137) a moment for
    // `OOMKilled` to be set.
    for (let i = 0; i < OOM_SETTLE_TRIES && code > 128 && !killed && ctx.memMb > 0 && !state.OOMKilled; i++) {
      await this.sleep(OOM_SETTLE_MS);
      const again = await container.inspect().catch(() => undefined);
      if (again) state = again.State;
    }
    const exit: ContainerExit = { exitCode: code, signal: signalOfStatus(code), killed };
    if (state.OOMKilled) {
      exit.reason = 'REASON_CONTAINER_LIMITATION_MEMORY';
      exit.message = `Memory limit exceeded: the container was OOM-killed (memory limit ${ctx.memMb} MB)`;
    } else if (state.Error) {
      exit.reason = 'REASON_EXECUTOR_TERMINATED';
      exit.message = `docker reported: ${state.Error}`;
    } else if (!killed) {
      exit.message = `Command exited with status ${code}`;
    }
    return exit;
  }

  /** Removes an exited container, after `removeDelayMs` when set. */
  async removeLater(container: Docker.Container): Promise<void> {
    const delay = this.opts.removeDelayMs ?? 0;
    const remove = () =>
      container.remove({ force: true, v: true }).catch((err: unknown) => {
        if (statusCode(err) !== 404)
          this.opts.logger.warn({ err, container: container.id }, 'could not remove container');
      });
    if (delay <= 0) {
      await remove();
      return;
    }
    this.opts.clock.setTimeout(() => void remove(), delay).unref();
  }

  /** One `docker stats` sample, or undefined when the container is gone. */
  async stats(containerId: string): Promise<Docker.ContainerStats | undefined> {
    try {
      return await this.docker.getContainer(containerId).stats({ stream: false });
    } catch (err) {
      if (statusCode(err) === 404) return undefined;
      throw err;
    }
  }
}
