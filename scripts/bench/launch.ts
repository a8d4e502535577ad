/**
 * Launch-throughput benchmark (not a test): tasks launched per second END TO END — from the
 * framework's first LAUNCH call to the N-th TASK_RUNNING the framework receives — through one real
 * agent, for each containerizer (posix, linux, docker), beside the raw rate of the same work without
 * Agora, measured in the same run and interleaved round by round (the machine is shared and noisy).
 *
 *   npm run bench:launch                                   build, then a table
 *   node dist/scripts/bench/launch.js --json               one JSON object per line per containerizer
 *   node dist/scripts/bench/launch.js --only posix --tasks 100 --rounds 3
 *
 * Flags:
 *   --tasks N          tasks per round for posix and linux (200)
 *   --docker-tasks N   tasks per round for docker (30)
 *   --rounds R         measured rounds per containerizer (5); --warmup W unmeasured ones first (1)
 *   --only LIST        e.g. posix,docker
 *   --batch K          tasks per ACCEPT (default: every task that fits, in one ACCEPT)
 *   --image IMG        docker image (agora/busybox:latest)
 *   --log-level L      master and agent log level (info, as shipped)
 *   --no-cli           skip the `docker run -d` (CLI) baseline
 *   --cpu-prof DIR     run the master and the agent under `node --cpu-prof` (profiles written into DIR at the end)
 *   --work-dir DIR     put the agent's work dir (sandboxes, checkpoint) under DIR (default: the temp dir),
 *                      e.g. /dev/shm to see the launch without the disk's file-system costs
 *   --json
 *
 * What one round is, per method (the timed part ends when the N-th task runs; killing them is not timed):
 *   agora     one master (--allocation_interval 100ms) + one agent (--containerizers posix,linux,docker,
 *             cpus:64;mem:65536), real processes through bin/agora started once; this process is the
 *             framework (SDK SchedulerDriver). A round starts when the whole agent is on offer (the last
 *             round's tasks are gone); all N tasks (`sleep 600`, cpus:0.1;mem:32, pinned to the
 *             containerizer) go out in one ACCEPT on the offers held (or --batch K per ACCEPT, the rest
 *             re-offered at once: refuse_seconds 0); time = first launch call → N-th TASK_RUNNING
 *             received. Offers left over are held, not declined: declining with refuse_seconds 0
 *             makes the master re-offer at once, a busy loop between master and framework.
 *   raw       posix and linux: `child_process.spawn('/bin/sh', ['-c', 'sleep 600'], {detached: true})`
 *             N times, time until all N 'spawn' events. docker: dockerode createContainer + start of the
 *             same image and command (host network, as Agora's default), N concurrently, time until
 *             all started. The ratio in the table is against these.
 *   by hand   (linux, extra) the isolation work without Agora: per task, memory/cpu/cpuacct cgroups
 *             with limits, then `sh` joins them, says so on fd 3 and execs `unshare --pid --fork
 *             --mount-proc --mount --uts --ipc --kill-child -- /bin/sh -c 'sleep 600'`; time until
 *             all N said so (the same point at which Agora's linux containerizer reports RUNNING).
 *   cli       (docker, extra) `docker run -d --network host IMAGE /bin/sh -c 'sleep 600'`, N concurrently.
 *
 * Besides the table it prints, for Agora, where the time goes (agent STARTING/RUNNING stamps
 * against the launch call) and, for every method, the CPU per task of the agent, the master, this
 * process, the agent's launcher process and (docker) dockerd and containerd, read from /proc: CPU is less at the mercy of other
 * tenants than wall time. `--cpu-prof DIR` adds V8 profiles of the master and the agent.
 *
 * Everything this starts (daemons, tasks, processes, containers, cgroups) is removed at the end,
 * also on Ctrl-C (exit status 0 either way).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import Docker from 'dockerode';
import { detectLayout } from '../../agent/containerizer/cgroups.js';
import { LinuxContainerizer } from '../../agent/containerizer/linux.js';
import { pidsWhere, readProcStat } from '../../agent/containerizer/proc.js';
import { isTerminal, type Offer, type TaskInfo, TaskState, type TaskStatus } from '../../sdk/protocol/types.js';
import { Resources } from '../../sdk/resources/resources.js';
import { SchedulerDriver } from '../../sdk/scheduler/driver.js';
import { AGORA_BIN, freePort, getJson, Proc, REPO_ROOT, sleep, tempDir, waitFor } from '../../test/support/cluster.js';

// ------------------------------------------------------------------------------------------ options

const CONTAINERIZERS = ['posix', 'linux', 'docker'] as const;
type Cz = (typeof CONTAINERIZERS)[number];

interface Options {
  tasks: number;
  dockerTasks: number;
  rounds: number;
  warmup: number;
  only: Cz[];
  batch: number;
  image: string;
  logLevel: string;
  cli: boolean;
  json: boolean;
  /** Start the master and the agent under `node --cpu-prof` writing into this directory. */
  cpuProf?: string;
  /** Parent directory of the agent's work dir. */
  workDir?: string;
}

