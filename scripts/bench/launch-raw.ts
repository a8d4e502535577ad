/** The raw baselines of the launch benchmark: the same work without Agora. */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type Docker from 'dockerode';
import { detectLayout } from '../../agent/containerizer/cgroups.js';
import { killChildren, live, removeBenchContainers, removeCgroupDirs, track } from './launch-cleanup.js';
import { type CpuMeter, execFileP } from './launch-meter.js';
import { BENCH_LABEL, COMMAND } from './launch-options.js';

/** A timed part: seconds, and the CPU the watched processes used meanwhile. */
export interface Timed {
  seconds: number;
  cpuMs: Record<string, number>;
}

/** N × spawn('/bin/sh', ['-c', COMMAND], {detached: true}); time until every 'spawn' event. */
export async function rawSpawnRound(n: number, cpu: CpuMeter): Promise<Timed> {
  const children: ChildProcess[] = [];
  let pending = n;
  cpu.start();
  const t0 = performance.now();
  await new Promise<void>((resolve, reject) => {
    for (let i = 0; i < n; i++) {
      const c = spawn('/bin/sh', ['-c', COMMAND], { detached: true, stdio: 'ignore' });
      children.push(c);
      live.children.add(c);
      c.once('error', reject);
      c.once('spawn', () => {
        if (--pending === 0) resolve();
      });
    }
  });
  const seconds = (performance.now() - t0) / 1000;
  const cpuMs = cpu.stop();
  await killChildren();
  return { seconds, cpuMs };
}

/** The linux containerizer's isolation work by hand: cgroups with limits, then sh → unshare. */
export class ByHandLinux {
  private readonly bases: string[];
  private readonly memBase: string;
  private readonly cpuBase: string;
  private readonly hasMemsw: boolean;

  constructor() {
    const layout = detectLayout();
    if (layout.version !== 1) throw new Error('the by-hand baseline is written for cgroup v1');
    const own = layout.own;
    this.memBase = join(own.memory, 'agora-bench');
    this.cpuBase = join(own.cpu, 'agora-bench');
    this.bases = [...new Set(Object.values(own).map((d) => join(d, 'agora-bench')))];
    for (const b of this.bases) {
      mkdirSync(b, { recursive: true });
      live.cgroupBases.add(b);
    }
    this.hasMemsw = existsSync(join(own.memory, 'memory.memsw.limit_in_bytes'));
  }

  async round(n: number, tag: string, cpu: CpuMeter): Promise<Timed> {
    const script =
      'for f in "$@"; do echo 0 > "$f" || exit 125; done; echo ok >&3; exec 3>&-; ' +
      `exec unshare --pid --fork --mount-proc --mount --uts --ipc --kill-child -- /bin/sh -c '${COMMAND}'`;
    const memBytes = String(32 * 1024 * 1024);
    const oks: Promise<string>[] = [];
    const dirs: string[] = [];
    try {
      return await this.launchAll(n, tag, script, memBytes, oks, dirs, cpu);
    } finally {
      await killChildren();
      await removeCgroupDirs(dirs);
    }
  }

  private async launchAll(
    n: number,
    tag: string,
    script: string,
    memBytes: string,
    oks: Promise<string>[],
    dirs: string[],
    cpu: CpuMeter,
  ): Promise<Timed> {
    cpu.start();
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      const name = `bench-hand-${tag}-${i}`;
      const mine = this.bases.map((b) => join(b, name));
      for (const d of mine) {
        mkdirSync(d);
        live.cgroupDirs.add(d);
        dirs.push(d);
      }
      const mem = join(this.memBase, name);
      // Lowering from unlimited: the memory limit first, then memory+swap (which may not go below it).
      writeFileSync(join(mem, 'memory.limit_in_bytes'), memBytes);
      if (this.hasMemsw) writeFileSync(join(mem, 'memory.memsw.limit_in_bytes'), memBytes);
      writeFileSync(join(this.cpuBase, name, 'cpu.shares'), String(Math.round(0.1 * 1024)));
      // Joined as the linux containerizer joins: the shell moves itself through each v1 `tasks` file.
      const c = spawn('/bin/sh', ['-c', script, 'bench', ...mine.map((d) => join(d, 'tasks'))], {
        detached: true,
        stdio: ['ignore', 'ignore', 'ignore', 'pipe'],
      });
      live.children.add(c);
      oks.push(
        new Promise<string>((resolve) => {
          let text = '';
          const pipe = c.stdio[3] as NodeJS.ReadableStream;
          pipe.on('data', (d: Buffer) => {
            text += d.toString();
          });
          pipe.on('end', () => resolve(text.trim()));
          c.once('error', (e) => resolve(e.message));
        }),
      );
    }
    const results = await Promise.all(oks);
    const seconds = (performance.now() - t0) / 1000;
    const cpuMs = cpu.stop();
    const bad = results.find((r) => r !== 'ok');
    if (bad !== undefined) throw new Error(`by-hand linux launch failed: ${bad || 'wrapper exited early'}`);
    return { seconds, cpuMs };
  }
}

/** N × (createContainer + start) through the engine API (dockerode), concurrently. */
export async function rawDockerApiRound(
  docker: Docker,
  image: string,
  n: number,
  tag: string,
  cpu: CpuMeter,
): Promise<Timed> {
  cpu.start();
  const t0 = performance.now();
  const results = await track(
    Promise.allSettled(
      Array.from({ length: n }, async (_, i) => {
        const c = await docker.createContainer({
          name: `bench-raw-${tag}-${i}`,
          Image: image,
          Cmd: ['/bin/sh', '-c', COMMAND],
          Labels: { [BENCH_LABEL]: '1' },
          HostConfig: { NetworkMode: 'host' },
        });
        await c.start();
      }),
    ),
  );
  const seconds = (performance.now() - t0) / 1000;
  const cpuMs = cpu.stop();
  await removeBenchContainers(docker, [`${BENCH_LABEL}=1`]);
  const bad = results.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
  if (bad) throw new Error(`docker create/start failed: ${(bad.reason as Error).message}`);
  return { seconds, cpuMs };
}

/** N × `docker run -d --network host IMAGE /bin/sh -c COMMAND`, concurrently. */
export async function rawDockerCliRound(
  docker: Docker,
  image: string,
  n: number,
  tag: string,
  cpu: CpuMeter,
): Promise<Timed> {
  cpu.start();
  const t0 = performance.now();
  const results = await track(
    Promise.all(
      Array.from({ length: n }, (_, i) =>
        execFileP('docker', [
          'run',
          '-d',
          '--network',
          'host',
          '--label',
          `${BENCH_LABEL}=1`,
          '--name',
          `bench-cli-${tag}-${i}`,
          image,
          '/bin/sh',
          '-c',
          COMMAND,
        ]),
      ),
    ),
  );
  const seconds = (performance.now() - t0) / 1000;
  const cpuMs = cpu.stop();
  await removeBenchContainers(docker, [`${BENCH_LABEL}=1`]);
  const bad = results.find((r) => !r.ok);
  if (bad) throw new Error(`docker run failed: ${bad.out}`);
  return { seconds, cpuMs };
}
