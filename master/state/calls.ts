/**
 * The calls a subscribed framework makes: ACCEPT (validated by the pure planAccept; a bad task gets
 * TASK_ERROR, the connection stays), DECLINE, REVIVE and SUPPRESS (only the framework's own roles),
 * KILL, ACKNOWLEDGE, RECONCILE and TEARDOWN; MESSAGE, SHUTDOWN, UPDATE_FRAMEWORK and REQUEST in
 * framework-calls.ts.
 */
import type { SchedulerCall } from '../../sdk/protocol/messages.js';
import { type Operation, TaskState } from '../../sdk/protocol/types.js';
import type { RefusedOperation } from '../../sdk/protocol/validate.js';
import { DEFAULT_ROLE } from '../../sdk/resources/resources.js';
import { planAccept } from '../accept.js';
import { type FrameworkEntry, taskKey } from '../registry.js';
import { agentRecord } from './agents.js';
import type { Core } from './core.js';
import type { Effects } from './effects.js';
import { onFrameworkMessage, onShutdownExecutor, onUpdateFramework } from './framework-calls.js';
import { teardown } from './frameworks.js';
import { executorInUse, joinGroup } from './groups.js';
import { addFilter, declineOffers, dropFilters, removeOffer } from './offers.js';
import { reconcile } from './reconcile.js';
import { authorizeOperations } from './security.js';
import { acknowledge, addTask, applyState, bumpState, masterStatus, sendUpdate } from './tasks.js';

export type FrameworkCall = Exclude<SchedulerCall, { type: 'SUBSCRIBE' }>;

export function onCall(
  s: Core,
  out: Effects,
  fw: FrameworkEntry,
  call: FrameworkCall,
  refused: RefusedOperation[] = [],
): void {
  switch (call.type) {
    case 'TEARDOWN':
      // On the framework's own (bound) connection: its own teardown.
      teardown(s, out, fw);
      return;
    case 'ACCEPT': {
      refuseInvalid(s, out, fw, refused);
      const ops = authorizeOperations(s, out, fw, call.accept.operations);
      accept(s, out, fw, call.accept.offer_ids, ops, call.accept.filters?.refuse_seconds);
      return;
    }
    case 'DECLINE':
      declineOffers(s, out, fw, call.decline.offer_ids, call.decline.filters?.refuse_seconds);
      return;
    case 'REVIVE': {
      const roles = ownRoles(out, fw, call.revive?.roles, 'REVIVE');
      if (!roles) return;
      for (const r of roles) fw.suppressedRoles.delete(r);
      // Only the named roles' filters (Mesos reviveOffers(framework, roles)); none named: all of them.
      dropFilters(fw, call.revive?.roles?.length ? roles : undefined);
      s.requestAllocation(out);
      return;
    }
    case 'SUPPRESS': {
      const roles = ownRoles(out, fw, call.suppress?.roles, 'SUPPRESS');
      if (!roles) return;
      for (const r of roles) fw.suppressedRoles.add(r);
      return;
    }
    case 'KILL':
      kill(s, out, fw, call.kill.task_id);
      return;
    case 'ACKNOWLEDGE':
      acknowledge(s, out, fw, call.acknowledge);
      return;
    case 'RECONCILE':
      reconcile(s, out, fw, call.reconcile.tasks);
      return;
    case 'MESSAGE':
      onFrameworkMessage(s, out, fw, call);
      return;
    case 'SHUTDOWN':
      onShutdownExecutor(s, out, fw, call);
      return;
    case 'UPDATE_FRAMEWORK':
      onUpdateFramework(s, out, fw, call);
      return;
    case 'REQUEST':
      return; // accepted and ignored, as Mesos's allocator does
  }
}

/** The roles a REVIVE/SUPPRESS names (all the framework's when none); undefined, with an ERROR, if any is not its own. */
function ownRoles(out: Effects, fw: FrameworkEntry, asked: string[] | undefined, what: string): string[] | undefined {
  if (!asked || asked.length === 0) return fw.roles;
  const foreign = [...new Set(asked)].filter((r) => !fw.roles.includes(r));
  if (foreign.length > 0) {
    const shown = foreign.slice(0, 5).map((r) => JSON.stringify(r.slice(0, 64)));
    out.schedulerError(
      fw.peer?.id,
      'AGORA_MASTER_ROLE_NOT_SUBSCRIBED',
      `${what} names roles the framework did not subscribe with: ${shown.join(', ')}${foreign.length > 5 ? ', ...' : ''}`,
    );
    return undefined;
  }
  return [...new Set(asked)];
}

/**
 * Operations and tasks of an ACCEPT that failed the wire schema, as Mesos answers them: each task
 * with a usable id gets TASK_ERROR (REASON_TASK_INVALID); any other refused operation an ERROR.
 * The connection stays; the valid rest of the call is carried out.
 */
function refuseInvalid(s: Core, out: Effects, fw: FrameworkEntry, refused: RefusedOperation[]): void {
  const other: string[] = [];
  for (const r of refused) {
    if (r.task_id === undefined) {
      other.push(`operation ${r.operation} (${r.type}): ${r.message}`);
      continue;
    }
    sendUpdate(out, fw, {
      task_id: r.task_id,
      state: TaskState.ERROR,
      reason: 'REASON_TASK_INVALID',
      message: r.message,
      source: 'SOURCE_MASTER',
      timestamp: s.nowSecs(),
    });
    bumpState(s, undefined, TaskState.ERROR);
  }
  if (other.length > 0) out.schedulerError(fw.peer?.id, 'AGORA_MASTER_INVALID_ACCEPT', other.slice(0, 10).join('; '));
}

