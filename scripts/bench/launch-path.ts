/**
 * The agent's launch path alone, without master or framework:
 * `node dist/scripts/bench/launch-path.js [--containerizer linux|posix] [--tasks 100] [--rounds 5]
 * [--processes 2] [--json]`.
 *
 * This process plays the agent: it calls the containerizer's `launch()` N times in one turn (as the
 * agent does for one ACCEPT), through its own launcher processes (`--processes`, the agent's
 * `--launcher_processes`), and waits for every task's marker (`echo ID > FIFO; exec sleep 600`,
 * stamped by the same tiny reader as launch.ts). Per round it prints the wall time from the first
 * `launch()` to the last `started` and to the last marker, and the CPU per task of this process,
 * the launchers, their spawn helpers and, on linux, of everything in the tasks' cgroups (the
 * tasks' own processes from the moment they are inside: cpuacct, in ns). Then it kills the round's
 * tasks and waits for them (not timed).
 *
 * For comparing versions of the launch path in the same minutes (A, B, A, B...), not against the
 * raw rate: that is launch.ts. A benchmark, not a test: it prints and exits 0; root for linux.
 */
import { existsSync, mkdirSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { LinuxContainerizer } from '../../agent/containerizer/linux.js';
import { PosixContainerizer } from '../../agent/containerizer/posix.js';
import { isAlive, pidsWhere, readProcStat } from '../../agent/containerizer/proc.js';
import type { Containerizer, RunningContainer } from '../../agent/containerizer/types.js';
import { Launcher } from '../../agent/launcher/client.js';
import type { TaskInfo } from '../../sdk/protocol/types.js';
import { live } from './launch-cleanup.js';
import { MarkerMeter, monoMs } from './launch-markers.js';
import { addThreadsMs, cpuSecs, launcherThreadsMs, median, round2 } from './launch-meter.js';

function flag(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : def;
}

const kind = flag('containerizer', 'linux');
const tasks = Number(flag('tasks', '100'));
const rounds = Number(flag('rounds', '5'));
const processes = Number(flag('processes', '2'));
const json = process.argv.includes('--json');
const ROOT = `agora-path-${process.pid}`;

function childrenOf(pids: number[], comm: string): number[] {
  return pidsWhere(
    (pid) => pids.includes(readProcStat(pid)?.ppid ?? -1) && readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === comm,
  );
}

function sumCpuMs(pids: number[]): number {
  return pids.reduce((s, p) => s + (cpuSecs(p) ?? 0), 0) * 1000;
}

/** CPU ms a process has run so far (/proc/<pid>/schedstat, ns), 0 when gone. */
function schedMs(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    return Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
  } catch {
    return 0;
  }
}

/** CPU ms so far by kind of thread: the launchers' and helpers' (launcherThreadsMs), and this process's (the agent's part). */
function threadCpu(launchers: number[], helpers: number[]): Record<string, number> {
  const out = launcherThreadsMs(launchers, helpers);
  out.self_main = 0;
  out.self_other = 0;
  addThreadsMs(out, process.pid, 'self_main', 'self_other');
  return out;
}

function selfCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** CPU ms so far of everything in the tasks' cgroups (the parent's usage less the launchers' home). */
function cpuacctMs(cz: Containerizer): number | undefined {
  if (!(cz instanceof LinuxContainerizer)) return undefined;
  const base = cz.cgroups.bases().cpuacct;
  if (!base) return undefined;
  const usage = (dir: string) => {
    try {
      return Number(readFileSync(path.join(dir, 'cpuacct.usage'), 'utf8')) / 1e6;
    } catch {
      return 0;
    }
  };
  return usage(base) - usage(path.join(base, '+launcher'));
}

function task(id: string, command: string): TaskInfo {
  return {
    name: id,
    task_id: id,
    agent_id: 'path-bench',
    resources: [
      { name: 'cpus', type: 'SCALAR', scalar: { value: 0.1 } },
      { name: 'mem', type: 'SCALAR', scalar: { value: 32 } },
    ],
    command: { value: command },
    container: { type: 'MESOS' },
  };
}

