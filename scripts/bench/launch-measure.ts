import { loadavg } from 'node:os';
/** The launch benchmark's plan: which containerizers can run, and the interleaved rounds per method. */
import type Docker from 'dockerode';
import { LinuxContainerizer } from '../../agent/containerizer/linux.js';
import { agoraRound, type BenchFramework, type RoundProfile } from './launch-agora.js';
import type { MarkerMeter, MarkerStats } from './launch-markers.js';
import { type CpuMeter, log, median } from './launch-meter.js';
import type { Cz, Options } from './launch-options.js';
import type { Timed } from './launch-raw.js';

export async function probe(o: Options, docker: Docker): Promise<Record<Cz, string | undefined>> {
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

export interface Method {
  key: string;
  label: string;
  /** The baseline (the ratio and the target are against it). */
  primary: boolean;
  round: (tag: string, cpu: CpuMeter) => Promise<Timed>;
}

export interface MethodResult {
  key: string;
  label: string;
  rates: number[];
  /** CPU ms per round of the processes watched (see CpuMeter), timed part only. */
  cpu: Record<string, number>[];
  error?: string;
}

export interface CzResult {
  containerizer: Cz;
  tasks: number;
  skipped?: string;
  error?: string;
  agora?: MethodResult;
  baselines: MethodResult[];
  profiles: RoundProfile[];
  /** Agora rounds that failed and were run again, with why. */
  retried: string[];
  /** Rounds where a marker was missing or came more than once (there should be none). */
  markerFaults?: string[];
  /** Rounds (every method, warm-ups too) whose markers were checked. */
  markerChecks?: number;
  /** The host's 1-minute load average when this containerizer's rounds began and ended. */
  load?: [number, number];
}

/** Every task's marker once, nothing doubled: anything else is noted in the result. */
export function checkMarkers(res: CzResult, what: string, n: number, m: MarkerStats): void {
  res.markerChecks = (res.markerChecks ?? 0) + 1;
  if (m.seen === n && m.doubled.length === 0) return;
  const why = `${what}: ${m.seen} of ${n} markers seen, ${m.doubled.length} doubled`;
  res.markerFaults = [...(res.markerFaults ?? []), why];
  log(`  MARKER FAULT ${why}`);
}

export function rateStats(rates: number[]) {
  return {
    median: rates.length ? median(rates) : Number.NaN,
    min: rates.length ? Math.min(...rates) : Number.NaN,
    max: rates.length ? Math.max(...rates) : Number.NaN,
  };
}

export async function measure(
  o: Options,
  cz: Cz,
  n: number,
  fw: BenchFramework,
  markers: MarkerMeter,
  baselines: Method[],
  cpu: CpuMeter,
): Promise<CzResult> {
  const res: CzResult = { containerizer: cz, tasks: n, baselines: [], profiles: [], retried: [] };
  const load0 = loadavg()[0];
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
          const { seconds, profile } = await agoraRound(
            fw,
            markers,
            o,
            cz,
            n,
            attempt ? `${tag}a${attempt}` : tag,
            cpu,
          );
          checkMarkers(res, `${tag} agora`, n, profile.markers);
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
        const { seconds, cpuMs, markers: ms } = await m.round(tag, cpu);
        if (ms) checkMarkers(res, `${tag} ${m.key}`, n, ms);
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
  res.load = [Math.round(load0 * 10) / 10, Math.round(loadavg()[0] * 10) / 10];
  return res;
}
