/** Authentication, authorization, rate limits and audit (docs/security.md). */
export * from './acls.js';
export * from './audit.js';
export * from './authenticate.js';
export * from './authorizer.js';
export * from './bind.js';
export * from './credentials.js';
export * as authErrors from './errors.js';
export * from './protocol.js';
export * from './rate-limits.js';
export * from './secret.js';
export * from './tokens.js';
