/**
 * What the master state asks the shell to do, as values. The state never sends, writes or arms a
 * timer itself: it returns a list of these, in order, and the shell (master/master.ts) carries them
 * out. A test harness records them instead.
 */
import type { MasterToAgentMessage, SchedulerEvent } from '../../sdk/protocol/messages.js';
import type { AllocatorSnapshot } from '../allocator/types.js';
import type { AgentRecord, FrameworkRecord } from '../registrar.js';

export type { ConnRef } from '../registry.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export type Effect =
  | { kind: 'toAgent'; conn: string; message: MasterToAgentMessage }
  | { kind: 'toScheduler'; conn: string; message: SchedulerEvent }
  | { kind: 'close'; conn: string; code: number; reason: string }
  /**
   * Make the record durable. With `ack`, the shell reports the outcome back as a `persisted` or
   * `persistFailed` event carrying the same ack (used where the state waits for durability).
   */
  | { kind: 'persistAgent'; record: AgentRecord; ack?: string }
  | { kind: 'persistFramework'; record: FrameworkRecord; ack?: string }
  | { kind: 'forgetFramework'; frameworkId: string }
  /** Delete an agent's record (a new agent that left before it was admitted). */
  | { kind: 'forgetAgent'; agentId: string }
  /** Arm (or re-arm: an armed timer of that name is cancelled first) a named timer; `repeat` for intervals. */
  | { kind: 'arm'; timer: string; ms: number; repeat?: boolean }
  | { kind: 'cancel'; timer: string }
  /** Run the allocator over this snapshot now and report its plan back as an `allocationResult` event. */
  | { kind: 'allocate'; snapshot: AllocatorSnapshot }
  | { kind: 'log'; level: LogLevel; msg: string; fields?: Record<string, unknown> }
  /** A refused protocol call, for the audit log (`--audit_log`): who, what, on what, and the code. */
  | { kind: 'audit'; conn?: string; principal?: string; action: string; target?: string; code: string; status: number };

/** Timer names. Per-framework ones carry the framework id. */
export const Timers = {
  allocation: 'allocation',
  allocateSoon: 'allocate-soon',
  /** The allocation hold after a failover ends (core.ts allocationHeld). */
  allocationHold: 'allocation-hold',
  ping: 'agent-ping',
  heartbeat: 'scheduler-heartbeat',
  agentReregister: 'agent-reregister-window',
  frameworkResubscribe: 'framework-resubscribe-window',
  failoverPrefix: 'framework-failover:',
} as const;

export function failoverTimer(frameworkId: string): string {
  return Timers.failoverPrefix + frameworkId;
}

/** Collects effects in order while one event is applied. */
export class Effects {
  readonly list: Effect[] = [];

  toAgent(conn: string | undefined, message: MasterToAgentMessage): void {
    if (conn !== undefined) this.list.push({ kind: 'toAgent', conn, message });
  }

  toScheduler(conn: string | undefined, message: SchedulerEvent): void {
    if (conn !== undefined) this.list.push({ kind: 'toScheduler', conn, message });
  }

  schedulerError(conn: string | undefined, code: string, message: string): void {
    this.toScheduler(conn, { type: 'ERROR', error: { code, message } });
  }

  close(conn: string | undefined, code: number, reason: string): void {
    if (conn !== undefined) this.list.push({ kind: 'close', conn, code, reason });
  }

  arm(timer: string, ms: number, repeat = false): void {
    // Node's timers hold at most 2^31-1 ms; a longer timeout is cut to that.
    const bounded = Math.min(Math.max(0, Number.isFinite(ms) ? ms : 2 ** 31 - 1), 2 ** 31 - 1);
    this.list.push(repeat ? { kind: 'arm', timer, ms: bounded, repeat } : { kind: 'arm', timer, ms: bounded });
  }

  allocate(snapshot: AllocatorSnapshot): void {
    this.list.push({ kind: 'allocate', snapshot });
  }

  cancel(timer: string): void {
    this.list.push({ kind: 'cancel', timer });
  }

  persistAgent(record: AgentRecord, ack?: string): void {
    this.list.push(ack === undefined ? { kind: 'persistAgent', record } : { kind: 'persistAgent', record, ack });
  }

  persistFramework(record: FrameworkRecord, ack?: string): void {
    this.list.push(
      ack === undefined ? { kind: 'persistFramework', record } : { kind: 'persistFramework', record, ack },
    );
  }

  forgetFramework(frameworkId: string): void {
    this.list.push({ kind: 'forgetFramework', frameworkId });
  }

  forgetAgent(agentId: string): void {
    this.list.push({ kind: 'forgetAgent', agentId });
  }

  log(level: LogLevel, msg: string, fields?: Record<string, unknown>): void {
    this.list.push(fields ? { kind: 'log', level, msg, fields } : { kind: 'log', level, msg });
  }

  audit(r: { conn?: string; principal?: string; action: string; target?: string; code: string; status: number }): void {
    this.list.push({ kind: 'audit', ...r });
  }
}
