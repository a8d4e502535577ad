/**
 * Mesos's RecordIO framing (docs/recordio.md in Mesos): each record is its length in bytes, in
 * decimal, a newline, then the record. The operator stream's records are JSON events. Encoded
 * once per event and shared by every subscriber. (sdk/mesos may hold the same encoder for the
 * scheduler API; this one is the operator stream's until the two are merged.)
 */

/** One record: `<byte length>\n<text>`. */
export function recordIo(text: string): Buffer {
  const body = Buffer.from(text, 'utf8');
  return Buffer.concat([Buffer.from(`${body.length}\n`, 'ascii'), body]);
}

/** One JSON event as a record. */
export function recordIoJson(value: unknown): Buffer {
  return recordIo(JSON.stringify(value));
}

/** Splits a RecordIO byte stream back into records; keeps a partial record for the next chunk. */
export class RecordIoDecoder {
  private buf: Buffer = Buffer.alloc(0);

  constructor(private readonly maxRecordBytes = 64 * 1024 * 1024) {}

  /** The complete records in `chunk` (with what came before); throws on a malformed length. */
  push(chunk: Buffer): string[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: string[] = [];
    for (;;) {
      const nl = this.buf.indexOf(10);
      if (nl < 0) {
        if (this.buf.length > 20) throw new Error('RecordIO: a length longer than 20 digits');
        return out;
      }
      const header = this.buf.subarray(0, nl).toString('ascii');
      if (!/^\d{1,20}$/.test(header)) throw new Error(`RecordIO: bad length ${JSON.stringify(header.slice(0, 24))}`);
      const n = Number(header);
      if (n > this.maxRecordBytes) throw new Error(`RecordIO: a record of ${n} bytes is over the limit`);
      if (this.buf.length < nl + 1 + n) return out;
      out.push(this.buf.subarray(nl + 1, nl + 1 + n).toString('utf8'));
      this.buf = this.buf.subarray(nl + 1 + n);
    }
  }
}
