/**
 * Every master route through `inject` against a real Master: what each answers, and a table of
 * hostile requests (wrong method, bad params, oversize, deep JSON, bad encodings, wrong shapes),
 * each answered with its status and `{code, message}` and changing nothing.
 */
import { expect } from 'chai';
import type { InjectOptions } from 'fastify';
import { type Harness, masterHttp } from './support.js';

const json = { 'content-type': 'application/json' };

describe('master HTTP routes (inject, real Master)', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await masterHttp();
  });
  afterEach(async () => {
    await h.app.close();
    h.master.stop();
  });

  it('answers the read-only routes in their documented shapes', async () => {
    expect((await h.app.inject({ url: '/health' })).json()).to.deep.equal({ healthy: true, leading: true });
    for (const url of ['/master/state', '/state', '/master/state.json']) {
      const s = (await h.app.inject({ url })).json();
      expect(s.id, url).to.equal(h.master.info.id);
      expect(s.leader_info.id, url).to.equal(h.master.info.id);
      expect(s.slaves, url).to.deep.equal([]);
      expect(s.elected_time, url).to.equal((h.master.electedAt as number) / 1000);
    }
    for (const url of ['/metrics/snapshot', '/master/metrics/snapshot']) {
      const m = (await h.app.inject({ url })).json();
      expect(m['master/elected'], url).to.equal(1);
      expect(m['allocator/mesos/roles/*/shares/dominant'], url).to.equal(0);
    }
    expect((await h.app.inject({ url: '/roles' })).json().roles.map((r: { name: string }) => r.name)).to.deep.equal([
      '*',
    ]);
    expect((await h.app.inject({ url: '/weights' })).json()).to.deep.equal([]);
    expect((await h.app.inject({ url: '/quota' })).json()).to.deep.equal({ infos: [] });
    const head = await h.app.inject({ method: 'HEAD', url: '/health' });
    expect(head.statusCode).to.equal(200);
  });

  it('sets weights, shown by /weights and /roles, and made effective through Master.changeRoles', async () => {
    const r = await h.app.inject({
      method: 'PUT',
      url: '/weights',
      payload: [
        { role: 'eng/backend', weight: 2 },
        { role: 'analytics', weight: 0.5 },
      ],
    });
    expect(r.statusCode).to.equal(200);
    expect(h.master.roles.get('eng/backend')?.weight).to.equal(2);
    expect((await h.app.inject({ url: '/weights' })).json()).to.deep.equal([
      { role: 'eng/backend', weight: 2 },
      { role: 'analytics', weight: 0.5 },
    ]);
  });

  it('sets quota in each of its three forms, and removes it', async () => {
    for (const [role, body] of [
      ['a', { guarantees: { cpus: 1 }, limits: { cpus: 2, mem: 512 } }],
      ['b', { guarantee: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 1.5 } }] }],
      ['c', { limits: 'cpus:3;mem:1024' }],
    ] as const) {
      const r = await h.app.inject({ method: 'POST', url: '/quota', payload: { role, ...body } });
      expect(r.statusCode, role).to.equal(200);
      expect(r.json().role).to.equal(role);
    }
    expect(h.master.roles.get('a')?.quota?.limit?.scalarTotals()).to.deep.equal({ cpus: 2, mem: 512 });
    expect(h.master.roles.get('b')?.quota?.guarantee?.scalarTotals()).to.deep.equal({ cpus: 1.5 });
    expect(h.master.roles.get('c')?.quota?.limit?.scalarTotals()).to.deep.equal({ cpus: 3, mem: 1024 });
    const infos = (await h.app.inject({ url: '/quota' })).json().infos;
    expect(infos.map((i: { role: string }) => i.role).sort()).to.deep.equal(['a', 'b', 'c']);
    expect((await h.app.inject({ method: 'DELETE', url: '/quota/a' })).statusCode).to.equal(200);
    expect(h.master.roles.get('a')?.quota).to.equal(undefined);
    const again = await h.app.inject({ method: 'DELETE', url: '/quota/a' });
    expect([again.statusCode, again.json().code]).to.deep.equal([400, 'AGORA_MASTER_UNKNOWN_QUOTA']);
  });

  it('refuses MARK_AGENT_GONE of an unknown agent with 404 and a code', async () => {
    const r = await h.app.inject({
      method: 'POST',
      url: '/api/v1',
      payload: { type: 'MARK_AGENT_GONE', mark_agent_gone: { agent_id: { value: 'nope' } } },
    });
    expect([r.statusCode, r.json().code]).to.deep.equal([404, 'AGORA_MASTER_UNKNOWN_AGENT']);
  });

  const big = JSON.stringify([{ role: 'x', weight: 1, pad: 'p'.repeat(1024 * 1024) }]);
  const deep = '['.repeat(5000) + ']'.repeat(5000);
  const deepObject = '{"a":'.repeat(40) + '1' + '}'.repeat(40);
  const bodyRoutes = [
    ['PUT', '/weights'],
    ['POST', '/quota'],
    ['POST', '/api/v1'],
  ] as const;
  type Case = [string, InjectOptions, number, string];
  const hostile: Case[] = [
    // wrong method on a known path
    ['POST /health', { method: 'POST', url: '/health' }, 405, 'AGORA_HTTP_METHOD_NOT_ALLOWED'],
    ['DELETE /weights', { method: 'DELETE', url: '/weights' }, 405, 'AGORA_HTTP_METHOD_NOT_ALLOWED'],
    [
      'DELETE /weights with a malformed body',
      { method: 'DELETE', url: '/weights', payload: 'i,A$O', headers: json },
      405,
      'AGORA_HTTP_METHOD_NOT_ALLOWED',
    ],
    [
      'POST /nowhere with a malformed body',
      { method: 'POST', url: '/nowhere', payload: '{', headers: json },
      404,
      'AGORA_HTTP_NOT_FOUND',
    ],
    [
      'PUT /quota',
      { method: 'PUT', url: '/quota', payload: '{}', headers: json },
      405,
      'AGORA_HTTP_METHOD_NOT_ALLOWED',
    ],
    ['GET /quota/x', { method: 'GET', url: '/quota/x' }, 405, 'AGORA_HTTP_METHOD_NOT_ALLOWED'],
    ['GET /api/v1', { method: 'GET', url: '/api/v1' }, 405, 'AGORA_HTTP_METHOD_NOT_ALLOWED'],
    ['PATCH /roles', { method: 'PATCH', url: '/roles' }, 405, 'AGORA_HTTP_METHOD_NOT_ALLOWED'],
    ['OPTIONS /master/state', { method: 'OPTIONS', url: '/master/state' }, 405, 'AGORA_HTTP_METHOD_NOT_ALLOWED'],
    // unknown paths
    ['GET /', { method: 'GET', url: '/' }, 404, 'AGORA_HTTP_NOT_FOUND'],
    ['GET /quotas', { method: 'GET', url: '/quotas' }, 404, 'AGORA_HTTP_NOT_FOUND'],
    ['DELETE /quota', { method: 'DELETE', url: '/quota' }, 405, 'AGORA_HTTP_METHOD_NOT_ALLOWED'],
    // bad params
    ['DELETE /quota/ (empty role)', { method: 'DELETE', url: '/quota/' }, 400, 'AGORA_MASTER_INVALID_ROLE_REQUEST'],
    ['DELETE /quota/%ZZ', { method: 'DELETE', url: '/quota/%ZZ' }, 400, 'AGORA_HTTP_BAD_URL'],
    ['DELETE /quota/%', { method: 'DELETE', url: '/quota/%' }, 400, 'AGORA_HTTP_BAD_URL'],
    ['DELETE /quota/a%00b', { method: 'DELETE', url: '/quota/a%00b' }, 400, 'AGORA_MASTER_INVALID_ROLE_REQUEST'],
    [
      'DELETE /quota/a%2F..%2Fb',
      { method: 'DELETE', url: '/quota/a%2F..%2Fb' },
      400,
      'AGORA_MASTER_INVALID_ROLE_REQUEST',
    ],
    [
      'DELETE /quota/<2000 chars>',
      { method: 'DELETE', url: `/quota/${'r'.repeat(2000)}` },
      400,
      'AGORA_HTTP_INVALID_REQUEST',
    ],
    // wrong shapes and values
    ...(
      [
        ['weights not an array', { role: 'x', weight: 1 }],
        ['weight 0', [{ role: 'x', weight: 0 }]],
        ['weight as a string', [{ role: 'x', weight: '2' }]],
        ['weight 1e308', [{ role: 'x', weight: 1e308 }]],
        ['weights with an extra field', [{ role: 'x', weight: 1, extra: true }]],
        ['role of 300 characters', [{ role: 'r'.repeat(300), weight: 1 }]],
        ['1001 entries', Array.from({ length: 1001 }, (_, i) => ({ role: `r${i}`, weight: 1 }))],
      ] as const
    ).map(
      ([what, payload]): Case => [
        `PUT /weights ${what}`,
        { method: 'PUT', url: '/weights', payload: payload as object },
        400,
        'AGORA_HTTP_INVALID_REQUEST',
      ],
    ),
    ...(
      [
        ['role with a space', [{ role: 'a b', weight: 1 }]],
        ['role ..', [{ role: 'a/../b', weight: 1 }]],
        ['role with a newline', [{ role: 'a\nb', weight: 1 }]],
        [
          'a valid entry then a bad one',
          [
            { role: 'ok', weight: 3 },
            { role: '/lead', weight: 1 },
          ],
        ],
      ] as const
    ).map(
      ([what, payload]): Case => [
        `PUT /weights ${what}`,
        { method: 'PUT', url: '/weights', payload: payload as object },
        400,
        'AGORA_MASTER_INVALID_ROLE_REQUEST',
      ],
    ),
    ...(
      [
        ['no role', { guarantees: { cpus: 1 } }],
        ['cpus as text', { role: 'x', limits: { cpus: 'two' } }],
        ['a ranges resource', { role: 'x', guarantee: [{ name: 'ports', type: 'RANGES', ranges: { range: [] } }] }],
        ['an unknown field', { role: 'x', guarantees: { cpus: 1 }, extra: 1 }],
        [
          '33 resource names',
          { role: 'x', guarantees: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`r${i}`, 1])) },
        ],
        ['a 5000-character text form', { role: 'x', limits: `cpus:1;${'m'.repeat(5000)}:1` }],
      ] as const
    ).map(
      ([what, payload]): Case => [
        `POST /quota ${what}`,
        { method: 'POST', url: '/quota', payload: payload as object },
        400,
        'AGORA_HTTP_INVALID_REQUEST',
      ],
    ),
    ...(
      [
        ['guarantee above limit', { role: 'x', guarantees: { cpus: 3 }, limits: { cpus: 2 } }],
        ['the default role', { role: '*', limits: { cpus: 1 } }],
        ['neither guarantee nor limit', { role: 'x' }],
        ['a text form with ranges', { role: 'x', limits: 'ports:[1-2]' }],
        [
          'a reserved resource',
          { role: 'x', guarantee: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 1 }, role: 'y' }] },
        ],
        ['an unparsable text form', { role: 'x', limits: 'cpus' }],
        ['a bad resource name', { role: 'x', guarantees: { 'c p u': 1 } }],
      ] as const
    ).map(
      ([what, payload]): Case => [
        `POST /quota ${what}`,
        { method: 'POST', url: '/quota', payload: payload as object },
        400,
        'AGORA_MASTER_INVALID_ROLE_REQUEST',
      ],
    ),
    [
      'POST /api/v1 unsupported type',
      { method: 'POST', url: '/api/v1', payload: { type: 'TEARDOWN' } },
      400,
      'AGORA_MASTER_INVALID_OPERATOR_CALL',
    ],
    [
      'POST /api/v1 MARK_AGENT_GONE without an id',
      { method: 'POST', url: '/api/v1', payload: { type: 'MARK_AGENT_GONE' } },
      400,
      'AGORA_MASTER_INVALID_OPERATOR_CALL',
    ],
    [
      'POST /api/v1 empty id',
      {
        method: 'POST',
        url: '/api/v1',
        payload: { type: 'MARK_AGENT_GONE', mark_agent_gone: { agent_id: { value: '' } } },
      },
      400,
      'AGORA_HTTP_INVALID_REQUEST',
    ],
    ['POST /api/v1 no type', { method: 'POST', url: '/api/v1', payload: {} }, 400, 'AGORA_HTTP_INVALID_REQUEST'],
    // bodies the parser refuses, on every route that takes one
    ...bodyRoutes.flatMap(([method, url]): Case[] => [
      [
        `${method} ${url} 5000-deep array`,
        { method, url, payload: deep, headers: json },
        400,
        'AGORA_HTTP_JSON_TOO_DEEP',
      ],
      [
        `${method} ${url} 40-deep object`,
        { method, url, payload: deepObject, headers: json },
        400,
        'AGORA_HTTP_JSON_TOO_DEEP',
      ],
      [
        `${method} ${url} 20,000 values`,
        { method, url, payload: `[${'1,'.repeat(20_000)}1]`, headers: json },
        400,
        'AGORA_HTTP_JSON_TOO_MANY_VALUES',
      ],
      [`${method} ${url} over 1 MiB`, { method, url, payload: big, headers: json }, 413, 'AGORA_HTTP_BODY_TOO_LARGE'],
      [
        `${method} ${url} truncated JSON`,
        { method, url, payload: '[{"role": "x"', headers: json },
        400,
        'AGORA_HTTP_MALFORMED_JSON',
      ],
      [
        `${method} ${url} empty JSON body`,
        { method, url, payload: '', headers: json },
        400,
        'AGORA_HTTP_MALFORMED_JSON',
      ],
      [
        `${method} ${url} invalid UTF-8`,
        { method, url, payload: Buffer.from([0x5b, 0xff, 0xfe, 0x5d]), headers: json },
        400,
        'AGORA_HTTP_MALFORMED_JSON',
      ],
      [
        `${method} ${url} __proto__`,
        { method, url, payload: '{"__proto__": {"polluted": 1}}', headers: json },
        400,
        'AGORA_HTTP_MALFORMED_JSON',
      ],
      [
        `${method} ${url} text/plain`,
        { method, url, payload: '[]', headers: { 'content-type': 'text/plain' } },
        415,
        'AGORA_HTTP_UNSUPPORTED_MEDIA_TYPE',
      ],
      [
        `${method} ${url} form-encoded`,
        { method, url, payload: 'a=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } },
        415,
        'AGORA_HTTP_UNSUPPORTED_MEDIA_TYPE',
      ],
      [
        `${method} ${url} JSON null`,
        { method, url, payload: 'null', headers: json },
        400,
        'AGORA_HTTP_INVALID_REQUEST',
      ],
    ]),
  ];

  for (const [name, req, status, code] of hostile) {
    it(`answers ${name} with ${status} ${code} and changes nothing`, async () => {
      await h.app.inject({ method: 'PUT', url: '/weights', payload: [{ role: 'kept', weight: 3 }] });
      await h.app.inject({ method: 'POST', url: '/quota', payload: { role: 'kept', guarantees: { cpus: 1 } } });
      const before = h.rolesSnapshot();
      const r = await h.app.inject(req);
      expect(r.statusCode, r.body).to.equal(status);
      const body = r.json();
      expect(body.code, r.body).to.equal(code);
      expect(body.message).to.be.a('string').and.not.equal('');
      if (status === 405) expect(r.headers.allow).to.be.a('string').and.not.equal('');
      expect(h.rolesSnapshot()).to.equal(before);
      expect(({} as Record<string, unknown>).polluted).to.equal(undefined);
    });
  }

  it('names the allowed methods in Allow on 405', async () => {
    const r = await h.app.inject({ method: 'DELETE', url: '/weights' });
    expect(r.headers.allow).to.equal('GET, HEAD, PUT');
    const q = await h.app.inject({ method: 'GET', url: '/quota/web' });
    expect(q.headers.allow).to.equal('DELETE');
  });

  it('says where a schema failure is', async () => {
    const r = await h.app.inject({
      method: 'PUT',
      url: '/weights',
      payload: [
        { role: 'a', weight: 1 },
        { role: 'b', weight: -1 },
      ],
    });
    expect(r.json()).to.include({ code: 'AGORA_HTTP_INVALID_REQUEST', path: '/1/weight' });
    expect(r.json().message).to.match(/^body\/1\/weight /);
  });
});

