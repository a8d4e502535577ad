/**
 * Generated WebSocket sessions: one connection to `/api/v1/agent` or `/api/v1/scheduler/ws`
 * and a few frames, valid-looking messages with hostile fields, messages that borrow other
 * parties' ids (placeholders filled in at send time), raw MessagePack and bulk frames.
 */
import fc from 'fast-check';
import { bulk, jsonish, nastyNumber, nastyString, nonFinite } from './values.js';

/** Filled in by the sender: ids of the real agent, the fixture framework and task, this session's own. */
export const PLACEHOLDERS = [
  '$AGENT',
  '$FIXTURE_FW',
  '$FIXTURE_TASK',
  '$FW',
  '$OFFER',
  '$OWN_AGENT',
  '$FAKE_AGENT',
  '$ISSUED_FW:1',
  '$ISSUED_FW:2',
  '$ISSUED_FW:3',
] as const;

export type Frame =
  | { t: 'msg'; value: unknown }
  /** Hand-made MessagePack bytes (hex). */
  | { t: 'hex'; hex: string }
  /** An array32 header claiming `count` elements followed by `count` empty maps (a cheap huge frame). */
  | { t: 'emptyMaps'; count: number }
  /** Arrays nested `depth` deep, hand-made (msgpackr cannot pack that deep). */
  | { t: 'deepArrays'; depth: number }
  | { t: 'text'; text: string };

export interface WsInput {
  kind: 'ws';
  label: 'ws-agent' | 'ws-scheduler' | 'ws-raw';
  endpoint: 'agent' | 'scheduler';
  frames: Frame[];
}

const id = fc.oneof(
  { weight: 3, arbitrary: nastyString },
  { weight: 2, arbitrary: fc.constantFrom(...PLACEHOLDERS) },
  { weight: 1, arbitrary: fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/) },
);

const role = fc.oneof(fc.constantFrom('*', 'web', 'analytics', 'a/b'), nastyString);

const quantity = fc.oneof(
  { weight: 4, arbitrary: fc.double({ min: 0, max: 4, noNaN: true }) },
  { weight: 4, arbitrary: nastyNumber },
  { weight: 1, arbitrary: nonFinite },
);

const resource = fc.oneof(
  fc.record(
    {
      name: fc.constantFrom('cpus', 'mem', 'disk', 'gpus'),
      type: fc.constant('SCALAR'),
      scalar: fc.record({ value: quantity }),
      role: role,
      reservation: fc.record({ principal: nastyString }),
    },
    { requiredKeys: ['name', 'type', 'scalar'] },
  ),
  fc.record({
    name: fc.constant('ports'),
    type: fc.constant('RANGES'),
    ranges: fc.record({
      range: fc.array(fc.record({ begin: quantity, end: quantity }), { maxLength: 3 }),
    }),
  }),
  fc.record({
    name: nastyString,
    type: fc.oneof(fc.constantFrom('SCALAR', 'SET', 'RANGES'), nastyString),
    scalar: fc.record({ value: quantity }),
  }),
);
const resources = fc.array(resource, { maxLength: 4 });

const taskState = fc.oneof(
  fc.constantFrom(
    'TASK_STAGING',
    'TASK_STARTING',
    'TASK_RUNNING',
    'TASK_FINISHED',
    'TASK_FAILED',
    'TASK_KILLED',
    'TASK_LOST',
    'TASK_ERROR',
    'TASK_UNREACHABLE',
    'TASK_GONE',
  ),
  nastyString,
);

const agentInfo = fc.record(
  {
    hostname: fc.oneof(fc.constant('fuzz-host'), nastyString),
    port: fc.oneof(fc.constant(5051), nastyNumber),
    resources,
    attributes: fc.dictionary(nastyString, fc.oneof(nastyString, fc.constant('x')), { maxKeys: 3 }),
  },
  { requiredKeys: ['hostname', 'port', 'resources', 'attributes'] },
);

