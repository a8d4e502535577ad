/**
 * The driver's events, both as EventEmitter callbacks (`driver.on('offers', …)`) and as one
 * discriminated union for the async iterator (`for await (const ev of driver.events())`).
 */
import type { MasterInfo, Offer, TaskStatus } from '../protocol/types.js';

export interface Subscribed {
  frameworkId: string;
  masterInfo: MasterInfo;
  /** True on every SUBSCRIBED after the first one of this driver (same framework id). */
  resubscribed: boolean;
  heartbeatIntervalSeconds: number;
}

export interface FrameworkMessage {
  agentId: string;
  executorId: string;
  data: Buffer;
}

/** Callback signatures, by event name. */
export interface SchedulerDriverEvents {
  subscribed: [Subscribed];
  /** Offers to use (accept/launch/launchGroup) or decline; unused ones are declined for you unless `declineUnused: false`. */
  offers: [Offer[]];
  rescind: [string];
  update: [TaskStatus];
  /** An agent was lost (Mesos's FAILURE event): its agent id. */
  failure: [string];
  error: [{ message: string; code?: string }];
  /** The master's HEARTBEAT (ms since the epoch, by the driver's clock). */
  heartbeat: [number];
  /** Data an executor sent. */
  message: [FrameworkMessage];
  /** After a (re)subscription, every task the driver knew of has a state again (explicit, then implicit reconciliation sent). */
  reconciled: [];
  /** The connection to the master is gone (or silent past the heartbeats): every offer received so far is void. */
  disconnected: [];
}

/** One event of the iterator. */
export type DriverEvent =
  | ({ type: 'subscribed' } & Subscribed)
  | { type: 'offers'; offers: Offer[] }
  | { type: 'rescind'; offerId: string }
  | { type: 'update'; status: TaskStatus }
  | { type: 'failure'; agentId: string }
  | { type: 'error'; message: string; code?: string }
  | { type: 'heartbeat'; at: number }
  | ({ type: 'message' } & FrameworkMessage)
  | { type: 'reconciled' }
  | { type: 'disconnected' };

/** Buffered events of one iterator; `release` runs once the consumer has moved past the event. */
interface Item {
  event: DriverEvent;
  release?: () => void;
}

/** Events buffered per iterator at most; beyond it the oldest heartbeats go first, then the iterator fails. */
export const MAX_BUFFERED_EVENTS = 100_000;

export class EventStream implements AsyncIterableIterator<DriverEvent> {
  private readonly queue: Item[] = [];
  private waiting?: (r: IteratorResult<DriverEvent>) => void;
  private waitingFail?: (e: Error) => void;
  private current?: Item;
  private ended = false;
  private failure?: Error;

  constructor(private readonly onClose: (s: EventStream) => void) {}

  /** Adds an event; `release` is called when the consumer asks for the next one (or stops). */
  push(event: DriverEvent, release?: () => void): void {
    if (this.ended) {
      release?.();
      return;
    }
    const item = { event, release };
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = undefined;
      this.waitingFail = undefined;
      this.current = item;
      w({ value: event, done: false });
      return;
    }
    if (this.queue.length >= MAX_BUFFERED_EVENTS) {
      const hb = this.queue.findIndex((i) => i.event.type === 'heartbeat');
      if (hb >= 0) this.queue.splice(hb, 1);
      else {
        this.fail(new Error(`more than ${MAX_BUFFERED_EVENTS} events not consumed; the iterator is closed`));
        release?.();
        return;
      }
    }
    this.queue.push(item);
  }

  /** No more events (the driver stopped): the iterator finishes after the buffered ones. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.waiting && this.queue.length === 0) {
      const w = this.waiting;
      this.waiting = undefined;
      w({ value: undefined, done: true });
    }
  }

  private fail(e: Error): void {
    this.failure = e;
    for (const i of this.queue.splice(0)) i.release?.();
    this.end();
    this.onClose(this);
    if (this.waitingFail) this.waitingFail(e);
  }

  next(): Promise<IteratorResult<DriverEvent>> {
    this.current?.release?.();
    this.current = undefined;
    const item = this.queue.shift();
    if (item) {
      this.current = item;
      return Promise.resolve({ value: item.event, done: false });
    }
    if (this.failure) return Promise.reject(this.failure);
    if (this.ended) {
      this.onClose(this);
      return Promise.resolve({ value: undefined, done: true });
    }
    return new Promise((resolve, reject) => {
      this.waiting = resolve;
      this.waitingFail = reject;
    });
  }

  /** The consumer stopped (`break` in a for-await): buffered events are released and dropped. */
  return(): Promise<IteratorResult<DriverEvent>> {
    this.current?.release?.();
    this.current = undefined;
    for (const i of this.queue.splice(0)) i.release?.();
    this.ended = true;
    this.onClose(this);
    const w = this.waiting;
    this.waiting = undefined;
    w?.({ value: undefined, done: true });
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<DriverEvent> {
    return this;
  }
}
