/**
 * The audit log: one JSON line per write and per refused call (`--audit_log FILE`, else the main
 * log with `audit: true`): time, principal, action, method, path, target, decision, status, ip.
 */
import pino from 'pino';
import type { AccessRecord } from '../http/auth.js';
import type { Clock } from '../util/clock.js';

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Whether a record belongs in the audit log: every write, every refusal. */
export function auditable(r: AccessRecord): boolean {
  return (
    !READ_METHODS.has(r.method) || r.decision !== 'allow' || r.status === 401 || r.status === 403 || r.status === 429
  );
}

export class AuditLog {
  constructor(
    private readonly log: pino.Logger,
    private readonly clock: Clock,
  ) {}

  /** A log of its own in `file` (appended), or lines on `fallback` tagged `audit: true`. */
  static open(file: string | undefined, fallback: pino.Logger, clock: Clock): AuditLog {
    const log = file
      ? pino({ base: null, timestamp: false }, pino.destination({ dest: file, mkdir: true, append: true, sync: true }))
      : fallback.child({ audit: true });
    return new AuditLog(log, clock);
  }

  record(r: AccessRecord): void {
    if (!auditable(r)) return;
    this.log.info(
      {
        time: new Date(this.clock.now()).toISOString(),
        principal: r.principal ?? null,
        action: r.action,
        method: r.method,
        path: r.path,
        target: r.target ?? null,
        decision: r.decision,
        status: r.status,
        ip: r.ip,
      },
      'audit',
    );
  }
}
