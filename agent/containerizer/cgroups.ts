/**
 * Agora's cgroups, on cgroup v1 (one hierarchy per controller) and v2 (the unified hierarchy).
 *
 * Each task gets `<mount>/<the agent's own cgroup>/<root>/<task>` for the memory, cpu and cpuacct
 * controllers (v1), or one directory in the unified hierarchy (v2). The agent's own cgroup is read
 * from /proc/self/cgroup, so Agora nests under whatever cgroup the agent was started in.
 */

import { existsSync, promises as fs, readFileSync } from 'node:fs';
import path from 'node:path';
import { type Clock, systemClock } from '../../sdk/util/clock.js';

export type CgroupVersion = 1 | 2;

/** The controllers Agora uses on v1. `cpuacct` is optional (usage only). */
export const V1_CONTROLLERS = ['memory', 'cpu', 'cpuacct'] as const;
export type V1Controller = (typeof V1_CONTROLLERS)[number];

/** Where the hierarchies are and where this process sits in them. */
export interface CgroupLayout {
  version: CgroupVersion;
  /** v1: controller → absolute directory of this process's cgroup; v2: `unified` → the same. */
  own: Record<string, string>;
}

/** A task's cgroups, as checkpointed in its ContainerHandle. */
export interface CgroupSet {
  version: CgroupVersion;
  /** v1: controller → absolute directory (co-mounted controllers share one); v2: `unified` → directory. */
  paths: Record<string, string>;
}

export interface CgroupLimits {
  /** Hard memory limit in bytes (no swap beyond it). */
  memBytes?: number;
  /** CPU share: `cpu.shares = cpus × 1024` (v1), the equivalent `cpu.weight` (v2). */
  cpus?: number;
  /** Also cap CPU time at `cpus` × the period (CFS quota). */
  cfsQuota?: boolean;
}

/** See `Cgroups.plan`. */
export interface CgroupPlan {
  set: CgroupSet;
  mkdir: string[];
  write: { file: string; value: string; optional?: boolean }[];
}

export interface CgroupUsage {
  cpuUserSecs?: number;
  cpuSystemSecs?: number;
  memUsageBytes?: number;
  memRssBytes?: number;
  memLimitBytes?: number;
  /** Highest usage seen (v1 `memory.max_usage_in_bytes`, v2 `memory.peak` where the kernel has it). */
  memMaxUsageBytes?: number;
}

const CPU_PERIOD_US = 100_000;
const USER_HZ = 100;
const UNIFIED_ROOT = '/sys/fs/cgroup';

interface MountEntry {
  root: string;
  mountPoint: string;
  fsType: string;
  superOptions: string[];
}

function parseMountInfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    const dash = line.indexOf(' - ');
    if (dash < 0) continue;
    const left = line.slice(0, dash).split(' ');
    const right = line.slice(dash + 3).split(' ');
    const unoctal = (s: string) =>
      s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
    out.push({
      root: unoctal(left[3]),
      mountPoint: unoctal(left[4]),
      fsType: right[0],
      superOptions: (right[2] ?? '').split(','),
    });
  }
  return out;
}

/** `/proc/<pid>/cgroup` → controller (v1) or `''` (v2) → path. */
function parseProcCgroup(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    if (m[2] === '') out.set('', m[3]);
    for (const c of m[2].split(',')) if (c) out.set(c, m[3]);
  }
  return out;
}

function join(mountPoint: string, mountRoot: string, cgPath: string): string {
  // Inside a container the mount's root may be a sub-cgroup that /proc/self/cgroup spells out in full.
  let rel = cgPath;
  if (mountRoot !== '/' && (rel === mountRoot || rel.startsWith(`${mountRoot}/`))) rel = rel.slice(mountRoot.length);
  return path.join(mountPoint, rel || '/');
}

