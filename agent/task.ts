/** A task as the agent holds it, and the launch spec (environment included) built from it. */
import type { TaskCheckpoint } from './checkpoint.js';
import type { Containerizer, LaunchSpec, RunningContainer } from './containerizer/types.js';
import type { HealthChecker } from './health/index.js';

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** `PORT0`..`PORT99` at most, however many ports the task holds. */
const MAX_PORT_VARS = 100;

/** A task this agent knows, with its live container when it runs. */
export interface AgentTask extends TaskCheckpoint {
  container?: RunningContainer;
  containerizerRef?: Containerizer;
  health?: HealthChecker;
  /** Set when the agent itself kills the task (failed health checks), to say why. */
  killReason?: { reason: string; message: string };
  /** Set when the task is killed because another task of its group failed (that task's id). */
  groupKilledBy?: string;
}

/**
 * What a containerizer gets to launch the task: Mesos's task environment (`MESOS_*`, `PORT<n>`,
 * `HOME` the sandbox, `USER` and `LOGNAME` the task's user when it has one) under the task's own
 * variables. Pure given `path` (the agent's PATH).
 */
export function launchSpec(
  t: Pick<TaskCheckpoint, 'framework' | 'task' | 'sandbox' | 'user' | 'group'>,
  agentId: string | undefined,
  path = process.env.PATH ?? DEFAULT_PATH,
): LaunchSpec {
  const env: Record<string, string> = {
    PATH: path,
    HOME: t.sandbox,
    MESOS_TASK_ID: t.task.task_id,
    MESOS_FRAMEWORK_ID: t.framework.id,
    MESOS_AGENT_ID: agentId ?? '',
    MESOS_SANDBOX: t.sandbox,
    AGORA_TASK_ID: t.task.task_id,
  };
  const ports = t.task.resources.find((r) => r.name === 'ports')?.ranges?.range ?? [];
  let i = 0;
  for (const r of ports) for (let p = r.begin; p <= r.end && i < MAX_PORT_VARS; p++) env[`PORT${i++}`] = String(p);
  if (env.PORT0) env.PORT = env.PORT0;
  if (t.group) env.MESOS_EXECUTOR_ID = t.group.executor.executor_id;
  if (t.user) {
    env.USER = t.user.name;
    env.LOGNAME = t.user.name;
  }
  for (const v of t.task.command?.environment?.variables ?? []) if (v.value !== undefined) env[v.name] = v.value;
  const spec: LaunchSpec = {
    frameworkId: t.framework.id,
    task: t.task,
    sandbox: t.sandbox,
    env,
    agentId: agentId ?? '',
  };
  if (t.user) spec.user = t.user;
  return spec;
}
