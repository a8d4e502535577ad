/**
 * History statistics computed from run records: Chronos's `job/stat/{name}` and `stats/{percentile}`,
 * its job summary and graph states, the counters a Chronos GET shows, and Metronome's
 * `history`/`historySummary`.
 */

/** Final and in-between states of a run. */
export const RunState = {
  /** Recorded, waiting for resources. */
  PENDING: 'PENDING',
  /** An attempt is launched or running. */
  RUNNING: 'RUNNING',
  SUCCESS: 'SUCCESS',
  FAILED: 'FAILED',
  /** Never started: the reason says why (missed, deadline, concurrency …). */
  SKIPPED: 'SKIPPED',
  /** Killed on request (kill, REPLACE, maxCompletionTime). */
  KILLED: 'KILLED',
} as const;
export type RunState = (typeof RunState)[keyof typeof RunState];

/** One run as the history keeps it (one record per run; `attempt` is the last attempt's number). */
export interface RunRecord {
  jobName: string;
  runId: string;
  /** Due time (ms), null for a manual run. */
  due: number | null;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  state: RunState;
  exitStatus: number | null;
  agentId: string | null;
  taskId: string | null;
  attempt: number;
  /** Why it was skipped, killed or failed. */
  reason?: string;
}

const FINISHED = new Set<RunState>([RunState.SUCCESS, RunState.FAILED, RunState.KILLED, RunState.SKIPPED]);

export function isFinished(r: RunRecord): boolean {
  return FINISHED.has(r.state);
}

/** A quantile the way Dropwizard's snapshot (which Chronos used) interpolates it. */
export function quantile(sorted: readonly number[], q: number): number {
  const n = sorted.length;
  if (n === 0) return 0;
  const pos = q * (n + 1);
  if (pos < 1) return sorted[0];
  if (pos >= n) return sorted[n - 1];
  const lower = sorted[Math.floor(pos) - 1];
  const upper = sorted[Math.floor(pos)];
  return lower + (pos - Math.floor(pos)) * (upper - lower);
}

/** Chronos's percentile names, as in `GET stats/{name}` and the `histogram` of `job/stat`. */
export const PERCENTILES = {
  '75thPercentile': 0.75,
  '95thPercentile': 0.95,
  '98thPercentile': 0.98,
  '99thPercentile': 0.99,
  median: 0.5,
} as const;
export type StatName = keyof typeof PERCENTILES | 'mean';
export const STAT_NAMES: readonly StatName[] = [
  '99thPercentile',
  '98thPercentile',
  '95thPercentile',
  '75thPercentile',
  'median',
  'mean',
];

export interface Histogram {
  '75thPercentile': number;
  '95thPercentile': number;
  '98thPercentile': number;
  '99thPercentile': number;
  median: number;
  /** The real mean (Chronos printed its median here by mistake). */
  mean: number;
  count: number;
}

/** Durations (ms) of the successful runs, the sample Chronos's histogram was fed. */
function durations(records: readonly RunRecord[]): number[] {
  return records
    .filter((r) => r.state === RunState.SUCCESS && r.startedAt !== null && r.finishedAt !== null)
    .map((r) => (r.finishedAt as number) - (r.startedAt as number))
    .sort((a, b) => a - b);
}

/** The run-time histogram, in ms. */
export function histogram(records: readonly RunRecord[]): Histogram {
  const d = durations(records);
  const h = Object.fromEntries(Object.entries(PERCENTILES).map(([k, q]) => [k, quantile(d, q)])) as Omit<
    Histogram,
    'mean' | 'count'
  >;
  return { ...h, mean: d.length ? d.reduce((a, b) => a + b, 0) / d.length : 0, count: d.length };
}

function iso(ms: number | null): string {
  return ms === null ? 'N/A' : new Date(ms).toISOString();
}

/** ISO 8601 duration text of ms (`PT1M5.250S`). */
function isoDuration(ms: number): string {
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = (ms % 60_000) / 1000;
  return `PT${h ? h + 'H' : ''}${m ? m + 'M' : ''}${s || (!h && !m) ? s + 'S' : ''}`;
}

