/** The common HTTP layer: server factory, error answers, the authorization hook, the HTTP error catalogue. */
export * from './auth.js';
export * as httpErrors from './errors.js';
export * from './json.js';
export * from './jsonp.js';
export * from './reply.js';
export * from './routes.js';
export * from './server.js';
export * from './validator.js';
export * from './visibility.js';
