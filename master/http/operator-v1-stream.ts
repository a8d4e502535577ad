/**
 * The operator API's SUBSCRIBE stream: events derived once per master event (operator-v1-events.ts),
 * encoded once as RecordIO, and the same bytes written to every subscriber. Each subscriber may
 * hold at most `maxBufferedBytes` (plus the record being sent) not yet taken by its socket; one that falls further behind is
 * cut off (counted in `/metrics/snapshot`), so a slow or stuck reader never slows the master nor
 * grows its memory. HEARTBEAT every `heartbeatIntervalMs` on the injected Clock. When the master
 * stops leading, every subscriber is closed: clients reconnect and are sent to the new leader.
 */

import { encodeJsonRecord as recordIoJson } from '../../sdk/mesos/recordio.js';
import type { Clock, Timer } from '../../sdk/util/clock.js';
import type { Effect, MasterEvent } from '../state/index.js';
import { type EventView, type MasterView, OperatorEventDeriver } from './operator-v1-events.js';
import type { Json } from './operator-v1-json.js';

/** Where one subscriber's records go: a Node response or socket. */
export interface EventSink {
  write(chunk: Buffer): boolean;
  /** Bytes accepted by `write` that the socket has not taken yet. */
  readonly writableLength: number;
  end(): void;
  destroy(): void;
  once(event: 'close', fn: () => void): unknown;
}

/** Who a subscriber is: its principal, and what the view ACLs let it see (absent: everything). */
export interface Audience {
  principal?: string;
  may?: (action: string, object: string | undefined) => boolean;
}

interface Pending {
  record: Buffer;
  view?: EventView;
}

export interface OperatorStreamOptions {
  clock: Clock;
  master: () => MasterView | undefined;
  /** Mesos's operator heartbeat: 15 s. */
  heartbeatIntervalMs?: number;
  /** A subscriber with more than this buffered (bytes) is cut off. */
  maxBufferedBytes?: number;
  /** Most subscribers at once; the next is refused (503). */
  maxSubscribers?: number;
  onSlowSubscriber?: (info: { buffered: number }) => void;
  /** Runs the fan-out later (default: `setImmediate`, after the master's turn); tests pass `(fn) => fn()`. */
  schedule?: (fn: () => void) => void;
}

export const DEFAULT_OPERATOR_HEARTBEAT_MS = 15_000;
export const DEFAULT_MAX_BUFFERED_BYTES = 8 * 1024 * 1024;
export const DEFAULT_MAX_SUBSCRIBERS = 2_000;

class Subscriber {
  closed = false;
  constructor(
    readonly sink: EventSink,
    private readonly onGone: (s: Subscriber, slow: boolean) => void,
    private readonly max: number,
    readonly audience: Audience = {},
  ) {
    sink.once('close', () => this.close(false));
  }

  send(record: Buffer): void {
    if (this.closed) return;
    // Behind by more than the allowance already: cut off. (One record may exceed the allowance by itself.)
    if (this.sink.writableLength > this.max) {
      this.close(true);
      return;
    }
    this.sink.write(record);
  }

  close(slow: boolean): void {
    if (this.closed) return;
    this.closed = true;
    if (slow) this.sink.destroy();
    else this.sink.end();
    this.onGone(this, slow);
  }
}

export class OperatorEventStream {
  readonly deriver: OperatorEventDeriver;
  private readonly subs = new Set<Subscriber>();
  private heartbeat?: Timer;
  private pending: Pending[] = [];
  private readonly schedule: (fn: () => void) => void;
  private readonly heartbeatMs: number;
  private readonly maxBuffered: number;
  private readonly maxSubscribers: number;
  readonly stats = { eventsPublished: 0, slowDisconnected: 0, refused: 0, subscribedTotal: 0 };

  constructor(private readonly o: OperatorStreamOptions) {
    this.deriver = new OperatorEventDeriver(o.master);
    this.heartbeatMs = o.heartbeatIntervalMs ?? DEFAULT_OPERATOR_HEARTBEAT_MS;
    this.maxBuffered = o.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
    this.maxSubscribers = o.maxSubscribers ?? DEFAULT_MAX_SUBSCRIBERS;
    this.schedule = o.schedule ?? ((fn) => setImmediate(fn));
  }

  get subscribers(): number {
    return this.subs.size;
  }

  /** Whether the next subscriber would be refused (counted as refused). */
  full(): boolean {
    if (this.subs.size < this.maxSubscribers) return false;
    this.stats.refused++;
    return true;
  }

  get heartbeatIntervalSeconds(): number {
    return this.heartbeatMs / 1000;
  }

