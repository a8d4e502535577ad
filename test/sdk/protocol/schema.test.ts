/**
 * The message schemas (sdk/protocol): bounds on every kind of field, closed objects, the path in
 * errors, and two properties over the codec: a valid message round-trips encode → decode → validate
 * unchanged, and junk of any shape fails only with the catalogue's codes.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { CodecError, decode, encode } from '../../../sdk/codec/index.js';
import {
  type AgentMessage,
  type Direction,
  MAX_BATCH,
  MAX_LIST_ENTRIES,
  MAX_NAME_LENGTH,
  MAX_ROLES,
  MAX_TEXT_LENGTH,
  ProtocolError,
  type SchedulerCall,
  TaskState,
  validateMessage,
} from '../../../sdk/protocol/index.js';
import type { Resource } from '../../../sdk/resources/resources.js';
import { agentMessages, fixtures, frameworkInfo, schedulerCalls, status, taskInfo } from '../codec/fixtures.js';

const foreign = new Packr({ useRecords: false, variableMapSize: true });

function refusal(direction: Direction, value: unknown): ProtocolError {
  try {
    validateMessage(direction, value);
  } catch (e) {
    expect(e).to.be.instanceOf(ProtocolError);
    return e as ProtocolError;
  }
  expect.fail(`expected ${JSON.stringify(value).slice(0, 100)} to be refused`);
}

const launch = (patch: Record<string, unknown>): SchedulerCall =>
  ({
    ...schedulerCalls.ACCEPT,
    accept: {
      offer_ids: ['o-1'],
      operations: [{ type: 'LAUNCH', launch: { task_infos: [{ ...taskInfo(1), ...patch }] } }],
    },
  }) as SchedulerCall;
const statusWith = (patch: Record<string, unknown>) => ({
  type: 'STATUS_UPDATE',
  update: { framework_id: 'fw-1', status: { ...status, ...patch } },
});

describe('protocol schemas', () => {
  describe('bound every string, array and number', () => {
    const cases: [string, Direction, unknown, RegExp][] = [
      [
        'a task name over the name limit',
        'scheduler_to_master',
        launch({ name: 'n'.repeat(MAX_NAME_LENGTH + 1) }),
        /task_infos\[0\]\.name/,
      ],
      [
        'more environment variables than the list limit',
        'scheduler_to_master',
        launch({
          command: {
            value: 'true',
            environment: {
              variables: Array.from({ length: MAX_LIST_ENTRIES + 1 }, (_, i) => ({ name: `V${i}`, value: '' })),
            },
          },
        }),
        /command\.environment\.variables/,
      ],
      [
        'more offer ids than the batch limit',
        'scheduler_to_master',
        {
          type: 'DECLINE',
          framework_id: 'fw-1',
          decline: { offer_ids: Array.from({ length: MAX_BATCH + 1 }, (_, i) => `o${i}`) },
        },
        /decline\.offer_ids/,
      ],
      [
        'more roles than the role limit',
        'scheduler_to_master',
        {
          type: 'REVIVE',
          framework_id: 'fw-1',
          revive: { roles: Array.from({ length: MAX_ROLES + 1 }, (_, i) => `r${i}`) },
        },
        /revive\.roles/,
      ],
      [
        'a status message over the text limit',
        'agent_to_master',
        statusWith({ message: 'm'.repeat(MAX_TEXT_LENGTH + 1) }),
        /status\.message/,
      ],
      ['a negative timestamp', 'agent_to_master', statusWith({ timestamp: -1 }), /status\.timestamp/],
      ['a timestamp past year 2286', 'agent_to_master', statusWith({ timestamp: 1e11 }), /status\.timestamp/],
      ['a fractional exit status', 'agent_to_master', statusWith({ exit_status: 1.5 }), /status\.exit_status/],
      ['an unknown task state', 'agent_to_master', statusWith({ state: 'TASK_BORED' }), /status\.state/],
      [
        'a port above 65535',
        'agent_to_master',
        { ...agentMessages.REGISTER, agent: { ...agentMessages.REGISTER.agent, port: 70_000 } },
        /agent\.port/,
      ],
      ['a negative PONG seq', 'agent_to_master', { type: 'PONG', seq: -1 }, /message\.seq/],
      [
        'a failover_timeout of 1e300 seconds',
        'scheduler_to_master',
        { type: 'SUBSCRIBE', subscribe: { framework_info: { ...frameworkInfo, failover_timeout: 1e300 } } },
        /failover_timeout/,
      ],
      [
        'refuse_seconds of -1',
        'scheduler_to_master',
        { type: 'DECLINE', framework_id: 'fw-1', decline: { offer_ids: [], filters: { refuse_seconds: -1 } } },
        /filters\.refuse_seconds/,
      ],
      [
        'an attribute value over the name limit',
        'agent_to_master',
        {
          ...agentMessages.REGISTER,
          agent: { ...agentMessages.REGISTER.agent, attributes: { rack: 'r'.repeat(MAX_NAME_LENGTH + 1) } },
        },
        /agent\.attributes/,
      ],
      [
        'an attribute key over the name limit',
        'agent_to_master',
        {
          ...agentMessages.REGISTER,
          agent: { ...agentMessages.REGISTER.agent, attributes: { ['k'.repeat(MAX_NAME_LENGTH + 1)]: 'v' } },
        },
        /agent\.attributes\["k+"…\]/,
      ],
      [
        'an unknown field',
        'agent_to_master',
        { type: 'PONG', seq: 1, extra: 'x'.repeat(1000) },
        /message\.extra: is not a known field/,
      ],
      [
        'an unknown nested field',
        'scheduler_to_master',
        { type: 'KILL', framework_id: 'fw-1', kill: { task_id: 't', agent_id: 'a', please: true } },
        /kill\.please: is not a known field/,
      ],
      [
        'one name given as SCALAR and RANGES',
        'agent_to_master',
        {
          ...agentMessages.REGISTER,
          agent: {
            ...agentMessages.REGISTER.agent,
            resources: [
              { name: 'cpus', type: 'SCALAR', scalar: { value: 1 } },
              { name: 'cpus', type: 'RANGES', ranges: { range: [] } },
            ] as Resource[],
          },
        },
        /agent\.resources: \[1\]: resource 'cpus' is given as both SCALAR and RANGES/,
      ],
      [
        'a SCALAR without its value',
        'agent_to_master',
        {
          ...agentMessages.REGISTER,
          agent: { ...agentMessages.REGISTER.agent, resources: [{ name: 'cpus', type: 'SCALAR' }] },
        },
        /agent\.resources: \[0\]: scalar resource 'cpus'/,
      ],
    ];
    for (const [name, direction, value, path] of cases) {
      it(`refuses ${name}, naming the path`, () => {
        const e = refusal(direction, value);
        expect(e.code).to.equal('AGORA_PROTOCOL_INVALID_MESSAGE');
        expect(e.statusCode).to.equal(400);
        expect(e.message).to.match(path);
      });
    }
  });

  it('treats a nil field from another encoder as absent', () => {
    const frame = foreign.pack({ type: 'KILL', framework_id: 'fw-1', kill: { task_id: 't-1', agent_id: null } });
    expect(decode('scheduler_to_master', frame)).to.deep.equal({
      type: 'KILL',
      framework_id: 'fw-1',
      kill: { task_id: 't-1' },
    });
  });

  it('round-trips any valid message unchanged (encode → decode → validate)', () => {
    const id = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,40}$/);
    const role = fc.oneof(fc.constant('*'), fc.stringMatching(/^[a-z][a-z0-9_.]{0,10}(\/[a-z][a-z0-9_]{0,10}){0,2}$/));
    const resource: fc.Arbitrary<Resource> = fc.oneof(
      fc.record(
        {
          name: fc.constantFrom('cpus', 'mem', 'disk', 'gpus'),
          type: fc.constant('SCALAR' as const),
          scalar: fc.record({ value: fc.double({ min: 0, max: 1e12, noNaN: true }) }),
          role: role,
        },
        { requiredKeys: ['name', 'type', 'scalar'] },
      ),
      fc.record({
        name: fc.constant('ports'),
        type: fc.constant('RANGES' as const),
        ranges: fc.record({
          range: fc.array(
            fc
              .tuple(fc.integer({ min: 0, max: 65_535 }), fc.integer({ min: 0, max: 65_535 }))
              .map(([a, b]) => ({ begin: Math.min(a, b), end: Math.max(a, b) })),
            { maxLength: 5 },
          ),
        }),
      }),
    );
    const statusUpdate = fc.record({
      type: fc.constant('STATUS_UPDATE' as const),
      update: fc.record({
        framework_id: id,
        status: fc.record(
          {
            task_id: id,
            state: fc.constantFrom(...Object.values(TaskState)),
            message: fc.string({ maxLength: 200 }),
            healthy: fc.boolean(),
            timestamp: fc.double({ min: 0, max: 1e10, noNaN: true }),
            exit_status: fc.integer({ min: -255, max: 65_535 }),
          },
          { requiredKeys: ['task_id', 'state', 'timestamp'] },
        ),
      }),
    });
    const register = fc.record({
      type: fc.constant('REGISTER' as const),
      agent: fc.record({
        hostname: fc.string({ maxLength: 60 }),
        port: fc.integer({ min: 0, max: 65_535 }),
        // One entry per name, so that no name appears with two types.
        resources: fc.uniqueArray(resource, { selector: (r) => `${r.name}/${r.role ?? '*'}`, maxLength: 6 }),
        // `__proto__` (and msgpackr's rename `__proto_`) are refused keys: the next test.
        attributes: fc.dictionary(
          fc.string({ maxLength: 20 }).filter((k) => k !== '__proto__' && k !== '__proto_'),
          fc.string({ maxLength: 20 }),
          { maxKeys: 5 },
        ),
      }),
      version: fc.string({ maxLength: 20 }),
    });
    fc.assert(
      fc.property(fc.oneof(statusUpdate, register), (message) => {
        const m = message as AgentMessage;
        expect(validateMessage('agent_to_master', m)).to.equal(m);
        expect(decode('agent_to_master', encode(m))).to.deep.equal(m);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses an attribute named __proto__ (or __proto_) at validation, as the codec refuses it on the wire', () => {
    for (const key of ['__proto__', '__proto_']) {
      const m = JSON.parse(
        `{"type":"REGISTER","agent":{"hostname":"h","port":1,"resources":[],"attributes":{"${key}":"x"}},"version":"v"}`,
      );
      expect(() => validateMessage('agent_to_master', m))
        .to.throw(/attributes/)
        .with.property('code', 'AGORA_PROTOCOL_INVALID_MESSAGE');
    }
    const ok = {
      type: 'REGISTER',
      agent: { hostname: 'h', port: 1, resources: [], attributes: { __proto: 'y' } },
      version: 'v',
    };
    expect(validateMessage('agent_to_master', ok as AgentMessage)).to.equal(ok);
  });

  it('fails junk only with the catalogue codes (random values, and valid messages with one field replaced)', () => {
    const allowed = new Set([
      'AGORA_CODEC_MALFORMED',
      'AGORA_CODEC_TOO_MANY_ELEMENTS',
      'AGORA_CODEC_TOO_DEEP',
      'AGORA_PROTOCOL_INVALID_MESSAGE',
      'AGORA_PROTOCOL_UNKNOWN_TYPE',
    ]);
    const directions = Object.keys(fixtures) as Direction[];
    const examples = directions.flatMap((d) => Object.values(fixtures[d]).map((m) => [d, m] as const));
    /** Replaces the value at a random path of `value` by `junk`. */
    const mutate = (value: unknown, pick: number[], junk: unknown): unknown => {
      if (pick.length === 0 || value === null || typeof value !== 'object') return junk;
      const keys = Object.keys(value);
      if (keys.length === 0) return junk;
      const k = keys[pick[0] % keys.length];
      const copy: Record<string, unknown> = Array.isArray(value) ? ([...value] as never) : { ...value };
      copy[k] = mutate((value as Record<string, unknown>)[k], pick.slice(1), junk);
      return copy;
    };
    const junk = fc.oneof(
      fc.jsonValue({ maxDepth: 4 }),
      fc.constantFrom('', '..', 'a/b', -1, 1e306, 2 ** 53, [], {}, null),
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: examples.length - 1 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        junk,
        fc.boolean(),
        (i, pick, j, whole) => {
          const [direction, message] = examples[i];
          const value = whole ? j : mutate(message, pick, j);
          try {
            decode(direction, foreign.pack(value));
          } catch (e) {
            expect(e).to.be.instanceOf(CodecError);
            expect(allowed).to.include((e as CodecError).code);
          }
        },
      ),
      { numRuns: 2_000 },
    );
  });
});
