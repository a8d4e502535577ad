/**
 * The shapes that travel between components, in the spirit of Mesos's v1 protobufs (snake_case
 * field names, so that a Mesos user recognises them). Resources use Mesos's JSON form. Each shape
 * is a TypeBox schema; its TypeScript type is `Static<>` of it, so the type and the validation
 * (sdk/protocol/validate.ts) come from one definition. Objects refuse unknown fields; every
 * string, array and number is bounded (sdk/protocol/limits.ts).
 */
import { type Static, type TSchema, Type } from 'typebox';
import { ResourceListSchema } from '../resources/schema.js';
import { MAX_SECRET_NAME_LENGTH, secretNameProblem } from '../secrets/names.js';
import { IdSchema, Obj, PortSchema, RoleSchema, RolesSchema, SecondsSchema } from './fields.js';
import {
  MAX_ATTRIBUTES,
  MAX_BATCH,
  MAX_COMMAND_LENGTH,
  MAX_GROUP_TASKS,
  MAX_LIST_ENTRIES,
  MAX_NAME_LENGTH,
  MAX_PATH_LENGTH,
  MAX_TEXT_LENGTH,
  MAX_TIMESTAMP,
  MAX_TOKEN_LENGTH,
} from './limits.js';

export const TaskState = {
  STAGING: 'TASK_STAGING',
  STARTING: 'TASK_STARTING',
  RUNNING: 'TASK_RUNNING',
  KILLING: 'TASK_KILLING',
  FINISHED: 'TASK_FINISHED',
  FAILED: 'TASK_FAILED',
  KILLED: 'TASK_KILLED',
  ERROR: 'TASK_ERROR',
  LOST: 'TASK_LOST',
  DROPPED: 'TASK_DROPPED',
  UNREACHABLE: 'TASK_UNREACHABLE',
  GONE: 'TASK_GONE',
  GONE_BY_OPERATOR: 'TASK_GONE_BY_OPERATOR',
  UNKNOWN: 'TASK_UNKNOWN',
} as const;
export type TaskState = (typeof TaskState)[keyof typeof TaskState];

export const TERMINAL_STATES: ReadonlySet<TaskState> = new Set([
  TaskState.FINISHED,
  TaskState.FAILED,
  TaskState.KILLED,
  TaskState.ERROR,
  TaskState.LOST,
  TaskState.DROPPED,
  TaskState.GONE,
  TaskState.GONE_BY_OPERATOR,
]);

export function isTerminal(state: TaskState): boolean {
  return TERMINAL_STATES.has(state);
}

// ---------------------------------------------------------------- building blocks

const Opt = Type.Optional;
const Str = (maxLength: number) => Type.String({ maxLength });
const NonEmpty = (maxLength: number) => Type.String({ minLength: 1, maxLength });
const Bool = Type.Boolean();
const List = <T extends TSchema>(item: T, maxItems: number = MAX_LIST_ENTRIES) => Type.Array(item, { maxItems });

// ---------------------------------------------------------------- tasks

export const TaskStateSchema = Type.Union([
  Type.Literal('TASK_STAGING'),
  Type.Literal('TASK_STARTING'),
  Type.Literal('TASK_RUNNING'),
  Type.Literal('TASK_KILLING'),
  Type.Literal('TASK_FINISHED'),
  Type.Literal('TASK_FAILED'),
  Type.Literal('TASK_KILLED'),
  Type.Literal('TASK_ERROR'),
  Type.Literal('TASK_LOST'),
  Type.Literal('TASK_DROPPED'),
  Type.Literal('TASK_UNREACHABLE'),
  Type.Literal('TASK_GONE'),
  Type.Literal('TASK_GONE_BY_OPERATOR'),
  Type.Literal('TASK_UNKNOWN'),
]);
// The schema lists exactly the TaskState values (the compiler checks it).
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
true satisfies Same<Static<typeof TaskStateSchema>, TaskState>;

/** A secret name (sdk/secrets/names.ts): an absolute path such as `/prod/db/password`. */
export const SecretNameSchema = Type.Refine(
  Type.String({ minLength: 1, maxLength: MAX_SECRET_NAME_LENGTH }),
  (v) => secretNameProblem(v) === undefined,
  (v) => secretNameProblem(v) ?? 'invalid secret name',
);

/**
 * Mesos's `Secret`, by reference only: the agent asks the master for the value at launch, so no
 * value ever travels in a TaskInfo (Mesos's `type: VALUE` is refused).
 */
