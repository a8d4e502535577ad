/**
 * The cpu weight of the parent cgroup that holds every linux task (`<agent's cgroup>/agora`).
 *
 * The kernel shares CPU between sibling cgroups by weight. All of the agent's tasks sit under one
 * parent, so without a weight of its own that parent competes as one default share (v1 cpu.shares
 * 1024, v2 cpu.weight 100) against every other cgroup beside it, however many CPUs the agent offers.
 * Like Kubernetes' kubepods cgroup (weighted by the node's allocatable CPUs), the agent gives the
 * parent `cpus × 1024` shares (the linear equivalent on v2; the cpus at most the host's), so its
 * tasks together compete like the CPUs they were offered; `--cgroups_parent_cpu_shares` sets another
 * value or leaves it alone.
 *
 * An operator's own weight is not overwritten: the agent writes only when it has just created the
 * parent, when the parent still has the kernel default, when the value there is the one this agent
 * wrote last (recorded in `<work_dir>/meta/cgroups-parent.json`, so a restart re-applies it from the
 * current resources), or when the flag gives a number. It never resets the weight when it stops:
 * tasks may outlive the agent and are recovered by the next one.
 */

import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Cgroups } from './cgroups.js';

/** `--cgroups_parent_cpu_shares`: from the agent's cpus (default), a number, or `none`. */
export type ParentCpuShares = { mode: 'resources' | 'explicit'; shares: number } | { mode: 'none' };

/** What the agent records after it sets the weight. */
export interface ParentWeightRecord {
  file: string;
  value: number;
}

export interface ParentWeightFacts {
  /** The file and the value wanted there, and the kernel default for that file. */
  want: { file: string; value: number; defaultValue: number };
  explicit: boolean;
  /** Whether the parent existed before this agent started (made by an operator or an earlier agent). */
  preexisted: boolean;
  /** The value in the file now (undefined: unreadable). */
  current: number | undefined;
  recorded: ParentWeightRecord | undefined;
}

/** Whether to write the parent's weight, and why (pure). */
export function decideParentWeight(f: ParentWeightFacts): { write: boolean; reason: string } {
  if (f.explicit) return { write: true, reason: 'given by --cgroups_parent_cpu_shares' };
  if (!f.preexisted) return { write: true, reason: 'the agent created the parent cgroup' };
  if (f.current === f.want.value) return { write: true, reason: 'already at this weight' };
  if (f.recorded && f.recorded.file === f.want.file && f.recorded.value === f.current)
    return { write: true, reason: 'the weight there is the one this agent set before' };
  if (f.current === f.want.defaultValue) return { write: true, reason: 'the parent cgroup had the kernel default' };
  return {
    write: false,
    reason: `the parent cgroup has a weight of ${f.current ?? 'unknown'} that this agent did not set (an operator's?): left alone; --cgroups_parent_cpu_shares=N overrides it`,
  };
}

/** The record's path under the agent's work dir. */
export function parentWeightRecordPath(workDir: string): string {
  return path.join(workDir, 'meta', 'cgroups-parent.json');
}

async function readRecord(file: string): Promise<ParentWeightRecord | undefined> {
  try {
    const r = JSON.parse(await fs.readFile(file, 'utf8')) as ParentWeightRecord;
    return typeof r.file === 'string' && typeof r.value === 'number' ? r : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Sets the parent's weight per `decideParentWeight` (after `cgroups.check()` made the parent). The
 * record is written before the value, so a crash between the two never leaves a weight this agent
 * wrote but would not recognise as its own. Returns what it did; failures are the caller's to log.
 */
export async function applyParentWeight(
  cgroups: Cgroups,
  setting: ParentCpuShares,
  workDir: string | undefined,
  logger: Logger,
): Promise<{ file: string; value: number; written: boolean; reason: string } | undefined> {
  if (setting.mode === 'none') return undefined;
  const want = cgroups.rootCpuWeight(setting.shares);
  const text = await fs.readFile(want.file, 'utf8').catch(() => undefined);
  const current = text === undefined ? undefined : Number(text.trim());
  const recordFile = workDir ? parentWeightRecordPath(workDir) : undefined;
  const recorded = recordFile ? await readRecord(recordFile) : undefined;
  const d = decideParentWeight({
    want,
    explicit: setting.mode === 'explicit',
    preexisted: cgroups.rootPreexisted ?? true,
    current: Number.isFinite(current) ? current : undefined,
    recorded,
  });
  if (d.write) {
    if (recordFile) {
      await fs.mkdir(path.dirname(recordFile), { recursive: true });
      const tmp = `${recordFile}.tmp`;
      await fs.writeFile(tmp, JSON.stringify({ file: want.file, value: want.value } satisfies ParentWeightRecord));
      await fs.rename(tmp, recordFile);
    }
    if (current !== want.value) await fs.writeFile(want.file, String(want.value));
    logger.info(
      { file: want.file, value: want.value, was: current, shares: setting.shares, reason: d.reason },
      'cpu weight of the tasks’ parent cgroup set',
    );
  } else {
    logger.warn({ file: want.file, value: current, wanted: want.value, reason: d.reason }, 'parent cgroup weight kept');
  }
  return { file: want.file, value: d.write ? want.value : (current ?? Number.NaN), written: d.write, reason: d.reason };
}
