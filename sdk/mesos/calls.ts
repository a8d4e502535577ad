/**
 * Scheduler calls between Mesos's v1 JSON (scheduler.proto `Call`) and Agora's wire messages
 * (sdk/protocol), both ways. Mesos → Agora checks the Mesos shape (open, bounded: sdk/mesos/
 * schema.ts), translates, then validates the result as an Agora message, strictly. An ACCEPT
 * whose only faults are in some tasks or operations is kept, with those listed as refused (the
 * master answers each refused task with TASK_ERROR, as Mesos does).
 */
import { Compile } from 'typebox/compile';
import type { SchedulerCall } from '../protocol/messages.js';
import type { Operation } from '../protocol/types.js';
import { ProtocolError, type RefusedOperation, validateMessage } from '../protocol/validate.js';
import { isValidId } from '../util/id.js';
import { firstProblem } from './describe.js';
import { InvalidMesosCall, UnsupportedMesosCall } from './errors.js';
import {
  type MesosCall,
  MesosCall as MesosCallSchema,
  type MesosFrameworkInfo,
  type MesosOperation,
} from './schema.js';
import {
  executorFromMesos,
  executorToMesos,
  resourcesFromMesos,
  resourceToMesos,
  taskFromMesos,
  taskToMesos,
  Untranslatable,
} from './tasks.js';
import { compact, dropNulls, isBase64, mid, uuidFromBase64, uuidToBase64 } from './values.js';

/** The calls of scheduler.proto that Agora answers (REQUEST is accepted and ignored). */
export const SUPPORTED_MESOS_CALLS = [
  'SUBSCRIBE',
  'TEARDOWN',
  'ACCEPT',
  'DECLINE',
  'REVIVE',
  'SUPPRESS',
  'KILL',
  'ACKNOWLEDGE',
  'RECONCILE',
  'MESSAGE',
  'SHUTDOWN',
  'UPDATE_FRAMEWORK',
  'REQUEST',
] as const;

/** What a Mesos call is in Agora's terms. */
export type FromMesosCall =
  | {
      kind: 'call';
      call: SchedulerCall;
      /** ACCEPT only: tasks and operations refused (each task gets TASK_ERROR); the call carries the rest. */
      refused: RefusedOperation[];
      /** SUBSCRIBE only: roles to suppress once subscribed (`subscribe.suppressed_roles`). */
      suppressedRoles?: string[];
    }
  /** Accepted (202) and nothing done (no call Agora has: none today; kept for calls Mesos adds). */
  | { kind: 'ignored'; type: string };

const callValidator = Compile(MesosCallSchema);

const FIELD_OF: Record<string, string> = {
  SUBSCRIBE: 'subscribe',
  ACCEPT: 'accept',
  DECLINE: 'decline',
  KILL: 'kill',
  SHUTDOWN: 'shutdown',
  ACKNOWLEDGE: 'acknowledge',
  RECONCILE: 'reconcile',
  MESSAGE: 'message',
  UPDATE_FRAMEWORK: 'update_framework',
};

