/**
 * Caps on the master's WebSocket connections, kept by the shell over the peers it sees: at most
 * `maxPerAddress` open connections from one remote address, and a connection that has not
 * subscribed (scheduler) or registered (agent) within `deadlineMs` of opening is closed. Time
 * through the injected Clock.
 */
import type { Clock, Timer } from '../sdk/util/clock.js';

export interface ConnectionLimits {
  /** Open connections allowed from one remote address (Mesos has none; default 1,000). */
  maxPerAddress?: number;
  /** How long a connection may stay without a SUBSCRIBED/REGISTERED/REREGISTERED answer (default 30 s; 0: no deadline). */
  deadlineMs?: number;
}

export const DEFAULT_MAX_CONNECTIONS_PER_ADDRESS = 1000;
export const DEFAULT_CONNECTION_DEADLINE_MS = 30_000;

/** The answers that show a connection got in. */
const ADMITTED = new Set(['SUBSCRIBED', 'REGISTERED', 'REREGISTERED']);

export class ConnectionGuard {
  readonly maxPerAddress: number;
  readonly deadlineMs: number;
  private readonly perAddress = new Map<string, number>();
  private readonly addressOf = new Map<string, string>();
  /**
   * Connections waiting to get in, with when their deadline passes, in the order they opened (so
   * in deadline order: every deadline is `deadlineMs` after its opening). One timer for all, armed
   * for the first: a timer per connection cost a new leader taking 5,000 agents back at once 5,000
   * timers made and cancelled in the middle of the burst.
   */
  private readonly deadlines = new Map<string, { at: number; expire: () => void }>();
  private sweep: Timer | undefined;
  private sweepAt = Number.POSITIVE_INFINITY;

  constructor(
    private readonly clock: Clock,
    limits: ConnectionLimits = {},
  ) {
    this.maxPerAddress = Math.max(1, Math.floor(limits.maxPerAddress ?? DEFAULT_MAX_CONNECTIONS_PER_ADDRESS));
    this.deadlineMs = Math.max(0, limits.deadlineMs ?? DEFAULT_CONNECTION_DEADLINE_MS);
  }

  /** Whether another connection from `address` is allowed now (the caller closes it when not). */
  allows(address: string): boolean {
    return (this.perAddress.get(address) ?? 0) < this.maxPerAddress;
  }

  /** Counts an admitted connection and arms its deadline; `expire` closes it if it is still not in then. */
  opened(conn: string, address: string, expire: () => void): void {
    this.perAddress.set(address, (this.perAddress.get(address) ?? 0) + 1);
    this.addressOf.set(conn, address);
    if (this.deadlineMs === 0) return;
    this.deadlines.delete(conn); // a reused name goes to the back, in deadline order
    this.deadlines.set(conn, { at: this.clock.now() + this.deadlineMs, expire });
    if (this.sweep === undefined) this.armSweep();
  }

  /** The master sent `type` on `conn`: an admission answer lifts the deadline. */
  sent(conn: string, type: string): void {
    if (!ADMITTED.has(type)) return;
    this.deadlines.delete(conn);
  }

  closed(conn: string): void {
    this.deadlines.delete(conn);
    const address = this.addressOf.get(conn);
    if (address === undefined) return;
    this.addressOf.delete(conn);
    const n = (this.perAddress.get(address) ?? 1) - 1;
    if (n <= 0) this.perAddress.delete(address);
    else this.perAddress.set(address, n);
  }

  /** Open connections from `address` (for tests and metrics). */
  count(address: string): number {
    return this.perAddress.get(address) ?? 0;
  }

  stop(): void {
    this.sweep?.cancel();
    this.sweep = undefined;
    this.deadlines.clear();
  }

  /** Arms the one timer for the first deadline still waiting (none: no timer). */
  private armSweep(): void {
    const first = this.deadlines.values().next();
    if (first.done) return;
    const at = first.value.at;
    if (this.sweep !== undefined && this.sweepAt <= at) return;
    this.sweep?.cancel();
    this.sweepAt = at;
    this.sweep = this.clock.setTimeout(() => this.expireDue(), Math.max(0, at - this.clock.now())).unref();
  }

  /** Closes every connection whose deadline has passed, then waits for the next. */
  private expireDue(): void {
    this.sweep = undefined;
    this.sweepAt = Number.POSITIVE_INFINITY;
    const now = this.clock.now();
    const due: (() => void)[] = [];
    for (const [conn, d] of this.deadlines) {
      if (d.at > now) break;
      this.deadlines.delete(conn);
      due.push(d.expire);
    }
    for (const expire of due) expire();
    this.armSweep();
  }
}
