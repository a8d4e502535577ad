/**
 * Time comes in through a Clock so that tests can run it forward and decisions stay pure. A Clock
 * both reads the time and arms timers: every timer of the master, the agent and the driver is armed
 * through one, so a test drives them all with a {@link VirtualClock} instead of sleeping.
 */

/** A timer armed through a Clock. */
export interface Timer {
  /** Disarms the timer; harmless after it fired or was cancelled. */
  cancel(): void;
  /** Lets the process exit while this timer is armed (a no-op for virtual timers). Returns itself. */
  unref(): Timer;
}

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Calls `fn` once, `ms` from now. */
  setTimeout(fn: () => void, ms: number): Timer;
  /** Calls `fn` every `ms` from now until cancelled. */
  setInterval(fn: () => void, ms: number): Timer;
}

class NodeTimer implements Timer {
  constructor(
    private readonly handle: NodeJS.Timeout,
    private readonly repeat: boolean,
  ) {}
  cancel(): void {
    if (this.repeat) clearInterval(this.handle);
    else clearTimeout(this.handle);
  }
  unref(): Timer {
    this.handle.unref();
    return this;
  }
}

/** The real clock: `Date.now()` and Node's timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => new NodeTimer(setTimeout(fn, ms), false),
  setInterval: (fn, ms) => new NodeTimer(setInterval(fn, ms), true),
};

interface VirtualEntry {
  id: number;
  due: number;
  every?: number;
  fn: () => void;
  cancelled: boolean;
}

/**
 * A clock that only moves when told to. Timers fire in due order (ties in arming order) as
 * `advance()` passes their due time, with `now()` reading the timer's due time while it runs, as
 * Mesos's paused clock does. A timer armed by a firing timer fires in the same `advance()` if it
 * falls due within it.
 */
export class VirtualClock implements Clock {
  private t: number;
  private seq = 0;
  private readonly timers: VirtualEntry[] = [];

  constructor(start = 0) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): Timer {
    return this.arm(fn, ms, undefined);
  }

  setInterval(fn: () => void, ms: number): Timer {
    return this.arm(fn, ms, Math.max(1, ms));
  }

  /** How many timers are armed. */
  pending(): number {
    return this.timers.filter((e) => !e.cancelled).length;
  }

  /** When the next armed timer is due, or undefined. */
  nextDue(): number | undefined {
    const e = this.peek();
    return e?.due;
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way. Returns how many fired. */
  advance(ms: number): number {
    if (!(ms >= 0)) throw new RangeError(`advance(${ms}): time only moves forward`);
    return this.advanceTo(this.t + ms);
  }

  /** Moves time forward to `at` (if later), firing due timers on the way. */
  advanceTo(at: number): number {
    let fired = 0;
    for (;;) {
      const e = this.peek();
      if (!e || e.due > at) break;
      this.remove(e);
      this.t = Math.max(this.t, e.due);
      if (e.every !== undefined) {
        e.due += e.every;
        this.timers.push(e);
      }
      fired++;
      e.fn();
    }
    this.t = Math.max(this.t, at);
    return fired;
  }

  /**
   * Like `advance`, but lets promises settle before and after each timer fires, for code whose
   * timers start asynchronous work (a durable write, a send) that arms the next timer.
   */
  async advanceAsync(ms: number): Promise<number> {
    const at = this.t + ms;
    let fired = 0;
    await settle();
    for (;;) {
      const e = this.peek();
      if (!e || e.due > at) break;
      fired += this.advanceTo(e.due);
      await settle();
    }
    this.t = Math.max(this.t, at);
    await settle();
    return fired;
  }

  /** Kept for tests written against the old ManualClock. */
  set(ms: number): void {
    this.t = ms;
  }

  private arm(fn: () => void, ms: number, every: number | undefined): Timer {
    const delay = Number.isFinite(ms) && ms > 0 ? ms : 0;
    const e: VirtualEntry = { id: this.seq++, due: this.t + delay, every, fn, cancelled: false };
    this.timers.push(e);
    const timer: Timer = {
      cancel: () => {
        e.cancelled = true;
        this.remove(e);
      },
      unref: () => timer,
    };
    return timer;
  }

  private peek(): VirtualEntry | undefined {
    let best: VirtualEntry | undefined;
    for (const e of this.timers) {
      if (e.cancelled) continue;
      if (!best || e.due < best.due || (e.due === best.due && e.id < best.id)) best = e;
    }
    return best;
  }

  private remove(e: VirtualEntry): void {
    const i = this.timers.indexOf(e);
    if (i >= 0) this.timers.splice(i, 1);
  }
}

/** @deprecated the name the first tests used; a VirtualClock. */
export const ManualClock = VirtualClock;
export type ManualClock = VirtualClock;

/** Lets pending promise callbacks run (several microtask turns and one macrotask turn). */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
  await new Promise<void>((r) => setImmediate(r));
  for (let i = 0; i < 5; i++) await Promise.resolve();
}
