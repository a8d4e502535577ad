/**
 * Generated input for Mesos's v1 scheduler HTTP API (`POST /api/v1/scheduler`,
 * docs/mesos-scheduler-api.md): calls in Mesos's JSON shapes, valid-looking and mutated (one field
 * replaced by a wrong type, a huge number, a deep value, null, a `__proto__` key, a giant string),
 * bad base64 uuids, wrong `Mesos-Stream-Id`s (missing, made up, another framework's), odd content
 * types and `Accept`, chunked garbage. A session may first SUBSCRIBE and hold its stream, then send
 * its calls with that stream's id. Placeholders (`$MFW` this session's framework, `$MFIX_FW` the
 * lane's HTTP fixture framework, `$FIXTURE_FW`, `$AGENT`, `$OFFER`) are filled at send time.
 */
import fc from 'fast-check';
import type { Body } from './http-gen.js';
import { bulk, jsonish, nastyNumber, nastyString } from './values.js';

/** Whose framework id a call names: this session's, another HTTP framework's, the WebSocket fixture's, or a made-up value. */
export type FwRef = '$MFW' | '$MFIX_FW' | '$FIXTURE_FW' | 'literal';
/** Which `Mesos-Stream-Id` a call carries. `other` is the HTTP fixture framework's real stream id. */
export type StreamRef = 'own' | 'other' | 'none' | 'literal';

export interface MesosCall {
  /** The call's `type` as generated (for signatures; the body may say otherwise once mutated). */
  type: string;
  fw: FwRef;
  stream: StreamRef;
  /** The made-up stream id when `stream` is `literal`. */
  streamLiteral?: string;
  /** `null`: no Content-Type header at all. */
  contentType: string | null;
  accept?: string;
  body: Body;
  /** Send the body as these chunks of `Transfer-Encoding: chunked` written by hand (garbage allowed). */
  chunked?: string[];
}

export interface MesosInput {
  kind: 'mesos';
  label: 'mesos-call' | 'mesos-session' | 'mesos-raw';
  /** SUBSCRIBE first and hold the stream while the calls are sent. */
  subscribe: boolean;
  calls: MesosCall[];
}

const id = (v: string) => ({ value: v });

const fwValue = (fw: FwRef, literal: string) => (fw === 'literal' ? literal : fw);

const scalar = (name: string, value: unknown) => ({ name, type: 'SCALAR', scalar: { value } });

const quantity = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(0.1, 1, 16, 32) },
  { weight: 2, arbitrary: nastyNumber },
);

const resources = fc
  .tuple(quantity, quantity)
  .map(([c, m]) => [scalar('cpus', c), scalar('mem', m)] as Record<string, unknown>[]);

const taskInfo = fc.tuple(fc.oneof(fc.constantFrom('t1', 'fuzz-task'), nastyString), resources).map(([tid, res]) => ({
  name: 'fuzz',
  task_id: id(tid),
  agent_id: id('$AGENT'),
  command: { value: 'true', shell: true },
  resources: res,
}));

const uuid = fc.oneof(
  fc.constantFrom(
    '',
    'not base64!!',
    '====',
    'AAAA',
    'AAAAAAAAAAAAAAAAAAAAAA==',
    '////////////////////////',
    '%%%%',
    '\u0000',
    'A'.repeat(100_000),
  ),
  fc.uint8Array({ minLength: 0, maxLength: 40 }).map((b) => Buffer.from(b).toString('base64')),
  nastyString,
);

const filters = fc.record({ refuse_seconds: fc.oneof(fc.constantFrom(0, 5, 3600), nastyNumber) }, { requiredKeys: [] });

const roles = fc.array(fc.oneof(fc.constantFrom('*', 'web', 'a/b'), nastyString), { maxLength: 4 });

