/**
 * The codec's value and depth caps (sdk/codec/scan.ts): frames that are legal in size but costly to
 * decode are refused before decoding, and the scan agrees with the decoded value on what it counts.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { Packr, unpack } from 'msgpackr';
import {
  CodecError,
  DEFAULT_MAX_FRAME_BYTES,
  DEFAULT_SCAN_LIMITS,
  decode,
  encode,
  MAX_CONTAINERS,
  MAX_DEPTH,
  MAX_ELEMENTS,
  scanFrame,
} from '../../../sdk/codec/index.js';
import type { AnyMessage, Direction } from '../../../sdk/protocol/messages.js';
import { fixtures } from './fixtures.js';

const foreign = new Packr({ useRecords: false, variableMapSize: true });

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).to.be.instanceOf(CodecError);
    return (e as CodecError).code;
  }
  expect.fail('expected a CodecError');
}

/** A MessagePack array32 header announcing `n` items, followed by `fill` repeated `n` times. */
function array32(n: number, fill: number[]): Buffer {
  const b = Buffer.alloc(5 + n * fill.length);
  b[0] = 0xdd;
  b.writeUInt32BE(n, 1);
  for (let i = 0; i < n; i++) b.set(fill, 5 + i * fill.length);
  return b;
}

/** `{type: 'HEARTBEAT', x: <payload>}` as raw bytes: 5 values before the payload's own. */
function heartbeatWith(payload: Buffer): Buffer {
  return Buffer.concat([
    Buffer.from([0x82]),
    foreign.pack('type'),
    foreign.pack('HEARTBEAT'),
    foreign.pack('x'),
    payload,
  ]);
}

/** Values, maps-and-arrays, and nesting levels of a decoded value, counted the way the scan counts. */
function shape(v: unknown): { elements: number; containers: number; depth: number } {
  if (v === null || typeof v !== 'object') return { elements: 1, containers: 0, depth: 0 };
  const children = Array.isArray(v) ? v : Object.values(v);
  let elements = 1 + (Array.isArray(v) ? 0 : children.length);
  let containers = 1;
  let depth = 0;
  for (const c of children) {
    const s = shape(c);
    elements += s.elements;
    containers += s.containers;
    depth = Math.max(depth, s.depth);
  }
  return { elements, containers, depth: depth + 1 };
}

