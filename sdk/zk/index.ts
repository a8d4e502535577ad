/** ZooKeeper helpers: URLs, the promise client, leader election and detection. */
export * from './client.js';
export * from './detector.js';
export * from './election.js';
export * from './url.js';
