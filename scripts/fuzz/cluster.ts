/**
 * The cluster under fuzz: one master and one agent, each a real `bin/agora` process on a free
 * loopback port, with work dirs under one throwaway root (so a write that escapes the agent's
 * work dir is seen as a new entry in the root). Restartable after a crash, always on fresh dirs.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
// Ports outside the kernel's ephemeral range: a port-0 probe's port can be taken by an outgoing
// connection before the daemon binds it.
import { isAlive } from '../../agent/containerizer/proc.js';
import { freePort } from '../../testkit/processes.js';

export const REPO_ROOT = resolve(new URL('../../..', import.meta.url).pathname);
const AGORA_BIN = join(REPO_ROOT, 'bin', 'agora');

export interface Daemon {
  name: string;
  child: ChildProcess;
  port: number;
  url: string;
  workDir: string;
  /** Last output lines, for a crash report. */
  tail: string[];
  exited?: { code: number | null; signal: string | null };
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function spawnDaemon(name: string, args: string[], port: number, workDir: string): Daemon {
  const child = spawn(process.execPath, [AGORA_BIN, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, AGORA_LOG_LEVEL: process.env.AGORA_FUZZ_LOG_LEVEL ?? 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const d: Daemon = { name, child, port, url: `http://127.0.0.1:${port}`, workDir, tail: [] };
  const keep = (b: Buffer) => {
    for (const line of b.toString().split('\n')) if (line.trim()) d.tail.push(line.slice(0, 2000));
    if (d.tail.length > 200) d.tail.splice(0, d.tail.length - 100);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  child.on('exit', (code, signal) => {
    d.exited = { code, signal };
  });
  return d;
}

async function waitUntil(what: string, fn: () => Promise<boolean>, d: Daemon, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (d.exited) throw new Error(`${d.name} exited ${JSON.stringify(d.exited)}: ${d.tail.slice(-20).join('\n')}`);
    try {
      if (await fn()) return;
    } catch {
      // not up yet
    }
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}: ${d.tail.slice(-20).join('\n')}`);
}

async function json(url: string): Promise<Record<string, unknown>> {
  const r = await fetch(url, { signal: AbortSignal.timeout(5000) });
  return (await r.json()) as Record<string, unknown>;
}

export class Cluster {
  master!: Daemon;
  agent!: Daemon;
  /** Marathon (`bin/agora marathon`) against this master, when the Marathon surface is fuzzed. */
  marathon?: Daemon;
  /** Chronos (`bin/agora chronos`) against this master, when the Chronos/Metronome surface is fuzzed. */
  chronos?: Daemon;
  constructor(
    readonly withMarathon = false,
    readonly withChronos = false,
  ) {}
  /** The throwaway root holding `master/` and `agent/`. */
  root = '';
  agentId = '';
  private roots: string[] = [];

  async start(): Promise<void> {
    this.root = mkdtempSync(join(tmpdir(), 'agora-fuzz-'));
    this.roots.push(this.root);
    await this.startMaster(join(this.root, 'master'));
    const agentDir = join(this.root, 'agent');
    mkdirSync(agentDir, { recursive: true });
    const port = await freePort();
    this.agent = spawnDaemon(
      'agent',
      [
        'agent',
        '--master',
        `127.0.0.1:${this.master.port}`,
        '--ip',
        '127.0.0.1',
        '--hostname',
        '127.0.0.1',
        '--port',
        String(port),
        '--work_dir',
        agentDir,
        '--resources',
        'cpus:4;mem:4096;disk:4096;ports:[31000-31099]',
        '--kill_grace_period',
        '0secs',
      ],
      port,
      agentDir,
    );
    await waitUntil(
      'the agent to register',
      async () => (await json(`${this.agent.url}/state`)).registered === true,
      this.agent,
    );
    this.agentId = String((await json(`${this.agent.url}/state`)).id);
    if (this.withMarathon) await this.startMarathon();
    if (this.withChronos) await this.startChronos();
  }

  async startChronos(): Promise<void> {
    this.chronos = await this.startFramework('chronos', 'fuzz-chronos', [], '/v1/jobs', 'Chronos');
  }

  async startMarathon(): Promise<void> {
    const user = ['--mesos_user', process.env.USER ?? 'root'];
    this.marathon = await this.startFramework('marathon', 'fuzz-marathon', user, '/v2/info', 'Marathon');
  }

  /** Starts `agora <command>` against the master, in a directory of its own, and waits for `probe` to answer. */
  private async startFramework(
    command: 'chronos' | 'marathon',
    name: string,
    extra: string[],
    probe: string,
    label: string,
  ): Promise<Daemon> {
    const dir = join(this.root, command);
    mkdirSync(dir, { recursive: true });
    const port = await freePort();
    const master = `127.0.0.1:${this.master.port}`;
    const args = [command, '--master', master, '--http_port', String(port), '--work_dir', dir];
    const daemon = spawnDaemon(command, [...args, '--framework_name', name, ...extra], port, dir);
    await waitUntil(`${label} to answer`, async () => (await fetch(`${daemon.url}${probe}`)).ok, daemon, 30_000);
    return daemon;
  }

  /** Starts a master on `workDir` (fresh, or an existing one to test recovery). */
  async startMaster(workDir: string): Promise<Daemon> {
    mkdirSync(workDir, { recursive: true });
    const port = await freePort();
    this.master = spawnDaemon(
      'master',
      ['master', '--ip', '127.0.0.1', '--advertise_ip', '127.0.0.1', '--port', String(port), '--work_dir', workDir],
      port,
      workDir,
    );
    await waitUntil(
      'the master to lead',
      async () => (await json(`${this.master.url}/health`)).leading === true,
      this.master,
    );
    return this.master;
  }

  /**
   * After the master died: does a new master start on the same work dir (recovery reads back
   * every record it wrote)? Returns why not, or undefined when it leads again.
   */
  async recoveryProblem(): Promise<string | undefined> {
    const dead = this.master;
    try {
      await this.startMaster(dead.workDir);
      return undefined;
    } catch (e) {
      return (
        (e as Error).message
          .split('\n')
          .filter((l) => /rror|xception/.test(l))
          .slice(0, 2)
          .join(' | ') || (e as Error).message.slice(0, 300)
      );
    } finally {
      await stopDaemon(this.master);
      this.master = dead;
    }
  }

  alive(): boolean {
    return !this.master.exited && !this.agent.exited && !this.marathon?.exited && !this.chronos?.exited;
  }

  /** Top-level names of the agent's work dir once the cluster is up (sandboxes, meta, ...). */
  private agentNames = new Set<string>();

  /** Remembers the agent work dir's layout, to tell later which entries a task's sandbox put there. */
  markLayout(): void {
    this.agentNames = new Set(safeList(this.agent.workDir));
  }

  /**
   * Files a sandbox wrote outside `sandboxes/`: new entries beside the work dirs, new top-level
   * entries of the agent's work dir, and task output files (`stdout`, `stderr`) anywhere else in it.
   */
  strayEntries(): string[] {
    const out = safeList(this.root)
      .filter((n) => !['master', 'agent', 'marathon', 'chronos'].includes(n))
      .map((n) => join(this.root, n));
    for (const n of safeList(this.agent.workDir)) {
      if (n === 'sandboxes') continue;
      const p = join(this.agent.workDir, n);
      if (!this.agentNames.has(n)) out.push(p);
      for (const m of safeList(p)) if (m === 'stdout' || m === 'stderr') out.push(join(p, m));
    }
    return out;
  }

  async stop(): Promise<void> {
    await Promise.all([
      stopDaemon(this.chronos),
      stopDaemon(this.marathon),
      stopDaemon(this.agent),
      stopDaemon(this.master),
    ]);
    this.marathon = undefined;
    this.chronos = undefined;
    // The agent's launchers outlive it by design: end the tasks (and so the launchers) it started.
    if (this.root) await killSandboxTasks([this.root]);
  }

  /** Stops both and starts a fresh pair (new ports, new dirs). */
  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** Stops everything and removes every root this cluster made. */
  async dispose(): Promise<void> {
    await this.stop();
    await killSandboxTasks(this.roots);
    // The launcher (not killed: its cwd is elsewhere) records a killed task's exit status in its
    // sandbox a moment after the task ends, which can land between rmSync's listing and its rmdir.
    for (const r of this.roots) rmSync(r, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
    this.roots = [];
  }
}

export async function stopDaemon(d: Daemon | undefined): Promise<void> {
  if (!d || d.exited) return;
  const done = new Promise((r) => d.child.once('exit', r));
  d.child.kill('SIGTERM');
  await Promise.race([done, sleep(5000)]);
  if (!d.exited) {
    d.child.kill('SIGKILL');
    await Promise.race([done, sleep(2000)]);
  }
}

/**
 * Tasks the fuzz launched through the posix containerizer run in their own process groups. SIGKILL
 * is delivered, not finished, when kill() returns: wait (up to 5 s) until every killed process is
 * gone, so none of them still writes into a sandbox that is about to be removed.
 */
async function killSandboxTasks(roots: string[]): Promise<void> {
  let pids: string[] = [];
  try {
    pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p));
  } catch {
    return;
  }
  const killed: number[] = [];
  for (const pid of pids) {
    let cwd = '';
    try {
      cwd = readlinkSync(`/proc/${pid}/cwd`);
    } catch {
      continue;
    }
    if (roots.some((r) => cwd.startsWith(`${r}/`))) {
      try {
        process.kill(-Number(pid), 'SIGKILL');
      } catch {
        // not a group leader
      }
      try {
        process.kill(Number(pid), 'SIGKILL');
        killed.push(Number(pid));
      } catch {
        // gone
      }
    }
  }
  const deadline = Date.now() + 5000;
  while (killed.some(isAlive) && Date.now() < deadline) await sleep(20);
}
