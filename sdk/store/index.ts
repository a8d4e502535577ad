/** The durable versioned key-value store: the interface, its two back ends, and a factory. */
import type { Logger } from 'pino';
import { isZkUrl } from '../zk/url.js';
import { FileStore } from './file-store.js';
import type { Store } from './store.js';
import { ZkStore } from './zk-store.js';

export * from './file-store.js';
export * from './store.js';
export * from './zk-store.js';

export interface OpenStoreOptions {
  logger?: Logger;
  /** For ZooKeeper: the root node (default `<url path>/state`). */
  root?: string;
  sessionTimeoutMs?: number;
}

/**
 * Opens the store named by `target`: a `zk://host:2181/agora` URL gives a ZkStore under
 * `/agora/state`; anything else is a work dir, giving a FileStore in `<dir>/store`.
 */
export async function openStore(target: string, options: OpenStoreOptions = {}): Promise<Store> {
  if (isZkUrl(target)) return ZkStore.connect(target.trim(), options);
  return FileStore.open(target, { logger: options.logger });
}
