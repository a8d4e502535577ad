/**
 * The checks Marathon runs itself, as Marathon 1.10 does:
 *
 * - Health: an agent runs one health check per task (Mesos allows one, and Marathon allows at most
 *   one Mesos check per app: COMMAND, MESOS_HTTP, MESOS_HTTPS, MESOS_TCP). That one goes to the
 *   agent (or, for an app without a Mesos check, its first check); every other check (HTTP,
 *   HTTPS, TCP) is probed from here on its own `intervalSeconds`, `timeoutSeconds`,
 *   `gracePeriodSeconds` and `maxConsecutiveFailures`. An instance is healthy when all of its
 *   checks pass; one check past its `maxConsecutiveFailures` gets the instance killed.
 * - Readiness: every readiness check of an app, once the instance runs and is healthy, every
 *   `intervalSeconds` until it answers one of `httpStatusCodesForReady`; the instance is ready
 *   when all are, and is not checked again. Results are kept per instance (`readinessCheckResults`).
 */
import { connect } from 'node:net';
import type { Clock } from 'agora/sdk';
import type { EventBus } from './events.js';
import { type Instance, isHealthy, marathonCheckIndexes, readinessUrl } from './instances.js';
import type { AppDef, HealthCheckDef } from './spec.js';

/** What a probe answers: a status, or the status with what came back. */
export type ProbeAnswer = number | { status: number; contentType?: string; body?: string };

export interface CheckState {
  alive?: boolean;
  consecutiveFailures: number;
  firstSuccess?: string;
  lastSuccess?: string;
  lastFailure?: string;
  lastFailureCause?: string;
  nextAt: number;
}

export interface ReadinessResult {
  name: string;
  taskId: string;
  ready: boolean;
  lastResponse?: { status: number; contentType: string; body: string };
  nextAt: number;
}

declare module './instances.js' {
  interface Instance {
    /** Results of the checks Marathon runs itself, by index in `healthChecks`. */
    checks?: Record<string, CheckState>;
    /** One entry per readiness check. */
    readiness?: ReadinessResult[];
  }
}

export interface CheckContext {
  clock: Clock;
  events: EventBus;
  probe(url: string, timeoutMs: number): Promise<ProbeAnswer>;
  tcpProbe(host: string, port: number, timeoutMs: number): Promise<void>;
  /** An instance's check results changed (persist, converge). */
  changed(i: Instance): void;
  kill(i: Instance, why: string): void;
}

/** Opens a TCP connection and closes it: the TCP health check. */
export function tcpConnect(host: string, port: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = connect({ host, port });
    const t = setTimeout(() => s.destroy(new Error(`TCP connect timed out after ${timeoutMs} ms`)), timeoutMs);
    s.once('connect', () => {
      clearTimeout(t);
      s.end();
      resolve();
    });
    s.once('error', (e) => {
      clearTimeout(t);
      reject(e);
    });
  });
}

function statusOf(a: ProbeAnswer): number {
  return typeof a === 'number' ? a : a.status;
}

export class CheckRunner {
  private readonly inFlight = new Set<string>();

  constructor(private readonly ctx: CheckContext) {}

  /** Starts every check that is due (one probe in flight per instance and check). */
  run(instances: Iterable<Instance>, specs: ReadonlyMap<string, AppDef>): void {
    for (const i of instances) {
      if (i.state !== 'TASK_RUNNING' || i.killing) continue;
      const app = specs.get(i.appId);
      if (!app) continue;
      for (const idx of marathonCheckIndexes(app)) this.health(app, i, idx);
      if (app.readinessChecks.length > 0 && !i.ready && isHealthy(app, i)) this.readiness(app, i);
    }
  }

  private health(app: AppDef, i: Instance, idx: number): void {
    const hc = app.healthChecks[idx];
    const key = `${i.taskId}#h${idx}`;
    const now = this.ctx.clock.now();
    i.checks ??= {};
    i.checks[idx] ??= { consecutiveFailures: 0, nextAt: now };
    const st = i.checks[idx];
    if (this.inFlight.has(key) || now < st.nextAt) return;
    st.nextAt = now + hc.intervalSeconds * 1000;
    const port = hc.port ?? i.ports[hc.portIndex ?? 0];
    if (!port) return;
    const timeoutMs = hc.timeoutSeconds * 1000;
    const p =
      hc.protocol === 'TCP'
        ? this.ctx.tcpProbe(i.host, port, timeoutMs)
        : this.ctx
            .probe(`${hc.protocol === 'HTTPS' ? 'https' : 'http'}://${i.host}:${port}${hc.path ?? '/'}`, timeoutMs)
            .then((a) => {
              const s = statusOf(a);
              if (s >= 200 && s < 400) return;
              if (s < 200 && hc.ignoreHttp1xx) return;
              throw new Error(`HTTP ${s}`);
            });
    this.inFlight.add(key);
    p.then(
      () => this.healthResult(app, hc, idx, i),
      (e: unknown) => this.healthResult(app, hc, idx, i, e instanceof Error ? e.message : String(e)),
    ).finally(() => this.inFlight.delete(key));
  }

