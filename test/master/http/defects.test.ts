/**
 * Defect 10 (and defect 1 at the HTTP edge) through a real listening master: hostile requests
 * that used to answer 500, or answered without a code, or were persisted. The evidence for
 * "nothing persisted" is a second master started on the same work dir.
 */
import { request } from 'node:http';
import { expect } from 'chai';
import { pino } from 'pino';
import { type RunningMaster, startMaster } from '../../../master/server.js';
import { tempDir } from '../../support/cluster.js';

const logger = pino({ level: 'silent' });

async function call(
  base: string,
  method: string,
  path: string,
  body?: string,
): Promise<{ status: number; json: { code?: string; message?: string } & Record<string, unknown> }> {
  const r = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body,
  });
  const text = await r.text();
  return { status: r.status, json: text ? JSON.parse(text) : {} };
}

const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);

describe('master HTTP defects (hostile input through a real master)', () => {
  let workDir: string;
  let m: RunningMaster | undefined;
  let base: string;

  const start = async () => {
    m = await startMaster({ port: 0, host: '127.0.0.1', workDir, logger });
    base = `http://127.0.0.1:${m.port}`;
  };
  beforeEach(async () => {
    workDir = tempDir('agora-http-defects-');
    await start();
  });
  afterEach(async () => {
    await m?.close();
    m = undefined;
  });

  for (const [method, path] of [
    ['PUT', '/weights'],
    ['POST', '/api/v1'],
    ['POST', '/quota'],
  ]) {
    it(`answers 20,000-deep JSON to ${method} ${path} with 400 and a code, not a stack overflow`, async () => {
      const r = await call(base, method, path, deep(20_000));
      expect(r.status).to.equal(400);
      expect(r.json.code).to.equal('AGORA_HTTP_JSON_TOO_DEEP');
      expect(r.json.message).to.not.match(/call stack/i);
    });
  }

  it('answers DELETE /quota/%25 with a code, not 500 "URI malformed" (decoded once)', async () => {
    const r = await call(base, 'DELETE', '/quota/%25');
    expect(r.status).to.be.oneOf([400, 404]);
    expect(r.json.code).to.match(/^AGORA_/);
    expect(r.json.message).to.not.match(/URI malformed/);
    const bad = await call(base, 'DELETE', '/quota/%');
    expect(bad.status).to.equal(400);
    expect(bad.json.code).to.equal('AGORA_HTTP_BAD_URL');
  });

  it('removes the quota of a role whose name needs percent-encoding', async () => {
    const set = await call(base, 'POST', '/quota', JSON.stringify({ role: 'a%b', guarantees: { cpus: 1 } }));
    expect(set.status).to.equal(200);
    const del = await call(base, 'DELETE', `/quota/${encodeURIComponent('a%b')}`);
    expect(del.status).to.equal(200);
    expect((await call(base, 'GET', '/quota')).json.infos).to.deep.equal([]);
  });

  for (const [what, body] of [
    ['1e308 in the QuotaConfig form', { role: 'big', guarantees: { cpus: 1e308 } }],
    ['1e308 as a Resource', { role: 'big', guarantee: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 1e308 } }] }],
    [
      'two entries that sum past the bound',
      {
        role: 'big',
        guarantee: [
          { name: 'cpus', type: 'SCALAR', scalar: { value: 9e14 } },
          { name: 'cpus', type: 'SCALAR', scalar: { value: 9e14 } },
        ],
      },
    ],
    ['a 301-digit text form', { role: 'big', guarantees: `cpus:1${'0'.repeat(300)}` }],
    ['a negative guarantee', { role: 'big', guarantees: { cpus: -1 } }],
    ['"NaN" as a string', { role: 'big', guarantees: { cpus: 'NaN' } }],
    ['"Infinity" as a string', { role: 'big', limits: { mem: 'Infinity' } }],
  ] as const) {
    it(`refuses a quota of ${what} with 400 and a code, and persists nothing`, async () => {
      const r = await call(base, 'POST', '/quota', JSON.stringify(body));
      expect(r.status).to.equal(400);
      expect(r.json.code).to.match(/^AGORA_(HTTP_INVALID_REQUEST|MASTER_INVALID_ROLE_REQUEST)$/);
      await m?.close();
      await start(); // a new master reading the same registrar
      expect((await call(base, 'GET', '/quota')).json.infos).to.deep.equal([]);
      expect((await call(base, 'GET', '/roles')).json.roles).to.have.length(1); // only '*'
    });
  }

  it('keeps a valid quota across a restart (the refusals above are not a broken registrar)', async () => {
    const r = await call(base, 'POST', '/quota', JSON.stringify({ role: 'ok', guarantees: { cpus: 2 } }));
    expect(r.status).to.equal(200);
    await m?.close();
    await start();
    const infos = (await call(base, 'GET', '/quota')).json.infos as { role: string; guarantees: object }[];
    expect(infos.map((i) => [i.role, i.guarantees])).to.deep.equal([['ok', { cpus: 2 }]]);
  });

  it('answers every kind of 404 with a code', async () => {
    for (const [method, path] of [
      ['GET', '/nope'],
      ['GET', '/master/state/extra'],
      ['POST', '/api/v2'],
      ['GET', '/files/read'],
      ['GET', '/%E2%82%AC'],
    ]) {
      const r = await call(base, method, path);
      expect(r.status, `${method} ${path}`).to.equal(404);
      expect(r.json.code, `${method} ${path}`).to.equal('AGORA_HTTP_NOT_FOUND');
    }
  });

  it('answers headers over the limit with 431 and a code', async () => {
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port: m?.port, path: '/health', headers: { 'x-big': 'x'.repeat(64 * 1024) } },
        (res) => {
          let body = '';
          res.on('data', (c) => {
            body += c;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(answer.status).to.equal(431);
    expect(JSON.parse(answer.body).code).to.equal('AGORA_HTTP_HEADER_TOO_LARGE');
  });
});
