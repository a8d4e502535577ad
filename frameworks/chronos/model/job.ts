/**
 * The one internal job model both faces map to and from (chronos.ts, metronome.ts). A job posted
 * through Chronos's API is readable through Metronome's and the reverse, wherever a field has a
 * counterpart; fields only one face knows are kept so a round trip through that face loses nothing.
 * docs/chronos-jobs.md has the mapping table.
 */
import type { Schedule } from './schedule.js';

/** What happens to due times missed while no leader ran (downtime, failover). */
export const MissedRunPolicy = { RUN_ONCE: 'RUN_ONCE', RUN_ALL: 'RUN_ALL', SKIP: 'SKIP' } as const;
export type MissedRunPolicy = (typeof MissedRunPolicy)[keyof typeof MissedRunPolicy];

/** What happens when a run is due while another run of the job is active (Kubernetes CronJob's). */
export const ConcurrencyPolicy = { ALLOW: 'ALLOW', FORBID: 'FORBID', REPLACE: 'REPLACE' } as const;
export type ConcurrencyPolicy = (typeof ConcurrencyPolicy)[keyof typeof ConcurrencyPolicy];

export const RestartPolicy = { NEVER: 'NEVER', ON_FAILURE: 'ON_FAILURE' } as const;
export type RestartPolicy = (typeof RestartPolicy)[keyof typeof RestartPolicy];

/** An environment variable: a plain value or a reference to a named secret (values never stored here). */
export type EnvValue = { value: string } | { secret: string };

export interface FetchUri {
  uri: string;
  executable: boolean;
  extract: boolean;
  cache: boolean;
  /** Chronos's `output_file`; '' when not given. */
  outputFile: string;
}

/** A placement rule. Operators: Chronos EQUALS/LIKE/UNLIKE, Metronome IS/EQ/LIKE/UNLIKE (EQ and EQUALS mean IS). */
export interface Constraint {
  attribute: string;
  operator: 'IS' | 'LIKE' | 'UNLIKE';
  value: string;
}

export interface Volume {
  containerPath: string;
  hostPath?: string;
  mode?: 'RO' | 'RW';
  /** Metronome: a file-based secret mounted at containerPath. */
  secret?: string;
  /** Chronos: an external (docker volume driver) volume. */
  external?: { name: string; provider: string; options: { key: string; value: string }[] };
}

export interface Container {
  /** DOCKER: the Docker containerizer; MESOS: the Mesos (UCR) containerizer with a Docker image. */
  type: 'DOCKER' | 'MESOS';
  image: string;
  forcePullImage: boolean;
  privileged: boolean;
  /** Chronos's `network` (HOST, BRIDGE, USER); HOST when not given. */
  network: 'HOST' | 'BRIDGE' | 'USER';
  networkName?: string;
  parameters: { key: string; value: string }[];
  /** Metronome's ucr image kind (docker, appc). */
  imageKind?: 'docker' | 'appc';
}

/** Metronome `run.networks` / Chronos `container.networkInfos`, kept as given. */
export interface JobNetwork {
  name?: string;
  mode?: 'host' | 'container/bridge' | 'container';
  labels: Record<string, string>;
  /** Chronos `networkInfos[].protocol` and `portMappings`, kept as given. */
  protocol?: string;
  portMappings?: { hostPort: number; containerPort: number; protocol?: string }[];
}

/** Counters Chronos returns on GET (and accepts on POST). The runner keeps them current. */
export interface JobCounters {
  successCount: number;
  errorCount: number;
  /** ISO 8601 time of the last success, '' for none. */
  lastSuccess: string;
  /** ISO 8601 time of the last failure, '' for none. */
  lastError: string;
  errorsSinceLastSuccess: number;
}

export interface Job {
  /** Chronos `name` = Metronome `id`. */
  name: string;
  description: string;
  owner: string;
  ownerName: string;
  labels: Record<string, string>;

