/**
 * Marathon's event bus: every event is `{eventType, timestamp, ...}` as Marathon 1.10 shapes it.
 * Subscribers (the `/v2/events` SSE streams) each get a bounded queue; one that falls behind by
 * more than its bound is dropped, so a slow reader never slows the scheduler.
 */
import type { Clock } from 'agora/sdk';

export type MarathonEvent = { eventType: string; timestamp: string; [k: string]: unknown };

export interface Subscriber {
  /** Hands one serialised event to the transport; false when its buffer is full. */
  write(event: MarathonEvent, text: string): boolean;
  /** Called when the subscriber is dropped for being too slow (or the bus closes). */
  close(reason: string): void;
  /** Only these event types (empty: all). */
  types: ReadonlySet<string>;
}

export class EventBus {
  private readonly subscribers = new Set<Subscriber>();
  /** Recent events, for tests and /metrics. */
  counts = new Map<string, number>();
  dropped = 0;

  constructor(private readonly clock: Clock) {}

  get size(): number {
    return this.subscribers.size;
  }

  subscribe(s: Subscriber): () => void {
    this.subscribers.add(s);
    return () => this.subscribers.delete(s);
  }

  emit(eventType: string, fields: Record<string, unknown>): MarathonEvent {
    const event: MarathonEvent = { eventType, timestamp: new Date(this.clock.now()).toISOString(), ...fields };
    this.counts.set(eventType, (this.counts.get(eventType) ?? 0) + 1);
    if (this.subscribers.size === 0) return event;
    const text = JSON.stringify(event);
    for (const s of this.subscribers) {
      if (s.types.size > 0 && !s.types.has(eventType)) continue;
      if (!s.write(event, text)) {
        this.subscribers.delete(s);
        this.dropped++;
        s.close('the subscriber fell too far behind and was dropped');
      }
    }
    return event;
  }

  close(): void {
    for (const s of this.subscribers) s.close('shutting down');
    this.subscribers.clear();
  }
}
