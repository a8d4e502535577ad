/**
 * Deterministic run and task ids. A scheduled due time has exactly one run id, so a new leader that
 * computes the same due time finds the run the old leader recorded instead of starting another
 * (the service records the run durably under this id before it launches anything).
 */

/** `20261130T120000.000Z`: the due time in UTC, compact, sortable. */
function compact(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '');
}

/** The run id of a scheduled due time (unique per job; Metronome's run ids are per job too). */
export function runIdFor(due: number): string {
  return compact(due);
}

/**
 * The run id of a run a dependency triggered: one per (child, trigger time), the trigger time being
 * the time the last parent finished (kept in the graph state, so a new leader gets the same id).
 */
export function dependentRunIdFor(triggeredAt: number): string {
  return 'dep-' + compact(triggeredAt);
}

/** The run id of a manual run (`PUT job/{name}`, `POST /v1/jobs/{id}/runs`): the request time and a sequence number. */
export function manualRunIdFor(requestedAt: number, seq: number): string {
  return `manual-${compact(requestedAt)}-${seq}`;
}

/**
 * The Mesos task id of one attempt of a run, in Chronos's form `ct:<due ms>:<attempt>:<job name>`
 * (its own tools parse it), extended with the run id so tasks of manual runs stay distinct.
 */
export function taskIdFor(jobName: string, runId: string, due: number, attempt: number): string {
  return `ct:${due}:${attempt}:${jobName}:${runId}`;
}

/** Parses a task id made by {@link taskIdFor}; null when it is not one. */
export function parseTaskId(taskId: string): { due: number; attempt: number; jobName: string; runId: string } | null {
  const m = /^ct:(\d+):(\d+):(.+):([^:]+)$/.exec(taskId);
  if (!m) return null;
  return { due: Number(m[1]), attempt: Number(m[2]), jobName: m[3], runId: m[4] };
}
