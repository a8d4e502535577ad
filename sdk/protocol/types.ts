/**
 * The shapes that travel between components, in the spirit of Mesos's v1 protobufs (snake_case
 * field names, so that a Mesos user recognises them). Resources use Mesos's JSON form.
 */
import type { Resource } from '../resources/resources.js';

export const TaskState = {
  STAGING: 'TASK_STAGING',
  STARTING: 'TASK_STARTING',
  RUNNING: 'TASK_RUNNING',
  KILLING: 'TASK_KILLING',
  FINISHED: 'TASK_FINISHED',
  FAILED: 'TASK_FAILED',
  KILLED: 'TASK_KILLED',
  ERROR: 'TASK_ERROR',
  LOST: 'TASK_LOST',
  DROPPED: 'TASK_DROPPED',
  UNREACHABLE: 'TASK_UNREACHABLE',
  GONE: 'TASK_GONE',
  GONE_BY_OPERATOR: 'TASK_GONE_BY_OPERATOR',
  UNKNOWN: 'TASK_UNKNOWN',
} as const;
export type TaskState = (typeof TaskState)[keyof typeof TaskState];

export const TERMINAL_STATES: ReadonlySet<TaskState> = new Set([
  TaskState.FINISHED,
  TaskState.FAILED,
  TaskState.KILLED,
  TaskState.ERROR,
  TaskState.LOST,
  TaskState.DROPPED,
  TaskState.GONE,
  TaskState.GONE_BY_OPERATOR,
]);

export function isTerminal(state: TaskState): boolean {
  return TERMINAL_STATES.has(state);
}

export interface EnvironmentVariable {
  name: string;
  value: string;
}

export interface CommandUri {
  value: string;
  executable?: boolean;
  extract?: boolean;
  cache?: boolean;
  output_file?: string;
}

export interface CommandInfo {
  /** With `shell` (default true) run through `/bin/sh -c`; otherwise the executable path. */
  value?: string;
  shell?: boolean;
  arguments?: string[];
  environment?: { variables: EnvironmentVariable[] };
  uris?: CommandUri[];
  user?: string;
}

export interface PortMapping {
  host_port: number;
  container_port: number;
  protocol?: string;
}

export interface Volume {
  container_path: string;
  host_path?: string;
  mode: 'RW' | 'RO';
}

export interface DockerInfo {
  image: string;
  network?: 'HOST' | 'BRIDGE' | 'NONE';
  port_mappings?: PortMapping[];
  privileged?: boolean;
  parameters?: { key: string; value: string }[];
  force_pull_image?: boolean;
}

export interface ContainerInfo {
  /** DOCKER → docker containerizer; MESOS → linux (or posix) containerizer. */
  type: 'DOCKER' | 'MESOS';
  docker?: DockerInfo;
  volumes?: Volume[];
  hostname?: string;
  /** Agora extension: name the containerizer to use (`docker`, `linux`, `posix`). */
  containerizer?: string;
  /** For the linux containerizer: give the task its own network namespace. */
  network_isolation?: boolean;
}

export interface HealthCheck {
  type: 'HTTP' | 'TCP' | 'COMMAND';
  http?: { port: number; path?: string; scheme?: string; statuses?: number[] };
  tcp?: { port: number };
  command?: CommandInfo;
  delay_seconds?: number;
  interval_seconds?: number;
  timeout_seconds?: number;
  consecutive_failures?: number;
  grace_period_seconds?: number;
}

export interface Label {
  key: string;
  value?: string;
}

export interface TaskInfo {
  name: string;
  task_id: string;
  agent_id: string;
  resources: Resource[];
  command?: CommandInfo;
  container?: ContainerInfo;
  health_check?: HealthCheck;
  kill_policy?: { grace_period_seconds?: number };
  labels?: { labels: Label[] };
}

export interface TaskStatus {
  task_id: string;
  state: TaskState;
  message?: string;
  /** Mesos reasons: REASON_COMMAND_EXECUTOR_FAILED, REASON_CONTAINER_LIMITATION_MEMORY, ... */
  reason?: string;
  source?: 'SOURCE_MASTER' | 'SOURCE_AGENT' | 'SOURCE_EXECUTOR';
  agent_id?: string;
  healthy?: boolean;
  /** Seconds since the epoch, as a float (Mesos). */
  timestamp: number;
  /** Set on updates that need an acknowledgement. */
  uuid?: string;
  /** Exit status of a command task. */
  exit_status?: number;
}

export interface FrameworkInfo {
  id?: string;
  name: string;
  user?: string;
  hostname?: string;
  roles?: string[];
  /** Seconds the master keeps a disconnected framework's tasks before tearing it down. */
  failover_timeout?: number;
  checkpoint?: boolean;
  /** e.g. PARTITION_AWARE, MULTI_ROLE */
  capabilities?: { type: string }[];
  principal?: string;
  webui_url?: string;
}

export interface Offer {
  id: string;
  framework_id: string;
  agent_id: string;
  hostname: string;
  resources: Resource[];
  attributes: Record<string, string>;
  /** The role these resources are allocated to. */
  allocation_role: string;
}

export interface Filters {
  refuse_seconds?: number;
}

export type Operation =
  | { type: 'LAUNCH'; launch: { task_infos: TaskInfo[] } }
  | { type: 'RESERVE'; reserve: { resources: Resource[] } }
  | { type: 'UNRESERVE'; unreserve: { resources: Resource[] } };

export interface MasterInfo {
  id: string;
  pid: string;
  hostname: string;
  port: number;
  address: { hostname: string; ip: string; port: number };
  version: string;
}

export interface AgentInfo {
  id?: string;
  hostname: string;
  port: number;
  resources: Resource[];
  attributes: Record<string, string>;
}

/** A task as the agent reports it when it re-registers (and as the master keeps it). */
export interface TaskRecord {
  task: TaskInfo;
  framework_id: string;
  state: TaskState;
  /** The latest status (acknowledged or not). */
  status?: TaskStatus;
}
