/**
 * A standby reads the registrar ahead (master/registrar.ts `readAhead`) so that at its election
 * recovery reads only what changed since. Against a real ZooKeeper: what a recovery after a
 * read-ahead gives must be what a recovery without one gives, whatever was changed, deleted, or
 * deleted and created again (same version, other value) after the read-ahead; and the versions it
 * keeps must be the Store's (a write right after recovery is not refused as another master's).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { expect } from 'chai';
import { pino } from 'pino';
import {
  type AgentRecord,
  type FrameworkRecord,
  Registrar,
  RegistrarFencedError,
  type RolesRecord,
} from '../../master/registrar.js';
import { type RunningMaster, startMaster } from '../../master/server.js';
import { ZkStore } from '../../sdk/store/index.js';
import { ZkClient } from '../../sdk/zk/client.js';
import { caught } from '../support/caught.js';
import { waitFor } from '../support/cluster.js';
import { requireReal } from '../support/require-real.js';
import { TestZkServer, zookeeperAvailability } from '../support/zookeeper.js';

const log = pino({ level: 'silent' });

function agent(i: number, hostname = `host-${i}`): AgentRecord {
  const resources = [
    { name: 'cpus', type: 'SCALAR' as const, scalar: { value: 2 } },
    { name: 'mem', type: 'SCALAR' as const, scalar: { value: 2048 } },
  ];
  return {
    info: { id: `agent-${i}`, hostname, port: 5051, resources, attributes: {} },
    total: resources,
    state: 'admitted',
  };
}

function framework(id: string, name = id): FrameworkRecord {
  return { info: { id, name, roles: ['web'] }, completed: false };
}

function roles(weight: number): RolesRecord {
  return { weights: [{ role: 'web', weight }], quotas: [] };
}

describe('registrar read-ahead by a standby @integration', function () {
  this.timeout(120_000);
  let zk: TestZkServer;
  let started = false;
  let n = 0;
  let root = '';
  const clients: ZkClient[] = [];
  const newStore = async () => {
    const client = new ZkClient({ servers: zk.servers, sessionTimeoutMs: 10_000 });
    clients.push(client);
    await client.connect();
    return { client, store: await ZkStore.open({ client, root }) };
  };

  before(async function () {
    requireReal(this, 'ZooKeeper', zookeeperAvailability());
    zk = await TestZkServer.start();
    started = true;
  });
  beforeEach(() => {
    root = `/agora-read-ahead-${++n}/state`;
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.close();
  });
  after(async () => {
    if (started) await zk.destroy();
  });

  it('recovers after a read-ahead what a recovery without one recovers, whatever changed after the read-ahead', async () => {
    const { client: raw, store: leaderStore } = await newStore();
    const leader = new Registrar(leaderStore, log);
    await leader.recover();
    // 130 agents: three batch keys (64 a key), four frameworks, the roles.
    await Promise.all(Array.from({ length: 130 }, (_, i) => leader.saveAgent(agent(i))));
    for (const id of ['f1', 'f2', 'f3', 'f5']) await leader.saveFramework(framework(id));
    await leader.saveRoles(roles(1));

    const standby = new Registrar((await newStore()).store, log);
    expect(await standby.readAhead()).to.deep.equal({ read: 8, held: 8 });
    // Nothing changed: a second pass reads nothing.
    expect(await standby.readAhead()).to.deep.equal({ read: 0, held: 8 });

    // After the read-ahead: an agent of the first batch changes, a framework changes, one is
    // removed, one is removed and created again (version 0 again, another value), one is new, one
    // is made unreadable, the roles change.
    await leader.saveAgent(agent(5, 'moved'));
    await leader.saveFramework(framework('f1', 'renamed'));
    await leader.removeFramework('f2');
    await leader.removeFramework('f3');
    await leader.saveFramework(framework('f3', 'born-again'));
    await leader.saveFramework(framework('f4'));
    await leader.saveRoles(roles(3));
    await raw.set(`${root}/registrar/frameworks/f5`, Buffer.from('not an agora value'));

    const fresh = new Registrar((await newStore()).store, log);
    const expected = await fresh.recover();
    expect(fresh.lastRecovery).to.deep.equal({ read: 8, reused: 0 });
    expect(expected.skipped).to.equal(1);
    expect(expected.agents.find((a) => a.info.id === 'agent-5')?.info.hostname).to.equal('moved');
    expect(expected.frameworks.map((f) => [f.info.id, f.info.name])).to.deep.equal([
      ['f1', 'renamed'],
      ['f3', 'born-again'],
      ['f4', 'f4'],
    ]);
    expect(expected.roles).to.deep.equal(roles(3));

    const got = await standby.recover();
    expect(got).to.deep.equal(expected);
    // Two batches unchanged since the read-ahead were taken from it; the rest read again.
    expect(standby.lastRecovery).to.deep.equal({ read: 6, reused: 2 });

    // The versions it kept are the Store's: the new leader's writes go through, the old one's are
    // refused, for a key taken from the read-ahead (agent-100's batch) as for a key read again.
    await standby.saveAgent(agent(100, 'moved-by-the-new-leader'));
    await standby.saveFramework(framework('f3', 'third'));
    await standby.saveRoles(roles(4));
    expect(await caught(leader.saveFramework(framework('f3', 'old leader')))).to.be.instanceOf(RegistrarFencedError);
    const after = await new Registrar((await newStore()).store, log).recover();
    expect(after.agents.find((a) => a.info.id === 'agent-100')?.info.hostname).to.equal('moved-by-the-new-leader');
    expect(after.frameworks.find((f) => f.info.id === 'f3')?.info.name).to.equal('third');
    expect(after.roles).to.deep.equal(roles(4));
  });

  it('forgets at recovery what it read ahead: a later recovery reads every key again', async () => {
    const { store } = await newStore();
    const leader = new Registrar(store, log);
    await leader.recover();
    await leader.saveFramework(framework('f1'));
    const standby = new Registrar((await newStore()).store, log);
    await standby.readAhead();
    await standby.recover();
    expect(standby.lastRecovery).to.deep.equal({ read: 0, reused: 1 });
    await standby.recover();
    expect(standby.lastRecovery).to.deep.equal({ read: 1, reused: 0 });
  });

  it('a standby master reads ahead, stops at its election, and recovers what changed after', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'agora-read-ahead-'));
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString('utf8').split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
        done();
      },
    });
    const url = zk.url(`/agora-read-ahead-${n}`);
    const opts = (name: string, logger: pino.Logger) => ({
      port: 0,
      host: '127.0.0.1',
      workDir: join(dir, name),
      zk: url,
      logger,
      // One pass at the start, the next one not before the end of the test.
      registrarReadAheadMs: 600_000,
    });
    const masters: RunningMaster[] = [];
    try {
      const first = await startMaster(opts('m1', log));
      masters.push(first);
      await waitFor('the first master to lead', () => first.master.leading);
      // The registrar as the first master would have written it (it writes nothing itself here).
      const { store } = await newStore();
      const writer = new Registrar(store, log);
      await writer.recover();
      await Promise.all(Array.from({ length: 70 }, (_, i) => writer.saveAgent(agent(i))));
      await writer.saveFramework(framework('f1'));

      const second = await startMaster(opts('m2', pino({ level: 'debug' }, sink)));
      masters.push(second);
      await waitFor(
        () => `the standby to read ahead (log: ${JSON.stringify(lines.slice(-3))})`,
        () => lines.some((l) => l.msg === 'registrar read ahead' && l.held === 3),
      );
      await writer.saveAgent(agent(3, 'moved'));
      await writer.saveFramework(framework('f2'));

      await first.close();
      masters.shift();
      await waitFor('the standby to lead', () => second.master.leading);
      const recovered = lines.find((l) => l.msg === 'registrar recovered');
      expect(recovered).to.include({ agents: 70, frameworks: 2, keysRead: 2, keysReadAhead: 2 });
      expect(second.master.agents.get('agent-3')?.info.hostname).to.equal('moved');
      expect([...second.master.frameworks.keys()].sort()).to.deep.equal(['f1', 'f2']);
      // No pass after the election.
      const passes = lines.filter((l) => l.msg === 'registrar read ahead').length;
      await new Promise((r) => setTimeout(r, 200));
      expect(lines.filter((l) => l.msg === 'registrar read ahead').length).to.equal(passes);
    } finally {
      for (const m of masters) await m.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