function accept(
  s: Core,
  out: Effects,
  fw: FrameworkEntry,
  offerIds: string[],
  operations: Operation[],
  refuseSeconds?: number,
): void {
  const plan = planAccept({
    frameworkId: fw.id,
    offerIds,
    operations,
    offers: s.offers,
    taskIdInUse: (id) => s.tasks.has(taskKey(fw.id, id)),
    executorIdInUse: (agentId, executorId) => executorInUse(s, fw.id, agentId, executorId),
  });
  const now = s.nowSecs();
  for (const r of plan.rejected) {
    sendUpdate(out, fw, {
      task_id: r.taskId,
      state: TaskState.ERROR,
      reason: r.reason,
      message: r.message,
      source: 'SOURCE_MASTER',
      timestamp: now,
      agent_id: plan.agentId,
    });
    bumpState(s, undefined, TaskState.ERROR);
  }
  if (plan.offerErrors.length > 0) {
    out.log('info', 'ACCEPT refused', { frameworkId: fw.id, errors: plan.offerErrors.slice(0, 10) });
    if (plan.rejected.length === 0) {
      out.schedulerError(fw.peer?.id, 'AGORA_MASTER_INVALID_ACCEPT', plan.offerErrors.slice(0, 10).join('; '));
    }
    return;
  }
  const agent = plan.agentId ? s.agents.get(plan.agentId) : undefined;
  const role = plan.role ?? DEFAULT_ROLE;
  for (const id of plan.offerIds) removeOffer(s, out, id, false);
  fw.stats.offersAccepted += plan.offerIds.length;
  if (!agent) return;
  for (const r of plan.reserve) s.setAgentTotal(agent, agent.total.minus(r.withRole(DEFAULT_ROLE)).plus(r));
  for (const r of plan.unreserve) s.setAgentTotal(agent, agent.total.minus(r).plus(r.withRole(DEFAULT_ROLE)));
  if (plan.reserve.length > 0 || plan.unreserve.length > 0) out.persistAgent(agentRecord(agent));
  const framework = { ...fw.info };
  for (const { task } of plan.launches) {
    const t = addTask(s, agent, fw, task, role, TaskState.STAGING);
    if (!agent.peer) {
      const status = masterStatus(
        s,
        t,
        TaskState.LOST,
        `agent ${agent.id} is not connected`,
        'REASON_AGENT_DISCONNECTED',
      );
      applyState(s, out, t, status);
      sendUpdate(out, fw, status);
      continue;
    }
    out.toAgent(agent.peer.id, { type: 'RUN_TASK', framework, task });
  }
  for (const g of plan.groups) {
    // Each task is a task of its own (own states, own updates); the executor is booked once.
    const entries = g.tasks.map(({ task }) => addTask(s, agent, fw, task, role, TaskState.STAGING));
    for (const t of entries) joinGroup(s, fw, t, g.executor, g.killGroupOnTaskFailure);
    if (!agent.peer) {
      for (const t of entries) {
        const status = masterStatus(
          s,
          t,
          TaskState.LOST,
          `agent ${agent.id} is not connected`,
          'REASON_AGENT_DISCONNECTED',
        );
        applyState(s, out, t, status);
        sendUpdate(out, fw, status);
      }
      continue;
    }
    out.toAgent(agent.peer.id, {
      type: 'RUN_TASK_GROUP',
      framework,
      executor: g.executor,
      task_group: {
        tasks: g.tasks.map((x) => x.task),
        ...(g.killGroupOnTaskFailure ? {} : { kill_group_on_task_failure: false }),
      },
    });
  }
  if (!plan.remaining.isEmpty()) addFilter(s, fw, agent.id, role, plan.remaining, refuseSeconds);
  s.requestAllocation(out, agent.id);
}

/** A RUN_TASK that could not be sent: the task is lost (its agent is not reachable on that connection). */
export function runTaskNotSent(s: Core, out: Effects, frameworkId: string, taskId: string): void {
  const t = s.tasks.get(taskKey(frameworkId, taskId));
  const fw = s.frameworks.get(frameworkId);
  if (!t) return;
  const status = masterStatus(s, t, TaskState.LOST, `agent ${t.agentId} is not connected`, 'REASON_AGENT_DISCONNECTED');
  applyState(s, out, t, status);
  if (fw) sendUpdate(out, fw, status);
}

function kill(s: Core, out: Effects, fw: FrameworkEntry, taskId: string): void {
  const t = s.tasks.get(taskKey(fw.id, taskId));
  if (!t) {
    sendUpdate(out, fw, {
      task_id: taskId,
      state: fw.partitionAware ? TaskState.UNKNOWN : TaskState.LOST,
      message: 'cannot kill: the master does not know this task',
      reason: 'REASON_RECONCILIATION',
      source: 'SOURCE_MASTER',
      timestamp: s.nowSecs(),
    });
    return;
  }
  out.toAgent(s.agents.get(t.agentId)?.peer?.id, {
    type: 'KILL_TASK',
    framework_id: fw.id,
    task_id: taskId,
    grace_period_seconds: t.task.kill_policy?.grace_period_seconds,
  });
}