const frameworkInfo = (fw: FwRef | undefined, literal: string) =>
  fc
    .record(
      {
        user: fc.oneof(fc.constant('root'), nastyString),
        name: fc.oneof(fc.constant('fuzz-mesos'), nastyString),
        roles,
        role: fc.oneof(fc.constant('*'), nastyString),
        failover_timeout: fc.oneof(fc.constantFrom(0, 1, 3600), nastyNumber),
        capabilities: fc.array(
          fc.record({ type: fc.oneof(fc.constantFrom('MULTI_ROLE', 'PARTITION_AWARE'), nastyString) }),
          { maxLength: 3 },
        ),
        checkpoint: fc.boolean(),
        principal: fc.oneof(fc.constant('fuzz'), nastyString),
      },
      { requiredKeys: ['user', 'name'] },
    )
    .map((fi) => (fw ? { ...fi, id: id(fwValue(fw, literal)) } : fi));

/** A Mesos-shaped call of one type (valid-looking: it may still be refused for what it names). */
function callBody(type: string, fw: FwRef, literal: string): fc.Arbitrary<Record<string, unknown>> {
  const base = { type, framework_id: id(fwValue(fw, literal)) };
  const offerIds = fc.array(fc.oneof(fc.constant(id('$OFFER')), nastyString.map(id)), { minLength: 0, maxLength: 3 });
  switch (type) {
    case 'SUBSCRIBE':
      return (
        fc
          // Not another framework's id: without authentication a SUBSCRIBE with a live framework's id is a
          // legitimate failover (Mesos's rule), which would take the fixture's stream over by design.
          .tuple(fc.option(fc.constantFrom<FwRef>('$MFW', 'literal'), { nil: undefined }), roles)
          .chain(([sfw, suppressed]) =>
            frameworkInfo(sfw, literal).map((fi) => ({
              type,
              subscribe: { framework_info: fi, suppressed_roles: suppressed },
            })),
          )
      );
    case 'ACCEPT':
      return fc
        .tuple(
          offerIds,
          fc.array(
            fc.oneof(
              fc.array(taskInfo, { maxLength: 3 }).map((tis) => ({ type: 'LAUNCH', launch: { task_infos: tis } })),
              resources.map((r) => ({ type: 'RESERVE', reserve: { resources: r } })),
              fc.constantFrom({ type: 'CREATE', create: { volumes: [] } }, { type: 'DESTROY' }, { type: 'FUZZ' }),
            ),
            { maxLength: 3 },
          ),
          filters,
        )
        .map(([o, ops, f]) => ({ ...base, accept: { offer_ids: o, operations: ops, filters: f } }));
    case 'DECLINE':
      return fc.tuple(offerIds, filters).map(([o, f]) => ({ ...base, decline: { offer_ids: o, filters: f } }));
    case 'REVIVE':
    case 'SUPPRESS':
      return roles.map((r) => ({ ...base, [type.toLowerCase()]: { roles: r } }));
    case 'KILL':
      return fc
        .oneof(fc.constantFrom('$FIXTURE_TASK', 't1'), nastyString)
        .map((t) => ({ ...base, kill: { task_id: id(t), agent_id: id('$AGENT') } }));
    case 'SHUTDOWN':
      return nastyString.map((e) => ({ ...base, shutdown: { executor_id: id(e), agent_id: id('$AGENT') } }));
    case 'ACKNOWLEDGE':
      return fc
        .tuple(uuid, fc.oneof(fc.constantFrom('$FIXTURE_TASK', 't1'), nastyString))
        .map(([u, t]) => ({ ...base, acknowledge: { agent_id: id('$AGENT'), task_id: id(t), uuid: u } }));
    case 'RECONCILE':
      return fc
        .array(fc.oneof(fc.constantFrom('$FIXTURE_TASK', 't1'), nastyString), { maxLength: 3 })
        .map((ts) => ({ ...base, reconcile: { tasks: ts.map((t) => ({ task_id: id(t), agent_id: id('$AGENT') })) } }));
    case 'MESSAGE':
      return fc
        .tuple(nastyString, uuid)
        .map(([e, d]) => ({ ...base, message: { agent_id: id('$AGENT'), executor_id: id(e), data: d } }));
    case 'UPDATE_FRAMEWORK':
      return fc
        .tuple(frameworkInfo(fw, literal), roles)
        .map(([fi, s]) => ({ ...base, update_framework: { framework_info: fi, suppressed_roles: s } }));
    case 'REQUEST':
      return fc
        .array(
          resources.map((r) => ({ agent_id: id('$AGENT'), resources: r })),
          { maxLength: 3 },
        )
        .map((rs) => ({ ...base, request: { requests: rs } }));
    default:
      return jsonish.map((j) => ({ ...base, [type.toLowerCase()]: j }));
  }
}

