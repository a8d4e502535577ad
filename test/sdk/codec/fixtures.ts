/**
 * Realistic messages, one of every type of every direction. The mapped types make the compiler
 * insist that a fixture exists for each `type` of each union, so a new message type cannot be
 * added without a round-trip test.
 */
import type {
  AgentMessage,
  Direction,
  MasterToAgentMessage,
  MessageOf,
  SchedulerCall,
  SchedulerEvent,
} from '../../../sdk/protocol/messages.js';
import type { AgentInfo, FrameworkInfo, MasterInfo, Offer, TaskInfo, TaskStatus } from '../../../sdk/protocol/types.js';
import type { Resource } from '../../../sdk/resources/resources.js';

type ByType<M extends { type: string }> = { [K in M['type']]: Extract<M, { type: K }> };

export const masterInfo: MasterInfo = {
  id: '20240611-101500-16777343-5050-4242',
  pid: 'master@10.0.0.1:5050',
  hostname: 'master-1.example.org',
  port: 5050,
  address: { hostname: 'master-1.example.org', ip: '10.0.0.1', port: 5050 },
  version: '0.1.0',
};

export function scalar(name: string, value: number, role?: string): Resource {
  return role ? { name, type: 'SCALAR', scalar: { value }, role } : { name, type: 'SCALAR', scalar: { value } };
}

export const agentResources: Resource[] = [
  scalar('cpus', 8),
  scalar('mem', 30_720),
  scalar('disk', 204_800),
  scalar('gpus', 1),
  { name: 'ports', type: 'RANGES', ranges: { range: [{ begin: 31000, end: 32000 }] } },
  scalar('cpus', 2, 'analytics'),
  { name: 'zones', type: 'SET', set: { item: ['a', 'b'] } },
];

export const agentInfo: AgentInfo = {
  hostname: 'agent-7.example.org',
  port: 5051,
  resources: agentResources,
  attributes: { rack: 'r1', zone: 'a' },
};

export const frameworkInfo: FrameworkInfo & { id: string } = {
  id: 'fw-marathon-0001',
  name: 'marathon',
  user: 'root',
  hostname: 'marathon-1.example.org',
  roles: ['*', 'web'],
  failover_timeout: 604_800,
  checkpoint: true,
  capabilities: [{ type: 'MULTI_ROLE' }, { type: 'PARTITION_AWARE' }],
  principal: 'marathon',
  webui_url: 'http://marathon-1.example.org:8080',
};

export function taskInfo(n = 0): TaskInfo {
  return {
    name: `web.instance-${n}`,
    task_id: `web.7f3c9a2e-${n.toString(16).padStart(4, '0')}`,
    agent_id: 'agent-7-S3',
    resources: [
      { name: 'cpus', type: 'SCALAR', scalar: { value: 0.5 } },
      { name: 'mem', type: 'SCALAR', scalar: { value: 256 } },
      { name: 'disk', type: 'SCALAR', scalar: { value: 1024 } },
      { name: 'ports', type: 'RANGES', ranges: { range: [{ begin: 31000 + n, end: 31000 + n }] } },
    ],
    command: {
      value: 'python3 -m http.server $PORT0',
      shell: true,
      environment: {
        variables: [
          { name: 'PORT0', value: String(31000 + n) },
          { name: 'MARATHON_APP_ID', value: '/web' },
        ],
      },
      uris: [{ value: 'https://artifacts.example.org/web.tgz', extract: true, cache: false }],
    },
    container: {
      type: 'DOCKER',
      docker: {
        image: 'agora/busybox:latest',
        network: 'BRIDGE',
        port_mappings: [{ host_port: 31000 + n, container_port: 8080, protocol: 'tcp' }],
        parameters: [{ key: 'label', value: 'team=web' }],
      },
      volumes: [{ container_path: '/data', host_path: '/var/lib/web', mode: 'RW' }],
    },
    health_check: {
      type: 'HTTP',
      http: { port: 8080, path: '/health', scheme: 'http', statuses: [200, 204] },
      delay_seconds: 5,
      interval_seconds: 10,
      timeout_seconds: 2.5,
      consecutive_failures: 3,
      grace_period_seconds: 30,
    },
    kill_policy: { grace_period_seconds: 5 },
    labels: { labels: [{ key: 'app', value: 'web' }, { key: 'canary' }] },
  };
}

