/**
 * A connection without a socket: what the master sends is recorded (after a real encode, so a
 * frame over the limit throws as it would on the wire), and the test speaks for the other side.
 */
import { CodecError, CodecErrorCode, DEFAULT_MAX_FRAME_BYTES, encode } from '../../sdk/codec/index.js';
import type { AnyMessage } from '../../sdk/protocol/messages.js';
import type { Peer } from '../../sdk/transport/index.js';

let nextPeer = 0;

/** Who the connection comes from: its address, and the principal its upgrade authenticated. */
export interface PeerOptions {
  remoteAddress?: string;
  principal?: string;
}

export class FakePeer<Out extends { type: string }, In> implements Peer<Out> {
  readonly id = `fake-${nextPeer++}`;
  readonly remoteAddress: string;
  /** The principal the transport would have authenticated at the upgrade (undefined: anonymous). */
  readonly principal?: string;
  /** Every message the master sent on this connection, in order. */
  readonly received: Out[] = [];
  /** Sizes in bytes of the frames sent, in order. */
  readonly frameBytes: number[] = [];
  /** Set once closed: by the master (its code and reason) or by the test. */
  closed?: { code: number; reason: string; byMaster: boolean };
  /** When true, every send fails as on a connection too slow to take more. */
  failSends = false;
  handlers?: { onMessage(m: In): void; onClose(): void };
  /** Called with every message the master sends (to bridge a real client, such as the SDK's driver). */
  onSend?: (m: Out) => void;

  constructor(
    readonly maxFrameBytes = DEFAULT_MAX_FRAME_BYTES,
    opts: PeerOptions = {},
  ) {
    this.remoteAddress = opts.remoteAddress ?? '127.0.0.1';
    if (opts.principal !== undefined) this.principal = opts.principal;
  }

  get open(): boolean {
    return this.closed === undefined;
  }

  send(message: Out): boolean {
    if (!this.open || this.failSends) return false;
    const bytes = encode(message as unknown as AnyMessage).byteLength;
    if (bytes > this.maxFrameBytes) {
      throw new CodecError(
        `outgoing ${message.type} of ${bytes} bytes exceeds the frame limit`,
        CodecErrorCode.FRAME_TOO_LARGE,
      );
    }
    this.received.push(message);
    this.frameBytes.push(bytes);
    this.onSend?.(message);
    return true;
  }

  /** The master closes the connection. */
  close(code = 1000, reason = ''): void {
    if (this.closed) return;
    this.closed = { code, reason, byMaster: true };
    this.handlers?.onClose();
  }

  /** The other side drops the connection. */
  drop(): void {
    if (this.closed) return;
    this.closed = { code: 1006, reason: 'dropped', byMaster: false };
    this.handlers?.onClose();
  }

  /** The other side sends a message (only while open, as on a real socket). */
  deliver(m: In): void {
    if (this.open) this.handlers?.onMessage(m);
  }

  /** Messages received of one type. */
  all<T extends Out['type']>(type: T): Extract<Out, { type: T }>[] {
    return this.received.filter((m) => m.type === type) as Extract<Out, { type: T }>[];
  }

  /** The last message received of one type, if any. */
  last<T extends Out['type']>(type: T): Extract<Out, { type: T }> | undefined {
    const all = this.all(type);
    return all[all.length - 1];
  }

  /** Forgets what was received so far (to look only at what follows). */
  clear(): void {
    this.received.length = 0;
    this.frameBytes.length = 0;
  }
}
