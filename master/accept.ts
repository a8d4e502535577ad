/**
 * Validation of an ACCEPT call, as a pure function: the offers named, the operations asked for and
 * what the master already knows go in; what to book and what to reject come out. Nothing is
 * booked here, so a call that fails books nothing.
 */

import type { ExecutorInfo, Operation, TaskInfo } from '../sdk/protocol/types.js';
import { DEFAULT_ROLE, type ResourceError, Resources } from '../sdk/resources/resources.js';
import { idProblem } from '../sdk/util/id.js';

export interface OfferView {
  id: string;
  frameworkId: string;
  agentId: string;
  role: string;
  resources: Resources;
}

export interface AcceptInput {
  frameworkId: string;
  offerIds: readonly string[];
  operations: readonly Operation[];
  /** Outstanding offers by id. */
  offers: ReadonlyMap<string, OfferView>;
  /** Whether the framework already has a task with this id (live or still known). */
  taskIdInUse: (taskId: string) => boolean;
  /** Whether the framework already runs a task group with this executor id on this agent. */
  executorIdInUse?: (agentId: string, executorId: string) => boolean;
}

/** A task group (LAUNCH_GROUP) that passed: all its tasks and its executor fit, together. */
export interface GroupLaunch {
  executor: ExecutorInfo;
  executorResources: Resources;
  tasks: { task: TaskInfo; resources: Resources }[];
  killGroupOnTaskFailure: boolean;
}

export interface TaskRejection {
  taskId: string;
  reason: string;
  message: string;
}

export interface AcceptPlan {
  /** The offers consumed (all of them valid and this framework's), on `agentId` for `role`. */
  offerIds: string[];
  agentId?: string;
  role?: string;
  /** Tasks to launch, with the resources each books. */
  launches: { task: TaskInfo; resources: Resources }[];
  /** Task groups to launch, each as one unit. */
  groups: GroupLaunch[];
  /** Reservation changes to apply to the agent's total: unreserved → role (RESERVE) and back. */
  reserve: Resources[];
  unreserve: Resources[];
  /** Tasks refused, each with a reason; they book nothing. */
  rejected: TaskRejection[];
  /** Offer-level problems (unknown offer, another framework's, several agents): then nothing at all is booked. */
  offerErrors: string[];
  /** What is left of the offers after the operations: goes back to the pool. */
  remaining: Resources;
}

export const RejectReason = {
  invalidOffers: 'REASON_INVALID_OFFERS',
  taskInvalid: 'REASON_TASK_INVALID',
  groupInvalid: 'REASON_TASK_GROUP_INVALID',
} as const;

function launchTasks(op: Operation): TaskInfo[] {
  if (op.type === 'LAUNCH') return op.launch.task_infos;
  if (op.type === 'LAUNCH_GROUP') return op.launch_group.task_group.tasks;
  return [];
}

