/**
 * The hand-written OFFERS encoder (sdk/codec/offers.ts) against the generic one (msgpackr): for any
 * OFFERS message the decoder reads the same message from both, any MessagePack reader reads the
 * same value, shared resource lists and attributes are encoded once, and anything but plain data
 * falls back to the generic encoder.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { offerEncodedBound } from '../../../master/state/offers.js';
import {
  decode,
  encode,
  encodeGeneric,
  encodeOffers,
  encodePlain,
  offersEncoderStats,
  resetOffersEncoder,
} from '../../../sdk/codec/index.js';
import type { AnyMessage, SchedulerEvent } from '../../../sdk/protocol/messages.js';
import type { Offer } from '../../../sdk/protocol/types.js';
import { isValidRoleName } from '../../../sdk/resources/roles.js';
import type { Resource } from '../../../sdk/resources/schema.js';
import { isValidId } from '../../../sdk/util/id.js';

/** Another reader with default settings: what a peer's MessagePack library sees. */
const reader = new Packr({ useRecords: false });
const DIR = 'master_to_scheduler';

const id = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }).filter(isValidId);
const role = fc.oneof(
  fc.constant('*'),
  fc.stringMatching(/^[a-z][a-z0-9_]{0,10}(\/[a-z][a-z0-9]{0,5})?$/),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }).filter(isValidRoleName),
);
const scalarValue = fc.oneof(
  fc.integer({ min: 0, max: 127 }),
  fc.integer({ min: 0, max: 2 ** 32 + 10 }),
  fc.integer({ min: 0, max: 1e9 }).map((n) => n / 1000),
  fc.double({ min: 0, max: 1e15, noNaN: true }),
  fc.constantFrom(0, 0.001, 255, 256, 65_535, 65_536, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 1e15),
);
const ranges = (max: number) =>
  fc.array(
    fc.tuple(fc.integer({ min: 0, max }), fc.integer({ min: 0, max })).map(([a, b]) => ({
      begin: Math.min(a, b),
      end: Math.max(a, b),
    })),
    { maxLength: 20 },
  );
// Names differ by type, so no list gives one name and role two types (which the decoder refuses).
const resource: fc.Arbitrary<Resource> = fc.oneof(
  fc.record(
    {
      name: fc.constantFrom('cpus', 'mem', 'disk', 'gpus', 'x_1.y'),
      type: fc.constant('SCALAR' as const),
      scalar: fc.record({ value: scalarValue }),
      role: fc.option(role, { nil: undefined }),
    },
    { requiredKeys: ['name', 'type', 'scalar'] },
  ),
  fc.oneof(
    fc.record(
      {
        name: fc.constant('ports'),
        type: fc.constant('RANGES' as const),
        ranges: fc.record({ range: ranges(65_535) }),
        role: fc.option(role, { nil: undefined }),
      },
      { requiredKeys: ['name', 'type', 'ranges'] },
    ),
    fc.record(
      {
        name: fc.constant('vlans'),
        type: fc.constant('RANGES' as const),
        ranges: fc.record({ range: ranges(0xffff_ffff) }),
        role: fc.option(role, { nil: undefined }),
      },
      { requiredKeys: ['name', 'type', 'ranges'] },
    ),
  ),
  fc.record(
    {
      name: fc.constantFrom('zones', 'disks'),
      type: fc.constant('SET' as const),
      set: fc.record({ item: fc.array(fc.string({ unit: 'grapheme', maxLength: 60 }), { maxLength: 20 }) }),
      role: fc.option(role, { nil: undefined }),
    },
    { requiredKeys: ['name', 'type', 'set'] },
  ),
);
const attributes = fc.dictionary(
  fc.string({ unit: 'grapheme', maxLength: 30 }).filter((k) => k !== '__proto__' && k !== '__proto_'),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  { maxKeys: 20 },
);

/** An OFFERS message whose offers share lists and attribute maps drawn from small pools (as booking shares them). */
const offersMessage = fc
  .record({
    lists: fc.array(fc.array(resource, { maxLength: 8 }), { minLength: 1, maxLength: 4 }),
    attrs: fc.array(attributes, { minLength: 1, maxLength: 4 }),
    offers: fc.array(
      fc.record({
        id,
        framework_id: id,
        agent_id: id,
        hostname: fc.string({ unit: 'grapheme', maxLength: 300 }),
        list: fc.nat(),
        attr: fc.nat(),
        allocation_role: role,
      }),
      { maxLength: 40 },
    ),
  })
  .map(
    ({ lists, attrs, offers }) =>
      ({
        type: 'OFFERS',
        offers: {
          offers: offers.map(
            ({ list, attr, ...o }): Offer => ({
              ...o,
              resources: lists[list % lists.length],
              attributes: attrs[attr % attrs.length],
            }),
          ),
        },
      }) as SchedulerEvent,
  );

