/**
 * TypeBox schemas of Mesos's v1 JSON (include/mesos/v1/mesos.proto and scheduler/scheduler.proto),
 * for the fields Agora reads. Objects are open: a field Mesos has and Agora ignores (`discovery`,
 * `offer_constraints`, `labels` on a framework...) is tolerated, as real frameworks send many of
 * them; but every object has at most MAX_FIELDS fields, every array and string a bound, and the
 * fields Agora reads must have their Mesos types. (The HTTP layer bounds depth and total values.)
 * What comes out is translated and then validated again, strictly, as an Agora message.
 */
import { type Static, type TSchema, Type } from 'typebox';
import {
  MAX_BATCH,
  MAX_COMMAND_LENGTH,
  MAX_LARGE_BATCH,
  MAX_LIST_ENTRIES,
  MAX_NAME_LENGTH,
  MAX_PATH_LENGTH,
  MAX_ROLES,
  MAX_TEXT_LENGTH,
  MAX_TOKEN_LENGTH,
} from '../protocol/limits.js';
import { MAX_MESSAGE_DATA_BYTES } from '../protocol/messages.js';
import { MAX_RANGES, MAX_RESOURCE_ENTRIES, MAX_SET_ITEMS } from '../resources/schema.js';

/** Fields of one object, known or not (Mesos's largest messages have about 30). */
export const MAX_FIELDS = 64;

const Opt = Type.Optional;
/** An open object: known fields typed, others tolerated, at most MAX_FIELDS in all. */
function Open<P extends Parameters<typeof Type.Object>[0]>(properties: P) {
  return Type.Object(properties, { maxProperties: MAX_FIELDS });
}
const Str = (maxLength: number) => Type.String({ maxLength });
const List = <T extends TSchema>(item: T, maxItems: number = MAX_LIST_ENTRIES) => Type.Array(item, { maxItems });
const Num = Type.Number();
/** MESSAGE data: base64 of at most MAX_MESSAGE_DATA_BYTES (Agora's bound). */
const BASE64_DATA_LENGTH = Math.ceil(MAX_MESSAGE_DATA_BYTES / 3) * 4;
const Bool = Type.Boolean();

/** `{"value": "..."}`: FrameworkID, AgentID, TaskID, OfferID, ExecutorID. */
export const MesosId = Open({ value: Str(MAX_NAME_LENGTH) });
export type MesosId = Static<typeof MesosId>;

export const MesosRange = Open({ begin: Num, end: Num });
export const MesosReservation = Open({
  type: Opt(Str(MAX_TOKEN_LENGTH)),
  role: Opt(Str(MAX_NAME_LENGTH)),
  principal: Opt(Str(MAX_NAME_LENGTH)),
});
export const MesosResource = Open({
  name: Str(MAX_NAME_LENGTH),
  type: Str(MAX_TOKEN_LENGTH),
  scalar: Opt(Open({ value: Num })),
  ranges: Opt(Open({ range: List(MesosRange, MAX_RANGES) })),
  set: Opt(Open({ item: List(Str(MAX_NAME_LENGTH), MAX_SET_ITEMS) })),
  role: Opt(Str(MAX_NAME_LENGTH)),
  reservation: Opt(MesosReservation),
  reservations: Opt(List(MesosReservation, 64)),
  allocation_info: Opt(Open({ role: Opt(Str(MAX_NAME_LENGTH)) })),
});
export type MesosResource = Static<typeof MesosResource>;
export const MesosResources = List(MesosResource, MAX_RESOURCE_ENTRIES);

export const MesosVariable = Open({
  name: Str(MAX_NAME_LENGTH),
  type: Opt(Str(MAX_TOKEN_LENGTH)),
  value: Opt(Str(MAX_COMMAND_LENGTH)),
  secret: Opt(
    Open({
      type: Opt(Str(MAX_TOKEN_LENGTH)),
      reference: Opt(Open({ name: Str(MAX_PATH_LENGTH) })),
      value: Opt(Open({})),
    }),
  ),
});
export const MesosUri = Open({
  value: Str(MAX_PATH_LENGTH),
  executable: Opt(Bool),
  extract: Opt(Bool),
  cache: Opt(Bool),
  output_file: Opt(Str(MAX_PATH_LENGTH)),
});
export const MesosCommand = Open({
  value: Opt(Str(MAX_COMMAND_LENGTH)),
  shell: Opt(Bool),
  arguments: Opt(List(Str(MAX_COMMAND_LENGTH))),
  environment: Opt(Open({ variables: Opt(List(MesosVariable)) })),
  uris: Opt(List(MesosUri)),
  user: Opt(Str(MAX_NAME_LENGTH)),
});
export type MesosCommand = Static<typeof MesosCommand>;

