/**
 * One discriminated union per direction, tagged by `type`, each message a TypeBox schema (see
 * types.ts); the TypeScript unions are `Static<>` of them. Tags are `as const` objects.
 */
import { type Static, type TSchema, Type } from 'typebox';
import { ResourceListSchema } from '../resources/schema.js';
import { MAX_SECRET_VALUE_BYTES, MAX_TASK_SECRETS } from '../secrets/names.js';
import { IdSchema as Id, Obj, RolesSchema as Roles, SecondsSchema as Seconds } from './fields.js';
import { MAX_BATCH, MAX_FRAMEWORKS, MAX_LARGE_BATCH, MAX_SEQ, MAX_TEXT_LENGTH, MAX_TOKEN_LENGTH } from './limits.js';
import {
  AgentInfoSchema,
  AgentInfoWithIdSchema,
  ExecutorInfoSchema,
  FiltersSchema,
  FrameworkInfoSchema,
  FrameworkInfoWithIdSchema,
  MasterInfoSchema,
  OfferSchema,
  OperationSchema,
  SecretNameSchema,
  TaskGroupInfoSchema,
  TaskInfoSchema,
  TaskRecordSchema,
  TaskStatusSchema,
} from './types.js';

/** Where agents connect on a master (WebSocket). */
export const AGENT_WS_PATH = '/api/v1/agent';
/** Where schedulers connect on a master (WebSocket). */
export const SCHEDULER_WS_PATH = '/api/v1/scheduler/ws';

export const Direction = {
  AgentToMaster: 'agent_to_master',
  MasterToAgent: 'master_to_agent',
  SchedulerToMaster: 'scheduler_to_master',
  MasterToScheduler: 'master_to_scheduler',
} as const;
export type Direction = (typeof Direction)[keyof typeof Direction];

const Opt = Type.Optional;
const Lit = Type.Literal;
const Seq = Type.Integer({ minimum: 0, maximum: MAX_SEQ });
const Uuid = Type.String({ minLength: 1, maxLength: MAX_TOKEN_LENGTH });
const Leader = Obj({ master_info: Opt(MasterInfoSchema) });
/** Up to this many bytes of framework ↔ executor message data (base64 text, as Mesos's JSON carries `bytes`). */
export const MAX_MESSAGE_DATA_BYTES = 256 * 1024;
const Base64 = Type.String({ maxLength: Math.ceil(MAX_MESSAGE_DATA_BYTES / 3) * 4, pattern: '^[A-Za-z0-9+/]*={0,2}$' });

/**
 * The close reason of a scheduler connection whose framework was torn down (TEARDOWN, an
 * operator's teardown, or the failover timeout): as Mesos closes the subscription stream of a
 * removed framework, this is how a driver knows its TEARDOWN took effect.
 */
export const FRAMEWORK_TORN_DOWN_REASON = 'framework torn down';

// ---------------------------------------------------------------- scheduler → master (Mesos "Call")

export const CallType = {
  SUBSCRIBE: 'SUBSCRIBE',
  TEARDOWN: 'TEARDOWN',
  ACCEPT: 'ACCEPT',
  DECLINE: 'DECLINE',
  REVIVE: 'REVIVE',
  SUPPRESS: 'SUPPRESS',
  KILL: 'KILL',
  ACKNOWLEDGE: 'ACKNOWLEDGE',
  RECONCILE: 'RECONCILE',
  MESSAGE: 'MESSAGE',
  SHUTDOWN: 'SHUTDOWN',
  UPDATE_FRAMEWORK: 'UPDATE_FRAMEWORK',
  REQUEST: 'REQUEST',
} as const;

/**
 * The schema of every scheduler call, by type. MESSAGE: data (base64) for an executor, delivered at
 * most once (a command task's executor drops it, as Mesos's command executor does). SHUTDOWN: stop
 * an executor and its tasks (a command task's executor id is its task id). UPDATE_FRAMEWORK: new
 * FrameworkInfo for the subscribed framework (same id and principal; `offer_constraints` is accepted
 * and ignored). REQUEST: accepted and ignored, as Mesos's allocator does.
 */
