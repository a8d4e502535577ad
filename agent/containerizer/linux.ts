/**
 * The linux containerizer: runs MESOS-type tasks (or tasks without a container) in their own pid,
 * mount, uts and ipc namespaces (and network namespace on request), inside cgroups that cap memory
 * and share CPU, in the spirit of Mesos's linux launcher with the cgroups isolators.
 *
 * Process tree of one task, with the launcher's spawn helper (agent/launcher/spawn-helper.c):
 *
 *   the agent's launcher ── agora-spawn (its spawn helper: clones, records the exit status)
 *    └─ the task's command: pid 1 of its own pid namespace, in the task's cgroups (host pid =
 *       handle.pid), switched to the task's user right before its exec
 *
 * and without it (no C compiler on the agent):
 *
 *   the agent's launcher (outside the task's cgroups; records the exit status)
 *    └─ unshare --pid --fork --mount-proc --mount --uts --ipc [--net] --kill-child
 *         (U, host pid = handle.pid, in the task's cgroups, detached from the agent)
 *        └─ the task's command, pid 1 of its own pid namespace (through setpriv, which execs
 *           it as the task's user, when the task has one)
 *
 * Either way the spawner joins the task's cgroups for the clone, so the task is born inside them
 * and every process of the task is accounted from its first instruction. The top process exits as
 * the task did (unshare passes its child's end on); the spawner records that in
 * `<sandbox>/.agora-exit-status`, so the status survives an agent that died meanwhile (the
 * launcher and its helper outlive the agent until their tasks have ended).
 */

import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { type Logger, pino } from 'pino';
import type { TaskInfo } from '../../sdk/protocol/types.js';
import { Resources } from '../../sdk/resources/resources.js';
import { type Clock, systemClock, type Timer } from '../../sdk/util/clock.js';
import { type LaunchedProcess, type Launcher, sharedLauncher } from '../launcher/client.js';
import type { LaunchRequest } from '../launcher/protocol.js';
import { findSetpriv, isOwnIdentity, SANDBOX_MODE, setprivArgs } from './as-user.js';
import { type CgroupSet, Cgroups, cgroupName } from './cgroups.js';
import { awaitExitStatus, EXIT_STATUS_FILE } from './exit-status.js';
import { applyParentWeight, type ParentCpuShares } from './parent-weight.js';
import { isSameProcessAlive, shellStatus, signalOfStatus } from './proc.js';
import {
  type ContainerExit,
  type ContainerHandle,
  type Containerizer,
  ContainerLaunchError,
  type LaunchSpec,
  type RecoveredGone,
  type ResourceStatistics,
  type RunningContainer,
  resolveGraceMs,
} from './types.js';

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * Runs first inside the namespaces when the task needs more set up there:
 * `sh -c INIT agora-init <hostname> <lo up?> <command...>`. Without a hostname or a network
 * namespace, unshare starts the command itself (one program fewer per launch).
 */
const INIT = [
  'h=$1; lo=$2; shift 2',
  'if [ -n "$h" ]; then hostname "$h" || exit 126; fi',
  'if [ "$lo" = 1 ]; then ip link set lo up 2>/dev/null; fi',
  'exec "$@"',
].join('\n');

/** The cpu controller's limit files (v1 `cpu.shares`, `cpu.cfs_*`; v2 `cpu.weight`, `cpu.max`). */
function isCpuWeight(file: string): boolean {
  return path.basename(file).startsWith('cpu.');
}

/** The launcher's own cgroup under the agora root (v1), see LinuxContainerizer.launcherHome. */
const LAUNCHER_HOME = '+launcher';