async function main(): Promise<void> {
  const logger = pino({ level: 'warn' });
  const launcher = new Launcher({ processes, logger });
  const work = path.join(tmpdir(), `agora-path-${process.pid}`);
  mkdirSync(work, { recursive: true });
  live.dirs.push(work);
  const cz: Containerizer =
    kind === 'linux'
      ? new LinuxContainerizer({
          launcher,
          logger,
          cgroupsRoot: ROOT,
          parentCpuShares: { mode: 'explicit', shares: Number(flag('parent-shares', '2048')) },
        })
      : new PosixContainerizer({ launcher });
  const avail = await cz.available();
  if (!avail.ok) {
    console.log(`${kind}: skipped: ${avail.reason}`);
    return;
  }
  const markers = new MarkerMeter();
  await markers.ready;
  const rows: Record<string, number>[] = [];
  for (let r = 0; r <= rounds; r++) {
    const ids = Array.from({ length: tasks }, (_, i) => `p${process.pid}-r${r}-t${i}`);
    const launchers = launcher.pids;
    const helpers = childrenOf(launchers, 'agora-spawn');
    const load = loadavg()[0];
    const c0 = { self: selfCpuMs(), launchers: sumCpuMs(launchers), helpers: sumCpuMs(helpers), tasks: cpuacctMs(cz) };
    const th0 = threadCpu(launchers, helpers);
    const t0 = monoMs();
    const done = markers.expect(ids);
    const started = ids.map((id) => {
      const sandbox = path.join(work, id);
      return cz.launch({
        frameworkId: 'path-bench',
        agentId: 'path-bench',
        env: {},
        task: task(id, markers.command(id, 'sleep 600')),
        sandbox,
      });
    });
    const running: RunningContainer[] = await Promise.all(started);
    const tStarted = monoMs();
    const tLast = await done;
    const taskCpu = running.reduce((sum, c) => sum + schedMs(c.handle.pid), 0);
    const th1 = threadCpu(launcher.pids, childrenOf(launcher.pids, 'agora-spawn'));
    const threads: Record<string, number> = {};
    for (const k of Object.keys(th1)) threads[`t_${k}`] = round2((th1[k] - (th0[k] ?? 0)) / tasks);
    const c1 = {
      self: selfCpuMs(),
      launchers: sumCpuMs(launcher.pids),
      helpers: sumCpuMs(childrenOf(launcher.pids, 'agora-spawn')),
      tasks: cpuacctMs(cz),
    };
    const row: Record<string, number> = {
      round: r,
      load: round2(load),
      started_ms: round2(tStarted - t0),
      marker_ms: round2(tLast - t0),
      rate: round2((tasks * 1000) / (tLast - t0)),
      self_ms: round2((c1.self - c0.self) / tasks),
      launcher_ms: round2((c1.launchers - c0.launchers) / tasks),
      helper_ms: round2((c1.helpers - c0.helpers) / tasks),
      task_pids_ms: round2(taskCpu / tasks),
      tasks_ms: c0.tasks !== undefined && c1.tasks !== undefined ? round2((c1.tasks - c0.tasks) / tasks) : -1,
      ...threads,
    };
    if (r > 0) rows.push(row);
    if (json) console.log(JSON.stringify({ containerizer: kind, ...row, warmup: r === 0 }));
    else
      console.log(
        `${kind} r${r}${r === 0 ? ' (warm-up)' : ''}: load ${row.load}, started ${row.started_ms} ms, last marker ${row.marker_ms} ms (${row.rate}/s); CPU ms/task: agent-side ${row.self_ms}, launchers ${row.launcher_ms}, helpers ${row.helper_ms}, in task cgroups ${row.tasks_ms}, the task processes ${row.task_pids_ms}; by thread (schedstat): launcher main ${row.t_launcher_main}, prepare ${row.t_prepare}, launcher other ${row.t_launcher_other}, helpers ${row.t_helper}, agent-side main ${row.t_self_main}, other ${row.t_self_other}`,
      );
    await Promise.all(running.map((c) => c.kill(0)));
    await Promise.all(running.map((c) => c.wait()));
    for (const id of ids) rmSync(path.join(work, id), { recursive: true, force: true });
  }
  const med = (k: string) => round2(median(rows.map((x) => x[k])));
  const summary = {
    containerizer: kind,
    tasks,
    rounds,
    rate: med('rate'),
    marker_ms: med('marker_ms'),
    started_ms: med('started_ms'),
    self_ms: med('self_ms'),
    launcher_ms: med('launcher_ms'),
    helper_ms: med('helper_ms'),
    tasks_ms: med('tasks_ms'),
    task_pids_ms: med('task_pids_ms'),
    t_launcher_main: med('t_launcher_main'),
    t_prepare: med('t_prepare'),
    t_launcher_other: med('t_launcher_other'),
    t_helper: med('t_helper'),
    t_self_main: med('t_self_main'),
    t_self_other: med('t_self_other'),
  };
  console.log(json ? JSON.stringify({ summary }) : `median: ${JSON.stringify(summary)}`);
  markers.stop();
  const pids = [...launcher.pids, ...childrenOf(launcher.pids, 'agora-spawn')];
  launcher.close();
  // The launchers and their helpers exit once their (killed) tasks are gone.
  for (let i = 0; i < 100 && pids.some((p) => isAlive(p)); i++) await new Promise((r) => setTimeout(r, 50));
  if (cz instanceof LinuxContainerizer) {
    for (const base of new Set(Object.values(cz.cgroups.bases()))) {
      for (const d of [path.join(base, '+launcher'), base]) {
        try {
          if (existsSync(d)) rmdirSync(d);
        } catch {
          // busy
        }
      }
    }
  }
  rmSync(work, { recursive: true, force: true });
}

await main();
process.exit(0);
