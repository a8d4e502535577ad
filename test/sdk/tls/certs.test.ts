/** `initSecureDir` (agora certs init): what it writes, read back with Node's own X.509 parser. */
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { initSecureDir, OpensslCertificateMaker, type SecurePaths } from '../../../sdk/tls/index.js';

describe('agora certs init (initSecureDir)', function () {
  this.timeout(30_000);
  let dir: string;
  let p: SecurePaths;
  const maker = new OpensslCertificateMaker();
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'agora-certs-test-'));
    p = await initSecureDir({ dir: join(dir, 's'), hosts: ['m1.example.com', '10.0.0.5'], maker });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  const cert = (f: string) => new X509Certificate(readFileSync(f));

  it('signs every certificate with the CA, the server one for localhost, 127.0.0.1, this host and --hosts', () => {
    const ca = cert(p.caCert);
    expect(ca.ca).to.equal(true);
    for (const f of [p.serverCert, p.agentCert, p.cliCert]) expect(cert(f).verify(ca.publicKey), f).to.equal(true);
    const san = cert(p.serverCert).subjectAltName ?? '';
    for (const want of [
      'DNS:localhost',
      `DNS:${hostname()}`,
      'DNS:m1.example.com',
      'IP Address:127.0.0.1',
      'IP Address:10.0.0.5',
    ]) {
      expect(san).to.include(want);
    }
    expect(cert(p.serverCert).checkHost('m1.example.com')).to.equal('m1.example.com');
    expect(cert(p.serverCert).checkHost('evil.example.com')).to.equal(undefined);
    expect(cert(p.cliCert).subject).to.include('CN=agora-operator');
  });

  it('keeps keys and credentials private (0600) and gives each principal its own random secret', () => {
    for (const f of [p.caKey, p.serverKey, p.agentKey, p.cliKey, p.credentials, p.agentCredential]) {
      expect(statSync(f).mode & 0o777, f).to.equal(0o600);
    }
    const all = JSON.parse(readFileSync(p.credentials, 'utf8')).credentials as { principal: string; secret: string }[];
    expect(new Set(all.map((c) => c.secret)).size).to.equal(3);
    for (const c of all) expect(Buffer.from(c.secret, 'base64url').length).to.be.at.least(24);
    const fw = JSON.parse(readFileSync(p.frameworkCredential, 'utf8'));
    expect(all).to.deep.include(fw);
  });

  it('refuses to write over an existing CA, and bad host names before making anything', async () => {
    const codeOf = (pr: Promise<unknown>) =>
      pr.then(
        () => 'none',
        (e: { code?: string }) => e.code,
      );
    expect(await codeOf(initSecureDir({ dir: join(dir, 's'), maker }))).to.equal('AGORA_TLS_CERT_MAKING_FAILED');
    expect(await codeOf(initSecureDir({ dir: join(dir, 't'), hosts: ['a b'], maker }))).to.equal(
      'AGORA_TLS_CERT_MAKING_FAILED',
    );
    expect(() => statSync(join(dir, 't'))).to.throw(/ENOENT/);
  });
});
