/**
 * The agent's state and sandboxes show each caller only what the ACLs let it see:
 * view_frameworks and view_tasks filter `/state` by the OS user of the framework and task;
 * access_sandboxes guards `/files/*` by the user of the task owning the sandbox path.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { pino } from 'pino';
import { buildAgentHttp } from '../../../agent/http/index.js';
import { basicAuthorization, parseAcls, parseCredentials, SecurityAuthorizer } from '../../../sdk/auth/index.js';
import type { AgoraHttp } from '../../../sdk/http/index.js';
import { VirtualClock } from '../../../sdk/util/clock.js';
import { agentView } from './support.js';

const q = encodeURIComponent;
const who = (p: string) => ({ authorization: basicAuthorization(p, `${p}-pw`) });
const rules = (obj: string, carol: object) => [
  { principals: { values: ['ops'] }, [obj]: { type: 'ANY' } },
  { principals: { values: ['alice'] }, [obj]: { values: ['alice'] } },
  { principals: { values: ['carol'] }, [obj]: carol },
];

describe('agent HTTP: view and sandbox ACLs', () => {
  let app: AgoraHttp;
  let workDir: string;
  beforeEach(async () => {
    const agent = agentView();
    workDir = agent.workDir;
    const task = (fw: string, id: string, user: string) => {
      const sandbox = join(workDir, 'sandboxes', fw, id);
      mkdirSync(sandbox, { recursive: true });
      writeFileSync(join(sandbox, 'stdout'), `output of ${id}`);
      agent.tasks.set(`${fw}/${id}`, {
        framework: { id: fw, name: fw, user },
        task: { task_id: id, name: id, agent_id: 'A1', resources: [] },
        state: 'TASK_RUNNING',
        sandbox,
        pending: [],
      } as never);
    };
    task('F1', 't1', 'alice');
    task('F2', 't2', 'bob');
    // carol's framework view is wide, her task view narrow; t3 runs as carol under bob's framework.
    task('F2', 't3', 'bob');
    (agent.tasks.get('F2/t3') as unknown as { task: { command: { user: string } } }).task.command = { user: 'carol' };
    const authorizer = new SecurityAuthorizer({
      credentials: parseCredentials('ops ops-pw\nalice alice-pw\nbob bob-pw\ncarol carol-pw'),
      acls: parseAcls(
        JSON.stringify({
          permissive: false,
          view_frameworks: rules('users', { type: 'ANY' }),
          view_tasks: rules('users', { values: ['carol'] }),
          access_sandboxes: rules('users', { type: 'NONE' }),
        }),
      ),
      authenticateHttpReadonly: true,
      authenticateHttpReadwrite: true,
      clock: new VirtualClock(0),
    });
    app = buildAgentHttp(agent, { logger: pino({ level: 'silent' }), authorizer });
    await app.ready();
  });
  afterEach(() => app.close());

  const frameworksSeenBy = async (p: string) =>
    (await app.inject({ url: '/state', headers: who(p) })).json().frameworks.map((f: { id: string }) => f.id);

  it('/state lists the frameworks and tasks each caller may view', async () => {
    expect(await frameworksSeenBy('ops')).to.deep.equal(['F1', 'F2']);
    expect(await frameworksSeenBy('alice')).to.deep.equal(['F1']);
    expect(await frameworksSeenBy('bob')).to.deep.equal([]);
    expect((await app.inject({ url: '/state' })).statusCode).to.equal(401);
  });

  it('/state: a framework the caller may view, with only the tasks it may view', async () => {
    const tasksOf = async (p: string) =>
      (await app.inject({ url: '/state', headers: who(p) }))
        .json()
        .frameworks.flatMap((f: { executors: { tasks: { id: string }[] }[] }) =>
          f.executors.flatMap((e) => e.tasks.map((t) => t.id)),
        );
    expect(await tasksOf('carol')).to.deep.equal(['t3']);
    expect(await frameworksSeenBy('carol')).to.deep.equal(['F1', 'F2']);
  });

  it("/files/read: a sandbox of the caller's user only (403 otherwise, nothing read)", async () => {
    const read = (p: string, path: string) =>
      app.inject({ url: `/files/read?path=${q(path)}&offset=0`, headers: who(p) });
    expect((await read('alice', 'F1/t1/stdout')).json().data).to.equal('output of t1');
    const denied = await read('alice', 'F2/t2/stdout');
    expect(denied.statusCode).to.equal(403);
    expect(denied.body).not.to.contain('output of t2');
    expect((await read('ops', 'F2/t2/stdout')).json().data).to.equal('output of t2');
    expect((await read('bob', 'F2/t2/stdout')).statusCode).to.equal(403);
  });

  it("/files/browse: the root lists only what the caller may open; another user's sandbox is 403", async () => {
    const browse = (p: string, path: string) => app.inject({ url: `/files/browse?path=${q(path)}`, headers: who(p) });
    const names = async (p: string, path: string) =>
      (await browse(p, path)).json().map((e: { path: string }) => e.path.split('/').pop());
    expect(await names('ops', '.')).to.deep.equal(['F1', 'F2']);
    expect(await names('alice', '.')).to.deep.equal(['F1']);
    expect(await names('alice', 'F1/t1')).to.deep.equal(['stdout']);
    expect((await browse('alice', 'F2/t2')).statusCode).to.equal(403);
    expect((await browse('alice', 'F2')).statusCode).to.equal(403);
  });
});
