/** Health checks the agent runs for its tasks (Mesos semantics). */
export {
  type CommandRunResult,
  HEALTH_CHECK_DEFAULTS,
  HealthChecker,
  type HealthCheckerOptions,
  type HealthCheckResult,
  type HealthEvents,
  type HealthTimers,
  probeHttp,
  probeTcp,
  type RunCommand,
  realTimers,
  runShellCommand,
} from './checker.js';
