/**
 * One discriminated union per direction, tagged by `type`. Tags are `as const` objects.
 */
import type {
  AgentInfo,
  Filters,
  FrameworkInfo,
  MasterInfo,
  Offer,
  Operation,
  TaskInfo,
  TaskRecord,
  TaskStatus,
} from './types.js';

export const Direction = {
  AgentToMaster: 'agent_to_master',
  MasterToAgent: 'master_to_agent',
  SchedulerToMaster: 'scheduler_to_master',
  MasterToScheduler: 'master_to_scheduler',
} as const;
export type Direction = (typeof Direction)[keyof typeof Direction];

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
} as const;

export type SchedulerCall =
  | { type: 'SUBSCRIBE'; subscribe: { framework_info: FrameworkInfo } }
  | { type: 'TEARDOWN'; framework_id: string }
  | {
      type: 'ACCEPT';
      framework_id: string;
      accept: { offer_ids: string[]; operations: Operation[]; filters?: Filters };
    }
  | { type: 'DECLINE'; framework_id: string; decline: { offer_ids: string[]; filters?: Filters } }
  | { type: 'REVIVE'; framework_id: string; revive?: { roles?: string[] } }
  | { type: 'SUPPRESS'; framework_id: string; suppress?: { roles?: string[] } }
  | { type: 'KILL'; framework_id: string; kill: { task_id: string; agent_id?: string } }
  | {
      type: 'ACKNOWLEDGE';
      framework_id: string;
      acknowledge: { agent_id: string; task_id: string; uuid: string };
    }
  | {
      type: 'RECONCILE';
      framework_id: string;
      reconcile: { tasks: { task_id: string; agent_id?: string }[] };
    };

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
} as const;

export type SchedulerEvent =
  | {
      type: 'SUBSCRIBED';
      subscribed: { framework_id: string; heartbeat_interval_seconds: number; master_info: MasterInfo };
    }
  | { type: 'OFFERS'; offers: { offers: Offer[] } }
  | { type: 'RESCIND'; rescind: { offer_id: string } }
  | { type: 'UPDATE'; update: { status: TaskStatus } }
  | { type: 'FAILURE'; failure: { agent_id: string } }
  | { type: 'ERROR'; error: { message: string; code?: string } }
  | { type: 'HEARTBEAT' }
  /** This master is not the leader: reconnect to `leader` (absent when none is known). */
  | { type: 'LEADER'; leader: { master_info?: MasterInfo } };

// ---------------------------------------------------------------- agent → master

export type AgentMessage =
  | { type: 'REGISTER'; agent: AgentInfo; version: string }
  | {
      type: 'REREGISTER';
      agent: AgentInfo & { id: string };
      version: string;
      tasks: TaskRecord[];
      frameworks: FrameworkInfo[];
    }
  | { type: 'STATUS_UPDATE'; update: { framework_id: string; status: TaskStatus } }
  | { type: 'PONG'; seq: number };

// ---------------------------------------------------------------- master → agent

export type MasterToAgentMessage =
  | { type: 'REGISTERED'; agent_id: string; master_info: MasterInfo }
  | { type: 'REREGISTERED'; agent_id: string; master_info: MasterInfo }
  | { type: 'RUN_TASK'; framework: FrameworkInfo & { id: string }; task: TaskInfo }
  | { type: 'KILL_TASK'; framework_id: string; task_id: string; grace_period_seconds?: number }
  | { type: 'ACK_UPDATE'; framework_id: string; task_id: string; uuid: string }
  | { type: 'SHUTDOWN_FRAMEWORK'; framework_id: string }
  | { type: 'PING'; seq: number }
  | { type: 'LEADER'; leader: { master_info?: MasterInfo } }
  /** The master refuses this agent (e.g. marked gone); the agent must not re-register with that id. */
  | { type: 'SHUTDOWN'; message: string };

export type MessageOf<D extends Direction> = D extends 'agent_to_master'
  ? AgentMessage
  : D extends 'master_to_agent'
    ? MasterToAgentMessage
    : D extends 'scheduler_to_master'
      ? SchedulerCall
      : SchedulerEvent;

export type AnyMessage = AgentMessage | MasterToAgentMessage | SchedulerCall | SchedulerEvent;
