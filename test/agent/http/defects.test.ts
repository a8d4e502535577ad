/**
 * Defect 10 on the agent, through a real listening agent HTTP server over a temp work dir:
 * `/files/*` before the first task, a dangling link in a sandbox, and 403 vs 404 telling a
 * caller what exists on the host.
 */
import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import type { FastifyInstance } from 'fastify';
import { startAgentHttp } from '../../../agent/server.js';
import { agentView, sandbox } from './support.js';

async function get(
  base: string,
  path: string,
): Promise<{ status: number; text: string; json: Record<string, unknown> }> {
  const r = await fetch(`${base}${path}`);
  const text = await r.text();
  return { status: r.status, text, json: JSON.parse(text) };
}

const q = (p: string) => encodeURIComponent(p);

describe('agent HTTP defects (hostile input through a real agent server)', () => {
  let http: FastifyInstance | undefined;
  let base: string;
  let workDir: string;

  beforeEach(async () => {
    const agent = agentView();
    workDir = agent.workDir;
    http = await startAgentHttp(agent, 0, '127.0.0.1');
    const addr = http.server.address();
    base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  });
  afterEach(async () => {
    await http?.close();
  });

  it('answers /files/* before the first task with a code, without the work dir or a raw ENOENT', async () => {
    for (const [path, status, code] of [
      [`/files/read?path=${q('x/stdout')}&offset=0`, 404, 'AGORA_AGENT_FILE_NOT_FOUND'],
      [`/files/browse?path=${q('x')}`, 404, 'AGORA_AGENT_FILE_NOT_FOUND'],
      [`/files/browse?path=${q('.')}`, 404, 'AGORA_AGENT_FILE_NOT_FOUND'],
      [`/files/read?path=${q('/etc/passwd')}&offset=0`, 403, 'AGORA_AGENT_FILE_FORBIDDEN'],
      [`/files/browse?path=${q('/')}`, 403, 'AGORA_AGENT_FILE_FORBIDDEN'],
    ] as const) {
      const r = await get(base, path);
      expect(r.status, path).to.equal(status);
      expect(r.json.code, path).to.equal(code);
      expect(r.text, path).to.not.include(workDir);
      expect(r.text, path).to.not.match(/ENOENT/);
    }
  });

  it('lists a directory that holds a dangling link, with the link in it', async () => {
    const dir = sandbox(workDir);
    symlinkSync('/nonexistent/target', join(dir, 'dangling'));
    symlinkSync('stdout', join(dir, 'gone-later'));
    const r = await get(base, `/files/browse?path=${q(dir)}`);
    expect(r.status).to.equal(200);
    const names = (JSON.parse(r.text) as { path: string }[]).map((e) => e.path.slice(dir.length + 1)).sort();
    expect(names).to.deep.equal(['dangling', 'gone-later', 'stdout']);
  });

  it('answers the same for a path outside the sandboxes that exists and one that does not', async () => {
    sandbox(workDir);
    const answers = [];
    for (const path of [
      '/etc/passwd',
      '/etc/no-such-file-here',
      '/no/such/dir/x',
      '../../../../etc/passwd',
      '../../../../nope',
    ]) {
      const r = await get(base, `/files/read?path=${q(path)}&offset=0`);
      answers.push([r.status, r.json.code]);
    }
    expect(new Set(answers.map((a) => JSON.stringify(a)))).to.have.property('size', 1);
    expect(answers[0]).to.deep.equal([403, 'AGORA_AGENT_FILE_FORBIDDEN']);
  });

  it('answers the same for links out of a sandbox whether their target exists or not', async () => {
    const dir = sandbox(workDir);
    symlinkSync('/etc', join(dir, 'etc'));
    symlinkSync('/no-such-dir-anywhere', join(dir, 'nowhere'));
    const a = await get(base, `/files/read?path=${q(`${dir}/etc/passwd`)}&offset=0`);
    const b = await get(base, `/files/read?path=${q(`${dir}/etc/no-such-file`)}&offset=0`);
    const c = await get(base, `/files/read?path=${q(`${dir}/nowhere`)}&offset=0`);
    for (const r of [a, b, c]) expect([r.status, r.json.code]).to.deep.equal([403, 'AGORA_AGENT_FILE_FORBIDDEN']);
  });

  it('answers every kind of 404 with a code', async () => {
    for (const path of ['/nope', '/files', '/files/write', '/state/x', '/slave(2)/state', '/%E2%82%AC']) {
      const r = await get(base, path);
      expect(r.status, path).to.equal(404);
      expect(r.json.code, path).to.equal('AGORA_HTTP_NOT_FOUND');
    }
  });
});
