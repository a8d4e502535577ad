/**
 * Health checks run by the agent for a task, with Mesos's semantics (src/checks/health_checker.cpp):
 *
 * - the first check runs `delay_seconds` after start (default 15), then one every
 *   `interval_seconds` (default 10) after the previous one finished;
 * - a check that takes longer than `timeout_seconds` (default 20) fails;
 * - failures within `grace_period_seconds` (default 10) of start, before the first success, are
 *   ignored; after the first success the grace period is over;
 * - `consecutive_failures` (default 3) failures in a row ask for the task to be killed; 0 never does.
 *
 * The checker emits `healthy` and `unhealthy` when the task's health changes, `kill` once when the
 * failures reach the limit, and `result` after every check.
 */
import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { type Logger, pino } from 'pino';
import type { CommandInfo, HealthCheck } from '../../sdk/protocol/types.js';
import { type Clock, systemClock, type Timer } from '../../sdk/util/clock.js';
import { withoutStrayDescriptors } from '../inherited-fds.js';

export const HEALTH_CHECK_DEFAULTS = {
  delay_seconds: 15,
  interval_seconds: 10,
  timeout_seconds: 20,
  consecutive_failures: 3,
  grace_period_seconds: 10,
} as const;

export interface CommandRunResult {
  /** Exit code; null when the command was killed (e.g. on timeout) or could not start. */
  exitCode: number | null;
  /** Some of its output, for the failure message. */
  output?: string;
}

/**
 * Runs a COMMAND check. The default runs `sh -c` on the agent in the sandbox; for docker tasks the
 * agent injects one that runs `docker exec` in the container.
 */
export type RunCommand = (
  command: CommandInfo,
  opts: {
    env: Record<string, string>;
    cwd?: string;
    timeoutMs: number;
    clock?: Clock;
    /** Run as this uid and gid (the task's user); absent: as the agent. */
    user?: { uid: number; gid: number };
  },
) => Promise<CommandRunResult>;

export interface HealthCheckerOptions {
  /** The task's health check. */
  check: HealthCheck;
  /** Task id, for logs and events. */
  taskId?: string;
  /** The task's sandbox: the cwd of COMMAND checks. */
  sandbox?: string;
  /** The task's environment, for COMMAND checks. */
  env?: Record<string, string>;
  /** The task's user: COMMAND checks run as it (uid and gid). */
  user?: { uid: number; gid: number };
  /** Host for HTTP and TCP checks (default 127.0.0.1). */
  host?: string;
  runCommand?: RunCommand;
  /** Reads the time (grace period) and arms the check timers (default the system clock). */
  clock?: Clock;
  logger?: Logger;
}

export interface HealthCheckResult {
  healthy: boolean;
  /** Why it failed. */
  message?: string;
  /** Failures in a row, counting only those past the grace period. */
  consecutiveFailures: number;
  /** A failure ignored because the grace period was still running. */
  inGracePeriod?: boolean;
}

export interface HealthEvents {
  healthy: [HealthCheckResult];
  unhealthy: [HealthCheckResult];
  kill: [HealthCheckResult];
  result: [HealthCheckResult];
}

const MAX_OUTPUT = 4096;

