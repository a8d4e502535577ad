/**
 * One SUBSCRIBE's event stream as a scheduler peer of the master: the master sends it Agora's
 * events as it would to a WebSocket; this writes each as a RecordIO record of Mesos's JSON on the
 * chunked 200 answer. The framework is bound to the stream (its `Mesos-Stream-Id`), not to the
 * TCP connection of any call.
 *
 * A reader slow to take its events gets the WebSocket's backpressure (docs/protocol.md): past the
 * high water of unread bytes it is reported congested, so the master holds back new offers while
 * status updates still go; it is clear again at a quarter of that. It is dropped (like a lost
 * framework) only past the buffer bound, or when, congested, it took no byte for the stall timeout.
 */
import type { ServerResponse } from 'node:http';
import type pino from 'pino';
import { type EventContext, encodeJsonRecord, eventToMesos } from '../../sdk/mesos/index.js';
import type { SchedulerEvent } from '../../sdk/protocol/messages.js';
import { BacklogMeter, type Peer } from '../../sdk/transport/index.js';
import { type Clock, systemClock, type Timer } from '../../sdk/util/clock.js';

/** Bounds of a framework connection's unread backlog, WebSocket or HTTP stream. */
export interface SchedulerBackpressure {
  /** Past this many unread bytes, no new offers go to the framework (default 1 MiB). */
  highWaterBytes: number;
  /** Past this many, the connection is dropped (default 64 MiB). */
  maxBufferedBytes: number;
  /** A congested connection that takes no byte for this long is dropped (default 60 s). */
  stallTimeoutMs: number;
}

/** Defaults of a framework connection's backpressure (`agora master --framework_backlog_*`). */
export const SCHEDULER_BACKPRESSURE: SchedulerBackpressure = {
  highWaterBytes: 1024 * 1024,
  maxBufferedBytes: 64 * 1024 * 1024,
  stallTimeoutMs: 60_000,
};

export class HttpStreamPeer implements Peer<SchedulerEvent> {
  /** The framework this stream carries, once the master said SUBSCRIBED on it. */
  frameworkId: string | undefined;
  /** Told when the stream becomes congested (true) and when it has caught up (false). */
  onBackpressure: ((congested: boolean) => void) | undefined;
  private closed = false;
  /** Bytes handed to the answer, ever; minus what it still buffers, what the socket has taken. */
  private written = 0;
  /** Judges the backlog against the bounds (sdk/transport/backlog-meter.ts, as the WebSocket's). */
  private readonly meter: BacklogMeter;
  private stallTimer: Timer | undefined;

  constructor(
    /** The `Mesos-Stream-Id`. */
    readonly id: string,
    private readonly res: ServerResponse,
    readonly remoteAddress: string,
    readonly principal: string | undefined,
    private readonly bp: SchedulerBackpressure,
    private readonly log: pino.Logger,
    private readonly onSubscribed: (peer: HttpStreamPeer, frameworkId: string) => void,
    private readonly ctx: EventContext = {},
    private readonly clock: Clock = systemClock,
  ) {
    this.meter = new BacklogMeter(bp, clock);
    res.on('drain', () => this.judge());
    res.once('close', () => this.stopWatch());
  }

  /** Its backlog is over the high water (and not yet down to a quarter of it). */
  get congested(): boolean {
    return this.meter.congested;
  }

  get open(): boolean {
    return !this.closed && !this.res.destroyed && this.res.writable;
  }

  /** Bytes written and not yet taken by the reader's socket. */
  backlog(): number {
    return this.res.writableLength;
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
    const buffered = this.backlog();
    // A record is always allowed onto an empty buffer, so a bound below one record cannot wedge a stream.
    if (this.meter.overBound(buffered, record.byteLength)) {
      this.drop('scheduler stream over its buffer bound: dropping it instead of buffering more', buffered);
      return false;
    }
    if (message.type === 'SUBSCRIBED') {
      this.frameworkId = message.subscribed.framework_id;
      this.onSubscribed(this, this.frameworkId);
    }
    this.res.write(record);
    this.written += record.byteLength;
    this.judge();
    return true;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopWatch();
    if (!this.res.destroyed) this.res.end();
  }

  /** Re-judges congestion: set above the high water, cleared at a quarter of it. */
  private judge(): void {
    if (this.closed) return;
    const backlog = this.backlog();
    const change = this.meter.judge(backlog, this.written - backlog);
    if (change === 'congested') {
      this.log.info(
        { frameworkId: this.frameworkId, remote: this.remoteAddress, backlog, highWater: this.bp.highWaterBytes },
        'scheduler stream congested: holding back offers until it reads',
      );
      this.notify(true);
      this.watchStall();
    } else if (change === 'clear') {
      this.stopWatch();
      this.log.info(
        { frameworkId: this.frameworkId, remote: this.remoteAddress, backlog },
        'scheduler stream caught up',
      );
      this.notify(false);
    }
  }

  /** While congested: a stream that took no byte for the stall timeout is dropped. */
  private watchStall(): void {
    this.stopWatch();
    const every = Math.max(10, Math.min(this.bp.stallTimeoutMs / 4, 5_000));
    this.stallTimer = this.clock
      .setInterval(() => {
        this.judge();
        if (!this.congested || this.closed) return this.stopWatch();
        if (this.meter.stalled())
          this.drop('scheduler stream blocked: congested and took nothing for the stall timeout; dropping it');
      }, every)
      .unref();
  }

  private stopWatch(): void {
    this.stallTimer?.cancel();
    this.stallTimer = undefined;
  }

  private drop(why: string, buffered = this.backlog()): void {
    this.log.warn(
      {
        frameworkId: this.frameworkId,
        remote: this.remoteAddress,
        buffered,
        limit: this.bp.maxBufferedBytes,
        stallTimeoutMs: this.bp.stallTimeoutMs,
      },
      why,
    );
    this.closed = true;
    this.stopWatch();
    this.res.destroy();
  }

  private notify(congested: boolean): void {
    try {
      this.onBackpressure?.(congested);
    } catch (err) {
      this.log.error({ err, frameworkId: this.frameworkId }, 'backpressure handler threw');
    }
  }
}