/** Detects the cgroup version and this process's cgroups; throws with a reason when unusable. */
export function detectLayout(): CgroupLayout {
  const cgroups = parseProcCgroup(readFileSync('/proc/self/cgroup', 'utf8'));
  const mounts = parseMountInfo(readFileSync('/proc/self/mountinfo', 'utf8'));
  if (existsSync(path.join(UNIFIED_ROOT, 'cgroup.controllers'))) {
    const m = mounts.find((x) => x.fsType === 'cgroup2' && x.mountPoint === UNIFIED_ROOT);
    const own = cgroups.get('') ?? '/';
    return { version: 2, own: { unified: join(UNIFIED_ROOT, m?.root ?? '/', own) } };
  }
  const own: Record<string, string> = {};
  for (const c of V1_CONTROLLERS) {
    const m = mounts.find((x) => x.fsType === 'cgroup' && x.superOptions.includes(c));
    const p = cgroups.get(c);
    if (m && p !== undefined) own[c] = join(m.mountPoint, m.root, p);
  }
  if (!own.memory || !own.cpu) {
    const missing = ['memory', 'cpu'].filter((c) => !own[c]).join(' and ');
    throw new Error(`cgroup v1 ${missing} controller${missing.includes(' and ') ? 's are' : ' is'} not mounted`);
  }
  return { version: 1, own };
}

async function readText(file: string): Promise<string | undefined> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch {
    return undefined;
  }
}

async function readNumber(file: string): Promise<number | undefined> {
  const t = await readText(file);
  if (t === undefined) return undefined;
  const v = t.trim();
  if (v === 'max') return Number.POSITIVE_INFINITY;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

/** `key value` lines (memory.stat, cpu.stat, memory.events, memory.oom_control, cpuacct.stat). */
async function readKeyed(file: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const line of ((await readText(file)) ?? '').split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && Number.isFinite(Number(v))) out[k] = Number(v);
  }
  return out;
}

/** v1 cpu.shares → v2 cpu.weight (the conversion runc and systemd use). */
export function sharesToWeight(shares: number): number {
  return Math.max(1, Math.min(10_000, 1 + Math.floor(((shares - 2) * 9999) / 262_142)));
}

/** The kernel's default weights: v1 `cpu.shares` 1024, v2 `cpu.weight` 100 (the same share). */
export const DEFAULT_CPU_SHARES = 1024;
export const DEFAULT_CPU_WEIGHT = 100;

/**
 * v1 cpu.shares → v2 cpu.weight as the kernel equates them (weight 100 ↔ shares 1024, linear, as
 * systemd converts CPUShares= to CPUWeight=), clamped to 1..10000. Used for the parent cgroup, whose
 * siblings are other services at the default weight: there the ratio to the default must hold
 * (runc's affine `sharesToWeight` maps 2 CPUs' 2048 shares to 79, below the default 100).
 */
export function sharesToWeightLinear(shares: number): number {
  return Math.max(1, Math.min(10_000, Math.round((shares * DEFAULT_CPU_WEIGHT) / DEFAULT_CPU_SHARES)));
}

/** v1 accepts cpu.shares from 2 to 262144. */
export function clampShares(shares: number): number {
  return Math.max(2, Math.min(262_144, Math.round(shares)));
}

/** Makes a name safe as one cgroup directory. */
export function cgroupName(id: string): string {
  const s = id.replace(/[^a-zA-Z0-9_.-]/g, '_');
  return s === '.' || s === '..' ? `_${s}` : s;
}

export interface CgroupsOptions {
  /** Directory under the agent's own cgroup that holds the tasks' cgroups (default `agora`). */
  root?: string;
  /** A layout to use instead of detecting one (tests, or an agent placed in a known cgroup). */
  layout?: CgroupLayout;
  /** Arms the waits between removal attempts (default the system clock). */
  clock?: Clock;
}

/** Creates, fills, measures and removes task cgroups. */
export class Cgroups {
  private readonly rootName: string;
  private readonly clock: Clock;
  private cachedLayout: CgroupLayout | undefined;
  private memsw: boolean | undefined;

  constructor(opts: CgroupsOptions = {}) {
    this.rootName = opts.root ?? 'agora';
    this.cachedLayout = opts.layout;
    this.clock = opts.clock ?? systemClock;
  }

  layout(): CgroupLayout {
    this.cachedLayout ??= detectLayout();
    return this.cachedLayout;
  }

