export * from './limits.js';
export * from './messages.js';
export * from './types.js';
export { ProtocolError, ProtocolErrorCode, validateMessage } from './validate.js';
