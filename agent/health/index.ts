/** Health checks the agent runs for its tasks (Mesos semantics). */
export {
  type CommandRunResult,
  HEALTH_CHECK_DEFAULTS,
  HealthChecker,
  type HealthCheckerOptions,
  type HealthCheckResult,
  type HealthEvents,
  healthCheckProblem,
  MAX_HEALTH_CHECK_SECONDS,
  MIN_HEALTH_CHECK_INTERVAL_SECONDS,
  probeHttp,
  probeTcp,
  type RunCommand,
  runShellCommand,
} from './checker.js';
