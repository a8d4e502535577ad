/**
 * Evidence from /proc for fault tests: CPU time a process has used, and which pids are alive.
 * Read from the kernel, not from the system under test.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { waitFor } from './cluster.js';

let ticks: number | undefined;
/** Clock ticks per second (USER_HZ), as /proc/<pid>/stat counts them. */
export function clockTicks(): number {
  if (ticks === undefined) {
    const out = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    ticks = Number.isFinite(out) && out > 0 ? out : 100;
  }
  return ticks;
}

/** User plus system CPU seconds the process has used (fields 14 and 15 of /proc/<pid>/stat). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) is in parentheses and may hold spaces: count from after it.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  return (utime + stime) / clockTicks();
}

/** The process state letter (R, S, D, T, Z, ...) or undefined when the pid does not exist. */
export function procState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
}

/** Alive and not a zombie. */
export function pidRunning(pid: number): boolean {
  const s = procState(pid);
  return s !== undefined && s !== 'Z' && s !== 'X';
}

/**
 * The pid a task wrote to `path` (`echo $$ > path`), once it has written it. TASK_RUNNING comes
 * when the agent has started the task's shell, which may not have run its `echo` yet on a loaded
 * machine: the file is then missing, or created and still empty.
 */
export async function pidWritten(path: string, timeoutMs = 30_000): Promise<number> {
  return waitFor(
    `a task to write its pid to ${path}`,
    () => {
      const m = /^(\d+)\n$/.exec(readFileSync(path, 'utf8'));
      return m ? Number(m[1]) : undefined;
    },
    timeoutMs,
  );
}
