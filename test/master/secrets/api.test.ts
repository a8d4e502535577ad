/**
 * The secrets API behind the real SecurityAuthorizer: CRUD, values write-only, per-name ACLs
 * (create, update, view, delete), 401 without credentials, 503 when disabled, bounds; the value
 * never in a response or a log line.
 */
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { pino } from 'pino';
import { allocate } from '../../../master/allocator/index.js';
import { buildMasterHttp } from '../../../master/http/index.js';
import { Master } from '../../../master/master.js';
import { SecretStore } from '../../../master/secrets/index.js';
import { basicAuthorization, parseAcls, parseCredentials, SecurityAuthorizer } from '../../../sdk/auth/index.js';
import type { AgoraHttp } from '../../../sdk/http/index.js';
import { FileStore } from '../../../sdk/store/index.js';
import { VirtualClock } from '../../../sdk/util/clock.js';
import { tempDir } from '../../support/cluster.js';

const PASSWORDS = { ops: 'ops-pw-1', alice: 'alice-pw-2', eve: 'eve-pw-3' };
const ACLS = {
  permissive: false,
  create_secrets: [
    { principals: { values: ['ops'] }, secrets: { type: 'ANY' } },
    { principals: { values: ['alice'] }, secrets: { values: ['/alice/db'] } },
  ],
  update_secrets: [{ principals: { values: ['ops'] }, secrets: { type: 'ANY' } }],
  view_secrets: [
    { principals: { values: ['ops'] }, secrets: { type: 'ANY' } },
    { principals: { values: ['alice'] }, secrets: { values: ['/alice/db'] } },
  ],
  delete_secrets: [{ principals: { values: ['ops'] }, secrets: { type: 'ANY' } }],
};
const VALUE = `v-${randomBytes(10).toString('hex')}`;
const auth = (p: keyof typeof PASSWORDS) => ({ authorization: basicAuthorization(p, PASSWORDS[p]) });

