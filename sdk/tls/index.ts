/** TLS for Agora's listeners and clients, and the certificates of the secure path (docs/tls.md). */
export * from './bundle.js';
export * from './certs.js';
export * as tlsErrors from './errors.js';
export * from './files.js';
export * from './server.js';
