/**
 * One failover at scale: two real masters on ZooKeeper, simulated agents and frameworks, a cluster
 * filled with running tasks, the leader killed with SIGKILL; then the time from the new leader's
 * election until every agent re-registered, every framework re-subscribed and reconciliation
 * accounted for every task, and whether any task was lost or doubled (from the agents' own books).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { MasterInfo } from '../../sdk/protocol/types.js';
import { createDetector } from '../../sdk/zk/detector.js';
import type { AgentClientKind } from './sim/agents.js';
import {
  type AgentsProc,
  agentsReport,
  type FrameworksProc,
  forkAgentProcs,
  forkFrameworks,
  freePort,
  HealthProbe,
  type MasterProc,
  sleep,
  startAgoraMaster,
  waitFor,
  waitHealthy,
} from './sim/cluster.js';
import { CpuWindow, cpuMs, listenerPid, loadAverage, peakRssMiB, threadCpuMs } from './sim/proc.js';

export interface FailoverOptions {
  agents: number;
  frameworks: number;
  tasks: number;
  agentResources: string;
  task: string;
  zk: string;
  agentProcs: number;
  zkSessionTimeout: string;
  stallMs: number;
  /**
   * How the simulated agents and frameworks find the new leader. `zk` (default): as the real agent
   * and the SDK's driver, through ZooKeeper, and the frameworks reconcile at re-subscription as the
   * driver does. `poll`: the first harness (try each master in turn with backoff up to 500 ms;
   * reconciliation sent by the harness once every agent and framework is back).
   */
  follow?: 'zk' | 'poll';
  /**
   * The agents encode their REREGISTER before the kill (default true): real agents spend that on
   * machines of their own, not on the cores of the new leader. false: encoded at reconnection
   * (the harness of the first two rounds), for comparing with their figures.
   */
  preencode?: boolean;
  /** What holds the simulated agents' connections (default: AGORA_BENCH_AGENT_CLIENT, else lean). */
  agentClient?: AgentClientKind;
  /**
   * With `follow: 'zk'`: each agent re-registers after a random wait in [0, this) ms once it sees
   * the new leader, as the real agent's `--registration_backoff_factor` (default its 1,000 ms).
   */
  registrationBackoffMs?: number;
}

export interface FailoverResult {
  agents: number;
  frameworks: number;
  tasks: number;
  /** SIGKILL of the leader to the other master saying it leads (ZooKeeper session expiry included). */
  kill_to_elected_s: number;
  elected_to_agents_s: number;
  elected_to_frameworks_s: number;
  /** Election to the last reconciliation answer: the headline. */
  elected_to_reconciled_s: number;
  /** The clock started at the ZooKeeper election (the harness's own detector names the new master), zk mode. */
  zk_elected_to_leading_s: number;
  zk_elected_to_agents_s: number;
  zk_elected_to_frameworks_s: number;
  zk_elected_to_reconciled_s: number;
  /** Re-registrations acknowledged, from the ZooKeeper election: 10th, 50th, 90th percentile (s). */
  agents_p10_s: number;
  agents_p50_s: number;
  agents_p90_s: number;
  /** From the ZooKeeper election: the agents' and frameworks' detectors naming the new leader, the first RECONCILE sent. */
  agents_detected_s: number;
  frameworks_detected_s: number;
  reconcile_sent_s: number;
  reconcile_rounds: number;
  new_leader_cpu_ms: number;
  /** The same from the kill (the registrar's recovery included). */
  new_leader_cpu_from_kill_ms: number;
  new_leader_peak_rss_mib: number;
  slowest_health_ms: number;
  harness_cpu_share: number;
  /**
   * CPU ms in the same window (leading → reconciled) by process: the new leader's main thread (its
   * event loop: the critical path) and its other threads (V8's garbage-collector and compiler
   * helpers, libuv's pool); the agents' processes together; the frameworks' process; this
   * benchmark's own process; ZooKeeper (NaN when its process could not be found).
   */
  window_cpu_ms: {
    leader_main: number;
    leader_other_threads: number;
    agents: number;
    frameworks: number;
    bench: number;
    zookeeper: number;
  };
  /**
   * Page faults of the new leader in the same window (leading → reconciled), from `/proc`: minor
   * faults of its main thread and of the whole process, major faults of the whole process. On a
   * paravirtual guest a minor fault costs 10–20 µs of the faulting thread's time.
   */
  window_faults: { leader_main_minor: number; leader_minor: number; leader_major: number };
  reregistered: number;
  resubscribed: number;
  reconciled: number;
  /** Tasks the agents no longer hold, killed, sent twice, or answered as not running. */
  lost: number;
  killed: number;
  doubled: number;
  reconcile_not_running: number;
  complete: boolean;
  /** How the new leader's process ended during the run, if it did (exit code or signal); null if alive. */
  new_leader_exited: string | null;
  load: string;
  /**
   * The measured window on the monotonic clock in µs (what a V8 `.cpuprofile`'s timestamps use):
   * ZooKeeper election, leading, reconciled. For `scripts/bench/cpuprofile.ts --from-us/--to-us`.
   */
  window_mono_us: [number, number, number];
}

