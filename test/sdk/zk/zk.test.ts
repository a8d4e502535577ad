/**
 * Against a real ZooKeeper server, started through scripts/zookeeper.sh on a free port with a
 * throwaway dir. Under CI=true a missing ZooKeeper fails the suite; elsewhere it is skipped loudly.
 */

import { execFile } from 'node:child_process';
import { type EventEmitter, once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { promisify } from 'node:util';
import { expect } from 'chai';
import type { MasterInfo } from '../../../sdk/protocol/types.js';
import { CreateMode, isZkError, ZkClient, type ZkClientOptions, ZkError, ZkErrorCode } from '../../../sdk/zk/client.js';
import {
  createDetector,
  LeaderDetector,
  type MasterDetector,
  StaticDetector,
  sameMaster,
} from '../../../sdk/zk/detector.js';
import { LeaderElection, type LostReason, MASTER_INFO_LABEL, sortedMembers } from '../../../sdk/zk/election.js';
import { freePort, within } from '../../support/cluster.js';
import { requireReal } from '../../support/require-real.js';
import { TestZkServer as TestServer, zookeeperAvailability } from '../../support/zookeeper.js';

const _execFileAsync = promisify(execFile);

/** A TCP proxy to the ZooKeeper server whose connections can be cut (a network partition) and restored. */
class TcpProxy {
  private readonly sockets = new Set<Socket>();
  private cut = false;
  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}
  static async start(targetPort: number): Promise<TcpProxy> {
    let proxy: TcpProxy | undefined;
    const server = createServer((downstream) => proxy?.accept(downstream, targetPort));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const address = server.address();
    proxy = new TcpProxy(server, typeof address === 'object' && address ? address.port : 0);
    return proxy;
  }
  get servers(): string {
    return `127.0.0.1:${this.port}`;
  }
  private accept(downstream: Socket, targetPort: number): void {
    if (this.cut) {
      downstream.destroy();
      return;
    }
    const upstream = connect(targetPort, '127.0.0.1');
    for (const s of [downstream, upstream]) {
      this.sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => {
        this.sockets.delete(s);
        downstream.destroy();
        upstream.destroy();
      });
    }
    downstream.pipe(upstream);
    upstream.pipe(downstream);
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
    this.server.close();
    await once(this.server, 'close');
  }
}

function masterInfo(n: number): MasterInfo {
  return {
    id: `master-${n}-${Math.random().toString(16).slice(2, 10)}`,
    pid: `master@127.0.0.${n}:5050`,
    hostname: `m${n}.local`,
    port: 5050,
    address: { hostname: `m${n}.local`, ip: `127.0.0.${n}`, port: 5050 },
    version: '0.1.0',
  };
}