export function planAccept(input: AcceptInput): AcceptPlan {
  const plan: AcceptPlan = {
    offerIds: [],
    launches: [],
    groups: [],
    reserve: [],
    unreserve: [],
    rejected: [],
    offerErrors: [],
    remaining: Resources.empty(),
  };

  // --- the offers: all known, all this framework's, one agent, no repeats.
  const seen = new Set<string>();
  let available = Resources.empty();
  for (const id of input.offerIds) {
    if (seen.has(id)) {
      plan.offerErrors.push(`offer ${id} is named twice in the same call`);
      continue;
    }
    seen.add(id);
    const offer = input.offers.get(id);
    if (!offer) {
      plan.offerErrors.push(`offer ${id} is unknown or was already used, declined or rescinded`);
      continue;
    }
    if (offer.frameworkId !== input.frameworkId) {
      plan.offerErrors.push(`offer ${id} was not made to this framework`);
      continue;
    }
    if (plan.agentId !== undefined && offer.agentId !== plan.agentId) {
      plan.offerErrors.push(
        `offers span several agents (${plan.agentId}, ${offer.agentId}); accept offers of one agent per call`,
      );
      continue;
    }
    if (plan.role !== undefined && offer.role !== plan.role) {
      plan.offerErrors.push(`offers span several roles (${plan.role}, ${offer.role})`);
      continue;
    }
    plan.agentId = offer.agentId;
    plan.role = offer.role;
    plan.offerIds.push(id);
    available = available.plus(offer.resources);
  }
  if (input.offerIds.length === 0) plan.offerErrors.push('no offer ids given');

  if (plan.offerErrors.length > 0) {
    const message = plan.offerErrors.join('; ');
    for (const op of input.operations) {
      for (const t of launchTasks(op)) {
        plan.rejected.push({ taskId: t.task_id, reason: RejectReason.invalidOffers, message });
      }
    }
    // Nothing is booked; the valid offers named stay outstanding for the framework to use.
    plan.offerIds = [];
    plan.remaining = Resources.empty();
    return plan;
  }

  const role = plan.role ?? DEFAULT_ROLE;
  const idsInCall = new Set<string>();
  const executorsInCall = new Set<string>();
  for (const op of input.operations) {
    switch (op.type) {
      case 'RESERVE': {
        const res = safeResources(op.reserve.resources);
        if (!res || res.roles().some((r) => r !== role)) {
          plan.offerErrors.push(`RESERVE must name resources with role '${role}' (the offer's allocation role)`);
          break;
        }
        const source = res.withRole(DEFAULT_ROLE);
        if (!available.contains(source)) {
          plan.offerErrors.push(`RESERVE of ${res} is not within the unreserved resources offered (${available})`);
          break;
        }
        available = available.minus(source).plus(res);
        plan.reserve.push(res);
        break;
      }
      case 'UNRESERVE': {
        const res = safeResources(op.unreserve.resources);
        if (!res || !available.contains(res) || res.roles().includes(DEFAULT_ROLE)) {
          plan.offerErrors.push(`UNRESERVE of resources not reserved in the offer`);
          break;
        }
        available = available.minus(res).plus(res.withRole(DEFAULT_ROLE));
        plan.unreserve.push(res);
        break;
      }
      case 'LAUNCH': {
        for (const task of op.launch.task_infos) {
          const why = checkTask(task, plan.agentId ?? '', role, available, input, idsInCall);
          if (why) {
            plan.rejected.push({ taskId: task.task_id, reason: RejectReason.taskInvalid, message: why });
            continue;
          }
          const res = Resources.from(task.resources);
          idsInCall.add(task.task_id);
          available = available.minus(res);
          plan.launches.push({ task, resources: res });
        }
        break;
      }
      case 'LAUNCH_GROUP': {
        const g = planGroup(op.launch_group, plan.agentId ?? '', role, available, input, idsInCall, executorsInCall);
        if ('problem' in g) {
          for (const task of op.launch_group.task_group.tasks) {
            plan.rejected.push({ taskId: task.task_id, reason: RejectReason.groupInvalid, message: g.problem });
          }
          break;
        }
        for (const t of g.group.tasks) idsInCall.add(t.task.task_id);
        executorsInCall.add(g.group.executor.executor_id);
        available = g.left;
        plan.groups.push(g.group);
        break;
      }
    }
  }
  plan.remaining = available;
  return plan;
}

/**
 * A task group, all or none: every task valid (ids unique in the group, the call and the
 * framework), one kind of container for all (the agent runs the group with one containerizer),
 * the executor's id free on the agent, and the executor's and every task's resources fitting the
 * offers together. The first problem found refuses the whole group.
 */
