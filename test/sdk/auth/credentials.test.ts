/** Credential files (Mesos's JSON and text forms), secrets that never print, constant-time checks, tokens. */
import { inspect } from 'node:util';
import { expect } from 'chai';
import {
  basicAuthorization,
  Credentials,
  identify,
  mintToken,
  parseCredential,
  parseCredentials,
  Secret,
  secretMatches,
  verifyToken,
} from '../../../sdk/auth/index.js';

describe('sdk/auth: credentials', () => {
  it("reads Mesos's JSON credentials file", () => {
    const c = parseCredentials(
      '{"credentials":[{"principal":"sherman","secret":"kitesurf"},{"principal":"ops","secret":"s3"}]}',
    );
    expect(c.principals()).to.deep.equal(['sherman', 'ops']);
    expect(secretMatches(c.secretOf('sherman') as Secret, 'kitesurf')).to.equal(true);
    expect(secretMatches(c.secretOf('sherman') as Secret, 'kitesurF')).to.equal(false);
  });

  it('reads the older text form, one principal and secret a line', () => {
    const c = parseCredentials('principal secret\n\nprincipal2   secret2\n');
    expect(c.principals()).to.deep.equal(['principal', 'principal2']);
    expect(secretMatches(c.secretOf('principal2') as Secret, 'secret2')).to.equal(true);
  });

  it('reads a single --credential in both forms', () => {
    expect(parseCredential('{"principal":"agent1","secret":"pw"}').principal).to.equal('agent1');
    expect(secretMatches(parseCredential('agent1 pw\n').secret, 'pw')).to.equal(true);
  });

  for (const [name, text] of [
    ['broken JSON', '{"credentials": ['],
    ['a missing secret', '{"credentials":[{"principal":"a"}]}'],
    ['an empty secret', '{"credentials":[{"principal":"a","secret":""}]}'],
    ['a principal with a colon', '{"credentials":[{"principal":"a:b","secret":"s"}]}'],
    ['a duplicate principal', 'a s1\na s2'],
    ['a text line with three words', 'a s extra'],
    ['an oversized file', `a ${'s'.repeat(1024 * 1024)}`],
  ] as const) {
    it(`refuses ${name} with AGORA_AUTH_BAD_CREDENTIALS_FILE, without the secret in the message`, () => {
      let err: (Error & { code?: string }) | undefined;
      try {
        parseCredentials(text);
      } catch (e) {
        err = e as Error & { code?: string };
      }
      expect(err?.code).to.equal('AGORA_AUTH_BAD_CREDENTIALS_FILE');
      expect(err?.message).not.to.match(/s1|s2|kitesurf/);
    });
  }

  it('a Secret prints, logs and serialises as ***', () => {
    const s = new Secret('hunter2');
    const c = parseCredentials('ops hunter2');
    for (const out of [String(s), JSON.stringify({ s }), inspect(s), inspect({ s }), JSON.stringify(c), `${s}`]) {
      expect(out).not.to.contain('hunter2');
    }
    expect(s.reveal()).to.equal('hunter2');
  });
});

describe('sdk/auth: the Authorization header', () => {
  const creds = parseCredentials('ops pw\nalice s3cret');
  const now = 1_700_000_000_000;
  it('accepts Basic with the right secret', () => {
    expect(identify(basicAuthorization('ops', 'pw'), creds, now)).to.deep.equal({
      kind: 'principal',
      principal: 'ops',
    });
  });
  it('has no header: anonymous', () => {
    expect(identify(undefined, creds, now).kind).to.equal('anonymous');
  });
  for (const [name, header] of [
    ['a wrong secret', basicAuthorization('ops', 'px')],
    ['a secret of another principal', basicAuthorization('ops', 's3cret')],
    ['an unknown principal', basicAuthorization('eve', 'pw')],
    ['no colon', `Basic ${Buffer.from('opspw').toString('base64')}`],
    ['bad base64', 'Basic !!!'],
    ['an empty Basic', 'Basic'],
    ['an unknown scheme', 'Digest abc'],
    ['a garbage bearer token', 'Bearer xyz'],
  ] as const) {
    it(`refuses ${name}`, () => expect(identify(header, creds, now).kind).to.equal('invalid'));
  }

  it('accepts a minted bearer token until it expires; another secret or principal does not verify', () => {
    const t = mintToken('alice', creds.secretOf('alice') as Secret, now + 60_000);
    expect(verifyToken(t, creds, now)).to.deep.equal({ ok: true, principal: 'alice' });
    expect(identify(`Bearer ${t}`, creds, now)).to.deep.equal({ kind: 'principal', principal: 'alice' });
    expect(verifyToken(t, creds, now + 60_000).ok).to.equal(false);
    const rotated = parseCredentials('alice n3w');
    expect(verifyToken(t, rotated, now).ok).to.equal(false);
    // A payload swapped to another principal keeps alice's signature: refused.
    const [pre, , sig] = t.split('.');
    const forged = `${pre}.${Buffer.from(JSON.stringify({ p: 'ops', exp: now + 60_000 })).toString('base64url')}.${sig}`;
    expect(verifyToken(forged, creds, now).ok).to.equal(false);
    expect(verifyToken(t, new Credentials([]), now).ok).to.equal(false);
  });
});

describe('sdk/auth: the audit log file', () => {
  it('appends one JSON line per write and per refusal, and none for an allowed read', async () => {
    const { mkdtempSync, readFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { AuditLog } = await import('../../../sdk/auth/index.js');
    const { VirtualClock } = await import('../../../sdk/util/clock.js');
    const { pino } = await import('pino');
    const file = join(mkdtempSync(join(tmpdir(), 'agora-audit-')), 'audit.log');
    const log = AuditLog.open(file, pino({ level: 'silent' }), new VirtualClock(0));
    const base = { action: 'update_weights', path: '/weights', ip: '127.0.0.1' };
    log.record({ ...base, principal: 'ops', method: 'PUT', decision: 'allow', status: 200, target: 'web' });
    log.record({ ...base, method: 'GET', decision: 'allow', status: 200 });
    log.record({ ...base, method: 'GET', decision: 'unauthenticated', status: 401 });
    const lines = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.principal, l.method, l.target, l.decision, l.status, l.time])).to.deep.equal([
      ['ops', 'PUT', 'web', 'allow', 200, '1970-01-01T00:00:00.000Z'],
      [null, 'GET', null, 'unauthenticated', 401, '1970-01-01T00:00:00.000Z'],
    ]);
  });
});
