/** Small helpers over /proc and signals, shared by the process-based containerizers. */
import { readdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { constants as osConstants } from 'node:os';
import { type Clock, systemClock } from '../../sdk/util/clock.js';

const CLOCK_TICKS = 100; // sysconf(_SC_CLK_TCK) on Linux
const PAGE_SIZE = 4096;

export interface ProcStat {
  startTime: number;
  utimeSecs: number;
  stimeSecs: number;
  rssBytes: number;
  state: string;
  ppid: number;
}

export function readProcStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  return parseProcStat(text);
}

/**
 * readProcStat off the calling thread. Reading another process's `stat` can wait for that
 * process's memory map lock (a container's first process right after its exec: 2–3 ms each in the
 * agent's launch profile under load), which must not stall the agent's event loop.
 */
export async function readProcStatAsync(pid: number): Promise<ProcStat | undefined> {
  let text: string;
  try {
    text = await readFile(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  return parseProcStat(text);
}

function parseProcStat(text: string): ProcStat {
  // The command name (field 2) may hold spaces and parentheses: split after the last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); field N is rest[N - 3].
  return {
    state: rest[0],
    ppid: Number(rest[1]),
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
export function waitForPidExit(
  pid: number,
  startTime: number | undefined,
  intervalMs = 200,
  clock: Clock = systemClock,
): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      const st = readProcStat(pid);
      if (!st || st.state === 'Z' || st.state === 'X' || (startTime !== undefined && st.startTime !== startTime)) {
        timer.cancel();
        resolve();
      }
    };
    const timer = clock.setInterval(check, intervalMs).unref();
    check();
  });
}

/**
 * Every pid in /proc for which `match` holds. `match` may read /proc files freely: a process that
 * ends meanwhile (or one we may not read) makes it throw, and is skipped.
 */
export function pidsWhere(match: (pid: number) => boolean): number[] {
  const out: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (match(Number(e))) out.push(Number(e));
    } catch {
      // gone, or not ours to read
    }
  }
  return out;
}

/** A shell's view of how a process ended: its exit code, or 128 + the number of the signal. */
export function shellStatus(code: number | null, signal: string | null): number | undefined {
  if (code !== null) return code;
  const n = signal ? osConstants.signals[signal as NodeJS.Signals] : undefined;
  return n === undefined ? undefined : 128 + n;
}

/** The signal a shell status above 128 stands for (`137` → `SIGKILL`), or null. */
export function signalOfStatus(status: number): string | null {
  if (status <= 128) return null;
  for (const [name, num] of Object.entries(osConstants.signals)) if (num === status - 128) return name;
  return null;
}
