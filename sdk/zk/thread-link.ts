/**
 * The main thread's end of the ZooKeeper thread (see docs/zookeeper.md, "The session's own thread").
 *
 * The native client (libzookeeper_st, single-threaded) sends its session pings from the event loop
 * it runs on; a master whose loop is busy for seconds loses its session. So, by default, every
 * `ZkClient` of a process runs its real native session in ONE shared `worker_threads` Worker
 * (`thread-worker.ts`) and the `ZkClient` the caller holds forwards calls to it and replays its
 * events. One worker per process, never the addon in two threads at once: the addon keeps
 * per-process static handles that are not safe across isolates (two isolates using it crash).
 *
 * This module knows only messages (no ZkClient), so that client.ts can import it without a cycle.
 */
import { Worker } from 'node:worker_threads';

/** A failure as it crosses the thread boundary (rebuilt into a ZkError by the client). */
export interface RemoteError {
  code: string;
  message: string;
  rc?: number;
  path?: string;
}

/** Messages from the worker. */
export type FromWorker =
  | { t: 'reply'; call: number; ok: true; result: unknown }
  | { t: 'reply'; call: number; ok: false; error: RemoteError }
  | { t: 'watch'; watch: number; event: { type: string; path: string } }
  | {
      t: 'event';
      client: number;
      name: 'connected' | 'disconnected' | 'expired' | 'closed';
      data?: unknown;
      state: string;
      sessionId?: string;
      sessionPassword?: string;
      negotiatedSessionTimeoutMs: number;
    }
  | { t: 'log'; client: number; level: LogLevel; obj: Record<string, unknown>; msg: string };

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Messages to the worker. */
export type ToWorker =
  | { t: 'open'; client: number; options: Record<string, unknown>; levels: LogLevel[] }
  | { t: 'call'; client: number; call: number; op: string; args: unknown[]; watch?: number };

/** What a client registers to hear its events and logs. */
export interface LinkListener {
  event(msg: Extract<FromWorker, { t: 'event' }>): void;
  log(level: LogLevel, obj: Record<string, unknown>, msg: string): void;
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: RemoteError) => void;
}

/** The one worker of this process, its clients, pending calls and watchers. */
class ThreadLink {
  private worker?: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly watchers = new Map<number, (event: { type: string; path: string }) => void>();
  private readonly listeners = new Map<number, LinkListener>();
  /** Clients that hold a session (connect() called, not closed): while any does, the worker keeps the process alive. */
  private readonly holding = new Set<number>();

  private ensure(): Worker {
    if (this.worker) return this.worker;
    const here = import.meta.url;
    const file = new URL(here.endsWith('.ts') ? './thread-worker.ts' : './thread-worker.js', here);
    // Not the process's own flags (--input-type, preloaded --import probes): the worker runs one
    // compiled file. From sources (.ts), it needs the same loader as the process.
    const execArgv = here.endsWith('.ts') ? process.execArgv : [];
    const worker = new Worker(file, { name: 'agora-zookeeper', execArgv });
    worker.on('message', (m: FromWorker) => this.onMessage(m));
    worker.on('error', (err) => this.onWorkerGone(`the ZooKeeper thread failed: ${String(err)}`));
    worker.on('exit', (code) => this.onWorkerGone(`the ZooKeeper thread exited (code ${code})`));
    worker.unref();
    this.worker = worker;
    return worker;
  }

  /** Opens a client in the worker; returns its id. */
  open(options: Record<string, unknown>, levels: LogLevel[], listener: LinkListener): number {
    const client = this.nextId++;
    this.listeners.set(client, listener);
    this.post({ t: 'open', client, options, levels });
    return client;
  }

  call(
    client: number,
    op: string,
    args: unknown[],
    watcher?: (e: { type: string; path: string }) => void,
  ): Promise<unknown> {
    const call = this.nextId++;
    let watch: number | undefined;
    if (watcher) {
      watch = this.nextId++;
      this.watchers.set(watch, watcher);
    }
    return new Promise((resolve, reject) => {
      this.pending.set(call, {
        resolve,
        reject: (e) => {
          // The watch was not set (the call failed): forget it.
          if (watch !== undefined) this.watchers.delete(watch);
          reject(e);
        },
      });
      this.post({ t: 'call', client, call, op, args, watch });
    });
  }

  /** Marks a client as holding (or no longer holding) a session; refs/unrefs the worker. */
  hold(client: number, on: boolean): void {
    if (on) this.holding.add(client);
    else this.holding.delete(client);
    if (!this.worker) return;
    if (this.holding.size > 0) this.worker.ref();
    else this.worker.unref();
  }

  /** Closes every client the worker still has (before the process exits), waiting `ms` at most. */
  async closeAll(ms: number): Promise<void> {
    if (!this.worker) return;
    const closing = [...this.listeners.keys()].map((id) => this.call(id, 'close', []).catch(() => undefined));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(closing), new Promise((r) => (timer = setTimeout(r, ms)))]);
    clearTimeout(timer);
  }

  forget(client: number): void {
    this.hold(client, false);
    this.listeners.delete(client);
  }

  private post(msg: ToWorker): void {
    this.ensure().postMessage(msg);
    if (this.holding.size > 0) this.worker?.ref();
  }

  private onMessage(m: FromWorker): void {
    switch (m.t) {
      case 'reply': {
        const p = this.pending.get(m.call);
        if (!p) return;
        this.pending.delete(m.call);
        if (m.ok) p.resolve(m.result);
        else p.reject(m.error);
        return;
      }
      case 'watch': {
        const w = this.watchers.get(m.watch);
        if (!w) return;
        // A watcher fires once.
        this.watchers.delete(m.watch);
        w(m.event);
        return;
      }
      case 'event':
        this.listeners.get(m.client)?.event(m);
        return;
      case 'log':
        this.listeners.get(m.client)?.log(m.level, m.obj, m.msg);
        return;
    }
  }

  private onWorkerGone(why: string): void {
    if (!this.worker) return;
    this.worker = undefined;
    const pending = [...this.pending.values()];
    this.pending.clear();
    this.watchers.clear();
    for (const p of pending) p.reject({ code: 'SYSTEM_ERROR', message: why });
    for (const [client, l] of this.listeners) {
      l.log('error', {}, why);
      // Every session the worker held is gone with it.
      l.event({
        t: 'event',
        client,
        name: 'expired',
        data: { sessionId: '', reason: 'local' },
        state: 'expired',
        negotiatedSessionTimeoutMs: 0,
      });
    }
  }
}

let link: ThreadLink | undefined;

/**
 * Closes every ZooKeeper session the process still holds, then `process.exit(code)`. The native
 * client's uv handles live in the ZooKeeper thread; exiting with them open makes Node's worker
 * teardown abort the whole process ("uv_loop_close() while having open handles": SIGABRT, status
 * 134) instead of exiting with `code`. Bounded: a close that does not answer within `ms` is not awaited.
 */
export async function exitClosingZk(code: number, ms = 2_000): Promise<never> {
  if (link) await link.closeAll(ms);
  process.exit(code);
}

/** The process's link to its ZooKeeper thread (created, with the worker, on first use). */
export function threadLink(): ThreadLink {
  link ??= new ThreadLink();
  return link;
}
export type { ThreadLink };
