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
import { closeSync, mkdirSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { chownTree } from './chown.js';
import type { PrepareSteps } from './protocol.js';

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

export function runJob(job: PrepareJob): PrepareResult {
  try {
    if (job.prepare) prepare(job.prepare);
  } catch (err) {
    return { id: job.id, ok: false, stage: 'prepare', message: (err as Error).message };
  }
  let out: number | undefined;
  let fds: [number, number];
  try {
    out = openSync(job.stdout, 'a');
    fds = [out, openSync(job.stderr, 'a')];
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
