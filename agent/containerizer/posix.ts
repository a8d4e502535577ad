/**
 * The plain-process containerizer: a process group per task, its sandbox as working directory,
 * `stdout` and `stderr` in the sandbox. The process is started by the agent's launcher process
 * (`agent/launcher/`), which is its parent and records its exit status in the sandbox, so an agent
 * that restarts after the task ended still learns how it ended.
 */

import { join } from 'node:path';
import type { TaskInfo } from '../../sdk/protocol/types.js';
import { type Clock, systemClock } from '../../sdk/util/clock.js';
import { type Launcher, sharedLauncher } from '../launcher/client.js';
import { runAs, SANDBOX_MODE } from './as-user.js';
import { awaitExitStatus, EXIT_STATUS_FILE } from './exit-status.js';
import { isSameProcessAlive, killGroup, readProcStat, waitForPidExit } from './proc.js';
import {
  type ContainerExit,
  type ContainerHandle,
  type Containerizer,
  ContainerLaunchError,
  type LaunchSpec,
  type RecoveredGone,
  type ResourceStatistics,
  type RunningContainer,
} from './types.js';

/** The program and arguments of a task's CommandInfo: a shell string through `/bin/sh -c`, else as given. */
export function commandLine(task: TaskInfo): { file: string; args: string[] } {
  const cmd = task.command;
  if (!cmd?.value) throw new ContainerLaunchError(`task ${task.task_id} has no command to run`, 'REASON_TASK_INVALID');
  if (cmd.shell === false) return { file: cmd.value, args: cmd.arguments ?? [] };
  return { file: '/bin/sh', args: ['-c', cmd.value] };
}

function describeExit(code: number | null, signal: NodeJS.Signals | null, killed: boolean): ContainerExit {
  if (killed) return { exitCode: code, signal, killed, message: 'killed on request' };
  if (signal) return { exitCode: null, signal, killed, message: `terminated by ${signal}` };
  return { exitCode: code, signal: null, killed, message: code === 0 ? 'command exited 0' : `command exited ${code}` };
}

class PosixContainer implements RunningContainer {
  private killRequested = false;
  private readonly done: Promise<ContainerExit>;

  constructor(
    readonly handle: ContainerHandle,
    exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>,
    private readonly clock: Clock,
  ) {
    this.done = exited.then(({ code, signal }) => describeExit(code, signal, this.killRequested));
  }

  wait(): Promise<ContainerExit> {
    return this.done;
  }

  async kill(gracePeriodMs: number): Promise<void> {
    this.killRequested = true;
    const pid = this.handle.pid;
    if (!pid) return;
    killGroup(pid, 'SIGTERM');
    const timer = this.clock.setTimeout(() => killGroup(pid, 'SIGKILL'), Math.max(0, gracePeriodMs));
    try {
      await this.done;
    } finally {
      timer.cancel();
      // Anything left in the group (a background child) goes too.
      killGroup(pid, 'SIGKILL');
    }
  }
}

export interface PosixContainerizerOptions {
  /** The launcher that starts the tasks (default: one shared by the whole process). */
  launcher?: Launcher;
  /** Arms the kill grace timers (default the system clock). */
  clock?: Clock;
}

export class PosixContainerizer implements Containerizer {
  readonly name = 'posix';
  private readonly launcher: Launcher;
  private readonly clock: Clock;

  constructor(opts: PosixContainerizerOptions = {}) {
    this.launcher = opts.launcher ?? sharedLauncher();
    this.clock = opts.clock ?? systemClock;
  }

  async available(): Promise<{ ok: true }> {
    return { ok: true };
  }

  canLaunch(task: TaskInfo): boolean {
    return !task.container || task.container.type === 'MESOS';
  }

  async launch(spec: LaunchSpec): Promise<RunningContainer> {
    const { task, sandbox, user } = spec;
    const command = commandLine(task);
    const statusFile = join(sandbox, EXIT_STATUS_FILE);
    // The spawn helper sets a user's supplementary groups itself; Node's spawn needs setpriv for them.
    const { file, args, as } =
      user && this.launcher.nativeSpawn
        ? { ...command, as: { uid: user.uid, gid: user.gid, groups: user.groups } }
        : runAs(command, user);
    let started: Awaited<ReturnType<Launcher['launch']>>;
    try {
      started = await this.launcher.launch({
        file,
        args,
        cwd: sandbox,
        env: { ...spec.env, MESOS_SANDBOX: sandbox },
        stdout: join(sandbox, 'stdout'),
        stderr: join(sandbox, 'stderr'),
        statusFile,
        prepare: {
          mkdir: [sandbox],
          unlink: [statusFile],
          ...(user ? { chown: { path: sandbox, uid: user.uid, gid: user.gid, mode: SANDBOX_MODE } } : {}),
        },
        ...(as ? { user: as } : {}),
      });
    } catch (e) {
      throw new ContainerLaunchError(`could not start task ${task.task_id}: ${(e as Error).message}`);
    }
    // Without an end from the launcher (it died meanwhile), what was recorded in the sandbox.
    const exited = started.exited.then((end) => end ?? endFromSandbox(sandbox, this.clock));
    const handle: ContainerHandle = {
      containerizer: this.name,
      id: task.task_id,
      pid: started.pid,
      startTime: started.startTime,
    };
    return new PosixContainer(handle, exited, this.clock);
  }

  async recover(handle: ContainerHandle, spec: LaunchSpec): Promise<RunningContainer | RecoveredGone> {
    const pid = handle.pid;
    const alive = pid !== undefined && isSameProcessAlive(pid, handle.startTime);
    if (!alive || pid === undefined) return { gone: true, exit: await exitFromSandbox(spec.sandbox, this.clock) };
    // We are not the parent: watch the pid, then read the status the old launcher recorded.
    const exited = waitForPidExit(pid, handle.startTime, undefined, this.clock).then(() =>
      endFromSandbox(spec.sandbox, this.clock),
    );
    return new PosixContainer(handle, exited, this.clock);
  }

  async usage(handle: ContainerHandle): Promise<ResourceStatistics | undefined> {
    if (!handle.pid) return undefined;
    const stat = readProcStat(handle.pid);
    if (!stat) return undefined;
    return {
      timestamp: this.clock.now() / 1000,
      cpus_user_time_secs: stat.utimeSecs,
      cpus_system_time_secs: stat.stimeSecs,
      mem_rss_bytes: stat.rssBytes,
    };
  }
}

/** How a process seen gone only by pid ended: the recorded status, or (none recorded) as if SIGKILLed. */
async function endFromSandbox(
  sandbox: string,
  clock: Clock,
): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  const code = await awaitExitStatus(sandbox, undefined, clock);
  return { code: code ?? null, signal: code === undefined ? 'SIGKILL' : null };
}

/** How a task whose process is gone ended, from what its launcher recorded in the sandbox. */
export async function exitFromSandbox(sandbox: string, clock: Clock = systemClock): Promise<ContainerExit> {
  const code = await awaitExitStatus(sandbox, undefined, clock);
  if (code !== undefined) {
    return { exitCode: code, signal: null, killed: false, message: `command exited ${code} while the agent was down` };
  }
  return {
    exitCode: null,
    signal: null,
    killed: false,
    reason: 'REASON_EXECUTOR_TERMINATED',
    message: 'the task process is gone (killed, or the host rebooted) and left no exit status',
  };
}
