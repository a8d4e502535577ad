/**
 * The launcher: a small, long-lived child of the agent that starts the posix and linux tasks, is
 * their parent, and records how each one ended.
 *
 * Why a separate process: `fork` copies the parent's page tables, so every spawn from the agent (a
 * large process) costs about twice what it costs this one, and it blocks the agent's only thread
 * until the child has exec'd. Here the spawns run on their own process (and core); a worker thread
 * makes the sandboxes meanwhile; the agent only exchanges batched messages.
 *
 * Being the tasks' parent, the launcher records each exit status in the task's sandbox before it
 * reports the exit, so no wrapper shell is needed around a task. When the agent goes away (the IPC
 * channel closes: a crash, `kill -9`, or a stop that leaves tasks running) the launcher stays until
 * its last task has ended, recording each status, then exits; a restarted agent starts a launcher
 * of its own and finds the old tasks by pid and start time, then reads their status files. Tasks
 * are detached (their own sessions and process groups). SIGINT and SIGTERM are ignored so that a
 * Ctrl-C meant for the agent's terminal does not cut launches short.
 *
 * With the spawn helper (`agora-spawn`, see spawn-helper.c; the agent passes its path in
 * AGORA_SPAWN_HELPER) the launcher does not fork at all: it hands each prepared request to the
 * helper, a small C process that clones the task (into its namespaces and cgroups for a linux
 * task), is its parent and records its exit status; the launcher relays the helper's reports.
 * Without it, tasks are started with `child_process.spawn` as before.
 *
 * This module imports only Node built-ins and the /proc helpers: it must stay small.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { constants as fsConstants, writeFileSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import { processStartTime, shellStatus } from '../containerizer/proc.js';
import { closeStrayDescriptors } from '../inherited-fds.js';
import type { PrepareJob, PrepareResult, ToWorker } from './prepare-worker.js';
import type { FromLauncher, LaunchEvent, LaunchRequest, ToLauncher } from './protocol.js';
import { encodeRequest, HELPER_ENV, type HelperEvent, parseEvent } from './spawn-helper.js';

// First: whatever the agent held without close-on-exec (its ZooKeeper connection) must not live on
// here for the launcher's life, nor reach the tasks (see inherited-fds.ts).
closeStrayDescriptors();

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

/** Requests whose files are being prepared by the worker, by id. */
const preparing = new Map<number, LaunchRequest>();
const worker = new Worker(new URL('./prepare-worker.js', import.meta.url));
worker.on('message', (r: PrepareResult) => {
  const req = preparing.get(r.id);
  if (!req) return;
  preparing.delete(r.id);
  if (!r.ok) emit({ id: r.id, ev: 'failed', stage: r.stage, message: r.message });
  else if (helperPath) startWithHelper(req, r.fds);
  else if (req.isolate) {
    closeLater(r.fds);
    emit({
      id: r.id,
      ev: 'failed',
      stage: 'spawn',
      message: 'launcher: namespaces asked for without the spawn helper',
    });
  } else start(req, r.fds);
  exitIfDone();
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

/** Children still running; once the agent has gone, the launcher exits when this is empty. */
let running = 0;
let agentGone = false;

function exitIfDone(): void {
  if (agentGone && running === 0 && preparing.size === 0 && withHelper.size === 0) process.exit(0);
}

// ---- the spawn helper ----

const helperEnv = process.env[HELPER_ENV];
const helperPath = helperEnv && helperEnv !== 'off' && helperEnv !== '0' ? helperEnv : undefined;
let helper: ChildProcess | undefined;
/** Requests handed to the helper and not yet answered, by id. */
const withHelper = new Map<number, LaunchRequest>();

function helperProcess(): ChildProcess {
  if (helper) return helper;
  const h = spawn(helperPath as string, [], { stdio: ['pipe', 'pipe', 'inherit'] });
  helper = h;
  let partial = '';
  h.stdout?.setEncoding('utf8');
  h.stdout?.on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      const ev = parseEvent(line);
      if (ev) onHelperEvent(ev);
    }
  });
  h.stdin?.on('error', () => undefined);
  h.on('error', (err) => helperGone(`could not run the spawn helper ${helperPath}: ${err.message}`));
  // 'close': after its last report has been read.
  h.on('close', (code, signal) => helperGone(`the spawn helper exited (${signal ?? code})`));
  return h;
}

