/** Small helpers over /proc and signals, shared by the process-based containerizers. */
import { readFileSync } from 'node:fs';

const CLOCK_TICKS = 100; // sysconf(_SC_CLK_TCK) on Linux
const PAGE_SIZE = 4096;

export interface ProcStat {
  startTime: number;
  utimeSecs: number;
  stimeSecs: number;
  rssBytes: number;
  state: string;
}

export function readProcStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: split after the last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); field N is rest[N - 3].
  return {
    state: rest[0],
    utimeSecs: Number(rest[11]) / CLOCK_TICKS,
    stimeSecs: Number(rest[12]) / CLOCK_TICKS,
    startTime: Number(rest[19]),
    rssBytes: Number(rest[21]) * PAGE_SIZE,
  };
}

export function processStartTime(pid: number): number | undefined {
  return readProcStat(pid)?.startTime;
}

/** Alive and not a zombie. */
export function isAlive(pid: number): boolean {
  const st = readProcStat(pid);
  return st !== undefined && st.state !== 'Z' && st.state !== 'X';
}

/** The pid runs (not a zombie) and is the process checkpointed (same start time, when one was recorded). */
export function isSameProcessAlive(pid: number, startTime: number | undefined): boolean {
  const st = readProcStat(pid);
  if (!st || st.state === 'Z' || st.state === 'X') return false;
  return startTime === undefined || st.startTime === startTime;
}

/** Signals a whole process group; a group that is already gone is not an error. */
export function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: nothing left in the group.
  }
}

/** Resolves when `pid` (with this start time) no longer runs; polls, for processes we did not spawn. */
export function waitForPidExit(pid: number, startTime: number | undefined, intervalMs = 200): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      const st = readProcStat(pid);
      if (!st || st.state === 'Z' || st.state === 'X' || (startTime !== undefined && st.startTime !== startTime)) {
        clearInterval(timer);
        resolve();
      }
    };
    const timer = setInterval(check, intervalMs);
    timer.unref();
    check();
  });
}
