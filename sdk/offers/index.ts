/**
 * The offer helpers of the SDK: does a task fit an offer, take it and see what is left, build its
 * TaskInfo for a containerizer, and reason about its states. Pure: no I/O, no clock; randomness
 * only through an injected Rng. See docs/sdk-offers.md.
 */
export { InvalidTaskSpec } from './errors.js';
export {
  fits,
  howMany,
  type OfferLike,
  sourceRoles,
  type TakeOptions,
  type TakeResult,
  type TaskNeed,
  take,
  takeAll,
  whyNot,
} from './fit.js';
export { buildLaunchGroup, type TaskGroupSpec } from './group.js';
export { OfferSlice } from './slice.js';
export {
  assertValid,
  buildTaskInfo,
  type Containerizer,
  commandHealthCheck,
  type DockerSpec,
  httpHealthCheck,
  type TaskSpec,
  tcpHealthCheck,
} from './task-info.js';
export * from './task-state.js';