export function offer(n = 0): Offer {
  return {
    id: `20240611-101500-16777343-5050-4242-O${n}`,
    framework_id: frameworkInfo.id,
    agent_id: `agent-${n}-S3`,
    hostname: `agent-${n}.example.org`,
    resources: [
      scalar('cpus', 7.5),
      scalar('mem', 28_672),
      scalar('disk', 200_000),
      {
        name: 'ports',
        type: 'RANGES',
        ranges: {
          range: [
            { begin: 31001, end: 31999 },
            { begin: 33000, end: 33100 },
          ],
        },
      },
    ],
    attributes: { rack: `r${n % 4}`, zone: n % 2 ? 'a' : 'b' },
    allocation_role: '*',
  };
}

export const status: TaskStatus = {
  task_id: taskInfo(0).task_id,
  state: 'TASK_RUNNING',
  message: 'container started',
  source: 'SOURCE_EXECUTOR',
  agent_id: 'agent-7-S3',
  healthy: true,
  timestamp: 1718100923.417,
  uuid: '5e7b0c2e-33c5-4d62-9a56-cf0d8e9b3f11',
};

export const schedulerCalls: ByType<SchedulerCall> = {
  SUBSCRIBE: { type: 'SUBSCRIBE', subscribe: { framework_info: { ...frameworkInfo } } },
  TEARDOWN: { type: 'TEARDOWN', framework_id: frameworkInfo.id },
  ACCEPT: {
    type: 'ACCEPT',
    framework_id: frameworkInfo.id,
    accept: {
      offer_ids: [offer(0).id, offer(1).id],
      operations: [
        { type: 'RESERVE', reserve: { resources: [scalar('cpus', 1, 'web')] } },
        { type: 'LAUNCH', launch: { task_infos: [taskInfo(0), taskInfo(1)] } },
        { type: 'UNRESERVE', unreserve: { resources: [scalar('mem', 512, 'web')] } },
      ],
      filters: { refuse_seconds: 5 },
    },
  },
  DECLINE: {
    type: 'DECLINE',
    framework_id: frameworkInfo.id,
    decline: { offer_ids: [offer(2).id], filters: { refuse_seconds: 120 } },
  },
  REVIVE: { type: 'REVIVE', framework_id: frameworkInfo.id, revive: { roles: ['web'] } },
  SUPPRESS: { type: 'SUPPRESS', framework_id: frameworkInfo.id },
  KILL: {
    type: 'KILL',
    framework_id: frameworkInfo.id,
    kill: { task_id: taskInfo(3).task_id, agent_id: 'agent-7-S3' },
  },
  ACKNOWLEDGE: {
    type: 'ACKNOWLEDGE',
    framework_id: frameworkInfo.id,
    acknowledge: { agent_id: 'agent-7-S3', task_id: status.task_id, uuid: status.uuid! },
  },
  RECONCILE: {
    type: 'RECONCILE',
    framework_id: frameworkInfo.id,
    reconcile: { tasks: [{ task_id: taskInfo(0).task_id, agent_id: 'agent-7-S3' }, { task_id: taskInfo(1).task_id }] },
  },
  MESSAGE: {
    type: 'MESSAGE',
    framework_id: frameworkInfo.id,
    message: { agent_id: 'agent-7-S3', executor_id: taskInfo(0).task_id, data: 'aGVsbG8=' },
  },
  SHUTDOWN: {
    type: 'SHUTDOWN',
    framework_id: frameworkInfo.id,
    shutdown: { agent_id: 'agent-7-S3', executor_id: taskInfo(0).task_id },
  },
  UPDATE_FRAMEWORK: {
    type: 'UPDATE_FRAMEWORK',
    framework_id: frameworkInfo.id,
    update_framework: { framework_info: { ...frameworkInfo, name: 'renamed' }, suppressed_roles: [] },
  },
  REQUEST: {
    type: 'REQUEST',
    framework_id: frameworkInfo.id,
    request: { requests: [{ agent_id: 'agent-7-S3', resources: [scalar('cpus', 1, 'web')] }] },
  },
};

