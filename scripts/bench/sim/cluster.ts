/**
 * The simulated cluster around a master under test: child processes for the agents (one or two)
 * and the frameworks (one), driven over IPC, plus the master itself (the real `agora master`, or
 * the stub), a /health prober and the CPU meter. Shared by the placement and failover benchmarks
 * and their correctness tests.
 */
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort as testkitFreePort } from '../../../testkit/processes.js';
import type { AgentClientKind, AgentsCommand, AgentsConfig, AgentsReport } from './agents.js';
import type { FrameworksCommand, FrameworksConfig, FrameworksReport } from './frameworks.js';

const here = dirname(fileURLToPath(import.meta.url));
/** The repository root (this file runs from dist/scripts/bench/sim). */
export const ROOT = resolve(here, '../../../..');

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A free loopback port outside the kernel's ephemeral range: testkit's (see testkit/ports.ts). */
export async function freePort(): Promise<number> {
  return testkitFreePort();
}

/** A child process driven over IPC: commands out, one report per `report` command back. */
export class Driven<C extends { cmd: string }, R> {
  private waiting: ((r: R) => void)[] = [];
  readonly ready: Promise<void>;

  constructor(readonly child: ChildProcess) {
    this.ready = new Promise((res, rej) => {
      child.once('exit', (code) => rej(new Error(`child exited early (${code})`)));
      child.on('message', (m: { ready?: boolean; report?: R }) => {
        if (m.ready) res();
        if (m.report) this.waiting.shift()?.(m.report);
      });
    });
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  send(c: C): void {
    this.child.send(c);
  }

  report(extra: object = {}): Promise<R> {
    return new Promise((res) => {
      this.waiting.push(res);
      this.child.send({ cmd: 'report', ...extra });
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.child.send({ cmd: 'stop' });
    const t = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(t);
  }
}

export type AgentsProc = Driven<AgentsCommand, AgentsReport>;
export type FrameworksProc = Driven<FrameworksCommand, FrameworksReport>;

const childOpts = {
  stdio: ['ignore', 'inherit', 'inherit', 'ipc'] as ('ignore' | 'inherit' | 'ipc')[],
  // Extra node flags for the simulated agents' and frameworks' processes (e.g. --cpu-prof).
  execArgv: [...process.execArgv, ...(process.env.AGORA_BENCH_SIM_NODE_ARGS ?? '').split(' ').filter(Boolean)],
};

export function forkAgents(cfg: AgentsConfig): AgentsProc {
  return new Driven(fork(join(here, 'agents.js'), [JSON.stringify(cfg)], childOpts));
}

export function forkFrameworks(cfg: FrameworksConfig): FrameworksProc {
  return new Driven(fork(join(here, 'frameworks.js'), [JSON.stringify(cfg)], childOpts));
}

/** Sums the agents' reports (several processes); `times: false` leaves out `registeredTimes` (a poll). */
export async function agentsReport(procs: AgentsProc[], opts: { times?: boolean } = {}): Promise<AgentsReport> {
  const all = await Promise.all(procs.map((p) => p.report({ times: opts.times ?? true })));
  type Num = Exclude<keyof AgentsReport, 'registeredTimes'>;
  const sum = (k: Num) => all.reduce((n, r) => n + r[k], 0);
  const max = (k: Num) => Math.max(0, ...all.map((r) => r[k]));
  return {
    registered: sum('registered'),
    reregistered: sum('reregistered'),
    connected: sum('connected'),
    runTasks: sum('runTasks'),
    lastRunTaskAt: max('lastRunTaskAt'),
    doubled: sum('doubled'),
    overcommitted: sum('overcommitted'),
    holding: sum('holding'),
    killed: sum('killed'),
    unacked: sum('unacked'),
    distinctTasks: sum('distinctTasks'),
    lastRegisteredAt: max('lastRegisteredAt'),
    registeredTimes: all.flatMap((r) => r.registeredTimes).sort((x, y) => x - y),
    leaderDetectedAt: max('leaderDetectedAt'),
  };
}

/** Splits `total` agents over `procs` processes. */
export function forkAgentProcs(
  url: string,
  total: number,
  procs: number,
  resources: string,
  extra: {
    others?: string[];
    backoffMaxMs?: number;
    zk?: string;
    client?: AgentClientKind;
    registrationBackoffMs?: number;
  } = {},
): AgentsProc[] {
  const out: AgentsProc[] = [];
  const per = Math.ceil(total / procs);
  for (let i = 0; i < procs; i++) {
    const count = Math.min(per, total - i * per);
    if (count > 0) out.push(forkAgents({ url, count, offset: i * per, resources, ...extra }));
  }
  return out;
}

/** A master process under test (real or stub) on `port`. */
export interface MasterProc {
  child: ChildProcess;
  port: number;
  workDir?: string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** Extra node flags for the master under test (e.g. --cpu-prof), from AGORA_BENCH_MASTER_NODE_ARGS. */
function nodeArgs(): string[] {
  return (process.env.AGORA_BENCH_MASTER_NODE_ARGS ?? '').split(' ').filter(Boolean);
}

export async function startAgoraMaster(port: number, extra: string[] = [], workDir?: string): Promise<MasterProc> {
  const dir = workDir ?? mkdtempSync(join(tmpdir(), 'agora-bench-master-'));
  const child = spawn(
    process.execPath,
    [
      ...nodeArgs(),
      join(ROOT, 'bin/agora'),
      'master',
      '--port',
      String(port),
      '--ip',
      '127.0.0.1',
      '--work_dir',
      dir,
      ...extra,
    ],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, AGORA_LOG_LEVEL: process.env.AGORA_LOG_LEVEL ?? 'error' },
    },
  );
  return { child, port, workDir: dir, kill: (sig) => killChild(child, sig, workDir ? undefined : dir) };
}

export async function startStub(port: number): Promise<MasterProc> {
  const child = fork(join(here, 'stub-master.js'), [String(port)], childOpts);
  await new Promise<void>((res) => child.once('message', () => res()));
  return { child, port, kill: (sig) => killChild(child, sig) };
}

async function killChild(child: ChildProcess, sig: NodeJS.Signals = 'SIGTERM', rmDir?: string): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill(sig);
    const t = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(t);
  }
  if (rmDir) rmSync(rmDir, { recursive: true, force: true });
}

