/**
 * Hands a task's sandbox to the user the task runs as (as Mesos's agent does): the directory and
 * everything in it (fetched files, stdout, stderr), without following links, so that a link placed
 * in the sandbox never gives a file outside it away. Built-ins only: the launcher imports it.
 */
import { chmodSync, lchownSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** A sandbox with more entries than this is not handed over (the launch fails). */
export const MAX_CHOWN_ENTRIES = 1_000_000;

export interface ChownStep {
  path: string;
  uid: number;
  gid: number;
  /** Mode for the top directory (e.g. 0o750: no access for other users). */
  mode?: number;
}

/** Changes the owner of `step.path` and, for a directory, of all it holds (depth first, no links followed). */
export function chownTree(step: ChownStep): void {
  const stack = [step.path];
  let seen = 0;
  while (stack.length > 0) {
    const p = stack.pop() as string;
    if (++seen > MAX_CHOWN_ENTRIES) throw new Error(`${step.path} holds more than ${MAX_CHOWN_ENTRIES} entries`);
    lchownSync(p, step.uid, step.gid);
    for (const e of readdirIfDir(p)) {
      const child = join(p, e.name);
      if (e.isDirectory()) stack.push(child);
      else lchownSync(child, step.uid, step.gid);
      if (++seen > MAX_CHOWN_ENTRIES) throw new Error(`${step.path} holds more than ${MAX_CHOWN_ENTRIES} entries`);
    }
  }
  if (step.mode !== undefined) chmodSync(step.path, step.mode);
}

function readdirIfDir(p: string) {
  try {
    return readdirSync(p, { withFileTypes: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOTDIR') return [];
    throw e;
  }
}
