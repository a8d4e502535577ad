/**
 * Mesos's reconciliation algorithm (docs/reconciliation.md in Mesos), run by the driver after every
 * (re)subscription: ask explicitly for the state of every non-terminal task the framework knows;
 * every status update for a task (reconciliation answer or not) takes it off the list; ask again
 * for those still unanswered with exponential backoff; once every task has a state, send one
 * implicit reconciliation (the master then reports every task it has for the framework, so tasks
 * the framework had forgotten show up too).
 *
 * A new leader still awaiting agents after a failover holds the questions about their tasks and
 * answers them when each agent is settled, at the latest after the hold its SUBSCRIBED names
 * (`reconcile_hold_seconds`). Asking again before then only repeats held questions, so the first
 * round waits for the hold (up to maxMs) before asking again what is still unanswered; the
 * rounds after it back off as usual. Nothing goes unasked: a question the master did not hold
 * (past its bound, or a master that holds nothing) is asked again at the next round.
 */
import type { Clock, Timer } from '../util/clock.js';

export interface TaskRef {
  task_id: string;
  agent_id?: string;
}

export interface ReconcilerOptions {
  clock: Clock;
  /** Sends a RECONCILE with these tasks (none: implicit). False when it could not be sent. */
  send(tasks: TaskRef[]): boolean;
  /** Every task has a state and the implicit reconciliation went out. */
  onDone(): void;
  /** First wait for answers (default 1,000 ms), doubled on every round up to maxMs (default 60,000). */
  initialMs?: number;
  maxMs?: number;
}

export class Reconciler {
  private pending = new Map<string, TaskRef>();
  private timer?: Timer;
  private delay = 0;
  private running = false;
  /** Explicit RECONCILE calls sent in the current run. */
  rounds = 0;

  constructor(private readonly opts: ReconcilerOptions) {}

  get active(): boolean {
    return this.running;
  }

  /** Task ids still without a state in this run. */
  unanswered(): string[] {
    return [...this.pending.keys()];
  }

  /**
   * Starts a run over these tasks (a previous run is abandoned). `holdMs`: the master holds
   * unanswered questions this long at most (SUBSCRIBED's `reconcile_hold_seconds`): the first
   * round waits that long, up to maxMs, before asking again.
   */
  start(tasks: TaskRef[], holdMs = 0): void {
    this.stop();
    this.running = true;
    this.rounds = 0;
    this.pending = new Map(tasks.map((t) => [t.task_id, t]));
    const initial = this.opts.initialMs ?? 1_000;
    this.delay = Math.max(initial, Math.min(holdMs, this.opts.maxMs ?? 60_000));
    if (this.pending.size === 0) {
      this.finish();
      return;
    }
    this.round();
  }

  /** A status update arrived for this task. */
  answered(taskId: string): void {
    if (!this.running || !this.pending.delete(taskId)) return;
    if (this.pending.size === 0) this.finish();
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
    this.running = false;
  }

  private round(): void {
    this.rounds++;
    this.opts.send([...this.pending.values()]);
    this.timer = this.opts.clock.setTimeout(() => {
      this.timer = undefined;
      if (!this.running || this.pending.size === 0) return;
      this.delay = Math.min(this.delay * 2, this.opts.maxMs ?? 60_000);
      this.round();
    }, this.delay);
  }

  private finish(): void {
    this.stop();
    this.opts.send([]);
    this.opts.onDone();
  }
}
