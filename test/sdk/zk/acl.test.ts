/**
 * Digest credentials and ACLs, against a real ZooKeeper server (scripts/zookeeper.sh on a free port,
 * a throwaway dir; CI=true fails without it). Every test uses its own root path. Who may do what is
 * decided by the server: the other clients here are plain ZooKeeper clients, with no, wrong or
 * other credentials.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { inspect } from 'node:util';
import { expect } from 'chai';
import { pino } from 'pino';
import { ZkStore } from '../../../sdk/store/zk-store.js';
import { aclPolicy, digestId, OPEN_ACL, ZkPerm } from '../../../sdk/zk/acl.js';
import { CreateMode, isZkError, ZkClient, type ZkClientOptions, ZkErrorCode } from '../../../sdk/zk/client.js';
import { createDetector, LeaderDetector } from '../../../sdk/zk/detector.js';
import { LeaderElection, MASTER_INFO_LABEL, sortedMembers } from '../../../sdk/zk/election.js';
import { parseZkUrl } from '../../../sdk/zk/url.js';
import { within } from '../../support/cluster.js';
import { requireReal } from '../../support/require-real.js';
import { TestZkServer, zookeeperAvailability } from '../../support/zookeeper.js';

const ALICE = { scheme: 'digest', username: 'alice', password: 'Pw-n0t-in-l0gs' } as const;

function info(n: number) {
  return {
    id: `master-${n}`,
    pid: `master@127.0.0.${n}:5050`,
    hostname: `m${n}`,
    port: 5050,
    address: { hostname: `m${n}`, ip: `127.0.0.${n}`, port: 5050 },
    version: '0.1.0',
  };
}

async function until(cond: () => boolean | Promise<boolean>, what = `${cond}`, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    // Its own message (by default the condition's source), not mocha's bare test timeout.
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Resolves with the ZooKeeper error code the call failed with ('OK' if it did not). */
async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'OK';
  } catch (err) {
    return isZkError(err) ? err.code : String(err);
  }
}

/** A TCP proxy whose connections can be cut, so that the server expires a session behind it. */
class TcpProxy {
  private readonly sockets = new Set<Socket>();
  private cut = false;
  private server?: Server;
  port = 0;
  async start(target: number): Promise<void> {
    this.server = createServer((down) => {
      if (this.cut) return void down.destroy();
      const up = connect(target, '127.0.0.1');
      for (const s of [down, up]) {
        this.sockets.add(s);
        s.on('error', () => undefined);
        s.on('close', () => {
          this.sockets.delete(s);
          down.destroy();
          up.destroy();
        });
      }
      down.pipe(up);
      up.pipe(down);
    });
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    const a = this.server.address();
    this.port = typeof a === 'object' && a ? a.port : 0;
  }
  partition(): void {
    this.cut = true;
    for (const s of this.sockets) s.destroy();
  }
  heal(): void {
    this.cut = false;
  }
  async close(): Promise<void> {
    this.partition();
    this.server?.close();
  }
}

