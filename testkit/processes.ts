/**
 * Real Agora processes for tests and benchmarks: masters and agents started through `bin/agora`,
 * each in its own process, on free loopback ports, with throwaway work dirs; waiting for them to
 * answer; stopping them and sweeping the task processes they leave. Shared by `test/` (through
 * test/support/cluster.ts) and `scripts/bench/`, so that no benchmark imports a test file.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, readlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { killGroup, pidsWhere } from '../agent/containerizer/proc.js';
import { choosePortRun, readEphemeralRange } from './ports.js';

/** The repository root (this file runs from `dist/testkit/`). */
export const REPO_ROOT = resolve(new URL('../..', import.meta.url).pathname);
export const AGORA_BIN = join(REPO_ROOT, 'bin', 'agora');

/** Ports this process has handed out: never handed out twice, even once their daemon has stopped. */
const handedOut = new Set<number>();

/**
 * Where test processes running side by side claim the ports they hand out (scripts/run-tests.mjs
 * sets it for its workers): one empty file per port, created only if absent, so that two workers
 * never hand out the same port, even while the first one's daemon has not bound it yet.
 */
const CLAIM_DIR = process.env.AGORA_TEST_PORTS_DIR;

/** Claims ports base..base+n-1 for this process; false (and those ports skipped hereafter) when another has one. */
function claim(base: number, n: number): boolean {
  if (!CLAIM_DIR) return true;
  for (let p = base; p < base + n; p++) {
    try {
      closeSync(openSync(join(CLAIM_DIR, String(p)), 'wx'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      handedOut.add(p);
      return false;
    }
  }
  return true;
}

/**
 * A free loopback port for a daemon started later: outside the kernel's ephemeral range (see
 * testkit/ports.ts: an outgoing connection could take a port from that range before the daemon
 * binds it), checked free by binding it, and never the same twice in this process (nor, under
 * scripts/run-tests.mjs, in another worker).
 */
export async function freePort(): Promise<number> {
  return freePortRun(1);
}

/**
 * The first of `n` consecutive free loopback ports (for `agora local --agent_port P`, whose agents
 * take P, P+1, ...), chosen as `freePort` chooses one.
 */
export async function freePortRun(n: number): Promise<number> {
  const ephemeral = readEphemeralRange();
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = choosePortRun(ephemeral, n, handedOut, Math.random);
    if (base === undefined) break;
    const held: ReturnType<typeof createServer>[] = [];
    try {
      for (let i = 0; i < n; i++) {
        const s = createServer();
        await new Promise<void>((res, rej) => {
          s.once('error', rej);
          s.listen(base + i, '127.0.0.1', () => res());
        });
        held.push(s);
      }
      if (!claim(base, n)) continue;
      for (let i = 0; i < n; i++) handedOut.add(base + i);
      return base;
    } catch {
      // taken by another listener: try another base
    } finally {
      await Promise.all(held.map((s) => new Promise((r) => s.close(r))));
    }
  }
  throw new Error(`no run of ${n} free ports found outside the ephemeral range`);
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `agora-${prefix}-`));
}

export async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

/**
 * How long a test waits for a process it started to answer: starting node and loading bin/agora
 * took over 20 s on this 2-core machine at load 25 (a master that printed nothing in 20 s), and a
 * CI machine may be slower still.
 */
export const PROCESS_START_MS = 60_000;

/**
 * Polls `fn` until it returns a truthy value, or fails with `what` after `timeoutMs`. `what` may be
 * a function, called when the wait times out, to say what was seen by then (e.g. a process's output).
 */
