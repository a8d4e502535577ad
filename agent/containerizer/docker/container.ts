/**
 * One running docker container as the agent sees it: follows its logs into the sandbox, waits for
 * it to stop, reports how it ended, removes it; `kill` is `docker stop` with the task's grace.
 */
import type Docker from 'dockerode';
import type { Logger } from 'pino';
import type { ContainerExit, ContainerHandle, RunningContainer } from '../types.js';
import { type DockerEngine, errText } from './engine.js';
import { copyLogs, type LogSkip } from './logs.js';

/** What the docker containerizer keeps in `ContainerHandle.data`. */
export interface DockerHandleData {
  containerId: string;
  image: string;
  sandbox: string;
  cpus: number;
  memMb: number;
  /** Sizes of `<sandbox>/stdout|stderr` before the container's output was appended. */
  stdoutOffset: number;
  stderrOffset: number;
}

export class RunningDockerContainer implements RunningContainer {
  private killed = false;
  private readonly done: Promise<ContainerExit>;
  private readonly abort = new AbortController();

  constructor(
    readonly handle: ContainerHandle,
    private readonly engine: DockerEngine,
    private readonly logger: Logger,
    /** The grace of a kill, given the grace asked for (the task's policy and the flag decide). */
    private readonly graceFor: (requestedMs: number) => number,
    skip: LogSkip,
  ) {
    this.done = this.run(skip).catch((err: unknown) => ({
      exitCode: null,
      signal: null,
      killed: this.killed,
      reason: 'REASON_EXECUTOR_TERMINATED',
      message: `lost track of docker container ${handle.id}: ${errText(err)}`,
    }));
  }

  get data(): DockerHandleData {
    return this.handle.data as unknown as DockerHandleData;
  }

  private async run(skip: LogSkip): Promise<ContainerExit> {
    const container = this.engine.docker.getContainer(this.data.containerId);
    const signal = this.abort.signal;
    const logsDone = this.followLogs(container, skip);
    const exited = await this.engine.waitForExit(container, signal);
    // The log stream ends when the container stops: every line is in the sandbox before wait() resolves.
    await logsDone;
    if (!exited || signal.aborted) return new Promise<ContainerExit>(() => undefined);
    const exit = await this.engine.exitOf(container, this.data, this.killed);
    await this.engine.removeLater(container);
    return exit;
  }

  private async followLogs(container: Docker.Container, skip: LogSkip): Promise<void> {
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
        this.logger.warn({ err, container: this.handle.id }, 'could not follow container logs');
      }
    }
  }

  wait(): Promise<ContainerExit> {
    return this.done;
  }

  async kill(gracePeriodMs: number): Promise<void> {
    this.killed = true;
    await this.engine.stop(this.data.containerId, this.graceFor(gracePeriodMs));
  }

  /** Stops watching without touching the container (as when the agent goes away); wait() never resolves. */
  detach(): void {
    this.abort.abort();
  }
}