/** Mesos → Agora. Throws InvalidMesosCall (400) or UnsupportedMesosCall (400) with the path that is wrong. */
export function callFromMesos(raw: unknown): FromMesosCall {
  // As Mesos: a field that is null is unset.
  const value = dropNulls(raw);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidMesosCall('a Call must be a JSON object with a "type"');
  }
  if (!callValidator.Check(value)) throw new InvalidMesosCall(firstProblem(callValidator, value, 'call'));
  const c = value as MesosCall;
  const field = FIELD_OF[c.type];
  if (field && (c as Record<string, unknown>)[field] === undefined) {
    throw new InvalidMesosCall(`call.${field}: is required for a ${c.type} call`);
  }
  if (c.type !== 'SUBSCRIBE' && c.framework_id === undefined && c.type in KNOWN) {
    throw new InvalidMesosCall(`call.framework_id: is required for a ${c.type} call`);
  }
  const fw = c.framework_id?.value as string;
  let refused: RefusedOperation[] = [];
  let candidate: Record<string, unknown>;
  let suppressedRoles: string[] | undefined;
  /** Agora's call of this framework: `{type, framework_id, [key]: body}`. */
  const ofFramework = (type: string, key?: string, value?: unknown): Record<string, unknown> =>
    key === undefined ? { type, framework_id: fw } : { type, framework_id: fw, [key]: value };
  switch (c.type) {
    case 'SUBSCRIBE': {
      const info = c.subscribe?.framework_info as MesosFrameworkInfo;
      if (c.framework_id && info.id && c.framework_id.value !== info.id.value) {
        throw new InvalidMesosCall('call.framework_id: differs from subscribe.framework_info.id');
      }
      const withId = info.id ?? c.framework_id;
      candidate = { type: 'SUBSCRIBE', subscribe: { framework_info: frameworkFromMesos({ ...info, id: withId }) } };
      suppressedRoles = c.subscribe?.suppressed_roles;
      break;
    }
    case 'TEARDOWN':
      candidate = ofFramework('TEARDOWN');
      break;
    case 'ACCEPT': {
      const a = c.accept as NonNullable<MesosCall['accept']>;
      const ops = operationsFromMesos(a.operations ?? []);
      refused = ops.refused;
      candidate = ofFramework('ACCEPT', 'accept', {
        ...offersAndFilters(a),
        ...(ops.operations !== undefined ? { operations: ops.operations } : {}),
      });
      break;
    }
    case 'DECLINE': {
      const d = c.decline as NonNullable<MesosCall['decline']>;
      candidate = ofFramework('DECLINE', 'decline', offersAndFilters(d));
      break;
    }
    case 'REVIVE':
    case 'SUPPRESS': {
      const body = c.type === 'REVIVE' ? c.revive : c.suppress;
      const roles = body?.roles ?? (body?.role !== undefined ? [body.role] : undefined);
      const key = c.type === 'REVIVE' ? 'revive' : 'suppress';
      candidate = roles ? ofFramework(c.type, key, { roles }) : ofFramework(c.type);
      break;
    }
    case 'KILL': {
      const k = c.kill as NonNullable<MesosCall['kill']>;
      candidate = ofFramework('KILL', 'kill', compact({ task_id: k.task_id.value, agent_id: k.agent_id?.value }));
      break;
    }
    case 'ACKNOWLEDGE': {
      const k = c.acknowledge as NonNullable<MesosCall['acknowledge']>;
      if (!isBase64(k.uuid))
        throw new InvalidMesosCall("call.acknowledge.uuid: must be base64 (the bytes of the update's uuid)");
      const uuid = uuidFromBase64(k.uuid);
      candidate = ofFramework('ACKNOWLEDGE', 'acknowledge', {
        agent_id: k.agent_id.value,
        task_id: k.task_id.value,
        uuid,
      });
      break;
    }
    case 'RECONCILE':
      candidate = ofFramework('RECONCILE', 'reconcile', {
        tasks: (c.reconcile?.tasks ?? []).map((t) =>
          compact({ task_id: t.task_id.value, agent_id: t.agent_id?.value }),
        ),
      });
      break;
    case 'MESSAGE': {
      const m = c.message as NonNullable<MesosCall['message']>;
      const to = { agent_id: m.agent_id.value, executor_id: m.executor_id.value };
      candidate = ofFramework('MESSAGE', 'message', { ...to, data: m.data });
      break;
    }
    case 'SHUTDOWN': {
      const m = c.shutdown as NonNullable<MesosCall['shutdown']>;
      candidate = ofFramework('SHUTDOWN', 'shutdown', { executor_id: m.executor_id.value, agent_id: m.agent_id.value });
      break;
    }
    case 'UPDATE_FRAMEWORK': {
      const u = c.update_framework as NonNullable<MesosCall['update_framework']>;
      const info = frameworkFromMesos(u.framework_info);
      if (info.id !== undefined && info.id !== fw) {
        throw new InvalidMesosCall('call.update_framework.framework_info.id: differs from call.framework_id');
      }
      const update = compact({ framework_info: { ...info, id: fw }, suppressed_roles: u.suppressed_roles });
      candidate = ofFramework('UPDATE_FRAMEWORK', 'update_framework', update);
      break;
    }
    case 'REQUEST': {
      // Mesos's allocator ignores it; so does Agora's master. Its resources are not read (Mesos's
      // own example gives them as an object), only which agents were named.
      const body = (c.request ?? {}) as { requests?: unknown };
      const list = Array.isArray(body.requests) ? body.requests : Array.isArray(c.requests) ? c.requests : [];
      candidate = ofFramework('REQUEST', 'request', {
        requests: list.slice(0, 1000).map((r: unknown) => {
          const a = (r as { agent_id?: { value?: unknown } } | null)?.agent_id?.value;
          return typeof a === 'string' ? { agent_id: a } : {};
        }),
      });
      break;
    }
    default:
      throw new UnsupportedMesosCall(
        `call.type: ${JSON.stringify(c.type).slice(0, 64)} is not supported; supported: ${SUPPORTED_MESOS_CALLS.join(', ')}`,
      );
  }
  return { kind: 'call', ...validated(candidate, refused), ...(suppressedRoles ? { suppressedRoles } : {}) };
}

const KNOWN: Record<string, true> = Object.fromEntries(SUPPORTED_MESOS_CALLS.map((t) => [t, true]));

