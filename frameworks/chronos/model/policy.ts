/**
 * The runner's decisions, as pure functions of a snapshot and `now`:
 *
 * - {@link planDueTimes}: which due times have come, and for each a run or a recorded skip with its
 *   reason, applying the missed-run policy (after downtime or failover), the starting deadline and
 *   the concurrency policy. Nothing is dropped silently: more due times than the answer may hold
 *   come back as one counted skipped range.
 * - {@link launchExpired}: a run that could not start by its deadline is skipped.
 * - {@link retryDecision}: after a failed attempt, retry later or give up.
 * - {@link completionDeadline}: when a running attempt is killed (`maxCompletionTime`).
 *
 * The service persists the decisions (and the new `lastDue`) before acting on them.
 */
import { isoIndexAtOrAfter } from './iso8601.js';
import type { Job } from './job.js';
import { ConcurrencyPolicy, MissedRunPolicy, RestartPolicy } from './job.js';
import { dependentRunIdFor, runIdFor } from './run-id.js';
import { dueAfter, dueTimesBetween } from './schedule.js';

/** Why a due time did not become a run. */
export const SkipReason = {
  /** The due time passed its starting deadline while no leader ran, and the job's policy is SKIP. */
  MISSED: 'MISSED',
  /** RUN_ONCE: several due times were missed; one run stands for all of them. */
  COALESCED: 'COALESCED',
  /** RUN_ALL: more missed due times than the catch-up limit. */
  CATCH_UP_LIMIT: 'CATCH_UP_LIMIT',
  /** The run could not start within epsilon / startingDeadlineSeconds of its due time. */
  STARTING_DEADLINE: 'STARTING_DEADLINE',
  /** FORBID (Chronos `concurrent: false`): a run of the job was still active. */
  CONCURRENCY_FORBID: 'CONCURRENCY_FORBID',
  /** REPLACE: a later due time in the same batch replaced this one before it started. */
  REPLACED: 'REPLACED',
} as const;
export type SkipReason = (typeof SkipReason)[keyof typeof SkipReason];

export type DueDecision =
  | {
      due: number;
      runId: string;
      action: 'run';
      /** Latest start (ms): due + deadline, or now + deadline for a missed due time run late on purpose. */
      startBy: number;
    }
  | { due: number; runId: string; action: 'skip'; reason: SkipReason; message: string };

export interface PlanInput {
  job: Pick<Job, 'schedule' | 'missedRunPolicy' | 'startingDeadlineSeconds' | 'concurrencyPolicy' | 'disabled'>;
  /** The last due time already handled (run or skipped), or null for a job never due yet. */
  lastDue: number | null;
  now: number;
  /** Run ids of the job's runs not yet finished (launched or waiting for resources). */
  activeRunIds: readonly string[];
  /** RUN_ALL: most missed runs started at once (default 100); further ones are skipped with a reason. */
  catchUpLimit?: number;
  /** Most decisions in one answer (default 1000); the rest come back in `skippedRange`. */
  maxDecisions?: number;
}

export interface Plan {
  decisions: DueDecision[];
  /** REPLACE: active runs to kill because a new run replaces them. */
  replace: { runId: string; message: string }[];
  /** Due times beyond `maxDecisions`, recorded as one skipped range: `(after, until]`, `count` when known. */
  skippedRange: { after: number; until: number; count: number | null; reason: SkipReason; message: string } | null;
  /** The new watermark to persist with the decisions. */
  lastDue: number | null;
  /** The next due time after the watermark (null: the schedule has ended, disable the job). */
  nextDue: number | null;
}

const DEFAULT_CATCH_UP = 100;
const DEFAULT_MAX_DECISIONS = 1000;
// Kept well under dueTimesBetween's ceiling so the backwards walk in latestDueTimes never truncates.
const MAX_DECISIONS = 20_000;