const TARGET = 0.8;
const COMMAND = 'sleep 600';
const TASK_RESOURCES = 'cpus:0.1;mem:32';
const AGENT_RESOURCES = 'cpus:64;mem:65536;ports:[31000-32000]';
const BENCH_LABEL = 'agora-bench-launch';

function parseOptions(argv: string[]): Options {
  const o: Options = {
    tasks: 200,
    dockerTasks: 30,
    rounds: 5,
    warmup: 1,
    only: [...CONTAINERIZERS],
    batch: 0,
    image: 'agora/busybox:latest',
    logLevel: 'info',
    cli: true,
    json: false,
  };
  const int = (name: string, v: string | undefined, min: number): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} needs a whole number >= ${min}, got '${v}'`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const eq = a.indexOf('=');
    const name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
    const value = () => (eq >= 0 ? a.slice(eq + 1) : argv[++i]);
    switch (name) {
      case 'tasks':
        o.tasks = int(name, value(), 1);
        break;
      case 'docker-tasks':
        o.dockerTasks = int(name, value(), 1);
        break;
      case 'rounds':
        o.rounds = int(name, value(), 1);
        break;
      case 'warmup':
        o.warmup = int(name, value(), 0);
        break;
      case 'batch':
        o.batch = int(name, value(), 0);
        break;
      case 'only': {
        const list = (value() ?? '').split(',').map((s) => s.trim());
        const bad = list.filter((s) => !(CONTAINERIZERS as readonly string[]).includes(s));
        if (bad.length || !list.length)
          throw new Error(`--only takes ${CONTAINERIZERS.join(',')}; got '${bad.join(',')}'`);
        o.only = CONTAINERIZERS.filter((c) => list.includes(c));
        break;
      }
      case 'image':
        o.image = value() ?? o.image;
        break;
      case 'log-level':
        o.logLevel = value() ?? o.logLevel;
        break;
      case 'no-cli':
        o.cli = false;
        break;
      case 'json':
        o.json = true;
        break;
      case 'cpu-prof':
        o.cpuProf = value();
        break;
      case 'work-dir': {
        const d = value();
        if (!d || !existsSync(d)) throw new Error(`--work-dir needs an existing directory, got '${d}'`);
        o.workDir = d;
        break;
      }
      case 'help':
        console.log(readFileSync(new URL(import.meta.url), 'utf8').split('*/')[0]);
        process.exit(0);
        break;
      default:
        throw new Error(`unknown flag '${a}' (see --help)`);
    }
  }
  return o;
}

// ------------------------------------------------------------------------------------------ helpers

const nowMs = () => performance.timeOrigin + performance.now();

const round2 = (x: number) => Math.round(x * 100) / 100;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function log(msg: string): void {
  process.stderr.write(`${msg}\n`);
}

function execFileP(file: string, args: string[], timeoutMs = 120_000): Promise<{ ok: boolean; out: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: timeoutMs }, (err, stdout, stderr) => {
      resolve({ ok: !err, out: String(err ? stderr || err.message : stdout).trim() });
    });
  });
}

/** CPU seconds (user + system) of a pid so far, or undefined when it is gone. */
function cpuSecs(pid: number | undefined): number | undefined {
  if (!pid) return undefined;
  const st = readProcStat(pid);
  return st ? st.utimeSecs + st.stimeSecs : undefined;
}

function pidsByComm(names: string[]): number[] {
  return pidsWhere((pid) => names.includes(readFileSync(`/proc/${pid}/comm`, 'utf8').trim()));
}

/** The agent's launcher process (`agent/launcher/main.js`, a child of the agent), if it runs. */
function launcherPids(agentPid: number | undefined): number[] {
  if (!agentPid) return [];
  return pidsWhere(
    (pid) =>
      readProcStat(pid)?.ppid === agentPid && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('launcher/main.js'),
  );
}

/** CPU seconds used by a set of processes between `start()` and `stop()`. */
class CpuMeter {
  private before = new Map<string, number>();
  constructor(private readonly procs: () => Record<string, number[]>) {}
  start(): void {
    this.before = this.read();
  }
  stop(): Record<string, number> {
    const after = this.read();
    const out: Record<string, number> = {};
    for (const [k, v] of after) out[k] = Math.round((v - (this.before.get(k) ?? v)) * 1000);
    return out;
  }
  private read(): Map<string, number> {
    const m = new Map<string, number>();
    for (const [name, pids] of Object.entries(this.procs())) {
      if (name === 'bench') {
        const u = process.cpuUsage();
        m.set(name, (u.user + u.system) / 1e6);
        continue;
      }
      m.set(
        name,
        pids.reduce((s, p) => s + (cpuSecs(p) ?? 0), 0),
      );
    }
    return m;
  }
}

// ------------------------------------------------------------------------------------------ cleanup state

/** Everything started, so that the end (or Ctrl-C) can remove it. */
const live = {
  children: new Set<ChildProcess>(),
  cgroupDirs: new Set<string>(),
  cgroupBases: new Set<string>(),
  daemons: [] as Proc[],
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
function track<T>(p: Promise<T>): Promise<T> {
  live.inflight.add(p);
  const drop = () => live.inflight.delete(p);
  p.then(drop, drop);
  return p;
}

async function killChildren(): Promise<void> {
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

async function removeCgroupDirs(dirs: Iterable<string>): Promise<void> {
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

async function removeBenchContainers(docker: Docker, labels: string[]): Promise<number> {
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
/** Set on Ctrl-C (or SIGTERM): the run stops after cleaning up, and still exits 0. */
let interrupted = false;

function cleanup(): Promise<void> {
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
    await removeCgroupDirs([...live.cgroupDirs]);
    // 3. The daemons.
    await Promise.all(live.daemons.map((p) => p.kill('SIGTERM')));
    // 4. Anything the agent left behind (it was killed, or did not get to it): task processes carry
    //    the agent's work dir in their argv; docker tasks carry its labels; linux tasks have cgroups.
    if (live.agentWorkDir) {
      const wd = live.agentWorkDir;
      const left = pidsWhere((pid) => pid !== process.pid && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(wd));
      for (const pid of left) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
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

// ------------------------------------------------------------------------------------------ the cluster

/** bin/agora as its own process group, so that a Ctrl-C in the terminal reaches only this process. */
function daemon(name: string, args: string[], cpuProf?: string): Proc {
  const node = cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${cpuProf}`, `--cpu-prof-name=${name}.cpuprofile`] : [];
  const child = spawn(process.execPath, [...node, AGORA_BIN, ...args], {
    cwd: REPO_ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const p = new Proc(name, child);
  live.daemons.push(p);
  return p;
}

async function startCluster(
  o: Options,
  containerizers: Cz[],
): Promise<{ master: string; agentUrl: string; agent: Proc; masterProc: Proc }> {
  const masterDir = tempDir('bench-master');
  const agentDir = o.workDir ? mkdtempSync(join(o.workDir, 'agora-bench-agent-')) : tempDir('bench-agent');
  live.dirs.push(masterDir, agentDir);
  live.agentWorkDir = agentDir;
  const mport = await freePort();
  const masterProc = daemon(
    'master',
    [
      'master',
      '--port',
      String(mport),
      '--work_dir',
      masterDir,
      '--allocation_interval',
      '100ms',
      '--log_level',
      o.logLevel,
    ],
    o.cpuProf,
  );
  const murl = `http://127.0.0.1:${mport}`;
  await waitFor('the master to answer /health', async () => {
    if (masterProc.exited) throw new Error(`master exited: ${masterProc.text().slice(-2000)}`);
    return (await getJson(`${murl}/health`)).healthy;
  });
  const aport = await freePort();
  const agent = daemon(
    'agent',
    [
      'agent',
      '--master',
      `127.0.0.1:${mport}`,
      '--port',
      String(aport),
      '--work_dir',
      agentDir,
      '--containerizers',
      containerizers.join(','),
      '--resources',
      AGENT_RESOURCES,
      '--log_level',
      o.logLevel,
    ],
    o.cpuProf,
  );
  const agentUrl = `http://127.0.0.1:${aport}`;
  await waitFor('the agent to register', async () => {
    if (agent.exited) throw new Error(`agent exited: ${agent.text().slice(-2000)}`);
    return (await getJson(`${agentUrl}/state`)).registered;
  });
  live.agentUrl = agentUrl;
  return { master: `127.0.0.1:${mport}`, agentUrl, agent, masterProc };
}

// ------------------------------------------------------------------------------------------ the framework

interface Track {
  /** Agent's clock (epoch ms) when it queued STARTING / RUNNING. */
  startingAt?: number;
  runningAt?: number;
  /** Our clock (epoch ms) when RUNNING arrived. */
  runningRecv?: number;
  terminal?: TaskStatus;
}

interface RoundProfile {
  /** All in ms from the first launch call. */
  firstStarting: number;
  lastStarting: number;
  lastRunningStamped: number;
  total: number;
  /** Per task: STARTING → RUNNING as stamped by the agent (mostly the containerizer's launch). */
  launchMedian: number;
  launchMax: number;
  /** Per task: RUNNING stamped by the agent → received by the framework. */
  deliveryMedian: number;
  deliveryMax: number;
  accepts: number;
  cpuMs: Record<string, number>;
}

class BenchFramework {
  readonly driver: SchedulerDriver;
  readonly offers = new Map<string, Offer>();
  tracks = new Map<string, Track>();
  onOffers?: () => void;
  onRunning?: (id: string) => void;
  agentId?: string;
  errors: string[] = [];

  constructor(master: string) {
    this.driver = new SchedulerDriver({
      master,
      framework: { name: 'bench-launch', failover_timeout: 0, user: 'root' },
    });
    this.driver.on('offers', (offers) => {
      for (const o of offers) this.offers.set(o.id, o);
      this.onOffers?.();
    });
    this.driver.on('rescind', (id) => this.offers.delete(id));
    this.driver.on('error', (e) => this.errors.push(e.message));
    this.driver.on('update', (s) => this.onUpdate(s));
  }

  private onUpdate(s: TaskStatus): void {
    const t = this.tracks.get(s.task_id);
    if (!t) return;
    if (s.state === TaskState.STARTING) t.startingAt = s.timestamp * 1000;
    else if (s.state === TaskState.RUNNING && t.runningRecv === undefined) {
      t.runningRecv = nowMs();
      t.runningAt = s.timestamp * 1000;
      this.onRunning?.(s.task_id);
    } else if (isTerminal(s.state)) t.terminal = s;
  }

  offered(): Resources {
    let r = Resources.empty();
    for (const o of this.offers.values()) r = r.plus(Resources.from(o.resources).allocatableTo(o.allocation_role));
    return r;
  }
}

function taskInfo(cz: Cz, id: string, agentId: string, image: string): TaskInfo {
  const t: TaskInfo = {
    name: id,
    task_id: id,
    agent_id: agentId,
    resources: Resources.parse(TASK_RESOURCES).toList(),
    command: { value: COMMAND },
    kill_policy: { grace_period_seconds: 0 },
  };
  t.container =
    cz === 'docker'
      ? { type: 'DOCKER', docker: { image, network: 'HOST' }, containerizer: 'docker' }
      : { type: 'MESOS', containerizer: cz };
  return t;
}

/** One Agora round: launch n tasks as fast as offers allow, time to the n-th RUNNING; then kill them (untimed). */
async function agoraRound(
  fw: BenchFramework,
  o: Options,
  cz: Cz,
  n: number,
  tag: string,
  cpu: CpuMeter,
): Promise<{ seconds: number; profile: RoundProfile }> {
  const per = Resources.parse(TASK_RESOURCES);
  const agentCpus = Resources.parse(AGENT_RESOURCES).scalar('cpus');
  // Quiet start: the whole agent is back in offers (everything of the last round is gone).
  await waitFor('the whole agent to be offered', () => fw.offered().scalar('cpus') >= agentCpus, 60_000, 20).catch(() =>
    log(`  (warning: only ${fw.offered().scalar('cpus')} of ${agentCpus} cpus offered; starting anyway)`),
  );
  const first = [...fw.offers.values()][0];
  if (!first) throw new Error('no offer from the agent within 60 s');
  const agentId = first.agent_id;
  fw.agentId = agentId;
  const ids = Array.from({ length: n }, (_, i) => `bench-${cz}-${tag}-${i}`);
  fw.tracks = new Map(ids.map((id) => [id, {}]));
  fw.errors = [];
  const maxBatch = o.batch > 0 ? o.batch : n;
  let next = 0;
  let accepts = 0;
  let running = 0;
  let t1 = 0;
  let fail: string | undefined;
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  fw.onRunning = () => {
    if (++running === n) {
      t1 = nowMs();
      finish();
    }
  };
  // A task that ends, or an error from the master, ends the round (checked off the hot path).
  const check = setInterval(() => {
    const bad = [...fw.tracks.entries()].find(([, t]) => t.terminal);
    if (bad || fw.errors.length) {
      fail ??= bad
        ? `task ${bad[0]} ended ${bad[1].terminal?.state}: ${bad[1].terminal?.message ?? ''}`
        : fw.errors.join('; ');
      finish();
    }
  }, 50);
  const timeout = setTimeout(() => {
    fail ??= `timed out: ${running} of ${n} tasks running after 300 s`;
    finish();
  }, 300_000);
  const pump = () => {
    if (next >= n || fw.offers.size === 0) return;
    const offers = [...fw.offers.values()];
    let avail = fw.offered();
    const batch: TaskInfo[] = [];
    while (next < n && batch.length < maxBatch && avail.contains(per)) {
      batch.push(taskInfo(cz, ids[next++], agentId, o.image));
      avail = avail.minus(per);
    }
    if (batch.length === 0) return; // hold the offers until more comes back
    fw.offers.clear();
    accepts++;
    // What is left comes back at once (no refusal filter) as a new offer.
    fw.driver.launch(offers, batch, { refuse_seconds: 0 });
  };
  cpu.start();
  const t0 = nowMs();
  fw.onOffers = pump;
  pump();
  await done;
  const cpuMs = cpu.stop();
  clearInterval(check);
  clearTimeout(timeout);
  fw.onOffers = undefined;
  fw.onRunning = undefined;

  // Kill everything launched (untimed) and wait until it is gone.
  const launched = ids.slice(0, next);
  for (const id of launched) if (!fw.tracks.get(id)?.terminal) fw.driver.kill(id, agentId);
  await waitFor(
    `the ${cz} tasks of round ${tag} to be killed`,
    () => launched.every((id) => fw.tracks.get(id)?.terminal),
    180_000,
    50,
  );
  if (fail) throw new Error(fail);

  const tr = ids.map((id) => fw.tracks.get(id) as Track);
  const rel = (x: number) => Math.round(x - t0);
  const starting = tr.map((t) => t.startingAt ?? Number.NaN).filter(Number.isFinite);
  const launches = tr.filter((t) => t.startingAt && t.runningAt).map((t) => (t.runningAt ?? 0) - (t.startingAt ?? 0));
  const deliveries = tr.map((t) => (t.runningRecv ?? 0) - (t.runningAt ?? 0));
  return {
    seconds: (t1 - t0) / 1000,
    profile: {
      firstStarting: rel(Math.min(...starting)),
      lastStarting: rel(Math.max(...starting)),
      lastRunningStamped: rel(Math.max(...tr.map((t) => t.runningAt ?? 0))),
      total: rel(t1),
      launchMedian: Math.round(median(launches)),
      launchMax: Math.round(Math.max(...launches)),
      deliveryMedian: Math.round(median(deliveries)),
      deliveryMax: Math.round(Math.max(...deliveries)),
      accepts,
      cpuMs,
    },
  };
}

// ------------------------------------------------------------------------------------------ raw baselines

/** A timed part: seconds, and the CPU the watched processes used meanwhile. */
interface Timed {
  seconds: number;
  cpuMs: Record<string, number>;
}

/** N × spawn('/bin/sh', ['-c', COMMAND], {detached: true}); time until every 'spawn' event. */
async function rawSpawnRound(n: number, cpu: CpuMeter): Promise<Timed> {
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
class ByHandLinux {
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
async function rawDockerApiRound(docker: Docker, image: string, n: number, tag: string, cpu: CpuMeter): Promise<Timed> {
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
async function rawDockerCliRound(docker: Docker, image: string, n: number, tag: string, cpu: CpuMeter): Promise<Timed> {
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

// ------------------------------------------------------------------------------------------ availability

async function probe(o: Options, docker: Docker): Promise<Record<Cz, string | undefined>> {
  const why: Record<Cz, string | undefined> = { posix: undefined, linux: undefined, docker: undefined };
  if (o.only.includes('linux')) {
    const a = await new LinuxContainerizer().available();
    if (!a.ok) why.linux = a.reason;
  }
  if (o.only.includes('docker')) {
    try {
      await docker.ping();
      try {
        await docker.getImage(o.image).inspect();
      } catch {
        why.docker = `image ${o.image} is not present (bash scripts/docker.sh image)`;
      }
    } catch (e) {
      why.docker = `the Docker engine does not answer (${(e as Error).message}); run 'bash scripts/docker.sh all'`;
    }
  }
  return why;
}

// ------------------------------------------------------------------------------------------ measurement plan

interface Method {
  key: string;
  label: string;
  /** The baseline (the ratio and the target are against it). */
  primary: boolean;
  round: (tag: string, cpu: CpuMeter) => Promise<Timed>;
}

interface MethodResult {
  key: string;
  label: string;
  rates: number[];
  /** CPU ms per round of the processes watched (see CpuMeter), timed part only. */
  cpu: Record<string, number>[];
  error?: string;
}

interface CzResult {
  containerizer: Cz;
  tasks: number;
  skipped?: string;
  error?: string;
  agora?: MethodResult;
  baselines: MethodResult[];
  profiles: RoundProfile[];
  /** Agora rounds that failed and were run again, with why. */
  retried: string[];
}

function rateStats(rates: number[]) {
  return {
    median: rates.length ? median(rates) : Number.NaN,
    min: rates.length ? Math.min(...rates) : Number.NaN,
    max: rates.length ? Math.max(...rates) : Number.NaN,
  };
}

async function measure(
  o: Options,
  cz: Cz,
  n: number,
  fw: BenchFramework,
  baselines: Method[],
  cpu: CpuMeter,
): Promise<CzResult> {
  const res: CzResult = { containerizer: cz, tasks: n, baselines: [], profiles: [], retried: [] };
  const agora: MethodResult = { key: 'agora', label: `Agora (${cz})`, rates: [], cpu: [] };
  const base = baselines.map((m) => ({ m, r: { key: m.key, label: m.label, rates: [], cpu: [] } as MethodResult }));
  res.agora = agora;
  res.baselines = base.map((b) => b.r);
  const total = o.warmup + o.rounds;
  let retries = 0;
  for (let round = 0; round < total; round++) {
    const warm = round < o.warmup;
    const tag = `${warm ? 'w' : 'r'}${round}`;
    // Alternate the order every round so neither side always runs first (warm caches, drift).
    const agoraStep = async () => {
      // A round can fail for reasons outside Agora on a shared machine (e.g. another test suite
      // removing every container labelled agora.task_id): retry it, twice at most per containerizer.
      for (let attempt = 0; ; attempt++) {
        try {
          const { seconds, profile } = await agoraRound(fw, o, cz, n, attempt ? `${tag}a${attempt}` : tag, cpu);
          if (!warm) {
            agora.rates.push(n / seconds);
            agora.cpu.push(profile.cpuMs);
            res.profiles.push(profile);
          }
          log(
            `  ${cz} ${tag} agora: ${(n / seconds).toFixed(1)} tasks/s (${seconds.toFixed(2)} s)${warm ? ' [warm-up]' : ''}`,
          );
          return;
        } catch (e) {
          const msg = (e as Error).message;
          if (++retries > 2) throw e;
          res.retried.push(`${tag}: ${msg}`);
          log(`  ${cz} ${tag} agora: round failed (${msg}); running it again`);
        }
      }
    };
    const baseSteps = base.map(({ m, r }) => async () => {
      if (r.error) return;
      try {
        const { seconds, cpuMs } = await m.round(tag, cpu);
        if (!warm) {
          r.rates.push(n / seconds);
          r.cpu.push(cpuMs);
        }
        log(
          `  ${cz} ${tag} ${m.key}: ${(n / seconds).toFixed(1)} tasks/s (${seconds.toFixed(2)} s)${warm ? ' [warm-up]' : ''}`,
        );
      } catch (e) {
        r.error = (e as Error).message;
        log(`  ${cz} ${tag} ${m.key}: FAILED ${r.error}`);
      }
    });
    const steps = round % 2 === 0 ? [...baseSteps, agoraStep] : [agoraStep, ...baseSteps.reverse()];
    for (const s of steps) await s();
  }
  return res;
}

// ------------------------------------------------------------------------------------------ output

function fmtRate(r: MethodResult | undefined): string {
  if (!r) return '-';
  if (r.error && !r.rates.length) return 'failed';
  const s = rateStats(r.rates);
  return `${s.median.toFixed(1)} (${s.min.toFixed(1)}–${s.max.toFixed(1)})`;
}

function ratioOf(agora: MethodResult | undefined, base: MethodResult | undefined) {
  if (!agora?.rates.length || !base?.rates.length) return undefined;
  const a = rateStats(agora.rates);
  const b = rateStats(base.rates);
  // Rounds are interleaved: the ratio of each round's pair shows the spread.
  const pairs = agora.rates.slice(0, base.rates.length).map((x, i) => x / base.rates[i]);
  return { ratio: a.median / b.median, min: Math.min(...pairs), max: Math.max(...pairs) };
}

function jsonLine(r: CzResult): string {
  if (r.skipped) return JSON.stringify({ containerizer: r.containerizer, skipped: r.skipped });
  const primary = r.baselines[0];
  const ratio = ratioOf(r.agora, primary);
  const stat = (m: MethodResult | undefined) =>
    m && {
      method: m.key,
      label: m.label,
      ...Object.fromEntries(Object.entries(rateStats(m.rates)).map(([k, v]) => [k, round2(v)])),
      rates: m.rates.map(round2),
      cpu_ms_per_task: m.cpu.length
        ? Object.fromEntries(Object.entries(cpuPerTask(m, r.tasks)).map(([k, v]) => [k, round2(v)]))
        : undefined,
      error: m.error,
    };
  return JSON.stringify({
    containerizer: r.containerizer,
    tasks: r.tasks,
    rounds: r.agora?.rates.length ?? 0,
    unit: 'tasks/s',
    raw: stat(primary),
    agora: stat(r.agora),
    ratio: ratio ? round2(ratio.ratio) : null,
    ratio_min: ratio ? round2(ratio.min) : null,
    ratio_max: ratio ? round2(ratio.max) : null,
    target: TARGET,
    met: ratio ? ratio.ratio >= TARGET : false,
    other_baselines: r.baselines.slice(1).map((b) => {
      const x = ratioOf(r.agora, b);
      return { ...stat(b), ratio: x ? round2(x.ratio) : null };
    }),
    profile_ms: medianProfile(r.profiles),
    retried: r.retried.length ? r.retried : undefined,
    error: r.error,
  });
}

function medianProfile(ps: RoundProfile[]): Record<string, number> | undefined {
  if (!ps.length) return undefined;
  const keys = [
    'firstStarting',
    'lastStarting',
    'lastRunningStamped',
    'total',
    'launchMedian',
    'launchMax',
    'deliveryMedian',
    'deliveryMax',
    'accepts',
  ] as const;
  const out: Record<string, number> = {};
  for (const k of keys) out[k] = median(ps.map((p) => p[k]));
  for (const k of Object.keys(ps[0].cpuMs)) out[`cpu_${k}`] = median(ps.map((p) => p.cpuMs[k] ?? 0));
  return out;
}

/** CPU ms per task of each watched process: the median over the rounds. */
function cpuPerTask(m: MethodResult, tasks: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of Object.keys(m.cpu[0] ?? {})) out[k] = median(m.cpu.map((c) => c[k] ?? 0)) / tasks;
  return out;
}

function grid(head: string[], rows: string[][]): string[] {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(w[i]))
      .join('  ')
      .trimEnd();
  return [line(head), line(w.map((x) => '-'.repeat(x))), ...rows.map(line)];
}

function table(results: CzResult[], o: Options): string {
  const head = [
    'containerizer',
    'tasks',
    'raw tasks/s (min–max)',
    'Agora tasks/s (min–max)',
    'ratio (min–max)',
    'target',
    'met?',
  ];
  const rows: string[][] = [];
  const notes: string[] = [];
  for (const r of results) {
    if (r.skipped) {
      rows.push([r.containerizer, '-', 'skipped', '', '', '', '']);
      notes.push(`${r.containerizer}: skipped: ${r.skipped}`);
      continue;
    }
    if (r.error) notes.push(`${r.containerizer}: ${r.error}`);
    for (const x of r.retried) notes.push(`${r.containerizer}: Agora round ${x} (run again)`);
    const [primary, ...others] = r.baselines;
    const ratio = ratioOf(r.agora, primary);
    rows.push([
      r.containerizer,
      String(r.tasks),
      fmtRate(primary),
      fmtRate(r.agora),
      ratio ? `${ratio.ratio.toFixed(2)} (${ratio.min.toFixed(2)}–${ratio.max.toFixed(2)})` : '-',
      `≥ ${TARGET.toFixed(2)}`,
      ratio ? (ratio.ratio >= TARGET ? 'yes' : 'NO') : '-',
    ]);
    for (const b of others) {
      const x = ratioOf(r.agora, b);
      rows.push([
        `  vs ${b.key}`,
        String(r.tasks),
        fmtRate(b),
        fmtRate(r.agora),
        x ? `${x.ratio.toFixed(2)} (${x.min.toFixed(2)}–${x.max.toFixed(2)})` : '-',
        '(info)',
        '',
      ]);
      if (b.error) notes.push(`${r.containerizer} ${b.key}: ${b.error}`);
    }
  }
  const out = grid(head, rows);
  out.push('');
  out.push(
    `Medians over ${o.rounds} interleaved round(s) after ${o.warmup} warm-up; ratio = median Agora / median raw`,
  );
  out.push('(its spread: the per-round Agora/raw pairs). Baselines:');
  for (const r of results.filter((x) => !x.skipped)) {
    for (const b of r.baselines) out.push(`  ${r.containerizer.padEnd(7)} ${b.key.padEnd(6)} ${b.label}`);
  }
  for (const n of notes) out.push(`NOTE ${n}`);
  const profiled = results.filter((r) => r.profiles.length);
  if (profiled.length) {
    out.push('');
    out.push('Where Agora spends the time (medians over the rounds; ms from the first launch call; STARTING and');
    out.push("RUNNING as stamped by the agent, on this host's clock):");
    const head2 = [
      'containerizer',
      'ACCEPTs',
      '1st STARTING',
      'last STARTING',
      'last RUNNING stamped',
      'last RUNNING received',
      'STARTING→RUNNING per task med (max)',
      'RUNNING stamped→received med (max)',
    ];
    const rows2 = profiled.map((r) => {
      const p = medianProfile(r.profiles) as Record<string, number>;
      return [
        r.containerizer,
        String(p.accepts),
        String(p.firstStarting),
        String(p.lastStarting),
        String(p.lastRunningStamped),
        String(p.total),
        `${p.launchMedian} (${p.launchMax})`,
        `${p.deliveryMedian} (${p.deliveryMax})`,
      ];
    });
    out.push(...grid(head2, rows2));
  }
  const withCpu = results.filter((r) => r.agora?.cpu.length);
  if (withCpu.length) {
    out.push('');
    out.push('CPU per launched task, ms (medians over the rounds, timed part only; less sensitive to other tenants');
    out.push("than wall time). 'bench' is this process: the spawner / API client in raw rounds, the framework in");
    out.push("Agora's; task processes themselves are not counted (the same work on both sides).");
    const keys = [...new Set(withCpu.flatMap((r) => Object.keys(r.agora?.cpu[0] ?? {})))];
    const head3 = ['containerizer', 'method', ...keys, 'total'];
    const rows3: string[][] = [];
    for (const r of withCpu) {
      for (const m of [...r.baselines, r.agora as MethodResult]) {
        if (!m.cpu.length) continue;
        const per = cpuPerTask(m, r.tasks);
        rows3.push([
          r.containerizer,
          m.key,
          ...keys.map((k) => (per[k] === undefined ? '' : per[k].toFixed(2))),
          Object.values(per)
            .reduce((a, b) => a + b, 0)
            .toFixed(2),
        ]);
      }
    }
    out.push(...grid(head3, rows3));
  }
  return out.join('\n');
}

// ------------------------------------------------------------------------------------------ main

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  const docker = new Docker();
  const why = await probe(o, docker);
  const usable = o.only.filter((c) => !why[c]);
  if (o.only.includes('docker') && !why.docker) live.docker = docker;
  const results: CzResult[] = [];
  for (const c of o.only) if (why[c]) log(`${c}: skipped: ${why[c]}`);

  const onSignal = (sig: string) => {
    if (interrupted) return;
    interrupted = true;
    log(`\n${sig}: cleaning up (tasks, containers, processes)...`);
    void cleanup().finally(() => {
      if (results.length && !o.json) console.log(table(results, o));
      process.exit(0);
    });
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));

  let byHand: ByHandLinux | undefined;
  let byHandWhy: string | undefined;
  if (usable.includes('linux')) {
    try {
      byHand = new ByHandLinux();
    } catch (e) {
      byHandWhy = (e as Error).message;
    }
  }
  let cliWhy: string | undefined;
  if (usable.includes('docker') && o.cli) {
    const v = await execFileP('docker', ['version', '--format', '{{.Client.Version}}'], 20_000);
    if (!v.ok) cliWhy = `docker CLI: ${v.out}`;
  }

  try {
    if (usable.length > 0) {
      log(`starting a master and an agent (--containerizers ${usable.join(',')})...`);
      const cluster = await startCluster(o, usable);
      const fw = new BenchFramework(cluster.master);
      live.driver = fw.driver;
      fw.driver.start();
      await waitFor('the framework to subscribe', () => fw.driver.subscribed);
      live.frameworkId = fw.driver.frameworkId;
      const dockerPids: Record<string, number[]> = usable.includes('docker')
        ? { dockerd: pidsByComm(['dockerd']), containerd: pidsByComm(['containerd']) }
        : {};
      const cpu = new CpuMeter(() => ({
        agent: [cluster.agent.child.pid ?? 0],
        launcher: launcherPids(cluster.agent.child.pid),
        master: [cluster.masterProc.child.pid ?? 0],
        bench: [],
        ...dockerPids,
      }));
      for (const cz of usable) {
        if (interrupted) break;
        const n = cz === 'docker' ? o.dockerTasks : o.tasks;
        const methods: Method[] = [];
        if (cz === 'docker') {
          methods.push({
            key: 'api',
            label: `dockerode createContainer + start, ${n} concurrently, --network host (the engine API Agora uses)`,
            primary: true,
            round: (tag, c) => rawDockerApiRound(docker, o.image, n, tag, c),
          });
          if (o.cli && !cliWhy) {
            methods.push({
              key: 'cli',
              label: `docker run -d --network host ${o.image} /bin/sh -c '${COMMAND}', ${n} concurrently (CLI)`,
              primary: false,
              round: (tag, c) => rawDockerCliRound(docker, o.image, n, tag, c),
            });
          }
        } else {
          methods.push({
            key: 'spawn',
            label: `child_process.spawn('/bin/sh', ['-c', '${COMMAND}'], {detached: true}) × ${n}, until every 'spawn' event`,
            primary: true,
            round: (_tag, c) => rawSpawnRound(n, c),
          });
          if (cz === 'linux' && byHand) {
            const bh = byHand;
            methods.push({
              key: 'byhand',
              label:
                'by hand: memory+cpu+cpuacct cgroups with limits, sh joins them, then unshare --pid --fork --mount-proc --mount --uts --ipc',
              primary: false,
              round: (tag, c) => bh.round(n, tag, c),
            });
          }
        }
        log(
          `${cz}: ${n} tasks × (${o.warmup} warm-up + ${o.rounds} rounds), interleaved with: ${methods.map((m) => m.key).join(', ')}`,
        );
        let r: CzResult;
        try {
          r = await measure(o, cz, n, fw, methods, cpu);
        } catch (e) {
          r = { containerizer: cz, tasks: n, error: (e as Error).message, baselines: [], profiles: [], retried: [] };
          log(`${cz}: FAILED: ${r.error}`);
        }
        results.push(r);
        if (o.json) console.log(jsonLine(r));
      }
    }
  } finally {
    for (const c of o.only) {
      if (!why[c]) continue;
      const r: CzResult = { containerizer: c, tasks: 0, skipped: why[c], baselines: [], profiles: [], retried: [] };
      results.push(r);
      if (o.json) console.log(jsonLine(r));
    }
    results.sort((a, b) => CONTAINERIZERS.indexOf(a.containerizer) - CONTAINERIZERS.indexOf(b.containerizer));
    if (byHandWhy && usable.includes('linux')) log(`linux by-hand baseline not measured: ${byHandWhy}`);
    if (cliWhy) log(`docker CLI baseline not measured: ${cliWhy}`);
    if (!interrupted) log('cleaning up...');
    await cleanup();
    // After Ctrl-C the signal handler prints what was measured and exits (0).
    if (interrupted) await new Promise(() => undefined);
  }
  if (!o.json) {
    console.log('');
    console.log(
      `Launch throughput, end to end (framework LAUNCH → TASK_RUNNING), one agent, '${COMMAND}' (${TASK_RESOURCES}), log level ${o.logLevel}`,
    );
    console.log(table(results, o));
  }
}

main().then(
  () => process.exit(0),
  async (e: Error) => {
    if (interrupted) return; // the signal handler cleans up and exits
    console.error(`bench:launch failed: ${e.stack ?? e.message}`);
    await cleanup().catch(() => undefined);
    process.exit(1);
  },
);