export async function waitFor<T>(
  what: string | (() => string),
  fn: () => T | Promise<T>,
  timeoutMs = 30_000,
  everyMs = 100,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (e) {
      last = e;
    }
    await sleep(everyMs);
  }
  const said = typeof what === 'function' ? what() : what;
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${said}${last ? ` (last error: ${(last as Error).message})` : ''}`,
  );
}

/** `p`, or a failure saying what was waited for after `timeoutMs` (an event awaited with `once`). */
export async function within<T>(p: Promise<T>, what: string, timeoutMs = 30_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

// biome-ignore lint/suspicious/noExplicitAny: tests read loosely typed JSON from the HTTP APIs
export async function getJson<T = any>(url: string): Promise<T> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return (await r.json()) as T;
}

/**
 * A child process with the last of its output kept. `exited` is set once the process has exited
 * AND its stdout and stderr have ended, so that a test which waits for `exited` and then reads
 * `text()` sees the last lines too: node emits 'exit' before it has read what the process wrote
 * just before exiting (seen on a loaded machine). A grandchild that keeps the pipes open (a task
 * of a SIGKILLed agent) cannot hold `exited` back for more than STDIO_GRACE_MS.
 */
export class Proc {
  static readonly STDIO_GRACE_MS = 2000;
  readonly output: string[] = [];
  exited?: { code: number | null; signal: NodeJS.Signals | null };
  /** Resolves once `exited` is set. */
  private readonly ended: Promise<void>;

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    const keep = (b: Buffer) => {
      this.output.push(b.toString());
      if (this.output.length > 2000) this.output.splice(0, 1000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    let grace: NodeJS.Timeout | undefined;
    let end = () => {};
    this.ended = new Promise((r) => {
      end = r;
    });
    const settle = (code: number | null, signal: NodeJS.Signals | null) => {
      clearTimeout(grace);
      this.exited ??= { code, signal };
      end();
    };
    child.on('exit', (code, signal) => {
      grace = setTimeout(() => settle(code, signal), Proc.STDIO_GRACE_MS);
      grace.unref();
    });
    child.on('close', settle);
  }

  /** The process has exited (its output may still be arriving: see `exited`). */
  private gone(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  text(): string {
    return this.output.join('');
  }

  /**
   * Sends `signal`, then SIGKILL when the process has not exited after 10 s; resolves once
   * `exited` is set.
   */
  async kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (!this.gone()) {
      const done = new Promise((r) => this.child.once('exit', r));
      this.child.kill(signal);
      await Promise.race([done, sleep(10_000)]);
      if (!this.gone()) {
        this.child.kill('SIGKILL');
        await done;
      }
    }
    await this.ended;
  }
}

export interface SpawnOptions {
  /** Extra environment (beside this process's and AGORA_LOG_LEVEL). */
  env?: Record<string, string>;
  /** Its own process group, so that a Ctrl-C in the terminal reaches only this process. */
  detached?: boolean;
  /** Arguments for node before bin/agora (e.g. `--cpu-prof`). */
  nodeArgs?: string[];
}

const started: Proc[] = [];

/** `bin/agora ARGS` as a child process, remembered for `stopAll()`. */
export function agora(name: string, args: string[], env: Record<string, string> = {}, opts: SpawnOptions = {}): Proc {
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), AGORA_BIN, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, AGORA_LOG_LEVEL: process.env.AGORA_TEST_LOG_LEVEL ?? 'info', ...env, ...opts.env },
    detached: opts.detached ?? false,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const p = new Proc(name, child);
  started.push(p);
  return p;
}

export interface MasterProc {
  proc: Proc;
  port: number;
  url: string;
  address: string;
}

/** The master among `masters` that says it leads (waits up to 60 s for one to). */
export async function leaderOf(masters: MasterProc[]): Promise<MasterProc> {
  return waitFor(
    'a leading master',
    async () => {
      for (const m of masters) {
        if (m.proc.exited) continue;
        const h = await getJson(`${m.url}/health`).catch(() => undefined);
        if (h?.leading) return m;
      }
      return undefined;
    },
    60_000,
  );
}

export interface DaemonOptions extends SpawnOptions {
  /** The process's name in logs (default `master:<port>` / `agent:<port>`). */
  name?: string;
  /** The work dir (default a fresh temp dir). */
  workDir?: string;
}

/**
 * The flags the HA tests give each of several masters sharing ZooKeeper `zkUrl`: one vote is a
 * quorum, a 2 s session (a killed leader is replaced soon), a 30 s re-registration window, and
 * quick allocation cycles (`allocation: false` leaves the master's default).
 */
export function haMasterFlags(zkUrl: string | undefined, opts: { allocation?: boolean } = {}): string[] {
  return [
    ...(zkUrl === undefined ? [] : ['--zk', zkUrl]),
    '--quorum',
    '1',
    '--zk_session_timeout',
    '2secs',
    '--agent_reregister_timeout',
    '30secs',
    ...(opts.allocation === false ? [] : ['--allocation_interval', '200ms']),
  ];
}

/**
 * A master on a free port; resolves once it answers /health, and, without `--zk` (a standalone
 * master leads at once after recovering its registry), once it says it is leading, so that a
 * test's first call does not meet a master still recovering.
 */
export async function startMasterProc(extra: string[] = [], opts: DaemonOptions = {}): Promise<MasterProc> {
  const port = await freePort();
  const workDir = opts.workDir ?? tempDir('master');
  const proc = agora(
    opts.name ?? `master:${port}`,
    ['master', '--port', String(port), '--work_dir', workDir, ...extra],
    {},
    opts,
  );
  const url = `http://127.0.0.1:${port}`;
  const standalone = !extra.some((a) => a === '--zk' || a.startsWith('--zk='));
  await waitFor(
    () => `master on ${port} to answer /health${standalone ? ' and lead' : ''} (output: ${proc.text().slice(-500)})`,
    async () => {
      if (proc.exited) throw new Error(`master exited: ${proc.text().slice(-2000)}`);
      const h = await getJson(`${url}/health`);
      return h.healthy && (standalone ? h.leading : true);
    },
    PROCESS_START_MS,
  );
  return { proc, port, url, address: `127.0.0.1:${port}` };
}