export const CALL_TYPES = [
  'SUBSCRIBE',
  'TEARDOWN',
  'ACCEPT',
  'DECLINE',
  'REVIVE',
  'SUPPRESS',
  'KILL',
  'SHUTDOWN',
  'ACKNOWLEDGE',
  'RECONCILE',
  'MESSAGE',
  'UPDATE_FRAMEWORK',
  'REQUEST',
  'ACCEPT_INVERSE_OFFERS',
  'RECONCILE_OPERATIONS',
  'UNKNOWN',
  'FUZZ',
];

/** Values that replace one field of a valid-looking call. */
const hostile: fc.Arbitrary<unknown> = fc.oneof(
  nastyString,
  nastyNumber,
  fc.constantFrom(null, true, [], {}, [[[]]], { value: null }, { value: 1e308 }, { value: ['x'] }),
  fc.constant('__PROTO__'),
  bulk,
  jsonish,
);

/** Every path (list of keys) into a JSON tree, the root excluded. */
function paths(v: unknown, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  if (Array.isArray(v))
    for (let i = 0; i < v.length; i++) {
      out.push([...prefix, i]);
      paths(v[i], [...prefix, i], out);
    }
  else if (v && typeof v === 'object')
    for (const [k, x] of Object.entries(v)) {
      out.push([...prefix, k]);
      paths(x, [...prefix, k], out);
    }
  return out;
}