/** Time of one GET /health in ms; undefined when it failed. */
export async function healthMs(port: number, timeoutMs = 10_000): Promise<number | undefined> {
  const t = performance.now();
  try {
    const r = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(timeoutMs) });
    await r.text();
    return r.ok ? performance.now() - t : undefined;
  } catch {
    return undefined;
  }
}

export async function waitHealthy(port: number, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if ((await healthMs(port, 1000)) !== undefined) return;
    await sleep(100);
  }
  throw new Error(`the master on port ${port} did not answer /health within ${timeoutMs} ms`);
}

/** Probes /health one request at a time until stopped; keeps the slowest answer. */
export class HealthProbe {
  slowestMs = 0;
  failures = 0;
  private running = true;
  private done: Promise<void>;

  constructor(port: number, everyMs = 250) {
    this.done = (async () => {
      while (this.running) {
        const ms = await healthMs(port);
        if (ms === undefined) this.failures++;
        else this.slowestMs = Math.max(this.slowestMs, ms);
        await sleep(everyMs);
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.done;
  }
}

/** Polls `check` every `everyMs` until it returns true, or no progress (by `progress`) for `stallMs`. */
export async function waitFor(
  check: () => Promise<boolean>,
  progress: () => number,
  opts: { everyMs?: number; stallMs?: number; maxMs?: number } = {},
): Promise<boolean> {
  const every = opts.everyMs ?? 100;
  const stall = opts.stallMs ?? 20_000;
  const until = Date.now() + (opts.maxMs ?? 300_000);
  let last = -1;
  let lastChange = Date.now();
  while (Date.now() < until) {
    if (await check()) return true;
    const p = progress();
    if (p !== last) {
      last = p;
      lastChange = Date.now();
    } else if (Date.now() - lastChange > stall) return false;
    await sleep(every);
  }
  return false;
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}
