/**
 * Chronos benchmark (issue 13): how late runs start when many jobs fall due in the same minute, and
 * whether any is skipped or doubled; beside the launch rate of the same tasks by a minimal framework
 * in the same run.
 *
 *   npm run bench:chronos                           the three cases, then a table
 *   node dist/scripts/bench/chronos.js --cases sim:1000,sim:10000,real:1000 --json
 *   node dist/scripts/bench/chronos.js --zk 127.0.0.1:2181            state in ZooKeeper instead of files
 *                                                                   (= --store zk=127.0.0.1:2181; its nodes
 *                                                                   are deleted afterwards)
 *
 * A case `sim:N`: a real `agora master` (--allocation_interval 100ms) and 50 simulated agents
 * (scripts/bench/sim/agents: the real protocol, no processes forked; a task reports STARTING then
 * RUNNING and runs for ever); the Chronos engine in this process with its state in a FileStore
 * (fsync on, as the service runs it) and a real SchedulerDriver over WebSocket. N jobs
 * `R1/<due>/PT1H`, their due times spread evenly over one minute starting 20 s after they were
 * all created. Lateness = the RUNNING status time the agent stamped − the due time. A case
 * `real:N`: the same with one real agent process (posix containerizer, `true` as the command).
 *
 * Skipped: runs the engine recorded SKIPPED (a due time not started within epsilon, 60 s).
 * Doubled: due times for which two distinct tasks RAN (a RUNNING or FINISHED update reached the
 * framework for each). Retries are counted apart and are not doubles: a due time relaunched under a
 * new task id (the next attempt after a lost one), a launch re-sent under the same task id, a task id
 * the master delivered twice to the simulated agents (they run each id once).
 *
 * The baseline: a minimal framework (SDK SchedulerDriver, held offers, one ACCEPT per offer) launches
 * the same N tasks at once on the same cluster; its rate (tasks/s to the N-th RUNNING) says what
 * the cluster can take, so the Chronos figures can be read against it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Engine } from '../../frameworks/chronos/engine/engine.js';
import { ENGINE_DRIVER_OPTIONS, wireEngine } from '../../frameworks/chronos/engine/wire.js';
import { jobFromChronos, parseTaskId } from '../../frameworks/chronos/model/index.js';
import type { Offer, TaskInfo } from '../../sdk/protocol/types.js';
import { Resources } from '../../sdk/resources/resources.js';
import { SchedulerDriver } from '../../sdk/scheduler/driver.js';
import { FileStore, type Store, ZkStore } from '../../sdk/store/index.js';
import { systemClock } from '../../sdk/util/clock.js';
import { ZkClient } from '../../sdk/zk/client.js';
import { startAgentProc, stopAll } from '../../testkit/processes.js';
import {
  type AgentsProc,
  agentsReport,
  forkAgentProcs,
  freePort,
  type MasterProc,
  sleep,
  startAgoraMaster,
  waitHealthy,
} from './sim/cluster.js';

const log = pino({ level: process.env.AGORA_LOG_LEVEL ?? 'warn' });

interface CaseResult {
  case: string;
  jobs: number;
  runs: number;
  medianMs: number;
  p99Ms: number;
  maxMs: number;
  skipped: number;
  /** Due times for which two distinct tasks ran (reached RUNNING or FINISHED). */
  doubled: number;
  /** Retries, not doubles: due times launched again under a new task id. */
  relaunched: number;
  /** Launches sent again under the same task id. */
  resent: number;
  /** Task ids the master delivered twice to the simulated agents (run once). */
  redelivered: number;
  notStarted: number;
  baselinePerSec: number;
  /** CPU seconds of the Chronos (benchmark) process over wallSec, from job creation to the end. */
  cpuSec: number;
  wallSec: number;
  loadAverage: number[];
  createSec: number;
}

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}

function args(): { cases: string[]; json: boolean; store: string } {
  const a = process.argv.slice(2);
  if (a.includes('--help') || a.includes('-h')) {
    console.log(
      [
        'Usage: npm run bench:chronos -- [--cases sim:1000,sim:10000,real:1000] [--store file|zk=HOST:PORT] [--zk HOST:PORT] [--json]',
        'Lateness (start minus due: median, p99, max), skipped and doubled runs for N jobs due in the same',
        'minute, on simulated agents (sim) or real posix agents (real), beside a minimal framework.',
        '--zk HOST:PORT (= --store zk=HOST:PORT): the state in ZooKeeper under /agora-bench-chronos-<pid>-<time>,',
        'deleted afterwards. Doubled = due times for which two distinct tasks ran; retries are printed apart.',
      ].join('\n'),
    );
    process.exit(0);
  }
  const i = a.indexOf('--cases');
  const st = a.indexOf('--store');
  const zk = a.indexOf('--zk');
  return {
    store: zk >= 0 ? `zk=${a[zk + 1] ?? '127.0.0.1:2181'}` : st >= 0 ? (a[st + 1] ?? 'file') : 'file',
    cases: (i >= 0 ? (a[i + 1] ?? '') : 'sim:1000,sim:10000,real:1000').split(',').filter(Boolean),
    json: a.includes('--json'),
  };
}