/** `call` with the value at one of its paths replaced (or, for `__PROTO__`, a `__proto__` key added beside it). */
export function mutate(call: Record<string, unknown>, pick: number, value: unknown): Record<string, unknown> {
  const copy = structuredClone(call);
  const all = paths(copy);
  if (all.length === 0) return copy;
  const path = all[pick % all.length];
  // biome-ignore lint/suspicious/noExplicitAny: walking a generated JSON tree
  let parent: any = copy;
  for (const k of path.slice(0, -1)) parent = parent[k];
  const last = path[path.length - 1];
  if (value === '__PROTO__') {
    // An own `__proto__` key, which JSON.stringify writes out (a plain assignment would set the prototype).
    const target = parent[last] && typeof parent[last] === 'object' ? parent[last] : parent;
    Object.defineProperty(target, '__proto__', {
      value: { polluted: true, value: 'x' },
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else parent[last] = value;
  return copy;
}

const contentType = fc.oneof(
  { weight: 12, arbitrary: fc.constant<string | null>('application/json') },
  {
    weight: 3,
    arbitrary: fc.constantFrom<string | null>(
      null,
      '',
      'application/x-protobuf',
      'text/plain',
      'APPLICATION/JSON',
      'application/json; charset=utf-16',
      'application/jsonx',
      'application/json, application/x-protobuf',
      'multipart/form-data; boundary=x',
      ';',
      'x/'.repeat(500),
    ),
  },
);

const accept = fc.constantFrom(
  undefined,
  undefined,
  undefined,
  'application/json',
  'application/x-protobuf',
  'text/html',
  '*/*;q=NaN',
  '',
);

const streamLiteral = fc.oneof(
  fc.uuid(),
  fc.constantFrom('', ' ', '00000000-0000-0000-0000-000000000000', 'x'.repeat(10_000), 'a\tb'),
  nastyString.filter((s) => !/[\r\n\0]/.test(s) && s.length < 8000),
);

/** Body text that is not a call: truncated, invalid, numbers JSON.parse mangles. */
const textBody = fc.oneof(
  fc.constantFrom(
    '{',
    '',
    'null',
    '[]',
    '"SUBSCRIBE"',
    '{"type":"SUBSCRIBE"',
    '{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"u","name":"n","failover_timeout":1e999}}}',
    '{"type":"DECLINE","framework_id":{"value":"$MFW"},"decline":{"offer_ids":[],"filters":{"refuse_seconds":-0}}}',
    '{"type":"REVIVE","framework_id":{"value":"$MFW"},"revive":{"roles":["*"]},"revive":{"roles":["web"]}}',
    '{"__proto__":{"type":"TEARDOWN"},"framework_id":{"value":"$MFW"}}',
    '{"type":"TEARDOWN","framework_id":{"value":"$MFW","__proto__":{"value":"x"}}}',
    '{"type":"KILL","framework_id":{"value":"$MFW"},"kill":{"task_id":{"value":"\\ud800"}}}',
  ),
  fc.string({ maxLength: 80 }),
);

/** Hand-written chunked bodies: bad sizes, sizes larger than the data, no final chunk. */
const chunkedGarbage = fc.constantFrom(
  ['zz\r\n{}\r\n0\r\n\r\n'],
  ['ffffffffffffffff\r\n{'],
  ['2\r\n{}\r\n'],
  ['5\r\n{}\r\n0\r\n\r\n'],
  ['1;ext="' + 'x'.repeat(9000) + '"\r\n{\r\n0\r\n\r\n'],
  ['-1\r\n{}\r\n0\r\n\r\n'],
  ['2\r\n{}\r\n', '0\r\nX-Trailer: ' + 'y'.repeat(20_000) + '\r\n\r\n'],
);

const fwRef = fc.constantFrom<FwRef>('$MFW', '$MFW', '$MFW', '$MFIX_FW', '$FIXTURE_FW', 'literal');

const streamFor = (fw: FwRef): fc.Arbitrary<StreamRef> =>
  // A call for the HTTP fixture framework never carries its real stream id: that pair is its own
  // capability, legitimately honoured; every other pairing must be refused.
  fw === '$MFIX_FW'
    ? fc.constantFrom<StreamRef>('own', 'none', 'literal')
    : fc.constantFrom<StreamRef>('own', 'own', 'own', 'other', 'none', 'literal');

/** One call: its type, whose framework, which stream id, body (valid-looking, mutated, or not JSON). */
export const mesosCall: fc.Arbitrary<MesosCall> = fc
  .tuple(fc.constantFrom(...CALL_TYPES), fwRef, fc.oneof(fc.uuid(), nastyString))
  .chain(([type, fw, literal]) =>
    fc
      .tuple(
        callBody(type, fw, literal),
        fc.oneof(
          { weight: 4, arbitrary: fc.constant<'valid'>('valid') },
          { weight: 5, arbitrary: fc.constant<'mutate'>('mutate') },
          { weight: 1, arbitrary: fc.constant<'text'>('text') },
          { weight: 1, arbitrary: fc.constant<'bulk'>('bulk') },
        ),
        fc.nat(),
        hostile,
        textBody,
        bulk,
        type === 'SUBSCRIBE' ? fc.constantFrom<StreamRef>('none', 'none', 'own', 'literal') : streamFor(fw),
        streamLiteral,
        contentType,
        accept,
        fc.oneof({ weight: 19, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: chunkedGarbage }),
      )
      .map(([call, how, pick, value, txt, b, stream, sl, ct, acc, chunked]): MesosCall => {
        const body: Body =
          how === 'valid'
            ? { t: 'json', value: call }
            : how === 'mutate'
              ? { t: 'json', value: mutate(call, pick, value) }
              : how === 'text'
                ? { t: 'text', text: txt }
                : { t: 'bulk', bulk: b };
        return {
          type,
          fw,
          stream,
          ...(stream === 'literal' ? { streamLiteral: sl } : {}),
          contentType: ct,
          ...(acc !== undefined ? { accept: acc } : {}),
          body,
          ...(chunked ? { chunked: [...chunked] } : {}),
        };
      }),
  );

/** A Mesos input: a lone call (no stream of its own), or a session that subscribes and holds its stream. */
export const mesosInput: fc.Arbitrary<MesosInput> = fc.oneof(
  {
    weight: 6,
    arbitrary: mesosCall.map(
      (c): MesosInput => ({
        kind: 'mesos',
        label: c.chunked ? 'mesos-raw' : 'mesos-call',
        subscribe: false,
        calls: [c],
      }),
    ),
  },
  {
    weight: 3,
    arbitrary: fc
      .array(mesosCall, { minLength: 1, maxLength: 5 })
      .map((calls): MesosInput => ({ kind: 'mesos', label: 'mesos-session', subscribe: true, calls })),
  },
);
