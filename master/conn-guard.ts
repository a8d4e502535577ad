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
  private readonly deadlines = new Map<string, Timer>();

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
    const t = this.clock.setTimeout(() => {
      this.deadlines.delete(conn);
      expire();
    }, this.deadlineMs);
    this.deadlines.set(conn, t.unref());
  }

  /** The master sent `type` on `conn`: an admission answer lifts the deadline. */
  sent(conn: string, type: string): void {
    if (!ADMITTED.has(type)) return;
    this.deadlines.get(conn)?.cancel();
    this.deadlines.delete(conn);
  }

  closed(conn: string): void {
    this.deadlines.get(conn)?.cancel();
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
    for (const t of this.deadlines.values()) t.cancel();
    this.deadlines.clear();
  }
}