/**
 * Without its helper the launcher cannot report its tasks' ends: it fails what waits and exits,
 * so that the agent watches the running tasks by pid and starts a new launcher for what comes next
 * (as for a launcher that died). The tasks go on; their statuses are not recorded.
 */
function helperGone(why: string): void {
  for (const id of withHelper.keys()) emit({ id, ev: 'failed', stage: 'spawn', message: `launcher: ${why}` });
  withHelper.clear();
  flush();
  process.exit(1);
}

function startWithHelper(req: LaunchRequest, fds: [number, number]): void {
  // The helper opens the task's stdout and stderr itself (by path, with the same checks).
  closeLater(fds);
  let msg: Buffer;
  try {
    msg = encodeRequest(req);
  } catch (err) {
    emit({ id: req.id, ev: 'failed', stage: 'spawn', message: (err as Error).message });
    return;
  }
  withHelper.set(req.id, req);
  helperProcess().stdin?.write(msg);
}

function onHelperEvent(ev: HelperEvent): void {
  if (ev.ev === 'started') {
    if (!withHelper.delete(ev.id)) return;
    running++;
    emit({ id: ev.id, ev: 'started', pid: ev.pid, ...(ev.startTime !== undefined ? { startTime: ev.startTime } : {}) });
  } else if (ev.ev === 'failed') {
    if (!withHelper.delete(ev.id)) return;
    emit({ id: ev.id, ev: 'failed', stage: ev.stage, message: ev.message });
    exitIfDone();
  } else {
    // The helper recorded the status in the sandbox before it reported the exit.
    emit({ id: ev.id, ev: 'exit', code: ev.code, signal: ev.signal });
    running--;
    flush();
    exitIfDone();
  }
}

/** Moves the calling thread (v1 `tasks`) or this process (v2 `cgroup.procs`) through these files. */
function moveTo(files: string[]): void {
  for (const f of files) {
    try {
      writeFileSync(f, '0');
    } catch (err) {
      throw new Error(`could not join cgroup ${f}: ${(err as Error).message}`);
    }
  }
}

/**
 * The launcher's own cgroups' files while its spawning thread is away from them (a linux launch
 * left it in `<agora root>/+launcher`, see LaunchRequest.cgroups); undefined while it is home.
 */
let awayFrom: string[] | undefined;

function noteAway(cgroups: { leave: string[]; home?: string[] }): void {
  const { leave, home } = cgroups;
  awayFrom = home && home.length > 0 && home.join('\n') !== leave.join('\n') ? home : undefined;
}

