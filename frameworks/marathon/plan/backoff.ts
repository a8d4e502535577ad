/**
 * Launch backoff (Marathon's RateLimiter): after the n-th consecutive failure the next launch waits
 * `backoffSeconds × backoffFactor^(n-1)`, at most `maxLaunchDelaySeconds`; a success (or a new
 * version of the app, or DELETE /v2/queue/{id}/delay) resets it.
 */
export interface BackoffPolicy {
  backoffSeconds: number;
  backoffFactor: number;
  maxLaunchDelaySeconds: number;
}

/** Seconds to wait before the next launch after `failures` consecutive failures (0 → none). */
export function launchDelaySeconds(p: BackoffPolicy, failures: number): number {
  if (failures <= 0 || p.backoffSeconds <= 0) return 0;
  // Grow step by step so that a huge failure count stays finite: stop once the cap is reached.
  let delay = p.backoffSeconds;
  for (let i = 1; i < failures && delay < p.maxLaunchDelaySeconds; i++) delay *= p.backoffFactor;
  return Math.min(delay, p.maxLaunchDelaySeconds);
}

/** When the next launch may happen (ms), given the last failure's time (ms). */
export function launchNotBeforeMs(p: BackoffPolicy, failures: number, lastFailureAtMs: number): number {
  return lastFailureAtMs + Math.round(launchDelaySeconds(p, failures) * 1000);
}
