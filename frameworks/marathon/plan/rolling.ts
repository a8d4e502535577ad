/**
 * The rolling replace (Marathon's TaskReplaceActor), as a pure decision over a snapshot: which old
 * instances to kill now and how many new ones to launch, so that
 *
 * - at least `minHealthy = ceil(instances × minimumHealthCapacity)` instances stay healthy, and
 * - never more than `maxCapacity = floor(instances × (1 + maximumOverCapacity))` exist at once,
 *   except in Marathon's edge case: when `minHealthy == maxCapacity` (e.g. minimumHealthCapacity 1
 *   with maximumOverCapacity 0) no step could ever be taken, so one extra instance is allowed
 *   (`maxCapacity + 1`); for resident apps (local volumes) instead one instance goes below the minimum.
 *
 * Call it again after every change (an instance launched, healthy, ready, killed); it is done when
 * `instances` new instances are healthy and ready and no old one is left. A restart is a rolling
 * replace to the same definition with a new version.
 */
import type { UpgradeStrategy } from '../model/index.js';

export interface InstanceState {
  id: string;
  /** Counted toward health: running and (no health checks or healthy). */
  healthy: boolean;
  /** Readiness checks passed (true when there are none). */
  ready?: boolean;
  /** A kill was already asked for (not terminal yet: still counts toward capacity). */
  killing?: boolean;
  /** For the kill order among old instances (older first is Marathon's default here). */
  startedAtMs?: number;
  /** Position in the app's kill order (`killSelection`), lower first; before `startedAtMs` when given. */
  killRank?: number;
}

export interface ReplaceSnapshot {
  instances: number;
  upgradeStrategy: UpgradeStrategy;
  resident?: boolean;
  /** Non-terminal instances of older versions. */
  old: readonly InstanceState[];
  /** Non-terminal instances of the target version, including ones launched but not yet running. */
  new: readonly InstanceState[];
}

export interface ReplaceDecision {
  /** Old instance ids to kill now. */
  kill: string[];
  /** New instances to launch now. */
  launch: number;
  done: boolean;
  minHealthy: number;
  maxCapacity: number;
}

/** Marathon's bounds for one app: the healthy minimum and the capacity cap (with the edge case). */
export function replaceBounds(
  instances: number,
  s: UpgradeStrategy,
  resident = false,
): { minHealthy: number; maxCapacity: number; belowMinimumAllowed: number } {
  const minHealthy = Math.ceil(round9(instances * s.minimumHealthCapacity));
  let maxCapacity = Math.floor(round9(instances * (1 + s.maximumOverCapacity)));
  let belowMinimumAllowed = 0;
  if (minHealthy === maxCapacity) {
    if (resident) belowMinimumAllowed = 1;
    else maxCapacity += 1;
  }
  return { minHealthy, maxCapacity, belowMinimumAllowed };
}

/** Avoids 3 × 0.7 = 2.0999999999999996 style surprises before ceil/floor. */
function round9(x: number): number {
  return Math.round(x * 1e9) / 1e9;
}

/** One decision of the rolling replace. */
export function replaceStep(snap: ReplaceSnapshot): ReplaceDecision {
  if (snap.instances <= 0) {
    // Nothing to roll (the planner scales to 0 instead): every old instance goes.
    const kill = snap.old.filter((i) => !i.killing).map((i) => i.id);
    return { kill, launch: 0, done: snap.old.length === 0 && snap.new.length === 0, minHealthy: 0, maxCapacity: 0 };
  }
  const { minHealthy, maxCapacity, belowMinimumAllowed } = replaceBounds(
    snap.instances,
    snap.upgradeStrategy,
    snap.resident,
  );
  const newOk = (i: InstanceState) => i.healthy && (i.ready ?? true);
  const activeOld = snap.old.filter((i) => !i.killing);
  const healthyNow = activeOld.filter((i) => i.healthy).length + snap.new.filter(newOk).length;
  const done =
    snap.old.length === 0 && snap.new.length >= snap.instances && snap.new.filter(newOk).length >= snap.instances;

  // Kill as Marathon does: up to `healthy − minHealthy` old instances, unhealthy ones first (those do
  // not lower the healthy count), then the oldest.
  const order = [...activeOld].sort(
    (a, b) =>
      Number(a.healthy) - Number(b.healthy) ||
      (a.killRank ?? 0) - (b.killRank ?? 0) ||
      (a.startedAtMs ?? 0) - (b.startedAtMs ?? 0),
  );
  const budget = Math.max(0, healthyNow - (minHealthy - belowMinimumAllowed));
  const kill = order.slice(0, budget).map((i) => i.id);
  const capacityLeft = Math.max(0, maxCapacity - snap.old.length - snap.new.length);
  const launch = Math.min(Math.max(0, snap.instances - snap.new.length), capacityLeft);
  // Stuck (nothing to kill within the budget, no room to launch): unhealthy old ones hold capacity
  // and give no health, so they go (Marathon waits for their health checks to kill them instead).
  if (kill.length === 0 && launch === 0 && !done) {
    const unhealthy = order.filter((i) => !i.healthy);
    const stillWanted = Math.max(1, snap.instances - snap.new.length);
    for (const i of unhealthy.slice(0, stillWanted)) kill.push(i.id);
  }
  return { kill, launch, done, minHealthy, maxCapacity };
}
