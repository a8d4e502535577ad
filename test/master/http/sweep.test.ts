/**
 * Every declared route of the master and the agent, swept with the same hostile requests: a
 * method it does not take, a path with broken percent-encoding, a 5,000-deep JSON body, a body over
 * the limit, a body of the wrong media type. Each answer is either the route's own success or an
 * error `{code: AGORA_*, message}`, never a 5xx, and the master's roles never change.
 */
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import type { HTTPMethods, InjectOptions } from 'fastify';
import { pino } from 'pino';
import { buildAgentHttp } from '../../../agent/http/index.js';
import { SecretStore } from '../../../master/secrets/index.js';
import { MemoryStore } from '../../../master/testing/memory-store.js';
import type { AgoraHttp } from '../../../sdk/http/index.js';
import { agentView, sandbox } from '../../agent/http/support.js';
import { masterHttp } from './support.js';

const METHODS: HTTPMethods[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/** The declared routes, as concrete paths (`*` filled in), grouped by path. */
function collect(app: AgoraHttp): Map<string, Set<string>> {
  const byPath = new Map<string, Set<string>>();
  app.addHook('onRoute', (r) => {
    const path = r.url.replace('*', 'no-quota-here');
    const set = byPath.get(path) ?? new Set<string>();
    for (const m of [r.method].flat()) set.add(m);
    byPath.set(path, set);
  });
  return byPath;
}

function hostile(path: string, methods: Set<string>): [string, InjectOptions][] {
  const own = [...methods].find((m) => m !== 'HEAD') as HTTPMethods;
  const other = METHODS.find((m) => !methods.has(m)) as HTTPMethods;
  const json = { 'content-type': 'application/json' };
  return [
    [`${other} ${path}`, { method: other, url: path }],
    [`${own} ${path}% (bad encoding)`, { method: own, url: `${path}%` }],
    [`${own} ${path}/%ZZ (bad encoding)`, { method: own, url: `${path}/%ZZ` }],
    [
      `${own} ${path} deep JSON`,
      { method: own, url: path, payload: '['.repeat(5000) + ']'.repeat(5000), headers: json },
    ],
    [
      `${own} ${path} 2 MiB body`,
      { method: own, url: path, payload: `"${'x'.repeat(2 * 1024 * 1024)}"`, headers: json },
    ],
    [
      `${own} ${path} XML body`,
      { method: own, url: path, payload: '<a/>', headers: { 'content-type': 'application/xml' } },
    ],
    [`${own} ${path}?path=%00&offset=-9`, { method: own, url: `${path}?path=%00&offset=-9&length=x` }],
  ];
}

function expectCoded(
  name: string,
  r: { statusCode: number; body: string; headers: Record<string, unknown> },
  method: string,
) {
  expect(r.statusCode, `${name}: ${r.body}`).to.be.below(500);
  if (r.statusCode < 400 || method === 'HEAD') return;
  const body = JSON.parse(r.body) as { code?: string; message?: string };
  expect(body.code, name).to.match(/^AGORA_[A-Z_]+$/);
  expect(body.message, name).to.be.a('string').and.not.equal('');
  if (r.statusCode === 405) expect(r.headers.allow, name).to.be.a('string');
}

describe('every route, swept with hostile requests', () => {
  it('master: coded answers, no 5xx, roles unchanged', async () => {
    let routes = new Map<string, Set<string>>();
    // Secrets on, so that their routes meet the hostile requests too (off, they answer 503 to all).
    const secrets = new SecretStore(new MemoryStore(), randomBytes(32));
    const h = await masterHttp({
      beforeReady: (app) => {
        routes = collect(app);
      },
      secrets: { enabled: true, store: () => secrets },
    });
    await h.app.inject({ method: 'PUT', url: '/weights', payload: [{ role: 'kept', weight: 3 }] });
    await h.app.inject({ method: 'POST', url: '/quota', payload: { role: 'kept', guarantees: { cpus: 1 } } });
    const before = h.rolesSnapshot();
    expect(routes.size).to.be.above(10);
    let sent = 0;
    for (const [path, methods] of routes) {
      for (const [name, req] of hostile(path, methods)) {
        const r = await h.app.inject(req);
        expectCoded(name, r, req.method as string);
        expect(h.rolesSnapshot(), name).to.equal(before);
        sent++;
      }
    }
    expect(sent).to.equal(routes.size * 7);
    await h.app.close();
    h.master.stop();
  });

  it('agent: coded answers, no 5xx', async () => {
    const agent = agentView();
    sandbox(agent.workDir);
    const app = buildAgentHttp(agent, { logger: pino({ level: 'silent' }) });
    const routes = collect(app);
    await app.ready();
    expect(routes.size).to.be.above(4);
    for (const [path, methods] of routes) {
      for (const [name, req] of hostile(path, methods)) expectCoded(name, await app.inject(req), req.method as string);
    }
    await app.close();
  });
});