function start(req: LaunchRequest, fds: [number, number]): void {
  let child: ChildProcess | undefined;
  try {
    if (!req.cgroups && awayFrom) {
      // A task without cgroups starts where the launcher was started, as it would had no linux
      // task been launched before it: the thread goes home first (once, until the next linux launch).
      try {
        moveTo(awayFrom);
        awayFrom = undefined;
      } catch (err) {
        emit({ id: req.id, ev: 'failed', stage: 'prepare', message: (err as Error).message });
        return;
      }
    }
    if (req.cgroups) {
      try {
        moveTo(req.cgroups.join);
      } catch (err) {
        moveTo(req.cgroups.leave);
        noteAway(req.cgroups);
        emit({ id: req.id, ev: 'failed', stage: 'prepare', message: (err as Error).message });
        return;
      }
    }
    try {
      const as = req.user ? { uid: req.user.uid, gid: req.user.gid } : {};
      child = spawn(req.file, req.args, {
        cwd: req.cwd,
        env: req.env,
        detached: true,
        stdio: ['ignore', ...fds],
        ...as,
      });
    } catch (err) {
      if (req.cgroups) {
        moveTo(req.cgroups.leave);
        noteAway(req.cgroups);
      }
      emit({ id: req.id, ev: 'failed', stage: 'spawn', message: (err as Error).message });
      return;
    }
    if (req.cgroups) {
      moveTo(req.cgroups.leave);
      noteAway(req.cgroups);
    }
    if (req.afterSpawn && !writeAfterSpawn(req, child)) return;
  } catch (err) {
    // Stuck in a task's cgroups: this launcher must not start anything more. The child goes, the
    // launch fails, and the agent starts a new launcher for the next one.
    if (child?.pid) process.kill(-child.pid, 'SIGKILL');
    emit({ id: req.id, ev: 'failed', stage: 'prepare', message: `launcher: ${(err as Error).message}` });
    flush();
    process.exit(1);
  } finally {
    closeLater(fds);
  }
  const proc = child;
  let started = false;
  proc.once('error', (err) => {
    if (started) return;
    emit({ id: req.id, ev: 'failed', stage: 'spawn', message: `could not start ${req.file}: ${err.message}` });
  });
  proc.once('spawn', () => {
    const pid = proc.pid;
    if (pid === undefined) return;
    started = true;
    running++;
    emit({ id: req.id, ev: 'started', pid, startTime: processStartTime(pid) });
  });
  proc.once('exit', (code, signal) => {
    if (!started) return;
    const status = shellStatus(code, signal);
    const recorded = req.statusFile && status !== undefined ? recordStatus(req.statusFile, status) : Promise.resolve();
    void recorded.then(() => {
      emit({ id: req.id, ev: 'exit', code, signal });
      running--;
      flush();
      exitIfDone();
    });
  });
}

/** The request's post-spawn writes; on a failed one the child is killed, the launch fails (false). */
function writeAfterSpawn(req: LaunchRequest, child: ChildProcess): boolean {
  for (const w of req.afterSpawn ?? []) {
    try {
      writeFileSync(w.file, w.value);
    } catch (err) {
      if (w.optional) continue;
      if (child.pid) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
      emit({
        id: req.id,
        ev: 'failed',
        stage: 'prepare',
        message: `could not write ${w.value} to ${w.file}: ${(err as Error).message}`,
      });
      return false;
    }
  }
  return true;
}

/**
 * Writes the exit status into the sandbox. The sandbox may belong to the task's user: a link or a
 * FIFO put in place of the file must not make this (root) process write elsewhere or block.
 */
async function recordStatus(file: string, status: number): Promise<void> {
  const { O_WRONLY, O_CREAT, O_NOFOLLOW, O_NONBLOCK } = fsConstants;
  let fh: FileHandle | undefined;
  try {
    fh = await open(file, O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK, 0o644);
    // A hard link to another file (nlink > 1) is left alone too.
    const st = await fh.stat();
    if (!st.isFile() || st.nlink !== 1) return;
    await fh.truncate(0);
    await fh.write(`${status}\n`, 0);
  } catch {
    // Not recorded: the agent learns the end from the exit event (or reports no status).
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

process.on('SIGINT', () => undefined);
process.on('SIGTERM', () => undefined);
process.on('disconnect', () => {
  agentGone = true;
  exitIfDone();
});
process.on('message', (m: ToLauncher) => {
  if (m?.op !== 'launch' || !Array.isArray(m.batch)) return;
  const jobs: PrepareJob[] = [];
  for (const req of m.batch) {
    preparing.set(req.id, req);
    jobs.push({ id: req.id, prepare: req.prepare, stdout: req.stdout, stderr: req.stderr });
  }
  worker.postMessage({ jobs } satisfies ToWorker);
});
