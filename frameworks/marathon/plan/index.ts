/**
 * Marathon's deployment decisions, pure (no clock, no I/O, no randomness):
 *
 * - `planDeployment(currentRoot, targetRoot, {restart})` → ordered steps, or the dependency cycle;
 * - `replaceStep(snapshot)` → which old instances to kill and how many new to launch in a rolling
 *   upgrade/restart (healthy minimum and capacity cap held, Marathon's edge cases included);
 * - `selectInstancesToKill(instances, n, {killSelection, constraints})` for scale-down;
 * - `launchDelaySeconds(policy, failures)` for launch backoff;
 * - `unreachableDecision(strategy, since, now)` and `healthAction(policy, health, now)` for one instance;
 * - `placementSpecOfApp(app)` / `placementSpecOfPod(pod)`: what one instance asks of an offer (sdk/placement).
 */
export * from './backoff.js';
export * from './deployment-plan.js';
export * from './instance-policy.js';
export * from './placement-spec.js';
export * from './rolling.js';
export * from './scale-down.js';
