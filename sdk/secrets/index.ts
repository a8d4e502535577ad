/** Secrets: names, encryption at rest, task references and their resolution rules. */
export * from './crypto.js';
export * from './errors.js';
export * from './names.js';
export * from './refs.js';
