/** The raw baselines of the launch benchmark: the same work without Agora. */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { detectLayout } from '../../agent/containerizer/cgroups.js';
import { killChildren, killGroups, live, removeBenchContainers, removeCgroupDirs, track } from './launch-cleanup.js';
import { CONTAINER_MARKER_DIR, type MarkerMeter, type MarkerStats, monoMs } from './launch-markers.js';
import { type CpuMeter, execFileP, withTimeout } from './launch-meter.js';
import { BENCH_LABEL, COMMAND } from './launch-options.js';

/** A timed part: seconds, and the CPU the watched processes used meanwhile. */
export interface Timed {
  seconds: number;
  cpuMs: Record<string, number>;
  /** The round's markers: how many tasks wrote theirs, and which more than once. */
  markers?: MarkerStats;
}

/** The raw spawner process (launch-spawner.ts), started once for the whole run. */
export class RawSpawner {
  readonly child: ChildProcess;
  private buffered = '';
  private reply?: (line: string) => void;

  constructor() {
    const script = new URL('./launch-spawner.js', import.meta.url).pathname;
    this.child = spawn(process.execPath, [script], { stdio: ['pipe', 'pipe', 'inherit'] });
    live.helpers.add(this.child);
    this.child.stdout?.setEncoding('utf8');
    this.child.stdout?.on('data', (d: string) => {
      this.buffered += d;
      let i = this.buffered.indexOf('\n');
      while (i >= 0) {
        const line = this.buffered.slice(0, i);
        this.buffered = this.buffered.slice(i + 1);
        this.reply?.(line);
        i = this.buffered.indexOf('\n');
      }
    });
  }

  /** Starts every command; resolves with the start (CLOCK_MONOTONIC ms) and the pids. */
  run(cmds: string[]): Promise<{ t0: number; pids: number[] }> {
    return new Promise((resolve, reject) => {
      this.reply = (line) => {
        this.reply = undefined;
        const r = JSON.parse(line) as { t0?: string; pids?: number[]; error?: string };
        if (r.error || r.t0 === undefined) reject(new Error(`raw spawner: ${r.error ?? line}`));
        else resolve({ t0: Number(BigInt(r.t0)) / 1e6, pids: r.pids ?? [] });
      };
      this.child.stdin?.write(`${JSON.stringify(cmds)}\n`);
    });
  }
}

/**
 * N × spawn('/bin/sh', ['-c', 'echo ID > FIFO; exec sleep 600'], {detached: true}) from the small
 * spawner process; time from its start stamp until every task's marker has come.
 */
export async function rawSpawnRound(
  spawner: RawSpawner,
  markers: MarkerMeter,
  n: number,
  prefix: string,
  cpu: CpuMeter,
): Promise<Timed> {
  const ids = Array.from({ length: n }, (_, i) => `${prefix}-${i}`);
  cpu.start();
  const { t0, pids } = await spawner.run(ids.map((id) => markers.command(id, COMMAND)));
  for (const p of pids) live.groups.add(p);
  const end = await withTimeout(
    markers.expect(ids),
    120_000,
    () => `raw spawn: ${markers.stats(ids).seen} of ${n} markers`,
  );
  const seconds = (end - t0) / 1000;
  const cpuMs = cpu.stop();
  await killGroups();
  return { seconds, cpuMs, markers: markers.stats(ids) };
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

  async round(markers: MarkerMeter, n: number, tag: string, cpu: CpuMeter): Promise<Timed> {
    const script =
      'for f in "$@"; do echo 0 > "$f" || exit 125; done; echo ok >&3; exec 3>&-; ' +
      'exec unshare --pid --fork --mount-proc --mount --uts --ipc --kill-child -- /bin/sh -c "$AGORA_BENCH_CMD"';
    const memBytes = String(32 * 1024 * 1024);
    const oks: Promise<string>[] = [];
    const dirs: string[] = [];
    try {
      return await this.launchAll(markers, n, tag, script, memBytes, oks, dirs, cpu);
    } finally {
      await killChildren();
      await removeCgroupDirs(dirs);
    }
  }

  private async launchAll(
    markers: MarkerMeter,
    n: number,
    tag: string,
    script: string,
    memBytes: string,
    oks: Promise<string>[],
    dirs: string[],
    cpu: CpuMeter,
  ): Promise<Timed> {
    const ids = Array.from({ length: n }, (_, i) => `hand-linux-${tag}-${i}`);
    cpu.start();
    const t0 = monoMs();
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
        env: { ...process.env, AGORA_BENCH_CMD: markers.command(ids[i], COMMAND) },
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
    const bad = results.find((r) => r !== 'ok');
    if (bad !== undefined) throw new Error(`by-hand linux launch failed: ${bad || 'wrapper exited early'}`);
    const end = await withTimeout(
      markers.expect(ids),
      120_000,
      () => `by hand: ${markers.stats(ids).seen} of ${n} markers`,
    );
    const seconds = (end - t0) / 1000;
    const cpuMs = cpu.stop();
    return { seconds, cpuMs, markers: markers.stats(ids) };
  }
}

