/**
 * The launcher's file-system thread: for each request, in order, the preparation steps, then the
 * task's stdout and stderr opened for appending. The open descriptors belong to the whole process,
 * so the launcher's main thread hands them to the spawn; then it sends them back to be closed here
 * (Node tracks the descriptors a worker opens, and closes them when the worker ends: closing them
 * elsewhere would leave that bookkeeping wrong).
 *
 * One thread doing each task's steps as a unit keeps the launch a two-stage pipeline (files here,
 * spawn on the main thread), in arrival order. Creating directories and files in parallel threads
 * contends in the kernel (on ext4 here it costs more CPU for no more throughput).
 */
import { closeSync, constants, fstatSync, mkdirSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { isMainThread, parentPort } from 'node:worker_threads';
import { chownTree } from './chown.js';
import type { PrepareSteps } from './protocol.js';

/** Named, so that `top -H`, `ps -L` and the launch benchmarks can tell this thread from Node's own. */
export const PREPARE_THREAD_NAME = 'agora-prepare';
if (!isMainThread) {
  try {
    writeFileSync('/proc/thread-self/comm', PREPARE_THREAD_NAME);
  } catch {
    // not Linux, or no /proc: only the name is missing
  }
}

export interface PrepareJob {
  id: number;
  prepare?: PrepareSteps;
  stdout: string;
  stderr: string;
}

export type PrepareResult =
  | { id: number; ok: true; fds: [number, number] }
  | { id: number; ok: false; stage: 'prepare' | 'spawn'; message: string };

function prepare(steps: PrepareSteps): void {
  for (const dir of steps.mkdir ?? []) mkdirSync(dir, { recursive: true });
  for (const file of steps.unlink ?? []) rmSync(file, { force: true });
  for (const w of steps.write ?? []) {
    try {
      writeFileSync(w.file, w.value);
    } catch (err) {
      if (!w.optional) throw new Error(`could not write ${w.value} to ${w.file}: ${(err as Error).message}`);
    }
  }
}

/**
 * A task's stdout or stderr, opened (created) for appending. The sandbox may hold what a fetched
 * archive put there: a link, a FIFO or a hard link in the file's place is refused, so that the
 * task (which may run as another user) never gets a descriptor to a file outside its sandbox.
 */
function openOutput(file: string): number {
  const { O_WRONLY, O_APPEND, O_CREAT, O_NOFOLLOW, O_NONBLOCK } = constants;
  const fd = openSync(file, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK, 0o644);
  const st = fstatSync(fd);
  if (!st.isFile() || st.nlink !== 1) {
    closeSync(fd);
    throw new Error(`${file} is not a plain file of its own`);
  }
  return fd;
}

export function runJob(job: PrepareJob): PrepareResult {
  try {
    if (job.prepare) prepare(job.prepare);
  } catch (err) {
    return { id: job.id, ok: false, stage: 'prepare', message: (err as Error).message };
  }
  let out: number | undefined;
  let fds: [number, number];
  try {
    out = openOutput(job.stdout);
    fds = [out, openOutput(job.stderr)];
  } catch (err) {
    if (out !== undefined) closeSync(out);
    return { id: job.id, ok: false, stage: 'spawn', message: (err as Error).message };
  }
  const chown = job.prepare?.chown;
  if (chown) {
    try {
      chownTree(chown);
    } catch (err) {
      for (const fd of fds) closeSync(fd);
      const message = `could not give ${chown.path} to uid ${chown.uid}: ${(err as Error).message}`;
      return { id: job.id, ok: false, stage: 'prepare', message };
    }
  }
  return { id: job.id, ok: true, fds };
}

/** From the main thread: jobs to run, or descriptors it is done with. */
export type ToWorker = { jobs: PrepareJob[] } | { close: number[] };

parentPort?.on('message', (m: ToWorker) => {
  if ('close' in m) {
    for (const fd of m.close) {
      try {
        closeSync(fd);
      } catch {
        // already closed
      }
    }
    return;
  }
  for (const job of m.jobs) parentPort?.postMessage(runJob(job));
});