export interface LinuxContainerizerOptions {
  logger?: Logger;
  /** A Cgroups manager; by default one nesting under this process's cgroups in `cgroupsRoot`. */
  cgroups?: Cgroups;
  /** Directory under the agent's own cgroup for the tasks' cgroups (default `agora`). */
  cgroupsRoot?: string;
  /** Cap CPU time with a CFS quota besides shares (Mesos `--cgroups_enable_cfs`; default false). */
  cfsQuota?: boolean;
  /** Path of util-linux `unshare` (default: found on PATH). */
  unsharePath?: string;
  /** How often a recovered task (no longer the agent's child) is checked; default 500 ms. */
  pollIntervalMs?: number;
  /** Grace between SIGTERM and SIGKILL when neither kill() nor the task's kill_policy gives one (default 3 s). */
  defaultGraceMs?: number;
  /** The launcher that creates the cgroups and starts the tasks (default: one shared by the process). */
  launcher?: Launcher;
  /** Arms the kill grace and recovery poll timers (default the system clock). */
  clock?: Clock;
  /** The cpu weight of the tasks' parent cgroup (see parent-weight.ts; default: left as it is). */
  parentCpuShares?: ParentCpuShares;
  /** The agent's work dir, where the parent weight it set is recorded (see parent-weight.ts). */
  workDir?: string;
}

/** What the linux containerizer keeps in `ContainerHandle.data`. */
interface LinuxHandleData {
  cgroups: CgroupSet;
  sandbox: string;
  cpus: number;
  memMb: number;
  /** The top process is the task's own, pid 1 of its namespace (spawn helper), not unshare. */
  direct?: boolean;
}