async function openBenchStore(kind: string, dir: string): Promise<{ store: Store; cleanup: () => Promise<void> }> {
  if (kind === 'file') {
    const store = await FileStore.open(dir, { logger: log });
    return { store, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  // ZooKeeper (--zk HOST:PORT): the store of a highly available Chronos; its log group-commits
  // concurrent writes, where the FileStore fsyncs each. A session timeout of 30 s, as a loaded
  // machine may starve the client's pings for longer than the default 10 s.
  const servers = kind.slice(3);
  const root = `/agora-bench-chronos-${process.pid}-${Date.now()}`;
  const store = await ZkStore.connect(`zk://${servers}${root}`, {
    root: `${root}/state`,
    logger: log,
    sessionTimeoutMs: 30_000,
  });
  return { store, cleanup: () => deleteTree(servers, root) };
}

/** Deletes a ZooKeeper subtree (the benchmark's own root), children first, a few hundred at a time. */
async function deleteTree(servers: string, root: string): Promise<void> {
  const client = new ZkClient({ servers, sessionTimeoutMs: 30_000 });
  await client.connect();
  try {
    const walk = async (path: string): Promise<void> => {
      let children: string[] = [];
      try {
        children = await client.getChildren(path);
      } catch {
        return;
      }
      for (let i = 0; i < children.length; i += 200)
        await Promise.all(children.slice(i, i + 200).map((c) => walk(`${path}/${c}`)));
      await client.delete(path).catch(() => undefined);
    };
    await walk(root);
  } finally {
    await client.close();
  }
}

async function chronosPhase(masterAddr: string, n: number, command: string, storeKind: string) {
  const dir = mkdtempSync(join(tmpdir(), 'agora-bench-chronos-'));
  const { store, cleanup } = await openBenchStore(storeKind, dir);
  const engine = new Engine({ store, clock: systemClock, logger: log, historyLimit: 10 });
  await engine.load();
  const driver = new SchedulerDriver({
    master: masterAddr,
    framework: { name: 'chronos-bench', roles: ['*'], failover_timeout: 600, user: process.env.USER ?? 'root' },
    logger: log,
    ...ENGINE_DRIVER_OPTIONS,
  });
  // Task ids launched, and task ids that ran (reached RUNNING or FINISHED), per (job, due time).
  const launched = new Map<string, Set<string>>();
  const ran = new Map<string, Set<string>>();
  let launchCalls = 0;
  const add = (m: Map<string, Set<string>>, taskId: string) => {
    const t = parseTaskId(taskId);
    if (!t) return;
    const key = `${t.jobName} ${t.due}`;
    const set = m.get(key) ?? new Set<string>();
    set.add(taskId);
    m.set(key, set);
  };
  const origLaunch = driver.launch.bind(driver);
  driver.launch = (offer: Offer | Offer[], tasks: TaskInfo[], filters) => {
    for (const t of tasks) {
      launchCalls++;
      add(launched, t.task_id);
    }
    return origLaunch(offer, tasks, filters);
  };
  driver.on('update', (s) => {
    if (s.state === 'TASK_RUNNING' || s.state === 'TASK_FINISHED') add(ran, s.task_id);
  });
  wireEngine(engine, driver, store, log);
  driver.start();
  await new Promise<void>((r) => driver.once('subscribed', () => r()));

  const t0 = Date.now();
  const cpu0 = process.cpuUsage();
  // Due times spread over one minute, from 20 s after creation ends (estimated: 3 ms a job).
  const first = Math.ceil((Date.now() + 20_000 + n * 3) / 1000) * 1000;
  const step = 60_000 / n;
  const dueOf = (i: number) => first + Math.floor(i * step);
  const batch = 200;
  for (let i = 0; i < n; i += batch) {
    await Promise.all(
      Array.from({ length: Math.min(batch, n - i) }, (_, k) => {
        const j = i + k;
        const c = jobFromChronos(
          {
            name: `job-${j}`,
            command,
            schedule: `R1/${new Date(dueOf(j)).toISOString()}/PT1H`,
            epsilon: 'PT60S',
            cpus: 0.01,
            mem: 1,
            disk: 0,
            concurrent: true,
            retries: 0,
          },
          { now: Date.now(), route: 'iso8601' },
        );
        if (!c.ok) throw new Error(JSON.stringify(c.problems));
        return engine.upsert(c.value);
      }),
    );
  }
  const createSec = (Date.now() - t0) / 1000;
  console.error(`  ${n} jobs created in ${createSec.toFixed(1)} s`);
  if (Date.now() > first) console.error(`  warning: creating ${n} jobs took ${createSec} s, past the first due time`);
  // Until every run has started (or 60 s past the last due time).
  const last = dueOf(n - 1);
  const lateness: number[] = [];
  const collect = async () => {
    lateness.length = 0;
    let startedRuns = 0;
    let skipped = 0;
    for (const e of engine.jobs.values()) {
      const name = e.rec.job.name;
      for (const r of [...engine.activeRuns(name), ...(await engine.history(name))]) {
        if (r.state === 'SKIPPED') skipped++;
        const s = r.started;
        if (s !== undefined) {
          startedRuns++;
          lateness.push(s - r.due);
        }
      }
    }
    return { startedRuns, skipped };
  };
  let figures = await collect();
  while (Date.now() < last + 60_000) {
    await sleep(2_000);
    const m = engine.metrics;
    console.error(
      `  ${Math.round((Date.now() - first) / 1000)} s from the first due time: runs ${m.runsCreated}, launched ${m.launched}, skipped ${m.skipped}, lost relaunched ${m.lostRelaunched}; ${engine.describe()}`,
    );
    if (Date.now() < last) continue;
    figures = await collect();
    if (figures.startedRuns + figures.skipped >= n) break;
  }
  figures = await collect();
  lateness.sort((a, b) => a - b);
  // CPU of this process (the engine, its Store client and its driver) from job creation to the end,
  // beside the wall time: on a shared machine the wall time says little on its own.
  const cpu = process.cpuUsage(cpu0);
  const cpuSec = (cpu.user + cpu.system) / 1e6;
  const wallSec = (Date.now() - t0) / 1000;
  console.error(
    `  chronos process: ${cpuSec.toFixed(1)} s CPU over ${wallSec.toFixed(1)} s wall; load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  // Doubled: a due time for which two distinct tasks ran. A relaunch (a second attempt after the first
  // was reported lost) or a launch sent again is a retry, counted apart: it is not a double unless
  // both tasks ran.
  const doubled = [...ran.values()].filter((ids) => ids.size > 1).length;
  const relaunched = [...launched.values()].filter((ids) => ids.size > 1).length;
  const distinctLaunched = [...launched.values()].reduce((a, ids) => a + ids.size, 0);
  const resent = launchCalls - distinctLaunched;
  engine.detach();
  await driver.teardown().catch(() => undefined);
  await store.close();
  await cleanup();
  rmSync(dir, { recursive: true, force: true });
  return {
    lateness,
    skipped: figures.skipped,
    started: figures.startedRuns,
    doubled,
    relaunched,
    resent,
    ranTasks: ran.size,
    cpuSec,
    wallSec,
    createSec,
  };
}

/** The minimal framework: launches n tasks at once on held offers; tasks per second to the n-th RUNNING. */
async function baseline(masterAddr: string, n: number, command: string): Promise<number> {
  const driver = new SchedulerDriver({
    master: masterAddr,
    framework: { name: 'minimal-bench', roles: ['*'], failover_timeout: 0, user: process.env.USER ?? 'root' },
    logger: log,
    declineUnused: false,
    reconcile: false,
  });
  const need = Resources.scalars({ cpus: 0.01, mem: 1 });
  let next = 0;
  let running = 0;
  let t0 = 0;
  let tEnd = 0;
  const done = new Promise<void>((resolve) => {
    driver.on('update', (s) => {
      if (s.state === 'TASK_RUNNING' || s.state === 'TASK_FINISHED') {
        if (s.state === 'TASK_RUNNING' || !s.message?.includes('reconciliation')) running++;
        if (running === n) {
          tEnd = Date.now();
          resolve();
        }
      }
    });
  });
  driver.on('offers', (offers) => {
    for (const o of offers) {
      if (next >= n) {
        driver.decline([o.id], { refuse_seconds: 60 });
        continue;
      }
      let avail = Resources.from(o.resources).allocatableTo(o.allocation_role);
      const tasks: TaskInfo[] = [];
      while (next < n && avail.contains(need)) {
        avail = avail.minus(need);
        if (t0 === 0) t0 = Date.now();
        tasks.push({
          name: 'minimal',
          task_id: `minimal-${next++}`,
          agent_id: o.agent_id,
          resources: need.toList(),
          command: { value: command, shell: true },
        });
      }
      if (tasks.length > 0) driver.launch(o, tasks, { refuse_seconds: 0 });
      else driver.decline([o.id], { refuse_seconds: 1 });
    }
  });
  driver.start();
  await Promise.race([done, sleep(300_000)]);
  await driver.teardown().catch(() => undefined);
  return tEnd > 0 ? n / ((tEnd - t0) / 1000) : Number.NaN;
}

async function runCase(spec: string, storeKind: string): Promise<CaseResult> {
  const [kind, count] = spec.split(':');
  const n = Number(count);
  const port = await freePort();
  const master: MasterProc = await startAgoraMaster(port, ['--allocation_interval', '100ms']);
  await waitHealthy(port);
  const addr = `127.0.0.1:${port}`;
  let agents: AgentsProc[] = [];
  let command = 'true';
  try {
    if (kind === 'sim') {
      agents = forkAgentProcs(`ws://${addr}/api/v1/agent`, 50, 2, 'cpus:8;mem:8192;disk:1000000');
      for (const a of agents) await a.ready;
      for (const a of agents) a.send({ cmd: 'start' });
      for (let i = 0; i < 300 && (await agentsReport(agents)).registered < 50; i++) await sleep(100);
      command = 'sleep 1000';
    } else {
      await startAgentProc(addr, ['--resources', 'cpus:64;mem:65536;disk:1000000', '--containerizers', 'posix']);
    }
    const c = await chronosPhase(addr, n, command, storeKind);
    const redelivered = kind === 'sim' ? (await agentsReport(agents)).doubled : 0;
    // Doubles are due times for which two distinct tasks RAN; retries are counted apart: due times
    // launched again under a new task id (the next attempt), launches sent again under the same task
    // id, and task ids the master delivered twice to the simulated agents (they run each id once).
    console.error(
      `  doubled: ${c.doubled} due times with two distinct tasks that ran (of ${c.ranTasks} due times that ran); retries: ${c.relaunched} due times relaunched under a new task id, ${c.resent} launches re-sent under the same id, ${redelivered} task ids delivered twice to agents`,
    );
    const rate = await baseline(addr, n, command);
    return {
      case: `${kind === 'sim' ? 'simulated agents' : 'real posix agent'}, ${n} jobs/min, ${storeKind === 'file' ? 'FileStore' : 'ZkStore'}`,
      jobs: n,
      runs: c.started,
      medianMs: pct(c.lateness, 50),
      p99Ms: pct(c.lateness, 99),
      maxMs: c.lateness[c.lateness.length - 1] ?? Number.NaN,
      skipped: c.skipped,
      doubled: c.doubled,
      relaunched: c.relaunched,
      resent: c.resent,
      redelivered,
      notStarted: n - c.started - c.skipped,
      baselinePerSec: rate,
      createSec: c.createSec,
      cpuSec: c.cpuSec,
      wallSec: c.wallSec,
      loadAverage: loadavg(),
    };
  } finally {
    for (const a of agents) a.send({ cmd: 'stop' });
    await stopAll();
    master.kill('SIGKILL');
  }
}

async function main(): Promise<void> {
  const o = args();
  // As the service does (cli/chronos.ts): more threads for the Store's parallel fsyncs.
  process.env.UV_THREADPOOL_SIZE ??= '16';
  const results: CaseResult[] = [];
  for (const c of o.cases) {
    console.error(`case ${c} ...`);
    const r = await runCase(c, o.store);
    results.push(r);
    if (o.json) console.log(JSON.stringify(r));
  }
  if (o.json) return;
  const f = (v: number) => (Number.isFinite(v) ? v.toFixed(0) : '-');
  console.log('\nChronos: lateness of a run = its RUNNING time − its due time (N jobs due within one minute)\n');
  console.log(
    'case                                              | runs   | median ms | p99 ms | max ms | skipped | doubled | retries (relaunched/re-sent/re-delivered) | not started | minimal framework tasks/s | chronos CPU s / wall s | load average',
  );
  console.log(
    '--------------------------------------------------|--------|-----------|--------|--------|---------|---------|-------------------------------------------|-------------|---------------------------|------------------------|-------------',
  );
  for (const r of results)
    console.log(
      `${r.case.padEnd(50)}| ${String(r.runs).padEnd(7)}| ${f(r.medianMs).padEnd(10)}| ${f(r.p99Ms).padEnd(7)}| ${f(r.maxMs).padEnd(7)}| ${String(r.skipped).padEnd(8)}| ${String(r.doubled).padEnd(8)}| ${`${r.relaunched}/${r.resent}/${r.redelivered}`.padEnd(42)}| ${String(r.notStarted).padEnd(12)}| ${f(r.baselinePerSec).padEnd(26)}| ${`${r.cpuSec.toFixed(1)} / ${r.wallSec.toFixed(1)}`.padEnd(23)}| ${r.loadAverage.map((l) => l.toFixed(1)).join(' ')}`,
    );
  console.log('\nAim: p99 under 1,000 ms at 10,000 jobs a minute, none skipped, none doubled.');
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