/** `GET job/stat/{name}`: `{histogram, taskStatHistory}` (newest first). */
export function chronosJobStat(records: readonly RunRecord[], limit = 100): Record<string, unknown> {
  const history = records
    .filter((r) => r.startedAt !== null)
    .sort((a, b) => (b.startedAt as number) - (a.startedAt as number))
    .slice(0, limit)
    .map((r) => ({
      taskId: r.taskId ?? '',
      jobName: r.jobName,
      slaveId: r.agentId ?? '',
      startTime: iso(r.startedAt),
      endTime: iso(r.finishedAt),
      ...(r.startedAt !== null && r.finishedAt !== null ? { duration: isoDuration(r.finishedAt - r.startedAt) } : {}),
      status: r.state === RunState.SUCCESS ? 'finished' : r.state === RunState.RUNNING ? 'running' : 'failed',
      ...(r.exitStatus !== null ? { exitStatus: r.exitStatus } : {}),
      attempt: r.attempt,
      runId: r.runId,
      ...(r.due !== null ? { due: iso(r.due) } : {}),
    }));
  return { histogram: histogram(records), taskStatHistory: history };
}

/** `GET stats/{name}`: jobs by that statistic of their run time, largest first, in seconds. */
export function chronosStatsList(
  byJob: ReadonlyMap<string, readonly RunRecord[]>,
  stat: StatName,
): { jobNameLabel: string; time: number }[] {
  const out: { jobNameLabel: string; time: number }[] = [];
  for (const [name, records] of byJob) {
    const h = histogram(records);
    if (h.count > 0) out.push({ jobNameLabel: name, time: h[stat] / 1000 });
  }
  return out.sort((a, b) => b.time - a.time || (a.jobNameLabel < b.jobNameLabel ? -1 : 1));
}

/** Chronos's last state: `success`, `failure` or `fresh` (never ran). Skipped runs do not count. */
export function lastState(records: readonly RunRecord[]): 'success' | 'failure' | 'fresh' {
  let last: RunRecord | null = null;
  for (const r of records) {
    if (r.state !== RunState.SUCCESS && r.state !== RunState.FAILED && r.state !== RunState.KILLED) continue;
    if (last === null || (r.finishedAt ?? 0) >= (last.finishedAt ?? 0)) last = r;
  }
  return last === null ? 'fresh' : last.state === RunState.SUCCESS ? 'success' : 'failure';
}

/** Chronos's current state: `idle`, `queued` (waiting for resources) or `N running`. */
export function currentState(records: readonly RunRecord[]): string {
  const running = records.filter((r) => r.state === RunState.RUNNING).length;
  if (running > 0) return `${running} running`;
  return records.some((r) => r.state === RunState.PENDING) ? 'queued' : 'idle';
}

/** One entry of `GET jobs/summary` (Chronos's `{jobs:[…]}`). */
export function chronosSummary(
  job: { name: string; disabled: boolean; parents: readonly string[]; scheduleText: string },
  records: readonly RunRecord[],
): { name: string; status: string; state: string; schedule: string; parents: string[]; disabled: boolean } {
  return {
    name: job.name,
    status: lastState(records),
    state: currentState(records),
    schedule: job.parents.length > 0 ? '' : job.scheduleText,
    parents: [...job.parents],
    disabled: job.disabled,
  };
}

/** The counters a Chronos GET shows, computed from the kept history on top of the job's base counters. */
export function chronosCounters(
  base: { successCount: number; errorCount: number; lastSuccess: string; lastError: string },
  records: readonly RunRecord[],
): {
  successCount: number;
  errorCount: number;
  lastSuccess: string;
  lastError: string;
  errorsSinceLastSuccess: number;
} {
  const s = metronomeHistorySummary(records);
  const since = records.filter(
    (r) =>
      r.state === RunState.FAILED &&
      r.finishedAt !== null &&
      (s.lastSuccessAt === null || r.finishedAt > Date.parse(s.lastSuccessAt)),
  ).length;
  return {
    successCount: base.successCount + s.successCount,
    errorCount: base.errorCount + s.failureCount,
    lastSuccess: s.lastSuccessAt ?? base.lastSuccess,
    lastError: s.lastFailureAt ?? base.lastError,
    errorsSinceLastSuccess: since,
  };
}