function pidNamespace(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/pid`);
  } catch {
    return undefined;
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

function findOnPath(name: string): string | undefined {
  for (const dir of [...(process.env.PATH ?? '').split(':'), '/usr/bin', '/bin', '/usr/sbin', '/sbin']) {
    if (!dir) continue;
    const p = path.join(dir, name);
    if (existsSync(p)) return p;
  }
  return undefined;
}

function run(file: string, args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: 30_000 }, (err, _stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
      resolve({ code, stderr: String(stderr || (err ? err.message : '')).trim() });
    });
  });
}

/** How unshare (the task's top process) ended, when the launcher saw it end (undefined: only seen gone by pid). */
type TopEnd = { code: number | null; signal: NodeJS.Signals | null } | undefined;

class LinuxContainer implements RunningContainer {
  private killed = false;
  private detached = false;
  private ended = false;
  private readonly done: Promise<ContainerExit>;

  constructor(
    readonly handle: ContainerHandle,
    private readonly owner: LinuxContainerizer,
    private readonly task: TaskInfo,
    private readonly exited: Promise<TopEnd>,
  ) {
    this.done = exited.then(async (end) => {
      this.ended = true;
      if (this.detached) return new Promise<ContainerExit>(() => undefined);
      return this.owner.finish(this.data, this.killed, end, false);
    });
  }

  private get data(): LinuxHandleData {
    return this.handle.data as unknown as LinuxHandleData;
  }

  wait(): Promise<ContainerExit> {
    return this.done;
  }

  async kill(gracePeriodMs: number): Promise<void> {
    if (this.ended) return;
    this.killed = true;
    const grace = this.owner.graceFor(this.task, gracePeriodMs);
    const top = this.handle.pid as number;
    const cg = this.owner.cgroups;
    const set = this.data.cgroups;
    // SIGTERM to every process inside the task's pid namespace (unshare, when there is one, lives
    // outside it). The namespace's init only gets it if it handles SIGTERM, like pid 1 in a docker
    // container.
    const direct = this.data.direct === true;
    const hostNs = direct ? pidNamespace(process.pid) : (pidNamespace(top) ?? pidNamespace(process.pid));
    for (const pid of await cg.pids(set)) {
      const ns = pidNamespace(pid);
      if ((direct || pid !== top) && ns !== undefined && ns !== hostNs) signal(pid, 'SIGTERM');
    }
    if (grace > 0) await this.owner.exitOrTimeout(this.exited, grace);
    // Then SIGKILL everything, unshare too: it passes most signals on as its own end, but not
    // SIGKILL (util-linux exits 1 then). Killing the namespace's init makes the kernel kill every
    // other process of the namespace.
    for (let round = 0; !this.ended && round < 100; round++) {
      for (const pid of await cg.pids(set)) signal(pid, 'SIGKILL');
      await this.owner.exitOrTimeout(this.exited, 50);
    }
    if (!this.ended) signal(top, 'SIGKILL');
    await this.exited;
  }

  detach(): void {
    this.detached = true;
  }
}

/** Runs MESOS tasks in namespaces and cgroups. */
export class LinuxContainerizer implements Containerizer {
  readonly name = 'linux';
  readonly cgroups: Cgroups;
  readonly logger: Logger;
  private readonly opts: LinuxContainerizerOptions;
  private availability: Promise<{ ok: true } | { ok: false; reason: string }> | undefined;
  private readonly running = new Set<LinuxContainer>();
  private readonly pollers = new Set<Timer>();
  readonly clock: Clock;
  private readonly launcher: Launcher;
  private unsharePath: string | undefined;
  /** v1: controller → the launcher's home `tasks` file (see launcherHome); null: not available. */
  private homeFiles: Map<string, string> | null | undefined;

  constructor(opts: LinuxContainerizerOptions = {}) {
    this.opts = opts;
    this.cgroups = opts.cgroups ?? new Cgroups({ root: opts.cgroupsRoot, clock: opts.clock });
    this.logger = opts.logger ?? pino({ level: 'silent' });
    this.launcher = opts.launcher ?? sharedLauncher();
    this.clock = opts.clock ?? systemClock;
  }

  /** Resolves when `exited` does or after `ms`, whichever comes first. */
  async exitOrTimeout(exited: Promise<unknown>, ms: number): Promise<void> {
    let timer: Timer | undefined;
    await Promise.race([exited, new Promise((r) => (timer = this.clock.setTimeout(() => r(undefined), ms)))]);
    timer?.cancel();
  }

  /** util-linux `nsenter` (a later task of a group enters the group's network namespace through it). */
  private nsenter(): string {
    const found = findOnPath('nsenter');
    if (!found)
      throw new ContainerLaunchError(
        "util-linux 'nsenter' was not found on PATH: cannot join the task group's network",
      );
    return found;
  }

  /** util-linux `unshare`, looked up once. */
  private get unshare(): string | undefined {
    this.unsharePath ??= this.opts.unsharePath ?? findOnPath('unshare');
    return this.unsharePath;
  }

  available(): Promise<{ ok: true } | { ok: false; reason: string }> {
    this.availability ??= this.probe();
    return this.availability;
  }

  private async probe(): Promise<{ ok: true } | { ok: false; reason: string }> {
    if (process.platform !== 'linux') return { ok: false, reason: 'the linux containerizer needs Linux' };
    if (process.getuid?.() !== 0) {
      return { ok: false, reason: 'the linux containerizer needs root (it creates namespaces and cgroups)' };
    }
    const unshare = this.unshare;
    if (!unshare) {
      // The spawn helper makes the namespaces itself; without it, unshare is the way.
      if (this.launcher.nativeSpawn) return this.prepareCgroups();
      return { ok: false, reason: "util-linux 'unshare' was not found on PATH (apt-get install util-linux)" };
    }
    const ns = await run(unshare, [
      '--pid',
      '--fork',
      '--mount-proc',
      '--mount',
      '--uts',
      '--ipc',
      '--kill-child',
      '--',
      '/bin/sh',
      '-c',
      'true',
    ]);
    if (ns.code !== 0) {
      return { ok: false, reason: `${unshare} could not create pid/mount/uts/ipc namespaces: ${ns.stderr}` };
    }
    return this.prepareCgroups();
  }

  /** Checks (and makes) the parent cgroup, then gives it its cpu weight; a weight not set is only logged. */
  private async prepareCgroups(): Promise<{ ok: true } | { ok: false; reason: string }> {
    const cg = await this.cgroups.check();
    if (!cg.ok) return cg;
    if (this.opts.parentCpuShares) {
      await applyParentWeight(this.cgroups, this.opts.parentCpuShares, this.opts.workDir, this.logger).catch(
        (err: unknown) => this.logger.warn({ err }, "could not set the cpu weight of the tasks' parent cgroup"),
      );
    }
    return { ok: true };
  }

  canLaunch(task: TaskInfo): boolean {
    const c = task.container;
    if (c && c.type !== 'MESOS') return false;
    return c?.containerizer === undefined || c.containerizer === 'linux';
  }

  async launch(spec: LaunchSpec): Promise<RunningContainer> {
    const { task, sandbox } = spec;
    const avail = await this.available();
    if (!avail.ok) throw new ContainerLaunchError(`the linux containerizer cannot run here: ${avail.reason}`);
    const cmd = task.command;
    if (!cmd?.value)
      throw new ContainerLaunchError(`task ${task.task_id} has no command to run`, 'REASON_TASK_INVALID');

    const res = Resources.from(task.resources);
    const cpus = res.scalar('cpus');
    const memMb = res.scalar('mem');
    const stale = this.cgroupPaths(task.task_id);
    if (stale && this.cgroups.exists(stale)) {
      await this.cgroups.destroy(stale).catch((err: unknown) => {
        throw new ContainerLaunchError(`could not remove the stale cgroups of task ${task.task_id}: ${String(err)}`);
      });
    }
    const plan = this.cgroups.plan(task.task_id, {
      memBytes: memMb > 0 ? memMb * 1024 * 1024 : undefined,
      cpus,
      cfsQuota: this.opts.cfsQuota ?? false,
    });
    const set = plan.set;

    const statusFile = path.join(sandbox, EXIT_STATUS_FILE);
    const group = spec.group;
    // A later task of a group enters the group's network namespace (nsenter, then unshare as usual).
    const joinNetns = group?.netnsPath;
    const netIsolation = !joinNetns && (task.container?.network_isolation === true || group?.newNetns === true);
    const hostname = task.container?.hostname;
    const user = spec.user;
    // The namespaces need root: the switch to the task's user happens inside them, last, by
    // setpriv; unless the user is who the launcher already is (then setpriv would change nothing
    // and only cost an exec per task).
    const switchTo = user && !isOwnIdentity(user) ? user : undefined;
    const env: Record<string, string> = { PATH: DEFAULT_PATH, ...spec.env, MESOS_SANDBOX: sandbox };
    const taskCommand = cmd.shell === false ? [cmd.value, ...(cmd.arguments ?? [])] : ['/bin/sh', '-c', cmd.value];
    const common = {
      cwd: sandbox,
      env,
      stdout: path.join(sandbox, 'stdout'),
      stderr: path.join(sandbox, 'stderr'),
      statusFile,
      cgroups: {
        join: this.cgroups.joinFiles(set),
        leave: this.launcherHome(set),
        // The launcher's own cgroups (it is this process's child): where its posix tasks start.
        home: this.cgroups.ownJoinFiles(set),
      },
      // The cpu limits once the child has exec'd (see LaunchRequest.afterSpawn).
      afterSpawn: plan.write.filter((w) => isCpuWeight(w.file)),
      prepare: {
        mkdir: [sandbox, ...plan.mkdir],
        unlink: [statusFile],
        write: plan.write.filter((w) => !isCpuWeight(w.file)),
        ...(user ? { chown: { path: sandbox, uid: user.uid, gid: user.gid, mode: SANDBOX_MODE } } : {}),
      },
    };
    // With the spawn helper the task's own process is cloned straight into its namespaces (pid 1
    // of its pid namespace) and switched to its user there: no unshare, setpriv or init shell.
    const direct = this.launcher.nativeSpawn;
    let request: Omit<LaunchRequest, 'id'>;
    if (direct) {
      request = {
        ...common,
        file: taskCommand[0],
        args: taskCommand.slice(1),
        ...(switchTo ? { user: { uid: switchTo.uid, gid: switchTo.gid, groups: switchTo.groups } } : {}),
        isolate: {
          namespaces: ['pid', 'mount', 'uts', 'ipc', ...(netIsolation ? (['net'] as const) : [])],
          ...(hostname ? { hostname } : {}),
          ...(netIsolation ? { loUp: true } : {}),
          ...(joinNetns ? { joinNet: joinNetns } : {}),
        },
      };
    } else {
      const setpriv = switchTo ? findSetpriv() : undefined;
      if (user && switchTo && !setpriv) {
        throw new ContainerLaunchError(
          `cannot run task ${task.task_id} as user '${user.name}': util-linux 'setpriv' was not found`,
        );
      }
      const command = [...(switchTo && setpriv ? [setpriv, ...setprivArgs(switchTo)] : []), ...taskCommand];
      const namespaces = ['--pid', '--fork', '--mount-proc', '--mount', '--uts', '--ipc'];
      if (netIsolation) namespaces.push('--net');
      const argv = [
        ...namespaces,
        '--kill-child',
        '--',
        ...(hostname || netIsolation
          ? ['/bin/sh', '-c', INIT, 'agora-init', hostname ?? '', netIsolation ? '1' : '0']
          : []),
        ...command,
      ];
      request = {
        ...common,
        file: joinNetns ? this.nsenter() : (this.unshare as string),
        args: joinNetns ? [`--net=${joinNetns}`, '--', this.unshare as string, ...argv] : argv,
      };
    }

    // The launcher makes the sandbox and the cgroups, then starts the task from inside the cgroups
    // (its spawner joins them for the clone), and records the exit status.
    let child: LaunchedProcess;
    try {
      child = await this.launcher.launch(request);
    } catch (err) {
      await this.cgroups.destroy(set).catch(() => undefined);
      const what = (err as { stage?: string }).stage === 'prepare' ? 'could not create cgroups for' : 'could not start';
      throw new ContainerLaunchError(`${what} task ${task.task_id}: ${(err as Error).message}`);
    }

    const data: LinuxHandleData = { cgroups: set, sandbox, cpus, memMb, ...(direct ? { direct: true } : {}) };
    const handle: ContainerHandle = {
      containerizer: this.name,
      id: task.task_id,
      pid: child.pid,
      startTime: child.startTime,
      data: { ...data },
    };
    this.logger.info({ task: task.task_id, pid: child.pid, cgroups: set.paths }, 'linux container started');
    return this.track(new LinuxContainer(handle, this, task, child.exited));
  }

  async recover(handle: ContainerHandle, spec: LaunchSpec): Promise<RunningContainer | RecoveredGone> {
    const prior = (handle.data ?? {}) as Partial<LinuxHandleData>;
    const res = Resources.from(spec.task.resources);
    const data: LinuxHandleData = {
      cgroups: prior.cgroups ?? this.cgroupPaths(spec.task.task_id) ?? { version: 1, paths: {} },
      sandbox: prior.sandbox ?? spec.sandbox,
      cpus: prior.cpus ?? res.scalar('cpus'),
      memMb: prior.memMb ?? res.scalar('mem'),
      ...(prior.direct ? { direct: true } : {}),
    };
    const recovered: ContainerHandle = { ...handle, data: { ...data } };
    if (handle.pid && isSameProcessAlive(handle.pid, handle.startTime)) {
      this.logger.info({ task: spec.task.task_id, pid: handle.pid }, 'recovered running linux container');
      const pid = handle.pid;
      const start = handle.startTime;
      const exited = new Promise<TopEnd>((resolve) => {
        const timer = this.clock
          .setInterval(() => {
            if (isSameProcessAlive(pid, start)) return;
            timer.cancel();
            this.pollers.delete(timer);
            resolve(undefined);
          }, this.opts.pollIntervalMs ?? 500)
          .unref();
        this.pollers.add(timer);
      });
      return this.track(new LinuxContainer(recovered, this, spec.task, exited));
    }
    return { gone: true, exit: await this.finish(data, false, undefined, true) };
  }

  async usage(handle: ContainerHandle): Promise<ResourceStatistics | undefined> {
    const data = handle.data as unknown as LinuxHandleData | undefined;
    if (!data?.cgroups || !this.cgroups.exists(data.cgroups)) return undefined;
    const u = await this.cgroups.usage(data.cgroups);
    const out: ResourceStatistics = { timestamp: this.clock.now() / 1000 };
    if (u.cpuUserSecs !== undefined) out.cpus_user_time_secs = u.cpuUserSecs;
    if (u.cpuSystemSecs !== undefined) out.cpus_system_time_secs = u.cpuSystemSecs;
    if (data.cpus) out.cpus_limit = data.cpus;
    if (u.memRssBytes !== undefined) out.mem_rss_bytes = u.memRssBytes;
    if (u.memLimitBytes !== undefined) out.mem_limit_bytes = u.memLimitBytes;
    return out;
  }

  /** Stops watching every task without touching it, as an agent that goes away would. */
  detach(): void {
    for (const c of this.running) c.detach();
    this.running.clear();
    for (const t of this.pollers) t.cancel();
    this.pollers.clear();
  }

  // ---- used by LinuxContainer ----

  /** The grace for a kill: the caller's when given (>= 0), else the task's kill policy, else the default. */
  graceFor(task: TaskInfo, requestedMs: number): number {
    return resolveGraceMs(task, requestedMs, this.opts.defaultGraceMs ?? 3000);
  }

  /** Turns the end of a task into a ContainerExit and removes its cgroups. */
  async finish(
    data: LinuxHandleData,
    killed: boolean,
    end: TopEnd | undefined,
    whileDown: boolean,
  ): Promise<ContainerExit> {
    const set = data.cgroups;
    let oom = false;
    let maxUsed: number | undefined;
    if (this.cgroups.exists(set)) {
      oom = await this.cgroups.oomKilled(set).catch(() => false);
      maxUsed = (await this.cgroups.usage(set).catch(() => undefined))?.memMaxUsageBytes;
      // Whatever outlived unshare (it should not) is killed with the cgroups.
      await this.cgroups
        .destroy(set)
        .catch((err: unknown) => this.logger.warn({ err, cgroups: set.paths }, 'could not remove cgroups'));
    }
    // The launcher's report when it saw the end; else (the agent was down, or the launcher died)
    // what the launcher recorded in the sandbox.
    const status = end ? shellStatus(end.code, end.signal) : await awaitExitStatus(data.sandbox, undefined, this.clock);
    let exit: ContainerExit;
    if (status !== undefined) {
      exit = { exitCode: status, signal: signalOfStatus(status), killed };
      if (!killed) exit.message = `Command exited with status ${status}`;
      else exit.message = 'Command killed on request';
    } else {
      exit = {
        exitCode: null,
        signal: null,
        killed,
        reason: 'REASON_EXECUTOR_TERMINATED',
        message: whileDown
          ? 'the task ended while the agent was down and left no exit status'
          : 'the task ended without recording an exit status',
      };
    }
    if (oom) {
      exit.reason = 'REASON_CONTAINER_LIMITATION_MEMORY';
      const used = maxUsed !== undefined ? ` (maximum used: ${Math.round(maxUsed / 1024 / 1024)} MB)` : '';
      exit.message = `Memory limit exceeded: the task hit its memory limit of ${data.memMb} MB${used} and the kernel killed it`;
    }
    return exit;
  }

  /**
   * Where the launcher's spawning thread goes back to after starting a task inside the task's
   * cgroups. On v1 that is `<agora root>/+launcher` in each hierarchy, not the agent's own cgroup:
   * moving a thread into or out of a root cpu cgroup (where an agent usually runs) costs about 5 ms
   * of kernel time per move here, between two non-root cpu cgroups about 1 ms, and the spawning
   * thread does it for every task. `+` is a character task cgroup names never contain (cgroupName),
   * so the directory cannot be a task's. It is created once and stays (empty when the agent stops).
   * v2, or a failure to create it: the agent's own cgroups, as before.
   */
  private launcherHome(set: CgroupSet): string[] {
    if (set.version !== 1) return this.cgroups.ownJoinFiles(set);
    if (this.homeFiles === undefined) {
      try {
        const dirs = [...new Set(Object.values(this.cgroups.bases()))].map((b) => path.join(b, LAUNCHER_HOME));
        for (const d of dirs) mkdirSync(d, { recursive: true });
        this.homeFiles = new Map(
          Object.entries(this.cgroups.bases()).map(([c, b]) => [c, path.join(b, LAUNCHER_HOME, 'tasks')]),
        );
      } catch (err) {
        this.logger.warn({ err }, "no cgroup of its own for the launcher; it returns to the agent's cgroups");
        this.homeFiles = null;
      }
    }
    if (this.homeFiles === null) return this.cgroups.ownJoinFiles(set);
    const home = this.homeFiles;
    return [
      ...new Set(
        Object.keys(set.paths)
          .map((c) => home.get(c))
          .filter((f): f is string => f !== undefined),
      ),
    ];
  }

  private cgroupPaths(taskId: string): CgroupSet | undefined {
    try {
      const layout = this.cgroups.layout();
      const name = cgroupName(taskId);
      const paths: Record<string, string> = {};
      for (const [c, base] of Object.entries(this.cgroups.bases())) paths[c] = path.join(base, name);
      return { version: layout.version, paths };
    } catch {
      return undefined;
    }
  }

  private track(c: LinuxContainer): LinuxContainer {
    this.running.add(c);
    c.wait().then(() => this.running.delete(c));
    return c;
  }
}
