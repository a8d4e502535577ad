/**
 * `agora/sdk/testing`: test a framework against the real master logic in milliseconds, without
 * sockets, processes or sleeping (docs/sdk.md, "Testing a framework").
 */
export { MemoryStore } from '../../master/testing/memory-store.js';
export { VirtualClock } from '../util/clock.js';
export { TestCluster, type TestClusterOptions } from './cluster.js';
export { MemoryLink } from './link.js';
export { type LaunchBehaviour, SimAgent, type SimAgentSpec, type SimTask } from './sim-agent.js';