export const SchedulerCallSchemas = {
  SUBSCRIBE: Obj({ type: Lit('SUBSCRIBE'), subscribe: Obj({ framework_info: FrameworkInfoSchema }) }),
  TEARDOWN: Obj({ type: Lit('TEARDOWN'), framework_id: Id }),
  ACCEPT: Obj({
    type: Lit('ACCEPT'),
    framework_id: Id,
    accept: Obj({
      offer_ids: Type.Array(Id, { maxItems: MAX_BATCH }),
      operations: Type.Array(OperationSchema, { maxItems: MAX_BATCH }),
      filters: Opt(FiltersSchema),
    }),
  }),
  DECLINE: Obj({
    type: Lit('DECLINE'),
    framework_id: Id,
    decline: Obj({ offer_ids: Type.Array(Id, { maxItems: MAX_BATCH }), filters: Opt(FiltersSchema) }),
  }),
  REVIVE: Obj({ type: Lit('REVIVE'), framework_id: Id, revive: Opt(Obj({ roles: Opt(Roles) })) }),
  SUPPRESS: Obj({ type: Lit('SUPPRESS'), framework_id: Id, suppress: Opt(Obj({ roles: Opt(Roles) })) }),
  KILL: Obj({ type: Lit('KILL'), framework_id: Id, kill: Obj({ task_id: Id, agent_id: Opt(Id) }) }),
  ACKNOWLEDGE: Obj({
    type: Lit('ACKNOWLEDGE'),
    framework_id: Id,
    acknowledge: Obj({ agent_id: Id, task_id: Id, uuid: Uuid }),
  }),
  RECONCILE: Obj({
    type: Lit('RECONCILE'),
    framework_id: Id,
    reconcile: Obj({ tasks: Type.Array(Obj({ task_id: Id, agent_id: Opt(Id) }), { maxItems: MAX_LARGE_BATCH }) }),
  }),
  MESSAGE: Obj({
    type: Lit('MESSAGE'),
    framework_id: Id,
    message: Obj({ agent_id: Id, executor_id: Id, data: Base64 }),
  }),
  SHUTDOWN: Obj({ type: Lit('SHUTDOWN'), framework_id: Id, shutdown: Obj({ executor_id: Id, agent_id: Id }) }),
  UPDATE_FRAMEWORK: Obj({
    type: Lit('UPDATE_FRAMEWORK'),
    framework_id: Id,
    update_framework: Obj({
      framework_info: FrameworkInfoSchema,
      suppressed_roles: Opt(Roles),
      /** Mesos's offer constraints: accepted and ignored (bounded by the codec's size and depth limits). */
      offer_constraints: Opt(Type.Record(Type.String({ maxLength: MAX_TOKEN_LENGTH }), Type.Unknown())),
    }),
  }),
  REQUEST: Obj({
    type: Lit('REQUEST'),
    framework_id: Id,
    request: Obj({
      requests: Type.Array(Obj({ agent_id: Opt(Id), resources: Opt(ResourceListSchema) }), { maxItems: MAX_BATCH }),
    }),
  }),
} as const;
export const SchedulerCallSchema = Type.Union([
  SchedulerCallSchemas.SUBSCRIBE,
  SchedulerCallSchemas.TEARDOWN,
  SchedulerCallSchemas.ACCEPT,
  SchedulerCallSchemas.DECLINE,
  SchedulerCallSchemas.REVIVE,
  SchedulerCallSchemas.SUPPRESS,
  SchedulerCallSchemas.KILL,
  SchedulerCallSchemas.ACKNOWLEDGE,
  SchedulerCallSchemas.RECONCILE,
  SchedulerCallSchemas.MESSAGE,
  SchedulerCallSchemas.SHUTDOWN,
  SchedulerCallSchemas.UPDATE_FRAMEWORK,
  SchedulerCallSchemas.REQUEST,
]);
export type SchedulerCall = Static<typeof SchedulerCallSchema>;

// ---------------------------------------------------------------- master → scheduler (Mesos "Event")

export const EventType = {
  SUBSCRIBED: 'SUBSCRIBED',
  OFFERS: 'OFFERS',
  RESCIND: 'RESCIND',
  UPDATE: 'UPDATE',
  FAILURE: 'FAILURE',
  ERROR: 'ERROR',
  HEARTBEAT: 'HEARTBEAT',
  LEADER: 'LEADER',
  MESSAGE: 'MESSAGE',
} as const;

