/**
 * The operator's admin calls over real HTTP on the master harness (real master logic, fake
 * agents and schedulers): v1 TEARDOWN and the classic POST /master/teardown under the
 * teardown_frameworks ACL, the maintenance answers, GET_LOGGING_LEVEL, LIST_FILES / READ_FILE.
 */
import { expect } from 'chai';
import { pino } from 'pino';
import { buildMasterHttp } from '../../../master/http/index.js';
import { type FakeAgent, type FakeScheduler, MasterHarness } from '../../../master/testing/index.js';
import { parseAcls } from '../../../sdk/auth/acls.js';
import { basicAuthorization } from '../../../sdk/auth/authenticate.js';
import { SecurityAuthorizer } from '../../../sdk/auth/authorizer.js';
import { parseCredentials } from '../../../sdk/auth/credentials.js';
import type { AgoraHttp } from '../../../sdk/http/index.js';

const CREDENTIALS = JSON.stringify({
  credentials: [
    { principal: 'ops', secret: 'ops-secret' },
    { principal: 'dev', secret: 'dev-secret' },
  ],
});
const ACLS = JSON.stringify({
  teardown_frameworks: [
    { principals: { values: ['ops'] }, framework_principals: { type: 'ANY' } },
    { principals: { values: ['dev'] }, framework_principals: { values: ['batch'] } },
    { principals: { type: 'ANY' }, framework_principals: { type: 'NONE' } },
  ],
});
const as = (p: 'ops' | 'dev') => ({ authorization: basicAuthorization(p, `${p}-secret`) });

interface Rig {
  h: MasterHarness;
  app: AgoraHttp;
  base: string;
  agent: FakeAgent;
  web: FakeScheduler;
  batch: FakeScheduler;
}

