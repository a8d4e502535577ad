/**
 * Test hosts for partition tests: a network namespace per host, joined to this machine by a veth
 * pair on 10.200.N.0/24 (addresses that exist only on those veths), made by scripts/netns.sh.
 * A process started on a host reaches the machine at `gateway` and is reached at `address`;
 * `cut()` takes the machine's end of the veth down (a real partition: no packet either way),
 * `heal()` brings it back.
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { AGORA_BIN, Proc, REPO_ROOT } from './cluster.js';
import type { Availability } from './require-real.js';

const execFileAsync = promisify(execFile);
export const NETNS_SCRIPT = fileURLToPath(new URL('../../../scripts/netns.sh', import.meta.url));

export function netnsAvailability(): Availability {
  if (!existsSync(NETNS_SCRIPT)) return { ok: false, reason: `${NETNS_SCRIPT} is missing` };
  try {
    execFileSync('bash', [NETNS_SCRIPT, 'available'], { stdio: ['ignore', 'ignore', 'pipe'] });
    return { ok: true };
  } catch (err) {
    const why = String((err as { stderr?: Buffer }).stderr ?? err).trim();
    return { ok: false, reason: `${why} (run as root: scripts/netns.sh install)` };
  }
}

export class TestHost {
  readonly procs: Proc[] = [];

  private constructor(
    readonly name: string,
    readonly n: number,
  ) {}

  /** Makes host `name` on 10.200.n.0/24 (replacing a leftover one of that name). */
  static async create(name: string, n: number): Promise<TestHost> {
    await execFileAsync('bash', [NETNS_SCRIPT, 'create', name, String(n)]);
    return new TestHost(name, n);
  }

  /** The host's own address. */
  get address(): string {
    return `10.200.${this.n}.2`;
  }

  /** This machine's address as the host sees it. */
  get gateway(): string {
    return `10.200.${this.n}.1`;
  }

  /** Runs `agora <args>` on the host. */
  agora(label: string, args: string[], env: Record<string, string> = {}): Proc {
    const child = spawn('ip', ['netns', 'exec', `agora-${this.name}`, process.execPath, AGORA_BIN, ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, AGORA_LOG_LEVEL: process.env.AGORA_TEST_LOG_LEVEL ?? 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const p = new Proc(`${label}@${this.name}`, child);
    this.procs.push(p);
    return p;
  }

  async cut(): Promise<void> {
    await execFileAsync('bash', [NETNS_SCRIPT, 'cut', this.name, String(this.n)]);
  }

  async heal(): Promise<void> {
    await execFileAsync('bash', [NETNS_SCRIPT, 'heal', this.name, String(this.n)]);
  }

  /** Stops what runs on the host and removes it. */
  async destroy(): Promise<void> {
    await Promise.all(this.procs.splice(0).map((p) => p.kill('SIGKILL')));
    await execFileAsync('bash', [NETNS_SCRIPT, 'delete', this.name]);
  }
}
