/**
 * The judge of a slow reader, one for every transport that carries a framework's events: the
 * WebSocket peer (`peer.ts`, a route's `backpressure`) and the master's v1 HTTP scheduler event
 * stream (`master/http/v1-scheduler-stream.ts`). Given what the reader has not taken yet (bytes
 * unread) and what it has taken ever, on an injected clock, it says when the reader becomes
 * congested (unread past the high water: hold back what can wait, such as offers), when it is clear
 * again (unread down to a quarter of the high water), and when it is to be dropped: a write that
 * would take the unread bytes past the bound, or congested with no byte taken for the stall
 * timeout. Pure: no I/O, no timers; the transports measure the bytes, log, notify and close.
 */
import type { Clock } from '../util/clock.js';

/** Bounds of one reader's unread backlog (the master's `SCHEDULER_BACKPRESSURE` by default). */
export interface BacklogBounds {
  /** Past this many unread bytes the reader is congested. */
  highWaterBytes: number;
  /** A write that would take the unread bytes past this many drops the reader. */
  maxBufferedBytes: number;
  /** A congested reader that takes no byte for this long is dropped. */
  stallTimeoutMs: number;
}

/** A change of the reader's state that `judge` reports. */
export type BacklogChange = 'congested' | 'clear';

/**
 * Whether writing `bytes` more on top of `buffered` unread bytes would pass `limit`. A write onto
 * an empty buffer always goes, so a limit below one frame cannot wedge a reader.
 */
export function overBound(buffered: number, bytes: number, limit: number): boolean {
  return buffered > 0 && buffered + bytes > limit;
}

export class BacklogMeter {
  private isCongested = false;
  /** The most bytes the reader was ever seen to have taken: only a rise is progress. */
  private takenMark = 0;
  /** clock.now() when the reader last took a byte (or became congested). */
  private progressAt = 0;

  constructor(
    readonly bounds: BacklogBounds,
    private readonly clock: Pick<Clock, 'now'>,
  ) {}

  /** Unread past the high water, and not yet back down to a quarter of it. */
  get congested(): boolean {
    return this.isCongested;
  }

  /** Whether a write of `bytes` on top of `backlog` unread would pass the bound (drop the reader instead). */
  overBound(backlog: number, bytes: number): boolean {
    return overBound(backlog, bytes, this.bounds.maxBufferedBytes);
  }

  /**
   * Judges again with `backlog` bytes unread and `taken` bytes taken ever (any count that rises as
   * the reader takes bytes). Returns the change, if any: congested above the high water, clear at a
   * quarter of it.
   */
  judge(backlog: number, taken: number): BacklogChange | undefined {
    if (taken > this.takenMark) {
      this.takenMark = taken;
      this.progressAt = this.clock.now();
    }
    if (!this.isCongested && backlog > this.bounds.highWaterBytes) {
      this.isCongested = true;
      this.progressAt = this.clock.now();
      return 'congested';
    }
    if (this.isCongested && backlog <= this.bounds.highWaterBytes / 4) {
      this.isCongested = false;
      return 'clear';
    }
    return undefined;
  }

  /**
   * Congested, and no byte taken for more than the stall timeout as of `now` (judge first, so that
   * what was taken since counts): the reader is to be dropped.
   */
  stalled(now: number = this.clock.now()): boolean {
    return this.isCongested && now - this.progressAt > this.bounds.stallTimeoutMs;
  }
}
