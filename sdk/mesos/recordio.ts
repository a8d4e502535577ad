/**
 * Mesos's RecordIO (docs/recordio.md in apache/mesos): each record is its length in bytes as
 * decimal digits, a line feed, then that many bytes. Pure: the encoder returns bytes, the decoder
 * is fed chunks (chunk boundaries anywhere) and returns the whole records they complete. Every
 * record is bounded: a length above `maxRecordBytes` (or longer than its digits can say) is refused
 * before any of it is buffered.
 */
import { RecordIoMalformed, RecordIoTooLarge } from './errors.js';

/** Default bound of one record (16 MiB): above any event Agora sends (its frames are capped lower). */
export const DEFAULT_MAX_RECORD_BYTES = 16 * 1024 * 1024;
/** Digits in a record length: 20 hold any uint64; more are refused at once. */
const MAX_LENGTH_DIGITS = 20;
const LF = 0x0a;

/** One record: its length, a line feed, its bytes. A string is taken as UTF-8. */
export function encodeRecord(data: string | Uint8Array): Buffer {
  const body = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data);
  return Buffer.concat([Buffer.from(`${body.length}\n`, 'ascii'), body]);
}

/** A JSON value as one record. */
export function encodeJsonRecord(value: unknown): Buffer {
  return encodeRecord(JSON.stringify(value));
}

/**
 * Reads records from a stream fed in chunks. After an error the decoder is unusable (the stream's
 * framing is lost); a caller drops the connection.
 */
export class RecordIoDecoder {
  private readonly maxRecordBytes: number;
  private readonly parts: Buffer[] = [];
  private buffered = 0;
  /** The length being read (digits so far), or the length of the record whose bytes are awaited. */
  private digits = '';
  private want: number | undefined;
  private failed: Error | undefined;

  constructor(opts: { maxRecordBytes?: number } = {}) {
    this.maxRecordBytes = opts.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
  }

  /** Feeds one chunk; returns the records it completed, in order. Throws RecordIoMalformed / RecordIoTooLarge. */
  push(chunk: Uint8Array): Buffer[] {
    if (this.failed) throw this.failed;
    try {
      return this.read(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    } catch (e) {
      this.failed = e as Error;
      throw e;
    }
  }

  /** True when no partial record is pending (the stream may end cleanly here). */
  get idle(): boolean {
    return this.want === undefined && this.digits === '' && this.buffered === 0;
  }

  /** The stream ended: throws RecordIoMalformed when a record was cut short. */
  end(): void {
    if (this.failed) throw this.failed;
    if (!this.idle) {
      this.failed = new RecordIoMalformed('the stream ended inside a record');
      throw this.failed;
    }
  }

  private read(chunk: Buffer): Buffer[] {
    const out: Buffer[] = [];
    let i = 0;
    while (i < chunk.length) {
      if (this.want === undefined) {
        const b = chunk[i++];
        if (b === LF) {
          // Mesos's reader skips empty lines before a length; so do we.
          if (this.digits === '') continue;
          const n = Number(this.digits);
          this.digits = '';
          if (n > this.maxRecordBytes) {
            throw new RecordIoTooLarge(`a record of ${n} bytes is over the bound of ${this.maxRecordBytes}`);
          }
          this.want = n;
          if (n === 0) {
            out.push(Buffer.alloc(0));
            this.want = undefined;
          }
          continue;
        }
        if (b < 0x30 || b > 0x39) {
          throw new RecordIoMalformed(`a record length must be decimal digits (got byte 0x${b.toString(16)})`);
        }
        if (this.digits.length >= MAX_LENGTH_DIGITS) {
          throw new RecordIoTooLarge(`a record length of more than ${MAX_LENGTH_DIGITS} digits`);
        }
        this.digits += String.fromCharCode(b);
        if (Number(this.digits) > this.maxRecordBytes) {
          throw new RecordIoTooLarge(`a record of more than ${this.maxRecordBytes} bytes is over the bound`);
        }
        continue;
      }
      const take = Math.min(this.want - this.buffered, chunk.length - i);
      this.parts.push(chunk.subarray(i, i + take));
      this.buffered += take;
      i += take;
      if (this.buffered === this.want) {
        out.push(Buffer.concat(this.parts));
        this.parts.length = 0;
        this.buffered = 0;
        this.want = undefined;
      }
    }
    return out;
  }
}

/** Every record of a whole stream (a test or a one-shot reader). */
export function decodeRecords(stream: Uint8Array, opts: { maxRecordBytes?: number } = {}): Buffer[] {
  const d = new RecordIoDecoder(opts);
  const out = d.push(stream);
  d.end();
  return out;
}