  /** What to run: with `shell`, `/bin/sh -c command`; without, `command` is the executable and `arguments` its argv. */
  command: string;
  shell: boolean;
  arguments: string[];

  /** A time schedule, or none for a dependent (or manual-only) job. */
  schedule: Schedule | null;
  /** Metronome's schedule id (`default` when created through Chronos). */
  scheduleId: string;
  /** Jobs this one depends on (Chronos `parents`); non-empty ⇒ no schedule. */
  parents: string[];

  /** How long after its due time a run may still start (Chronos `epsilon`, Metronome `startingDeadlineSeconds`), s. */
  startingDeadlineSeconds: number;
  missedRunPolicy: MissedRunPolicy;
  concurrencyPolicy: ConcurrencyPolicy;
  /** Chronos `disabled` = not Metronome schedule `enabled`. */
  disabled: boolean;

  /**
   * Retries after a failed attempt (Chronos `retries`); `null` = no count limit (Metronome ON_FAILURE,
   * bounded by `restart.activeDeadlineSeconds` instead). Only used when restart.policy is ON_FAILURE.
   */
  retries: number | null;
  restart: { policy: RestartPolicy; activeDeadlineSeconds: number | null };
  /** Delay between a failure and its retry, s (Chronos's --failure_retry, 60 s). */
  retryDelaySeconds: number;
  /** Chronos `softError`: a failure does not block children (they see this parent as done). */
  softError: boolean;
  highPriority: boolean;

  cpus: number;
  mem: number;
  disk: number;
  gpus: number;
  container: Container | null;
  networks: JobNetwork[];
  /** Volumes (Chronos `container.volumes`, Metronome `run.volumes`). */
  volumes: Volume[];
  env: Record<string, EnvValue>;
  /** Metronome `run.secrets`: name → store path. */
  secrets: Record<string, { source: string }>;
  fetch: FetchUri[];
  constraints: Constraint[];
  /** Chronos `runAsUser` / Metronome `run.user`; '' means the service's default user. */
  user: string;
  /** Kill a run still going this long after it started (Chronos `maxCompletionTime`), s; 0 = no limit. */
  maxCompletionTimeSeconds: number;
  /** Metronome `maxLaunchDelay`, s. */
  maxLaunchDelaySeconds: number;
  taskKillGracePeriodSeconds: number | null;

  /** Chronos fields kept for a faithful round trip (no behaviour attached). */
  chronosExtras: { executor: string; executorFlags: string; taskInfoData: string; dataProcessingJobType: boolean };

  counters: JobCounters;
}

/** Defaults shared by both faces (each face overrides where its own default differs, see docs). */
export const JOB_DEFAULTS = {
  /** Chronos 3 `--task_epsilon`: 60 s. */
  chronosEpsilonSeconds: 60,
  /** Metronome ScheduleSpec.DefaultStartingDeadline: 15 min. */
  metronomeStartingDeadlineSeconds: 900,
  retries: 2,
  /** Chronos `--failure_retry` 60000 ms. */
  retryDelaySeconds: 60,
  /** Chronos `--mesos_task_cpu`/`mem`/`disk`. */
  chronosCpus: 0.1,
  chronosMem: 128,
  chronosDisk: 256,
  /** Metronome JobRunSpec defaults. */
  metronomeCpus: 1,
  metronomeMem: 128,
  metronomeDisk: 0,
  /** Metronome DefaultMaxLaunchDelay: 1 h. */
  maxLaunchDelaySeconds: 3600,
  missedRunPolicy: MissedRunPolicy.RUN_ONCE,
} as const;

export function emptyCounters(): JobCounters {
  return { successCount: 0, errorCount: 0, lastSuccess: '', lastError: '', errorsSinceLastSuccess: 0 };
}

/** A validation problem: where (a JSON pointer-ish path such as `/run/cpus`) and what is wrong. */
export interface Problem {
  path: string;
  message: string;
}

export type Checked<T> = { ok: true; value: T } | { ok: false; problems: Problem[] };
