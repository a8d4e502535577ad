/**
 * What happens to one instance over time, pure (Marathon 1.10's rules):
 *
 * - an unreachable instance (TASK_UNREACHABLE) under `unreachableStrategy {inactiveAfterSeconds,
 *   expungeAfterSeconds}` becomes *inactive* once unreachable for `inactiveAfterSeconds` (a
 *   replacement is launched, the old one kept) and is *expunged* once unreachable for
 *   `expungeAfterSeconds` (forgotten; killed if it ever comes back); `"disabled"` (resident apps)
 *   waits for ever. A limit is reached when the time unreachable is at least the limit
 *   (Marathon's `Timestamp.expired`: `since.until(now) >= by`).
 * - a failing health check kills the instance once `consecutiveFailures >= maxConsecutiveFailures`
 *   (never with `maxConsecutiveFailures` 0); failures are ignored while the instance is not running,
 *   and, until its first success, during `gracePeriodSeconds` from when it started running; an
 *   unreachable instance is not killed.
 */
import type { UnreachableStrategy } from '../model/index.js';

export type UnreachableState = 'unreachable' | 'inactive' | 'expunged';

export interface UnreachableDecision {
  state: UnreachableState;
  /** When the state changes next (ms), if it will. */
  nextChangeAtMs?: number;
}

export function unreachableDecision(
  strategy: UnreachableStrategy,
  unreachableSinceMs: number,
  nowMs: number,
): UnreachableDecision {
  if (strategy === 'disabled') return { state: 'unreachable' };
  const elapsed = nowMs - unreachableSinceMs;
  const inactiveAt = unreachableSinceMs + strategy.inactiveAfterSeconds * 1000;
  const expungeAt = unreachableSinceMs + strategy.expungeAfterSeconds * 1000;
  if (elapsed >= strategy.expungeAfterSeconds * 1000) return { state: 'expunged' };
  if (elapsed >= strategy.inactiveAfterSeconds * 1000) return { state: 'inactive', nextChangeAtMs: expungeAt };
  return { state: 'unreachable', nextChangeAtMs: Math.min(inactiveAt, expungeAt) };
}

export interface HealthPolicy {
  maxConsecutiveFailures: number;
  gracePeriodSeconds: number;
}

export interface InstanceHealth {
  running: boolean;
  unreachable?: boolean;
  /** When the instance started running (ms). */
  runningSinceMs: number;
  consecutiveFailures: number;
  /** Whether any check of this instance ever succeeded. */
  everHealthy: boolean;
}

export type HealthAction = 'kill' | 'keep' | 'ignore';

/** What a health result means for the instance: kill it, keep it, or ignore the failure (grace). */
export function healthAction(policy: HealthPolicy, h: InstanceHealth, nowMs: number): HealthAction {
  if (!h.running) return 'ignore';
  if (!h.everHealthy && h.runningSinceMs + policy.gracePeriodSeconds * 1000 > nowMs) return 'ignore';
  if (policy.maxConsecutiveFailures > 0 && h.consecutiveFailures >= policy.maxConsecutiveFailures) {
    return h.unreachable ? 'keep' : 'kill';
  }
  return 'keep';
}
