/** The master's security flags as `agora master` reads them (cli/security.ts). */
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { pino } from 'pino';
import { clientCredential, masterSecurityFromFlags } from '../../../cli/security.js';
import { basicAuthorization } from '../../../sdk/auth/index.js';
import { VirtualClock } from '../../../sdk/util/clock.js';

const silent = pino({ level: 'silent' });
const dir = () => mkdtempSync(join(tmpdir(), 'agora-flags-'));
const ACL = JSON.stringify({
  permissive: false,
  update_weights: [{ principals: { values: ['ops'] }, roles: { type: 'ANY' } }],
});

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return undefined;
}

describe('cli/security: master flags', () => {
  it('needs --credentials with any --authenticate_* flag', () => {
    expect(code(() => masterSecurityFromFlags({ authenticate_agents: 'true' }, silent))).to.equal(
      'AGORA_AUTH_BAD_FLAGS',
    );
  });

  it('reads ACLs as inline JSON, a path and a file:// path', () => {
    const d = dir();
    writeFileSync(join(d, 'acls.json'), ACL);
    const creds = join(d, 'creds');
    writeFileSync(creds, 'ops pw\nalice pw2', { mode: 0o600 });
    for (const acls of [ACL, join(d, 'acls.json'), `file://${join(d, 'acls.json')}`]) {
      const { authorizer } = masterSecurityFromFlags({ acls, credentials: creds }, silent, new VirtualClock(0));
      const put = (p: string, s: string) =>
        authorizer.authorize(
          {
            method: 'PUT',
            url: '/weights',
            ip: '',
            headers: { authorization: basicAuthorization(p, s) },
            body: [{ role: 'x' }],
          },
          'update_weights',
        ).decision;
      expect(put('ops', 'pw')).to.equal('allow');
      expect(put('alice', 'pw2')).to.equal('deny');
    }
  });

  it('refuses a bad ACL, rate-limit or credentials value with its code', () => {
    expect(code(() => masterSecurityFromFlags({ acls: '{"run_task": []}' }, silent))).to.equal('AGORA_AUTH_BAD_ACLS');
    expect(code(() => masterSecurityFromFlags({ rate_limits: '{"limits": [{"qps": 1}]}' }, silent))).to.equal(
      'AGORA_AUTH_BAD_RATE_LIMITS',
    );
    expect(code(() => masterSecurityFromFlags({ credentials: '/nonexistent/creds' }, silent))).to.equal(
      'AGORA_AUTH_BAD_FLAGS',
    );
  });

  it('names what a non-loopback listener still lacks, and warns of a world-readable credentials file', () => {
    const d = dir();
    const creds = join(d, 'creds');
    writeFileSync(creds, 'ops pw');
    chmodSync(creds, 0o644);
    const s = masterSecurityFromFlags({ credentials: creds, authenticate_agents: 'true' }, silent);
    expect(s.missing).to.deep.equal(['--authenticate_frameworks', '--authenticate_http_readwrite']);
    expect(s.warnings.join()).to.contain('chmod 600');
  });

  it('reads a client credential from --credential or --principal/--secret, never half of it', () => {
    const d = dir();
    writeFileSync(join(d, 'c.json'), '{"principal":"agent1","secret":"s"}');
    expect(clientCredential({ credential: join(d, 'c.json') })?.principal).to.equal('agent1');
    expect(clientCredential({ principal: 'fw', secret: 's' })?.principal).to.equal('fw');
    expect(() => clientCredential({ principal: 'fw' })).to.throw(/go together/);
    expect(clientCredential({})).to.equal(undefined);
  });
});

describe('cli/security: no credentials configured', () => {
  it('ignores an Authorization header (as Mesos without an authenticator) instead of refusing it', () => {
    const { authorizer } = masterSecurityFromFlags({}, silent, new VirtualClock(0));
    const v = authorizer.authorize(
      { method: 'PUT', url: '/weights', ip: '', headers: { authorization: basicAuthorization('x', 'y') }, body: [] },
      'update_weights',
    );
    expect(v).to.deep.include({ decision: 'allow', principal: undefined });
  });
});