/** Metronome's `historySummary`. Failures are failed and killed runs; skipped runs are not runs. */
export function metronomeHistorySummary(records: readonly RunRecord[]): {
  successCount: number;
  failureCount: number;
  lastSuccessAt: string | null;
  lastFailureAt: string | null;
} {
  let successCount = 0;
  let failureCount = 0;
  let lastS: number | null = null;
  let lastF: number | null = null;
  for (const r of records) {
    const t = r.finishedAt ?? r.createdAt;
    if (r.state === RunState.SUCCESS) {
      successCount++;
      if (lastS === null || t > lastS) lastS = t;
    } else if (r.state === RunState.FAILED || r.state === RunState.KILLED) {
      failureCount++;
      if (lastF === null || t > lastF) lastF = t;
    }
  }
  return {
    successCount,
    failureCount,
    lastSuccessAt: lastS === null ? null : new Date(lastS).toISOString(),
    lastFailureAt: lastF === null ? null : new Date(lastF).toISOString(),
  };
}

/** Metronome's `history` embed: the summary plus the finished runs. */
export function metronomeHistory(records: readonly RunRecord[]): Record<string, unknown> {
  const run = (r: RunRecord) => ({
    id: r.runId,
    createdAt: new Date(r.createdAt).toISOString(),
    finishedAt: r.finishedAt === null ? null : new Date(r.finishedAt).toISOString(),
  });
  return {
    ...metronomeHistorySummary(records),
    successfulFinishedRuns: records.filter((r) => r.state === RunState.SUCCESS).map(run),
    failedFinishedRuns: records.filter((r) => r.state === RunState.FAILED || r.state === RunState.KILLED).map(run),
  };
}

/** Metronome's run status of a record: INITIAL, STARTING, ACTIVE, SUCCESS, FAILED. */
export function metronomeRunStatus(r: RunRecord): 'INITIAL' | 'STARTING' | 'ACTIVE' | 'SUCCESS' | 'FAILED' {
  switch (r.state) {
    case RunState.PENDING:
      return r.taskId === null ? 'INITIAL' : 'STARTING';
    case RunState.RUNNING:
      return 'ACTIVE';
    case RunState.SUCCESS:
      return 'SUCCESS';
    default:
      return 'FAILED';
  }
}

/**
 * A run as Metronome's `GET /v1/jobs/{id}/runs/{runId}` shows it. `taskState` is the Mesos state of
 * the current attempt's task (`TASK_RUNNING` …), when the service knows it.
 */
export function metronomeRunView(r: RunRecord, taskState?: string): Record<string, unknown> {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    id: r.runId,
    jobId: r.jobName,
    status: metronomeRunStatus(r),
    createdAt: iso(r.createdAt),
    completedAt: isFinished(r) ? iso(r.finishedAt ?? r.createdAt) : null,
    tasks:
      r.taskId === null
        ? []
        : [
            {
              id: r.taskId,
              startedAt: iso(r.startedAt),
              completedAt: iso(r.finishedAt),
              status: taskState ?? taskStateOf(r),
            },
          ],
    ...(r.reason ? { reason: r.reason } : {}),
  };
}

function taskStateOf(r: RunRecord): string {
  switch (r.state) {
    case RunState.PENDING:
      return 'TASK_STAGING';
    case RunState.RUNNING:
      return 'TASK_RUNNING';
    case RunState.SUCCESS:
      return 'TASK_FINISHED';
    case RunState.KILLED:
      return 'TASK_KILLED';
    default:
      return 'TASK_FAILED';
  }
}

/**
 * The records to keep when a job's history is trimmed to `keep` runs: every unfinished run, and the
 * newest finished ones (by finish, else creation time) up to `keep` in all. Order is preserved.
 */
export function trimHistory<R extends RunRecord>(records: readonly R[], keep: number): R[] {
  const limit = Math.max(0, Math.floor(keep));
  const active = records.filter((r) => !isFinished(r));
  const room = Math.max(0, limit - active.length);
  const finished = records
    .filter(isFinished)
    .map((r, i) => ({ r, i, t: r.finishedAt ?? r.createdAt }))
    .sort((a, b) => b.t - a.t || b.i - a.i)
    .slice(0, room);
  const kept = new Set<R>([...active, ...finished.map((f) => f.r)]);
  return records.filter((r) => kept.has(r));
}
