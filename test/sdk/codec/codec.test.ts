import { expect } from 'chai';
import { Packr, unpack } from 'msgpackr';
import { CodecError, DEFAULT_MAX_FRAME_BYTES, decode, encode } from '../../../sdk/codec/index.js';
import type { AnyMessage, Direction } from '../../../sdk/protocol/messages.js';
import { seededRng } from '../../../sdk/util/random.js';
import { fixtures, masterToAgentMessages, offer, schedulerCalls, taskInfo } from './fixtures.js';

/** A second, independent encoder: what another MessagePack library would send us. */
const foreign = new Packr({ useRecords: false, variableMapSize: true });
const raw = (value: unknown): Buffer => foreign.pack(value);

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).to.be.instanceOf(CodecError);
    return (e as CodecError).code;
  }
  expect.fail('expected a CodecError');
}

function randomBytes(n: number, seed: number): Buffer {
  const rng = seededRng(seed);
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(rng.next() * 256);
  return b;
}

describe('codec', () => {
  describe('round trips every message type of every direction', () => {
    for (const [direction, byType] of Object.entries(fixtures) as [Direction, Record<string, AnyMessage>][]) {
      for (const [type, message] of Object.entries(byType)) {
        it(`${direction} ${type}`, () => {
          expect(message.type).to.equal(type);
          const frame = encode(message);
          expect(Buffer.isBuffer(frame)).to.equal(true);
          expect(frame.byteLength).to.be.below(DEFAULT_MAX_FRAME_BYTES);
          expect(decode(direction, frame)).to.deep.equal(message);
          // Plain MessagePack: a decoder with default settings reads the same value.
          expect(unpack(frame)).to.deep.equal(message);
        });
      }
    }
  });

  it('keeps Mesos-style task resources exactly (fractional scalars, port ranges)', () => {
    const task = taskInfo(7);
    const decoded = decode('master_to_agent', encode({ ...masterToAgentMessages.RUN_TASK, task }));
    expect(decoded.type === 'RUN_TASK' && decoded.task.resources).to.deep.equal([
      { name: 'cpus', type: 'SCALAR', scalar: { value: 0.5 } },
      { name: 'mem', type: 'SCALAR', scalar: { value: 256 } },
      { name: 'disk', type: 'SCALAR', scalar: { value: 1024 } },
      { name: 'ports', type: 'RANGES', ranges: { range: [{ begin: 31007, end: 31007 }] } },
    ]);
  });

  it('leaves out fields set to undefined, so what it encodes always decodes', () => {
    const withUndefined = {
      type: 'DECLINE',
      framework_id: 'fw-1',
      decline: { offer_ids: ['o-1'], filters: undefined },
      extra: undefined,
    } as unknown as AnyMessage;
    const frame = encode(withUndefined);
    expect(frame).to.deep.equal(encode({ type: 'DECLINE', framework_id: 'fw-1', decline: { offer_ids: ['o-1'] } }));
    const decoded = decode('scheduler_to_master', frame);
    expect(decoded).to.deep.equal({ type: 'DECLINE', framework_id: 'fw-1', decline: { offer_ids: ['o-1'] } });
    expect(Object.keys(decoded)).to.not.include('extra');
  });

  it('accepts frames from another MessagePack encoder', () => {
    const message = schedulerCalls.ACCEPT;
    expect(decode('scheduler_to_master', raw(message))).to.deep.equal(message);
  });

  it('accepts a frame of exactly the limit and refuses it when the limit is one byte lower', () => {
    const frame = encode(schedulerCalls.KILL);
    expect(decode('scheduler_to_master', frame, frame.byteLength)).to.deep.equal(schedulerCalls.KILL);
    expect(codeOf(() => decode('scheduler_to_master', frame, frame.byteLength - 1))).to.equal(
      'AGORA_CODEC_FRAME_TOO_LARGE',
    );
  });

  describe('refuses malformed frames with a stable code', () => {
    const valid = encode(schedulerCalls.ACCEPT);
    const acceptWith = (accept: Record<string, unknown>) =>
      raw({ type: 'ACCEPT', framework_id: 'fw-1', accept: { ...schedulerCalls.ACCEPT.accept, ...accept } });
    const deep = Buffer.alloc(100_000, 0x91); // [[[[...]]]] one hundred thousand levels deep
    deep[deep.length - 1] = 0xc0;
    const cases: { name: string; direction?: Direction; frame: Buffer; max?: number; code: string; says?: RegExp }[] = [
      { name: 'empty buffer', frame: Buffer.alloc(0), code: 'AGORA_CODEC_MALFORMED', says: /empty/ },
      { name: 'random bytes', frame: randomBytes(257, 7), code: 'AGORA_CODEC_MALFORMED' },
      { name: 'random bytes (other seed)', frame: randomBytes(64, 1234), code: 'AGORA_CODEC_MALFORMED' },
      {
        name: 'truncated msgpack',
        frame: valid.subarray(0, valid.length - 9),
        code: 'AGORA_CODEC_MALFORMED',
        says: /truncated/,
      },
      { name: 'a lone map header', frame: Buffer.from([0xde, 0x00, 0x05]), code: 'AGORA_CODEC_MALFORMED' },
      {
        name: 'a msgpack string instead of a map',
        frame: raw('ACCEPT'),
        code: 'AGORA_PROTOCOL_INVALID_MESSAGE',
        says: /expected an object/,
      },
      {
        name: 'a msgpack array instead of a map',
        frame: raw([schedulerCalls.KILL]),
        code: 'AGORA_PROTOCOL_INVALID_MESSAGE',
      },
      { name: 'nil', frame: Buffer.from([0xc0]), code: 'AGORA_PROTOCOL_INVALID_MESSAGE' },
      {
        name: 'a map without type',
        frame: raw({ framework_id: 'fw-1', kill: { task_id: 't-1' } }),
        code: 'AGORA_PROTOCOL_INVALID_MESSAGE',
        says: /message\.type/,
      },
      { name: 'a numeric type', frame: raw({ type: 7 }), code: 'AGORA_PROTOCOL_INVALID_MESSAGE' },
      { name: 'unknown type', frame: raw({ type: 'LAUNCH_EVERYTHING' }), code: 'AGORA_PROTOCOL_UNKNOWN_TYPE' },
      {
        name: 'a type of another direction',
        frame: encode({ type: 'PONG', seq: 1 }),
        code: 'AGORA_PROTOCOL_UNKNOWN_TYPE',
        says: /scheduler_to_master/,
      },
      {
        name: 'wrong field type: offer_ids a string',
        frame: acceptWith({ offer_ids: offer(0).id }),
        code: 'AGORA_PROTOCOL_INVALID_MESSAGE',
        says: /offer_ids: expected an array/,
      },
      {
        name: 'wrong field type: operations an object',
        frame: acceptWith({ operations: { type: 'LAUNCH' } }),
        code: 'AGORA_PROTOCOL_INVALID_MESSAGE',
      },
      {
        name: 'missing required field',
        frame: raw({ type: 'KILL', framework_id: 'fw-1', kill: {} }),
        code: 'AGORA_PROTOCOL_INVALID_MESSAGE',
        says: /kill\.task_id: is required/,
      },
      {
        name: 'negative scalar resource',
        frame: acceptWith({
          operations: [
            {
              type: 'LAUNCH',
              launch: {
                task_infos: [
                  { ...taskInfo(0), resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: -0.5 } }] },
                ],
              },
            },
          ],
        }),
        code: 'AGORA_PROTOCOL_INVALID_MESSAGE',
        says: /resources/,
      },
      {
        name: 'over-size frame (refused before parsing)',
        frame: randomBytes(DEFAULT_MAX_FRAME_BYTES + 1, 3),
        code: 'AGORA_CODEC_FRAME_TOO_LARGE',
        says: /exceeds the limit of 4194304/,
      },
      { name: 'over a custom limit', frame: valid, max: 100, code: 'AGORA_CODEC_FRAME_TOO_LARGE' },
      {
        name: 'two concatenated values',
        frame: Buffer.concat([encode(schedulerCalls.KILL), encode(schedulerCalls.KILL)]),
        code: 'AGORA_CODEC_MALFORMED',
        says: /trailing bytes/,
      },
      { name: 'trailing byte', frame: Buffer.concat([valid, Buffer.from([0x00])]), code: 'AGORA_CODEC_MALFORMED' },
      {
        name: 'a JSON text frame',
        frame: Buffer.from(JSON.stringify(schedulerCalls.KILL)),
        code: 'AGORA_CODEC_MALFORMED',
      },
      {
        name: 'a __proto__ key',
        frame: raw(JSON.parse('{"type":"TEARDOWN","framework_id":"fw-1","__proto__":{"polluted":true}}')),
        code: 'AGORA_CODEC_MALFORMED',
        says: /__proto__/,
      },
      {
        name: 'a nested __proto__ key',
        frame: raw(JSON.parse('{"type":"HEARTBEAT","x":[{"__proto__":{"polluted":true}}]}')),
        direction: 'master_to_scheduler',
        code: 'AGORA_CODEC_MALFORMED',
        says: /message\.x\[0\]/,
      },
      {
        name: 'a msgpack extension (timestamp)',
        frame: raw({ type: 'HEARTBEAT', at: new Date(0) }),
        direction: 'master_to_scheduler',
        code: 'AGORA_CODEC_MALFORMED',
        says: /Date/,
      },
      {
        name: 'the never-used 0xc1 byte',
        frame: Buffer.from([0xc1]),
        code: 'AGORA_CODEC_MALFORMED',
      },
      {
        // It decodes: a message with a bad value, refused by its schema (the connection may stay).
        name: 'a 64-bit integer beyond 2^53',
        frame: Buffer.concat([
          Buffer.from([0x82]),
          raw('type'),
          raw('PONG'),
          raw('seq'),
          Buffer.from('cf0020000000000001', 'hex'),
        ]),
        direction: 'agent_to_master',
        code: 'AGORA_PROTOCOL_INVALID_MESSAGE',
      },
      {
        name: 'NaN where a number is expected',
        frame: raw({ type: 'PONG', seq: Number.NaN }),
        direction: 'agent_to_master',
        code: 'AGORA_PROTOCOL_INVALID_MESSAGE',
        says: /seq/,
      },
      {
        name: 'a map used as a map key',
        frame: Buffer.concat([Buffer.from([0x81, 0x81]), raw('a'), raw(1), raw(2)]),
        code: 'AGORA_CODEC_MALFORMED',
      },
      { name: 'nesting 100,000 deep', frame: deep, code: 'AGORA_CODEC_TOO_DEEP' },
      {
        name: 'nesting just past the depth limit',
        frame: raw({ type: 'HEARTBEAT', x: JSON.parse(`${'['.repeat(40)}1${']'.repeat(40)}`) }),
        direction: 'master_to_scheduler',
        code: 'AGORA_CODEC_TOO_DEEP',
        says: /nested deeper/,
      },
    ];
    for (const c of cases) {
      it(`${c.name} → ${c.code}`, () => {
        const direction = c.direction ?? 'scheduler_to_master';
        let error: unknown;
        try {
          decode(direction, c.frame, c.max);
        } catch (e) {
          error = e;
        }
        expect(error, 'decode must throw').to.be.instanceOf(CodecError);
        const ce = error as CodecError;
        expect(ce.code).to.equal(c.code);
        expect(ce.name).to.equal('CodecError');
        expect(ce.message.length).to.be.greaterThan(0);
        if (c.says) expect(ce.message).to.match(c.says);
        if (process.env.SHOW_CODEC_ERRORS) console.log(`      ${ce.message.slice(0, 150)}`);
      });
    }
  });

  it('never lets a __proto__ key reach any prototype', () => {
    const frame = raw(JSON.parse('{"type":"TEARDOWN","framework_id":"fw-1","__proto__":{"polluted":true}}'));
    expect(() => decode('scheduler_to_master', frame)).to.throw(CodecError);
    expect(({} as Record<string, unknown>).polluted).to.equal(undefined);
    expect((Object.prototype as Record<string, unknown>).polluted).to.equal(undefined);
  });

  it('fails the same way for random frames of many sizes (no other exception escapes)', () => {
    const allowed = new Set([
      'AGORA_CODEC_MALFORMED',
      'AGORA_CODEC_TOO_MANY_ELEMENTS',
      'AGORA_CODEC_TOO_DEEP',
      'AGORA_PROTOCOL_INVALID_MESSAGE',
      'AGORA_PROTOCOL_UNKNOWN_TYPE',
    ]);
    for (let seed = 1; seed <= 500; seed++) {
      const frame = randomBytes(1 + (seed % 97), seed);
      expect(allowed).to.include(codeOf(() => decode('agent_to_master', frame)));
    }
    // Every cut of a real frame is refused too.
    const valid = encode(fixtures.agent_to_master.REREGISTER);
    for (let cut = 1; cut < valid.length; cut += 7) {
      expect(allowed).to.include(codeOf(() => decode('agent_to_master', valid.subarray(0, cut))));
    }
  });
});