const frameworkInfo = fc.record(
  {
    // Not the fixture's id: taking a framework over by its id is Mesos's failover, not a defect.
    id: fc.oneof(
      id.filter((i) => i !== '$FIXTURE_FW'),
      fc.constantFrom('$ISSUED_FW:1', '$ISSUED_FW:2'),
    ),
    name: fc.oneof(fc.constant('fuzz'), nastyString),
    roles: fc.oneof(fc.array(role, { maxLength: 3 }), fc.array(fc.constant('web'), { minLength: 2, maxLength: 3 })),
    failover_timeout: fc.oneof(fc.constant(0), nastyNumber),
    capabilities: fc.array(
      fc.record({ type: fc.oneof(fc.constantFrom('PARTITION_AWARE', 'MULTI_ROLE'), nastyString) }),
      {
        maxLength: 2,
      },
    ),
    user: nastyString,
    principal: nastyString,
  },
  { requiredKeys: ['name'] },
);

const taskStatus = fc.record(
  {
    task_id: id,
    state: taskState,
    timestamp: quantity,
    uuid: fc.oneof(fc.uuid(), nastyString),
    agent_id: id,
    message: nastyString,
    healthy: fc.boolean(),
  },
  { requiredKeys: ['task_id', 'state', 'timestamp'] },
);

const taskRecord = fc.record({
  task: fc.record({ name: nastyString, task_id: id, agent_id: id, resources }),
  framework_id: id,
  state: taskState,
});

const register = fc.record({
  type: fc.constant('REGISTER'),
  agent: agentInfo,
  version: fc.oneof(fc.constant('0.1.0'), nastyString),
});
const reregister = fc.record({
  type: fc.constant('REREGISTER'),
  agent: fc.tuple(agentInfo, id).map(([a, i]) => ({ ...a, id: i })),
  version: fc.constant('0.1.0'),
  tasks: fc.array(taskRecord, { maxLength: 3 }),
  frameworks: fc.array(frameworkInfo, { maxLength: 2 }),
});
const statusUpdate = fc.record({
  type: fc.constant('STATUS_UPDATE'),
  update: fc.record({ framework_id: id, status: taskStatus }),
});
const pong = fc.record({ type: fc.constant('PONG'), seq: fc.oneof(nastyNumber, nonFinite) });

const agentMessage = fc.oneof(register, reregister, statusUpdate, pong);

const subscribe = fc.record({
  type: fc.constant('SUBSCRIBE'),
  subscribe: fc.record({ framework_info: frameworkInfo }),
});

const fwRef = fc.oneof({ weight: 6, arbitrary: fc.constant('$FW') }, { weight: 1, arbitrary: id });
const offerIds = fc.array(fc.oneof({ weight: 4, arbitrary: fc.constant('$OFFER') }, { weight: 1, arbitrary: id }), {
  minLength: 1,
  maxLength: 3,
});

const taskInfo = fc.record(
  {
    name: fc.oneof(fc.constant('fuzz'), nastyString),
    task_id: id,
    agent_id: fc.oneof({ weight: 4, arbitrary: fc.constant('$AGENT') }, { weight: 1, arbitrary: id }),
    resources: fc.oneof(
      fc.constant([
        { name: 'cpus', type: 'SCALAR', scalar: { value: 0.01 } },
        { name: 'mem', type: 'SCALAR', scalar: { value: 8 } },
      ]),
      resources,
    ),
    // Only harmless commands: the fuzz must not run generated shell text on the machine.
    command: fc.constantFrom({ value: 'true' }, { value: 'sleep 2' }, { value: 'true', shell: true }),
    kill_policy: fc.record({ grace_period_seconds: nastyNumber }),
    labels: fc.record({ labels: fc.array(fc.record({ key: nastyString, value: nastyString }), { maxLength: 2 }) }),
  },
  { requiredKeys: ['name', 'task_id', 'agent_id', 'resources', 'command'] },
);

const operation = fc.oneof(
  fc.record({
    type: fc.constant('LAUNCH'),
    launch: fc.record({ task_infos: fc.array(taskInfo, { minLength: 1, maxLength: 2 }) }),
  }),
  fc.record({ type: fc.constant('RESERVE'), reserve: fc.record({ resources }) }),
  fc.record({ type: fc.constant('UNRESERVE'), unreserve: fc.record({ resources }) }),
  fc.record({ type: nastyString, launch: jsonish }),
);

const filters = fc.record({ refuse_seconds: fc.oneof(nastyNumber, nonFinite) }, { requiredKeys: [] });

