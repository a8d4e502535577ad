/**
 * `agora/sdk`: the public face of the SDK for framework authors (docs/sdk.md). Framework code
 * imports from here (or from `agora/sdk/testing` in its tests), never from deep paths.
 */

export * from './errors.js';
// The platform's HTTP layer: createHttpServer, the authorization hook, JSON caps, error answers (docs/architecture.md).
export * from './http/index.js';
// The offer helpers: fit, take, TaskInfo builders, the task-state model (docs/sdk-offers.md).
export * from './offers/index.js';
// Both the wire protocol and the offer helpers have it (the same rule): the helpers' one.
export { isTerminal } from './offers/index.js';
// Placement shared by Marathon and Chronos: constraints and the checker pipeline (docs/placement.md).
export * from './placement/index.js';
export * from './protocol/index.js';
export * from './resources/index.js';
export * from './scheduler/index.js';
export * from './store/index.js';
export type { ClientSecurity, Credential } from './transport/index.js';
export { type Clock, systemClock, type Timer, VirtualClock } from './util/clock.js';
export { newId } from './util/id.js';
export { type Rng, seededRng } from './util/random.js';
export { ZkClient, type ZkClientOptions } from './zk/client.js';
export * from './zk/detector.js';
export * from './zk/election.js';
export { followLeader, type LeaderEndpoint } from './zk/follow-leader.js';
export * from './zk/leadership.js';
export { isZkUrl, parseZkUrl } from './zk/url.js';
