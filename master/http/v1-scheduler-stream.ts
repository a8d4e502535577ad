/**
 * One SUBSCRIBE's event stream as a scheduler peer of the master: the master sends it Agora's
 * events as it would to a WebSocket; this writes each as a RecordIO record of Mesos's JSON on the
 * chunked 200 answer. The framework is bound to the stream (its `Mesos-Stream-Id`), not to the
 * TCP connection of any call. A reader too slow to take its events is dropped (like a lost
 * framework) instead of the master buffering for it without bound.
 */
import type { ServerResponse } from 'node:http';
import type pino from 'pino';
import { type EventContext, encodeJsonRecord, eventToMesos } from '../../sdk/mesos/index.js';
import type { SchedulerEvent } from '../../sdk/protocol/messages.js';
import type { Peer } from '../../sdk/transport/index.js';

/** Default bound of what waits unsent on one stream (as the WebSocket transport's). */
export const DEFAULT_STREAM_BUFFER_BYTES = 8 * 1024 * 1024;

export class HttpStreamPeer implements Peer<SchedulerEvent> {
  /** The framework this stream carries, once the master said SUBSCRIBED on it. */
  frameworkId: string | undefined;
  private closed = false;

  constructor(
    /** The `Mesos-Stream-Id`. */
    readonly id: string,
    private readonly res: ServerResponse,
    readonly remoteAddress: string,
    readonly principal: string | undefined,
    private readonly maxBufferedBytes: number,
    private readonly log: pino.Logger,
    private readonly onSubscribed: (peer: HttpStreamPeer, frameworkId: string) => void,
    private readonly ctx: EventContext = {},
  ) {}

  get open(): boolean {
    return !this.closed && !this.res.destroyed && this.res.writable;
  }

  send(message: SchedulerEvent): boolean {
    if (!this.open) return false;
    const json = eventToMesos(message, this.ctx);
    if (json === undefined) {
      // LEADER: this master no longer leads; the scheduler's next SUBSCRIBE is redirected (307).
      this.close();
      return true;
    }
    const record = encodeJsonRecord(json);
    const buffered = this.res.writableLength;
    // A record is always allowed onto an empty buffer, so a bound below one record cannot wedge a stream.
    if (buffered > 0 && buffered + record.byteLength > this.maxBufferedBytes) {
      this.log.warn(
        {
          frameworkId: this.frameworkId,
          remote: this.remoteAddress,
          buffered,
          limit: this.maxBufferedBytes,
        },
        'scheduler stream too slow: dropping it instead of buffering more',
      );
      this.closed = true;
      this.res.destroy();
      return false;
    }
    if (message.type === 'SUBSCRIBED') {
      this.frameworkId = message.subscribed.framework_id;
      this.onSubscribed(this, this.frameworkId);
    }
    this.res.write(record);
    return true;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (!this.res.destroyed) this.res.end();
  }
}
