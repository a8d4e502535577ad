/**
 * Structural validation of decoded frames. Every frame is checked here before it reaches any
 * state; a frame that fails gives a `ProtocolError` whose message names the path that is wrong.
 */
import { Resources } from '../resources/resources.js';
import type { Direction, MessageOf } from './messages.js';
import { TaskState } from './types.js';

export class ProtocolError extends Error {
  constructor(
    message: string,
    readonly code: string = 'AGORA_PROTOCOL_INVALID_MESSAGE',
  ) {
    super(message);
  }
}

type V = (value: unknown, path: string) => void;

function fail(path: string, what: string): never {
  throw new ProtocolError(`${path}: ${what}`);
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const str: V = (v, p) => {
  if (typeof v !== 'string') fail(p, 'expected a string');
};
const nonEmpty: V = (v, p) => {
  if (typeof v !== 'string' || v.length === 0 || v.length > 1024) fail(p, 'expected a non-empty string (≤1024)');
};
const num: V = (v, p) => {
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(p, 'expected a finite number');
};
const nonNegNum: V = (v, p) => {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) fail(p, 'expected a number >= 0');
};
const int: V = (v, p) => {
  if (!Number.isInteger(v)) fail(p, 'expected an integer');
};
const bool: V = (v, p) => {
  if (typeof v !== 'boolean') fail(p, 'expected a boolean');
};
const any: V = () => {};

function arr(item: V, max = 100_000): V {
  return (v, p) => {
    if (!Array.isArray(v)) fail(p, 'expected an array');
    if (v.length > max) fail(p, `too many entries (${v.length} > ${max})`);
    for (let i = 0; i < v.length; i++) item(v[i], `${p}[${i}]`);
  };
}

function oneOf(values: readonly string[]): V {
  const set = new Set(values);
  return (v, p) => {
    if (typeof v !== 'string' || !set.has(v)) fail(p, `expected one of ${values.join(', ')}`);
  };
}

/** An object with required (`name`) and optional (`name?`) fields; unknown fields are allowed. */
function obj(fields: Record<string, V>): V {
  const spec = Object.entries(fields).map(([k, check]) => {
    const optional = k.endsWith('?');
    return { key: optional ? k.slice(0, -1) : k, optional, check };
  });
  return (v, p) => {
    if (!isObj(v)) fail(p, 'expected an object');
    for (const { key, optional, check } of spec) {
      const x = v[key];
      if (x === undefined || x === null) {
        if (!optional) fail(`${p}.${key}`, 'is required');
        continue;
      }
      check(x, `${p}.${key}`);
    }
  };
}

function stringMap(v: unknown, p: string): void {
  if (!isObj(v)) fail(p, 'expected an object of strings');
  for (const [k, x] of Object.entries(v)) if (typeof x !== 'string') fail(`${p}.${k}`, 'expected a string');
}

const resources: V = (v, p) => {
  if (!Array.isArray(v)) fail(p, 'expected an array of resources');
  try {
    Resources.from(v as never);
  } catch (e) {
    fail(p, (e as Error).message);
  }
};

