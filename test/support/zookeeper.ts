/**
 * A real ZooKeeper server for tests, run by scripts/zookeeper.sh on a free loopback port with a
 * throwaway data dir. `stop()` + `start()` is a server restart with the same data.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { freePort } from './cluster.js';
import type { Availability } from './require-real.js';

const execFileAsync = promisify(execFile);
export const ZOOKEEPER_SCRIPT = fileURLToPath(new URL('../../../scripts/zookeeper.sh', import.meta.url));

export function zookeeperAvailability(): Availability {
  if (!existsSync('/usr/share/java/zookeeper.jar')) {
    return { ok: false, reason: 'the zookeeper package is not installed (run: sudo scripts/zookeeper.sh install)' };
  }
  if (!existsSync(ZOOKEEPER_SCRIPT)) return { ok: false, reason: `${ZOOKEEPER_SCRIPT} is missing` };
  return { ok: true };
}

export class TestZkServer {
  private constructor(
    readonly port: number,
    readonly dir: string,
  ) {}

  static async start(): Promise<TestZkServer> {
    const dir = await mkdtemp(join(tmpdir(), 'agora-zk-test-'));
    // The free port may be taken by someone else before the server binds it: try another.
    for (let attempt = 1; ; attempt++) {
      const server = new TestZkServer(await freePort(), dir);
      try {
        await server.start();
        return server;
      } catch (err) {
        if (attempt >= 3) throw err;
      }
    }
  }

  /** `127.0.0.1:<port>` */
  get servers(): string {
    return `127.0.0.1:${this.port}`;
  }

  url(path = '/agora'): string {
    return `zk://${this.servers}${path}`;
  }

  async start(): Promise<void> {
    const { stdout } = await execFileAsync('bash', [
      ZOOKEEPER_SCRIPT,
      'start',
      '--port',
      String(this.port),
      '--dir',
      this.dir,
    ]);
    if (stdout.trim() !== this.servers)
      throw new Error(`zookeeper.sh start printed '${stdout.trim()}', expected ${this.servers}`);
  }

  async stop(): Promise<void> {
    await execFileAsync('bash', [ZOOKEEPER_SCRIPT, 'stop', '--port', String(this.port), '--dir', this.dir]);
  }

  /**
   * What the server looks like now, for a test's failure message: `zookeeper.sh status` (serving,
   * running but not serving, or gone) and the last lines of its log. Never throws.
   */
  async report(lines = 20): Promise<string> {
    let status: string;
    try {
      status = (
        await execFileAsync('bash', [ZOOKEEPER_SCRIPT, 'status', '--port', String(this.port), '--dir', this.dir])
      ).stdout;
    } catch (err) {
      // status exits 3 when nothing serves; its stdout still says why.
      status = (err as { stdout?: string }).stdout || String(err);
    }
    let log = '';
    try {
      const text = await readFile(join(this.dir, 'zookeeper.log'), 'utf8');
      // Java stack frames left out: they would crowd the lines that say what happened.
      log = text
        .split('\n')
        .filter((l) => !/^\s+at /.test(l))
        .slice(-lines)
        .join('\n');
    } catch (err) {
      log = `(no log: ${(err as Error).message})`;
    }
    return `zookeeper.sh status: ${status.trim()}\n--- last lines of ${join(this.dir, 'zookeeper.log')} ---\n${log}`;
  }

  async destroy(): Promise<void> {
    await execFileAsync('bash', [ZOOKEEPER_SCRIPT, 'stop', '--port', String(this.port), '--dir', this.dir, '--purge']);
    await rm(this.dir, { recursive: true, force: true });
  }
}