/**
 * The schema of every scheduler event, by type. MESSAGE: data an executor sent its framework (base64). LEADER: this master is not the leader; reconnect to `leader` (absent when none is known).
 * SUBSCRIBED `reconcile_hold_seconds`: only while a new leader still awaits agents after a failover:
 * an explicit RECONCILE question about a task on such an agent is held and answered when the agent
 * re-registers or is marked unreachable, at the latest after this many seconds; asking again
 * before then only repeats a held question (the SDK's Reconciler waits that long before asking again).
 */
export const SchedulerEventSchemas = {
  SUBSCRIBED: Obj({
    type: Lit('SUBSCRIBED'),
    subscribed: Obj({
      framework_id: Id,
      heartbeat_interval_seconds: Seconds,
      master_info: MasterInfoSchema,
      reconcile_hold_seconds: Opt(Seconds),
    }),
  }),
  OFFERS: Obj({ type: Lit('OFFERS'), offers: Obj({ offers: Type.Array(OfferSchema, { maxItems: MAX_LARGE_BATCH }) }) }),
  RESCIND: Obj({ type: Lit('RESCIND'), rescind: Obj({ offer_id: Id }) }),
  UPDATE: Obj({ type: Lit('UPDATE'), update: Obj({ status: TaskStatusSchema }) }),
  FAILURE: Obj({ type: Lit('FAILURE'), failure: Obj({ agent_id: Id }) }),
  ERROR: Obj({
    type: Lit('ERROR'),
    error: Obj({
      message: Type.String({ maxLength: MAX_TEXT_LENGTH }),
      code: Opt(Type.String({ maxLength: MAX_TOKEN_LENGTH })),
    }),
  }),
  HEARTBEAT: Obj({ type: Lit('HEARTBEAT') }),
  LEADER: Obj({ type: Lit('LEADER'), leader: Leader }),
  MESSAGE: Obj({ type: Lit('MESSAGE'), message: Obj({ agent_id: Id, executor_id: Id, data: Base64 }) }),
} as const;
export const SchedulerEventSchema = Type.Union([
  SchedulerEventSchemas.SUBSCRIBED,
  SchedulerEventSchemas.OFFERS,
  SchedulerEventSchemas.RESCIND,
  SchedulerEventSchemas.UPDATE,
  SchedulerEventSchemas.FAILURE,
  SchedulerEventSchemas.ERROR,
  SchedulerEventSchemas.HEARTBEAT,
  SchedulerEventSchemas.LEADER,
  SchedulerEventSchemas.MESSAGE,
]);
export type SchedulerEvent = Static<typeof SchedulerEventSchema>;

// ---------------------------------------------------------------- agent → master

export const AgentMessageSchemas = {
  REGISTER: Obj({
    type: Lit('REGISTER'),
    agent: AgentInfoSchema,
    version: Type.String({ maxLength: MAX_TOKEN_LENGTH }),
  }),
  REREGISTER: Obj({
    type: Lit('REREGISTER'),
    agent: AgentInfoWithIdSchema,
    version: Type.String({ maxLength: MAX_TOKEN_LENGTH }),
    tasks: Type.Array(TaskRecordSchema, { maxItems: MAX_LARGE_BATCH }),
    frameworks: Type.Array(FrameworkInfoSchema, { maxItems: MAX_FRAMEWORKS }),
    /** True: more tasks follow in REREGISTER_TASKS frames on this connection. */
    more: Opt(Type.Boolean()),
  }),
  /** A continuation of a REREGISTER sent with `more: true`; the last one has `more: false`. */
  REREGISTER_TASKS: Obj({
    type: Lit('REREGISTER_TASKS'),
    tasks: Type.Array(TaskRecordSchema, { maxItems: MAX_LARGE_BATCH }),
    frameworks: Type.Array(FrameworkInfoSchema, { maxItems: MAX_FRAMEWORKS }),
    more: Type.Boolean(),
  }),
  STATUS_UPDATE: Obj({ type: Lit('STATUS_UPDATE'), update: Obj({ framework_id: Id, status: TaskStatusSchema }) }),
  PONG: Obj({ type: Lit('PONG'), seq: Seq }),
  /** The values of the secrets a task on this agent references, asked for at launch (answered by SECRETS). */
  SECRETS_REQUEST: Obj({
    type: Lit('SECRETS_REQUEST'),
    request_id: Uuid,
    framework_id: Id,
    task_id: Id,
    names: Type.Array(SecretNameSchema, { minItems: 1, maxItems: MAX_TASK_SECRETS }),
  }),
} as const;
export const AgentMessageSchema = Type.Union([
  AgentMessageSchemas.REGISTER,
  AgentMessageSchemas.REREGISTER,
  AgentMessageSchemas.REREGISTER_TASKS,
  AgentMessageSchemas.STATUS_UPDATE,
  AgentMessageSchemas.PONG,
  AgentMessageSchemas.SECRETS_REQUEST,
]);
export type AgentMessage = Static<typeof AgentMessageSchema>;