const schedulerCall = fc.oneof(
  { weight: 2, arbitrary: subscribe },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('TEARDOWN'), framework_id: fwRef }) },
  {
    weight: 4,
    arbitrary: fc.record({
      type: fc.constant('ACCEPT'),
      framework_id: fwRef,
      accept: fc.record(
        { offer_ids: offerIds, operations: fc.array(operation, { maxLength: 2 }), filters },
        { requiredKeys: ['offer_ids', 'operations'] },
      ),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      type: fc.constant('DECLINE'),
      framework_id: fwRef,
      decline: fc.record({ offer_ids: offerIds, filters }, { requiredKeys: ['offer_ids'] }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      type: fc.constantFrom('REVIVE', 'SUPPRESS'),
      framework_id: fwRef,
      revive: fc.record({ roles: fc.array(role, { maxLength: 4 }) }),
      suppress: fc.record({
        roles: fc.oneof(
          fc.array(role, { maxLength: 4 }),
          fc.integer({ min: 10, max: 2000 }).map((n) => Array.from({ length: n }, (_, i) => `made-up-${i}`)),
        ),
      }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      type: fc.constant('KILL'),
      framework_id: fwRef,
      kill: fc.record({ task_id: id, agent_id: id }, { requiredKeys: ['task_id'] }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      type: fc.constant('ACKNOWLEDGE'),
      framework_id: fwRef,
      acknowledge: fc.record({ agent_id: id, task_id: id, uuid: fc.oneof(fc.uuid(), nastyString) }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      type: fc.constant('RECONCILE'),
      framework_id: fwRef,
      reconcile: fc.record({ tasks: fc.array(fc.record({ task_id: id, agent_id: id }), { maxLength: 3 }) }),
    }),
  },
);

/** Replaces one field (at any depth) of a valid-looking message by a hostile value or a bulk one. */
function corrupt(msg: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  return fc.tuple(msg, fc.nat(), fc.oneof(jsonish, bulk, nonFinite, fc.constant(undefined))).map(([m, at, bad]) => {
    const paths: (string | number)[][] = [];
    const walk = (v: unknown, p: (string | number)[]) => {
      paths.push(p);
      if (v && typeof v === 'object' && p.length < 6)
        for (const [k, x] of Object.entries(v)) walk(x, [...p, Array.isArray(v) ? Number(k) : k]);
    };
    walk(m, []);
    const p = paths[at % paths.length];
    if (p.length === 0) return bad;
    const copy = structuredClone(m) as Record<string | number, unknown>;
    let cur = copy;
    for (const k of p.slice(0, -1)) cur = cur[k] as Record<string | number, unknown>;
    cur[p[p.length - 1]] = bad;
    return copy;
  });
}

const rawFrame: fc.Arbitrary<Frame> = fc.oneof(
  fc.uint8Array({ maxLength: 64 }).map((b): Frame => ({ t: 'hex', hex: Buffer.from(b).toString('hex') })),
  fc
    .constantFrom(
      'c1', // never-used byte
      'dd ffffffff', // array32 claiming 4 billion elements
      'df ffffffff', // map32 claiming 4 billion entries
      'db ffffffff 61', // str32 claiming 4 GiB
      'c6 ffffffff', // bin32 claiming 4 GiB
      'd4 00 00', // fixext (an extension type)
      'c7 01 ff 00', // ext8 (timestamp type -1, bad length)
      '81 a4 74797065 a8 5245474953544552 c0', // {type:"REGISTER"} + trailing nil
      '81 a4 74797065', // truncated map
      '81 a9 5f5f70726f746f5f5f 80', // {__proto__: {}}
      '81 c0 c0', // nil key
      '81 cb 7ff8000000000000 c0', // NaN key
      '93 01 02 03', // an array, not a map
      'a3 616263', // a string
      'c0', // nil
    )
    .map((h): Frame => ({ t: 'hex', hex: h.replace(/ /g, '') })),
  fc
    .oneof(
      { weight: 30, arbitrary: fc.constantFrom(1000, 100_000) },
      { weight: 1, arbitrary: fc.constantFrom(1_000_000, 4_000_000) },
    )
    .map((count): Frame => ({ t: 'emptyMaps', count })),
  fc.constantFrom(33, 100, 5000, 100_000, 1_000_000).map((depth): Frame => ({ t: 'deepArrays', depth })),
  fc.string({ maxLength: 40 }).map((text): Frame => ({ t: 'text', text })),
);

function messages(m: fc.Arbitrary<unknown>): fc.Arbitrary<Frame> {
  return fc.oneof(
    { weight: 5, arbitrary: m.map((value): Frame => ({ t: 'msg', value })) },
    { weight: 2, arbitrary: corrupt(m).map((value): Frame => ({ t: 'msg', value })) },
  );
}

const agentSession: fc.Arbitrary<WsInput> = fc.oneof(
  // A registration, then what a registered (fake) agent could send.
  fc.tuple(fc.oneof(register, reregister), fc.array(messages(agentMessage), { maxLength: 3 })).map(([first, rest]) => ({
    kind: 'ws' as const,
    label: 'ws-agent' as const,
    endpoint: 'agent' as const,
    frames: [{ t: 'msg' as const, value: first }, ...rest],
  })),
  fc.array(messages(agentMessage), { minLength: 1, maxLength: 4 }).map((frames) => ({
    kind: 'ws' as const,
    label: 'ws-agent' as const,
    endpoint: 'agent' as const,
    frames,
  })),
);

/** Ids that name a place on disk: '..', '.', 'meta' (the agent's checkpoint dir), a separator. */
const pathId = fc.constantFrom('..', '.', 'meta', 'sandboxes', 'a/b', '../x', '%2e%2e', '..\\..', '');

/** A framework with a path-like id launching a task with a path-like id: the sandbox layout under attack. */
const pathyLaunch: fc.Arbitrary<WsInput> = fc.tuple(pathId, pathId).map(([fid, tid]) => ({
  kind: 'ws' as const,
  label: 'ws-scheduler' as const,
  endpoint: 'scheduler' as const,
  frames: [
    {
      t: 'msg' as const,
      value: { type: 'SUBSCRIBE', subscribe: { framework_info: { id: fid, name: 'fuzz', roles: ['*'] } } },
    },
    {
      t: 'msg' as const,
      value: {
        type: 'ACCEPT',
        framework_id: '$FW',
        accept: {
          offer_ids: ['$OFFER'],
          operations: [
            {
              type: 'LAUNCH',
              launch: {
                task_infos: [
                  {
                    name: 'fuzz',
                    task_id: tid,
                    agent_id: '$AGENT',
                    resources: [
                      { name: 'cpus', type: 'SCALAR', scalar: { value: 0.01 } },
                      { name: 'mem', type: 'SCALAR', scalar: { value: 8 } },
                    ],
                    command: { value: 'true' },
                  },
                ],
              },
            },
          ],
        },
      },
    },
  ],
}));

const schedulerSession: fc.Arbitrary<WsInput> = fc.oneof(
  { weight: 1, arbitrary: pathyLaunch },
  {
    weight: 8,
    arbitrary: fc.tuple(subscribe, fc.array(messages(schedulerCall), { maxLength: 3 })).map(([first, rest]) => ({
      kind: 'ws' as const,
      label: 'ws-scheduler' as const,
      endpoint: 'scheduler' as const,
      frames: [{ t: 'msg' as const, value: first }, ...rest],
    })),
  },
  {
    weight: 3,
    arbitrary: fc.array(messages(schedulerCall), { minLength: 1, maxLength: 4 }).map((frames) => ({
      kind: 'ws' as const,
      label: 'ws-scheduler' as const,
      endpoint: 'scheduler' as const,
      frames,
    })),
  },
);

const rawSession: fc.Arbitrary<WsInput> = fc
  .tuple(fc.constantFrom('agent' as const, 'scheduler' as const), fc.array(rawFrame, { minLength: 1, maxLength: 2 }))
  .map(([endpoint, frames]) => ({ kind: 'ws' as const, label: 'ws-raw' as const, endpoint, frames }));

export const wsInput: fc.Arbitrary<WsInput> = fc.oneof(
  { weight: 4, arbitrary: agentSession },
  { weight: 5, arbitrary: schedulerSession },
  { weight: 1, arbitrary: rawSession },
);
