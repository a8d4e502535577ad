/**
 * At-least-once delivery of status updates: per task, updates go out in order; the oldest
 * unacknowledged one is resent with backoff until the framework acknowledges it (through the
 * master), then the next goes. The queue is part of the task's checkpoint, so it survives an
 * agent restart.
 */
import type { TaskStatus } from '../sdk/protocol/types.js';
import { taskKey } from './task-key.js';

export interface UpdateStream {
  frameworkId: string;
  taskId: string;
  pending: TaskStatus[];
}

interface RetryState {
  nextAt: number;
  delayMs: number;
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
  retryInitialMs?: number;
  retryMaxMs?: number;
  now?: () => number;
}

export class StatusUpdateManager {
  private readonly streams = new Map<string, UpdateStream>();
  private readonly retry = new Map<string, RetryState>();
  private timer?: NodeJS.Timeout;
  private readonly initial: number;
  private readonly max: number;
  private readonly now: () => number;

  constructor(private readonly opts: StatusUpdateOptions) {
    this.initial = opts.retryInitialMs ?? 2_000;
    this.max = opts.retryMaxMs ?? 60_000;
    this.now = opts.now ?? Date.now;
  }

  start(tickMs = 250): void {
    this.timer = setInterval(() => this.tick(), tickMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  stream(frameworkId: string, taskId: string): UpdateStream | undefined {
    return this.streams.get(taskKey(frameworkId, taskId));
  }

  /** Adopts a checkpointed stream after a restart (its head is sent at the next flush). */
  recover(stream: UpdateStream): void {
    const k = taskKey(stream.frameworkId, stream.taskId);
    this.streams.set(k, stream);
    if (stream.pending.length > 0) this.retry.set(k, { nextAt: 0, delayMs: this.initial });
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
      this.sendHead(k, s);
      return;
    }
    // Until it is on disk the retry tick must not send it either.
    this.retry.set(k, { nextAt: Number.POSITIVE_INFINITY, delayMs: 0 });
    const stream = s;
    written.then(
      () => {
        if (this.streams.get(k) === stream && stream.pending[0] === status) {
          this.retry.delete(k);
          this.sendHead(k, stream);
        }
      },
      (e: Error) => {
        // Not checkpointed: still deliver it (at least once), and let the next write try again.
        this.opts.onPersistError?.(e);
        this.retry.delete(k);
        if (this.streams.get(k) === stream && stream.pending[0] === status) this.sendHead(k, stream);
      },
    );
  }

  /** The framework acknowledged `uuid`: drop it from the head and send the next. */
  acknowledge(frameworkId: string, taskId: string, uuid: string): boolean {
    const k = taskKey(frameworkId, taskId);
    const s = this.streams.get(k);
    if (!s || s.pending.length === 0 || s.pending[0].uuid !== uuid) return false;
    const acked = s.pending.shift() as TaskStatus;
    this.retry.delete(k);
    this.opts.persist(s);
    if (s.pending.length > 0) this.sendHead(k, s);
    else if (this.opts.isTerminal(acked)) {
      this.streams.delete(k);
      this.opts.onTerminalAcknowledged?.(s);
    }
    return true;
  }

  /** Resends every head now (after a (re)connection to the master). */
  flush(): void {
    for (const [k, s] of this.streams) if (s.pending.length > 0) this.sendHead(k, s);
  }

  pendingCount(): number {
    let n = 0;
    for (const s of this.streams.values()) n += s.pending.length;
    return n;
  }

  private sendHead(k: string, s: UpdateStream): void {
    const prev = this.retry.get(k);
    const delayMs = prev ? Math.min(prev.delayMs * 2, this.max) : this.initial;
    this.retry.set(k, { nextAt: this.now() + delayMs, delayMs });
    this.opts.send(s.frameworkId, s.pending[0]);
  }

  private tick(): void {
    const now = this.now();
    for (const [k, r] of this.retry) {
      if (r.nextAt > now) continue;
      const s = this.streams.get(k);
      if (!s || s.pending.length === 0) {
        this.retry.delete(k);
        continue;
      }
      this.sendHead(k, s);
    }
  }
}