export interface AgentProc {
  proc: Proc;
  port: number;
  url: string;
  workDir: string;
}

/** Work dirs of the agents started here: their tasks are swept by `stopAll`. */
const agentDirs = new Set<string>();

/** An agent of `master` on a free port; resolves once it has registered. */
export async function startAgentProc(
  master: string,
  extra: string[] = [],
  workDir = tempDir('agent'),
  opts: DaemonOptions = {},
): Promise<AgentProc> {
  const port = await freePort();
  agentDirs.add(workDir);
  const proc = agora(
    opts.name ?? `agent:${port}`,
    ['agent', '--master', master, '--port', String(port), '--work_dir', workDir, ...extra],
    {},
    opts,
  );
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    () => `agent on ${port} to register (output: ${proc.text().slice(-500)})`,
    async () => {
      if (proc.exited) throw new Error(`agent exited: ${proc.text().slice(-2000)}`);
      return (await getJson(`${url}/state`)).registered;
    },
    PROCESS_START_MS,
  );
  return { proc, port, url, workDir };
}

/** Prints the last lines each started process wrote: called when a test fails, to see why. */
export function dumpProcessLogs(lines = 40): void {
  for (const p of started) {
    const tail = p.text().trim().split('\n').slice(-lines).join('\n');
    console.error(
      `\n----- last ${lines} lines of ${p.name}${p.exited ? ` (exited ${JSON.stringify(p.exited)})` : ''} -----\n${tail}`,
    );
  }
}

function killAll(pids: number[]): number {
  for (const pid of pids) {
    killGroup(pid, 'SIGKILL');
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone with its group
    }
  }
  return pids.length;
}

/**
 * Kills every process running in a sandbox under these work dirs (by process group). Tests kill
 * agents with SIGKILL on purpose; the tasks those agents started would otherwise run on (and keep
 * their launchers waiting for them) after the suite.
 */
export function killTasksUnder(workDirs: Iterable<string>): number {
  const prefixes = [...workDirs].map((d) => `${join(d, 'sandboxes')}/`);
  if (prefixes.length === 0) return 0;
  return killAll(
    pidsWhere((pid) => {
      const cwd = readlinkSync(`/proc/${pid}/cwd`);
      return prefixes.some((p) => cwd.startsWith(p));
    }),
  );
}

/** Kills (SIGKILL) every other process whose command line mentions `text` (e.g. an agent's work dir). */
export function killProcessesMentioning(text: string): number {
  const pids = pidsWhere((pid) => pid !== process.pid && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(text));
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  return pids.length;
}

/** Stops every process started here (SIGTERM, then SIGKILL) and sweeps their agents' tasks. */
export async function stopAll(): Promise<void> {
  const all = started.splice(0);
  await Promise.all(all.map((p) => p.kill('SIGTERM')));
  killTasksUnder(agentDirs);
  agentDirs.clear();
}