export const SecretSchema = Obj({
  type: Type.Literal('REFERENCE'),
  reference: Obj({ name: SecretNameSchema }),
});
export type Secret = Static<typeof SecretSchema>;

/** `type` VALUE (default) takes `value`; SECRET takes `secret` and no value. */
export const EnvironmentVariableSchema = Type.Refine(
  Obj({
    name: NonEmpty(MAX_NAME_LENGTH),
    type: Opt(Type.Union([Type.Literal('VALUE'), Type.Literal('SECRET')])),
    value: Opt(Str(MAX_COMMAND_LENGTH)),
    secret: Opt(SecretSchema),
  }),
  (v) => (v.type === 'SECRET' ? v.secret !== undefined && v.value === undefined : v.value !== undefined && !v.secret),
  () => 'a variable of type SECRET has a "secret" and no "value"; any other has a "value" and no "secret"',
);
export type EnvironmentVariable = Static<typeof EnvironmentVariableSchema>;

export const CommandUriSchema = Obj({
  value: NonEmpty(MAX_PATH_LENGTH),
  executable: Opt(Bool),
  extract: Opt(Bool),
  cache: Opt(Bool),
  output_file: Opt(Str(MAX_PATH_LENGTH)),
});
export type CommandUri = Static<typeof CommandUriSchema>;

/** With `shell` (default true) `value` runs through `/bin/sh -c`; otherwise it is the executable path. */
export const CommandInfoSchema = Obj({
  value: Opt(Str(MAX_COMMAND_LENGTH)),
  shell: Opt(Bool),
  arguments: Opt(List(Str(MAX_COMMAND_LENGTH))),
  environment: Opt(Obj({ variables: List(EnvironmentVariableSchema) })),
  uris: Opt(List(CommandUriSchema)),
  user: Opt(Str(MAX_NAME_LENGTH)),
});
export type CommandInfo = Static<typeof CommandInfoSchema>;

export const PortMappingSchema = Obj({
  host_port: PortSchema,
  container_port: PortSchema,
  protocol: Opt(Str(MAX_TOKEN_LENGTH)),
});
export type PortMapping = Static<typeof PortMappingSchema>;

export const VolumeSchema = Obj({
  container_path: NonEmpty(MAX_PATH_LENGTH),
  host_path: Opt(Str(MAX_PATH_LENGTH)),
  mode: Type.Union([Type.Literal('RW'), Type.Literal('RO')]),
  /** A SECRET source: the agent writes the secret's value to `container_path` (relative: in the sandbox), mode 0400. */
  source: Opt(Obj({ type: Type.Literal('SECRET'), secret: SecretSchema })),
});
export type Volume = Static<typeof VolumeSchema>;

export const DockerInfoSchema = Obj({
  image: NonEmpty(MAX_PATH_LENGTH),
  network: Opt(Type.Union([Type.Literal('HOST'), Type.Literal('BRIDGE'), Type.Literal('NONE')])),
  port_mappings: Opt(List(PortMappingSchema)),
  privileged: Opt(Bool),
  parameters: Opt(List(Obj({ key: Str(MAX_NAME_LENGTH), value: Str(MAX_TEXT_LENGTH) }))),
  force_pull_image: Opt(Bool),
});
export type DockerInfo = Static<typeof DockerInfoSchema>;

/**
 * `type` DOCKER → docker containerizer; MESOS → linux (or posix) containerizer. Agora extensions:
 * `containerizer` names the one to use (`docker`, `linux`, `posix`); `network_isolation` gives a
 * linux-containerizer task its own network namespace.
 */
export const ContainerInfoSchema = Obj({
  type: Type.Union([Type.Literal('DOCKER'), Type.Literal('MESOS')]),
  docker: Opt(DockerInfoSchema),
  volumes: Opt(List(VolumeSchema)),
  hostname: Opt(Str(MAX_NAME_LENGTH)),
  containerizer: Opt(Str(MAX_TOKEN_LENGTH)),
  network_isolation: Opt(Bool),
});
export type ContainerInfo = Static<typeof ContainerInfoSchema>;

export const HealthCheckSchema = Obj({
  type: Type.Union([Type.Literal('HTTP'), Type.Literal('TCP'), Type.Literal('COMMAND')]),
  http: Opt(
    Obj({
      port: PortSchema,
      path: Opt(Str(MAX_PATH_LENGTH)),
      scheme: Opt(Str(MAX_TOKEN_LENGTH)),
      statuses: Opt(List(Type.Integer({ minimum: 100, maximum: 599 }), 64)),
    }),
  ),
  tcp: Opt(Obj({ port: PortSchema })),
  command: Opt(CommandInfoSchema),
  delay_seconds: Opt(SecondsSchema),
  interval_seconds: Opt(SecondsSchema),
  timeout_seconds: Opt(SecondsSchema),
  consecutive_failures: Opt(Type.Integer({ minimum: 0, maximum: 1_000_000 })),
  grace_period_seconds: Opt(SecondsSchema),
});
export type HealthCheck = Static<typeof HealthCheckSchema>;