describe('sdk/zk credentials and ACLs @integration', function () {
  this.timeout(60_000);
  let server: TestZkServer | undefined;
  const clients: ZkClient[] = [];
  const closers: Array<() => Promise<void>> = [];
  let seq = 0;
  const root = () => `/agora-acl-${process.pid}-${++seq}`;

  function client(options: Partial<ZkClientOptions> = {}): ZkClient {
    const c = new ZkClient({ servers: server!.servers, sessionTimeoutMs: 4000, ...options });
    clients.push(c);
    return c;
  }
  async function connected(options: Partial<ZkClientOptions> = {}): Promise<ZkClient> {
    const c = client(options);
    await c.connect().catch(async (err) => {
      throw new Error(`${(err as Error).message}\n${await server!.report()}`);
    });
    return c;
  }

  before(async function () {
    requireReal(this, 'ZooKeeper', zookeeperAvailability());
    server = await TestZkServer.start();
  });
  afterEach(async function () {
    for (const close of closers.splice(0)) await close().catch(() => undefined);
    for (const c of clients.splice(0)) await c.close();
    // A case that failed may have left the server down (the restart case): the next cases get a
    // serving one rather than failing after it (start() of a running server only waits for it).
    if (this.currentTest?.state === 'failed' && server) await server.start().catch(() => undefined);
  });
  after(async () => {
    if (server) await server.destroy();
  });

  it("the digest identity is the one the server derives from the session's credentials", async () => {
    const owner = await connected({ credentials: ALICE });
    const path = root();
    // The C client's CREATOR_ALL: scheme 'auth' lets the server write the session's own digest id.
    await owner.create(path);
    await owner.setAcl(path, [{ perms: ZkPerm.ALL, scheme: 'auth', id: '' }]);
    const { acl } = await owner.getAcl(path);
    expect(acl).to.deep.equal([{ perms: ZkPerm.ALL, scheme: 'digest', id: digestId(ALICE) }]);
  });

  it('with credentials: others can neither read the registrar nor write anything; the leader stays readable; the owner can do all', async () => {
    const base = root();
    const owner = await connected({ credentials: ALICE });
    const election = new LeaderElection({ client: owner, path: base, info: info(1) });
    closers.push(() => election.withdraw());
    const elected = once(election, 'elected');
    await election.start();
    await within(elected, "'elected' from election");
    // Small limits so that a value is chunked, as a big registrar is.
    const store = await ZkStore.open({
      client: owner,
      root: `${base}/state`,
      inlineLimitBytes: 2048,
      chunkBytes: 1024,
    });
    const secret = {
      token: 'registrar-secret-value',
      blob: randomBytes(6000).toString('base64'),
    };
    await store.put('registrar/agents/a1', { id: 'a1', token: 'registrar-secret-value' });
    await store.put('registrar/apps', secret);
    const keyNode = `${base}/state/registrar/agents/a1`;
    const appsNode = `${base}/state/registrar/apps`;
    const chunks = (await owner.getChildren(appsNode)).filter((c) => c.startsWith('.chunk-'));
    expect(chunks.length).to.be.greaterThan(1);
    const leaderNode = `${base}/${sortedMembers(await owner.getChildren(base))[0]}`;

    const others = {
      anonymous: await connected(),
      'wrong password': await connected({ credentials: { ...ALICE, password: 'guess' } }),
      'another user': await connected({ credentials: { ...ALICE, username: 'bob' } }),
    };
    for (const [who, c] of Object.entries(others)) {
      const tries = {
        'read the state root': codeOf(c.get(`${base}/state`)),
        'list the state root': codeOf(c.getChildren(`${base}/state`)),
        'read a registrar key': codeOf(c.get(keyNode)),
        'read a chunk': codeOf(c.get(`${appsNode}/${chunks[0]}`)),
        'create under the root': codeOf(c.create(`${base}/intruder`, 'x', CreateMode.PERSISTENT, OPEN_ACL)),
        'create under the state': codeOf(c.create(`${base}/state/intruder`)),
        'create a json.info node': codeOf(
          c.create(`${base}/${MASTER_INFO_LABEL}`, '{}', CreateMode.EPHEMERAL_SEQUENTIAL),
        ),
        'set a registrar key': codeOf(c.set(keyNode, 'x')),
        'set the leader node': codeOf(c.set(leaderNode, '{}')),
        'delete a registrar key': codeOf(c.delete(keyNode)),
        'delete the leader node': codeOf(c.delete(leaderNode)),
        'change the root ACL': codeOf(c.setAcl(base, OPEN_ACL)),
        'change the state ACL': codeOf(c.setAcl(`${base}/state`, OPEN_ACL)),
      };
      for (const [what, p] of Object.entries(tries))
        expect(`${who}: ${what}: ${await p}`).to.equal(`${who}: ${what}: NO_AUTH`);
      // Leader detection stays open to all, as in Mesos.
      expect(JSON.parse((await c.get(leaderNode)).data.toString())).to.deep.equal(info(1));
    }
    // Nothing changed.
    expect((await owner.get(keyNode)).stat.version).to.equal((await owner.exists(keyNode))?.version);
    expect(await store.get('registrar/agents/a1')).to.deep.include({
      value: { id: 'a1', token: 'registrar-secret-value' },
    });

    // The same credentials in another session (another master) read and write everything.
    const peer = await connected({ credentials: ALICE });
    const peerStore = await ZkStore.open({ client: peer, root: `${base}/state` });
    expect((await peerStore.get('registrar/apps'))?.value).to.deep.equal(secret);
    const v = (await peerStore.get('registrar/agents/a1'))!.version;
    await peerStore.put('registrar/agents/a1', { id: 'a1', token: 'rotated' }, v);
    await peerStore.delete('registrar/apps');
    expect(await store.get('registrar/apps')).to.equal(undefined);
  });

  it('leader election and detection work with credentials; detection also without', async () => {
    const base = root();
    const m1 = await connected({ credentials: ALICE });
    const m2 = await connected({ credentials: ALICE });
    const e1 = new LeaderElection({ client: m1, path: base, info: info(1) });
    const e2 = new LeaderElection({ client: m2, path: base, info: info(2) });
    closers.push(
      () => e1.withdraw(),
      () => e2.withdraw(),
    );
    const d1 = new LeaderDetector({ client: await connected({ credentials: ALICE }), path: base });
    const d2 = createDetector(`zk://${server!.servers}${base}`); // no credentials
    closers.push(
      () => d1.close(),
      () => d2.close(),
    );
    await d1.start();
    await e1.start();
    await until(() => e1.isLeader);
    await e2.start();
    await until(() => d1.current()?.id === 'master-1');
    expect((await d2.next())?.id).to.equal('master-1');
    const next = d2.next(info(1));
    await e1.withdraw();
    await until(() => e2.isLeader);
    expect((await next)?.id).to.equal('master-2');
    await until(() => d1.current()?.id === 'master-2');
    // The election nodes carry the public-read ACL.
    const node = `${base}/${sortedMembers(await m2.getChildren(base))[0]}`;
    expect((await m2.getAcl(node)).acl).to.have.deep.members(aclPolicy(ALICE).publicRead as never[]);
  });

  it('re-adds the credentials after a session expiry and after a reconnection to a restarted server', async () => {
    const base = root();
    const proxy = new TcpProxy();
    await proxy.start(server!.port);
    const owner = client({
      servers: `127.0.0.1:${proxy.port}`,
      credentials: ALICE,
      sessionTimeoutMs: 2000,
      expireAfterDisconnectMs: 0,
    });
    await owner.connect();
    const store = await ZkStore.open({ client: owner, root: `${base}/state` });
    const v1 = await store.put('k', { n: 1 });
    const election = new LeaderElection({ client: owner, path: base, info: info(1) });
    closers.push(
      () => election.withdraw(),
      () => owner.close(),
      () => proxy.close(),
    );
    await election.start();
    await until(() => election.isLeader);

    // The server expires the session it cannot hear; the client opens a new one on healing.
    const oldSession = owner.sessionId;
    const expired = once(owner, 'expired');
    // Seen from a client of its own: the server has expired the owner's session once the owner's
    // ephemeral election node is gone (waited for, not a fixed 4.5 s that a loaded server may outlast).
    const observer = await connected({ credentials: ALICE });
    proxy.partition();
    await until(
      async () => sortedMembers(await observer.getChildren(base)).length === 0,
      "the server to expire the partitioned owner's session (its election node gone)",
    );
    proxy.heal();
    const [e] = await within(expired, "'expired' from owner");
    expect(e.reason).to.equal('server');
    await until(() => owner.connected && owner.sessionId !== oldSession);
    expect((await store.get<{ n: number }>('k'))?.value).to.deep.equal({ n: 1 });
    await store.put('k', { n: 2 }, v1);
    await until(() => election.isLeader);

    // A server restart keeps the session; the C client sends the credentials again on reconnection.
    // With a session of its own that outlasts a slow restart: the owner's 2 s one (short, to expire
    // above) ran out in CI when the server took longer than that to come back under load.
    const steady = await connected({ credentials: ALICE, sessionTimeoutMs: 20_000 });
    const steadyStore = await ZkStore.open({ client: steady, root: `${base}/state` });
    const session = steady.sessionId;
    await server!.stop();
    await server!.start();
    // A wait that failed once in CI (1 run in about 20, not reproduced since): say whether the
    // server or the client was at fault.
    await until(() => steady.connected).catch(async (err) => {
      throw new Error(`${(err as Error).message}; client state ${steady.state}\n${await server!.report()}`);
    });
    expect(steady.sessionId, 'the session kept through the restart').to.equal(session);
    expect((await steadyStore.get<{ n: number }>('k'))?.value).to.deep.equal({ n: 2 });
    await steadyStore.put('k2', { n: 3 });
    // Close the client before its proxy: the addon must not be left reconnecting through a dead proxy.
    await election.withdraw();
    await owner.close();
    await proxy.close();
  });

  it('tightens a tree an earlier run left open, and refuses a client without the credentials with a clear error', async () => {
    const base = root();
    const lines: string[] = [];
    const logger = pino(
      { level: 'warn' },
      new Writable({
        write(chunk, _e, cb) {
          lines.push(String(chunk));
          cb();
        },
      }),
    );
    const open = await connected();
    const openStore = await ZkStore.open({ client: open, root: `${base}/state`, logger });
    await openStore.put('registrar/agents/a1', { id: 'a1' });
    expect(lines.join('')).to.include('ZooKeeper nodes are open');
    expect((await open.getAcl(`${base}/state/registrar/agents/a1`)).acl).to.deep.equal(OPEN_ACL);

    const owner = await connected({ credentials: ALICE });
    await ZkStore.open({ client: owner, root: `${base}/state` });
    const outsider = await connected();
    for (const node of ['state', 'state/registrar', 'state/registrar/agents', 'state/registrar/agents/a1'])
      expect(`${node}: ${await codeOf(outsider.get(`${base}/${node}`))}`).to.equal(`${node}: NO_AUTH`);
    expect(await codeOf(outsider.create(`${base}/x`))).to.equal('NO_AUTH');

    // A node left open under the tight tree (a crash between its creation and its ACL) is sealed at
    // the next start.
    const leftover = `${base}/state/registrar/agents/a2`;
    await owner.create(leftover, '', CreateMode.PERSISTENT, OPEN_ACL);
    expect(await codeOf(outsider.create(`${leftover}/planted`))).to.equal('OK');
    await outsider.delete(`${leftover}/planted`);
    await ZkStore.open({ client: owner, root: `${base}/state` });
    expect(await codeOf(outsider.create(`${leftover}/planted`))).to.equal('NO_AUTH');

    // A write to a key whose node was left open seals the node before writing its value.
    const store = await ZkStore.open({ client: owner, root: `${base}/state` });
    await owner.create(`${base}/state/registrar/agents/a3`, '', CreateMode.PERSISTENT, OPEN_ACL);
    await store.put('registrar/agents/a3', { id: 'a3', token: 'kept-private' });
    expect(await codeOf(outsider.get(`${base}/state/registrar/agents/a3`))).to.equal('NO_AUTH');
    expect((await store.get('registrar/agents/a3'))?.value).to.deep.equal({ id: 'a3', token: 'kept-private' });

    let refused: unknown;
    await ZkStore.open({ client: outsider, root: `${base}/state` }).catch((err: unknown) => {
      refused = err;
    });
    expect(refused).to.have.property('code', 'AGORA_ZK_NOT_AUTHORIZED');
    expect(String((refused as Error).message)).to.match(/credentials/);
  });

  it('deletes a node another client changed while it was open, and seals an untouched one', async () => {
    const base = root();
    const owner = await connected({ credentials: ALICE });
    const other = await connected();
    await owner.mkdirp(base, OPEN_ACL); // an open parent, as while a creation is in flight
    await other.create(`${base}/untouched`);
    await other.create(`${base}/changed`);
    await other.set(`${base}/changed`, 'planted');
    await owner.seal(`${base}/untouched`, owner.acls.private);
    expect(await codeOf(other.get(`${base}/untouched`))).to.equal('NO_AUTH');
    expect(await codeOf(owner.seal(`${base}/changed`, owner.acls.private))).to.equal(ZkErrorCode.TAMPERED);
    expect(await owner.exists(`${base}/changed`)).to.equal(undefined);
  });

  it('never logs the password', async () => {
    const lines: string[] = [];
    const logger = pino(
      { level: 'trace' },
      new Writable({
        write(chunk, _e, cb) {
          lines.push(String(chunk));
          cb();
        },
      }),
    );
    const base = root();
    const url = `zk://alice:${ALICE.password}@${server!.servers}${base}`;
    expect(parseZkUrl(url).credentials?.password).to.equal(ALICE.password);
    const store = await ZkStore.connect(url, { logger, sessionTimeoutMs: 4000 });
    await store.put('k', { v: 1 });
    const { client: zk, path } = ZkClient.fromUrl(url, { logger, sessionTimeoutMs: 4000 });
    clients.push(zk);
    await zk.connect();
    const election = new LeaderElection({ client: zk, path, info: info(1), logger });
    closers.push(() => election.withdraw());
    await election.start();
    await until(() => election.isLeader);
    const detector = createDetector(url, { logger });
    closers.push(() => detector.close());
    expect((await detector.next())?.id).to.equal('master-1');
    // A client refused by the ACLs logs its error too.
    await ZkStore.connect(`zk://alice:wrong-${ALICE.password}@${server!.servers}${base}`, { logger }).catch(
      (err: unknown) => logger.error({ err }, 'refused'),
    );
    await store.close();
    // Nor does a client, logged or inspected whole: neither the password nor its digest.
    const whole = inspect(zk, { depth: 2 });
    expect(whole).to.not.include(ALICE.password);
    expect(whole).to.not.include(digestId(ALICE).split(':')[1]);
    const out = lines.join('');
    expect(out).to.include('connected to ZooKeeper');
    expect(out).to.include('refused');
    expect(out).to.not.include(ALICE.password);
  });
});