function fast(m: unknown): Buffer {
  const frame = encodeOffers(m as object);
  if (frame === undefined) expect.fail('the OFFERS encoder refused plain data');
  return frame;
}

describe('OFFERS encoder (sdk/codec/offers.ts)', () => {
  beforeEach(() => resetOffersEncoder());

  it('decodes to the same message as the generic encoder, for any OFFERS message', () => {
    fc.assert(
      fc.property(offersMessage, (m) => {
        const frame = fast(m);
        const generic = encodeGeneric(m as AnyMessage);
        expect(decode(DIR, frame)).to.deep.equal(decode(DIR, generic));
        expect(reader.unpack(frame)).to.deep.equal(reader.unpack(generic));
        // encode() routes OFFERS here.
        expect(encode(m as AnyMessage).equals(frame)).to.equal(true);
      }),
      { numRuns: 300 },
    );
  });

  it("stays under the bound booking sums to split batches under the frame limit (64 + 5 + each offer's)", () => {
    fc.assert(
      fc.property(offersMessage, (m) => {
        const offers = (m as Extract<SchedulerEvent, { type: 'OFFERS' }>).offers.offers;
        let bound = 64 + 5;
        for (const o of offers) bound += offerEncodedBound(o);
        expect(fast(m).byteLength).to.be.at.most(bound);
      }),
      { numRuns: 300 },
    );
  });

  it('writes any plain value in an offer as the generic encoder does (undefined fields left out, nil in arrays)', () => {
    const value = fc.anything({
      maxDepth: 4,
      withBoxedValues: false,
      withMap: false,
      withSet: false,
      withObjectString: false,
      withNullPrototype: true,
      withBigInt: false,
      withDate: false,
      withTypedArray: false,
      withSparseArray: false,
    });
    fc.assert(
      fc.property(
        fc.array(fc.dictionary(fc.string(), value, { maxKeys: 20 }), { maxLength: 5 }),
        value,
        (offers, extra) => {
          const m = { type: 'OFFERS', offers: { offers, extra }, skipped: undefined, n: extra };
          expect(reader.unpack(fast(m))).to.deep.equal(reader.unpack(encodeGeneric(m as unknown as AnyMessage)));
        },
      ),
      { numRuns: 300 },
    );
    // Every header size: long strings (str8/16/32), maps and arrays past 15 and 65,535 entries, numbers at each width.
    const big: Record<string, unknown> = {};
    for (let i = 0; i < 70_000; i++) big[`k${i}`] = i % 3 === 0 ? undefined : i;
    const numbers = [0, 1, 127, 128, 255, 256, 65_535, 65_536, 2 ** 32 - 1, 2 ** 32, 2 ** 53, -1, -32, -33, -128, -129];
    numbers.push(
      -32_768,
      -32_769,
      -(2 ** 31),
      -(2 ** 31) - 1,
      0.5,
      -0.5,
      -0,
      1e300,
      Number.NaN,
      Number.POSITIVE_INFINITY,
    );
    const edge = {
      type: 'OFFERS',
      offers: {
        offers: [
          {
            a: 'é'.repeat(20),
            b: 'x'.repeat(31),
            c: 'x'.repeat(32),
            d: 'x'.repeat(255),
            e: 'x'.repeat(256),
            f: '€'.repeat(30_000),
            g: 'y'.repeat(70_000),
            h: '😀 a 😀',
            numbers,
            big,
            list: new Array(70_000).fill(1),
            arr: [undefined, null, true, false],
          },
        ],
      },
    };
    expect(reader.unpack(fast(edge))).to.deep.equal(reader.unpack(encodeGeneric(edge as unknown as AnyMessage)));
  });

  it('writes the same bytes as the plain encoder, keys copied from kept bytes (offers of 0 to 70,000 fields, 40 distinct keys)', () => {
    // The offer path keeps each key's bytes and reserves the map header before counting the
    // fields: its frames must be byte for byte those of encodePlain, which writes every key and
    // counts first, including past the kept keys' bound (32) and for map16 and map32 headers.
    const field = fc.constantFrom(...Array.from({ length: 40 }, (_, i) => `key${i}`), 'id', 'hostname', 'é');
    const value = fc.oneof(
      fc.string(),
      fc.integer(),
      fc.constant(undefined),
      fc.array(fc.nat(), { maxLength: 3 }),
      fc.constant({}),
    );
    fc.assert(
      fc.property(fc.array(fc.dictionary(field, value, { maxKeys: 30 }), { maxLength: 6 }), (offers) => {
        const m = { type: 'OFFERS', offers: { offers } };
        const plain = Buffer.from(encodePlain(m) as Buffer);
        expect(Buffer.from(fast(m)).equals(plain)).to.equal(true);
      }),
      { numRuns: 300 },
    );
    for (const n of [15, 16, 17, 65_535, 65_536, 70_000]) {
      const o: Record<string, number | undefined> = { skipped: undefined };
      for (let i = 0; i < n; i++) o[`f${i}`] = i;
      const m = { type: 'OFFERS', offers: { offers: [o, { id: 'O1' }] } };
      const plain = Buffer.from(encodePlain(m) as Buffer);
      expect(Buffer.from(fast(m)).equals(plain), `${n} fields`).to.equal(true);
    }
  });

  it('encodes each shared resource list and attribute map once, across messages too', () => {
    const list: Resource[] = [
      { name: 'cpus', type: 'SCALAR', scalar: { value: 24 } },
      { name: 'ports', type: 'RANGES', ranges: { range: [{ begin: 31_030, end: 32_000 }] } },
    ];
    const other: Resource[] = [{ name: 'mem', type: 'SCALAR', scalar: { value: 4096.5 } }];
    const attrs = { rack: 'r1', zone: 'z1' };
    const offer = (i: number, resources: Resource[]): Offer => ({
      id: `O${i}`,
      framework_id: 'f',
      agent_id: `a${i}`,
      hostname: `h${i}`,
      resources,
      attributes: attrs,
      allocation_role: '*',
    });
    const m1 = { type: 'OFFERS', offers: { offers: [0, 1, 2, 3].map((i) => offer(i, i === 3 ? other : list)) } };
    const m2 = { type: 'OFFERS', offers: { offers: [4, 5].map((i) => offer(i, list)) } };
    const f1 = Buffer.from(fast(m1));
    // Three distinct parts (two lists, one attribute map), each encoded once; the other five spliced.
    expect(offersEncoderStats).to.deep.equal({ partsEncoded: 3, partsSpliced: 5 });
    fast(m2);
    expect(offersEncoderStats).to.deep.equal({ partsEncoded: 3, partsSpliced: 9 });
    expect(decode(DIR, f1)).to.deep.equal(decode(DIR, encodeGeneric(m1 as AnyMessage)));
  });

  it('falls back to the generic encoder for anything but plain data', () => {
    const m = {
      type: 'OFFERS',
      offers: { offers: [{ id: 'O1', when: new Date(0), n: 1n }] },
    } as unknown as AnyMessage;
    expect(encodeOffers(m)).to.equal(undefined);
    expect(encode(m).equals(encodeGeneric(m))).to.equal(true);
  });

  it('never overwrites a frame it returned, past the end of its buffer', () => {
    const m = (n: number, tag: string) => ({
      type: 'OFFERS',
      offers: { offers: Array.from({ length: n }, (_, i) => ({ id: `${tag}${i}`, hostname: 'h'.repeat(200) })) },
    });
    const frames: [Buffer, Buffer][] = [];
    for (let k = 0; k < 30; k++) {
      const msg = m(k % 7 === 0 ? 8_000 : 100, `m${k}-`) as unknown as AnyMessage;
      frames.push([fast(msg), encodeGeneric(msg)]);
    }
    for (const [frame, generic] of frames) expect(reader.unpack(frame)).to.deep.equal(reader.unpack(generic));
  });
});

