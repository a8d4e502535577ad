/** ZooKeeper helpers: URLs, ACLs, the promise client, leader election and detection. */
export * from './acl.js';
export * from './client.js';
export * from './detector.js';
export * from './election.js';
export * from './leadership.js';
export * from './protect.js';
export * from './url.js';