/** The Agora call validated strictly; an ACCEPT bad only in some tasks keeps the rest. */
function validated(
  candidate: Record<string, unknown>,
  refused: RefusedOperation[],
): { call: SchedulerCall; refused: RefusedOperation[] } {
  try {
    return { call: validateMessage('scheduler_to_master', candidate), refused };
  } catch (e) {
    if (!(e instanceof ProtocolError)) throw e;
    if (e.partial) return { call: e.partial.call, refused: [...refused, ...e.partial.refused] };
    throw new InvalidMesosCall(e.message.replace(/^message/, 'call'));
  }
}

export function frameworkFromMesos(info: MesosFrameworkInfo): Record<string, unknown> {
  const roles = info.roles ?? (info.role !== undefined ? [info.role] : undefined);
  return compact({
    id: info.id?.value,
    name: info.name,
    user: info.user,
    hostname: info.hostname,
    roles,
    failover_timeout: info.failover_timeout,
    checkpoint: info.checkpoint,
    capabilities: info.capabilities?.filter((x) => typeof x.type === 'string').map((x) => ({ type: x.type as string })),
    principal: info.principal,
    webui_url: info.webui_url,
  });
}

function operationsFromMesos(ops: readonly MesosOperation[]): { operations: unknown[]; refused: RefusedOperation[] } {
  const operations: unknown[] = [];
  const refused: RefusedOperation[] = [];
  for (const [i, op] of ops.entries()) {
    const type = op.type.slice(0, 32);
    const refuse = (message: string, task?: number, taskId?: string): void => {
      refused.push({
        operation: i,
        type,
        message,
        ...(task !== undefined ? { task } : {}),
        ...(isValidId(taskId) ? { task_id: taskId } : {}),
      });
    };
    switch (op.type) {
      case 'LAUNCH': {
        if (!op.launch) {
          refuse(`call.accept.operations[${i}].launch: is required`);
          continue;
        }
        const tasks: unknown[] = [];
        op.launch.task_infos.forEach((t, j) => {
          try {
            tasks.push(taskFromMesos(t));
          } catch (e) {
            if (!(e instanceof Untranslatable)) throw e;
            refuse(`call.accept.operations[${i}].launch.task_infos[${j}]: ${e.message}`, j, t.task_id.value);
          }
        });
        if (tasks.length > 0 || op.launch.task_infos.length === 0)
          operations.push({ type: 'LAUNCH', launch: { task_infos: tasks } });
        continue;
      }
      case 'LAUNCH_GROUP': {
        const g = op.launch_group;
        if (!g) {
          refuse(`call.accept.operations[${i}].launch_group: is required`);
          continue;
        }
        try {
          operations.push({
            type: 'LAUNCH_GROUP',
            launch_group: {
              executor: executorFromMesos((g.executor ?? {}) as never),
              task_group: { tasks: g.task_group.tasks.map(taskFromMesos) },
            },
          });
        } catch (e) {
          if (!(e instanceof Untranslatable)) throw e;
          // A group is all or none: each of its tasks is refused.
          g.task_group.tasks.forEach((t, j) => {
            refuse(`call.accept.operations[${i}].launch_group: ${e.message}`, j, t.task_id.value);
          });
        }
        continue;
      }
      case 'RESERVE':
      case 'UNRESERVE': {
        const body = op.type === 'RESERVE' ? op.reserve : op.unreserve;
        if (!body?.resources) {
          refuse(`call.accept.operations[${i}].${op.type.toLowerCase()}.resources: is required`);
          continue;
        }
        const key = op.type === 'RESERVE' ? 'reserve' : 'unreserve';
        operations.push({ type: op.type, [key]: { resources: resourcesFromMesos(body.resources) } });
        continue;
      }
      default:
        refuse(
          `call.accept.operations[${i}].type: ${JSON.stringify(type)} is not supported (LAUNCH, LAUNCH_GROUP, RESERVE, UNRESERVE are)`,
        );
    }
  }
  return { operations, refused };
}

// ---------------------------------------------------------------- Agora → Mesos

function operationToMesos(op: Operation): Record<string, unknown> {
  switch (op.type) {
    case 'LAUNCH':
      return { type: 'LAUNCH', launch: { task_infos: op.launch.task_infos.map(taskToMesos) } };
    case 'LAUNCH_GROUP':
      return {
        type: 'LAUNCH_GROUP',
        launch_group: {
          executor: executorToMesos(op.launch_group.executor),
          task_group: { tasks: op.launch_group.task_group.tasks.map(taskToMesos) },
        },
      };
    case 'RESERVE':
      return { type: 'RESERVE', reserve: { resources: op.reserve.resources.map((r) => resourceToMesos(r)) } };
    case 'UNRESERVE':
      return { type: 'UNRESERVE', unreserve: { resources: op.unreserve.resources.map((r) => resourceToMesos(r)) } };
  }
}