/** The default RunCommand: `/bin/sh -c value` (or value + arguments), killed as a group on timeout. */
export const runShellCommand: RunCommand = (command, { env, cwd, timeoutMs, clock = systemClock, user }) =>
  new Promise((resolve) => {
    const value = command.value ?? '';
    const vars: Record<string, string> = { ...env };
    for (const v of command.environment?.variables ?? []) vars[v.name] = v.value ?? '';
    if (!vars.PATH) vars.PATH = process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin';
    const options = {
      cwd,
      env: vars,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'] as ['ignore', 'pipe', 'pipe'],
      ...(user ? { uid: user.uid, gid: user.gid } : {}),
    };
    // Through the spawn helper's --exec: the check keeps none of the agent's stray descriptors
    // (its ZooKeeper connection; agent/inherited-fds.ts).
    const run = withoutStrayDescriptors(
      command.shell === false
        ? { file: value, args: command.arguments ?? [] }
        : { file: '/bin/sh', args: ['-c', value] },
    );
    const child = spawn(run.file, run.args, options);
    let output = '';
    const collect = (d: Buffer) => {
      if (output.length < MAX_OUTPUT) output += d.toString().slice(0, MAX_OUTPUT - output.length);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    let timedOut = false;
    const timer = clock.setTimeout(() => {
      timedOut = true;
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }, timeoutMs);
    child.on('error', (err) => {
      timer.cancel();
      resolve({ exitCode: null, output: err.message });
    });
    child.on('close', (code) => {
      timer.cancel();
      resolve({ exitCode: timedOut ? null : code, output: timedOut ? `timed out after ${timeoutMs} ms` : output });
    });
  });

export class HealthChecker extends EventEmitter<HealthEvents> {
  private readonly check: HealthCheck;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly runCommand: RunCommand;
  private readonly settings: { [K in keyof typeof HEALTH_CHECK_DEFAULTS]: number };
  private timer: Timer | undefined;
  private running = false;
  private startedAt = 0;
  private succeededOnce = false;
  private failures = 0;
  private killRequested = false;
  private state: boolean | undefined;
  private inFlight: Promise<HealthCheckResult> | undefined;

  constructor(private readonly opts: HealthCheckerOptions) {
    super();
    this.check = opts.check;
    this.clock = opts.clock ?? systemClock;
    this.logger = opts.logger ?? pino({ level: 'silent' });
    this.runCommand = opts.runCommand ?? runShellCommand;
    const c = opts.check;
    this.settings = {
      delay_seconds: c.delay_seconds ?? HEALTH_CHECK_DEFAULTS.delay_seconds,
      interval_seconds: c.interval_seconds ?? HEALTH_CHECK_DEFAULTS.interval_seconds,
      timeout_seconds: c.timeout_seconds ?? HEALTH_CHECK_DEFAULTS.timeout_seconds,
      consecutive_failures: Math.max(0, c.consecutive_failures ?? HEALTH_CHECK_DEFAULTS.consecutive_failures),
      grace_period_seconds: c.grace_period_seconds ?? HEALTH_CHECK_DEFAULTS.grace_period_seconds,
    };
    validate(c);
  }

  /** The task's health as last reported: undefined until the first reportable result. */
  get healthy(): boolean | undefined {
    return this.state;
  }

  get consecutiveFailures(): number {
    return this.failures;
  }

  /** Starts checking: the first check after `delay_seconds`; the grace period starts now. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.startedAt = this.clock.now();
    this.schedule(this.settings.delay_seconds * 1000);
  }

  /** Stops checking; a check under way finishes but reports nothing. */
  stop(): void {
    this.running = false;
    this.timer?.cancel();
    this.timer = undefined;
  }

  /** Runs one check now and applies its outcome (what the timer does; tests call it directly). */
  async runOnce(): Promise<HealthCheckResult> {
    this.inFlight ??= this.perform().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private schedule(ms: number): void {
    if (!this.running) return;
    this.timer = this.clock
      .setTimeout(() => {
        this.timer = undefined;
        if (!this.running) return;
        this.runOnce().then(
          () => this.schedule(this.settings.interval_seconds * 1000),
          () => this.schedule(this.settings.interval_seconds * 1000),
        );
      }, ms)
      .unref();
  }

  private async perform(): Promise<HealthCheckResult> {
    let ok: boolean;
    let message: string | undefined;
    try {
      message = await this.probe();
      ok = message === undefined;
    } catch (err) {
      ok = false;
      message = (err as Error).message;
    }
    return ok ? this.success() : this.failure(message ?? 'health check failed');
  }

  private success(): HealthCheckResult {
    this.succeededOnce = true;
    const changed = this.state !== true;
    this.failures = 0;
    this.killRequested = false;
    this.state = true;
    const result: HealthCheckResult = { healthy: true, consecutiveFailures: 0 };
    this.emit('result', result);
    if (changed) {
      this.logger.info({ task: this.opts.taskId }, 'task is healthy');
      this.emit('healthy', result);
    }
    return result;
  }

  private failure(message: string): HealthCheckResult {
    const graceMs = this.settings.grace_period_seconds * 1000;
    if (!this.succeededOnce && graceMs > 0 && this.clock.now() - this.startedAt <= graceMs) {
      this.logger.debug({ task: this.opts.taskId, message }, 'health check failure ignored: grace period');
      const result: HealthCheckResult = { healthy: false, message, consecutiveFailures: 0, inGracePeriod: true };
      this.emit('result', result);
      return result;
    }
    this.failures++;
    const changed = this.state !== false;
    this.state = false;
    const result: HealthCheckResult = { healthy: false, message, consecutiveFailures: this.failures };
    this.logger.warn({ task: this.opts.taskId, message, failures: this.failures }, 'health check failed');
    this.emit('result', result);
    if (changed) this.emit('unhealthy', result);
    // 0 means the task only wants its health reported, never a kill (Marathon's maxConsecutiveFailures: 0).
    const limit = this.settings.consecutive_failures;
    if (limit > 0 && this.failures >= limit && !this.killRequested) {
      this.killRequested = true;
      this.emit('kill', result);
    }
    return result;
  }

  /** One probe: undefined when healthy, else why not. */
  private probe(): Promise<string | undefined> {
    const timeoutMs = this.settings.timeout_seconds * 1000;
    const host = this.opts.host ?? '127.0.0.1';
    switch (this.check.type) {
      case 'HTTP':
        return probeHttp(host, this.check.http!, timeoutMs, this.clock);
      case 'TCP':
        return probeTcp(host, this.check.tcp!.port, timeoutMs, this.clock);
      case 'COMMAND':
        return this.probeCommand(timeoutMs);
    }
  }

  private async probeCommand(timeoutMs: number): Promise<string | undefined> {
    const command = this.check.command!;
    const r = await this.runCommand(command, {
      env: this.opts.env ?? {},
      cwd: this.opts.sandbox,
      timeoutMs,
      clock: this.clock,
      ...(this.opts.user ? { user: this.opts.user } : {}),
    });
    if (r.exitCode === 0) return undefined;
    const out = r.output?.trim();
    const what = r.exitCode === null ? 'did not finish' : `exited with status ${r.exitCode}`;
    return `command health check '${command.value ?? ''}' ${what}${out ? `: ${out}` : ''}`;
  }
}

/** Longest delay, interval, timeout or grace (s): Node's timers cannot arm more than 2^31 - 1 ms. */
export const MAX_HEALTH_CHECK_SECONDS = 2_000_000;
/** Fewest seconds between checks: a 0 interval would run checks back to back. */
export const MIN_HEALTH_CHECK_INTERVAL_SECONDS = 0.01;
const MAX_CONSECUTIVE_FAILURES = 1_000_000;

/** Why a health check cannot run, or undefined when it can. Pure. */
export function healthCheckProblem(c: HealthCheck): string | undefined {
  if (!['HTTP', 'TCP', 'COMMAND'].includes(c.type)) return `unknown health check type '${c.type}'`;
  const port = (p: number | undefined) => Number.isInteger(p) && (p as number) >= 1 && (p as number) <= 65_535;
  if (c.type === 'HTTP' && !port(c.http?.port)) return 'an HTTP health check needs http.port (1-65535)';
  if (c.type === 'TCP' && !port(c.tcp?.port)) return 'a TCP health check needs tcp.port (1-65535)';
  if (c.type === 'COMMAND' && !c.command?.value) return 'a COMMAND health check needs command.value';
  for (const f of ['delay_seconds', 'interval_seconds', 'timeout_seconds', 'grace_period_seconds'] as const) {
    const v = c[f];
    if (v !== undefined && !(Number.isFinite(v) && v >= 0 && v <= MAX_HEALTH_CHECK_SECONDS)) {
      return `${f} must be a number from 0 to ${MAX_HEALTH_CHECK_SECONDS}`;
    }
  }
  if (c.interval_seconds !== undefined && c.interval_seconds < MIN_HEALTH_CHECK_INTERVAL_SECONDS) {
    return `interval_seconds must be at least ${MIN_HEALTH_CHECK_INTERVAL_SECONDS}`;
  }
  const n = c.consecutive_failures;
  if (n !== undefined && !(Number.isInteger(n) && n >= 0 && n <= MAX_CONSECUTIVE_FAILURES)) {
    return `consecutive_failures must be a whole number from 0 to ${MAX_CONSECUTIVE_FAILURES}`;
  }
  return undefined;
}

function validate(c: HealthCheck): void {
  const problem = healthCheckProblem(c);
  if (problem) throw new Error(problem);
}

/** GET http://host:port/path; healthy for 200-399 or one of `statuses`. */
export function probeHttp(
  host: string,
  spec: { port: number; path?: string; scheme?: string; statuses?: number[] },
  timeoutMs: number,
  clock: Clock = systemClock,
): Promise<string | undefined> {
  const scheme = (spec.scheme ?? 'http').toLowerCase();
  const pathPart = spec.path ? (spec.path.startsWith('/') ? spec.path : `/${spec.path}`) : '/';
  const url = `${scheme}://${host}:${spec.port}${pathPart}`;
  return new Promise((resolve) => {
    let settled = false;
    const done = (v: string | undefined) => {
      if (settled) return;
      settled = true;
      timer.cancel();
      resolve(v);
    };
    const lib = scheme === 'https' ? https : http;
    const req = lib.get(url, { rejectUnauthorized: false, agent: false } as https.RequestOptions, (res) => {
      res.resume();
      const code = res.statusCode ?? 0;
      const ok = spec.statuses?.length ? spec.statuses.includes(code) : code >= 200 && code < 400;
      done(ok ? undefined : `HTTP health check ${url} returned ${code}`);
    });
    const timer = clock.setTimeout(() => {
      req.destroy();
      done(`HTTP health check ${url} timed out after ${timeoutMs} ms`);
    }, timeoutMs);
    req.on('error', (err) => done(`HTTP health check ${url} failed: ${err.message}`));
  });
}

/** A TCP connect to host:port. */
export function probeTcp(
  host: string,
  port: number,
  timeoutMs: number,
  clock: Clock = systemClock,
): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const timer = clock.setTimeout(() => {
      socket.destroy();
      resolve(`TCP health check ${host}:${port} timed out after ${timeoutMs} ms`);
    }, timeoutMs);
    socket.once('connect', () => {
      timer.cancel();
      socket.destroy();
      resolve(undefined);
    });
    socket.once('error', (err) => {
      timer.cancel();
      socket.destroy();
      resolve(`TCP health check ${host}:${port} failed: ${err.message}`);
    });
  });
}
