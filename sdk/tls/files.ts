/**
 * TLS material read from files, as the daemons' flags name them: the server's certificate and key
 * (`--tls_cert`, `--tls_key`), the CA that clients verify the server with and the server verifies
 * client certificates with (`--ca_file`). Each file is bounded in size and must hold PEM.
 */
import { readFileSync } from 'node:fs';
import { TlsBadFile } from './errors.js';

export const MAX_PEM_BYTES = 256 * 1024;

/** What a listener serves with. */
export interface ServerTls {
  cert: Buffer;
  key: Buffer;
  /** CA for client certificates; required with requireClientCert. */
  ca?: Buffer;
  /** Ask every client for a certificate; routes that require one refuse connections without. */
  requireClientCert?: boolean;
  /** Serve plain HTTP on the same port too (a migration): the first byte tells them apart. */
  allowPlain?: boolean;
}

/** What a client verifies with and presents. */
export interface ClientTls {
  /** The CA to verify the server against; the system store when absent. */
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

/** Reads one PEM file (`what` names the flag in errors). */
export function readPem(path: string, what: string): Buffer {
  let data: Buffer;
  try {
    data = readFileSync(path);
  } catch (err) {
    throw new TlsBadFile(`${what}: cannot read '${path}' (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  if (data.length > MAX_PEM_BYTES) throw new TlsBadFile(`${what}: '${path}' is over ${MAX_PEM_BYTES} bytes`);
  if (!data.includes('-----BEGIN ')) throw new TlsBadFile(`${what}: '${path}' holds no PEM block`);
  return data;
}

export interface ServerTlsFiles {
  certFile: string;
  keyFile: string;
  caFile?: string;
  requireClientCert?: boolean;
  allowPlain?: boolean;
}

export function loadServerTls(f: ServerTlsFiles): ServerTls {
  if (f.requireClientCert && !f.caFile) {
    throw new TlsBadFile('--tls_require_client_cert needs --ca_file (the CA that signed the client certificates)');
  }
  return {
    cert: readPem(f.certFile, '--tls_cert'),
    key: readPem(f.keyFile, '--tls_key'),
    ca: f.caFile ? readPem(f.caFile, '--ca_file') : undefined,
    requireClientCert: f.requireClientCert,
    allowPlain: f.allowPlain,
  };
}

export interface ClientTlsFiles {
  caFile?: string;
  certFile?: string;
  keyFile?: string;
}

export function loadClientTls(f: ClientTlsFiles): ClientTls {
  if (!!f.certFile !== !!f.keyFile) throw new TlsBadFile('a client certificate needs both --tls_cert and --tls_key');
  return {
    ca: f.caFile ? readPem(f.caFile, '--ca_file') : undefined,
    cert: f.certFile ? readPem(f.certFile, '--tls_cert') : undefined,
    key: f.keyFile ? readPem(f.keyFile, '--tls_key') : undefined,
  };
}
