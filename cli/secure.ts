import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  initSecureDir,
  loadClientTls,
  loadServerTls,
  OpensslCertificateMaker,
  type SecurePaths,
  type ServerTls,
  securePaths,
} from '../sdk/tls/index.js';
import type { ClientSecurity, Credential } from '../sdk/transport/index.js';
import type { CommandDef, FlagDef, Flags } from './flags.js';
import { UsageError } from './flags.js';
import { asUsageError, clientCredential } from './security.js';

/** Master and agent listeners. */
export const TLS_SERVER_FLAGS: FlagDef[] = [
  { name: 'tls_cert', help: 'serve TLS with this certificate (PEM); agents also present it to the master' },
  { name: 'tls_key', help: 'the private key of --tls_cert (PEM)' },
  { name: 'ca_file', help: 'CA (PEM) that verifies peers: the master for agents and clients, agents for the master' },
];
export const MASTER_TLS_FLAGS: FlagDef[] = [
  ...TLS_SERVER_FLAGS,
  {
    name: 'tls_require_client_cert',
    help: 'agents must present a certificate signed by --ca_file (mutual TLS on the agent route)',
    boolean: true,
  },
  {
    name: 'tls_allow_plain',
    help: 'also serve plain HTTP on the TLS port, for a migration (the first byte tells them apart)',
    boolean: true,
  },
];
/** `agora execute`'s TLS. */
export const EXECUTE_TLS_FLAGS: FlagDef[] = [
  { name: 'ca_file', help: 'CA (PEM) to verify the master with; implies TLS' },
  { name: 'tls_cert', help: 'client certificate (PEM), when the master asks for one' },
  { name: 'tls_key', help: 'the private key of --tls_cert' },
];

const on = (v: string | undefined) => v === 'true' || v === '1';

/** A listener's TLS from its flags, or undefined when it serves plain. */
export function serverTlsFromFlags(f: Flags): ServerTls | undefined {
  if (!f.tls_cert && !f.tls_key) {
    if (on(f.tls_require_client_cert) || on(f.tls_allow_plain)) {
      throw new UsageError('--tls_require_client_cert and --tls_allow_plain need --tls_cert and --tls_key');
    }
    return undefined;
  }
  if (!f.tls_cert || !f.tls_key) throw new UsageError('give both --tls_cert and --tls_key');
  return loadServerTls({
    certFile: f.tls_cert,
    keyFile: f.tls_key,
    caFile: f.ca_file,
    requireClientCert: on(f.tls_require_client_cert),
    allowPlain: on(f.tls_allow_plain),
  });
}

/** `https://host:port` / `wss://…` / `host:port` / `zk://…` → what the detectors take, and whether TLS is on. */
export function masterTarget(master: string, caFile: string | undefined): { master: string; tls: boolean } {
  const m = /^(https|wss|http|ws):\/\/([^/\s]+)\/?$/.exec(master);
  if (m) return { master: m[2], tls: m[1] === 'https' || m[1] === 'wss' };
  return { master, tls: caFile !== undefined };
}

/**
 * The credential from `--credential` (Mesos's single-credential file, JSON or `principal secret`),
 * or `--principal` with `--secret`: sdk/auth's parser, as the plain pair the transport sends.
 * Errors are usage errors that name the file, never the secret.
 */
export function credentialFromFlags(f: Flags): Credential | undefined {
  if (f.credential && (f.principal || f.secret))
    throw new UsageError('give --credential or --principal/--secret, not both');
  let c: ReturnType<typeof clientCredential>;
  try {
    c = clientCredential(f);
  } catch (e) {
    throw asUsageError(e);
  }
  return c ? { principal: c.principal, secret: c.secret.reveal() } : undefined;
}

/** How a client (agent, execute) reaches the master: the target for the detectors and its security. */
export function clientSecurityFromFlags(
  f: Flags,
  defaultMaster = '127.0.0.1:5050',
): { master: string } & ClientSecurity {
  const target = masterTarget(f.master ?? defaultMaster, f.ca_file);
  const security: ClientSecurity = { credential: credentialFromFlags(f) };
  if (target.tls) {
    const t = loadClientTls({ caFile: f.ca_file, certFile: f.tls_cert, keyFile: f.tls_key });
    security.tls = { ca: t.ca, cert: t.cert, key: t.key };
  }
  return { master: target.master, ...security };
}