const envVars = obj({ variables: arr(obj({ name: str, value: str })) });
const commandInfo = obj({
  'value?': str,
  'shell?': bool,
  'arguments?': arr(str),
  'environment?': envVars,
  'uris?': arr(obj({ value: nonEmpty, 'executable?': bool, 'extract?': bool, 'cache?': bool, 'output_file?': str })),
  'user?': str,
});
const containerInfo = obj({
  type: oneOf(['DOCKER', 'MESOS']),
  'docker?': obj({
    image: nonEmpty,
    'network?': oneOf(['HOST', 'BRIDGE', 'NONE']),
    'port_mappings?': arr(obj({ host_port: int, container_port: int, 'protocol?': str })),
    'privileged?': bool,
    'parameters?': arr(obj({ key: str, value: str })),
    'force_pull_image?': bool,
  }),
  'volumes?': arr(obj({ container_path: nonEmpty, 'host_path?': str, mode: oneOf(['RW', 'RO']) })),
  'hostname?': str,
  'containerizer?': str,
  'network_isolation?': bool,
});
const healthCheck = obj({
  type: oneOf(['HTTP', 'TCP', 'COMMAND']),
  'http?': obj({ port: int, 'path?': str, 'scheme?': str, 'statuses?': arr(int) }),
  'tcp?': obj({ port: int }),
  'command?': commandInfo,
  'delay_seconds?': nonNegNum,
  'interval_seconds?': nonNegNum,
  'timeout_seconds?': nonNegNum,
  'consecutive_failures?': int,
  'grace_period_seconds?': nonNegNum,
});
const taskInfo = obj({
  name: str,
  task_id: nonEmpty,
  agent_id: nonEmpty,
  resources,
  'command?': commandInfo,
  'container?': containerInfo,
  'health_check?': healthCheck,
  'kill_policy?': obj({ 'grace_period_seconds?': nonNegNum }),
  'labels?': obj({ labels: arr(obj({ key: str, 'value?': str })) }),
});
const taskState = oneOf(Object.values(TaskState));
const taskStatus = obj({
  task_id: nonEmpty,
  state: taskState,
  'message?': str,
  'reason?': str,
  'source?': oneOf(['SOURCE_MASTER', 'SOURCE_AGENT', 'SOURCE_EXECUTOR']),
  'agent_id?': str,
  'healthy?': bool,
  timestamp: num,
  'uuid?': str,
  'exit_status?': int,
});
const frameworkInfo = obj({
  'id?': nonEmpty,
  name: str,
  'user?': str,
  'hostname?': str,
  'roles?': arr(nonEmpty, 64),
  'failover_timeout?': nonNegNum,
  'checkpoint?': bool,
  'capabilities?': arr(obj({ type: str })),
  'principal?': str,
  'webui_url?': str,
});
const masterInfo = obj({
  id: str,
  pid: str,
  hostname: str,
  port: int,
  address: obj({ hostname: str, ip: str, port: int }),
  version: str,
});
const filters = obj({ 'refuse_seconds?': nonNegNum });
const operation: V = (v, p) => {
  if (!isObj(v)) fail(p, 'expected an operation object');
  switch (v.type) {
    case 'LAUNCH':
      return obj({ launch: obj({ task_infos: arr(taskInfo, 10_000) }) })(v, p);
    case 'RESERVE':
      return obj({ reserve: obj({ resources }) })(v, p);
    case 'UNRESERVE':
      return obj({ unreserve: obj({ resources }) })(v, p);
    default:
      fail(`${p}.type`, 'expected LAUNCH, RESERVE or UNRESERVE');
  }
};
const offer = obj({
  id: nonEmpty,
  framework_id: nonEmpty,
  agent_id: nonEmpty,
  hostname: str,
  resources,
  attributes: stringMap,
  allocation_role: str,
});
const agentInfo = obj({ 'id?': nonEmpty, hostname: str, port: int, resources, attributes: stringMap });
const taskRecord = obj({ task: taskInfo, framework_id: nonEmpty, state: taskState, 'status?': taskStatus });
const leader = obj({ leader: obj({ 'master_info?': masterInfo }) });

const fid = { framework_id: nonEmpty };