/** Decides every due time in (lastDue, now]. */
export function planDueTimes(input: PlanInput): Plan {
  const { job, now } = input;
  const empty: Plan = { decisions: [], replace: [], skippedRange: null, lastDue: input.lastDue, nextDue: null };
  const s = job.schedule;
  if (!s) return empty;
  const after = input.lastDue ?? now - 1;
  const max = Math.max(1, Math.min(input.maxDecisions ?? DEFAULT_MAX_DECISIONS, MAX_DECISIONS));
  // The newest due times matter most (a RUN_ONCE catch-up runs the latest): when there are more than
  // `max`, the oldest are the ones folded into the skipped range.
  const { times, truncated } = dueTimesBetween(s, after, now, max);
  let due = times;
  let skippedRange: Plan['skippedRange'] = null;
  if (truncated) {
    const latest = latestDueTimes(s, after, now, max);
    const first = latest[0];
    skippedRange = {
      after,
      until: first - 1,
      count: s.kind === 'iso' ? isoIndexAtOrAfter(s, first) - isoIndexAtOrAfter(s, after + 1) : null,
      reason:
        job.missedRunPolicy === MissedRunPolicy.RUN_ONCE
          ? SkipReason.COALESCED
          : job.missedRunPolicy === MissedRunPolicy.RUN_ALL
            ? SkipReason.CATCH_UP_LIMIT
            : SkipReason.MISSED,
      message: `more than ${max} due times came at once (downtime, failover); the oldest are recorded as this one range (missed-run policy ${job.missedRunPolicy})`,
    };
    due = latest;
  }
  const watermark = due.length > 0 ? due[due.length - 1] : input.lastDue;
  const nextDue = watermark === null ? dueAfter(s, now) : dueAfter(s, watermark);
  if (job.disabled) return { ...empty, lastDue: watermark, nextDue, skippedRange: null };

  const deadlineMs = job.startingDeadlineSeconds * 1000;
  const missed = due.filter((d) => now - d > deadlineMs);
  const onTime = due.filter((d) => now - d <= deadlineMs);
  const decisions: DueDecision[] = [];
  const skip = (d: number, reason: SkipReason, message: string) =>
    decisions.push({ due: d, runId: runIdFor(d), action: 'skip', reason, message });
  const toRun: number[] = [];

  if (missed.length > 0) {
    const late = (d: number) => `due ${new Date(d).toISOString()}, ${Math.round((now - d) / 1000)} s ago`;
    if (job.missedRunPolicy === MissedRunPolicy.SKIP) {
      for (const d of missed)
        skip(d, SkipReason.MISSED, `${late(d)}, past its starting deadline; missed-run policy SKIP`);
    } else if (job.missedRunPolicy === MissedRunPolicy.RUN_ONCE) {
      const keep = onTime.length > 0 ? null : missed[missed.length - 1];
      for (const d of missed) {
        if (d === keep) toRun.push(d);
        else skip(d, SkipReason.COALESCED, `${late(d)}; missed-run policy RUN_ONCE runs one run for the missed ones`);
      }
    } else {
      const limit = Math.max(0, input.catchUpLimit ?? DEFAULT_CATCH_UP);
      const over = Math.max(0, missed.length - limit);
      missed.forEach((d, i) => {
        if (i < over) skip(d, SkipReason.CATCH_UP_LIMIT, `${late(d)}; more than ${limit} missed runs (RUN_ALL limit)`);
        else toRun.push(d);
      });
    }
  }
  toRun.push(...onTime);

  // Concurrency: a due time while a run is active (or an earlier run of this batch) is active.
  const replace: Plan['replace'] = [];
  const runs: number[] = [];
  if (job.concurrencyPolicy === ConcurrencyPolicy.ALLOW) runs.push(...toRun);
  else if (job.concurrencyPolicy === ConcurrencyPolicy.FORBID) {
    let busy = input.activeRunIds.length > 0;
    for (const d of toRun) {
      if (busy)
        skip(
          d,
          SkipReason.CONCURRENCY_FORBID,
          'a run of this job was still active (concurrency FORBID / concurrent: false)',
        );
      else {
        runs.push(d);
        busy = true;
      }
    }
  } else {
    const last = toRun[toRun.length - 1];
    for (const d of toRun) {
      if (d === last) runs.push(d);
      else skip(d, SkipReason.REPLACED, 'a later due time replaced this run before it started (concurrency REPLACE)');
    }
    if (last !== undefined)
      for (const runId of input.activeRunIds)
        replace.push({
          runId,
          message: `replaced by the run due ${new Date(last).toISOString()} (concurrency REPLACE)`,
        });
  }
  // An on-time run must start within the deadline of its due time; a missed one run on purpose
  // (RUN_ONCE, RUN_ALL) gets the deadline from now.
  const missedSet = new Set(missed);
  for (const d of runs)
    decisions.push({ due: d, runId: runIdFor(d), action: 'run', startBy: (missedSet.has(d) ? now : d) + deadlineMs });
  decisions.sort((a, b) => a.due - b.due);
  return { decisions, replace, skippedRange, lastDue: watermark, nextDue };
}

