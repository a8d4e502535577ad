/**
 * One case of the placement benchmark: a master (the real one, or the stub), simulated agents and
 * frameworks, three phases (every agent registering at once; filling to 80% of capacity; steady
 * churn at 50%) and the figures of each, read from the simulated peers' own records and from /proc.
 */

import type { AgentClientKind } from './sim/agents.js';
import {
  type AgentsProc,
  agentsReport,
  forkAgentProcs,
  forkFrameworks,
  freePort,
  HealthProbe,
  type MasterProc,
  sleep,
  startAgoraMaster,
  startStub,
  waitFor,
  waitHealthy,
} from './sim/cluster.js';
import { CpuWindow, loadAverage, peakRssMiB } from './sim/proc.js';

export interface PlacementOptions {
  target: 'agora' | 'stub';
  agents: number;
  frameworks: number;
  /** Cap on the tasks of the fill phase (0: 80% of capacity). */
  tasks: number;
  agentProcs: number;
  agentResources: string;
  task: string;
  /** Slots per agent (how many tasks fit), from the two shapes. */
  slots: number;
  churnSeconds: number;
  /** Give up on a phase when nothing progresses for this long. */
  stallMs: number;
  /** What holds the simulated agents' connections (default: AGORA_BENCH_AGENT_CLIENT, else lean). */
  agentClient?: AgentClientKind;
}

export interface PhaseResult {
  phase: 'register' | 'fill' | 'churn';
  target: string;
  agents: number;
  frameworks: number;
  /** Things done in the phase: agents registered, or tasks placed. */
  count: number;
  seconds: number;
  /** placements (RUN_TASK at agents) per second; registrations per second for the register phase. */
  rate: number;
  /** RUNNING seen by frameworks per second. */
  runningRate: number;
  p50_ms: number;
  p99_ms: number;
  master_cpu_ms: number;
  master_cpu_ms_per_item: number;
  master_peak_rss_mib: number;
  slowest_health_ms: number;
  /** Highest share of one core used by a harness process in the phase (≥ 0.9: the harness was the bottleneck). */
  harness_cpu_share: number;
  /** CPU ms of the simulated agents' processes together in the phase (what their client costs shows here). */
  agents_cpu_ms: number;
  master_cpu_share: number;
  offers: number;
  accepts: number;
  declines: number;
  /** Offers received and accepts sent by the frameworks during this phase alone (waste: offers per accept). */
  phase_offers: number;
  phase_accepts: number;
  /** REVIVE and SUPPRESS calls the frameworks sent in this phase, and OFFERS events they got. */
  phase_revives: number;
  phase_suppresses: number;
  phase_offer_events: number;
  complete: boolean;
  load: string;
  /** Register phase: seconds each quarter of the agents took (equal quarters = cost that does not grow). */
  quarters_s?: number[];
}

export interface CaseResult {
  phases: PhaseResult[];
  correct: { overcommitted: number; doubled: number; runningTwice: number; notRunningOnce: number; ok: boolean };
  /** Launches that ended before running (the framework queued them again), and the last reason. */
  lostBeforeRunning: number;
  lastReason: string;
  /** Framework connections closed during the case (a framework dropped and re-subscribed), and the last close. */
  frameworkCloses: number;
  lastFrameworkClose: string;
}

