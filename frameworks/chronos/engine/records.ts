/**
 * What the engine keeps durably, per job, in one Store key (so every decision about a job is one
 * compare-and-set): the job (the model's internal Job, with its counters), its schedule watermark,
 * dependency bookkeeping and its runs not yet moved to history. History has its own key per job,
 * trimmed to a configured length.
 */
import { createHash } from 'node:crypto';
import { type Job, RunState as ModelRunState, type RunRecord, taskIdFor } from '../model/index.js';

export type RunState = 'QUEUED' | 'LAUNCHED' | 'SUCCESS' | 'FAILED' | 'SKIPPED' | 'KILLED';
export const FINAL_RUN_STATES: ReadonlySet<RunState> = new Set(['SUCCESS', 'FAILED', 'SKIPPED', 'KILLED']);

export interface Run {
  /** Unique per job and deterministic: the model's runIdFor(due) for scheduled runs (manual-…, dep-… otherwise). */
  id: string;
  job: string;
  trigger: 'schedule' | 'manual' | 'dependency';
  /** When it was due (ms since the epoch); for manual and dependency runs, when it was asked for. */
  due: number;
  createdAt: number;
  /** Attempt number, from 1. */
  attempt: number;
  state: RunState;
  /** A manual run's argv (a job without a shell, `?arguments=` added); the job's otherwise. */
  arguments?: string[];
  /** A manual run's command line (a shell job, `?arguments=` appended); the job's otherwise. */
  command?: string;
  /** Not launched before this (a retry's delay). */
  notBefore?: number;
  /** Skipped when not launched by this (epsilon / startingDeadlineSeconds / maxLaunchDelay). */
  deadline?: number;
  taskId?: string;
  agentId?: string;
  hostname?: string;
  launched?: number;
  started?: number;
  ended?: number;
  exitStatus?: number;
  taskState?: string;
  /** Why it was skipped, failed or killed. */
  reason?: string;
  /** A kill was asked for (by a user, REPLACE or maxCompletionTime): no retry follows. */
  killRequested?: string;
  /**
   * The task of an earlier attempt reported lost before it was seen running (the run was queued
   * again). If the master reports that task alive after all (its agent came back, or the report came
   * from a leader that had not seen it start), the run takes it back instead of launching again, or,
   * when the new attempt is already out, the old task is killed: never two tasks for one run.
   */
  lostTaskId?: string;
  lostAgentId?: string;
  /** Set once the children of a final run have been told (dependency bookkeeping). */
  childrenNotified?: boolean;
}

export interface JobState {
  /** The last due time handled (run or recorded as skipped). */
  lastDue: number | null;
  /** Parents that succeeded since this job last ran. */
  parentsDone: string[];
  /** Parent run keys (`<parent>/<run id>`) already counted (idempotent notification), newest last, bounded. */
  seenParentRuns: string[];
  /** Runs not yet moved to history (active, or final and waiting to be flushed). */
  runs: Run[];
  seq: number;
}

export interface JobRecord {
  job: Job;
  state: JobState;
}

export function emptyState(lastDue: number | null): JobState {
  return { lastDue, parentsDone: [], seenParentRuns: [], runs: [], seq: 0 };
}

/** Longest Store key segment (the Store's own limit; sdk/store/store.ts). */
const MAX_KEY_SEGMENT = 200;

/**
 * A Store key segment for a job name (names may hold spaces and '#'). Names the APIs accept can
 * encode to more than a segment may hold (200 characters, or a dotted Metronome id): those are
 * named by a digest instead (the record holds the name; nothing reads a name back from a key).
 */
export function jobKey(name: string): string {
  let out = 'j';
  for (const ch of name) {
    if (/[A-Za-z0-9_-]/.test(ch)) out += ch;
    else out += `~${ch.codePointAt(0)?.toString(16)}~`;
  }
  return out.length <= MAX_KEY_SEGMENT ? out : `h${createHash('sha256').update(name).digest('hex')}`;
}

export const KEYS = {
  frameworkId: 'chronos/framework-id',
  jobs: 'chronos/jobs/',
  job: (name: string) => `chronos/jobs/${jobKey(name)}`,
  history: (name: string) => `chronos/history/${jobKey(name)}`,
};

export function isActive(r: Run): boolean {
  return r.state === 'QUEUED' || r.state === 'LAUNCHED';
}

/** The task id of a run's attempt (Chronos's `ct:<due>:<attempt>:<job>` form, with the run id). */
export function taskIdOf(run: Run): string {
  return taskIdFor(run.job, run.id, run.due, run.attempt);
}

/** A run as the model's statistics read it. */
export function toRunRecord(r: Run): RunRecord {
  const state = r.state === 'QUEUED' ? ModelRunState.PENDING : r.state === 'LAUNCHED' ? ModelRunState.RUNNING : r.state;
  return {
    jobName: r.job,
    runId: r.id,
    due: r.trigger === 'schedule' ? r.due : null,
    createdAt: r.createdAt,
    startedAt: r.started ?? null,
    finishedAt: r.ended ?? null,
    state,
    exitStatus: r.exitStatus ?? null,
    agentId: r.agentId ?? null,
    taskId: r.taskId ?? null,
    attempt: r.attempt,
    ...(r.reason ? { reason: r.reason } : {}),
  };
}