/** The latest `max` due times in (after, until], oldest first. */
function latestDueTimes(s: NonNullable<Job['schedule']>, after: number, until: number, max: number): number[] {
  // Walk back in windows from `until` until enough are found (the schedule only walks forward).
  let span = 60_000;
  for (;;) {
    const from = Math.max(after, until - span);
    const { times, truncated } = dueTimesBetween(s, from, until, 100_000);
    if (times.length >= max || from === after || truncated) return times.slice(-max);
    span *= 4;
  }
}

/** True when a run waiting to start has passed its `startBy` (record it as skipped: STARTING_DEADLINE). */
export function launchExpired(run: { startBy: number; startedAt: number | null }, now: number): boolean {
  return run.startedAt === null && now > run.startBy;
}

/**
 * A dependent child's run, once its parents are done (graph.ts `recordParentFinished`): its run id
 * (the same on any leader) and the latest start, the child's deadline after the trigger.
 */
export function dependentRun(
  child: Pick<Job, 'startingDeadlineSeconds'>,
  triggeredAt: number,
): { runId: string; startBy: number } {
  return { runId: dependentRunIdFor(triggeredAt), startBy: triggeredAt + child.startingDeadlineSeconds * 1000 };
}

/** `startBy` of a manual run: Metronome's `maxLaunchDelay` after the request. */
export function manualStartBy(job: Pick<Job, 'maxLaunchDelaySeconds'>, requestedAt: number): number {
  return requestedAt + job.maxLaunchDelaySeconds * 1000;
}

export type RetryDecision =
  | { action: 'retry'; attempt: number; at: number }
  | { action: 'give-up'; reason: 'NO_RESTART' | 'RETRIES_EXHAUSTED' | 'ACTIVE_DEADLINE'; message: string };

/**
 * After attempt `attempt` (1 = the first) of a run failed at `failedAt`: retry after the job's delay,
 * or give up. Chronos: `retries` more attempts (2 → three in all). Metronome: `restart.policy`
 * ON_FAILURE retries until `activeDeadlineSeconds` after the run was created (for ever without it).
 */
export function retryDecision(
  job: Pick<Job, 'retries' | 'restart' | 'retryDelaySeconds'>,
  run: { attempt: number; createdAt: number },
  failedAt: number,
): RetryDecision {
  if (job.restart.policy === RestartPolicy.NEVER)
    return { action: 'give-up', reason: 'NO_RESTART', message: 'restart policy NEVER' };
  if (job.retries !== null && run.attempt > job.retries)
    return {
      action: 'give-up',
      reason: 'RETRIES_EXHAUSTED',
      message: `failed ${run.attempt} times (retries: ${job.retries})`,
    };
  const at = failedAt + job.retryDelaySeconds * 1000;
  const dl = job.restart.activeDeadlineSeconds;
  if (dl !== null && at > run.createdAt + dl * 1000)
    return {
      action: 'give-up',
      reason: 'ACTIVE_DEADLINE',
      message: `the next attempt would start past activeDeadlineSeconds (${dl} s after the run began)`,
    };
  return { action: 'retry', attempt: run.attempt + 1, at };
}

/** When a running attempt that started at `startedAt` must be killed (`maxCompletionTime`), or null. */
export function completionDeadline(job: Pick<Job, 'maxCompletionTimeSeconds'>, startedAt: number): number | null {
  return job.maxCompletionTimeSeconds > 0 ? startedAt + job.maxCompletionTimeSeconds * 1000 : null;
}