async function rig(level = 'info'): Promise<Rig> {
  const h = await MasterHarness.start();
  const agent = await h.addAgent({ resources: 'cpus:8;mem:4096' });
  const web = await h.subscribe({ name: 'web', principal: 'web' });
  const batch = await h.subscribe({ name: 'batch', principal: 'batch' });
  await h.advance(1000);
  const [offer] = web.offers();
  web.launch(offer, [{ task_id: 'web-1', resources: 'cpus:1;mem:32' }]);
  await h.settle();
  agent.update(web.frameworkId as string, { task_id: 'web-1', state: 'TASK_RUNNING' });
  await h.settle();
  const authorizer = new SecurityAuthorizer({
    credentials: parseCredentials(CREDENTIALS),
    acls: parseAcls(ACLS),
    authenticateHttpReadwrite: true,
    clock: h.clock,
  });
  const app = buildMasterHttp({
    logger: pino({ level }, { write: () => undefined }),
    authorizer,
    current: () => h.master,
    leader: () => h.master.info,
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return { h, app, base: `http://127.0.0.1:${port}`, agent, web, batch };
}

async function close(r: Rig) {
  r.h.master.stop();
  r.app.server.closeAllConnections();
  await r.app.close();
}

// biome-ignore lint/suspicious/noExplicitAny: answers are loosely typed JSON
async function v1(r: Rig, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: any }> {
  const res = await fetch(`${r.base}/api/v1`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

const teardown = (id: string) => ({ type: 'TEARDOWN', teardown: { framework_id: { value: id } } });

describe('operator admin calls over HTTP (MasterHarness)', () => {
  let r: Rig;
  afterEach(async () => {
    if (r) await close(r);
  });

  it('TEARDOWN: 401 without credentials, 403 when teardown_frameworks refuses, 200 tears it down (tasks killed, agent told)', async () => {
    r = await rig();
    const webId = r.web.frameworkId as string;
    expect((await v1(r, teardown(webId))).status).to.equal(401);
    const refused = await v1(r, teardown(webId), as('dev'));
    expect(refused.status).to.equal(403);
    expect(refused.json.code).to.equal('AGORA_HTTP_FORBIDDEN');
    expect(r.h.master.frameworks.has(webId)).to.equal(true);
    expect(r.agent.peer.last('SHUTDOWN_FRAMEWORK')).to.equal(undefined);

    const ok = await v1(r, teardown(webId), as('ops'));
    expect(ok.status).to.equal(200);
    const state = await (await fetch(`${r.base}/master/state`)).json();
    expect(state.frameworks.map((f: { id: string }) => f.id)).to.not.include(webId);
    const done = state.completed_frameworks.find((f: { id: string }) => f.id === webId);
    expect(done.completed_tasks.map((t: { id: string; state: string }) => [t.id, t.state])).to.deep.equal([
      ['web-1', 'TASK_KILLED'],
    ]);
    expect(r.agent.peer.last('SHUTDOWN_FRAMEWORK')?.framework_id).to.equal(webId);
    // The other framework is untouched.
    expect(state.frameworks.map((f: { id: string }) => f.id)).to.include(r.batch.frameworkId);
  });

  it('TEARDOWN of an unknown framework: 400 with a stable code; a body without teardown: 400', async () => {
    r = await rig();
    const unknown = await v1(r, teardown('no-such-framework'), as('ops'));
    expect(unknown.status).to.equal(400);
    expect(unknown.json.code).to.equal('AGORA_MASTER_INVALID_OPERATOR_CALL');
    expect(unknown.json.message).to.match(/no framework found/);
    expect((await v1(r, { type: 'TEARDOWN' }, as('ops'))).status).to.equal(400);
    expect(r.h.master.frameworks.size).to.equal(2);
  });

  it('classic POST /master/teardown (form frameworkId=...): behind authentication and the same ACL', async () => {
    r = await rig();
    const webId = r.web.frameworkId as string;
    const batchId = r.batch.frameworkId as string;
    const form = (id: string, headers: Record<string, string> = {}) =>
      fetch(`${r.base}/master/teardown`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body: `frameworkId=${encodeURIComponent(id)}`,
      });
    expect((await form(batchId)).status).to.equal(401);
    expect((await form(webId, as('dev'))).status).to.equal(403);
    expect(r.h.master.frameworks.has(webId)).to.equal(true);
    expect((await form(batchId, as('dev'))).status).to.equal(200);
    expect(r.h.master.frameworks.has(batchId)).to.equal(false);
    expect(r.h.master.completedFrameworks.map((f) => f.id)).to.include(batchId);
    expect((await form('nope', as('ops'))).status).to.equal(400);
    const noField = await fetch(`${r.base}/master/teardown`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...as('ops') },
      body: 'other=1',
    });
    expect(noField.status).to.equal(400);
  });

  it('GET_MAINTENANCE_SCHEDULE / GET_MAINTENANCE_STATUS: empty and well shaped', async () => {
    r = await rig();
    const s = await v1(r, { type: 'GET_MAINTENANCE_SCHEDULE' }, as('ops'));
    expect(s.status).to.equal(200);
    expect(s.json).to.deep.equal({
      type: 'GET_MAINTENANCE_SCHEDULE',
      get_maintenance_schedule: { schedule: { windows: [] } },
    });
    const st = await v1(r, { type: 'GET_MAINTENANCE_STATUS' }, as('ops'));
    expect(st.json).to.deep.equal({
      type: 'GET_MAINTENANCE_STATUS',
      get_maintenance_status: { status: { draining_machines: [], down_machines: [] } },
    });
  });

  it('GET_LOGGING_LEVEL answers the level the master logs at', async () => {
    r = await rig('debug');
    const debug = await v1(r, { type: 'GET_LOGGING_LEVEL' }, as('ops'));
    expect(debug.json).to.deep.equal({ type: 'GET_LOGGING_LEVEL', get_logging_level: { level: 1 } });
    await close(r);
    r = await rig('info');
    expect((await v1(r, { type: 'GET_LOGGING_LEVEL' }, as('ops'))).json.get_logging_level.level).to.equal(0);
  });

  it('LIST_FILES / READ_FILE on the master: 404 AGORA_MASTER_NO_SUCH_FILE (it serves no log files)', async () => {
    r = await rig();
    const list = await v1(r, { type: 'LIST_FILES', list_files: { path: '/master/log' } }, as('ops'));
    expect(list.status).to.equal(404);
    expect(list.json.code).to.equal('AGORA_MASTER_NO_SUCH_FILE');
    const read = await v1(
      r,
      { type: 'READ_FILE', read_file: { path: '/master/log', offset: 0, length: 10 } },
      as('ops'),
    );
    expect(read.status).to.equal(404);
    expect(read.json.code).to.equal('AGORA_MASTER_NO_SUCH_FILE');
    expect((await v1(r, { type: 'READ_FILE', read_file: { path: '/x', offset: -1 } }, as('ops'))).status).to.equal(400);
  });
});