const byDirection: Record<Direction, Record<string, V>> = {
  scheduler_to_master: {
    SUBSCRIBE: obj({ subscribe: obj({ framework_info: frameworkInfo }) }),
    TEARDOWN: obj(fid),
    ACCEPT: obj({
      ...fid,
      accept: obj({ offer_ids: arr(nonEmpty, 10_000), operations: arr(operation, 10_000), 'filters?': filters }),
    }),
    DECLINE: obj({ ...fid, decline: obj({ offer_ids: arr(nonEmpty, 10_000), 'filters?': filters }) }),
    REVIVE: obj({ ...fid, 'revive?': obj({ 'roles?': arr(nonEmpty) }) }),
    SUPPRESS: obj({ ...fid, 'suppress?': obj({ 'roles?': arr(nonEmpty) }) }),
    KILL: obj({ ...fid, kill: obj({ task_id: nonEmpty, 'agent_id?': nonEmpty }) }),
    ACKNOWLEDGE: obj({ ...fid, acknowledge: obj({ agent_id: nonEmpty, task_id: nonEmpty, uuid: nonEmpty }) }),
    RECONCILE: obj({
      ...fid,
      reconcile: obj({ tasks: arr(obj({ task_id: nonEmpty, 'agent_id?': nonEmpty })) }),
    }),
  },
  master_to_scheduler: {
    SUBSCRIBED: obj({
      subscribed: obj({ framework_id: nonEmpty, heartbeat_interval_seconds: nonNegNum, master_info: masterInfo }),
    }),
    OFFERS: obj({ offers: obj({ offers: arr(offer) }) }),
    RESCIND: obj({ rescind: obj({ offer_id: nonEmpty }) }),
    UPDATE: obj({ update: obj({ status: taskStatus }) }),
    FAILURE: obj({ failure: obj({ agent_id: nonEmpty }) }),
    ERROR: obj({ error: obj({ message: str, 'code?': str }) }),
    HEARTBEAT: any,
    LEADER: leader,
  },
  agent_to_master: {
    REGISTER: obj({ agent: agentInfo, version: str }),
    REREGISTER: obj({
      agent: obj({ id: nonEmpty }),
      version: str,
      tasks: arr(taskRecord),
      frameworks: arr(frameworkInfo),
    }),
    STATUS_UPDATE: obj({ update: obj({ framework_id: nonEmpty, status: taskStatus }) }),
    PONG: obj({ seq: int }),
  },
  master_to_agent: {
    REGISTERED: obj({ agent_id: nonEmpty, master_info: masterInfo }),
    REREGISTERED: obj({ agent_id: nonEmpty, master_info: masterInfo }),
    RUN_TASK: obj({ framework: frameworkInfo, task: taskInfo }),
    KILL_TASK: obj({ framework_id: nonEmpty, task_id: nonEmpty, 'grace_period_seconds?': nonNegNum }),
    ACK_UPDATE: obj({ framework_id: nonEmpty, task_id: nonEmpty, uuid: nonEmpty }),
    SHUTDOWN_FRAMEWORK: obj({ framework_id: nonEmpty }),
    PING: obj({ seq: int }),
    LEADER: leader,
    SHUTDOWN: obj({ message: str }),
  },
};

// REREGISTER carries a full AgentInfo; check it beside the id check above.
const reregister = byDirection.agent_to_master.REREGISTER;
byDirection.agent_to_master.REREGISTER = (v, p) => {
  reregister(v, p);
  agentInfo((v as Record<string, unknown>).agent, `${p}.agent`);
};

/**
 * Checks that `value` is a well-formed message for `direction` and returns it typed.
 * Throws `ProtocolError` naming the first field that is wrong.
 */
export function validateMessage<D extends Direction>(direction: D, value: unknown): MessageOf<D> {
  const table = byDirection[direction];
  if (!table) throw new ProtocolError(`unknown direction ${String(direction)}`);
  if (!isObj(value)) throw new ProtocolError('message: expected an object with a "type" field');
  const type = value.type;
  if (typeof type !== 'string') throw new ProtocolError('message.type: expected a string');
  const check = Object.hasOwn(table, type) ? table[type] : undefined;
  if (!check) {
    throw new ProtocolError(
      `message.type: unknown type ${JSON.stringify(type).slice(0, 64)} for ${direction} (expected one of ${Object.keys(table).join(', ')})`,
      'AGORA_PROTOCOL_UNKNOWN_TYPE',
    );
  }
  check(value, 'message');
  return value as MessageOf<D>;
}
