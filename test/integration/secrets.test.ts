/**
 * Secrets end to end, with real processes: a master with `--secrets_key_file` and ACLs, an agent,
 * and frameworks on the real driver. A task gets a secret as an env variable and as a file; it
 * writes the SHA-256 of each to its sandbox (proof from outside the system). Then the value is
 * searched for, and must be absent, in /master/state, /master/state.json, the agent's /state, both
 * processes' output (their logs, at trace level), every file under the agent's work dir except the
 * secret file itself (checkpoint journal included), and every file under the master's work dir
 * (the Store's raw bytes). A task naming a missing secret, and one of a principal the ACLs refuse,
 * fail with REASON_SECRET_GENERATOR_FAILED before anything starts. A master with a bad key file
 * does not start. @integration
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import type { TaskInfo } from '../../sdk/protocol/types.js';
import { ZkClient } from '../../sdk/zk/index.js';
import {
  type AgentProc,
  agora,
  dumpProcessLogs,
  getJson,
  type MasterProc,
  PROCESS_START_MS,
  startAgentProc,
  startMasterProc,
  stopAll,
  tempDir,
  waitFor,
} from '../support/cluster.js';
import { commandTask, TestFramework } from '../support/framework.js';
import { requireReal } from '../support/require-real.js';

const VALUE = `agora-planted-${randomBytes(16).toString('hex')}`;
const sha = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');
const ref = (name: string) => ({ type: 'REFERENCE' as const, reference: { name } });

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...filesUnder(p));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

/** The value in any form a leak would take: raw, base64, hex. */
function leaks(text: string | Buffer): boolean {
  const b = Buffer.isBuffer(text) ? text : Buffer.from(text);
  return [VALUE, Buffer.from(VALUE).toString('base64').slice(0, 24), Buffer.from(VALUE).toString('hex')].some((f) =>
    b.includes(Buffer.from(f)),
  );
}

function secretTask(base: TaskInfo, names: { env: string; file: string }): TaskInfo {
  return {
    ...base,
    command: {
      value:
        'printf %s "$DB_PASSWORD" | sha256sum | cut -d" " -f1 > env.sha; sha256sum < creds/db | cut -d" " -f1 > file.sha; stat -c %a creds/db > file.mode',
      environment: { variables: [{ name: 'DB_PASSWORD', type: 'SECRET', secret: ref(names.env) }] },
    },
    container: {
      type: 'MESOS',
      volumes: [{ container_path: 'creds/db', mode: 'RO', source: { type: 'SECRET', secret: ref(names.file) } }],
    },
  };
}

