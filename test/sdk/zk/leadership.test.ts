/** Framework leader election on a real ZooKeeper: several instances, one leads, the others know where. */
import { expect } from 'chai';
import { ZkClient } from '../../../sdk/zk/client.js';
import { Leadership } from '../../../sdk/zk/leadership.js';
import { requireReal } from '../../support/require-real.js';
import { TestZkServer, zookeeperAvailability } from '../../support/zookeeper.js';

interface Endpoint {
  host: string;
  port: number;
  scheme: 'http' | 'https';
}

function parseEndpoint(v: unknown): Endpoint | undefined {
  const o = v as Partial<Endpoint> | null;
  if (!o || typeof o.host !== 'string' || typeof o.port !== 'number' || (o.scheme !== 'http' && o.scheme !== 'https')) {
    return undefined;
  }
  return { host: o.host, port: o.port, scheme: o.scheme };
}

async function until(cond: () => boolean, what: string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('framework leader election (Leadership) on a real ZooKeeper @integration', function () {
  this.timeout(60_000);
  let server: TestZkServer | undefined;
  const clients: ZkClient[] = [];

  before(async function () {
    requireReal(this, 'ZooKeeper', zookeeperAvailability());
    server = await TestZkServer.start();
  });
  after(async () => {
    for (const c of clients) await c.close().catch(() => undefined);
    if (server) await server.destroy();
  });

  it('elects one of three instances, all followers know its endpoint, and a new one leads when the leader dies', async () => {
    const path = '/marathon-test/leader';
    const endpoints: Endpoint[] = [8080, 8081, 8082].map((port) => ({ host: '127.0.0.1', port, scheme: 'http' }));
    const instances = endpoints.map((info) => {
      const client = new ZkClient({ servers: server!.servers, sessionTimeoutMs: 4000 });
      clients.push(client);
      return { client, l: new Leadership<Endpoint>({ client, path, info, parse: parseEndpoint }) };
    });
    const overlaps: string[] = [];
    for (const [i, { l }] of instances.entries()) {
      l.on('elected', () => {
        if (instances.some((o, j) => j !== i && o.l.isLeader)) overlaps.push(`${i}`);
      });
    }
    for (const { l } of instances) await l.start();
    await until(() => instances.filter(({ l }) => l.isLeader).length === 1, 'a leader');
    const first = instances.findIndex(({ l }) => l.isLeader);
    expect(first).to.equal(0);
    await until(() => instances.every(({ l }) => l.leader()?.port === 8080), 'everyone to know the leader');
    expect(instances[2].l.leader()).to.deep.equal(endpoints[0]);

    // The leader's session ends (its process dies): the next in line leads, everyone follows it.
    await instances[0].client.close();
    await until(() => instances[1].l.isLeader, 'instance 1 to lead');
    expect(instances[2].l.isLeader).to.equal(false);
    await until(() => instances[2].l.leader()?.port === 8081, 'instance 2 to follow the new leader');
    // Its own view of the leader is read from ZooKeeper too, on its own schedule: waited for, as below.
    await until(() => instances[1].l.leader()?.port === 8081, 'instance 1 to see itself as the leader');
    expect(instances[1].l.leader()).to.deep.equal(endpoints[1]);
    expect(overlaps).to.deep.equal([]);

    // A leader that withdraws hands over too.
    await instances[1].l.stop();
    await until(() => instances[2].l.isLeader, 'instance 2 to lead');
    await until(() => instances[2].l.leader()?.port === 8082, 'instance 2 to see itself');
    await instances[2].l.stop();
  });

  it('a payload the caller does not accept is no leader', async () => {
    const client = new ZkClient({ servers: server!.servers, sessionTimeoutMs: 4000 });
    clients.push(client);
    const bogus = new Leadership<unknown>({ client, path: '/bogus/leader', info: { nope: true }, parse: (v) => v });
    await bogus.start();
    const readerClient = new ZkClient({ servers: server!.servers, sessionTimeoutMs: 4000 });
    clients.push(readerClient);
    const reader = new Leadership<Endpoint>({
      client: readerClient,
      path: '/bogus/leader',
      info: { host: 'x', port: 1, scheme: 'http' },
      parse: parseEndpoint,
    });
    await reader.start();
    await until(() => bogus.isLeader, 'the bogus instance to lead');
    await new Promise((r) => setTimeout(r, 200));
    expect(reader.leader()).to.equal(undefined);
    await reader.stop();
    await bogus.stop();
  });
});
