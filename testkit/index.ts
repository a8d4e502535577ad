/** Shared kit for tests and benchmarks: real Agora processes and the waits around them. */
export * from './processes.js';
