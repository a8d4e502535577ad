/**
 * `agora certs init`: a directory with everything the secure path needs, in the manner of
 * `docker swarm init`: a throwaway CA, a server certificate, client certificates for agents and
 * the CLI, a Mesos credentials file for the master and one single-credential file per principal.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { type CertificateMaker, checkHostName } from './certs.js';
import { TlsCertMakingFailed } from './errors.js';

export const AGENT_PRINCIPAL = 'agora-agent';
export const FRAMEWORK_PRINCIPAL = 'agora-framework';
export const OPERATOR_PRINCIPAL = 'agora-operator';
export const MAX_HOSTS = 64;

/** Paths inside a secure directory. */
export function securePaths(dir: string) {
  return {
    caCert: join(dir, 'ca.crt'),
    caKey: join(dir, 'ca.key'),
    serverCert: join(dir, 'server.crt'),
    serverKey: join(dir, 'server.key'),
    agentCert: join(dir, 'agent.crt'),
    agentKey: join(dir, 'agent.key'),
    cliCert: join(dir, 'cli.crt'),
    cliKey: join(dir, 'cli.key'),
    credentials: join(dir, 'credentials.json'),
    agentCredential: join(dir, 'agent.credential.json'),
    frameworkCredential: join(dir, 'framework.credential.json'),
    operatorCredential: join(dir, 'operator.credential.json'),
  };
}
export type SecurePaths = ReturnType<typeof securePaths>;

export interface InitOptions {
  dir: string;
  /** Extra host names and IP addresses for the server certificate. */
  hosts?: string[];
  days?: number;
  maker: CertificateMaker;
  /** Refuse to write over an existing directory's files (default true). */
  refuseExisting?: boolean;
}

const isIp = (h: string) => /^[0-9.]+$/.test(h) || h.includes(':');

export async function initSecureDir(o: InitOptions): Promise<SecurePaths> {
  const p = securePaths(o.dir);
  if (o.refuseExisting !== false && existsSync(p.caCert)) {
    throw new TlsCertMakingFailed(`${p.caCert} exists already; pick another --dir or remove it`);
  }
  const hosts = [...new Set(['localhost', '127.0.0.1', hostname(), ...(o.hosts ?? [])].filter(Boolean))];
  if (hosts.length > MAX_HOSTS) throw new TlsCertMakingFailed(`at most ${MAX_HOSTS} hosts`);
  const dns = hosts.filter((h) => !isIp(h));
  const ips = hosts.filter(isIp);
  for (const h of dns) checkHostName(h);
  const days = o.days ?? 365;
  mkdirSync(o.dir, { recursive: true, mode: 0o700 });
  const ca = await o.maker.makeCa('agora-ca', days);
  // Servers and agents: the agent certificate also serves the agent's own listener.
  const server = await o.maker.issue(ca, { commonName: 'agora-master', dns, ips, usage: ['server'], days });
  const agent = await o.maker.issue(ca, {
    commonName: AGENT_PRINCIPAL,
    dns,
    ips,
    usage: ['server', 'client'],
    days,
  });
  const cli = await o.maker.issue(ca, { commonName: OPERATOR_PRINCIPAL, usage: ['client'], days });
  const secret = () => randomBytes(24).toString('base64url');
  const creds = [AGENT_PRINCIPAL, FRAMEWORK_PRINCIPAL, OPERATOR_PRINCIPAL].map((principal) => ({
    principal,
    secret: secret(),
  }));
  const priv = { mode: 0o600 };
  writeFileSync(p.caCert, ca.cert);
  writeFileSync(p.caKey, ca.key, priv);
  writeFileSync(p.serverCert, server.cert);
  writeFileSync(p.serverKey, server.key, priv);
  writeFileSync(p.agentCert, agent.cert);
  writeFileSync(p.agentKey, agent.key, priv);
  writeFileSync(p.cliCert, cli.cert);
  writeFileSync(p.cliKey, cli.key, priv);
  writeFileSync(p.credentials, `${JSON.stringify({ credentials: creds }, null, 2)}\n`, priv);
  writeFileSync(p.agentCredential, `${JSON.stringify(creds[0])}\n`, priv);
  writeFileSync(p.frameworkCredential, `${JSON.stringify(creds[1])}\n`, priv);
  writeFileSync(p.operatorCredential, `${JSON.stringify(creds[2])}\n`, priv);
  return p;
}