  private healthResult(app: AppDef, hc: HealthCheckDef, idx: number, i: Instance, failure?: string): void {
    const st = i.checks?.[idx];
    if (!st || i.killing || i.state !== 'TASK_RUNNING') return;
    const before = isHealthy(app, i);
    const nowIso = new Date(this.ctx.clock.now()).toISOString();
    if (failure === undefined) {
      st.alive = true;
      st.consecutiveFailures = 0;
      st.firstSuccess ??= nowIso;
      st.lastSuccess = nowIso;
    } else {
      const started = i.startedAt ? Date.parse(i.startedAt) : this.ctx.clock.now();
      // Failures within the grace period do not count until the check has passed once.
      if (st.firstSuccess === undefined && this.ctx.clock.now() - started < hc.gracePeriodSeconds * 1000) return;
      st.alive = false;
      st.consecutiveFailures++;
      st.lastFailure = nowIso;
      st.lastFailureCause = failure;
      const common = { appId: i.appId, taskId: i.taskId, instanceId: i.taskId, version: i.version };
      this.ctx.events.emit('failed_health_check_event', { ...common, healthCheck: hc });
      if (hc.maxConsecutiveFailures > 0 && st.consecutiveFailures >= hc.maxConsecutiveFailures) {
        this.ctx.events.emit('unhealthy_instance_kill_event', {
          ...common,
          reason: `${st.consecutiveFailures} consecutive ${hc.protocol} health check failures: ${failure}`,
          host: i.host,
          slaveId: i.agentId,
        });
        this.ctx.kill(i, 'unhealthy');
      }
    }
    const after = isHealthy(app, i);
    if (before !== after)
      this.ctx.events.emit('health_status_changed_event', {
        appId: i.appId,
        instanceId: i.taskId,
        version: i.version,
        alive: after,
      });
    this.ctx.changed(i);
  }

  private readiness(app: AppDef, i: Instance): void {
    const now = this.ctx.clock.now();
    i.readiness ??= app.readinessChecks.map((rc) => ({
      name: String((rc as { name?: string }).name ?? 'readinessCheck'),
      taskId: i.taskId,
      ready: false,
      nextAt: now,
    }));
    app.readinessChecks.forEach((raw, idx) => {
      const rc = raw as {
        intervalSeconds?: number;
        timeoutSeconds?: number;
        httpStatusCodesForReady?: number[];
        preserveLastResponse?: boolean;
      };
      const r = i.readiness?.[idx];
      const key = `${i.taskId}#r${idx}`;
      if (!r || r.ready || this.inFlight.has(key) || now < r.nextAt) return;
      r.nextAt = now + (rc.intervalSeconds ?? 30) * 1000;
      const url = readinessUrl(app, i, idx);
      if (!url) return;
      this.inFlight.add(key);
      this.ctx
        .probe(url, (rc.timeoutSeconds ?? 10) * 1000)
        .then(
          (a) => {
            const status = statusOf(a);
            r.lastResponse = {
              status,
              contentType: typeof a === 'number' ? '' : (a.contentType ?? ''),
              // As Marathon: the body only with preserveLastResponse.
              body: typeof a === 'number' || !rc.preserveLastResponse ? '' : (a.body ?? ''),
            };
            r.ready = (rc.httpStatusCodesForReady ?? [200]).includes(status);
          },
          () => {
            r.ready = false;
          },
        )
        .finally(() => {
          this.inFlight.delete(key);
          if (i.readiness?.every((x) => x.ready)) i.ready = true;
          this.ctx.changed(i);
        });
    });
  }
}

/** The readiness results as Marathon shows them (`readinessCheckResults`). */
export function readinessJson(i: Instance): Record<string, unknown>[] {
  return (i.readiness ?? []).map((r) => ({
    name: r.name,
    taskId: r.taskId,
    ready: r.ready,
    lastResponse: r.lastResponse ?? null,
  }));
}
