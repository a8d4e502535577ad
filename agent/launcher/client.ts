/**
 * The agent's side of the launcher (see `main.ts`): starts the launcher process on first use,
 * batches launch requests per event-loop turn, and turns the launcher's events into promises. When
 * the agent exits, its launcher stays until the tasks it started have ended (recording their exit
 * statuses), then exits by itself.
 *
 * With `processes` > 1 the agent keeps that many launcher processes and deals each turn's requests
 * out among them in turn: a spawn blocks its launcher's thread until the child has exec'd (the fork
 * and the child's set-up before exec), so one launcher starts tasks one after another; two start
 * two at a time, one per core. Each launcher is the parent of the tasks it started and records
 * their exit statuses, exactly as a single one does.
 *
 * If a launcher dies (it should not), nothing is lost: children it had started keep running and
 * are watched from here by pid and start time instead; requests it had not answered are failed, and
 * any process already started for one of them (found by its working directory, the sandbox) is
 * killed first, so the task is reported failed and nothing of it runs. The next launch starts a new
 * launcher.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { pino } from 'pino';
import { isSameProcessAlive, killGroup, pidsWhere, waitForPidExit } from '../containerizer/proc.js';
import type { FromLauncher, LaunchEvent, LaunchRequest, ToLauncher } from './protocol.js';
import { HELPER_ENV, spawnHelper } from './spawn-helper.js';

/** How a launched process ended: from the launcher, or `undefined` when it was only seen gone by pid. */
export type LaunchedExit = { code: number | null; signal: NodeJS.Signals | null } | undefined;

export interface LaunchedProcess {
  pid: number;
  startTime?: number;
  /** Resolves once, when the process has ended. */
  exited: Promise<LaunchedExit>;
}

export class LaunchError extends Error {
  constructor(
    message: string,
    readonly stage: 'prepare' | 'spawn' | 'launcher',
  ) {
    super(message);
  }
}

interface Pending {
  req: LaunchRequest;
  /** The launcher process it was sent to (undefined while queued). */
  slot?: number;
  resolve: (p: LaunchedProcess) => void;
  reject: (e: Error) => void;
}

interface Watched {
  /** The launcher process that started it (and reports its end). */
  slot: number;
  pid: number;
  startTime?: number;
  resolve: (e: LaunchedExit) => void;
}

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));

/** Whether this process has said (once) that it runs without the spawn helper. */
let saidNoHelper = false;

/** Pids whose working directory is `dir` (used only after a launcher died mid-request). */
export function pidsWithCwd(dir: string): number[] {
  return pidsWhere((pid) => readlinkSync(`/proc/${pid}/cwd`) === dir);
}

export interface LauncherOptions {
  logger?: Logger;
  /** How often a process is checked once the launcher that started it is gone (ms; default 500). */
  pollIntervalMs?: number;
  /** How many launcher processes start tasks side by side (default 1; at most {@link MAX_LAUNCHER_PROCESSES}). */
  processes?: number;
}

/** The most launcher processes one agent keeps. */
export const MAX_LAUNCHER_PROCESSES = 16;

export class Launcher {
  /** The launcher processes, by slot; undefined until first used (or after one died). */
  private readonly children: (ChildProcess | undefined)[];
  /** The slot the next request goes to (round robin over every request, across turns). */
  private nextSlot = 0;
  private nextId = 1;
  private queue: LaunchRequest[] = [];
  private flushScheduled = false;
  private readonly pending = new Map<number, Pending>();
  private readonly watched = new Map<number, Watched>();
  private readonly log: Logger;
  private closed = false;
  private restarts = 0;

  constructor(private readonly opts: LauncherOptions = {}) {
    this.log = opts.logger ?? pino({ level: 'silent' });
    const n = opts.processes ?? 1;
    if (!Number.isInteger(n) || n < 1 || n > MAX_LAUNCHER_PROCESSES) {
      throw new RangeError(`launcher processes must be an integer from 1 to ${MAX_LAUNCHER_PROCESSES}, got ${n}`);
    }
    this.children = new Array(n).fill(undefined);
  }

  /** The first launcher's pid while it runs (for tests and diagnostics). */
  get pid(): number | undefined {
    return this.children[0]?.pid;
  }

  /** The pids of the launcher processes running now. */
  get pids(): number[] {
    return this.children.flatMap((c) => (c?.pid === undefined ? [] : [c.pid]));
  }

  /**
   * Whether the launchers start tasks through the spawn helper (`agora-spawn`, spawn-helper.c):
   * then a request may ask for namespaces (`isolate`) and a user's supplementary groups. Looked up
   * (and built, when a C compiler is there) on first use; without it, said once in the log.
   */
  get nativeSpawn(): boolean {
    const h = spawnHelper();
    if ('reason' in h && !saidNoHelper) {
      saidNoHelper = true;
      this.log.warn(
        { reason: h.reason },
        "no spawn helper: tasks are started with Node's spawn, linux tasks through util-linux unshare (slower launches)",
      );
    }
    return 'path' in h;
  }

  /** How many times a launcher process had to be started again after dying. */
  get restartCount(): number {
    return this.restarts;
  }