// ---- agora certs init ----

export const certsCommand: CommandDef = {
  name: 'certs',
  summary: 'Make a throwaway CA, certificates and credentials for a secure cluster (agora certs init).',
  usage: 'agora certs init --dir DIR [--hosts h1,h2,10.0.0.5] [--days 365]',
  flags: [
    { name: 'dir', help: 'directory to create (refused if it already holds a CA)', required: true },
    {
      name: 'hosts',
      help: 'extra host names and IPs for the server certificate (localhost, 127.0.0.1 and this host are always in)',
    },
    { name: 'days', help: 'validity of every certificate', default: '365' },
  ],
  examples: ['agora certs init --dir /etc/agora/secure --hosts master1.example.com,10.0.0.5'],
};

export async function runCerts(f: Flags, argv0 = 'init'): Promise<number> {
  if (argv0 !== 'init') throw new UsageError(`unknown 'certs' action '${argv0}'; use 'agora certs init'`);
  const days = Number(f.days ?? '365');
  if (!Number.isInteger(days) || days < 1 || days > 3650)
    throw new UsageError('--days must be a whole number in 1..3650');
  const hosts = (f.hosts ?? '')
    .split(',')
    .map((h) => h.trim())
    .filter(Boolean);
  const p = await initSecureDir({ dir: resolve(f.dir ?? ''), hosts, days, maker: new OpensslCertificateMaker() });
  console.log(describeSecureDir(p));
  return 0;
}

export function describeSecureDir(p: SecurePaths): string {
  return `Made a CA, certificates and credentials:
  CA              ${p.caCert}   (copy to every host; keep ${p.caKey} offline)
  master          ${p.serverCert} ${p.serverKey}
  agents          ${p.agentCert} ${p.agentKey}  ${p.agentCredential}
  CLI/frameworks  ${p.cliCert} ${p.cliKey}  ${p.frameworkCredential}
  master's list   ${p.credentials}
Master: agora master --tls_cert ${p.serverCert} --tls_key ${p.serverKey} --ca_file ${p.caCert} --tls_require_client_cert \\
          --authenticate_agents --authenticate_frameworks --authenticate_http_readwrite --credentials ${p.credentials}
Agent:  agora agent --master https://MASTER:5050 --ca_file ${p.caCert} --tls_cert ${p.agentCert} --tls_key ${p.agentKey} --credential ${p.agentCredential}
Run:    agora execute --master https://MASTER:5050 --ca_file ${p.caCert} --credential ${p.frameworkCredential} --name hi --command 'echo hello'`;
}

// ---- agora local --secure ----

/**
 * The secure directory under a local cluster's work dir (made once, reused after) and the flags
 * that turn TLS and authentication on for its master and agents. The authentication flags are
 * sdk/auth's (Mesos's names); until it is on main, `credentials` alone turns on the interim check.
 */
export async function secureLocalFlags(root: string): Promise<{ paths: SecurePaths; master: Flags; agent: Flags }> {
  const dir = resolve(root, 'secure');
  const paths = existsSync(securePaths(dir).credentials)
    ? securePaths(dir)
    : await initSecureDir({ dir, maker: new OpensslCertificateMaker() });
  return {
    paths,
    master: {
      ip: '127.0.0.1',
      tls_cert: paths.serverCert,
      tls_key: paths.serverKey,
      ca_file: paths.caCert,
      tls_require_client_cert: 'true',
      authenticate_agents: 'true',
      authenticate_frameworks: 'true',
      authenticate_http_readwrite: 'true',
      authenticate_http_readonly: 'true',
      credentials: paths.credentials,
    },
    agent: {
      ip: '127.0.0.1',
      ca_file: paths.caCert,
      tls_cert: paths.agentCert,
      tls_key: paths.agentKey,
      credential: paths.agentCredential,
      http_credentials: paths.credentials,
      authenticate_http_readonly: 'true',
    },
  };
}