describe('secrets API (master/http/secrets.ts)', () => {
  let app: AgoraHttp;
  let fs: FileStore;
  const logLines: string[] = [];

  async function build(enabled: boolean) {
    const logger = pino({ level: 'trace' }, { write: (s: string) => logLines.push(s) });
    const clock = new VirtualClock(1_700_000_000_000);
    const authorizer = new SecurityAuthorizer({
      credentials: parseCredentials(
        JSON.stringify({
          credentials: Object.entries(PASSWORDS).map(([principal, secret]) => ({ principal, secret })),
        }),
      ),
      acls: parseAcls(JSON.stringify(ACLS)),
      authenticateHttpReadwrite: true,
      authenticateHttpReadonly: true,
      clock,
    });
    const master = new Master({ port: 5050, allocate, logger, allocationIntervalMs: 3_600_000 });
    await master.becomeLeader();
    fs = await FileStore.open(tempDir('secrets-api'));
    const store = new SecretStore(fs, randomBytes(32), clock);
    const a = buildMasterHttp({
      logger,
      authorizer,
      current: () => master,
      leader: () => master.info,
      secrets: { enabled, store: () => store },
    });
    await a.ready();
    return a;
  }

  beforeEach(async () => {
    app = await build(true);
  });
  afterEach(async () => {
    await app.close();
    await fs.close();
  });

  const put = (name: string, value: string, who?: keyof typeof PASSWORDS) =>
    app.inject({ method: 'PUT', url: `/secrets${name}`, payload: { value }, headers: who ? auth(who) : {} });

  it('creates (201), updates (200), shows metadata only, lists, deletes', async () => {
    const c = await put('/prod/db/password', VALUE, 'ops');
    expect(c.statusCode).to.equal(201);
    expect(c.json()).to.include({ name: '/prod/db/password', version: 1 });
    const u = await put('/prod/db/password', `${VALUE}x`, 'ops');
    expect(u.statusCode).to.equal(200);
    expect(u.json().version).to.equal(2);
    const g = await app.inject({ method: 'GET', url: '/secrets/prod/db/password', headers: auth('ops') });
    expect(g.statusCode).to.equal(200);
    expect(Object.keys(g.json()).sort()).to.deep.equal(['created_at', 'name', 'updated_at', 'version']);
    const l = await app.inject({ method: 'GET', url: '/secrets', headers: auth('ops') });
    expect(l.json().secrets.map((s: { name: string }) => s.name)).to.deep.equal(['/prod/db/password']);
    for (const r of [c, u, g, l]) expect(r.body).not.to.include(VALUE);
    const d = await app.inject({ method: 'DELETE', url: '/secrets/prod/db/password', headers: auth('ops') });
    expect(d.statusCode).to.equal(204);
    const gone = await app.inject({ method: 'GET', url: '/secrets/prod/db/password', headers: auth('ops') });
    expect(gone.statusCode).to.equal(404);
    expect(gone.json().code).to.equal('AGORA_SECRETS_NOT_FOUND');
    expect(logLines.join('')).not.to.include(VALUE);
  });

  it('needs credentials (401), and the ACLs decide per name (403 changes nothing)', async () => {
    expect((await put('/x', VALUE)).statusCode).to.equal(401);
    expect((await app.inject({ method: 'GET', url: '/secrets' })).statusCode).to.equal(401);
    // alice may create /alice/db but not update it, nor create anything else
    expect((await put('/alice/db', VALUE, 'alice')).statusCode).to.equal(201);
    const upd = await put('/alice/db', 'changed', 'alice');
    expect(upd.statusCode).to.equal(403);
    expect(upd.json().code).to.equal('AGORA_HTTP_FORBIDDEN');
    expect((await put('/ops/db', VALUE, 'alice')).statusCode).to.equal(403);
    expect((await put('/ops/db', VALUE, 'eve')).statusCode).to.equal(403);
    expect((await put('/ops/db', VALUE, 'ops')).statusCode).to.equal(201);
    // version unchanged by alice's refused update
    const meta = await app.inject({ method: 'GET', url: '/secrets/alice/db', headers: auth('ops') });
    expect(meta.json().version).to.equal(1);
    // views: alice sees only her name; eve none; eve cannot view or delete one
    const listed = async (who: keyof typeof PASSWORDS) =>
      (await app.inject({ method: 'GET', url: '/secrets', headers: auth(who) }))
        .json()
        .secrets.map((s: { name: string }) => s.name);
    expect(await listed('ops')).to.deep.equal(['/alice/db', '/ops/db']);
    expect(await listed('alice')).to.deep.equal(['/alice/db']);
    expect(await listed('eve')).to.deep.equal([]);
    expect((await app.inject({ method: 'GET', url: '/secrets/ops/db', headers: auth('alice') })).statusCode).to.equal(
      403,
    );
    expect(
      (await app.inject({ method: 'DELETE', url: '/secrets/ops/db', headers: auth('alice') })).statusCode,
    ).to.equal(403);
    expect(await listed('ops')).to.deep.equal(['/alice/db', '/ops/db']);
  });

  it('refuses bad names and oversized values with codes, storing nothing', async () => {
    for (const name of ['/a//b', '/a%20b', '/a~b', `/${'x'.repeat(200)}`]) {
      const bad = await put(name, VALUE, 'ops');
      expect(bad.statusCode, name).to.equal(400);
      expect(bad.json().code, name).to.equal('AGORA_SECRETS_BAD_NAME');
    }
    const dots = await put('/.hidden', VALUE, 'ops');
    expect(dots.statusCode).to.equal(400);
    expect(dots.json().code).to.equal('AGORA_SECRETS_BAD_NAME');
    const big = await put('/big', 'x'.repeat(64 * 1024 + 1), 'ops');
    expect(big.statusCode).to.be.oneOf([400, 413]);
    const extra = await app.inject({
      method: 'PUT',
      url: '/secrets/x',
      payload: { value: 'a', other: 1 },
      headers: auth('ops'),
    });
    expect(extra.statusCode).to.equal(400);
    expect(await fs.list('secrets/')).to.deep.equal([]);
  });

  it('answers 503 AGORA_SECRETS_DISABLED without --secrets_key_file', async () => {
    await app.close();
    await fs.close();
    app = await build(false);
    for (const [method, url] of [
      ['GET', '/secrets'],
      ['GET', '/secrets/a'],
      ['DELETE', '/secrets/a'],
    ] as const) {
      const r = await app.inject({ method, url, headers: auth('ops') });
      expect(r.statusCode, url).to.equal(503);
      expect(r.json().code).to.equal('AGORA_SECRETS_DISABLED');
      expect(r.json().message).to.include('--secrets_key_file');
    }
    expect((await put('/a', VALUE, 'ops')).json().code).to.equal('AGORA_SECRETS_DISABLED');
  });
});