export const LabelSchema = Obj({ key: Str(MAX_NAME_LENGTH), value: Opt(Str(MAX_TEXT_LENGTH)) });
export type Label = Static<typeof LabelSchema>;

export const TaskInfoSchema = Obj({
  name: Str(MAX_NAME_LENGTH),
  task_id: IdSchema,
  agent_id: IdSchema,
  resources: ResourceListSchema,
  command: Opt(CommandInfoSchema),
  container: Opt(ContainerInfoSchema),
  health_check: Opt(HealthCheckSchema),
  kill_policy: Opt(Obj({ grace_period_seconds: Opt(SecondsSchema) })),
  labels: Opt(Obj({ labels: List(LabelSchema) })),
});
export type TaskInfo = Static<typeof TaskInfoSchema>;

/**
 * `reason` is a Mesos reason (REASON_COMMAND_EXECUTOR_FAILED, ...); `timestamp` is seconds since
 * the epoch as a float (Mesos); `uuid` is set on updates that need an acknowledgement;
 * `exit_status` is a command task's exit status.
 */
export const TaskStatusSchema = Obj({
  task_id: IdSchema,
  state: TaskStateSchema,
  message: Opt(Str(MAX_TEXT_LENGTH)),
  reason: Opt(Str(MAX_TOKEN_LENGTH)),
  source: Opt(
    Type.Union([Type.Literal('SOURCE_MASTER'), Type.Literal('SOURCE_AGENT'), Type.Literal('SOURCE_EXECUTOR')]),
  ),
  agent_id: Opt(IdSchema),
  healthy: Opt(Bool),
  timestamp: Type.Number({ minimum: 0, maximum: MAX_TIMESTAMP }),
  uuid: Opt(NonEmpty(MAX_TOKEN_LENGTH)),
  exit_status: Opt(Type.Integer({ minimum: -2_147_483_648, maximum: 2_147_483_647 })),
});
export type TaskStatus = Static<typeof TaskStatusSchema>;

// ---------------------------------------------------------------- frameworks, offers, operations

/**
 * `failover_timeout`: seconds the master keeps a disconnected framework's tasks before tearing it
 * down. `capabilities`: e.g. PARTITION_AWARE, MULTI_ROLE.
 */
const frameworkFields = {
  name: Str(MAX_NAME_LENGTH),
  user: Opt(Str(MAX_NAME_LENGTH)),
  hostname: Opt(Str(MAX_NAME_LENGTH)),
  roles: Opt(RolesSchema),
  failover_timeout: Opt(SecondsSchema),
  checkpoint: Opt(Bool),
  capabilities: Opt(List(Obj({ type: NonEmpty(MAX_TOKEN_LENGTH) }), 64)),
  principal: Opt(Str(MAX_NAME_LENGTH)),
  webui_url: Opt(Str(MAX_PATH_LENGTH)),
};
export const FrameworkInfoSchema = Obj({ id: Opt(IdSchema), ...frameworkFields });
/** A FrameworkInfo whose id is known (RUN_TASK). */
export const FrameworkInfoWithIdSchema = Obj({ id: IdSchema, ...frameworkFields });
export type FrameworkInfo = Static<typeof FrameworkInfoSchema>;

/**
 * Agent attributes: at most MAX_ATTRIBUTES, keys and values at most MAX_NAME_LENGTH. A key
 * `__proto__` (or `__proto_`, msgpackr's rename of it) is refused here as the codec refuses it on
 * the wire, so that an agent learns at validation, not from a master that cannot decode its frame.
 */
export const AttributesSchema = Type.Record(Type.String(), Str(MAX_NAME_LENGTH), {
  maxProperties: MAX_ATTRIBUTES,
  propertyNames: { maxLength: MAX_NAME_LENGTH, pattern: '^(?!__proto__?$)' },
});

/** `allocation_role` is the role these resources are allocated to. */
export const OfferSchema = Obj({
  id: IdSchema,
  framework_id: IdSchema,
  agent_id: IdSchema,
  hostname: Str(MAX_NAME_LENGTH),
  resources: ResourceListSchema,
  attributes: AttributesSchema,
  allocation_role: RoleSchema,
});
export type Offer = Static<typeof OfferSchema>;

