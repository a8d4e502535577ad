/**
 * At-least-once delivery of status updates: per task, updates go out in order; the oldest
 * unacknowledged one is resent with exponential backoff (initial delay doubling up to a cap) until
 * the framework acknowledges it (through the master), then the next goes. The queue is part of the
 * task's checkpoint, so it survives an agent restart. Every resend is a timer armed on the
 * injected Clock.
 */
import type { TaskStatus } from '../sdk/protocol/types.js';
import { type Clock, systemClock, type Timer } from '../sdk/util/clock.js';
import { taskKey } from './task-key.js';

/**
 * First resend of an unacknowledged update after this long (ms): 10 s, as Mesos's agent
 * (STATUS_UPDATE_RETRY_INTERVAL_MIN). Shorter, the resend comes before the acknowledgement of a
 * loaded cluster would (accept to running took more than 2 s under load) and only adds traffic;
 * a lost update is also resent at once whenever the agent reconnects ({@link StatusUpdateManager.flush}).
 * Agent flag `--status_update_retry_interval_min`.
 */
export const STATUS_RETRY_INITIAL_MS = 10_000;
/** Resends back off, doubling, up to this (ms): 10 minutes, as Mesos. Agent flag `--status_update_retry_interval_max`. */
export const STATUS_RETRY_MAX_MS = 600_000;

export interface UpdateStream {
  frameworkId: string;
  taskId: string;
  pending: TaskStatus[];
}

interface RetryState {
  /** The delay of the armed resend; the next one doubles it (up to the cap). */
  delayMs: number;
  timer: Timer;
}

export interface StatusUpdateOptions {
  send: (frameworkId: string, status: TaskStatus) => boolean;
  /**
   * Called after the queue of a stream changes, to checkpoint it. When it returns a promise, a
   * new terminal update is sent only once that promise resolves: on disk before on the wire, so
   * a crash cannot lead to a second, different terminal report. Other updates go out at once: if
   * one is lost with a crash, recovery reports the task's state again anyway.
   */
  persist: (stream: UpdateStream) => Promise<void> | undefined;
  /** Called when a stream's terminal update has been acknowledged. */
  onTerminalAcknowledged?: (stream: UpdateStream) => void;
  isTerminal: (status: TaskStatus) => boolean;
  onPersistError?: (error: Error) => void;
  /** Default {@link STATUS_RETRY_INITIAL_MS}. */
  retryInitialMs?: number;
  /** Default {@link STATUS_RETRY_MAX_MS}. */
  retryMaxMs?: number;
  clock?: Clock;
}

export class StatusUpdateManager {
  private readonly streams = new Map<string, UpdateStream>();
  private readonly retry = new Map<string, RetryState>();
  /** Streams whose new terminal head is not on disk yet: not sent, not even by flush(). */
  private readonly awaitingDisk = new Set<string>();
  private readonly initial: number;
  private readonly max: number;
  private readonly clock: Clock;
  private stopped = false;

  constructor(private readonly opts: StatusUpdateOptions) {
    this.initial = opts.retryInitialMs ?? STATUS_RETRY_INITIAL_MS;
    this.max = Math.max(this.initial, opts.retryMaxMs ?? STATUS_RETRY_MAX_MS);
    this.clock = opts.clock ?? systemClock;
  }

  /** Cancels every resend; nothing is sent afterwards. */
  stop(): void {
    this.stopped = true;
    for (const r of this.retry.values()) r.timer.cancel();
    this.retry.clear();
  }

  stream(frameworkId: string, taskId: string): UpdateStream | undefined {
    return this.streams.get(taskKey(frameworkId, taskId));
  }

  /** Adopts a checkpointed stream after a restart; its head goes out at the next flush(). */
  recover(stream: UpdateStream): void {
    this.streams.set(taskKey(stream.frameworkId, stream.taskId), stream);
  }

  /** Queues an update (which must carry a uuid); sends it now if it is at the head. */
  update(frameworkId: string, status: TaskStatus): void {
    const k = taskKey(frameworkId, status.task_id);
    let s = this.streams.get(k);
    if (!s) {
      s = { frameworkId, taskId: status.task_id, pending: [] };
      this.streams.set(k, s);
    }
    s.pending.push(status);
    const written = this.opts.persist(s);
    if (s.pending.length !== 1) return;
    if (!written || !this.opts.isTerminal(status)) {
      this.sendHead(k, s, true);
      return;
    }
    // Until it is on disk neither a resend nor a flush may send it.
    this.awaitingDisk.add(k);
    const stream = s;
    const release = () => {
      this.awaitingDisk.delete(k);
      if (this.streams.get(k) === stream && stream.pending[0] === status) this.sendHead(k, stream, true);
    };
    written.then(release, (e: Error) => {
      // Not checkpointed: still deliver it (at least once), and let the next write try again.
      this.opts.onPersistError?.(e);
      release();
    });
  }

  /** The framework acknowledged `uuid`: drop it from the head and send the next. */
  acknowledge(frameworkId: string, taskId: string, uuid: string): boolean {
    const k = taskKey(frameworkId, taskId);
    const s = this.streams.get(k);
    if (!s || s.pending.length === 0 || s.pending[0].uuid !== uuid) return false;
    const acked = s.pending.shift() as TaskStatus;
    this.cancelRetry(k);
    this.opts.persist(s);
    if (s.pending.length > 0) this.sendHead(k, s, true);
    else if (this.opts.isTerminal(acked)) {
      this.streams.delete(k);
      this.opts.onTerminalAcknowledged?.(s);
    }
    return true;
  }

  /** Resends every head now, with the backoff started afresh (after a (re)connection to the master). */
  flush(): void {
    for (const [k, s] of this.streams) {
      if (s.pending.length > 0 && !this.awaitingDisk.has(k)) this.sendHead(k, s, true);
    }
  }

  pendingCount(): number {
    let n = 0;
    for (const s of this.streams.values()) n += s.pending.length;
    return n;
  }

  /** The delay before the next resend of this stream's head, when one is armed (for tests and state). */
  retryDelayMs(frameworkId: string, taskId: string): number | undefined {
    return this.retry.get(taskKey(frameworkId, taskId))?.delayMs;
  }

  /** Sends the head and arms its resend: after the initial delay when `fresh`, else after double the last. */
  private sendHead(k: string, s: UpdateStream, fresh: boolean): void {
    if (this.stopped) return;
    const prev = this.retry.get(k);
    prev?.timer.cancel();
    const delayMs = fresh || !prev ? this.initial : Math.min(prev.delayMs * 2, this.max);
    const timer = this.clock.setTimeout(() => this.resend(k), delayMs).unref();
    this.retry.set(k, { delayMs, timer });
    this.opts.send(s.frameworkId, s.pending[0]);
  }

  private resend(k: string): void {
    const s = this.streams.get(k);
    if (!s || s.pending.length === 0) {
      this.retry.delete(k);
      return;
    }
    this.sendHead(k, s, false);
  }

  private cancelRetry(k: string): void {
    this.retry.get(k)?.timer.cancel();
    this.retry.delete(k);
  }
}
