/**
 * Mesos's `--registration_backoff_factor` for agents: when the leading master changes, each agent
 * waits a random time in [0, factor) before it re-registers with the new one, so that a cluster's
 * agents reach it spread over that time rather than in the same instant (a thundering herd that
 * overflows the new leader's accept queue: the kernel then drops connections and the agents'
 * SYNs are retransmitted a second later, then three). Attempts that fail after that back off as
 * the agent's client does (200 ms doubling to 10 s, full jitter).
 */
import type { Rng } from '../sdk/util/random.js';

/** Mesos's default: 1 s. */
export const DEFAULT_REGISTRATION_BACKOFF_MS = 1000;

/** The wait before re-registering with a new leader: uniform in [0, factorMs), whole ms. */
export function registrationDelayMs(factorMs: number, rng: Rng): number {
  if (!(factorMs >= 0 && Number.isFinite(factorMs)))
    throw new RangeError(`a registration backoff factor of ${factorMs} ms`);
  return Math.floor(rng.next() * factorMs);
}
