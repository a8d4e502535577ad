/** The scheduler driver: what a framework is built on (docs/sdk.md). */
export * from './driver.js';