// ---------------------------------------------------------------- master → agent

/** SHUTDOWN: the master refuses this agent (e.g. marked gone); the agent must not re-register with that id. */
export const MasterToAgentSchemas = {
  REGISTERED: Obj({ type: Lit('REGISTERED'), agent_id: Id, master_info: MasterInfoSchema }),
  REREGISTERED: Obj({ type: Lit('REREGISTERED'), agent_id: Id, master_info: MasterInfoSchema }),
  RUN_TASK: Obj({
    type: Lit('RUN_TASK'),
    framework: FrameworkInfoWithIdSchema,
    task: TaskInfoSchema,
  }),
  /**
   * A task group (LAUNCH_GROUP) to run as one unit under the DEFAULT executor `executor`: all or
   * none of its tasks start; see docs/task-groups.md.
   */
  RUN_TASK_GROUP: Obj({
    type: Lit('RUN_TASK_GROUP'),
    framework: FrameworkInfoWithIdSchema,
    executor: ExecutorInfoSchema,
    task_group: TaskGroupInfoSchema,
  }),
  KILL_TASK: Obj({ type: Lit('KILL_TASK'), framework_id: Id, task_id: Id, grace_period_seconds: Opt(Seconds) }),
  ACK_UPDATE: Obj({ type: Lit('ACK_UPDATE'), framework_id: Id, task_id: Id, uuid: Uuid }),
  SHUTDOWN_FRAMEWORK: Obj({ type: Lit('SHUTDOWN_FRAMEWORK'), framework_id: Id }),
  PING: Obj({ type: Lit('PING'), seq: Seq }),
  LEADER: Obj({ type: Lit('LEADER'), leader: Leader }),
  SHUTDOWN: Obj({ type: Lit('SHUTDOWN'), message: Type.String({ maxLength: MAX_TEXT_LENGTH }) }),
  /** The answer to SECRETS_REQUEST: every value asked for, or an error and none. */
  SECRETS: Obj({
    type: Lit('SECRETS'),
    request_id: Uuid,
    secrets: Opt(
      Type.Array(Obj({ name: SecretNameSchema, value: Type.String({ maxLength: MAX_SECRET_VALUE_BYTES }) }), {
        maxItems: MAX_TASK_SECRETS,
      }),
    ),
    error: Opt(
      Obj({
        code: Type.String({ maxLength: MAX_TOKEN_LENGTH }),
        message: Type.String({ maxLength: MAX_TEXT_LENGTH }),
      }),
    ),
  }),
} as const;
export const MasterToAgentMessageSchema = Type.Union([
  MasterToAgentSchemas.REGISTERED,
  MasterToAgentSchemas.REREGISTERED,
  MasterToAgentSchemas.RUN_TASK,
  MasterToAgentSchemas.RUN_TASK_GROUP,
  MasterToAgentSchemas.KILL_TASK,
  MasterToAgentSchemas.ACK_UPDATE,
  MasterToAgentSchemas.SHUTDOWN_FRAMEWORK,
  MasterToAgentSchemas.PING,
  MasterToAgentSchemas.LEADER,
  MasterToAgentSchemas.SHUTDOWN,
  MasterToAgentSchemas.SECRETS,
]);
export type MasterToAgentMessage = Static<typeof MasterToAgentMessageSchema>;

/** The message schemas of each direction, by type. */
export const MessageSchemas: Record<Direction, Record<string, TSchema>> = {
  scheduler_to_master: SchedulerCallSchemas,
  master_to_scheduler: SchedulerEventSchemas,
  agent_to_master: AgentMessageSchemas,
  master_to_agent: MasterToAgentSchemas,
};

export type MessageOf<D extends Direction> = D extends 'agent_to_master'
  ? AgentMessage
  : D extends 'master_to_agent'
    ? MasterToAgentMessage
    : D extends 'scheduler_to_master'
      ? SchedulerCall
      : SchedulerEvent;

export type AnyMessage = AgentMessage | MasterToAgentMessage | SchedulerCall | SchedulerEvent;