export const MesosPortMapping = Open({ host_port: Num, container_port: Num, protocol: Opt(Str(MAX_TOKEN_LENGTH)) });
export const MesosVolume = Open({
  container_path: Str(MAX_PATH_LENGTH),
  host_path: Opt(Str(MAX_PATH_LENGTH)),
  mode: Opt(Str(MAX_TOKEN_LENGTH)),
  image: Opt(Open({})),
  source: Opt(Open({ type: Opt(Str(MAX_TOKEN_LENGTH)), secret: Opt(Open({})) })),
});
export const MesosParameter = Open({ key: Str(MAX_NAME_LENGTH), value: Str(MAX_TEXT_LENGTH) });
export const MesosContainer = Open({
  type: Str(MAX_TOKEN_LENGTH),
  docker: Opt(
    Open({
      image: Str(MAX_PATH_LENGTH),
      network: Opt(Str(MAX_TOKEN_LENGTH)),
      port_mappings: Opt(List(MesosPortMapping)),
      privileged: Opt(Bool),
      parameters: Opt(List(MesosParameter)),
      force_pull_image: Opt(Bool),
    }),
  ),
  mesos: Opt(Open({ image: Opt(Open({})) })),
  volumes: Opt(List(MesosVolume)),
  hostname: Opt(Str(MAX_NAME_LENGTH)),
  network_infos: Opt(List(Open({}), 64)),
});
export type MesosContainer = Static<typeof MesosContainer>;

export const MesosHealthCheck = Open({
  type: Opt(Str(MAX_TOKEN_LENGTH)),
  http: Opt(
    Open({
      port: Num,
      path: Opt(Str(MAX_PATH_LENGTH)),
      scheme: Opt(Str(MAX_TOKEN_LENGTH)),
      statuses: Opt(List(Num, 64)),
    }),
  ),
  tcp: Opt(Open({ port: Num })),
  command: Opt(MesosCommand),
  delay_seconds: Opt(Num),
  interval_seconds: Opt(Num),
  timeout_seconds: Opt(Num),
  consecutive_failures: Opt(Num),
  grace_period_seconds: Opt(Num),
});
export const MesosLabels = Open({
  labels: Opt(List(Open({ key: Str(MAX_NAME_LENGTH), value: Opt(Str(MAX_TEXT_LENGTH)) }))),
});
/** DurationInfo: nanoseconds as a number (or a string: the JSON of an int64). */
export const MesosDuration = Open({ nanoseconds: Type.Union([Num, Str(32)]) });

export const MesosTaskInfo = Open({
  name: Str(MAX_NAME_LENGTH),
  task_id: MesosId,
  agent_id: MesosId,
  resources: Opt(MesosResources),
  executor: Opt(Open({})),
  command: Opt(MesosCommand),
  container: Opt(MesosContainer),
  health_check: Opt(MesosHealthCheck),
  kill_policy: Opt(Open({ grace_period: Opt(MesosDuration) })),
  labels: Opt(MesosLabels),
});
export type MesosTaskInfo = Static<typeof MesosTaskInfo>;

export const MesosFilters = Open({ refuse_seconds: Opt(Num) });

export const MesosOperation = Open({
  type: Str(MAX_TOKEN_LENGTH),
  launch: Opt(Open({ task_infos: List(MesosTaskInfo, MAX_BATCH) })),
  launch_group: Opt(Open({ executor: Opt(Open({})), task_group: Open({ tasks: List(MesosTaskInfo, MAX_BATCH) }) })),
  reserve: Opt(Open({ resources: Opt(MesosResources), source: Opt(MesosResources) })),
  unreserve: Opt(Open({ resources: MesosResources })),
});
export type MesosOperation = Static<typeof MesosOperation>;

export const MesosFrameworkInfo = Open({
  user: Opt(Str(MAX_NAME_LENGTH)),
  name: Str(MAX_NAME_LENGTH),
  id: Opt(MesosId),
  failover_timeout: Opt(Num),
  checkpoint: Opt(Bool),
  role: Opt(Str(MAX_NAME_LENGTH)),
  roles: Opt(List(Str(MAX_NAME_LENGTH), MAX_ROLES)),
  hostname: Opt(Str(MAX_NAME_LENGTH)),
  principal: Opt(Str(MAX_NAME_LENGTH)),
  webui_url: Opt(Str(MAX_PATH_LENGTH)),
  capabilities: Opt(List(Open({ type: Opt(Str(MAX_TOKEN_LENGTH)) }), 64)),
  labels: Opt(MesosLabels),
});
export type MesosFrameworkInfo = Static<typeof MesosFrameworkInfo>;

const Roles = Opt(List(Str(MAX_NAME_LENGTH), MAX_ROLES));
const TaskRef = Open({ task_id: MesosId, agent_id: Opt(MesosId) });

