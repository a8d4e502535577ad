/**
 * Figures computed from history (pure): run durations' percentiles for Chronos's job/stat and stats
 * routes, Metronome's history and historySummary, and the dependency graph as dot and csv.
 */
import type { Job } from './job.js';
import type { JobRecord, Run } from './records.js';

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] as number;
}

export function durations(history: Run[]): number[] {
  return history
    .filter((r) => r.state === 'SUCCESS' && r.started !== undefined && r.ended !== undefined)
    .map((r) => ((r.ended as number) - (r.started as number)) / 1000)
    .sort((a, b) => a - b);
}

export const STAT_NAMES = {
  '99thPercentile': 99,
  '98thPercentile': 98,
  '95thPercentile': 95,
  '75thPercentile': 75,
  median: 50,
  mean: -1,
} as const;
export type StatName = keyof typeof STAT_NAMES;

export function statOf(d: number[], name: StatName): number {
  if (name === 'mean') return d.length === 0 ? 0 : d.reduce((a, b) => a + b, 0) / d.length;
  return percentile(d, STAT_NAMES[name]);
}

/** Chronos's GET job/stat/{name}. */
export function jobStat(history: Run[]): Record<string, unknown> {
  const d = durations(history);
  return {
    histogram: {
      '75thPercentile': statOf(d, '75thPercentile'),
      '95thPercentile': statOf(d, '95thPercentile'),
      '98thPercentile': statOf(d, '98thPercentile'),
      '99thPercentile': statOf(d, '99thPercentile'),
      median: statOf(d, 'median'),
      mean: statOf(d, 'mean'),
      count: d.length,
    },
    taskStatHistory: history.slice(-50).map(runView),
  };
}

/** One history record as the APIs show it (times in ISO 8601). */
export function runView(r: Run): Record<string, unknown> {
  const iso = (t?: number) => (t === undefined ? undefined : new Date(t).toISOString());
  return {
    runId: r.id,
    taskId: r.taskId,
    due: iso(r.due),
    started: iso(r.started),
    ended: iso(r.ended),
    state: r.state,
    taskState: r.taskState,
    exitStatus: r.exitStatus,
    agentId: r.agentId,
    hostname: r.hostname,
    attempt: r.attempt,
    trigger: r.trigger,
    reason: r.reason,
  };
}

export function lastStatus(rec: JobRecord): 'success' | 'failure' | 'fresh' {
  const c = rec.state.counters;
  if (!c.lastSuccess && !c.lastError) return 'fresh';
  return (c.lastSuccess ?? 0) >= (c.lastError ?? 0) ? 'success' : 'failure';
}

export function runningStatus(rec: JobRecord): string {
  const running = rec.state.runs.filter((r) => r.state === 'LAUNCHED').length;
  const queued = rec.state.runs.filter((r) => r.state === 'QUEUED').length;
  if (running > 0) return running === 1 ? 'running' : `${running} running`;
  return queued > 0 ? 'queued' : 'idle';
}

function dotId(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export function graphDot(recs: JobRecord[]): string {
  const lines = ['digraph G {', '  node [style=filled];'];
  for (const r of recs) {
    const color = { success: 'darkseagreen', failure: 'salmon', fresh: 'lightgrey' }[lastStatus(r)];
    lines.push(`  ${dotId(r.job.name)} [fillcolor=${color}];`);
  }
  for (const r of recs) for (const p of r.job.parents) lines.push(`  ${dotId(p)} -> ${dotId(r.job.name)};`);
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

function csvField(s: string): string {
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Chronos's graph/csv: `node,<name>,<last status>,<running status>` lines, then `link,<parent>,<child>`. */
export function graphCsv(recs: JobRecord[]): string {
  const out: string[] = [];
  for (const r of recs) out.push(['node', csvField(r.job.name), lastStatus(r), runningStatus(r)].join(','));
  for (const r of recs) for (const p of r.job.parents) out.push(['link', csvField(p), csvField(r.job.name)].join(','));
  return out.length > 0 ? `${out.join('\n')}\n` : '';
}

/** Would `name` with `parents` close a cycle, given the other jobs' parents? Returns the cycle's path. */
export function cycleThrough(name: string, parents: string[], jobs: Map<string, Job>): string[] | undefined {
  const parentsOf = (n: string) => (n === name ? parents : (jobs.get(n)?.parents ?? []));
  const seen = new Set<string>();
  const walk = (n: string, path: string[]): string[] | undefined => {
    for (const p of parentsOf(n)) {
      if (p === name) return [...path, p];
      if (seen.has(p)) continue;
      seen.add(p);
      const found = walk(p, [...path, p]);
      if (found) return found;
    }
    return undefined;
  };
  return walk(name, [name]);
}

/** Metronome's history of a job from its final runs. */
export function metronomeHistory(history: Run[], summaryOnly: boolean): Record<string, unknown> {
  const finished = history.filter((r) => r.state === 'SUCCESS' || r.state === 'FAILED');
  const ok = finished.filter((r) => r.state === 'SUCCESS');
  const bad = finished.filter((r) => r.state === 'FAILED');
  const iso = (t?: number) => (t === undefined ? null : new Date(t).toISOString());
  const summary = {
    successCount: ok.length,
    failureCount: bad.length,
    lastSuccessAt: iso(ok[ok.length - 1]?.ended),
    lastFailureAt: iso(bad[bad.length - 1]?.ended),
  };
  if (summaryOnly) return summary;
  const item = (r: Run) => ({
    id: r.id,
    createdAt: iso(r.due),
    finishedAt: iso(r.ended),
    tasks: r.taskId ? [r.taskId] : [],
  });
  return { ...summary, successfulFinishedRuns: ok.map(item).reverse(), failedFinishedRuns: bad.map(item).reverse() };
}
