/**
 * The task-state model of Mesos's TaskState, as a framework reasons about it: which states are
 * still running (active), which are over for good (terminal), which say only that the task is out
 * of reach for now (partition states), and what each terminal state means for a relaunch.
 *
 *   active       STAGING → STARTING → RUNNING → KILLING
 *   partitioned  UNREACHABLE (its agent is out of reach; the task may come back),
 *                UNKNOWN (the master knows nothing of it; reconcile again later)
 *   terminal     FINISHED (success), KILLED (asked for), FAILED, ERROR (never valid),
 *                DROPPED (never started), LOST, GONE, GONE_BY_OPERATOR (its agent is gone)
 */
import { TaskState, TERMINAL_STATES } from '../protocol/types.js';

export { TaskState };

/** States of a task that has not ended and is (as far as the master knows) reachable. */
export const ACTIVE_STATES: ReadonlySet<TaskState> = new Set([
  TaskState.STAGING,
  TaskState.STARTING,
  TaskState.RUNNING,
  TaskState.KILLING,
]);

/** Non-terminal states that say only that the task cannot be seen now (PARTITION_AWARE frameworks). */
export const PARTITION_STATES: ReadonlySet<TaskState> = new Set([TaskState.UNREACHABLE, TaskState.UNKNOWN]);

/** Terminal states that are failures of the task or its agent (not success, not a kill asked for). */
export const FAILURE_STATES: ReadonlySet<TaskState> = new Set([
  TaskState.FAILED,
  TaskState.ERROR,
  TaskState.DROPPED,
  TaskState.LOST,
  TaskState.GONE,
  TaskState.GONE_BY_OPERATOR,
]);

/** Terminal states that mean the task's agent is gone (or was lost) rather than the task failing. */
export const AGENT_LOSS_STATES: ReadonlySet<TaskState> = new Set([
  TaskState.LOST,
  TaskState.GONE,
  TaskState.GONE_BY_OPERATOR,
]);

export { TERMINAL_STATES };

/** Over for good: the task will never run again under this id (Mesos's `isTerminalState`). */
export function isTerminal(state: TaskState): boolean {
  return TERMINAL_STATES.has(state);
}

/** Not ended and reachable: STAGING, STARTING, RUNNING or KILLING. */
export function isActive(state: TaskState): boolean {
  return ACTIVE_STATES.has(state);
}

/** Out of reach for now (UNREACHABLE, UNKNOWN): neither active nor terminal; may come back. */
export function isPartitioned(state: TaskState): boolean {
  return PARTITION_STATES.has(state);
}

/** Terminal and not a success nor a kill that was asked for: FAILED, ERROR, DROPPED, LOST, GONE, GONE_BY_OPERATOR. */
export function isFailure(state: TaskState): boolean {
  return FAILURE_STATES.has(state);
}

/** FINISHED: the task exited by itself with status 0. */
export function isSuccess(state: TaskState): boolean {
  return state === TaskState.FINISHED;
}

/** LOST, GONE or GONE_BY_OPERATOR: the task ended because its agent did. */
export function isAgentLoss(state: TaskState): boolean {
  return AGENT_LOSS_STATES.has(state);
}

/** Whether the task is RUNNING (the command started). */
export function isRunning(state: TaskState): boolean {
  return state === TaskState.RUNNING;
}

export type TaskStateCategory = 'active' | 'partitioned' | 'finished' | 'killed' | 'failed';

/** One word per state, for a framework's switch: active, partitioned, finished, killed or failed. */
export function categoryOf(state: TaskState): TaskStateCategory {
  if (isActive(state)) return 'active';
  if (isPartitioned(state)) return 'partitioned';
  if (state === TaskState.FINISHED) return 'finished';
  if (state === TaskState.KILLED) return 'killed';
  return 'failed';
}

const RANK: Record<TaskState, number> = {
  [TaskState.STAGING]: 0,
  [TaskState.STARTING]: 1,
  [TaskState.RUNNING]: 2,
  [TaskState.KILLING]: 3,
  [TaskState.UNREACHABLE]: 2,
  [TaskState.UNKNOWN]: 0,
  [TaskState.FINISHED]: 9,
  [TaskState.FAILED]: 9,
  [TaskState.KILLED]: 9,
  [TaskState.ERROR]: 9,
  [TaskState.LOST]: 9,
  [TaskState.DROPPED]: 9,
  [TaskState.GONE]: 9,
  [TaskState.GONE_BY_OPERATOR]: 9,
};

/**
 * Whether an update to `next` moves a task known in `current` forwards, so that a framework that
 * keeps the latest state per task can ignore a late, older update: nothing follows a terminal
 * state; a terminal state follows anything; among the others the order is STAGING, STARTING,
 * RUNNING, KILLING. A partition state (UNREACHABLE, UNKNOWN) may follow an active one and an
 * active one may follow a partition state (the agent came back).
 */
export function isNewer(current: TaskState, next: TaskState): boolean {
  if (isTerminal(current)) return false;
  if (isTerminal(next)) return true;
  if (isPartitioned(current) || isPartitioned(next)) return current !== next;
  return RANK[next] > RANK[current];
}
