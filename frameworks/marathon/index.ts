/** The Marathon framework: long-running services from Marathon JSON, on the Agora SDK. */
export * from './core/service.js';
export * from './core/spec.js';
export * from './errors.js';
export * from './http/index.js';
export * from './node.js';
