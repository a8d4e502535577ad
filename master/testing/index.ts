/** The master test harness: a real master driven without sockets, processes or sleeping. */
export { FakePeer, type PeerOptions } from './fake-peer.js';
export { FakeAgent, FakeScheduler, type HarnessOptions, MasterHarness, settle } from './harness.js';
export { MemoryStore } from './memory-store.js';