describe('master HTTP when not leading', () => {
  it('answers /health itself and 503 with a code elsewhere while no leader is known', async () => {
    const h = await masterHttp({ leading: false, leader: () => undefined });
    expect((await h.app.inject({ url: '/health' })).json()).to.deep.equal({ healthy: true, leading: false });
    for (const url of ['/master/state', '/roles', '/master/redirect', '/nope']) {
      const r = await h.app.inject({ url });
      expect([r.statusCode, r.json().code], url).to.deep.equal([503, 'AGORA_MASTER_NO_LEADER']);
    }
    await h.app.close();
  });

  it('sends callers to the leader with 307', async () => {
    const leader = {
      id: 'other',
      pid: 'master@10.0.0.9:5050',
      hostname: 'other',
      port: 5050,
      address: { hostname: 'other', ip: '10.0.0.9', port: 5050 },
      version: '0.1.0',
    };
    const h = await masterHttp({ leading: false, leader: () => leader });
    const r = await h.app.inject({ url: '/master/state?x=1' });
    expect(r.statusCode).to.equal(307);
    expect(r.headers.location).to.equal('http://10.0.0.9:5050/master/state?x=1');
    const w = await h.app.inject({ method: 'PUT', url: '/weights', payload: [{ role: 'x', weight: 2 }] });
    expect(w.statusCode).to.equal(307);
    expect(h.master.roles.size).to.equal(0);
    await h.app.close();
  });

  it('answers 503 with a code while the master is being built', async () => {
    const h = await masterHttp({ built: false, leader: () => undefined });
    const r = await h.app.inject({ url: '/health' });
    expect(r.json()).to.deep.equal({ healthy: true, leading: false });
    const s = await h.app.inject({ url: '/roles' });
    expect([s.statusCode, s.json().code]).to.deep.equal([503, 'AGORA_MASTER_NO_LEADER']);
    await h.app.close();
    h.master.stop();
  });
});
