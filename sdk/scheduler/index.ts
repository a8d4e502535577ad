/** The scheduler driver: what a framework is built on (docs/sdk.md). */
export * from './driver.js';
export * from './events.js';
export * from './reconciler.js';
export * from './transport.js';