describe('codec caps (values, maps and arrays, depth)', () => {
  it('refuses a legal-size frame of four million empty maps before decoding it', () => {
    const n = DEFAULT_MAX_FRAME_BYTES - 5;
    const frame = array32(n, [0x80]);
    expect(frame.byteLength).to.equal(DEFAULT_MAX_FRAME_BYTES);
    const t0 = performance.now();
    const code = codeOf(() => decode('agent_to_master', frame));
    const capped = performance.now() - t0;
    expect(code).to.equal('AGORA_CODEC_TOO_MANY_ELEMENTS');
    // For the record only (no threshold): what decoding the same frame without the cap costs.
    const t1 = performance.now();
    const all = unpack(frame) as unknown[];
    const uncapped = performance.now() - t1;
    expect(all).to.have.length(n);
    console.log(
      `      ${n.toLocaleString('en-US')} empty maps: refused in ${capped.toFixed(2)} ms; msgpackr alone decodes them in ${uncapped.toFixed(0)} ms`,
    );
  });

  it('refuses a container that announces more values than the cap, without reading them', () => {
    // A map32 header claiming 2^31 entries, then nothing: refused for the claim, not as truncated.
    const frame = Buffer.from([0xdf, 0x80, 0x00, 0x00, 0x00]);
    expect(codeOf(() => decode('scheduler_to_master', frame))).to.equal('AGORA_CODEC_TOO_MANY_ELEMENTS');
  });

  it('accepts exactly MAX_ELEMENTS values and refuses one more', () => {
    const atCap = heartbeatWith(array32(MAX_ELEMENTS - 5, [0x01]));
    expect(scanFrame(atCap)).to.equal(undefined);
    // Past the scan, the frame is refused for what it is: HEARTBEAT has no field x.
    expect(codeOf(() => decode('master_to_scheduler', atCap))).to.equal('AGORA_PROTOCOL_INVALID_MESSAGE');
    const over = heartbeatWith(array32(MAX_ELEMENTS - 4, [0x01]));
    expect(codeOf(() => decode('master_to_scheduler', over))).to.equal('AGORA_CODEC_TOO_MANY_ELEMENTS');
  });

  it('accepts exactly MAX_CONTAINERS maps and arrays and refuses one more', () => {
    // The root map and the array are two; the rest are empty maps.
    const atCap = heartbeatWith(array32(MAX_CONTAINERS - 2, [0x80]));
    expect(scanFrame(atCap)).to.equal(undefined);
    const over = heartbeatWith(array32(MAX_CONTAINERS - 1, [0x80]));
    expect(codeOf(() => decode('master_to_scheduler', over))).to.equal('AGORA_CODEC_TOO_MANY_ELEMENTS');
  });

  it('accepts MAX_DEPTH levels and refuses one more, empty innermost containers included', () => {
    const nested = (levels: number): unknown => (levels === 0 ? 1 : [nested(levels - 1)]);
    // The root map is level 1, so x may hold MAX_DEPTH - 1 levels.
    expect(scanFrame(heartbeatWith(foreign.pack(nested(MAX_DEPTH - 1))))).to.equal(undefined);
    const deeper = heartbeatWith(foreign.pack(nested(MAX_DEPTH)));
    expect(codeOf(() => decode('master_to_scheduler', deeper))).to.equal('AGORA_CODEC_TOO_DEEP');
    const emptyInside = Buffer.concat([Buffer.alloc(MAX_DEPTH - 1, 0x91), Buffer.from([0x90])]);
    expect(codeOf(() => decode('master_to_scheduler', heartbeatWith(emptyInside)))).to.equal('AGORA_CODEC_TOO_DEEP');
  });

  it('leaves the decoded value of every valid fixture unchanged', () => {
    for (const [direction, byType] of Object.entries(fixtures) as [Direction, Record<string, AnyMessage>][]) {
      for (const message of Object.values(byType)) {
        const frame = encode(message);
        expect(scanFrame(frame), message.type).to.equal(undefined);
        expect(decode(direction, frame)).to.deep.equal(unpack(frame));
      }
    }
  });

  it('fails damaged frames only with catalogue codes (random bytes written over valid frames)', () => {
    const allowed = new Set([
      'AGORA_CODEC_MALFORMED',
      'AGORA_CODEC_TOO_MANY_ELEMENTS',
      'AGORA_CODEC_TOO_DEEP',
      'AGORA_PROTOCOL_INVALID_MESSAGE',
      'AGORA_PROTOCOL_UNKNOWN_TYPE',
    ]);
    const frames = (Object.entries(fixtures) as [Direction, Record<string, AnyMessage>][]).flatMap(([d, byType]) =>
      Object.values(byType).map((m) => [d, encode(m)] as const),
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: frames.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }),
        (i, edits) => {
          const [direction, original] = frames[i];
          const frame = Buffer.from(original);
          for (const [at, byte] of edits) frame[at % frame.length] = byte;
          try {
            decode(direction, frame);
          } catch (e) {
            expect(e).to.be.instanceOf(CodecError);
            expect(allowed).to.include((e as CodecError).code);
          }
        },
      ),
      { numRuns: 3_000 },
    );
  });

  it('counts values, maps and arrays, and depth as the decoded value has them (any JSON value)', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (value) => {
        const frame = foreign.pack(value);
        const s = shape(unpack(frame));
        const limits = (over: Partial<typeof DEFAULT_SCAN_LIMITS>) => ({ ...DEFAULT_SCAN_LIMITS, ...over });
        expect(scanFrame(frame, limits({ maxElements: s.elements }))).to.equal(undefined);
        expect(scanFrame(frame, limits({ maxElements: s.elements - 1 }))?.kind).to.equal('elements');
        expect(scanFrame(frame, limits({ maxContainers: s.containers }))).to.equal(undefined);
        if (s.containers > 0) {
          expect(scanFrame(frame, limits({ maxContainers: s.containers - 1 }))?.kind).to.equal('elements');
        }
        expect(scanFrame(frame, limits({ maxDepth: s.depth }))).to.equal(undefined);
        if (s.depth > 0) expect(scanFrame(frame, limits({ maxDepth: s.depth - 1 }))?.kind).to.equal('depth');
      }),
      { numRuns: 300 },
    );
  });
});
