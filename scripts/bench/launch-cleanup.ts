/**
 * Everything the launch benchmark starts (processes, cgroups, containers, daemons, the framework),
 * so that the end, or Ctrl-C, removes it all.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { detectLayout } from '../../agent/containerizer/cgroups.js';
import type { SchedulerDriver } from '../../sdk/scheduler/driver.js';
import { getJson, killProcessesMentioning, sleep, stopAll, waitFor } from '../../testkit/processes.js';
import { log } from './launch-meter.js';
import { BENCH_LABEL } from './launch-options.js';

/** Everything started, so that the end (or Ctrl-C) can remove it. */
export const live = {
  children: new Set<ChildProcess>(),
  /** The marker reader and the raw spawner (alive for the whole run). */
  helpers: new Set<ChildProcess>(),
  /** Raw tasks started by the spawner: their process groups. */
  groups: new Set<number>(),
  cgroupDirs: new Set<string>(),
  cgroupBases: new Set<string>(),
  dirs: [] as string[],
  driver: undefined as SchedulerDriver | undefined,
  agentWorkDir: undefined as string | undefined,
  agentUrl: undefined as string | undefined,
  docker: undefined as Docker | undefined,
  frameworkId: undefined as string | undefined,
  /** Raw docker rounds under way: the engine finishes what it was asked even if we stop asking. */
  inflight: new Set<Promise<unknown>>(),
};

/** Keeps `p` in live.inflight until it settles. */
export function track<T>(p: Promise<T>): Promise<T> {
  live.inflight.add(p);
  const drop = () => live.inflight.delete(p);
  p.then(drop, drop);
  return p;
}

export async function killChildren(): Promise<void> {
  const all = [...live.children];
  live.children.clear();
  await Promise.all(
    all.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null || !c.pid) return resolve();
          c.once('exit', () => resolve());
          try {
            process.kill(-c.pid, 'SIGKILL');
          } catch {
            try {
              c.kill('SIGKILL');
            } catch {
              // gone
            }
          }
          setTimeout(resolve, 5000).unref();
        }),
    ),
  );
}

/** SIGKILL to each process group the raw spawner started, then waits (5 s at most) until they are gone. */
export async function killGroups(): Promise<void> {
  const all = [...live.groups];
  live.groups.clear();
  for (const g of all) {
    try {
      process.kill(-g, 'SIGKILL');
    } catch {
      // gone
    }
  }
  const until = Date.now() + 5000;
  const alive = (pid: number) => {
    try {
      return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    } catch {
      return false;
    }
  };
  while (Date.now() < until && all.some(alive)) await sleep(20);
}

export async function removeCgroupDirs(dirs: Iterable<string>): Promise<void> {
  for (const d of dirs) {
    for (let i = 0; i < 100 && existsSync(d); i++) {
      try {
        for (const pid of readFileSync(join(d, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) {
          try {
            process.kill(Number(pid), 'SIGKILL');
          } catch {
            // gone
          }
        }
        rmdirSync(d);
      } catch {
        await sleep(20);
      }
    }
    live.cgroupDirs.delete(d);
  }
}

export async function removeBenchContainers(docker: Docker, labels: string[]): Promise<number> {
  let n = 0;
  for (const label of labels) {
    const list = await docker.listContainers({ all: true, filters: { label: [label] } }).catch(() => []);
    await Promise.all(
      list.map((c) =>
        docker
          .getContainer(c.Id)
          .remove({ force: true, v: true })
          .catch(() => undefined),
      ),
    );
    n += list.length;
  }
  return n;
}

let cleaning: Promise<void> | undefined;

export function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    // 1. Our framework's tasks: tear the framework down, the master tells the agent to kill them.
    if (live.driver?.subscribed) {
      await live.driver.teardown().catch(() => undefined);
      if (live.agentUrl) {
        await waitFor(
          'the agent to kill the tasks',
          async () => {
            const s = await getJson(`${live.agentUrl}/state`);
            return (s.frameworks ?? []).every((f: { executors: { tasks: unknown[] }[] }) =>
              f.executors.every((e) => e.tasks.length === 0),
            );
          },
          30_000,
          200,
        ).catch(() => undefined);
      }
    } else {
      await live.driver?.stop().catch(() => undefined);
    }
    // 2. Raw processes and hand-made cgroups.
    await killChildren();
    await killGroups();
    for (const h of live.helpers) h.kill('SIGKILL');
    live.helpers.clear();
    await removeCgroupDirs([...live.cgroupDirs]);
    // 3. The daemons.
    await stopAll();
    // 4. Anything the agent left behind (it was killed, or did not get to it): task processes carry
    //    the agent's work dir in their argv; docker tasks carry its labels; linux tasks have cgroups.
    if (live.agentWorkDir) {
      killProcessesMentioning(live.agentWorkDir);
    }
    if (live.docker) {
      // Let raw docker rounds under way finish first, or their containers would appear after the sweep.
      await Promise.race([Promise.allSettled([...live.inflight]), sleep(120_000)]);
      const labels = [`${BENCH_LABEL}=1`];
      if (live.frameworkId) labels.push(`agora.framework_id=${live.frameworkId}`);
      const n = await removeBenchContainers(live.docker, labels);
      if (n > 0) log(`cleanup: removed ${n} leftover container(s)`);
    }
    try {
      const agora = Object.values(detectLayout().own).map((d) => join(d, 'agora'));
      const ours = agora.flatMap((base) =>
        existsSync(base)
          ? readdirSync(base)
              .filter((n) => n.startsWith('bench-'))
              .map((n) => join(base, n))
          : [],
      );
      if (ours.length > 0) {
        log(`cleanup: removing ${ours.length} leftover task cgroup(s)`);
        await removeCgroupDirs(ours);
      }
    } catch {
      // no cgroups here
    }
    for (const b of live.cgroupBases) {
      try {
        rmdirSync(b);
      } catch {
        // busy or gone
      }
    }
    for (const d of live.dirs) rmSync(d, { recursive: true, force: true });
  })();
  return cleaning;
}
