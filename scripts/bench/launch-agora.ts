/** The Agora side of the launch benchmark: the framework, and one timed round of launches. */
import { isTerminal, type Offer, type TaskInfo, TaskState, type TaskStatus } from '../../sdk/protocol/types.js';
import { Resources } from '../../sdk/resources/resources.js';
import { SchedulerDriver } from '../../sdk/scheduler/driver.js';
import { waitFor } from '../../testkit/processes.js';
import { CONTAINER_MARKER_DIR, type MarkerMeter, type MarkerStats, monoMs } from './launch-markers.js';
import { type CpuMeter, log, median, nowMs, withTimeout } from './launch-meter.js';
import { AGENT_RESOURCES, COMMAND, type Cz, type Options, TASK_RESOURCES } from './launch-options.js';

export interface Track {
  /** Agent's clock (epoch ms) when it queued STARTING / RUNNING. */
  startingAt?: number;
  runningAt?: number;
  /** Our clock (epoch ms) when RUNNING arrived. */
  runningRecv?: number;
  terminal?: TaskStatus;
}

export interface RoundProfile {
  /** Before the window: ms from the round's start (last round's tasks gone) until the whole agent was on offer. */
  offerWait: number;
  /** Ms from the first launch call to the last task's marker (the measured window). */
  lastMarker: number;
  /** The round's markers. */
  markers: MarkerStats;
  /** The rest in ms from the first launch call. */
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

export class BenchFramework {
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
      declineUnused: false, // it keeps offers for the next launch wave
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

export function taskInfo(cz: Cz, id: string, agentId: string, image: string, markers: MarkerMeter): TaskInfo {
  const t: TaskInfo = {
    name: id,
    task_id: id,
    agent_id: agentId,
    resources: Resources.parse(TASK_RESOURCES).toList(),
    command: { value: markers.command(id, COMMAND, cz === 'docker') },
    kill_policy: { grace_period_seconds: 0 },
  };
  t.container =
    cz === 'docker'
      ? {
          type: 'DOCKER',
          docker: { image, network: 'HOST' },
          containerizer: 'docker',
          volumes: [{ container_path: CONTAINER_MARKER_DIR, host_path: markers.dir, mode: 'RW' }],
        }
      : { type: 'MESOS', containerizer: cz };
  return t;
}

/** One Agora round: launch n tasks as fast as offers allow, time to the n-th RUNNING; then kill them (untimed). */
export async function agoraRound(
  fw: BenchFramework,
  markers: MarkerMeter,
  o: Options,
  cz: Cz,
  n: number,
  tag: string,
  cpu: CpuMeter,
): Promise<{ seconds: number; profile: RoundProfile }> {
  const per = Resources.parse(TASK_RESOURCES);
  const agentCpus = Resources.parse(AGENT_RESOURCES).scalar('cpus');
  // Quiet start: the whole agent is back in offers (everything of the last round is gone). Not in
  // the window: the master's allocation interval (its default) decides this wait; reported apart.
  const waitFrom = monoMs();
  await waitFor('the whole agent to be offered', () => fw.offered().scalar('cpus') >= agentCpus, 60_000, 20).catch(() =>
    log(`  (warning: only ${fw.offered().scalar('cpus')} of ${agentCpus} cpus offered; starting anyway)`),
  );
  const offerWait = monoMs() - waitFrom;
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
    fail ??= `timed out: ${running} of ${n} tasks running, ${markers.stats(ids).seen} markers after 300 s`;
    finish();
  }, 300_000);
  const pump = () => {
    if (next >= n || fw.offers.size === 0) return;
    const offers = [...fw.offers.values()];
    let avail = fw.offered();
    const batch: TaskInfo[] = [];
    while (next < n && batch.length < maxBatch && avail.contains(per)) {
      batch.push(taskInfo(cz, ids[next++], agentId, o.image, markers));
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
  const t0Mono = monoMs();
  const markersDone = markers.expect(ids);
  fw.onOffers = pump;
  pump();
  // The window ends on the last task's own marker; RUNNING (all of them) is waited for too.
  let lastMarker = 0;
  await done;
  if (!fail) {
    lastMarker = await withTimeout(markersDone, 60_000, () => `${markers.stats(ids).seen} of ${n} markers`).catch(
      (e: Error) => {
        fail = `all ${n} tasks RUNNING but not all markers came: ${e.message}`;
        return 0;
      },
    );
  }
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
    seconds: (lastMarker - t0Mono) / 1000,
    profile: {
      offerWait: Math.round(offerWait),
      lastMarker: Math.round(lastMarker - t0Mono),
      markers: markers.stats(ids),
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
