/**
 * Certificates for the secure path, behind one interface so the tool can change: today the
 * system's `openssl` (present wherever Agora runs); a WebCrypto library (@peculiar/x509) can
 * replace it without touching the callers. Keys are ECDSA P-256.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TlsCertMakingFailed } from './errors.js';

export interface Pem {
  cert: string;
  key: string;
}

export interface CertRequest {
  commonName: string;
  /** DNS names and IP addresses for subjectAltName. */
  dns?: string[];
  ips?: string[];
  /** serverAuth, clientAuth, or both. */
  usage: ('server' | 'client')[];
  /** Validity in days from now; negative makes an already expired certificate (for tests). */
  days: number;
}

export interface CertificateMaker {
  makeCa(commonName: string, days: number): Promise<Pem>;
  issue(ca: Pem, req: CertRequest): Promise<Pem>;
}

const NAME_PATTERN = /^[A-Za-z0-9._-]{1,253}$/;
const IP_PATTERN = /^[0-9a-fA-F.:]{2,45}$/;

/** Throws AGORA_TLS_CERT_MAKING_FAILED unless `n` can be a DNS name in a certificate. */
export function checkHostName(n: string): string {
  return checkName(n, 'host');
}

function checkName(n: string, what: string): string {
  if (!NAME_PATTERN.test(n)) throw new TlsCertMakingFailed(`${what} '${n}' is not a host name`);
  return n;
}

function run(bin: string, args: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(bin, args, { cwd, timeout: 60_000 }, (err, _out, stderr) => {
      if (err) reject(new TlsCertMakingFailed(`${bin} ${args[0]} failed: ${String(stderr).trim().slice(0, 500)}`));
      else resolve();
    });
  });
}

/** `openssl` through execFile (no shell); every file lives in a private temporary directory. */
export class OpensslCertificateMaker implements CertificateMaker {
  constructor(private readonly bin = '/usr/bin/openssl') {}

  private async inTemp<T>(f: (dir: string) => Promise<T>): Promise<T> {
    const dir = mkdtempSync(join(tmpdir(), 'agora-certs-'));
    try {
      return await f(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  makeCa(commonName: string, days: number): Promise<Pem> {
    checkName(commonName, 'CA name');
    return this.inTemp(async (dir) => {
      await run(
        this.bin,
        [
          'req',
          '-x509',
          '-newkey',
          'ec',
          '-pkeyopt',
          'ec_paramgen_curve:P-256',
          '-nodes',
          '-keyout',
          'ca.key',
          '-out',
          'ca.crt',
          '-subj',
          `/CN=${commonName}`,
          '-days',
          String(days),
          '-addext',
          'basicConstraints=critical,CA:TRUE',
          '-addext',
          'keyUsage=critical,keyCertSign,cRLSign',
        ],
        dir,
      );
      return { cert: readFileSync(join(dir, 'ca.crt'), 'utf8'), key: readFileSync(join(dir, 'ca.key'), 'utf8') };
    });
  }

  issue(ca: Pem, req: CertRequest): Promise<Pem> {
    checkName(req.commonName, 'certificate name');
    const sans = [
      ...(req.dns ?? []).map((d) => `DNS:${checkName(d, 'host')}`),
      ...(req.ips ?? []).map((ip) => {
        if (!IP_PATTERN.test(ip)) throw new TlsCertMakingFailed(`'${ip}' is not an IP address`);
        return `IP:${ip}`;
      }),
    ];
    const eku = req.usage.map((u) => (u === 'server' ? 'serverAuth' : 'clientAuth')).join(',');
    // openssl takes -days down to -1 (an end before the start: expired).
    const days = Math.max(-1, Math.trunc(req.days));
    return this.inTemp(async (dir) => {
      writeFileSync(join(dir, 'ca.crt'), ca.cert);
      writeFileSync(join(dir, 'ca.key'), ca.key, { mode: 0o600 });
      writeFileSync(
        join(dir, 'ext.cnf'),
        [
          'basicConstraints=critical,CA:FALSE',
          'keyUsage=critical,digitalSignature,keyEncipherment',
          `extendedKeyUsage=${eku}`,
          ...(sans.length > 0 ? [`subjectAltName=${sans.join(',')}`] : []),
          '',
        ].join('\n'),
      );
      await run(
        this.bin,
        [
          'req',
          '-new',
          '-newkey',
          'ec',
          '-pkeyopt',
          'ec_paramgen_curve:P-256',
          '-nodes',
          '-keyout',
          'leaf.key',
          '-out',
          'leaf.csr',
          '-subj',
          `/CN=${req.commonName}`,
        ],
        dir,
      );
      await run(
        this.bin,
        [
          'x509',
          '-req',
          '-in',
          'leaf.csr',
          '-CA',
          'ca.crt',
          '-CAkey',
          'ca.key',
          '-set_serial',
          `0x${Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString('hex')}`,
          '-days',
          String(days),
          '-extfile',
          'ext.cnf',
          '-out',
          'leaf.crt',
        ],
        dir,
      );
      return { cert: readFileSync(join(dir, 'leaf.crt'), 'utf8'), key: readFileSync(join(dir, 'leaf.key'), 'utf8') };
    });
  }
}