export async function runPlacementCase(o: PlacementOptions): Promise<CaseResult> {
  const port = await freePort();
  // Every simulated agent and framework connects from 127.0.0.1: lift the master's per-address cap
  // (default 1,000, meant for one host's worth of peers) above the whole simulated cluster.
  const capFlags = ['--max_connections_per_ip', String(o.agents + o.frameworks + 100)];
  const master: MasterProc = o.target === 'agora' ? await startAgoraMaster(port, capFlags) : await startStub(port);
  const agentProcs: AgentsProc[] = [];
  const phases: PhaseResult[] = [];
  const mpid = master.child.pid ?? 0;
  try {
    await waitHealthy(port);
    const url = `ws://127.0.0.1:${port}`;
    agentProcs.push(
      ...forkAgentProcs(`${url}/api/v1/agent`, o.agents, o.agentProcs, o.agentResources, { client: o.agentClient }),
    );
    await Promise.all(agentProcs.map((p) => p.ready));
    const fwProc = forkFrameworks({
      url: `${url}/api/v1/scheduler/ws`,
      count: o.frameworks,
      task: o.task,
      declineSeconds: 3600,
    });
    await fwProc.ready;
    const pids = () => [mpid, fwProc.pid, ...agentProcs.map((p) => p.pid)];
    const cpu = new CpuWindow(pids);
    const base = { target: o.target, agents: o.agents, frameworks: o.frameworks };
    const before = { offers: 0, accepts: 0, revives: 0, suppresses: 0, offerEvents: 0 };
    const finish = async (
      phase: PhaseResult['phase'],
      start: number,
      count: number,
      end: number,
      probe: HealthProbe,
      runningRate: number,
      complete: boolean,
    ): Promise<PhaseResult> => {
      const used = cpu.read();
      await probe.stop();
      const f = await fwProc.report();
      const seconds = Math.max(0.001, (end - start) / 1000);
      const masterMs = used.get(mpid)?.ms ?? 0;
      let harness = 0;
      for (const [pid, u] of used) if (pid !== mpid) harness = Math.max(harness, u.share);
      const agentsMs = agentProcs.reduce((n, p) => n + (used.get(p.pid)?.ms ?? 0), 0);
      const phaseOffers = f.offers - before.offers;
      const phaseAccepts = f.accepts - before.accepts;
      const phaseRevives = f.revives - before.revives;
      const phaseSuppresses = f.suppresses - before.suppresses;
      const phaseOfferEvents = f.offerEvents - before.offerEvents;
      before.offers = f.offers;
      before.accepts = f.accepts;
      before.revives = f.revives;
      before.suppresses = f.suppresses;
      before.offerEvents = f.offerEvents;
      return {
        phase,
        ...base,
        count,
        seconds,
        rate: count / seconds,
        runningRate,
        p50_ms: phase === 'register' ? 0 : f.p50,
        p99_ms: phase === 'register' ? 0 : f.p99,
        master_cpu_ms: masterMs,
        master_cpu_ms_per_item: count > 0 ? masterMs / count : 0,
        master_peak_rss_mib: peakRssMiB(mpid) ?? 0,
        slowest_health_ms: probe.slowestMs,
        harness_cpu_share: harness,
        agents_cpu_ms: agentsMs,
        master_cpu_share: used.get(mpid)?.share ?? 0,
        offers: f.offers,
        accepts: f.accepts,
        declines: f.declines,
        phase_offers: phaseOffers,
        phase_accepts: phaseAccepts,
        phase_revives: phaseRevives,
        phase_suppresses: phaseSuppresses,
        phase_offer_events: phaseOfferEvents,
        complete,
        load: loadAverage(),
      };
    };

    // Phase 1: every agent registering at once.
    let probe = new HealthProbe(port);
    cpu.start();
    let t0 = Date.now();
    for (const p of agentProcs) p.send({ cmd: 'start' });
    let a = await agentsReport(agentProcs);
    let ok = await waitFor(
      async () => {
        a = await agentsReport(agentProcs);
        return a.registered >= o.agents;
      },
      () => a.registered,
      { stallMs: o.stallMs },
    );
    const reg = await finish('register', t0, a.registered, a.lastRegisteredAt || Date.now(), probe, 0, ok);
    const times = a.registeredTimes;
    const q = [0.25, 0.5, 0.75, 1].map((f) => times[Math.max(0, Math.ceil(f * times.length) - 1)] ?? t0);
    reg.quarters_s = q.map((x, i) => Math.round((x - (i === 0 ? t0 : q[i - 1])) / 10) / 100);
    phases.push(reg);

    fwProc.send({ cmd: 'start' });
    let f = await fwProc.report();
    await waitFor(
      async () => {
        f = await fwProc.report();
        return f.subscribed >= o.frameworks;
      },
      () => f.subscribed,
      { stallMs: o.stallMs },
    );

    // Phase 2: fill to 80% of capacity.
    const capacity = o.agents * o.slots;
    const fill = o.tasks > 0 ? Math.min(o.tasks, Math.floor(0.8 * capacity)) : Math.floor(0.8 * capacity);
    for (const p of agentProcs) p.send({ cmd: 'mark' });
    fwProc.send({ cmd: 'mark' });
    probe = new HealthProbe(port);
    cpu.start();
    t0 = Date.now();
    fwProc.send({ cmd: 'add', tasks: fill });
    ok = await waitFor(
      async () => {
        f = await fwProc.report();
        return f.running >= fill;
      },
      () => f.running,
      { stallMs: o.stallMs },
    );
    a = await agentsReport(agentProcs);
    const fillEnd = Math.max(a.lastRunTaskAt, t0 + 1);
    phases.push(
      await finish(
        'fill',
        t0,
        a.runTasks,
        fillEnd,
        probe,
        f.running / Math.max(0.001, (f.lastRunningAt - t0) / 1000),
        ok,
      ),
    );

    // Phase 3: steady churn at 50%: shrink to 40%, keep 10% queued; each task that runs replaces an old one.
    if (o.churnSeconds > 0 && ok) {
      fwProc.send({ cmd: 'shrink', to: Math.floor(0.4 * capacity) });
      await waitFor(
        async () => {
          a = await agentsReport(agentProcs);
          return a.holding <= Math.floor(0.4 * capacity);
        },
        () => a.holding,
        { stallMs: o.stallMs },
      );
      fwProc.send({ cmd: 'churn', on: true });
      fwProc.send({ cmd: 'add', tasks: Math.floor(0.1 * capacity) });
      await sleep(2000);
      for (const p of agentProcs) p.send({ cmd: 'mark' });
      fwProc.send({ cmd: 'mark' });
      probe = new HealthProbe(port);
      cpu.start();
      t0 = Date.now();
      await sleep(o.churnSeconds * 1000);
      a = await agentsReport(agentProcs);
      f = await fwProc.report();
      const end = Date.now();
      phases.push(await finish('churn', t0, a.runTasks, end, probe, f.running / ((end - t0) / 1000), a.runTasks > 0));
      fwProc.send({ cmd: 'churn', on: false });
      await sleep(1000);
    }

    // Let launches in flight land before counting.
    await waitFor(
      async () => {
        a = await agentsReport(agentProcs);
        f = await fwProc.report();
        return a.distinctTasks === f.runningEver;
      },
      () => f.runningEver,
      { stallMs: 5000 },
    );
    // Every task an agent was sent was seen RUNNING by its framework, once.
    const notRunningOnce = Math.abs(a.distinctTasks - f.runningEver);
    await fwProc.stop();
    const correct = {
      overcommitted: a.overcommitted,
      doubled: a.doubled,
      runningTwice: f.runningTwice,
      notRunningOnce,
      ok: a.overcommitted === 0 && a.doubled === 0 && f.runningTwice === 0 && notRunningOnce === 0,
    };
    return {
      phases,
      correct,
      lostBeforeRunning: f.lostBeforeRunning,
      lastReason: f.lastReason,
      frameworkCloses: f.closes,
      lastFrameworkClose: f.lastClose,
    };
  } finally {
    await Promise.all(agentProcs.map((p) => p.stop()));
    await master.kill();
  }
}