/** N × (createContainer + start) through the engine API (dockerode), concurrently. */
export async function rawDockerApiRound(
  markers: MarkerMeter,
  docker: Docker,
  image: string,
  n: number,
  tag: string,
  cpu: CpuMeter,
): Promise<Timed> {
  const ids = Array.from({ length: n }, (_, i) => `api-docker-${tag}-${i}`);
  cpu.start();
  const t0 = monoMs();
  const results = await track(
    Promise.allSettled(
      ids.map(async (id) => {
        const c = await docker.createContainer({
          name: `bench-raw-${tag}-${id}`,
          Image: image,
          Cmd: ['/bin/sh', '-c', markers.command(id, COMMAND, true)],
          Labels: { [BENCH_LABEL]: '1' },
          HostConfig: { NetworkMode: 'host', Binds: [`${markers.dir}:${CONTAINER_MARKER_DIR}:rw`] },
        });
        await c.start();
      }),
    ),
  );
  const bad = results.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
  let end = 0;
  if (!bad)
    end = await withTimeout(
      markers.expect(ids),
      120_000,
      () => `docker api: ${markers.stats(ids).seen} of ${n} markers`,
    );
  const seconds = (end - t0) / 1000;
  const cpuMs = cpu.stop();
  await removeBenchContainers(docker, [`${BENCH_LABEL}=1`]);
  if (bad) throw new Error(`docker create/start failed: ${(bad.reason as Error).message}`);
  return { seconds, cpuMs, markers: markers.stats(ids) };
}

/** N × `docker run -d --network host IMAGE /bin/sh -c COMMAND`, concurrently. */
export async function rawDockerCliRound(
  markers: MarkerMeter,
  docker: Docker,
  image: string,
  n: number,
  tag: string,
  cpu: CpuMeter,
): Promise<Timed> {
  const ids = Array.from({ length: n }, (_, i) => `cli-docker-${tag}-${i}`);
  cpu.start();
  const t0 = monoMs();
  const results = await track(
    Promise.all(
      ids.map((id) =>
        execFileP('docker', [
          'run',
          '-d',
          '--network',
          'host',
          '--label',
          `${BENCH_LABEL}=1`,
          '-v',
          `${markers.dir}:${CONTAINER_MARKER_DIR}:rw`,
          '--name',
          `bench-cli-${tag}-${id}`,
          image,
          '/bin/sh',
          '-c',
          markers.command(id, COMMAND, true),
        ]),
      ),
    ),
  );
  const bad = results.find((r) => !r.ok);
  let end = 0;
  if (!bad)
    end = await withTimeout(
      markers.expect(ids),
      120_000,
      () => `docker cli: ${markers.stats(ids).seen} of ${n} markers`,
    );
  const seconds = (end - t0) / 1000;
  const cpuMs = cpu.stop();
  await removeBenchContainers(docker, [`${BENCH_LABEL}=1`]);
  if (bad) throw new Error(`docker run failed: ${bad.out}`);
  return { seconds, cpuMs, markers: markers.stats(ids) };
}