  /** Starts a process through the launcher; resolves once it runs. */
  launch(req: Omit<LaunchRequest, 'id'>): Promise<LaunchedProcess> {
    if (this.closed) return Promise.reject(new LaunchError('the launcher is closed', 'launcher'));
    const full: LaunchRequest = { ...req, id: this.nextId++ };
    return new Promise<LaunchedProcess>((resolve, reject) => {
      this.pending.set(full.id, { req: full, resolve, reject });
      this.queue.push(full);
      this.updateRef();
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Stops the launcher process. Running tasks are not touched (they are detached). */
  close(): void {
    this.closed = true;
    for (let slot = 0; slot < this.children.length; slot++) {
      const child = this.children[slot];
      this.children[slot] = undefined;
      if (child?.connected) child.disconnect();
    }
    for (const p of this.pending.values()) p.reject(new LaunchError('the launcher was closed', 'launcher'));
    this.pending.clear();
    this.queue = [];
    for (const [id, w] of this.watched) this.pollExit(id, w);
  }

  private ensureChild(slot: number): ChildProcess {
    const running = this.children[slot];
    if (running) return running;
    const h = spawnHelper();
    void this.nativeSpawn; // says once in the log when there is no helper
    const child = fork(MAIN, [], {
      execArgv: [],
      env: { ...process.env, [HELPER_ENV]: 'path' in h ? h.path : 'off' },
      serialization: 'json',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.children[slot] = child;
    child.on('message', (m: FromLauncher) => this.onMessage(m));
    child.on('error', (err) => this.log.error({ err, slot }, 'launcher process error'));
    // 'close' comes after the IPC channel has been drained, so no report of the dead launcher is missed.
    child.once('close', (code, signal) => this.onChildExit(slot, child, code, signal));
    this.log.debug({ pid: child.pid, slot }, 'launcher started');
    return child;
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.queue.length === 0) return;
    const batch = this.queue;
    this.queue = [];
    // Dealt out in turn, so that consecutive tasks start in different launchers side by side.
    const parts: LaunchRequest[][] = this.children.map(() => []);
    for (const r of batch) {
      parts[this.nextSlot].push(r);
      this.nextSlot = (this.nextSlot + 1) % parts.length;
    }
    for (let slot = 0; slot < parts.length; slot++) {
      const part = parts[slot];
      if (part.length === 0) continue;
      for (const r of part) {
        const p = this.pending.get(r.id);
        if (p) p.slot = slot;
      }
      const msg: ToLauncher = { op: 'launch', batch: part };
      try {
        this.ensureChild(slot).send(msg);
      } catch (err) {
        for (const r of part) this.failPending(r.id, `could not reach the launcher: ${(err as Error).message}`);
      }
    }
    this.updateRef();
  }

  private onMessage(m: FromLauncher): void {
    if (m.op !== 'events') return;
    for (const ev of m.batch) this.onEvent(ev);
    this.updateRef();
  }

  private onEvent(ev: LaunchEvent): void {
    if (ev.ev === 'exit') {
      const w = this.watched.get(ev.id);
      if (!w) return;
      this.watched.delete(ev.id);
      w.resolve({ code: ev.code, signal: ev.signal as NodeJS.Signals | null });
      return;
    }
    const p = this.pending.get(ev.id);
    if (!p) return;
    this.pending.delete(ev.id);
    if (ev.ev === 'failed') {
      p.reject(new LaunchError(ev.message, ev.stage));
      return;
    }
    let resolveExit!: (e: LaunchedExit) => void;
    const exited = new Promise<LaunchedExit>((r) => (resolveExit = r));
    this.watched.set(ev.id, { slot: p.slot ?? 0, pid: ev.pid, startTime: ev.startTime, resolve: resolveExit });
    p.resolve({ pid: ev.pid, startTime: ev.startTime, exited });
  }

  private onChildExit(slot: number, child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.children[slot] === child) this.children[slot] = undefined;
    if (this.closed) return;
    this.restarts++;
    this.log.error(
      { code, signal, slot, pending: this.pending.size, watched: this.watched.size },
      'a launcher process died; its running tasks are now watched by pid, and the next launch starts a new launcher',
    );
    for (const [id, p] of [...this.pending]) {
      if (p.slot !== slot) continue;
      // A process the launcher started but never reported would run unaccounted for: kill it.
      for (const pid of pidsWithCwd(p.req.cwd)) killGroup(pid, 'SIGKILL');
      this.failPending(id, 'the launcher process died before it reported the start');
    }
    for (const [id, w] of [...this.watched]) if (w.slot === slot) this.pollExit(id, w);
    // Requests queued but not yet sent go to the next launcher.
    this.updateRef();
  }

  private failPending(id: number, message: string): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    p.reject(new LaunchError(message, 'launcher'));
  }

  /** Watches a process by pid once no launcher will report its exit. */
  private pollExit(id: number, w: Watched): void {
    this.watched.delete(id);
    if (!isSameProcessAlive(w.pid, w.startTime)) {
      w.resolve(undefined);
      return;
    }
    void waitForPidExit(w.pid, w.startTime, this.opts.pollIntervalMs ?? 500).then(() => w.resolve(undefined));
  }

  /**
   * Keeps the event loop alive only while launches are under way: an agent has its own reasons to
   * live, and a test or tool that launched a task must not be held open by the launcher.
   */
  private updateRef(): void {
    const busy = this.pending.size > 0;
    for (const child of this.children) {
      if (!child) continue;
      const channel = child.channel as { ref?: () => void; unref?: () => void } | undefined;
      if (busy) {
        child.ref();
        channel?.ref?.();
      } else {
        child.unref();
        channel?.unref?.();
      }
    }
  }
}

let shared: Launcher | undefined;

/** One launcher for the whole process, for containerizers built without one. */
export function sharedLauncher(): Launcher {
  shared ??= new Launcher();
  return shared;
}