describe('secrets end to end @integration', function () {
  this.timeout(120_000);
  let master: MasterProc;
  let agent: AgentProc;
  let masterDir: string;
  const frameworks: TestFramework[] = [];

  before(async () => {
    const dir = tempDir('secrets-key');
    const keyFile = join(dir, 'key');
    writeFileSync(keyFile, randomBytes(32).toString('base64'));
    chmodSync(keyFile, 0o600);
    const acls = {
      access_secrets: [
        { principals: { values: ['alice'] }, secrets: { type: 'ANY' } },
        { principals: { type: 'ANY' }, secrets: { type: 'NONE' } },
      ],
    };
    masterDir = tempDir('secrets-master');
    master = await startMasterProc(['--secrets_key_file', keyFile, '--acls', JSON.stringify(acls)], {
      workDir: masterDir,
      env: { AGORA_LOG_LEVEL: 'trace' },
    });
    agent = await startAgentProc(master.address, [], tempDir('secrets-agent'), { env: { AGORA_LOG_LEVEL: 'trace' } });
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') dumpProcessLogs();
  });

  after(async () => {
    for (const f of frameworks) await f.stop().catch(() => undefined);
    await stopAll();
  });

  it('delivers the value as env and 0400 file, and nowhere else', async () => {
    const put = await fetch(`${master.url}/secrets/prod/db/password`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ value: VALUE }),
    });
    expect(put.status).to.equal(201);

    const alice = await new TestFramework(master.address, 'alice-fw', { principal: 'alice' }).start();
    frameworks.push(alice);
    const [offer] = await alice.takeOffers(1);
    const names = { env: '/prod/db/password', file: '/prod/db/password' };
    alice.driver.launch(offer, [secretTask(commandTask(offer, 'with-secret', 'true'), names)]);
    await alice.waitState('with-secret', 'TASK_FINISHED', 30_000);

    const sandbox = filesUnder(agent.workDir)
      .find((f) => f.endsWith('/env.sha'))
      ?.replace(/\/env\.sha$/, '');
    expect(sandbox, 'the task wrote its proof').to.be.a('string');
    const s = sandbox as string;
    expect(readFileSync(join(s, 'env.sha'), 'utf8').trim()).to.equal(sha(VALUE));
    expect(readFileSync(join(s, 'file.sha'), 'utf8').trim()).to.equal(sha(VALUE));
    expect(readFileSync(join(s, 'file.mode'), 'utf8').trim()).to.equal('400');
    expect(statSync(join(s, 'creds/db')).mode & 0o777).to.equal(0o400);

    // Absent everywhere it must not be.
    const masterState = await (await fetch(`${master.url}/master/state`)).text();
    const masterStateJson = await (await fetch(`${master.url}/master/state.json`)).text();
    const agentState = await (await fetch(`${agent.url}/state`)).text();
    expect(masterState).to.include('/prod/db/password'); // the reference is there ...
    expect(leaks(masterState), '/master/state').to.equal(false); // ... the value is not
    expect(leaks(masterStateJson), '/master/state.json').to.equal(false);
    expect(leaks(agentState), 'agent /state').to.equal(false);
    expect(leaks(master.proc.text()), 'master log').to.equal(false);
    expect(leaks(agent.proc.text()), 'agent log').to.equal(false);
    const secretFile = join(s, 'creds/db');
    const agentFiles = filesUnder(agent.workDir).filter((f) => f !== secretFile);
    expect(agentFiles.some((f) => f.includes('checkpoint') || f.includes('journal') || f.includes('meta'))).to.equal(
      true,
    );
    for (const f of agentFiles) expect(leaks(readFileSync(f)), f).to.equal(false);
    const storeFiles = filesUnder(masterDir);
    expect(storeFiles.some((f) => f.includes('secrets'))).to.equal(true);
    for (const f of storeFiles) expect(leaks(readFileSync(f)), f).to.equal(false);
  });

  it('a task running as another user (nobody) reads its secret file', async function () {
    requireReal(this, 'root', { ok: process.getuid?.() === 0, reason: 'switching users needs root' });
    // The frameworks before hold the agent's offers: they leave.
    for (const f of frameworks.splice(0)) await f.stop();
    const bob = await new TestFramework(master.address, 'nobody-fw', { principal: 'alice', user: 'nobody' }).start();
    frameworks.push(bob);
    const [offer] = await bob.takeOffers(1);
    const names = { env: '/prod/db/password', file: '/prod/db/password' };
    const t = secretTask(commandTask(offer, 'as-nobody', 'true'), names);
    t.command = { ...t.command, value: `id -u > uid; ${t.command?.value}` };
    bob.driver.launch(offer, [t]);
    await bob.waitState('as-nobody', 'TASK_FINISHED', 30_000);
    const sandbox = filesUnder(agent.workDir)
      .find((f) => f.includes('as-nobody') && f.endsWith('/file.sha'))
      ?.replace(/\/file\.sha$/, '');
    expect(sandbox).to.be.a('string');
    const s = sandbox as string;
    expect(readFileSync(join(s, 'uid'), 'utf8').trim()).to.equal('65534');
    expect(readFileSync(join(s, 'file.sha'), 'utf8').trim()).to.equal(sha(VALUE));
    expect(readFileSync(join(s, 'env.sha'), 'utf8').trim()).to.equal(sha(VALUE));
    expect(statSync(join(s, 'creds/db')).uid).to.equal(65534);
    await bob.stop();
    frameworks.splice(frameworks.indexOf(bob), 1);
  });

  it('fails a task whose secret is missing, and one the ACLs refuse, before starting it', async () => {
    const alice =
      frameworks[0] ?? (await new TestFramework(master.address, 'alice-fw', { principal: 'alice' }).start());
    const [o1] = await alice.takeOffers(1);
    const missing = { env: '/prod/nope', file: '/prod/db/password' };
    alice.driver.launch(o1, [secretTask(commandTask(o1, 'missing-secret', 'true'), missing)]);
    const failed = await alice.waitState('missing-secret', 'TASK_FAILED', 30_000);
    expect(failed.reason).to.equal('REASON_SECRET_GENERATOR_FAILED');
    expect(failed.message).to.include('AGORA_SECRETS_NOT_FOUND');
    expect(alice.statesOf('missing-secret')).not.to.include('TASK_RUNNING');
    // alice leaves, so that her offers go to eve.
    await alice.stop();
    frameworks.splice(frameworks.indexOf(alice), 1);

    const eve = await new TestFramework(master.address, 'eve-fw', { principal: 'eve' }).start();
    frameworks.push(eve);
    const [o2] = await eve.takeOffers(1);
    const names = { env: '/prod/db/password', file: '/prod/db/password' };
    eve.driver.launch(o2, [secretTask(commandTask(o2, 'eve-task', 'true'), names)]);
    const denied = await eve.waitState('eve-task', 'TASK_FAILED', 30_000);
    expect(denied.reason).to.equal('REASON_SECRET_GENERATOR_FAILED');
    expect(denied.message).to.include('AGORA_SECRETS_ACCESS_DENIED');
    expect(eve.statesOf('eve-task')).not.to.include('TASK_RUNNING');
    const sandboxes = filesUnder(agent.workDir).filter((f) => f.includes('eve-task') || f.includes('missing-secret'));
    expect(sandboxes.filter((f) => f.endsWith('env.sha') || f.endsWith('/db'))).to.deep.equal([]);
    expect(leaks(eve.updates.map((u) => JSON.stringify(u)).join('\n'))).to.equal(false);
  });

  it('a master with a world-readable or short key file does not start, and says how to fix it', async () => {
    const dir = tempDir('secrets-badkey');
    for (const [name, content, mode] of [
      ['world', randomBytes(32), 0o644],
      ['short', randomBytes(8), 0o600],
    ] as const) {
      const p = join(dir, name);
      writeFileSync(p, content);
      chmodSync(p, mode);
      const proc = agora(`bad-key-${name}`, [
        'master',
        '--port',
        '0',
        '--work_dir',
        tempDir('m'),
        '--secrets_key_file',
        p,
      ]);
      await waitFor(`master with ${name} key to exit`, () => proc.exited, PROCESS_START_MS);
      expect(proc.exited?.code).to.equal(64);
      expect(proc.text()).to.include('AGORA_SECRETS_BAD_KEY_FILE');
    }
  });

  it('without --secrets_key_file the API answers 503 with how to enable it', async () => {
    const plain = await startMasterProc([]);
    const r = await fetch(`${plain.url}/secrets`);
    expect(r.status).to.equal(503);
    const body = await r.json();
    expect(body.code).to.equal('AGORA_SECRETS_DISABLED');
    expect(body.message).to.include('--secrets_key_file');
    expect(await getJson(`${plain.url}/health`)).to.have.property('healthy');
  });

  it('in ZooKeeper, the nodes hold only sealed values', async function () {
    const base = process.env.AGORA_ZK ?? 'zk://127.0.0.1:2181/agora-secrets';
    const url = `${base}-${randomBytes(4).toString('hex')}`;
    const { client, path } = ZkClient.fromUrl(url, { sessionTimeoutMs: 10_000 });
    const up = await Promise.race([
      client.connect().then(() => true),
      new Promise<boolean>((r) => setTimeout(() => r(false), 30_000)),
    ]).catch(() => false);
    if (!up) await client.close().catch(() => undefined);
    requireReal(this, 'ZooKeeper', { ok: up, reason: `nothing answers at ${base} (set AGORA_ZK)` });
    try {
      const dir = tempDir('secrets-zk-key');
      const keyFile = join(dir, 'key');
      writeFileSync(keyFile, randomBytes(32));
      chmodSync(keyFile, 0o600);
      const m = await startMasterProc(['--zk', url, '--secrets_key_file', keyFile]);
      await waitFor('the ZooKeeper master to lead', async () => (await getJson(`${m.url}/health`)).leading, 30_000);
      const put = await fetch(`${m.url}/secrets/zk/db`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ value: VALUE }),
      });
      expect(put.status).to.equal(201);
      const listed = await getJson(`${m.url}/secrets`);
      expect(listed.secrets.map((x: { name: string }) => x.name)).to.deep.equal(['/zk/db']);
      let sealedSeen = false;
      const walk = async (node: string): Promise<void> => {
        const { data } = await client.get(node);
        expect(leaks(data), node).to.equal(false);
        if (data.includes(Buffer.from('"ciphertext"'))) sealedSeen = true;
        for (const c of await client.getChildren(node)) await walk(`${node === '/' ? '' : node}/${c}`);
      };
      await walk(path);
      expect(sealedSeen, 'a sealed record was found under the master path').to.equal(true);
      expect(leaks(m.proc.text()), 'master log').to.equal(false);
      await m.proc.kill();
    } finally {
      await client.close();
    }
  });
});
