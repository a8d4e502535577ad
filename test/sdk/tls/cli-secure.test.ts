/** The CLI's TLS and credential flags (cli/secure.ts): what `--master` means, hostile files refused. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { UsageError } from '../../../cli/flags.js';
import { clientSecurityFromFlags, credentialFromFlags, masterTarget, serverTlsFromFlags } from '../../../cli/secure.js';

describe('cli/secure', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'agora-cli-secure-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string | Buffer) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };

  it('--master: https:// means TLS, host:port means TLS only with --ca_file, zk:// is kept', () => {
    expect(masterTarget('https://10.0.0.5:5050', undefined)).to.deep.equal({ master: '10.0.0.5:5050', tls: true });
    expect(masterTarget('http://10.0.0.5:5050', 'ca.crt')).to.deep.equal({ master: '10.0.0.5:5050', tls: false });
    expect(masterTarget('10.0.0.5:5050', undefined)).to.deep.equal({ master: '10.0.0.5:5050', tls: false });
    expect(masterTarget('10.0.0.5:5050', 'ca.crt')).to.deep.equal({ master: '10.0.0.5:5050', tls: true });
    expect(masterTarget('zk://zk1:2181/agora', 'ca.crt')).to.deep.equal({ master: 'zk://zk1:2181/agora', tls: true });
  });

  it('reads Mesos single-credential files in JSON and text form', () => {
    expect(credentialFromFlags({ credential: file('a.json', '{"principal": "fw", "secret": "s3"}\n') })).to.deep.equal({
      principal: 'fw',
      secret: 's3',
    });
    expect(credentialFromFlags({ credential: file('a.txt', 'fw s3\n') })).to.deep.equal({
      principal: 'fw',
      secret: 's3',
    });
  });

  it('refuses hostile credential files with a usage error that never shows the secret', () => {
    const bad = [
      file('b1', '{"principal": "a:b", "secret": "TOPSECRET"}'),
      file('b2', '{"principal": "p", "secret": "TOPSECRET", "extra": 1}'),
      file('b3', '{"principal": "p"'),
      file('b4', 'p TOPSECRET more'),
      file('b5', Buffer.alloc(70 * 1024, 'a')),
      join(dir, 'missing'),
    ];
    for (const p of bad) {
      expect(() => credentialFromFlags({ credential: p }), p).to.throw(UsageError);
      try {
        credentialFromFlags({ credential: p });
      } catch (e) {
        expect((e as Error).message).to.not.include('TOPSECRET');
      }
    }
  });

  it('--principal and --secret go together and exclude --credential', () => {
    expect(credentialFromFlags({ principal: 'p', secret: 's' })).to.deep.equal({ principal: 'p', secret: 's' });
    expect(credentialFromFlags({})).to.equal(undefined);
    expect(() => credentialFromFlags({ principal: 'p' })).to.throw(UsageError);
    expect(() => credentialFromFlags({ principal: 'p', secret: 's', credential: 'f' })).to.throw(UsageError);
  });

  it('TLS flags: both cert and key, mutual TLS and allow-plain only with them', () => {
    expect(serverTlsFromFlags({})).to.equal(undefined);
    expect(() => serverTlsFromFlags({ tls_cert: 'x' })).to.throw(UsageError);
    expect(() => serverTlsFromFlags({ tls_allow_plain: 'true' })).to.throw(UsageError);
    expect(() => serverTlsFromFlags({ tls_cert: join(dir, 'no.crt'), tls_key: join(dir, 'no.key') }))
      .to.throw()
      .with.property('code', 'AGORA_TLS_BAD_FILE');
    expect(clientSecurityFromFlags({ master: '127.0.0.1:5050' })).to.deep.equal({
      master: '127.0.0.1:5050',
      credential: undefined,
    });
  });
});
