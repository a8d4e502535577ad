/** Process figures read from /proc: CPU time (user + system) and peak resident memory. */
import { readFileSync } from 'node:fs';

const TICK_MS = 10; // USER_HZ is 100 on Linux

/** CPU milliseconds (user + system) the process has used; undefined when it is gone. */
export function cpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(rest[11]) + Number(rest[12])) * TICK_MS;
  } catch {
    return undefined;
  }
}

/** Peak resident set (VmHWM) in MiB; undefined when the process is gone. */
export function peakRssMiB(pid: number): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

export function loadAverage(): string {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  } catch {
    return 'n/a';
  }
}

/** Samples CPU of several processes over a window: ms used by each since `start()`. */
export class CpuWindow {
  private readonly base = new Map<number, number>();
  private startedAt = 0;

  constructor(private readonly pids: () => number[]) {}

  start(): void {
    this.startedAt = performance.now();
    this.base.clear();
    for (const pid of this.pids()) this.base.set(pid, cpuMs(pid) ?? 0);
  }

  /** Per pid: CPU ms used in the window and its share of one core. */
  read(): Map<number, { ms: number; share: number }> {
    const wall = Math.max(1, performance.now() - this.startedAt);
    const out = new Map<number, { ms: number; share: number }>();
    for (const pid of this.pids()) {
      const ms = (cpuMs(pid) ?? 0) - (this.base.get(pid) ?? 0);
      out.set(pid, { ms, share: ms / wall });
    }
    return out;
  }
}
