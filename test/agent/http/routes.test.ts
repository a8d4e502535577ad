/**
 * Every agent route through `inject` over a temp work dir: what each answers, and hostile
 * requests (wrong method, bad queries, traversal, bad encodings, bodies) answered with their
 * status and `{code, message}`.
 */
import { execFileSync } from 'node:child_process';
import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import type { InjectOptions } from 'fastify';
import { pino } from 'pino';
import { buildAgentHttp, MAX_READ_LENGTH } from '../../../agent/http/index.js';
import type { AgoraHttp } from '../../../sdk/http/index.js';
import { agentView, sandbox } from './support.js';

const q = encodeURIComponent;

describe('agent HTTP routes (inject, temp work dir)', () => {
  let app: AgoraHttp;
  let workDir: string;
  let dir: string;
  beforeEach(async () => {
    const agent = agentView();
    workDir = agent.workDir;
    dir = sandbox(workDir);
    app = buildAgentHttp(agent, { logger: pino({ level: 'silent' }) });
    await app.ready();
  });
  afterEach(() => app.close());

  it('answers /health, /state and /monitor/statistics in their documented shapes', async () => {
    expect((await app.inject({ url: '/health' })).json()).to.deep.equal({ healthy: true, registered: false });
    for (const url of ['/state', '/slave(1)/state']) {
      const s = (await app.inject({ url })).json();
      expect(s).to.include({ id: 'A1', registered: false, pending_status_updates: 0, start_time: 1_700_000_000 });
      expect(s.resources).to.include({ cpus: 2, mem: 1024 });
      expect(s.attributes).to.deep.equal({ rack: 'r1' });
    }
    expect((await app.inject({ url: '/monitor/statistics' })).json()).to.deep.equal([]);
  });

  it('reads a slice of a sandbox file by absolute or relative path, and its size without an offset', async () => {
    const abs = await app.inject({ url: `/files/read?path=${q(`${dir}/stdout`)}&offset=2&length=3` });
    expect(abs.json()).to.deep.equal({ data: 'cde', offset: 2 });
    const rel = await app.inject({ url: `/files/read?path=${q('F1/t1/stdout')}&offset=0` });
    expect(rel.json()).to.deep.equal({ data: 'abcdef', offset: 0 });
    const size = await app.inject({ url: `/files/read?path=${q('F1/t1/stdout')}` });
    expect(size.json()).to.deep.equal({ data: '', offset: 6 });
    const past = await app.inject({ url: `/files/read?path=${q('F1/t1/stdout')}&offset=100` });
    expect(past.json()).to.deep.equal({ data: '', offset: 100 });
    const huge = await app.inject({
      url: `/files/read?path=${q('F1/t1/stdout')}&offset=0&length=${MAX_READ_LENGTH * 4}`,
    });
    expect(huge.json().data).to.equal('abcdef');
    symlinkSync('stdout', join(dir, 'link'));
    const link = await app.inject({ url: `/files/read?path=${q('F1/t1/link')}&offset=1&length=2` });
    expect(link.json()).to.deep.equal({ data: 'bc', offset: 1 });
  });

  it('browses a sandbox directory', async () => {
    const r = await app.inject({ url: `/files/browse?path=${q(dir)}` });
    expect(r.statusCode).to.equal(200);
    const [e] = r.json();
    expect(e).to.include({ path: join(dir, 'stdout'), size: 6, nlink: 1, mode: '-rw-r--r--' });
    expect(e.uid).to.be.a('string').and.not.equal('');
    expect(e.gid).to.be.a('string').and.not.equal('');
    // Mesos's web UI loads it as JSONP.
    const p = await app.inject({ url: `/files/browse?path=${q(dir)}&jsonp=angular.callbacks._0` });
    expect(p.headers['content-type']).to.match(/^application\/javascript/);
    expect(p.body.startsWith('angular.callbacks._0([{') && p.body.endsWith('}]);')).to.equal(true);
    const bad = await app.inject({ url: `/files/browse?path=${q(dir)}&jsonp=alert(1)//` });
    expect(bad.statusCode).to.equal(400);
    expect(bad.json().code).to.equal('AGORA_HTTP_BAD_JSONP_CALLBACK');
  });

  type Case = [string, InjectOptions, number, string];
  const cases: Case[] = [
    ['POST /state', { method: 'POST', url: '/state' }, 405, 'AGORA_HTTP_METHOD_NOT_ALLOWED'],
    ['DELETE /files/read', { method: 'DELETE', url: '/files/read?path=x' }, 405, 'AGORA_HTTP_METHOD_NOT_ALLOWED'],
    ['PUT /health with a body', { method: 'PUT', url: '/health', payload: {} }, 405, 'AGORA_HTTP_METHOD_NOT_ALLOWED'],
    [
      'POST /files/browse',
      { method: 'POST', url: '/files/browse', payload: { path: '.' } },
      405,
      'AGORA_HTTP_METHOD_NOT_ALLOWED',
    ],
    ['GET /files/read without path', { url: '/files/read' }, 400, 'AGORA_HTTP_INVALID_REQUEST'],
    ['GET /files/read empty path', { url: '/files/read?path=' }, 400, 'AGORA_HTTP_INVALID_REQUEST'],
    ['GET /files/read two paths', { url: '/files/read?path=a&path=b' }, 400, 'AGORA_HTTP_INVALID_REQUEST'],
    [
      'GET /files/read path of 5000',
      { url: `/files/read?path=${'a'.repeat(5000)}` },
      400,
      'AGORA_HTTP_INVALID_REQUEST',
    ],
    ['GET /files/read NUL in path', { url: '/files/read?path=F1%00x' }, 400, 'AGORA_HTTP_INVALID_REQUEST'],
    ['GET /files/read offset=x', { url: '/files/read?path=F1/t1/stdout&offset=x' }, 400, 'AGORA_HTTP_INVALID_REQUEST'],
    [
      'GET /files/read offset=-2',
      { url: '/files/read?path=F1/t1/stdout&offset=-2' },
      400,
      'AGORA_HTTP_INVALID_REQUEST',
    ],
    [
      'GET /files/read offset=1.5',
      { url: '/files/read?path=F1/t1/stdout&offset=1.5' },
      400,
      'AGORA_HTTP_INVALID_REQUEST',
    ],
    [
      'GET /files/read offset=1e400',
      { url: '/files/read?path=F1/t1/stdout&offset=1e400' },
      400,
      'AGORA_HTTP_INVALID_REQUEST',
    ],
    [
      'GET /files/read length=-1',
      { url: '/files/read?path=F1/t1/stdout&offset=0&length=-1' },
      400,
      'AGORA_HTTP_INVALID_REQUEST',
    ],
    ['GET /files/read a directory', { url: '/files/read?path=F1/t1&offset=0' }, 400, 'AGORA_AGENT_BAD_REQUEST'],
    ['GET /files/browse a file', { url: '/files/browse?path=F1/t1/stdout' }, 400, 'AGORA_AGENT_BAD_REQUEST'],
    ['GET /files/read through a file', { url: '/files/read?path=F1/t1/stdout/x' }, 404, 'AGORA_AGENT_FILE_NOT_FOUND'],
    ['GET /files/read missing', { url: '/files/read?path=F1/t1/nope' }, 404, 'AGORA_AGENT_FILE_NOT_FOUND'],
    ['GET /files/read bad percent-encoding', { url: '/files/read?path=%E0%A4%A' }, 404, 'AGORA_AGENT_FILE_NOT_FOUND'],
    [
      'GET /files/read ..%2F traversal',
      { url: `/files/read?path=${q('F1/../../x')}` },
      403,
      'AGORA_AGENT_FILE_FORBIDDEN',
    ],
    ['GET /files/read the work dir', { url: `/files/read?path=${q('..')}` }, 403, 'AGORA_AGENT_FILE_FORBIDDEN'],
    ['GET /files/browse /', { url: '/files/browse?path=/' }, 403, 'AGORA_AGENT_FILE_FORBIDDEN'],
    ['GET /files/browse /proc/self', { url: '/files/browse?path=/proc/self' }, 403, 'AGORA_AGENT_FILE_FORBIDDEN'],
    ['GET /files/%ZZ', { url: '/files/%ZZ' }, 400, 'AGORA_HTTP_BAD_URL'],
    ['GET /files/readx', { url: '/files/readx?path=a' }, 404, 'AGORA_HTTP_NOT_FOUND'],
  ];
  for (const [name, req, status, code] of cases) {
    it(`answers ${name} with ${status} ${code}`, async () => {
      const r = await app.inject(req);
      expect(r.statusCode, r.body).to.equal(status);
      expect(r.json().code, r.body).to.equal(code);
      expect(r.json().message).to.be.a('string').and.not.equal('');
      expect(r.body).to.not.include(workDir);
    });
  }

  it('refuses to read a FIFO in a sandbox instead of hanging on it', async () => {
    execFileSync('mkfifo', [join(dir, 'pipe')]);
    const r = await app.inject({ url: `/files/read?path=${q('F1/t1/pipe')}&offset=0` });
    expect([r.statusCode, r.json().code]).to.deep.equal([400, 'AGORA_AGENT_BAD_REQUEST']);
  });

  it('refuses a body over 64 KiB with 413 or 405 and a code, never parsing it', async () => {
    const r = await app.inject({
      method: 'POST',
      url: '/state',
      payload: JSON.stringify({ pad: 'p'.repeat(100 * 1024) }),
      headers: { 'content-type': 'application/json' },
    });
    expect(r.statusCode).to.be.oneOf([405, 413]);
    expect(r.json().code).to.match(/^AGORA_HTTP_/);
  });
});
