/**
 * One interface for every way the agent can run a task. The agent picks a containerizer per task
 * (`--containerizers=docker,linux,posix`, first that `canLaunch` wins) and talks only to this.
 */
import type { CommandInfo, TaskInfo } from '../../sdk/protocol/types.js';
import { ContainerLaunchFailed } from '../errors.js';
import type { CommandRunResult } from '../health/index.js';
import type { TaskUser } from '../users.js';

export interface LaunchSpec {
  frameworkId: string;
  task: TaskInfo;
  /**
   * Absolute path of the task's sandbox directory (`stdout` and `stderr` go here). The containerizer
   * creates it when it does not exist yet (the agent makes it first only to fetch URIs into it).
   */
  sandbox: string;
  /** Environment for the task, already merged (agent defaults + task's CommandInfo environment). */
  env: Record<string, string>;
  /** The agent's id, for labels. */
  agentId: string;
  /**
   * The user to run the task as (`--switch_user` on, agent root, a user named by the task or its
   * framework); the sandbox is given to it. Absent: the agent's own user.
   */
  user?: TaskUser;
  /** Set for a task of a task group (docs/task-groups.md): what it shares with the group. */
  group?: GroupLaunchSpec;
}

/**
 * How a task of a group joins the group. Posix: host network; the shared directory is linked into
 * the sandbox as `shared`. Linux: the group's network namespace is the first task's (`netnsPath`
 * for the others; `newNetns` on the first when the group asks for isolation). Docker: the others
 * join the first container's network (`--network container:<name>`); the shared directory is
 * mounted at `$MESOS_SANDBOX/shared`.
 */
export interface GroupLaunchSpec {
  executorId: string;
  /** The group's shared directory on the host. */
  sharedDir: string;
  /** linux, first task: give it (and so the group) a network namespace of its own. */
  newNetns?: boolean;
  /** linux, later tasks: the network namespace to enter (`/proc/<first task pid>/ns/net`). */
  netnsPath?: string;
  /** docker, later tasks: the container whose network to join. */
  joinContainer?: string;
}

/**
 * What the agent checkpoints about a container so it can find it again after its own restart.
 * Plain JSON; each containerizer puts what it needs in `data`.
 */
export interface ContainerHandle {
  containerizer: string;
  /** Stable id: `agora-<task id>` for docker, the task id elsewhere. */
  id: string;
  /** Host pid of the task's top process, where there is one. */
  pid?: number;
  /** `/proc/<pid>/stat` start time (clock ticks since boot), to tell a reused pid from ours. */
  startTime?: number;
  data?: Record<string, unknown>;
}

/** How a container ended. */
export interface ContainerExit {
  /** The exit code, when the task exited by itself. */
  exitCode: number | null;
  /** The signal that ended it, when one did (e.g. SIGKILL). */
  signal: string | null;
  /** Set when the agent asked for the kill. */
  killed: boolean;
  /** A Mesos reason, e.g. REASON_CONTAINER_LIMITATION_MEMORY, REASON_EXECUTOR_TERMINATED. */
  reason?: string;
  /** A human sentence for the status update. */
  message?: string;
}

export interface RunningContainer {
  readonly handle: ContainerHandle;
  /** Resolves once, when the container has ended (never rejects). */
  wait(): Promise<ContainerExit>;
  /** SIGTERM (or docker stop), then SIGKILL after `gracePeriodMs`; kills every process of the task. */
  kill(gracePeriodMs: number): Promise<void>;
}

export interface ResourceStatistics {
  timestamp: number;
  cpus_user_time_secs?: number;
  cpus_system_time_secs?: number;
  cpus_limit?: number;
  mem_rss_bytes?: number;
  mem_limit_bytes?: number;
}

/** Recovery found the container gone while the agent was down. */
export interface RecoveredGone {
  gone: true;
  exit: ContainerExit;
}

/**
 * The grace between SIGTERM and SIGKILL: the caller's when given (>= 0), else the task's kill
 * policy, else the containerizer's default.
 */
export function resolveGraceMs(task: TaskInfo, requestedMs: number, fallbackMs: number): number {
  if (Number.isFinite(requestedMs) && requestedMs >= 0) return requestedMs;
  const policy = task.kill_policy?.grace_period_seconds;
  return policy !== undefined ? policy * 1000 : fallbackMs;
}

/**
 * A launch that could not start (the catalogue's ContainerLaunchFailed, with the Mesos reason): the
 * task gets TASK_FAILED with this reason and message.
 */
export class ContainerLaunchError extends ContainerLaunchFailed {
  constructor(
    message: string,
    readonly reason: string = 'REASON_CONTAINER_LAUNCH_FAILED',
  ) {
    super(message);
  }
}

export interface Containerizer {
  readonly name: string;
  /** Whether this containerizer can run on this host; with a reason when not. */
  available(): Promise<{ ok: true } | { ok: false; reason: string }>;
  /** Whether this containerizer handles this task (e.g. docker only takes DOCKER containers). */
  canLaunch(task: TaskInfo): boolean;
  /** Starts the task; resolves once it is running. Throws ContainerLaunchError when it cannot start. */
  launch(spec: LaunchSpec): Promise<RunningContainer>;
  /** Finds a checkpointed container again after an agent restart. */
  recover(handle: ContainerHandle, spec: LaunchSpec): Promise<RunningContainer | RecoveredGone>;
  /** CPU and memory figures for a running container (cgroups or docker stats). */
  usage(handle: ContainerHandle): Promise<ResourceStatistics | undefined>;
  /**
   * Runs a command inside the container (COMMAND health checks), where the container has a view
   * of its own (docker). Absent: the agent runs such commands on the host, in the sandbox.
   */
  exec?(
    handle: ContainerHandle,
    command: CommandInfo,
    opts: { env: Record<string, string>; timeoutMs: number },
  ): Promise<CommandRunResult>;
  /**
   * The host port through which the agent reaches `containerPort` of the task (HTTP and TCP health
   * checks), when it differs (docker BRIDGE port mappings). Absent or undefined: the same port.
   */
  hostPort?(task: TaskInfo, containerPort: number): number | undefined;
}
