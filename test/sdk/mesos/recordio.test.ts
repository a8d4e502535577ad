/** Mesos's RecordIO: the documented example, any chunking, bounds, and malformed streams. */
import { expect } from 'chai';
import fc from 'fast-check';
import { decodeRecords, encodeJsonRecord, encodeRecord, RecordIoDecoder } from '../../../sdk/mesos/recordio.js';

describe('sdk/mesos RecordIO', () => {
  it('reads the stream of Mesos docs/recordio.md', () => {
    const a =
      '{"type": "SUBSCRIBED","subscribed": {"framework_id": {"value":"12220-3440-12532-2345"},"heartbeat_interval_seconds":15.0}';
    const b = '{"type":"HEARTBEAT"}';
    const stream = Buffer.from(`${Buffer.byteLength(a)}\n${a}20\n${b}`);
    const out = decodeRecords(stream).map((r) => r.toString());
    expect(out).to.deep.equal([a, b]);
    expect(encodeRecord(b).toString()).to.equal(`20\n${b}`);
  });

  it('counts bytes, not characters', () => {
    const rec = encodeJsonRecord({ message: 'héllo ✓' });
    const n = Number(rec.toString().split('\n')[0]);
    expect(n).to.equal(Buffer.byteLength(JSON.stringify({ message: 'héllo ✓' })));
  });

  it('round-trips any records under any chunking', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 20 }),
        fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 30 }),
        (records, cuts) => {
          const stream = Buffer.concat(records.map((r) => encodeRecord(r)));
          const d = new RecordIoDecoder({ maxRecordBytes: 1000 });
          const out: Buffer[] = [];
          let at = 0;
          for (let i = 0; at < stream.length; i++) {
            const n = cuts[i % cuts.length];
            out.push(...d.push(stream.subarray(at, at + n)));
            at += n;
          }
          d.end();
          expect(out.map((b) => [...b])).to.deep.equal(records.map((r) => [...r]));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('refuses a record over the bound before buffering it, even with a huge length', () => {
    const d = new RecordIoDecoder({ maxRecordBytes: 10 });
    expect(() => d.push(Buffer.from('11\n')))
      .to.throw()
      .with.property('code', 'AGORA_MESOS_RECORDIO_TOO_LARGE');
    // Refused once its digits exceed the bound, without waiting for the line feed.
    const e = new RecordIoDecoder({ maxRecordBytes: 10 });
    expect(() => e.push(Buffer.from('99999999999999999999999999')))
      .to.throw()
      .with.property('code', 'AGORA_MESOS_RECORDIO_TOO_LARGE');
    // After an error the decoder stays failed.
    expect(() => d.push(Buffer.from('1\na'))).to.throw();
  });

  it('refuses a length that is not digits, and a stream cut inside a record', () => {
    expect(() => decodeRecords(Buffer.from('1a\nx')))
      .to.throw()
      .with.property('code', 'AGORA_MESOS_RECORDIO_MALFORMED');
    expect(() => decodeRecords(Buffer.from('-1\n')))
      .to.throw()
      .with.property('code', 'AGORA_MESOS_RECORDIO_MALFORMED');
    expect(() => decodeRecords(Buffer.from('5\nabc')))
      .to.throw()
      .with.property('code', 'AGORA_MESOS_RECORDIO_MALFORMED');
    expect(() => decodeRecords(Buffer.from('12')))
      .to.throw()
      .with.property('code', 'AGORA_MESOS_RECORDIO_MALFORMED');
  });

  it('reads an empty record and skips blank lines between records', () => {
    expect(decodeRecords(Buffer.from('0\n\n\n2\nab')).map((b) => b.toString())).to.deep.equal(['', 'ab']);
  });
});
