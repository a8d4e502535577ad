/** Small helpers of the launch benchmark: time, medians, logs, and CPU read from /proc. */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { pidsWhere, readProcStat } from '../../agent/containerizer/proc.js';
import { PREPARE_THREAD_NAME } from '../../agent/launcher/prepare-worker.js';

export const nowMs = () => performance.timeOrigin + performance.now();

export const round2 = (x: number) => Math.round(x * 100) / 100;

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function log(msg: string): void {
  process.stderr.write(`${msg}\n`);
}

export function execFileP(file: string, args: string[], timeoutMs = 120_000): Promise<{ ok: boolean; out: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: timeoutMs }, (err, stdout, stderr) => {
      resolve({ ok: !err, out: String(err ? stderr || err.message : stdout).trim() });
    });
  });
}

/** CPU seconds (user + system) of a pid so far, or undefined when it is gone. */
export function cpuSecs(pid: number | undefined): number | undefined {
  if (!pid) return undefined;
  const st = readProcStat(pid);
  return st ? st.utimeSecs + st.stimeSecs : undefined;
}

export function pidsByComm(names: string[]): number[] {
  return pidsWhere((pid) => names.includes(readFileSync(`/proc/${pid}/comm`, 'utf8').trim()));
}

/**
 * The agent's launcher processes (`agent/launcher/main.js`, children of the agent) and their spawn
 * helpers (`agora-spawn`, children of the launchers), if they run: the launcher column counts both.
 */
export function launcherPids(agentPid: number | undefined): number[] {
  const { launchers, helpers } = launchersOf(agentPid);
  return [...launchers, ...helpers];
}

/** The agent's launcher processes and their spawn helpers, apart (see launcherPids). */
export function launchersOf(agentPid: number | undefined): { launchers: number[]; helpers: number[] } {
  if (!agentPid) return { launchers: [], helpers: [] };
  const launchers = pidsWhere(
    (pid) =>
      readProcStat(pid)?.ppid === agentPid && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('launcher/main.js'),
  );
  const helpers = pidsWhere(
    (pid) =>
      launchers.includes(readProcStat(pid)?.ppid ?? -1) &&
      readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'agora-spawn',
  );
  return { launchers, helpers };
}

/** A thread's CPU ms so far (/proc/<pid>/task/<tid>/schedstat, ns: finer than /proc/<pid>/stat's ticks); 0 when gone. */
export function threadMs(pid: number, tid: number | string): number {
  try {
    return Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
  } catch {
    return 0;
  }
}

/**
 * CPU ms so far of each thread of `pid`, summed into `out` under `main` (the thread the process
 * started with) or `other`, or under `named[its comm]`. Threads that ended are not counted.
 */
export function addThreadsMs(
  out: Record<string, number>,
  pid: number,
  main: string,
  other: string,
  named: Record<string, string> = {},
): void {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return;
  }
  for (const tid of tids) {
    let key = tid === String(pid) ? main : other;
    try {
      key = named[readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim()] ?? key;
    } catch {
      // gone
    }
    out[key] = (out[key] ?? 0) + threadMs(pid, tid);
  }
}

/**
 * The launchers' CPU ms so far by thread: their main thread (`launcher_main`: IPC with the agent,
 * hand-off to the helper), their file-system worker (`prepare`: sandbox, outputs, cgroups), their
 * other threads (`launcher_other`: V8's platform threads and GC, libuv's pool), and the spawn
 * helpers (`helper`: the clones; their children's time before the exec is the tasks').
 */
export function launcherThreadsMs(launchers: number[], helpers: number[]): Record<string, number> {
  const out: Record<string, number> = { launcher_main: 0, prepare: 0, launcher_other: 0, helper: 0 };
  for (const pid of launchers)
    addThreadsMs(out, pid, 'launcher_main', 'launcher_other', { [PREPARE_THREAD_NAME]: 'prepare' });
  for (const pid of helpers) addThreadsMs(out, pid, 'helper', 'helper');
  return out;
}

/** Key prefix of the per-thread figures in a CpuMeter's result (apart from the per-process ones, not in their total). */
export const THREAD_KEY = 't_';

/**
 * CPU used by a set of processes between `start()` and `stop()`: ms per process group (from
 * /proc/<pid>/stat), and, when `threads` is given, ms per kind of thread under `t_<kind>` keys.
 */
export class CpuMeter {
  private before = new Map<string, number>();
  private threadsBefore: Record<string, number> = {};
  constructor(
    private readonly procs: () => Record<string, number[]>,
    private readonly threads?: () => Record<string, number>,
  ) {}
  start(): void {
    this.before = this.read();
    this.threadsBefore = this.threads?.() ?? {};
  }
  stop(): Record<string, number> {
    const after = this.read();
    const out: Record<string, number> = {};
    for (const [k, v] of after) out[k] = Math.round((v - (this.before.get(k) ?? v)) * 1000);
    const threadsAfter = this.threads?.() ?? {};
    for (const [k, v] of Object.entries(threadsAfter))
      out[`${THREAD_KEY}${k}`] = Math.round((v - (this.threadsBefore[k] ?? 0)) * 100) / 100;
    return out;
  }
  private read(): Map<string, number> {
    const m = new Map<string, number>();
    for (const [name, pids] of Object.entries(this.procs())) {
      if (name === 'bench') {
        const u = process.cpuUsage();
        m.set(name, (u.user + u.system) / 1e6);
        continue;
      }
      m.set(
        name,
        pids.reduce((s, p) => s + (cpuSecs(p) ?? 0), 0),
      );
    }
    return m;
  }
}

export function withTimeout<T>(p: Promise<T>, ms: number, why: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms / 1000} s: ${why()}`)), ms);
    }),
  ]);
}
