/**
 * A running task's health checker, wired to its containerizer: COMMAND checks run inside the
 * container when the containerizer can (`exec`, e.g. docker exec), HTTP and TCP checks dial the
 * port the host maps to the container port (`hostPort`). The agent only hears the outcome.
 */
import type { Logger } from 'pino';
import type { Clock } from '../sdk/util/clock.js';
import { HealthChecker, type RunCommand } from './health/index.js';
import type { AgentTask } from './task.js';

export interface TaskHealthHooks {
  clock: Clock;
  logger: Logger;
  /** The task's health changed (the first result counts as a change). */
  report: (healthy: boolean, message?: string) => void;
  /** The checks failed past `consecutive_failures`: the task must be killed, for this reason. */
  kill: (message: string) => void;
  /**
   * The task whose port mappings publish this task's ports, when another's: a later task of a
   * docker task group shares the first task's network (docs/task-groups.md).
   */
  portsOf?: AgentTask['task'];
}

/** Starts checking the task's health; undefined when it has no check or no container. */
export function startTaskHealth(
  t: AgentTask,
  env: Record<string, string>,
  hooks: TaskHealthHooks,
): HealthChecker | undefined {
  if (!t.task.health_check || !t.container) return undefined;
  const check = { ...t.task.health_check };
  const c = t.containerizerRef;
  const handle = t.container.handle;
  const runCommand: RunCommand | undefined = c?.exec ? (command, o) => c.exec!(handle, command, o) : undefined;
  const port = check.http?.port ?? check.tcp?.port;
  const mapped = port !== undefined ? c?.hostPort?.(hooks.portsOf ?? t.task, port) : undefined;
  if (mapped !== undefined && check.http) check.http = { ...check.http, port: mapped };
  if (mapped !== undefined && check.tcp) check.tcp = { port: mapped };
  const hc = new HealthChecker({
    check,
    taskId: t.task.task_id,
    sandbox: t.sandbox,
    env,
    // On the host, as the task's user; inside a container (exec), as the container's user.
    ...(t.user && !runCommand ? { user: { uid: t.user.uid, gid: t.user.gid } } : {}),
    runCommand,
    clock: hooks.clock,
    logger: hooks.logger,
  });
  hc.on('healthy', () => hooks.report(true));
  hc.on('unhealthy', (r) => hooks.report(false, r.message));
  hc.on('kill', (r) => {
    hooks.logger.warn({ taskId: t.task.task_id, result: r }, 'health check failed past the limit; killing the task');
    hooks.kill(`killed after ${r.consecutiveFailures} consecutive failed health checks: ${r.message ?? 'unhealthy'}`);
  });
  hc.start();
  return hc;
}
