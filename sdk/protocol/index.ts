export { IdSchema, PortSchema, RoleSchema, RolesSchema, SecondsSchema } from './fields.js';
export * from './limits.js';
export * from './messages.js';
export * from './types.js';
export {
  type PartialAccept,
  ProtocolError,
  ProtocolErrorCode,
  type RefusedOperation,
  validateMessage,
} from './validate.js';