/** Agora → Mesos: the JSON a Mesos master would take for this call. */
export function callToMesos(call: SchedulerCall): Record<string, unknown> {
  switch (call.type) {
    case 'SUBSCRIBE': {
      const { id, ...rest } = call.subscribe.framework_info;
      const info = compact({
        ...rest,
        id: id !== undefined ? mid(id) : undefined,
        capabilities: rest.capabilities?.map((x) => ({ ...x })),
      });
      return compact({
        type: 'SUBSCRIBE',
        framework_id: id !== undefined ? mid(id) : undefined,
        subscribe: { framework_info: info },
      });
    }
    case 'TEARDOWN':
      return { type: 'TEARDOWN', framework_id: mid(call.framework_id) };
    case 'ACCEPT':
      return {
        type: 'ACCEPT',
        framework_id: mid(call.framework_id),
        accept: compact({
          offer_ids: call.accept.offer_ids.map(mid),
          operations: call.accept.operations.map(operationToMesos),
          filters: call.accept.filters ? { ...call.accept.filters } : undefined,
        }),
      };
    case 'DECLINE':
      return {
        type: 'DECLINE',
        framework_id: mid(call.framework_id),
        decline: compact({
          offer_ids: call.decline.offer_ids.map(mid),
          filters: call.decline.filters ? { ...call.decline.filters } : undefined,
        }),
      };
    case 'REVIVE':
      return compact({
        type: 'REVIVE',
        framework_id: mid(call.framework_id),
        revive: call.revive ? compact({ ...call.revive }) : undefined,
      });
    case 'SUPPRESS':
      return compact({
        type: 'SUPPRESS',
        framework_id: mid(call.framework_id),
        suppress: call.suppress ? compact({ ...call.suppress }) : undefined,
      });
    case 'KILL':
      return {
        type: 'KILL',
        framework_id: mid(call.framework_id),
        kill: compact({
          task_id: mid(call.kill.task_id),
          agent_id: call.kill.agent_id !== undefined ? mid(call.kill.agent_id) : undefined,
        }),
      };
    case 'ACKNOWLEDGE':
      return {
        type: 'ACKNOWLEDGE',
        framework_id: mid(call.framework_id),
        acknowledge: {
          agent_id: mid(call.acknowledge.agent_id),
          task_id: mid(call.acknowledge.task_id),
          uuid: uuidToBase64(call.acknowledge.uuid),
        },
      };
    case 'MESSAGE':
      return {
        type: 'MESSAGE',
        framework_id: mid(call.framework_id),
        message: {
          agent_id: mid(call.message.agent_id),
          executor_id: mid(call.message.executor_id),
          data: call.message.data,
        },
      };
    case 'SHUTDOWN':
      return {
        type: 'SHUTDOWN',
        framework_id: mid(call.framework_id),
        shutdown: { executor_id: mid(call.shutdown.executor_id), agent_id: mid(call.shutdown.agent_id) },
      };
    case 'UPDATE_FRAMEWORK': {
      const { id, ...rest } = call.update_framework.framework_info;
      return {
        type: 'UPDATE_FRAMEWORK',
        framework_id: mid(call.framework_id),
        update_framework: compact({
          framework_info: compact({ ...rest, id: id !== undefined ? mid(id) : undefined }),
          suppressed_roles: call.update_framework.suppressed_roles,
          offer_constraints: call.update_framework.offer_constraints,
        }),
      };
    }
    case 'REQUEST':
      return {
        type: 'REQUEST',
        framework_id: mid(call.framework_id),
        request: {
          requests: call.request.requests.map((r) =>
            compact({
              agent_id: r.agent_id !== undefined ? mid(r.agent_id) : undefined,
              resources: r.resources?.map((x) => resourceToMesos(x)),
            }),
          ),
        },
      };
    case 'RECONCILE':
      return {
        type: 'RECONCILE',
        framework_id: mid(call.framework_id),
        reconcile: {
          tasks: call.reconcile.tasks.map((t) =>
            compact({ task_id: mid(t.task_id), agent_id: t.agent_id !== undefined ? mid(t.agent_id) : undefined }),
          ),
        },
      };
  }
}

/** ACCEPT's and DECLINE's common part: the offers by id, and the filter when one was given. */
function offersAndFilters(x: {
  offer_ids: { value: string }[];
  filters?: { refuse_seconds?: number };
}): Record<string, unknown> {
  return compact({
    offer_ids: x.offer_ids.map((o) => o.value),
    filters: x.filters ? compact({ refuse_seconds: x.filters.refuse_seconds }) : undefined,
  });
}
