/** The master's secrets: the encrypted store, the key file, and delivery to agents. */
export * from './delivery.js';
export * from './key-file.js';
export * from './store.js';