export const FiltersSchema = Obj({ refuse_seconds: Opt(SecondsSchema) });
export type Filters = Static<typeof FiltersSchema>;

/**
 * Mesos's ExecutorInfo, for the executor of a task group (LAUNCH_GROUP): only the DEFAULT executor
 * (the agent runs the group itself; no custom executor binaries). `resources` are the executor's
 * own (booked beside the tasks'); `container` is the group's shared container: MESOS with
 * `network_isolation` gives the group one network namespace of its own (linux containerizer);
 * DOCKER with `docker.network` BRIDGE/HOST sets the network the group's containers join.
 * `framework_id`, when given, must be the accepting framework's.
 */
export const ExecutorInfoSchema = Obj({
  executor_id: IdSchema,
  type: Type.Literal('DEFAULT'),
  framework_id: Opt(IdSchema),
  name: Opt(Str(MAX_NAME_LENGTH)),
  resources: ResourceListSchema,
  container: Opt(ContainerInfoSchema),
  labels: Opt(Obj({ labels: List(LabelSchema) })),
});
export type ExecutorInfo = Static<typeof ExecutorInfoSchema>;

/**
 * Mesos's TaskGroupInfo: tasks launched as one unit (all or none), sharing the executor's network
 * and a sandbox volume. Agora extension `kill_group_on_task_failure` (default true, as Mesos's
 * default executor): when one task fails (TASK_FAILED/TASK_ERROR/...) the others are killed;
 * false lets the others run on. See docs/task-groups.md.
 */
export const TaskGroupInfoSchema = Obj({
  tasks: Type.Array(TaskInfoSchema, { minItems: 1, maxItems: MAX_GROUP_TASKS }),
  kill_group_on_task_failure: Opt(Bool),
});
export type TaskGroupInfo = Static<typeof TaskGroupInfoSchema>;

export const LaunchGroupSchema = Obj({ executor: ExecutorInfoSchema, task_group: TaskGroupInfoSchema });
export type LaunchGroup = Static<typeof LaunchGroupSchema>;

export const OperationSchema = Type.Union([
  Obj({ type: Type.Literal('LAUNCH'), launch: Obj({ task_infos: List(TaskInfoSchema, MAX_BATCH) }) }),
  Obj({ type: Type.Literal('LAUNCH_GROUP'), launch_group: LaunchGroupSchema }),
  Obj({ type: Type.Literal('RESERVE'), reserve: Obj({ resources: ResourceListSchema }) }),
  Obj({ type: Type.Literal('UNRESERVE'), unreserve: Obj({ resources: ResourceListSchema }) }),
]);
export type Operation = Static<typeof OperationSchema>;

// ---------------------------------------------------------------- masters and agents

export const MasterInfoSchema = Obj({
  id: NonEmpty(MAX_NAME_LENGTH),
  pid: Str(MAX_NAME_LENGTH),
  hostname: Str(MAX_NAME_LENGTH),
  port: PortSchema,
  address: Obj({ hostname: Str(MAX_NAME_LENGTH), ip: Str(MAX_TOKEN_LENGTH), port: PortSchema }),
  version: Str(MAX_TOKEN_LENGTH),
});
export type MasterInfo = Static<typeof MasterInfoSchema>;

const agentFields = {
  hostname: Str(MAX_NAME_LENGTH),
  port: PortSchema,
  resources: ResourceListSchema,
  attributes: AttributesSchema,
};
export const AgentInfoSchema = Obj({ id: Opt(IdSchema), ...agentFields });
export type AgentInfo = Static<typeof AgentInfoSchema>;
/** An AgentInfo whose id is known (REREGISTER). */
export const AgentInfoWithIdSchema = Obj({ id: IdSchema, ...agentFields });

/** A task as the agent reports it when it re-registers (and as the master keeps it). `status` is the latest (acknowledged or not). */
export const TaskRecordSchema = Obj({
  task: TaskInfoSchema,
  framework_id: IdSchema,
  state: TaskStateSchema,
  status: Opt(TaskStatusSchema),
  /** Set for a task of a task group: its executor (whose resources the group books once) and policy. */
  group: Opt(Obj({ executor: ExecutorInfoSchema, kill_group_on_task_failure: Opt(Bool) })),
});
export type TaskRecord = Static<typeof TaskRecordSchema>;

/** SecondsSchema of text bounds, re-exported for callers that only import types. */
export { MAX_TEXT_LENGTH, MAX_TIMESTAMP };