export const schedulerEvents: ByType<SchedulerEvent> = {
  SUBSCRIBED: {
    type: 'SUBSCRIBED',
    subscribed: { framework_id: frameworkInfo.id, heartbeat_interval_seconds: 15, master_info: masterInfo },
  },
  OFFERS: { type: 'OFFERS', offers: { offers: [offer(0), offer(1), offer(2)] } },
  RESCIND: { type: 'RESCIND', rescind: { offer_id: offer(1).id } },
  UPDATE: { type: 'UPDATE', update: { status } },
  FAILURE: { type: 'FAILURE', failure: { agent_id: 'agent-9-S1' } },
  ERROR: { type: 'ERROR', error: { message: 'Framework has been removed', code: 'AGORA_MASTER_FRAMEWORK_REMOVED' } },
  HEARTBEAT: { type: 'HEARTBEAT' },
  LEADER: { type: 'LEADER', leader: { master_info: masterInfo } },
  MESSAGE: { type: 'MESSAGE', message: { agent_id: 'agent-7-S3', executor_id: taskInfo(0).task_id, data: 'aGk=' } },
};

export const agentMessages: ByType<AgentMessage> = {
  REGISTER: { type: 'REGISTER', agent: agentInfo, version: '0.1.0' },
  REREGISTER: {
    type: 'REREGISTER',
    agent: { ...agentInfo, id: 'agent-7-S3' },
    version: '0.1.0',
    tasks: [
      { task: taskInfo(0), framework_id: frameworkInfo.id, state: 'TASK_RUNNING', status },
      { task: taskInfo(1), framework_id: frameworkInfo.id, state: 'TASK_STAGING' },
    ],
    frameworks: [frameworkInfo],
    more: true,
  },
  REREGISTER_TASKS: {
    type: 'REREGISTER_TASKS',
    tasks: [{ task: taskInfo(2), framework_id: frameworkInfo.id, state: 'TASK_RUNNING', status }],
    frameworks: [frameworkInfo],
    more: false,
  },
  STATUS_UPDATE: {
    type: 'STATUS_UPDATE',
    update: {
      framework_id: frameworkInfo.id,
      status: { ...status, state: 'TASK_FAILED', exit_status: 137, reason: 'REASON_CONTAINER_LIMITATION_MEMORY' },
    },
  },
  PONG: { type: 'PONG', seq: 41 },
  SECRETS_REQUEST: {
    type: 'SECRETS_REQUEST',
    request_id: 'r-1',
    framework_id: frameworkInfo.id,
    task_id: taskInfo(5).task_id,
    names: ['/prod/db/password'],
  },
};

export const masterToAgentMessages: ByType<MasterToAgentMessage> = {
  REGISTERED: { type: 'REGISTERED', agent_id: 'agent-7-S3', master_info: masterInfo },
  REREGISTERED: { type: 'REREGISTERED', agent_id: 'agent-7-S3', master_info: masterInfo },
  RUN_TASK: { type: 'RUN_TASK', framework: frameworkInfo, task: taskInfo(5) },
  RUN_TASK_GROUP: {
    type: 'RUN_TASK_GROUP',
    framework: frameworkInfo,
    executor: {
      executor_id: 'group-1',
      type: 'DEFAULT',
      resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 0.1 } }],
      container: { type: 'MESOS', network_isolation: true },
    },
    task_group: { tasks: [taskInfo(1), taskInfo(2)], kill_group_on_task_failure: false },
  },
  KILL_TASK: {
    type: 'KILL_TASK',
    framework_id: frameworkInfo.id,
    task_id: taskInfo(5).task_id,
    grace_period_seconds: 3,
  },
  ACK_UPDATE: { type: 'ACK_UPDATE', framework_id: frameworkInfo.id, task_id: status.task_id, uuid: status.uuid! },
  SHUTDOWN_FRAMEWORK: { type: 'SHUTDOWN_FRAMEWORK', framework_id: frameworkInfo.id },
  PING: { type: 'PING', seq: 42 },
  LEADER: { type: 'LEADER', leader: {} },
  SHUTDOWN: { type: 'SHUTDOWN', message: 'agent agent-7-S3 was marked gone' },
  SECRETS: { type: 'SECRETS', request_id: 'r-1', secrets: [{ name: '/prod/db/password', value: 'hunter2' }] },
};

export const fixtures: { [D in Direction]: Record<string, MessageOf<D>> } = {
  scheduler_to_master: schedulerCalls,
  master_to_scheduler: schedulerEvents,
  agent_to_master: agentMessages,
  master_to_agent: masterToAgentMessages,
};
