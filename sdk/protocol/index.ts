export * from './messages.js';
export * from './types.js';
export { ProtocolError, validateMessage } from './validate.js';
