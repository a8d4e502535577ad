/**
 * The launcher: a small, long-lived child of the agent that starts the posix and linux tasks.
 *
 * Why a separate process: `fork` copies the parent's page tables, so every spawn from the agent (a
 * large process) costs about twice what it costs this one, and it blocks the agent's only thread
 * until the child has exec'd. Here the spawns run on their own process (and core), and the agent
 * only exchanges batched messages.
 *
 * The tasks are detached (their own sessions and process groups), so they outlive this process. It
 * exits when the agent goes away (the IPC channel closes); the tasks are then reparented to init and
 * a restarted agent finds them by pid and start time, as after any agent crash. It ignores SIGINT
 * and SIGTERM so that a Ctrl-C meant for the agent's terminal does not cut launches short.
 *
 * This module imports only Node built-ins: it must stay small.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { PrepareJob, PrepareResult, ToWorker } from './prepare-worker.js';
import type { FromLauncher, LaunchEvent, LaunchRequest, ToLauncher } from './protocol.js';

let outbox: LaunchEvent[] = [];
let flushScheduled = false;

function emit(ev: LaunchEvent): void {
  outbox.push(ev);
  if (!flushScheduled) {
    flushScheduled = true;
    setImmediate(flush);
  }
}

function flush(): void {
  flushScheduled = false;
  if (outbox.length === 0 || !process.connected) return;
  const msg: FromLauncher = { op: 'events', batch: outbox };
  outbox = [];
  // A failed send means the agent is gone; 'disconnect' ends this process.
  process.send?.(msg, undefined, {}, () => undefined);
}

/** Field 22 of /proc/<pid>/stat: start time in clock ticks since boot. */
function startTimeOf(pid: number): number | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const v = Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[19]);
    return Number.isFinite(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Requests whose files are being prepared by the worker, by id. */
const preparing = new Map<number, LaunchRequest>();
const worker = new Worker(new URL('./prepare-worker.js', import.meta.url));
worker.on('message', (r: PrepareResult) => {
  const req = preparing.get(r.id);
  if (!req) return;
  preparing.delete(r.id);
  if (!r.ok) emit({ id: r.id, ev: 'failed', stage: r.stage, message: r.message });
  else start(req, r.fds);
});
worker.on('error', (err) => {
  // Without its file-system thread the launcher cannot work: fail what waits, and exit so that
  // the agent starts a new launcher for the next launches.
  for (const id of preparing.keys()) emit({ id, ev: 'failed', stage: 'prepare', message: `launcher: ${err.message}` });
  flush();
  process.exit(1);
});

/** Descriptors the spawns are done with, returned to the worker that opened them once per turn. */
let toClose: number[] = [];
function closeLater(fds: number[]): void {
  if (toClose.length === 0) {
    setImmediate(() => {
      const close = toClose;
      toClose = [];
      worker.postMessage({ close } satisfies ToWorker);
    });
  }
  toClose.push(...fds);
}

function start(req: LaunchRequest, fds: [number, number]): void {
  let child: ChildProcess;
  try {
    child = spawn(req.file, req.args, {
      cwd: req.cwd,
      env: req.env,
      detached: true,
      stdio: req.readyFd ? ['ignore', ...fds, 'pipe'] : ['ignore', ...fds],
    });
  } catch (err) {
    emit({ id: req.id, ev: 'failed', stage: 'spawn', message: (err as Error).message });
    return;
  } finally {
    closeLater(fds);
  }
  // 'exit' may come before the ready pipe has ended: hold it until `started` is out.
  let started = false;
  let failed = false;
  let heldExit: LaunchEvent | undefined;
  const onStarted = (ready?: string) => {
    if (started || failed) return;
    const pid = child.pid;
    if (pid === undefined) return;
    started = true;
    emit({ id: req.id, ev: 'started', pid, startTime: startTimeOf(pid), ready });
    if (heldExit) emit(heldExit);
  };
  child.once('error', (err) => {
    if (started || failed) return;
    failed = true;
    emit({ id: req.id, ev: 'failed', stage: 'spawn', message: `could not start ${req.file}: ${err.message}` });
  });
  child.once('exit', (code, signal) => {
    const ev: LaunchEvent = { id: req.id, ev: 'exit', code, signal };
    if (started) emit(ev);
    else heldExit = ev;
  });
  if (!req.readyFd) {
    child.once('spawn', () => onStarted());
    return;
  }
  let text = '';
  const pipe = child.stdio[3];
  if (!pipe) {
    child.once('spawn', () => onStarted('no status pipe'));
    return;
  }
  pipe.on('data', (d: Buffer) => {
    text += d.toString();
  });
  pipe.on('error', (e: Error) => onStarted(text.trim() || e.message));
  pipe.on('end', () => onStarted(text.trim()));
}

process.on('SIGINT', () => undefined);
process.on('SIGTERM', () => undefined);
process.on('disconnect', () => process.exit(0));
process.on('message', (m: ToLauncher) => {
  if (m?.op !== 'launch' || !Array.isArray(m.batch)) return;
  const jobs: PrepareJob[] = [];
  for (const req of m.batch) {
    preparing.set(req.id, req);
    jobs.push({ id: req.id, prepare: req.prepare, stdout: req.stdout, stderr: req.stderr });
  }
  worker.postMessage({ jobs } satisfies ToWorker);
});
process.send?.({ op: 'hello', pid: process.pid } satisfies FromLauncher);
