/**
 * An in-memory connection between a real SchedulerDriver and the test cluster's master: calls go
 * straight into the master's logic, events come back on the next microtask (never inside the
 * master's own step), reconnection backs off on the virtual clock. A test can mute the master's
 * side (heartbeats stop arriving) or partition the link (nothing passes, no new connection opens).
 */
import { FakePeer } from '../../master/testing/fake-peer.js';
import type { MasterHarness } from '../../master/testing/harness.js';
import type { SchedulerCall, SchedulerEvent } from '../protocol/messages.js';
import type { SchedulerTransport, TransportContext, TransportHandlers } from '../scheduler/transport.js';
import { backoffDelayMs } from '../transport/index.js';
import type { Timer } from '../util/clock.js';

/** A FakePeer that also tells the driver's side when the master closes it. */
class LinkPeer extends FakePeer<SchedulerEvent, SchedulerCall> {
  onClosedByMaster?: (code: number, reason: string) => void;
  override close(code = 1000, reason = ''): void {
    const wasOpen = this.open;
    super.close(code, reason);
    if (wasOpen) this.onClosedByMaster?.(code, reason);
  }
}

export class MemoryLink implements SchedulerTransport {
  /** Virtual times at which a connection opened, in order. */
  readonly opened: number[] = [];
  /** Every event the master sent on this link, delivered or not. */
  readonly events: SchedulerEvent[] = [];
  /** Every call the driver sent that reached the master. */
  readonly calls: SchedulerCall[] = [];
  private peer?: LinkPeer;
  private stopped = false;
  private started = false;
  private muted = false;
  private cut = false;
  private failures = 0;
  private retry?: Timer;

  constructor(
    private readonly master: () => MasterHarness | undefined,
    private readonly handlers: TransportHandlers,
    private readonly ctx: TransportContext,
  ) {}

  /**
   * Events from the master are lost, and so is its closing of the connection: the driver finds out
   * only by the silence. Calls still arrive.
   */
  mute(on = true): void {
    this.muted = on;
  }

  /** Nothing passes either way and no new connection opens, until `partition(false)`. */
  partition(on = true): void {
    this.cut = on;
    if (!on && !this.peer && this.started && !this.stopped && !this.retry) this.connect();
  }

  get connected(): boolean {
    return this.peer?.open ?? false;
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.retry?.cancel();
    this.drop();
  }

  send(call: SchedulerCall): boolean {
    const peer = this.peer;
    if (!peer?.open) return false;
    if (this.cut) return true; // lost on the way, as on a partitioned network
    this.calls.push(call);
    peer.deliver(structuredClone(call));
    return true;
  }

  reconnectNow(): void {
    if (!this.started || this.stopped) return;
    this.retry?.cancel();
    this.retry = undefined;
    this.failures = 0;
    if (this.drop()) this.handlers.onClose(1000, 'reconnecting');
    this.connect();
  }

  hint(): boolean {
    return false;
  }

  /** Drops the connection from the driver's side; true if one was open. */
  private drop(): boolean {
    const peer = this.peer;
    this.peer = undefined;
    if (!peer?.open) return false;
    peer.drop();
    return true;
  }

  private connect(): void {
    if (this.stopped) return;
    const h = this.master();
    if (!h || this.cut) {
      this.scheduleRetry();
      return;
    }
    const peer = new LinkPeer(h.maxFrameBytes);
    this.peer = peer;
    peer.onSend = (m) => {
      this.events.push(m);
      if (this.muted || this.cut) return;
      const copy = structuredClone(m);
      // Sent while open: delivered even if the master closes right after (as on a socket, in order).
      queueMicrotask(() => {
        if (this.peer === peer && !this.stopped) this.handlers.onMessage(copy);
      });
    };
    peer.onClosedByMaster = (code, reason) => {
      if (this.muted || this.cut) return;
      queueMicrotask(() => {
        if (this.peer !== peer) return;
        this.peer = undefined;
        this.handlers.onClose(code, reason);
        this.scheduleRetry();
      });
    };
    peer.handlers = h.master.onSchedulerConnect(peer);
    this.opened.push(this.ctx.clock.now());
    this.failures = 0;
    queueMicrotask(() => {
      if (this.peer === peer && peer.open && !this.stopped) this.handlers.onOpen();
    });
  }

  /** The master went away (failover): the driver hears the close and reconnects after backoff. */
  masterGone(): void {
    const peer = this.peer;
    if (!peer?.open) return;
    this.peer = undefined;
    peer.drop();
    this.handlers.onClose(1006, 'master gone');
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    if (this.stopped || this.retry) return;
    const delay = backoffDelayMs(this.failures, this.ctx.backoff.initialMs, this.ctx.backoff.maxMs, this.ctx.rng);
    this.failures++;
    this.retry = this.ctx.clock.setTimeout(() => {
      this.retry = undefined;
      this.connect();
    }, delay);
  }
}