  /** The master applied `event` with these effects (its trace hook). */
  observe(event: MasterEvent, effects: readonly Effect[]): void {
    if (this.subs.size === 0) return;
    if (event.type === 'leadershipLost') {
      this.flush();
      this.closeAll();
      return;
    }
    for (const d of this.deriver.observe(event, effects)) this.publish(d.event, d.view);
  }

  /** Sends one event to every subscriber that may see it (`view`; none: everyone), encoded once. */
  publish(event: Json, view?: EventView): void {
    if (this.subs.size === 0) return;
    this.stats.eventsPublished++;
    this.pending.push({ record: recordIoJson(event), view });
    if (this.pending.length === 1) this.schedule(() => this.flush());
  }

  /**
   * Writes the records published since the last flush, as one buffer, to every subscriber. Runs
   * after the master's event loop turn (not inside it), so a burst of events costs the master one
   * append each, and each subscriber one write per turn. Records with a view go only to the
   * subscribers whose principal may see them: each distinct check (action and object) is decided
   * once per principal per flush, and the filtered buffer is built once per principal.
   */
  flush(): void {
    if (this.pending.length === 0) return;
    const pending = this.pending;
    this.pending = [];
    const all = () => (pending.length === 1 ? pending[0].record : Buffer.concat(pending.map((p) => p.record)));
    if (pending.every((p) => !p.view)) {
      const chunk = all();
      for (const s of this.subs) s.send(chunk);
      return;
    }
    let everything: Buffer | undefined;
    const byPrincipal = new Map<string, Buffer | undefined>();
    for (const s of this.subs) {
      const may = s.audience.may;
      if (!may) {
        everything ??= all();
        s.send(everything);
        continue;
      }
      const who = s.audience.principal ?? '';
      if (!byPrincipal.has(who)) byPrincipal.set(who, filtered(pending, may));
      const chunk = byPrincipal.get(who);
      if (chunk) s.send(chunk);
    }
  }

  /**
   * Adds a subscriber: `snapshot` (the SUBSCRIBED event, built now from the same state the
   * deriver starts from) is its first record, then a HEARTBEAT. False when over the cap.
   */
  subscribe(sink: EventSink, snapshot: () => Json, audience: Audience = {}): boolean {
    if (this.subs.size >= this.maxSubscribers) {
      this.stats.refused++;
      return false;
    }
    // Events derived before this snapshot go to the others only: the snapshot already holds them.
    this.flush();
    if (this.subs.size === 0) this.deriver.prime();
    const s = new Subscriber(sink, (gone, slow) => this.gone(gone, slow), this.maxBuffered, audience);
    this.subs.add(s);
    this.stats.subscribedTotal++;
    // The snapshot may be larger than the bound; it is written whole, the bound applies after it.
    sink.write(recordIoJson(snapshot()));
    s.send(recordIoJson({ type: 'HEARTBEAT' }));
    if (!this.heartbeat) {
      this.heartbeat = this.o.clock.setInterval(() => this.publish({ type: 'HEARTBEAT' }), this.heartbeatMs).unref();
    }
    return true;
  }

  private gone(s: Subscriber, slow: boolean): void {
    if (!this.subs.delete(s)) return;
    if (slow) {
      this.stats.slowDisconnected++;
      this.o.onSlowSubscriber?.({ buffered: s.sink.writableLength });
    }
    if (this.subs.size === 0) {
      this.heartbeat?.cancel();
      this.heartbeat = undefined;
      this.deriver.reset();
    }
  }

  /** Ends every subscription (the master stopped leading, or is stopping). */
  closeAll(): void {
    for (const s of [...this.subs]) s.close(false);
  }

  metrics(): Record<string, number> {
    return {
      'master/operator_api/subscribers': this.subs.size,
      'master/operator_api/subscriptions_total': this.stats.subscribedTotal,
      'master/operator_api/events_published': this.stats.eventsPublished,
      'master/operator_api/subscribers_disconnected_slow': this.stats.slowDisconnected,
      'master/operator_api/subscribers_refused': this.stats.refused,
    };
  }
}

/** The records one principal may see, as one buffer (undefined: none); each check decided once. */
function filtered(pending: readonly Pending[], may: (action: string, object: string | undefined) => boolean) {
  const decided = new Map<string, boolean>();
  const allows = (view: EventView) =>
    view.every(([action, object]) => {
      const k = `${action}\u0000${object ?? ''}\u0000${object === undefined ? 'u' : 's'}`;
      let ok = decided.get(k);
      if (ok === undefined) {
        ok = may(action, object);
        decided.set(k, ok);
      }
      return ok;
    });
  const seen = pending.filter((p) => !p.view || allows(p.view)).map((p) => p.record);
  if (seen.length === 0) return undefined;
  return seen.length === 1 ? seen[0] : Buffer.concat(seen);
}
