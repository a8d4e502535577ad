/** Process figures read from /proc: CPU time (user + system) and peak resident memory. */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

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

/** Parses the utime + stime of a /proc stat line, in ms. */
function statCpuMs(stat: string): number {
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(rest[11]) + Number(rest[12])) * TICK_MS;
}

/**
 * CPU ms of the process's main thread (the thread whose id is the pid: a Node process's event
 * loop) and of all its other threads together (V8's compiler and garbage-collector helpers, libuv's
 * pool); undefined when the process is gone.
 */
export function threadCpuMs(pid: number): { main: number; others: number } | undefined {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return undefined;
  }
  let main = 0;
  let others = 0;
  for (const tid of tids) {
    let ms = 0;
    try {
      ms = statCpuMs(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8'));
    } catch {
      continue; // the thread ended between the listing and the read
    }
    if (tid === String(pid)) main = ms;
    else others += ms;
  }
  return { main, others };
}

/**
 * The pid of the process listening on 127.0.0.1/0.0.0.0 TCP `port` (e.g. the ZooKeeper the bench
 * uses), found through /proc/net/tcp{,6} and the processes' socket descriptors; undefined if not
 * found (another user's process, or no such listener).
 */
export function listenerPid(port: number): number | undefined {
  const inodes = new Set<string>();
  for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(f, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const c = line.trim().split(/\s+/);
      if (c.length < 10 || c[3] !== '0A') continue; // 0A: LISTEN
      if (Number.parseInt(c[1].split(':')[1], 16) === port) inodes.add(c[9]);
    }
  }
  if (inodes.size === 0) return undefined;
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${d}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${d}/fd/${fd}`));
        if (m && inodes.has(m[1])) return Number(d);
      } catch {}
    }
  }
  return undefined;
}