/** A scheduler Call (scheduler.proto `Call`): `type` and its one matching field. */
export const MesosCall = Open({
  type: Str(MAX_TOKEN_LENGTH),
  framework_id: Opt(MesosId),
  subscribe: Opt(Open({ framework_info: MesosFrameworkInfo, suppressed_roles: Roles })),
  accept: Opt(
    Open({
      offer_ids: List(MesosId, MAX_BATCH),
      operations: Opt(List(MesosOperation, MAX_BATCH)),
      filters: Opt(MesosFilters),
    }),
  ),
  decline: Opt(Open({ offer_ids: List(MesosId, MAX_BATCH), filters: Opt(MesosFilters) })),
  // Mesos's docs show `{"role": ...}` in REVIVE; the protobuf field is `roles`. Both are read.
  revive: Opt(Open({ roles: Roles, role: Opt(Str(MAX_NAME_LENGTH)) })),
  suppress: Opt(Open({ roles: Roles, role: Opt(Str(MAX_NAME_LENGTH)) })),
  kill: Opt(Open({ task_id: MesosId, agent_id: Opt(MesosId), kill_policy: Opt(Open({})) })),
  shutdown: Opt(Open({ executor_id: MesosId, agent_id: MesosId })),
  acknowledge: Opt(Open({ agent_id: MesosId, task_id: MesosId, uuid: Str(MAX_TOKEN_LENGTH) })),
  reconcile: Opt(Open({ tasks: Opt(List(TaskRef, MAX_LARGE_BATCH)) })),
  message: Opt(Open({ agent_id: MesosId, executor_id: MesosId, data: Str(BASE64_DATA_LENGTH) })),
  request: Opt(Open({ requests: Opt(List(Open({}), MAX_BATCH)) })),
  /** Mesos's docs show REQUEST's list at the top level; read there too. */
  requests: Opt(List(Open({}), MAX_BATCH)),
  update_framework: Opt(
    Open({ framework_info: MesosFrameworkInfo, suppressed_roles: Roles, offer_constraints: Opt(Open({})) }),
  ),
});
export type MesosCall = Static<typeof MesosCall>;

// ---------------------------------------------------------------- events (what Agora sends; read back by tests and clients)

export const MesosTaskStatus = Open({
  task_id: MesosId,
  state: Str(MAX_TOKEN_LENGTH),
  message: Opt(Str(MAX_TEXT_LENGTH)),
  source: Opt(Str(MAX_TOKEN_LENGTH)),
  reason: Opt(Str(MAX_TOKEN_LENGTH)),
  agent_id: Opt(MesosId),
  executor_id: Opt(MesosId),
  timestamp: Opt(Num),
  uuid: Opt(Str(MAX_TOKEN_LENGTH * 2)),
  healthy: Opt(Bool),
});
export type MesosTaskStatus = Static<typeof MesosTaskStatus>;

export const MesosAttribute = Open({
  name: Str(MAX_NAME_LENGTH),
  type: Str(MAX_TOKEN_LENGTH),
  text: Opt(Open({ value: Str(MAX_NAME_LENGTH) })),
  scalar: Opt(Open({ value: Num })),
});

export const MesosOffer = Open({
  id: MesosId,
  framework_id: MesosId,
  agent_id: MesosId,
  hostname: Str(MAX_NAME_LENGTH),
  resources: MesosResources,
  attributes: Opt(List(MesosAttribute, 256)),
  allocation_info: Opt(Open({ role: Opt(Str(MAX_NAME_LENGTH)) })),
});
export type MesosOffer = Static<typeof MesosOffer>;

export const MesosMasterInfo = Open({
  id: Str(MAX_NAME_LENGTH),
  ip: Num,
  port: Num,
  pid: Opt(Str(MAX_NAME_LENGTH)),
  hostname: Opt(Str(MAX_NAME_LENGTH)),
  version: Opt(Str(MAX_TOKEN_LENGTH)),
  address: Opt(Open({ hostname: Opt(Str(MAX_NAME_LENGTH)), ip: Opt(Str(MAX_TOKEN_LENGTH)), port: Num })),
});
export type MesosMasterInfo = Static<typeof MesosMasterInfo>;

export const MesosEvent = Open({
  type: Str(MAX_TOKEN_LENGTH),
  subscribed: Opt(
    Open({ framework_id: MesosId, heartbeat_interval_seconds: Opt(Num), master_info: Opt(MesosMasterInfo) }),
  ),
  offers: Opt(Open({ offers: List(MesosOffer, MAX_LARGE_BATCH) })),
  rescind: Opt(Open({ offer_id: MesosId })),
  update: Opt(Open({ status: MesosTaskStatus })),
  message: Opt(Open({ agent_id: MesosId, executor_id: MesosId, data: Str(BASE64_DATA_LENGTH) })),
  failure: Opt(Open({ agent_id: Opt(MesosId), executor_id: Opt(MesosId), status: Opt(Num) })),
  error: Opt(Open({ message: Str(MAX_TEXT_LENGTH) })),
});
export type MesosEvent = Static<typeof MesosEvent>;
