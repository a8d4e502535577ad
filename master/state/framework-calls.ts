/**
 * The scheduler calls that are not about offers or task state: MESSAGE (framework → executor),
 * SHUTDOWN (an executor), UPDATE_FRAMEWORK and REQUEST, decided as Mesos's master decides them.
 *
 * - MESSAGE: Mesos forwards it to the agent, best effort, and the agent hands it to the executor.
 *   Agora runs no custom executors: a command task's executor (whose id is the task id) drops a
 *   framework message, as Mesos's command executor does. So the master accepts the call and drops
 *   it (logged at debug); it never answers ERROR, since Mesos gives no delivery guarantee either.
 * - SHUTDOWN: stops an executor and the tasks it runs. A command task's executor id is its task
 *   id, so it kills that task (on the agent named). An unknown executor is ignored, as in Mesos.
 * - UPDATE_FRAMEWORK: the framework's new FrameworkInfo (same id, same principal, roles allowed by
 *   `register_frameworks`), and optionally which roles are suppressed. Offers outstanding are
 *   rescinded and offers are made again under the new info. The refusal filters of roles it no
 *   longer has are dropped (Mesos too). `offer_constraints` is ignored.
 * - REQUEST: accepted and ignored (Mesos's hierarchical allocator ignores resource requests).
 */
import { effectivePrincipal } from '../../sdk/auth/protocol.js';
import type { SchedulerCall } from '../../sdk/protocol/messages.js';
import { DEFAULT_ROLE } from '../../sdk/resources/resources.js';
import { type FrameworkEntry, taskKey } from '../registry.js';
import { roleNameProblem } from '../roles.js';
import type { Core } from './core.js';
import type { Effects } from './effects.js';
import { frameworkRecord } from './frameworks.js';
import { dropFiltersOutside, dropFrameworkOffers } from './offers.js';
import { ALLOW_ALL } from './security.js';

type Call<T extends SchedulerCall['type']> = Extract<SchedulerCall, { type: T }>;

export function onFrameworkMessage(s: Core, out: Effects, fw: FrameworkEntry, call: Call<'MESSAGE'>): void {
  const { agent_id, executor_id, data } = call.message;
  const agent = s.agents.get(agent_id);
  const t = s.tasks.get(taskKey(fw.id, executor_id));
  out.log('debug', 'framework message dropped: command executors take no messages', {
    frameworkId: fw.id,
    agentId: agent_id,
    executorId: executor_id,
    bytes: Math.floor((data.length * 3) / 4),
    known: agent !== undefined && t?.agentId === agent_id,
  });
}

export function onShutdownExecutor(s: Core, out: Effects, fw: FrameworkEntry, call: Call<'SHUTDOWN'>): void {
  const { agent_id, executor_id } = call.shutdown;
  const t = s.tasks.get(taskKey(fw.id, executor_id));
  if (!t || t.agentId !== agent_id) {
    out.log('info', 'SHUTDOWN of an executor the master does not know; ignored', {
      frameworkId: fw.id,
      agentId: agent_id,
      executorId: executor_id,
    });
    return;
  }
  out.toAgent(s.agents.get(agent_id)?.peer?.id, {
    type: 'KILL_TASK',
    framework_id: fw.id,
    task_id: executor_id,
    grace_period_seconds: t.task.kill_policy?.grace_period_seconds,
  });
}

export function onUpdateFramework(s: Core, out: Effects, fw: FrameworkEntry, call: Call<'UPDATE_FRAMEWORK'>): void {
  const { framework_info: info, suppressed_roles } = call.update_framework;
  const refuse = (code: string, message: string) => {
    out.log('info', 'UPDATE_FRAMEWORK refused', { frameworkId: fw.id, code });
    out.schedulerError(fw.peer?.id, code, `UPDATE_FRAMEWORK refused: ${message}`);
  };
  if (info.id !== undefined && info.id !== fw.id) {
    refuse('AGORA_MASTER_INVALID_FRAMEWORK_UPDATE', `framework_info.id ${info.id} is not ${fw.id}`);
    return;
  }
  const claimed = effectivePrincipal({ mustAuthenticate: false, connection: undefined, claimed: info.principal });
  if (claimed !== undefined && fw.principal !== undefined && claimed !== fw.principal) {
    refuse('AGORA_MASTER_INVALID_FRAMEWORK_UPDATE', 'the principal of a framework cannot change');
    return;
  }
  const roles = info.roles && info.roles.length > 0 ? [...new Set(info.roles)] : [DEFAULT_ROLE];
  const badRole = roles.map(roleNameProblem).find((why) => why);
  if (badRole) {
    refuse('AGORA_MASTER_INVALID_FRAMEWORK_ROLE', badRole.slice(0, 300));
    return;
  }
  const suppressed = [...new Set(suppressed_roles ?? [])];
  const foreign = suppressed.find((r) => !roles.includes(r));
  if (foreign !== undefined) {
    refuse(
      'AGORA_MASTER_ROLE_NOT_SUBSCRIBED',
      `suppressed role ${JSON.stringify(foreign.slice(0, 64))} is not one of its roles`,
    );
    return;
  }
  const permits = (s.cfg.security ?? ALLOW_ALL).permits;
  const denied = roles.find((r) => !fw.roles.includes(r) && !permits(fw.principal, 'register_frameworks', r));
  if (denied !== undefined) {
    s.counters.authRefusals++;
    out.audit({
      conn: fw.peer?.id,
      principal: fw.principal,
      action: 'register_frameworks',
      target: fw.id,
      code: 'AGORA_AUTH_NOT_AUTHORIZED',
      status: 403,
    });
    refuse('AGORA_AUTH_NOT_AUTHORIZED', `principal may not register in role '${denied}'`);
    return;
  }
  dropFrameworkOffers(s, out, fw, false);
  fw.info = { ...info, id: fw.id, roles };
  if (fw.principal !== undefined) fw.info.principal = fw.principal;
  fw.roles = roles;
  dropFiltersOutside(fw, roles);
  if (suppressed_roles !== undefined) fw.suppressedRoles = new Set(suppressed);
  else for (const r of [...fw.suppressedRoles]) if (!roles.includes(r)) fw.suppressedRoles.delete(r);
  fw.partitionAware = (info.capabilities ?? []).some((x) => x.type === 'PARTITION_AWARE');
  out.persistFramework(frameworkRecord(fw, false));
  out.log('info', 'framework updated', { frameworkId: fw.id, name: info.name, roles });
  s.requestAllocation(out);
}