  /** Directories that hold the tasks' cgroups (one per distinct v1 hierarchy, or one on v2). */
  bases(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [c, own] of Object.entries(this.layout().own)) out[c] = path.join(own, this.rootName);
    return out;
  }

  /**
   * The parent cgroup's cpu weight file (`<own>/<root>/cpu.shares` on v1, `cpu.weight` on v2) and
   * the value that gives it `shares` (v1 shares; converted linearly on v2), with the kernel default.
   */
  rootCpuWeight(shares: number): { file: string; value: number; defaultValue: number } {
    const layout = this.layout();
    if (layout.version === 2)
      return {
        file: path.join(layout.own.unified, this.rootName, 'cpu.weight'),
        value: sharesToWeightLinear(shares),
        defaultValue: DEFAULT_CPU_WEIGHT,
      };
    return {
      file: path.join(this.bases().cpu, 'cpu.shares'),
      value: clampShares(shares),
      defaultValue: DEFAULT_CPU_SHARES,
    };
  }

  /** Whether the parent cgroup (`<own>/<root>`) existed before `check()` made it (undefined: not checked yet). */
  rootPreexisted: boolean | undefined;

  /** Whether cgroups can be created here; the reason says what is missing. */
  async check(): Promise<{ ok: true } | { ok: false; reason: string }> {
    let layout: CgroupLayout;
    try {
      layout = this.layout();
    } catch (err) {
      return { ok: false, reason: (err as Error).message };
    }
    try {
      if (layout.version === 2) {
        const own = layout.own.unified;
        const have = ((await readText(path.join(UNIFIED_ROOT, 'cgroup.controllers'))) ?? '').split(/\s+/);
        const missing = ['memory', 'cpu'].filter((c) => !have.includes(c));
        if (missing.length) return { ok: false, reason: `cgroup v2 controllers not available: ${missing.join(', ')}` };
        this.rootPreexisted ??= existsSync(path.join(own, this.rootName));
        await fs.mkdir(path.join(own, this.rootName), { recursive: true });
        await this.enableV2Controllers();
      } else {
        this.rootPreexisted ??= existsSync(this.bases().cpu);
        for (const base of new Set(Object.values(this.bases()))) {
          await fs.mkdir(base, { recursive: true });
          await fs.access(base, fs.constants.W_OK);
        }
      }
    } catch (err) {
      return { ok: false, reason: `cgroups are not writable: ${(err as Error).message}` };
    }
    return { ok: true };
  }

  /**
   * What creating a task's cgroups takes: the directories to make and the limit files to write, in
   * order, for cgroups that do not exist yet (on v2, `check()` has enabled the controllers). The
   * agent hands this to its launcher process, which carries it out right before the spawn.
   */
  plan(id: string, limits: CgroupLimits): CgroupPlan {
    const layout = this.layout();
    const name = cgroupName(id);
    const write: CgroupPlan['write'] = [];
    if (layout.version === 2) {
      const dir = path.join(layout.own.unified, this.rootName, name);
      if (limits.memBytes && limits.memBytes > 0) {
        write.push({ file: path.join(dir, 'memory.max'), value: String(Math.round(limits.memBytes)) });
        // Not every kernel accounts swap (memory.swap.max is then missing).
        write.push({ file: path.join(dir, 'memory.swap.max'), value: '0', optional: true });
      }
      if (limits.cpus && limits.cpus > 0) {
        write.push({
          file: path.join(dir, 'cpu.weight'),
          value: String(sharesToWeight(Math.round(limits.cpus * 1024))),
        });
        if (limits.cfsQuota) {
          const quota = Math.max(1000, Math.round(limits.cpus * CPU_PERIOD_US));
          write.push({ file: path.join(dir, 'cpu.max'), value: `${quota} ${CPU_PERIOD_US}` });
        }
      }
      return { set: { version: 2, paths: { unified: dir } }, mkdir: [dir], write };
    }
    const paths: Record<string, string> = {};
    for (const [c, base] of Object.entries(this.bases())) paths[c] = path.join(base, name);
    if (limits.memBytes && limits.memBytes > 0) {
      const bytes = String(Math.round(limits.memBytes));
      // A new cgroup starts unlimited: the memory limit first, then memory+swap to the same value
      // (memsw may never be below the memory limit), so the task cannot use swap.
      write.push({ file: path.join(paths.memory, 'memory.limit_in_bytes'), value: bytes });
      if (this.swapAccounting())
        write.push({ file: path.join(paths.memory, 'memory.memsw.limit_in_bytes'), value: bytes });
      else write.push({ file: path.join(paths.memory, 'memory.swappiness'), value: '0', optional: true });
    }
    if (limits.cpus && limits.cpus > 0) {
      write.push({
        file: path.join(paths.cpu, 'cpu.shares'),
        value: String(Math.max(2, Math.round(limits.cpus * 1024))),
      });
      if (limits.cfsQuota) {
        write.push({ file: path.join(paths.cpu, 'cpu.cfs_period_us'), value: String(CPU_PERIOD_US) });
        write.push({
          file: path.join(paths.cpu, 'cpu.cfs_quota_us'),
          value: String(Math.max(1000, Math.round(limits.cpus * CPU_PERIOD_US))),
        });
      }
    }
    return { set: { version: 1, paths }, mkdir: [...new Set(Object.values(paths))], write };
  }

  /** Whether cgroup v1 accounts swap (`memory.memsw.*` exist; the kernel's swapaccount). */
  private swapAccounting(): boolean {
    this.memsw ??= existsSync(path.join(this.bases().memory, 'memory.memsw.limit_in_bytes'));
    return this.memsw;
  }

  /** The `cgroup.procs` files of the set (distinct hierarchies only): who is in it. */
  procsFiles(set: CgroupSet): string[] {
    return [...new Set(Object.values(set.paths))].map((d) => path.join(d, 'cgroup.procs'));
  }

  /**
   * The files a thread writes `0` (itself) into to join the set before it forks the task, so that
   * the task is born inside. On v1 that is `tasks`: moving the writing thread itself skips the
   * global lock that moving a whole process takes (and which stalls every fork on the host
   * meanwhile). On v2, `cgroup.procs` (the whole writing process moves).
   */
  joinFiles(set: CgroupSet): string[] {
    const file = set.version === 1 ? 'tasks' : 'cgroup.procs';
    return [...new Set(Object.values(set.paths))].map((d) => path.join(d, file));
  }

  /** The same files of this process's own cgroups, in the hierarchies of `set`: the way back. */
  ownJoinFiles(set: CgroupSet): string[] {
    const own = this.layout().own;
    const file = set.version === 1 ? 'tasks' : 'cgroup.procs';
    return [
      ...new Set(
        Object.keys(set.paths)
          .map((c) => own[c])
          .filter(Boolean),
      ),
    ].map((d) => path.join(d, file));
  }

  /** Every pid in the set. */
  async pids(set: CgroupSet): Promise<number[]> {
    const all = new Set<number>();
    for (const f of this.procsFiles(set)) {
      for (const l of ((await readText(f)) ?? '').split('\n')) if (l.trim()) all.add(Number(l));
    }
    return [...all];
  }

  /** Whether the kernel's OOM killer has killed a process of the set. */
  async oomKilled(set: CgroupSet): Promise<boolean> {
    if (set.version === 2) {
      const ev = await readKeyed(path.join(set.paths.unified, 'memory.events'));
      return (ev.oom_kill ?? 0) > 0 || (ev.oom_group_kill ?? 0) > 0;
    }
    const mem = set.paths.memory;
    if (!mem) return false;
    const oc = await readKeyed(path.join(mem, 'memory.oom_control'));
    if (oc.oom_kill !== undefined) return oc.oom_kill > 0 || oc.under_oom > 0;
    // Kernels before 4.13 have no oom_kill counter: the limit was hit and usage reached it.
    const failcnt = (await readNumber(path.join(mem, 'memory.failcnt'))) ?? 0;
    const max = (await readNumber(path.join(mem, 'memory.max_usage_in_bytes'))) ?? 0;
    const limit = (await readNumber(path.join(mem, 'memory.limit_in_bytes'))) ?? Number.POSITIVE_INFINITY;
    return failcnt > 0 && max >= limit;
  }

  async usage(set: CgroupSet): Promise<CgroupUsage> {
    const out: CgroupUsage = {};
    if (set.version === 2) {
      const dir = set.paths.unified;
      const cpu = await readKeyed(path.join(dir, 'cpu.stat'));
      if (cpu.user_usec !== undefined) out.cpuUserSecs = cpu.user_usec / 1e6;
      if (cpu.system_usec !== undefined) out.cpuSystemSecs = cpu.system_usec / 1e6;
      out.memUsageBytes = await readNumber(path.join(dir, 'memory.current'));
      const stat = await readKeyed(path.join(dir, 'memory.stat'));
      out.memRssBytes = stat.anon ?? out.memUsageBytes;
      const limit = await readNumber(path.join(dir, 'memory.max'));
      if (limit !== undefined && Number.isFinite(limit)) out.memLimitBytes = limit;
      out.memMaxUsageBytes = await readNumber(path.join(dir, 'memory.peak'));
      return out;
    }
    const acct = set.paths.cpuacct;
    if (acct) {
      const stat = await readKeyed(path.join(acct, 'cpuacct.stat'));
      if (stat.user !== undefined) out.cpuUserSecs = stat.user / USER_HZ;
      if (stat.system !== undefined) out.cpuSystemSecs = stat.system / USER_HZ;
    }
    const mem = set.paths.memory;
    if (mem) {
      out.memUsageBytes = await readNumber(path.join(mem, 'memory.usage_in_bytes'));
      const stat = await readKeyed(path.join(mem, 'memory.stat'));
      out.memRssBytes = stat.total_rss ?? stat.rss ?? out.memUsageBytes;
      const limit = await readNumber(path.join(mem, 'memory.limit_in_bytes'));
      // v1 reports "unlimited" as a page-rounded 2^63.
      if (limit !== undefined && limit < 2 ** 62) out.memLimitBytes = limit;
      out.memMaxUsageBytes = await readNumber(path.join(mem, 'memory.max_usage_in_bytes'));
    }
    return out;
  }

  /** Whether any directory of the set still exists. */
  exists(set: CgroupSet): boolean {
    return Object.values(set.paths).some((d) => existsSync(d));
  }

  /**
   * SIGKILLs whatever is left in the set, then removes its directories. On v1 the memory cgroup is
   * emptied first (`memory.force_empty`): page cache still charged to a removed memory cgroup keeps
   * it alive in the kernel, and thousands of such dying cgroups make every later cgroup operation
   * (and so every launch) slower.
   */
  async destroy(set: CgroupSet): Promise<void> {
    const dirs = [...new Set(Object.values(set.paths))];
    for (let attempt = 0; ; attempt++) {
      const pids = await this.pids(set);
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      if (pids.length === 0 && set.version === 1 && set.paths.memory) {
        await fs.writeFile(path.join(set.paths.memory, 'memory.force_empty'), '0').catch(() => undefined);
      }
      let busy: Error | undefined;
      for (const d of dirs) {
        try {
          await fs.rmdir(d);
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code !== 'ENOENT') busy = err as Error;
        }
      }
      if (!busy) return;
      if (attempt >= 200) throw new Error(`could not remove cgroup: ${busy.message}`);
      const ms = Math.min(10 * (attempt + 1), 100);
      await new Promise((r) => this.clock.setTimeout(() => r(undefined), ms));
    }
  }

  private async enableV2Controllers(): Promise<void> {
    const own = this.layout().own.unified;
    for (const dir of [own, path.join(own, this.rootName)]) {
      const file = path.join(dir, 'cgroup.subtree_control');
      const enabled = ((await readText(file)) ?? '').split(/\s+/);
      const want = ['memory', 'cpu'].filter((c) => !enabled.includes(c));
      if (!want.length) continue;
      try {
        await fs.writeFile(file, want.map((c) => `+${c}`).join(' '));
      } catch (err) {
        const hint =
          (err as NodeJS.ErrnoException).code === 'EBUSY'
            ? ' (cgroup v2 forbids processes in a cgroup that delegates controllers: start the agent in a leaf cgroup of its own, e.g. under systemd with Delegate=yes)'
            : '';
        throw new Error(`could not enable ${want.join(', ')} in ${file}: ${(err as Error).message}${hint}`);
      }
    }
  }
}
