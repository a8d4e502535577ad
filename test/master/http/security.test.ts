/**
 * The master's HTTP routes behind the real SecurityAuthorizer (sdk/auth): 401 with
 * WWW-Authenticate for missing, wrong and malformed credentials; 403 for a known caller the ACLs
 * refuse, with nothing changed; the object of each write (role, agent) decides; rate limits under
 * a bounded flood; the audit trail; no secret in any log line.
 */
import { Writable } from 'node:stream';
import { expect } from 'chai';
import { pino } from 'pino';
import {
  AuditLog,
  basicAuthorization,
  mintToken,
  parseAcls,
  parseCredentials,
  parseRateLimits,
  RateLimiter,
  type Secret,
  SecurityAuthorizer,
} from '../../../sdk/auth/index.js';
import { VirtualClock } from '../../../sdk/util/clock.js';
import { type Harness, masterHttp } from './support.js';

const SECRETS = { ops: 'ops-Secret-9f2', alice: 'alice-Secret-77c', bob: 'bob-Secret-1ab' };
const CREDENTIALS = JSON.stringify({
  credentials: Object.entries(SECRETS).map(([principal, secret]) => ({ principal, secret })),
});
const ACLS = {
  permissive: false,
  update_weights: [
    { principals: { values: ['ops'] }, roles: { type: 'ANY' } },
    { principals: { values: ['alice'] }, roles: { values: ['web'] } },
  ],
  update_quotas: [
    { principals: { values: ['ops'] }, roles: { type: 'ANY' } },
    { principals: { values: ['alice'] }, roles: { values: ['web'] } },
  ],
  mark_agents_gone: [{ principals: { values: ['ops'] }, agents: { type: 'ANY' } }],
  get_endpoints: [{ principals: { values: ['ops'] }, paths: { values: ['/metrics/snapshot'] } }],
  view_roles: [
    { principals: { values: ['ops'] }, roles: { type: 'ANY' } },
    { principals: { values: ['alice'] }, roles: { values: ['web'] } },
  ],
  get_quotas: [
    { principals: { values: ['ops'] }, roles: { type: 'ANY' } },
    { principals: { values: ['alice'] }, roles: { values: ['web'] } },
  ],
};

function lines(out: string[]) {
  return pino(
    { level: 'trace' },
    new Writable({
      write(chunk, _e, cb) {
        out.push(String(chunk));
        cb();
      },
    }),
  );
}

const basic = (p: keyof typeof SECRETS) => ({ authorization: basicAuthorization(p, SECRETS[p]) });