/** Minor and major page faults of a process (or, with `tid`, of one of its threads); undefined when gone. */
function faults(pid: number, tid?: number): { minor: number; major: number } | undefined {
  try {
    const stat = readFileSync(tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`, 'utf8');
    // Fields after the command name start after the last ')': minflt is the 8th, majflt the 10th.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { minor: Number(rest[7]), major: Number(rest[9]) };
  } catch {
    return undefined;
  }
}

/** A Date.now() time on the monotonic clock, in µs (the clock of V8's CPU profiles). */
function monoUs(t: number): number {
  return Math.round(Number(process.hrtime.bigint() / 1000n) - (Date.now() - t) * 1000);
}

async function leading(port: number): Promise<boolean> {
  try {
    const r = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(2000) });
    return ((await r.json()) as { leading?: boolean }).leading === true;
  } catch {
    return false;
  }
}

export async function runFailover(o: FailoverOptions): Promise<FailoverResult> {
  const zk = `${o.zk.replace(/\/$/, '')}/agora-perf-bench-${randomBytes(4).toString('hex')}`;
  const [p1, p2] = [await freePort(), await freePort()];
  // Every simulated peer connects from 127.0.0.1: lift the per-address cap (default 1,000) above them.
  const cap = ['--max_connections_per_ip', String(o.agents + o.frameworks + 100)];
  const flags = ['--zk', zk, '--zk_session_timeout', o.zkSessionTimeout, ...cap];
  const masters: MasterProc[] = [];
  const agentProcs: AgentsProc[] = [];
  let fwProc: FrameworksProc | undefined;
  try {
    masters.push(await startAgoraMaster(p1, flags));
    await waitHealthy(p1);
    await waitFor(
      () => leading(p1),
      () => 0,
      { stallMs: 30_000 },
    );
    masters.push(await startAgoraMaster(p2, flags));
    await waitHealthy(p2);
    const url = (p: number, path: string) => `ws://127.0.0.1:${p}${path}`;
    const zkMode = (o.follow ?? 'zk') === 'zk';
    const extra = {
      client: o.agentClient,
      ...(zkMode
        ? { zk, registrationBackoffMs: o.registrationBackoffMs }
        : { others: [url(p2, '/api/v1/agent')], backoffMaxMs: 500 }),
    };
    agentProcs.push(...forkAgentProcs(url(p1, '/api/v1/agent'), o.agents, o.agentProcs, o.agentResources, extra));
    await Promise.all(agentProcs.map((p) => p.ready));
    for (const p of agentProcs) p.send({ cmd: 'start' });
    let a = await agentsReport(agentProcs);
    const registered = await waitFor(
      async () => {
        a = await agentsReport(agentProcs);
        return a.registered >= o.agents;
      },
      () => a.registered,
      { stallMs: o.stallMs },
    );
    if (!registered) throw new Error(`only ${a.registered} of ${o.agents} agents registered`);
    const fws = forkFrameworks({
      url: url(p1, '/api/v1/scheduler/ws'),
      ...(zkMode
        ? { zk, reconcileOnSubscribe: true }
        : { others: [url(p2, '/api/v1/scheduler/ws')], backoffMaxMs: 500 }),
      count: o.frameworks,
      task: o.task,
      declineSeconds: 3600,
    });
    fwProc = fws;
    await fws.ready;
    fws.send({ cmd: 'start' });
    let f = await fws.report();
    await waitFor(
      async () => {
        f = await fws.report();
        return f.subscribed >= o.frameworks;
      },
      () => f.subscribed,
      { stallMs: o.stallMs },
    );
    fws.send({ cmd: 'add', tasks: o.tasks });
    const filled = await waitFor(
      async () => {
        f = await fws.report();
        return f.live >= o.tasks;
      },
      () => f.live,
      { stallMs: o.stallMs, everyMs: 500 },
    );
    if (!filled)
      throw new Error(`only ${f.live} of ${o.tasks} tasks running before the failover: ${JSON.stringify(f)}`);
    await sleep(2000); // acknowledgements settle

    // The failover. The first master must still lead: under load a leader that lost its ZooKeeper
    // connection during the fill has already handed over, and killing the standby measures nothing.
    if (!(await leading(p1)) || (await leading(p2))) {
      throw new Error(
        'leadership moved during the fill (a ZooKeeper connection was lost); no clean failover to measure',
      );
    }
    for (const p of agentProcs) p.send({ cmd: 'mark', preencode: o.preencode ?? true });
    fws.send({ cmd: 'mark' });
    const newLeader = masters[1];
    const npid = newLeader.child.pid ?? 0;
    const zkPort = Number(/^zk:\/\/[^/:,]+:(\d+)/.exec(o.zk)?.[1] ?? 2181);
    const zkPid = listenerPid(zkPort);
    const cpu = new CpuWindow(() => [npid, fws.pid, ...agentProcs.map((p) => p.pid), ...(zkPid ? [zkPid] : [])]);
    // The harness's own view of the election: the moment ZooKeeper names the standby (its
    // candidate node became the first), which is also when the standby learns it won.
    const detector = createDetector(zk);
    let zkElectedAt = 0;
    const standby = `master@127.0.0.1:${p2}`;
    detector.on('leader', (m: MasterInfo | undefined) => {
      if (m?.pid === standby && zkElectedAt === 0) zkElectedAt = Date.now();
    });
    await detector.next();
    const killedAt = Date.now();
    await masters[0].kill('SIGKILL');
    // CPU from the kill too: the standby recovers the registrar before it says it leads.
    const cpuAtKill = cpuMs(npid) ?? 0;
    while (!(await leading(p2))) {
      if (Date.now() - killedAt > 120_000) throw new Error('no new leader within 120 s');
      await sleep(20);
    }
    const electedAt = Date.now();
    cpu.start();
    const threadsAtStart = threadCpuMs(npid);
    const faultsAtStart = { main: faults(npid, npid), all: faults(npid) };
    const benchAtStart = process.cpuUsage();
    void detector.close();
    const probe = new HealthProbe(p2);
    const back = await waitFor(
      async () => {
        a = await agentsReport(agentProcs, { times: false });
        f = await fws.report();
        return a.reregistered >= o.agents && f.resubscribed >= o.frameworks;
      },
      () => a.reregistered + f.resubscribed,
      { stallMs: o.stallMs, everyMs: 50 },
    );
    if (!zkMode) fws.send({ cmd: 'reconcile' });
    const reconciled = await waitFor(
      async () => {
        f = await fws.report();
        return f.reconciled >= o.tasks;
      },
      () => f.reconciled,
      { stallMs: o.stallMs, everyMs: 50 },
    );
    const used = cpu.read();
    const threadsAtEnd = threadCpuMs(npid);
    const faultsAtEnd = { main: faults(npid, npid), all: faults(npid) };
    const benchUsed = process.cpuUsage(benchAtStart);
    const cpuFromKill = (cpuMs(npid) ?? 0) - cpuAtKill;
    await probe.stop();
    a = await agentsReport(agentProcs);
    let harness = 0;
    for (const [pid, u] of used) if (pid !== npid && pid !== zkPid) harness = Math.max(harness, u.share);
    const secs = (t: number) => Math.max(0, (t - electedAt) / 1000);
    const z = zkElectedAt || electedAt;
    const zsecs = (t: number) => (t > 0 ? (t - z) / 1000 : Number.NaN);
    const times = a.registeredTimes;
    const pct = (q: number) => zsecs(times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? 0);
    const reconciledAt = Math.max(f.lastReconciledAt, a.lastRegisteredAt, f.lastSubscribedAt);
    return {
      agents: o.agents,
      frameworks: o.frameworks,
      tasks: o.tasks,
      kill_to_elected_s: (electedAt - killedAt) / 1000,
      elected_to_agents_s: secs(a.lastRegisteredAt),
      elected_to_frameworks_s: secs(f.lastSubscribedAt),
      elected_to_reconciled_s: secs(reconciledAt),
      zk_elected_to_leading_s: zsecs(electedAt),
      zk_elected_to_agents_s: zsecs(a.lastRegisteredAt),
      zk_elected_to_frameworks_s: zsecs(f.lastSubscribedAt),
      zk_elected_to_reconciled_s: zsecs(reconciledAt),
      agents_p10_s: pct(0.1),
      agents_p50_s: pct(0.5),
      agents_p90_s: pct(0.9),
      agents_detected_s: zsecs(a.leaderDetectedAt),
      frameworks_detected_s: zsecs(f.leaderDetectedAt),
      reconcile_sent_s: zsecs(f.reconcileSentAt),
      reconcile_rounds: f.reconcileCalls,
      new_leader_cpu_ms: used.get(npid)?.ms ?? 0,
      new_leader_cpu_from_kill_ms: cpuFromKill,
      new_leader_peak_rss_mib: peakRssMiB(npid) ?? 0,
      slowest_health_ms: probe.slowestMs,
      harness_cpu_share: harness,
      window_cpu_ms: {
        leader_main: (threadsAtEnd?.main ?? Number.NaN) - (threadsAtStart?.main ?? Number.NaN),
        leader_other_threads: (threadsAtEnd?.others ?? Number.NaN) - (threadsAtStart?.others ?? Number.NaN),
        agents: agentProcs.reduce((n, p) => n + (used.get(p.pid)?.ms ?? 0), 0),
        frameworks: used.get(fws.pid)?.ms ?? 0,
        bench: (benchUsed.user + benchUsed.system) / 1000,
        zookeeper: zkPid ? (used.get(zkPid)?.ms ?? 0) : Number.NaN,
      },
      window_faults: {
        leader_main_minor: (faultsAtEnd.main?.minor ?? Number.NaN) - (faultsAtStart.main?.minor ?? Number.NaN),
        leader_minor: (faultsAtEnd.all?.minor ?? Number.NaN) - (faultsAtStart.all?.minor ?? Number.NaN),
        leader_major: (faultsAtEnd.all?.major ?? Number.NaN) - (faultsAtStart.all?.major ?? Number.NaN),
      },
      reregistered: a.reregistered,
      resubscribed: f.resubscribed,
      reconciled: f.reconciled,
      lost: Math.max(0, o.tasks - a.holding),
      killed: a.killed,
      doubled: a.doubled,
      reconcile_not_running: f.reconcileLost,
      complete: back && reconciled,
      new_leader_exited:
        newLeader.child.exitCode !== null || newLeader.child.signalCode !== null
          ? String(newLeader.child.exitCode ?? newLeader.child.signalCode)
          : null,
      load: loadAverage(),
      window_mono_us: [monoUs(z), monoUs(electedAt), monoUs(reconciledAt)],
    };
  } finally {
    await fwProc?.stop();
    await Promise.all(agentProcs.map((p) => p.stop()));
    // SIGTERM (SIGKILL after 5 s): a master run with --cpu-prof writes its profile on a clean exit.
    for (const m of masters) await m.kill('SIGTERM');
  }
}