/** Resolves when `cond()` holds (checked every 20 ms), or fails after `ms` saying what it waited for. */
async function until(cond: () => boolean | Promise<boolean>, what = `${cond}`, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    // Its own message (by default the condition's source), not mocha's bare test timeout.
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('sdk/zk against a real ZooKeeper @integration', function () {
  this.timeout(60_000);
  let server: TestServer | undefined;
  const clients: ZkClient[] = [];
  const closers: Array<() => Promise<void>> = [];

  function client(options: Partial<ZkClientOptions> = {}): ZkClient {
    const c = new ZkClient({ servers: server!.servers, sessionTimeoutMs: 4000, ...options });
    clients.push(c);
    return c;
  }

  before(async function () {
    requireReal(this, 'ZooKeeper', zookeeperAvailability());
    server = await TestServer.start();
  });

  afterEach(async () => {
    for (const close of closers.splice(0)) await close().catch(() => undefined);
    for (const c of clients.splice(0)) await c.close();
  });

  after(async () => {
    if (server) await server.destroy();
  });

  describe('ZkClient', () => {
    it('creates, reads, sets with a version, lists, watches and deletes', async () => {
      const zk = client();
      await zk.connect();
      expect(zk.connected).to.equal(true);
      expect(zk.sessionId).to.be.a('string');
      await zk.mkdirp('/client/a/b');
      await zk.mkdirp('/client/a/b'); // again: fine
      expect(await zk.exists('/client/a/b')).to.not.equal(undefined);
      expect(await zk.exists('/client/none')).to.equal(undefined);

      const p = await zk.create('/client/a/b/node', 'one');
      expect(p).to.equal('/client/a/b/node');
      const first = await zk.get(p);
      expect(first.data.toString()).to.equal('one');
      expect(first.stat.version).to.equal(0);
      expect(first.stat.ephemeralOwner).to.equal(undefined);

      const after = await zk.set(p, 'two', 0);
      expect(after.version).to.equal(1);
      const stale = await zk.set(p, 'three', 0).catch((e: unknown) => e);
      expect(stale).to.be.instanceOf(ZkError);
      expect((stale as ZkError).code).to.equal(ZkErrorCode.BAD_VERSION);
      expect((stale as ZkError).message).to.include(p);

      const dup = await zk.create(p, 'x').catch((e: unknown) => e);
      expect(isZkError(dup, ZkErrorCode.NODE_EXISTS)).to.equal(true);
      const missing = await zk.get('/client/nope').catch((e: unknown) => e);
      expect(isZkError(missing, ZkErrorCode.NO_NODE)).to.equal(true);
      const notEmpty = await zk.delete('/client/a').catch((e: unknown) => e);
      expect(isZkError(notEmpty, ZkErrorCode.NOT_EMPTY)).to.equal(true);

      const e1 = await zk.create('/client/a/b/e_', 'x', CreateMode.EPHEMERAL_SEQUENTIAL);
      const e2 = await zk.create('/client/a/b/e_', 'y', CreateMode.EPHEMERAL_SEQUENTIAL);
      expect(e1).to.match(/\/e_[0-9]{10}$/);
      expect(e2 > e1).to.equal(true);
      expect((await zk.get(e1)).stat.ephemeralOwner).to.equal(zk.sessionId);
      const children = await zk.getChildren('/client/a/b');
      expect(children.sort()).to.deep.equal(['e_0000000001', 'e_0000000002', 'node'].sort());

      // A child watch fires once when the children change; a data watch when the data changes.
      const childEvent = new Promise((resolve) => void zk.getChildren('/client/a/b', resolve));
      const dataEvent = new Promise((resolve) => void zk.get(p, resolve));
      await zk.delete(e1);
      await zk.set(p, 'four');
      expect(await childEvent).to.deep.equal({ type: 'child', path: '/client/a/b' });
      expect(await dataEvent).to.deep.equal({ type: 'changed', path: p });

      const badVersion = await zk.delete(p, 0).catch((e: unknown) => e);
      expect(isZkError(badVersion, ZkErrorCode.BAD_VERSION)).to.equal(true);
      await zk.delete(p, 2);
      expect(await zk.exists(p)).to.equal(undefined);
    });

    it('rejects bad paths, and every call after close(), with typed errors', async () => {
      const zk = client();
      await zk.connect();
      const bad = await zk.get('no-slash').catch((e: unknown) => e);
      expect(isZkError(bad, ZkErrorCode.BAD_ARGUMENTS)).to.equal(true);
      const trailing = await zk.create('/x/', '').catch((e: unknown) => e);
      expect(isZkError(trailing, ZkErrorCode.BAD_ARGUMENTS)).to.equal(true);
      const closed = once(zk, 'closed');
      await zk.close();
      await within(closed, "'closed' from zk");
      const after = await zk.get('/').catch((e: unknown) => e);
      expect(isZkError(after, ZkErrorCode.CLOSED)).to.equal(true);
      const reconnect = await zk.connect().catch((e: unknown) => e);
      expect(isZkError(reconnect, ZkErrorCode.CLOSED)).to.equal(true);
    });

    it('connect() times out with an error naming the servers when nothing answers', async () => {
      const port = await freePort();
      const zk = new ZkClient({ servers: `127.0.0.1:${port}`, sessionTimeoutMs: 1000, connectTimeoutMs: 1500 });
      clients.push(zk);
      const err = await zk.connect().catch((e: unknown) => e);
      expect(isZkError(err, ZkErrorCode.CONNECT_TIMEOUT)).to.equal(true);
      expect((err as Error).message).to.include(`127.0.0.1:${port}`);
    });

    it('ends the session on close(): its ephemeral nodes go at once', async () => {
      const a = client();
      const b = client();
      await Promise.all([a.connect(), b.connect()]);
      await a.mkdirp('/client-close');
      const node = await a.create('/client-close/e', 'x', CreateMode.EPHEMERAL);
      let deleted!: (e: unknown) => void;
      const gone = new Promise((resolve) => {
        deleted = resolve;
      });
      // The watch must be set (the exists reply in) before the session ends.
      expect(await b.exists(node, deleted)).to.not.equal(undefined);
      await a.close();
      expect(await gone).to.deep.equal({ type: 'deleted', path: node });
    });
  });

  describe('LeaderElection', () => {
    it('elects exactly one of three contenders, publishes its MasterInfo, and fails over when the leader dies', async () => {
      const path = '/agora-three';
      const infos = [masterInfo(1), masterInfo(2), masterInfo(3)];
      const zks = infos.map(() => client());
      await Promise.all(zks.map((z) => z.connect()));
      const elections = infos.map((info, i) => new LeaderElection({ client: zks[i], path, info }));
      const history: string[] = [];
      const violations: string[] = [];
      elections.forEach((e, i) => {
        e.on('elected', () => {
          history.push(`elected ${i}`);
          const others = elections.filter((o, j) => j !== i && o.isLeader);
          if (others.length > 0) violations.push(`${i} elected while another leads`);
        });
        e.on('lost', (reason: LostReason) => history.push(`lost ${i} ${reason}`));
      });
      closers.push(async () => {
        for (const e of elections) await e.withdraw();
      });
      // Join one after another, so that the sequence numbers are in this order.
      for (const e of elections) await e.start();
      await until(() => elections[0].isLeader);
      expect(elections.map((e) => e.isLeader)).to.deep.equal([true, false, false]);

      // The MasterInfo is readable, as Mesos tools read it, at the lowest json.info_ node.
      const reader = client();
      await reader.connect();
      const readLowest = async () => {
        const members = sortedMembers(await reader.getChildren(path));
        expect(members[0].startsWith(MASTER_INFO_LABEL)).to.equal(true);
        return JSON.parse((await reader.get(`${path}/${members[0]}`)).data.toString('utf8')) as MasterInfo;
      };
      expect(await readLowest()).to.deep.equal(infos[0]);
      expect(elections[0].nodePath).to.match(/\/agora-three\/json\.info_[0-9]{10}$/);

      // Kill the leader's session: the next in line (and only it) takes over.
      const elected1 = once(elections[1], 'elected');
      await zks[0].close();
      await within(elected1, "'elected' from elections[1]");
      expect(elections.map((e) => e.isLeader)).to.deep.equal([false, true, false]);
      expect(await readLowest()).to.deep.equal(infos[1]);

      // A leader that withdraws hands over too.
      const elected2 = once(elections[2], 'elected');
      await elections[1].withdraw();
      await within(elected2, "'elected' from elections[2]");
      expect(elections.map((e) => e.isLeader)).to.deep.equal([false, false, true]);
      expect(await readLowest()).to.deep.equal(infos[2]);

      expect(violations).to.deep.equal([]);
      expect(history).to.deep.equal(['elected 0', 'lost 0 closed', 'elected 1', 'lost 1 withdrawn', 'elected 2']);
    });

    it('emits lost at once on a partition; the session expires, another leads, and after healing it rejoins behind', async () => {
      const path = '/agora-expiry';
      // X reaches ZooKeeper through a proxy we can cut; only ZooKeeper may expire its session here.
      const proxy = await TcpProxy.start(server!.port);
      closers.push(() => proxy.close());
      const zx = client({ servers: proxy.servers, sessionTimeoutMs: 2000, expireAfterDisconnectMs: 0 });
      const zy = client({ sessionTimeoutMs: 2000 });
      await Promise.all([zx.connect(), zy.connect()]);
      const [ix, iy] = [masterInfo(1), masterInfo(2)];
      const ex = new LeaderElection({ client: zx, path, info: ix });
      const ey = new LeaderElection({ client: zy, path, info: iy });
      closers.push(
        () => ex.withdraw(),
        () => ey.withdraw(),
      );
      const violations: string[] = [];
      ex.on('elected', () => ey.isLeader && violations.push('x elected while y leads'));
      ey.on('elected', () => ex.isLeader && violations.push('y elected while x leads'));
      await ex.start();
      await until(() => ex.isLeader);
      await ey.start();
      const oldSession = zx.sessionId!;
      const oldNode = ex.nodePath!;

      const lost = once(ex, 'lost');
      const yElected = once(ey, 'elected');
      proxy.partition();
      expect(await within(lost, "'lost' from ex")).to.deep.equal(['disconnected']);
      expect(ex.isLeader).to.equal(false);
      // ZooKeeper expires X's session (it cannot hear X), deletes X's node, and Y takes over.
      await within(yElected, "'elected' from ey");
      expect(ey.isLeader).to.equal(true);

      const expired = once(zx, 'expired');
      proxy.heal();
      const [expiry] = await within(expired, "'expired' from zx");
      expect(expiry).to.deep.equal({ sessionId: oldSession, reason: 'server' });
      // X comes back with a new session and a new node, behind Y.
      await until(() => ex.nodePath !== undefined && ex.nodePath !== oldNode);
      expect(zx.sessionId).to.not.equal(oldSession);
      expect(ex.isLeader).to.equal(false);
      expect(ey.isLeader).to.equal(true);
      const reader = client();
      await reader.connect();
      expect(await reader.exists(oldNode)).to.equal(undefined);
      const members = sortedMembers(await reader.getChildren(path));
      expect(JSON.parse((await reader.get(`${path}/${members[0]}`)).data.toString())).to.deep.equal(iy);
      expect(violations).to.deep.equal([]);
    });

    it('steps down at once when the connection drops, expires the session locally if ZooKeeper stays away, and leads again after', async () => {
      const path = '/agora-local-expiry';
      const zk = client({ sessionTimeoutMs: 1500 });
      await zk.connect();
      const election = new LeaderElection({ client: zk, path, info: masterInfo(1) });
      closers.push(() => election.withdraw());
      const elected = once(election, 'elected');
      await election.start();
      await within(elected, "'elected' from election");
      const oldSession = zk.sessionId;

      const reasons: LostReason[] = [];
      election.on('lost', (r: LostReason) => reasons.push(r));
      const disconnected = once(zk, 'disconnected');
      const expired = once(zk, 'expired');
      await server!.stop();
      await within(disconnected, "'disconnected' from zk");
      // 'lost' came with the disconnection, before any reconnection.
      expect(election.isLeader).to.equal(false);
      expect(reasons).to.deep.equal(['disconnected']);
      const [expiry] = await within(expired, "'expired' from zk");
      expect(expiry.reason).to.equal('local');

      const reelected = once(election, 'elected');
      await server!.start();
      await within(reelected, "'elected' from election");
      expect(zk.sessionId).to.not.equal(oldSession);
      expect(election.isLeader).to.equal(true);
    });
  });

  describe('LeaderDetector', () => {
    it('follows the lowest json.info_ node through joins, failovers and an empty election', async () => {
      const path = '/agora-detect';
      const dz = client();
      const detector = new LeaderDetector({ client: dz, path });
      closers.push(() => detector.close());
      const seen: Array<string | undefined> = [];
      detector.on('leader', (m) => seen.push(m?.id));
      await detector.start();
      expect(detector.current()).to.equal(undefined);

      const [a, b] = [masterInfo(1), masterInfo(2)];
      const za = client();
      const zb = client();
      await Promise.all([za.connect(), zb.connect()]);
      const ea = new LeaderElection({ client: za, path, info: a });
      const eb = new LeaderElection({ client: zb, path, info: b });
      closers.push(
        () => ea.withdraw(),
        () => eb.withdraw(),
      );

      const firstLeader = detector.next();
      await ea.start();
      expect(await firstLeader).to.deep.equal(a);
      await eb.start();
      expect(sameMaster(detector.current(), a)).to.equal(true);

      const failover = detector.next(a);
      await za.close(); // the leader dies
      expect(await failover).to.deep.equal(b);
      expect(detector.current()).to.deep.equal(b);

      const none = once(detector, 'leader');
      await eb.withdraw();
      expect(await within(none, "'leader' from detector")).to.deep.equal([undefined]);
      expect(seen).to.deep.equal([a.id, b.id, undefined]);
    });

    it('createDetector: zk:// follows ZooKeeper; host:port is a fixed master', async () => {
      const path = '/agora-factory';
      const info = masterInfo(4);
      const zk = client();
      await zk.connect();
      const election = new LeaderElection({ client: zk, path, info });
      closers.push(() => election.withdraw());
      await election.start();

      const detector: MasterDetector = createDetector(`zk://${server!.servers}${path}`);
      closers.push(() => detector.close());
      expect(await detector.next()).to.deep.equal(info);

      const fixed = createDetector('10.1.2.3:5050');
      expect(fixed).to.be.instanceOf(StaticDetector);
      expect(fixed.current()).to.deep.include({ hostname: '10.1.2.3', port: 5050, pid: 'master@10.1.2.3:5050' });
      expect((await fixed.next()).address).to.deep.equal({ hostname: '10.1.2.3', ip: '10.1.2.3', port: 5050 });
      const pending = fixed.next(fixed.current());
      await fixed.close();
      const err = await pending.catch((e: unknown) => e);
      expect(err).to.have.property('code', 'AGORA_DETECTOR_CLOSED');
    });
  });

  describe('a ZooKeeper server restart', () => {
    it('keeps the sessions: clients reconnect, the leader leads again and detectors agree', async () => {
      const path = '/agora-restart';
      const infos = [masterInfo(1), masterInfo(2)];
      // The session timeout must outlast the restart (the server keeps sessions across restarts);
      // a JVM restart on a loaded 2-core machine took over 8 s once, so allow 20 s.
      const zks = infos.map(() => client({ sessionTimeoutMs: 20_000 }));
      const dz = client({ sessionTimeoutMs: 20_000 });
      await Promise.all([...zks, dz].map((z) => z.connect()));
      const sessions = zks.map((z) => z.sessionId);
      const elections = infos.map((info, i) => new LeaderElection({ client: zks[i], path, info }));
      const detector = new LeaderDetector({ client: dz, path });
      closers.push(async () => {
        for (const e of elections) await e.withdraw();
        await detector.close();
      });
      for (const e of elections) await e.start();
      await detector.start();
      await until(() => elections[0].isLeader);
      expect(await detector.next()).to.deep.equal(infos[0]);

      const all = [...zks, dz];
      const disconnected = all.map((z) => once(z as EventEmitter, 'disconnected'));
      await server!.stop();
      await Promise.all(disconnected);
      expect(elections.map((e) => e.isLeader)).to.deep.equal([false, false]);
      // While ZooKeeper is away, the detector keeps the last leader it saw.
      expect(detector.current()).to.deep.equal(infos[0]);

      const reconnected = all.map((z) => once(z as EventEmitter, 'connected'));
      const regained = once(elections[0], 'elected');
      await server!.start();
      const events = await Promise.all(reconnected);
      expect(events.map(([e]) => (e as { newSession: boolean }).newSession)).to.deep.equal([false, false, false]);
      await within(regained, "'elected' from elections[0]");
      expect(zks.map((z) => z.sessionId)).to.deep.equal(sessions);
      expect(elections.map((e) => e.isLeader)).to.deep.equal([true, false]);
      expect(detector.current()).to.deep.equal(infos[0]);
    });
  });
});