describe('master HTTP: authentication and authorization (issue 10)', () => {
  let h: Harness;
  let logLines: string[];
  let clock: VirtualClock;
  const credentials = parseCredentials(CREDENTIALS);

  async function start(extra: { readonly?: boolean; rateLimits?: string } = {}) {
    logLines = [];
    clock = new VirtualClock(1_700_000_000_000);
    const logger = lines(logLines);
    const authorizer = new SecurityAuthorizer({
      credentials,
      acls: parseAcls(JSON.stringify(ACLS)),
      authenticateHttpReadwrite: true,
      authenticateHttpReadonly: extra.readonly ?? false,
      rateLimiter: extra.rateLimits ? new RateLimiter(parseRateLimits(extra.rateLimits), clock) : undefined,
      audit: AuditLog.open(undefined, logger, clock),
      clock,
    });
    h = await masterHttp({ authorizer, logger });
  }

  const putWeights = (headers: Record<string, string>, role = 'web') =>
    h.app.inject({ method: 'PUT', url: '/weights', headers, payload: [{ role, weight: 2 }] });

  afterEach(async () => {
    await h.app.close();
    // No secret, in any form a client sends it, in any log line (main or audit).
    const all = logLines.join('\n');
    for (const [p, s] of Object.entries(SECRETS)) {
      expect(all).not.to.contain(s);
      expect(all).not.to.contain(Buffer.from(`${p}:${s}`).toString('base64'));
    }
  });

  describe('writes need credentials', () => {
    beforeEach(() => start());
    for (const [name, headers] of [
      ['missing', {}],
      ['wrong secret', { authorization: basicAuthorization('alice', 'nope') }],
      ['unknown principal', { authorization: basicAuthorization('eve', SECRETS.alice) }],
      ['malformed Basic', { authorization: 'Basic %%%' }],
      ['unknown scheme', { authorization: 'Negotiate abc' }],
      ['forged bearer', { authorization: 'Bearer agora1.e30.AAAA' }],
    ] as const) {
      it(`${name} credentials: 401 with WWW-Authenticate, nothing changed`, async () => {
        const before = h.rolesSnapshot();
        const r = await putWeights(headers as Record<string, string>);
        expect(r.statusCode).to.equal(401);
        expect(r.json().code).to.equal('AGORA_HTTP_UNAUTHENTICATED');
        expect(r.headers['www-authenticate']).to.match(/^Basic realm="agora"/);
        expect(h.rolesSnapshot()).to.equal(before);
      });
    }

    it('answers 401, not a schema error, to an anonymous bad body (the body is not looked at)', async () => {
      const r = await h.app.inject({ method: 'PUT', url: '/weights', payload: { not: 'an array' } });
      expect(r.statusCode).to.equal(401);
    });

    it('reads stay open without --authenticate_http_readonly', async () => {
      expect((await h.app.inject({ url: '/master/state' })).statusCode).to.equal(200);
    });

    it('accepts a minted bearer token like Basic', async () => {
      const t = mintToken('alice', credentials.secretOf('alice') as Secret, clock.now() + 60_000);
      const r = await putWeights({ authorization: `Bearer ${t}` });
      expect(r.statusCode).to.equal(200);
      expect(h.master.roles.get('web')?.weight).to.equal(2);
    });
  });

  describe('ACLs decide per object', () => {
    beforeEach(() => start());
    it('update_weights: alice may set web, not db (403, unchanged); ops may set db', async () => {
      expect((await putWeights(basic('alice'), 'web')).statusCode).to.equal(200);
      const before = h.rolesSnapshot();
      const denied = await putWeights(basic('alice'), 'db');
      expect(denied.statusCode).to.equal(403);
      expect(denied.json().code).to.equal('AGORA_HTTP_FORBIDDEN');
      expect(h.rolesSnapshot()).to.equal(before);
      expect((await putWeights(basic('ops'), 'db')).statusCode).to.equal(200);
      expect(h.master.roles.get('db')?.weight).to.equal(2);
    });

    it('update_quotas on POST /quota and DELETE /quota/<role>', async () => {
      const set = (p: keyof typeof SECRETS, role: string) =>
        h.app.inject({ method: 'POST', url: '/quota', headers: basic(p), payload: { role, guarantee: 'cpus:1' } });
      expect((await set('alice', 'web')).statusCode).to.equal(200);
      expect((await set('alice', 'db')).statusCode).to.equal(403);
      expect(h.master.roles.get('db')?.quota).to.equal(undefined);
      expect((await set('ops', 'db')).statusCode).to.equal(200);
      const del = (p: keyof typeof SECRETS, role: string) =>
        h.app.inject({ method: 'DELETE', url: `/quota/${role}`, headers: basic(p) });
      expect((await del('alice', 'db')).statusCode).to.equal(403);
      expect(h.master.roles.get('db')?.quota).not.to.equal(undefined);
      expect((await del('alice', 'web')).statusCode).to.equal(200);
    });

    it('mark_agents_gone: alice and bob 403; ops gets through to the master (unknown agent: 404)', async () => {
      const call = (p: keyof typeof SECRETS) =>
        h.app.inject({
          method: 'POST',
          url: '/api/v1',
          headers: basic(p),
          payload: { type: 'MARK_AGENT_GONE', mark_agent_gone: { agent_id: { value: 'A1' } } },
        });
      expect((await call('alice')).statusCode).to.equal(403);
      expect((await call('bob')).statusCode).to.equal(403);
      expect((await call('ops')).statusCode).to.equal(404);
    });

    it('view_roles and get_quotas: GET /roles, /weights and /quota list only the roles the caller may see', async () => {
      for (const role of ['web', 'db']) {
        await putWeights(basic('ops'), role);
        await h.app.inject({
          method: 'POST',
          url: '/quota',
          headers: basic('ops'),
          payload: { role, guarantee: 'cpus:1' },
        });
      }
      const seen = async (p: keyof typeof SECRETS) => ({
        roles: (await h.app.inject({ url: '/roles', headers: basic(p) }))
          .json()
          .roles.map((r: { name: string }) => r.name),
        weights: (await h.app.inject({ url: '/weights', headers: basic(p) }))
          .json()
          .map((w: { role: string }) => w.role),
        quota: (await h.app.inject({ url: '/quota', headers: basic(p) }))
          .json()
          .infos.map((q: { role: string }) => q.role),
      });
      expect(await seen('ops')).to.deep.equal({
        roles: ['*', 'db', 'web'],
        weights: ['web', 'db'],
        quota: ['web', 'db'],
      });
      expect(await seen('alice')).to.deep.equal({ roles: ['web'], weights: ['web'], quota: ['web'] });
      expect(await seen('bob')).to.deep.equal({ roles: [], weights: [], quota: [] });
    });

    it('get_endpoints guards /metrics/snapshot (not permissive: only ops)', async () => {
      expect((await h.app.inject({ url: '/metrics/snapshot', headers: basic('ops') })).statusCode).to.equal(200);
      expect((await h.app.inject({ url: '/metrics/snapshot', headers: basic('alice') })).statusCode).to.equal(403);
      expect((await h.app.inject({ url: '/metrics/snapshot' })).statusCode).to.equal(403);
    });
  });

  describe('--authenticate_http_readonly', () => {
    beforeEach(() => start({ readonly: true }));
    it('reads need credentials; /health stays open', async () => {
      const r = await h.app.inject({ url: '/master/state' });
      expect(r.statusCode).to.equal(401);
      expect(r.headers['www-authenticate']).to.be.a('string');
      expect((await h.app.inject({ url: '/master/state', headers: basic('bob') })).statusCode).to.equal(200);
      expect((await h.app.inject({ url: '/health' })).statusCode).to.equal(200);
      expect((await h.app.inject({ url: '/health', headers: { authorization: 'Basic junk' } })).statusCode).to.equal(
        200,
      );
    });
  });

  describe('audit log', () => {
    beforeEach(() => start());
    it('records every write and every refusal with principal, action, target, decision and status', async () => {
      await putWeights(basic('alice'), 'web');
      await putWeights(basic('alice'), 'db');
      await putWeights({});
      await h.app.inject({ url: '/metrics/snapshot', headers: basic('bob') });
      await h.app.inject({ url: '/master/state' }); // an allowed read: not audited
      const audit = logLines.map((l) => JSON.parse(l)).filter((l) => l.audit);
      const brief = audit.map((a) => [a.principal, a.action, a.method, a.path, a.target, a.decision, a.status]);
      expect(brief).to.deep.equal([
        ['alice', 'update_weights', 'PUT', '/weights', 'web', 'allow', 200],
        ['alice', 'update_weights', 'PUT', '/weights', 'db', 'deny', 403],
        [null, 'update_weights', 'PUT', '/weights', null, 'unauthenticated', 401],
        ['bob', 'view_metrics', 'GET', '/metrics/snapshot', '/metrics/snapshot', 'deny', 403],
      ]);
      expect(audit[0].time).to.equal(new Date(clock.now()).toISOString());
    });
  });

  describe('rate limits (Mesos --rate_limits) on writes', () => {
    beforeEach(() =>
      start({
        rateLimits: JSON.stringify({
          limits: [{ principal: 'alice', qps: 1, capacity: 3 }, { principal: 'ops' }],
          aggregate_default_qps: 1,
          aggregate_default_capacity: 1,
        }),
      }),
    );
    it('a bounded flood of 20 writes: 3 pass, 17 get 429 with a code; the budget refills with time', async () => {
      const codes: number[] = [];
      for (let i = 0; i < 20; i++) codes.push((await putWeights(basic('alice'))).statusCode);
      expect(codes.filter((c) => c === 200).length).to.equal(3);
      expect(codes.slice(3).every((c) => c === 429)).to.equal(true);
      const r = await putWeights(basic('alice'));
      expect(r.json().code).to.equal('AGORA_HTTP_RATE_LIMITED');
      // ops is listed without qps: not limited; reads are never limited.
      for (let i = 0; i < 10; i++) expect((await putWeights(basic('ops'))).statusCode).to.equal(200);
      expect((await h.app.inject({ url: '/master/state', headers: basic('alice') })).statusCode).to.equal(200);
      clock.advance(1000);
      expect((await putWeights(basic('alice'))).statusCode).to.equal(200);
      expect((await putWeights(basic('alice'))).statusCode).to.equal(429);
    });
    it('principals not listed share the aggregate default', async () => {
      expect((await putWeights(basic('bob'))).statusCode).to.equal(403); // allowed by the limit, refused by ACLs
      expect((await putWeights(basic('bob'))).statusCode).to.equal(429);
    });
  });
});
