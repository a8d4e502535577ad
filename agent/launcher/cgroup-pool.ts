/**
 * Fresh, empty cgroups made ahead of the launches that need them, on the launcher's file-system
 * thread (prepare-worker.ts), and renamed into place when a task needs its cgroups.
 *
 * Making a task's cgroups costs a `mkdir` per hierarchy (three on cgroup v1 here: memory, cpu,
 * cpuacct; the kernel allocates each controller's state and creates its files), about 0.1–0.2 ms of
 * CPU per task and more under load, on the one thread that prepares every launch of its launcher
 * one after another. A rename of a directory made earlier costs a fifth of that. So the pool keeps
 * up to `size` sets of empty cgroups (the same name, `+pool-<launcher pid>-<n>`, in each
 * hierarchy's parent) and refills itself once the launches have paused for `idleMs` (1 s in the
 * launcher), one set per
 * event-loop turn, so a launch that arrives meanwhile never waits for more than one set's `mkdir`s.
 *
 * A pooled cgroup is as new as a made one: nothing has run in it, it has the kernel's defaults, and
 * the task's limits are written after the rename exactly as after a `mkdir` (the pool never hands
 * out a cgroup a task has used; those are removed as before). The task's cgroup keeps its name
 * (the task id), so recovery and clean-up do not change. `+` never appears in a task cgroup's name
 * (`cgroupName`), so a pooled cgroup is never taken for a task's.
 *
 * Where renaming a cgroup is not supported (cgroup v2 has no rename), the first failed rename turns
 * the pool off for those parents, and launches make their cgroups with `mkdir` as before. When
 * a task's cgroup already exists (a stale one), the renames done are undone and the directories
 * are made with `mkdir`, which accepts an existing one, as before.
 *
 * This module is loaded by the launcher process: Node built-ins only.
 */
import { mkdirSync, readdirSync, renameSync, rmdirSync } from 'node:fs';
import path from 'node:path';

/** Sets kept ready per launcher (default 64; 0 turns the pool off), for comparisons. */
export const CGROUP_POOL_ENV = 'AGORA_CGROUP_POOL';

/** The name prefix of every pooled cgroup (task cgroup names never contain `+`). */
export const POOL_PREFIX = '+pool-';

export interface CgroupPoolOptions {
  /** Sets kept ready per set of parents (0: no pool, every launch makes its cgroups). */
  size: number;
  /** How long launches must have paused before the pool is refilled (ms). */
  idleMs: number;
  /** The owner's id in the pooled cgroups' names (the launcher's pid). */
  owner: number;
}

/** How a task's cgroups were made. */
export type MadeBy = 'pool' | 'mkdir';

export class CgroupPool {
  /** Per set of parents (joined by NUL): the parents, and the names ready in every one of them. */
  private readonly sets = new Map<string, { parents: string[]; ready: string[]; off: boolean }>();
  private seq = 0;
  private timer: NodeJS.Timeout | undefined;
  private filling = false;
  private readonly prefix: string;

  constructor(private readonly opts: CgroupPoolOptions) {
    this.prefix = `${POOL_PREFIX}${opts.owner}-`;
  }

  /** How many sets are ready for these parents (tests, diagnostics). */
  readyFor(parents: string[]): number {
    return this.sets.get(parents.join('\0'))?.ready.length ?? 0;
  }

  /**
   * Makes a task's cgroup directories (`dirs`: one per hierarchy, the same name in each): a pooled
   * set renamed into place when one is ready, else `mkdir` (an existing directory is fine). Throws
   * what `mkdir` throws.
   */
  make(dirs: string[]): MadeBy {
    const parents = dirs.map((d) => path.dirname(d));
    const key = parents.join('\0');
    let set = this.sets.get(key);
    if (!set) {
      set = { parents, ready: [], off: this.opts.size <= 0 };
      this.sets.set(key, set);
    }
    let by: MadeBy = 'mkdir';
    const name = set.ready.pop();
    if (name !== undefined && this.rename(set, name, dirs)) by = 'pool';
    else for (const d of dirs) mkdirSync(d, { recursive: true });
    this.scheduleFill();
    return by;
  }

  /** Renames the pooled set `name` to `dirs`; on a failure undoes what it did and returns false. */
  private rename(set: { parents: string[]; ready: string[]; off: boolean }, name: string, dirs: string[]): boolean {
    let done = 0;
    try {
      for (; done < dirs.length; done++) renameSync(path.join(set.parents[done], name), dirs[done]);
      return true;
    } catch (err) {
      for (let i = 0; i < done; i++) {
        try {
          renameSync(dirs[i], path.join(set.parents[i], name));
        } catch {
          // left under the task's name: mkdir below accepts it
        }
      }
      this.removeSet(set.parents, name);
      // A stale cgroup of the task's (EEXIST, ENOTEMPTY) is no reason to stop pooling; anything
      // else (no rename on this hierarchy, the pooled set gone) is.
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST' && code !== 'ENOTEMPTY') {
        set.off = true;
        for (const n of set.ready) this.removeSet(set.parents, n);
        set.ready = [];
      }
      return false;
    }
  }

  private removeSet(parents: string[], name: string): void {
    for (const p of parents) {
      try {
        rmdirSync(path.join(p, name));
      } catch {
        // gone, or renamed into a task's place
      }
    }
  }

  /** (Re)arms the refill for when launches have paused. */
  private scheduleFill(): void {
    if (this.opts.size <= 0) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.filling) {
        this.filling = true;
        setImmediate(() => this.fillOne());
      }
    }, this.opts.idleMs);
    this.timer.unref?.();
  }

  /** Makes one pooled set where one is missing, then yields to the event loop (launches go first). */
  private fillOne(): void {
    if (this.timer) {
      // A launch came meanwhile: wait for the next pause.
      this.filling = false;
      return;
    }
    for (const set of this.sets.values()) {
      if (set.off || set.ready.length >= this.opts.size) continue;
      const name = `${this.prefix}${this.seq++}`;
      let made = 0;
      try {
        for (; made < set.parents.length; made++) mkdirSync(path.join(set.parents[made], name));
        set.ready.push(name);
      } catch {
        this.removeSet(set.parents.slice(0, made), name);
        set.off = true;
      }
      setImmediate(() => this.fillOne());
      return;
    }
    this.filling = false;
  }

  /** Removes every pooled set (when the launcher exits). Synchronous, for an exit handler. */
  drain(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const set of this.sets.values()) {
      for (const name of set.ready) this.removeSet(set.parents, name);
      set.ready = [];
      set.off = true;
    }
  }
}

/** Removes the pooled cgroups of `owner` under `parent` (the launcher's exit handler). */
export function removePools(parent: string, owner: number): number {
  return sweepPools(parent, (pid) => pid !== owner);
}

/**
 * Removes pooled cgroups left under `parent` by launchers that are gone (killed before they could
 * drain their pool): `+pool-<pid>-<n>` whose pid no longer runs. Empty cgroups only (the kernel
 * refuses to remove one with processes). Returns how many were removed.
 */
export function sweepPools(parent: string, alive: (pid: number) => boolean): number {
  let removed = 0;
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return 0;
  }
  for (const n of names) {
    if (!n.startsWith(POOL_PREFIX)) continue;
    const pid = Number(n.slice(POOL_PREFIX.length).split('-')[0]);
    if (!Number.isInteger(pid) || pid <= 0 || alive(pid)) continue;
    try {
      rmdirSync(path.join(parent, n));
      removed++;
    } catch {
      // busy or gone
    }
  }
  return removed;
}
