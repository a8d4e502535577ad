/** The launch benchmark's output: the table and the JSON lines. */

import type { RoundProfile } from './launch-agora.js';
import type { CzResult, MethodResult } from './launch-measure.js';
import { rateStats } from './launch-measure.js';
import { median, round2, THREAD_KEY } from './launch-meter.js';
import { type Options, TARGET } from './launch-options.js';

export function fmtRate(r: MethodResult | undefined): string {
  if (!r) return '-';
  if (r.error && !r.rates.length) return 'failed';
  const s = rateStats(r.rates);
  return `${s.median.toFixed(1)} (${s.min.toFixed(1)}–${s.max.toFixed(1)})`;
}

export function ratioOf(agora: MethodResult | undefined, base: MethodResult | undefined) {
  if (!agora?.rates.length || !base?.rates.length) return undefined;
  const a = rateStats(agora.rates);
  const b = rateStats(base.rates);
  // Rounds are interleaved: the ratio of each round's pair shows the spread.
  const pairs = agora.rates.slice(0, base.rates.length).map((x, i) => x / base.rates[i]);
  return { ratio: a.median / b.median, min: Math.min(...pairs), max: Math.max(...pairs) };
}

export function jsonLine(r: CzResult): string {
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
      cpu_ms_per_task_by_thread:
        m.cpu.length && Object.keys(cpuPerTask(m, r.tasks, true)).length
          ? Object.fromEntries(Object.entries(cpuPerTask(m, r.tasks, true)).map(([k, v]) => [k, round2(v)]))
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
    window: "first launch call (raw: the spawner's start stamp) → the last task's own marker",
    offer_wait_ms: r.profiles.length ? median(r.profiles.map((p) => p.offerWait)) : null,
    load_avg: r.load,
    marker_faults: r.markerFaults ?? [],
    marker_rounds_checked: r.markerChecks ?? 0,
    profile_ms: medianProfile(r.profiles),
    retried: r.retried.length ? r.retried : undefined,
    error: r.error,
  });
}

export function medianProfile(ps: RoundProfile[]): Record<string, number> | undefined {
  if (!ps.length) return undefined;
  const keys = [
    'offerWait',
    'lastMarker',
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

/** CPU ms per task of each watched process: the median over the rounds (`threads`: the per-thread figures instead). */
export function cpuPerTask(m: MethodResult, tasks: number, threads = false): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of Object.keys(m.cpu[0] ?? {})) {
    if (k.startsWith(THREAD_KEY) !== threads) continue;
    out[threads ? k.slice(THREAD_KEY.length) : k] = median(m.cpu.map((c) => c[k] ?? 0)) / tasks;
  }
  return out;
}

export function grid(head: string[], rows: string[][]): string[] {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(w[i]))
      .join('  ')
      .trimEnd();
  return [line(head), line(w.map((x) => '-'.repeat(x))), ...rows.map(line)];
}

export function table(results: CzResult[], o: Options): string {
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
    for (const x of r.markerFaults ?? []) notes.push(`${r.containerizer}: MARKER FAULT ${x}`);
    if (r.load) notes.push(`${r.containerizer}: load average ${r.load[0]} at the start, ${r.load[1]} at the end`);
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
  out.push('(its spread: the per-round Agora/raw pairs).');
  out.push(
    "Window, every side: start (Agora: the first launch call; raw: the spawner's start stamp) → the last task's own",
  );
  out.push("marker (each task's command first writes its id into a FIFO stamped on CLOCK_MONOTONIC by a tiny reader).");
  out.push('Baselines:');
  for (const r of results.filter((x) => !x.skipped)) {
    for (const b of r.baselines) out.push(`  ${r.containerizer.padEnd(7)} ${b.key.padEnd(6)} ${b.label}`);
  }
  for (const n of notes) out.push(`NOTE ${n}`);
  const profiled = results.filter((r) => r.profiles.length);
  if (profiled.length) {
    out.push('');
    out.push('Where Agora spends the time (medians over the rounds; ms from the first launch call; STARTING and');
    out.push(
      "RUNNING as stamped by the agent, on this host's clock). 'offer wait': before the window, from the round's",
    );
    out.push(
      "start (the last round gone) until the whole agent was on offer, at the master's default allocation interval:",
    );
    const head2 = [
      'containerizer',
      'offer wait',
      'last marker',
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
        String(p.offerWait),
        String(p.lastMarker),
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
    const keys = [
      ...new Set(withCpu.flatMap((r) => Object.keys(r.agora?.cpu[0] ?? {}).filter((k) => !k.startsWith(THREAD_KEY)))),
    ];
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
    const threadRows = withCpu
      .map((r) => [r.containerizer, cpuPerTask(r.agora as MethodResult, r.tasks, true)] as const)
      .filter(([, per]) => Object.keys(per).length > 0);
    if (threadRows.length) {
      out.push('');
      out.push("Agora's agent and launchers by thread, CPU ms per task (medians; /proc/<pid>/task/<tid>/schedstat).");
      out.push("'prepare' is the launchers' file-system worker, 'helper' their spawn helpers (clones only: the");
      out.push("children's time before their exec is the tasks'), '*_other' V8's and libuv's threads.");
      const tk = [...new Set(threadRows.flatMap(([, per]) => Object.keys(per)))];
      out.push(
        ...grid(
          ['containerizer', ...tk],
          threadRows.map(([cz, per]) => [cz, ...tk.map((k) => (per[k] ?? 0).toFixed(2))]),
        ),
      );
    }
  }
  return out.join('\n');
}