describe('the hand-written encoder for every other message (sdk/codec/offers.ts encodePlain)', () => {
  it('writes any plain message as the generic encoder does, and encode() routes messages through it', () => {
    const value = fc.anything({
      maxDepth: 4,
      withBoxedValues: false,
      withMap: false,
      withSet: false,
      withObjectString: false,
      withNullPrototype: true,
      withBigInt: false,
      withDate: false,
      withTypedArray: false,
      withSparseArray: false,
    });
    fc.assert(
      fc.property(fc.dictionary(fc.string(), value, { maxKeys: 20 }), (body) => {
        const m = { ...body, type: 'UPDATE' } as unknown as AnyMessage;
        const plain = encodePlain(m);
        if (plain === undefined) expect.fail('refused plain data');
        expect(reader.unpack(plain)).to.deep.equal(reader.unpack(encodeGeneric(m)));
        expect(encode(m).equals(plain)).to.equal(true);
      }),
      { numRuns: 300 },
    );
    const update = {
      type: 'UPDATE',
      update: { status: { task_id: 't1', state: 'TASK_RUNNING', timestamp: 1796000000.123, reason: undefined } },
    } as unknown as AnyMessage;
    expect(decode(DIR, encode(update))).to.deep.equal(decode(DIR, encodeGeneric(update)));
  });

  it('falls back to the generic encoder for anything but plain data', () => {
    const m = { type: 'UPDATE', update: { when: new Date(0), bytes: Buffer.from('x') } } as unknown as AnyMessage;
    expect(encodePlain(m)).to.equal(undefined);
    expect(encode(m).equals(encodeGeneric(m))).to.equal(true);
  });
});
