/** Small helpers of the launch benchmark: time, medians, logs, and CPU read from /proc. */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { pidsWhere, readProcStat } from '../../agent/containerizer/proc.js';

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
  if (!agentPid) return [];
  const launchers = pidsWhere(
    (pid) =>
      readProcStat(pid)?.ppid === agentPid && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('launcher/main.js'),
  );
  const helpers = pidsWhere(
    (pid) =>
      launchers.includes(readProcStat(pid)?.ppid ?? -1) &&
      readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'agora-spawn',
  );
  return [...launchers, ...helpers];
}

/** CPU seconds used by a set of processes between `start()` and `stop()`. */
export class CpuMeter {
  private before = new Map<string, number>();
  constructor(private readonly procs: () => Record<string, number[]>) {}
  start(): void {
    this.before = this.read();
  }
  stop(): Record<string, number> {
    const after = this.read();
    const out: Record<string, number> = {};
    for (const [k, v] of after) out[k] = Math.round((v - (this.before.get(k) ?? v)) * 1000);
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