function planGroup(
  op: Extract<Operation, { type: 'LAUNCH_GROUP' }>['launch_group'],
  agentId: string,
  role: string,
  available: Resources,
  input: AcceptInput,
  idsInCall: ReadonlySet<string>,
  executorsInCall: ReadonlySet<string>,
): { group: GroupLaunch; left: Resources } | { problem: string } {
  const { executor, task_group } = op;
  const eid = executor.executor_id;
  const refuse = (why: string) => ({ problem: `task group of executor '${eid}' refused: ${why}` });
  if (executor.framework_id !== undefined && executor.framework_id !== input.frameworkId) {
    return refuse(`the executor names framework '${executor.framework_id}', not this framework`);
  }
  if (executorsInCall.has(eid) || input.executorIdInUse?.(agentId, eid)) {
    return refuse(`executor id '${eid}' is already in use by this framework on agent '${agentId}'`);
  }
  let left = available;
  const execRes = safeResources(executor.resources);
  if (!execRes) return refuse('the executor has invalid resources');
  const wrongRole = execRes.roles().find((r) => r !== DEFAULT_ROLE && r !== role);
  if (wrongRole) return refuse(`the executor uses resources reserved for role '${wrongRole}', not '${role}'`);
  if (!left.contains(execRes)) {
    return refuse(`the executor needs ${execRes} but the offer holds only ${left} (after earlier operations)`);
  }
  left = left.minus(execRes);
  const kinds = new Set(task_group.tasks.map((t) => kindOf(t)));
  if (kinds.size > 1)
    return refuse('its tasks mix docker and non-docker containers; one group runs with one containerizer');
  if (executor.container && kinds.size === 1 && (executor.container.type === 'DOCKER') !== kinds.has('DOCKER')) {
    return refuse(`the executor's container is ${executor.container.type} but its tasks' are not`);
  }
  const ids = new Set(idsInCall);
  const tasks: GroupLaunch['tasks'] = [];
  for (const task of task_group.tasks) {
    const why = checkTask(task, agentId, role, left, input, ids);
    if (why) return refuse(`task '${task.task_id}': ${why}`);
    const res = Resources.from(task.resources);
    ids.add(task.task_id);
    left = left.minus(res);
    tasks.push({ task, resources: res });
  }
  return {
    group: {
      executor,
      executorResources: execRes,
      tasks,
      killGroupOnTaskFailure: task_group.kill_group_on_task_failure !== false,
    },
    left,
  };
}

function kindOf(t: TaskInfo): string {
  return t.container?.type === 'DOCKER' ? 'DOCKER' : 'MESOS';
}

function safeResources(list: unknown): Resources | undefined {
  try {
    return Resources.from(list as never);
  } catch {
    return undefined;
  }
}

/** Longest task id accepted (Mesos's ids are path components, as here in sandbox paths). */

/**
 * Why a task id cannot be used, or undefined. Task ids name sandbox directories and checkpoint
 * files, so, as in Mesos, they are not `.` or `..` and hold no `/`, backslash or control
 * character (only printable characters, as Mesos).
 */
export function taskIdProblem(id: string): string | undefined {
  const p = idProblem(id);
  return p ? `invalid task id: ${p}` : undefined;
}

function checkTask(
  task: TaskInfo,
  agentId: string,
  role: string,
  available: Resources,
  input: AcceptInput,
  idsInCall: ReadonlySet<string>,
): string | undefined {
  const badId = taskIdProblem(task.task_id);
  if (badId) return badId;
  if (idsInCall.has(task.task_id) || input.taskIdInUse(task.task_id)) {
    return `task id '${task.task_id}' is already in use by this framework`;
  }
  if (task.agent_id !== agentId) {
    return `task names agent '${task.agent_id}' but the offer is for agent '${agentId}'`;
  }
  if (!task.command?.value && task.container?.type !== 'DOCKER') {
    return 'task has neither a command nor a docker container to run';
  }
  let res: Resources;
  try {
    res = Resources.from(task.resources);
  } catch (e) {
    return `invalid resources: ${(e as ResourceError).message}`;
  }
  if (res.isEmpty()) return 'task asks for no resources';
  const wrongRole = res.roles().find((r) => r !== DEFAULT_ROLE && r !== role);
  if (wrongRole) return `task uses resources reserved for role '${wrongRole}', but the offer is for role '${role}'`;
  if (!available.contains(res)) {
    return `task needs ${res} but the offer holds only ${available} (after earlier operations in this call)`;
  }
  return undefined;
}
