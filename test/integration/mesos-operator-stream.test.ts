/**
 * The v1 operator API under load and faults, on real processes: 200 subscribers and one that
 * never reads (it is cut off; the others keep receiving; the master keeps serving); the stream
 * through a failover of the leading master on a real ZooKeeper (the client reconnects, is sent to
 * the new leader and gets a SUBSCRIBED snapshot that still has the task); the ACLs on each call.
 */
import { writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { expect } from 'chai';
import { basicAuthorization } from '../../sdk/auth/authenticate.js';
import type { TaskInfo } from '../../sdk/protocol/types.js';
import {
  dumpProcessLogs,
  getJson,
  type MasterProc,
  startAgentProc,
  startMasterProc,
  stopAll,
  tempDir,
  waitFor,
} from '../support/cluster.js';
import { commandTask, TestFramework } from '../support/framework.js';
import { call, leading, Subscription } from '../support/operator-client.js';
import { requireReal } from '../support/require-real.js';
import { TestZkServer, zookeeperAvailability } from '../support/zookeeper.js';

/** A SUBSCRIBE whose answer is never read: the request is written, the socket paused at once. */
function stuckSubscriber(port: number): Promise<{ socket: Socket; closed: Promise<number> }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      const body = JSON.stringify({ type: 'SUBSCRIBE' });
      socket.write(
        `POST /api/v1 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
      );
      socket.pause();
      let bytes = 0;
      const closed = new Promise<number>((r) => {
        socket.on('data', (d: Buffer) => {
          bytes += d.length;
        });
        socket.once('close', () => r(bytes));
        socket.once('error', () => undefined);
      });
      resolve({ socket, closed });
    });
    socket.once('error', reject);
  });
}

/** A subscriber that only counts bytes and looks for markers in the raw stream (no parsing). */
class CountingSubscriber {
  bytes = 0;
  private tail = '';
  readonly seen = new Set<string>();
  constructor(
    readonly sub: { socket: Socket },
    private readonly markers: string[],
  ) {
    sub.socket.on('data', (d: Buffer) => {
      this.bytes += d.length;
      const text = this.tail + d.toString('latin1');
      for (const m of this.markers) if (text.includes(m)) this.seen.add(m);
      this.tail = text.slice(-256);
    });
  }
}

function rawSubscriber(port: number): Promise<{ socket: Socket }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      const body = JSON.stringify({ type: 'SUBSCRIBE' });
      socket.write(
        `POST /api/v1 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
      );
      resolve({ socket });
    });
    socket.once('error', reject);
  });
}

/** A task carrying `kb` KiB of labels, so that its TASK_ADDED event is that large. */
function heavyTask(offer: Parameters<typeof commandTask>[0], id: string, kb: number): TaskInfo {
  const t = commandTask(offer, id, 'sleep 120', 'cpus:0.01;mem:1');
  const labels = Array.from({ length: Math.ceil(kb / 60) }, (_, i) => ({ key: `k${i}`, value: 'x'.repeat(60 * 1024) }));
  return { ...t, labels: { labels } };
}

describe('Mesos v1 operator stream under load and faults @integration', function () {
  this.timeout(180_000);

  afterEach(async function () {
    if (this.currentTest?.state === 'failed') dumpProcessLogs();
    await stopAll();
  });

  it('200 subscribers and one that never reads: it is cut off and counted, the others keep receiving, the master keeps serving', async () => {
    const master = await startMasterProc(['--operator_subscriber_buffer', '65536', '--allocation_interval', '200ms']);
    await leading(master);
    await startAgentProc(master.address, ['--resources', 'cpus:4;mem:4096']);
    const fw = await new TestFramework(master.address, 'load-fw').start();
    try {
      const stuck = await stuckSubscriber(master.port);
      const readers: CountingSubscriber[] = [];
      for (let i = 0; i < 200; i++)
        readers.push(new CountingSubscriber(await rawSubscriber(master.port), ['"heavy-0"', '"marker"']));
      await waitFor('201 subscribers', async () => {
        const m = await getJson(`${master.url}/metrics/snapshot`);
        return m['master/operator_api/subscribers'] === 201;
      });
      // About 6 MiB of events, more than the stuck socket's kernel buffers and its 64 KiB allowance.
      for (let i = 0; i < 12; i++) {
        const [offer] = await fw.takeOffers();
        fw.driver.launch(offer, [heavyTask(offer, `heavy-${i}`, 480)], { refuse_seconds: 0 });
        await fw.waitState(`heavy-${i}`, 'TASK_RUNNING');
        expect((await getJson(`${master.url}/health`)).healthy).to.equal(true);
      }
      await waitFor('the stuck subscriber to be cut off', async () => {
        const m = await getJson(`${master.url}/metrics/snapshot`);
        return m['master/operator_api/subscribers_disconnected_slow'] === 1;
      });
      // Every reader still receives: a task launched after the cut reaches all 200.
      const [offer] = await fw.takeOffers();
      fw.driver.launch(offer, [commandTask(offer, 'marker', 'sleep 60', 'cpus:0.01;mem:1')]);
      await waitFor(
        'all 200 readers to see the marker task',
        () => readers.every((r) => r.seen.has('"marker"')),
        60_000,
      );
      const m = await getJson(`${master.url}/metrics/snapshot`);
      expect(m['master/operator_api/subscribers']).to.equal(200);
      // The stuck socket was closed by the master: reading it now gets less than the readers got, then the end.
      stuck.socket.resume();
      const got = await stuck.closed;
      expect(got).to.be.below(Math.min(...readers.map((r) => r.bytes)));
      for (const r of readers) r.sub.socket.destroy();
    } finally {
      await fw.stop();
    }
  });

  describe('through a failover on a real ZooKeeper', () => {
    let zk: TestZkServer;
    before(async function () {
      requireReal(this, 'ZooKeeper', zookeeperAvailability());
      zk = await TestZkServer.start();
    });
    after(async () => {
      await zk?.destroy();
    });

    it('the client reconnects, is sent to the new leader, and its SUBSCRIBED snapshot still has the task', async () => {
      const url = zk.url(`/agora-op-stream-${process.pid}`);
      const masters: MasterProc[] = [];
      for (let i = 0; i < 2; i++) {
        masters.push(
          await startMasterProc(['--zk', url, '--zk_session_timeout', '2secs', '--allocation_interval', '200ms']),
        );
      }
      await startAgentProc(url, ['--resources', 'cpus:2;mem:1024']);
      const fw = await new TestFramework(url, 'failover-fw').start();
      try {
        // Subscribed through either master: a non-leader answers 307 to the leader, once it has seen
        // the election (the framework found the leader through ZooKeeper; this master may lag behind).
        let refused = '';
        const first = await waitFor(
          () => `a subscription through ${masters[1].url} (last refusal: ${refused})`,
          () =>
            Subscription.open(masters[1].url).catch((e: Error) => {
              refused = e.message;
              return undefined;
            }),
        );
        const [offer] = await fw.takeOffers();
        fw.driver.launch(offer, [commandTask(offer, 'survivor', 'sleep 300')]);
        await first.waitFor('TASK_UPDATED', (e) => e.task_updated.state === 'TASK_RUNNING');
        const leader = masters.find((m) => first.url === m.url);
        expect(leader, 'the stream came from a master').to.not.equal(undefined);
        await leader?.proc.kill('SIGKILL');
        await waitFor('the stream to end with its master', () => first.ended);
        const other = masters.find((m) => m !== leader) as MasterProc;
        // A tool retries the masters it knows until one streams again.
        const second = await waitFor(
          'a SUBSCRIBED from the new leader that has the task',
          async () => {
            const s = await Subscription.open(other.url).catch(() => undefined);
            if (!s) return undefined;
            const tasks = s.events[0].subscribed.get_state.get_tasks.tasks as {
              task_id: { value: string };
              state: string;
            }[];
            if (tasks.some((t) => t.task_id.value === 'survivor' && t.state === 'TASK_RUNNING')) return s;
            s.close();
            return undefined;
          },
          60_000,
          500,
        );
        expect(second.url).to.equal(other.url);
        second.close();
      } finally {
        await fw.stop();
      }
    });
  });

  it('authentication and ACLs: 401 without credentials, 403 for a call the principal may not make, each call its own action', async () => {
    const dir = tempDir('op-acl');
    const creds = join(dir, 'credentials');
    writeFileSync(creds, 'alice a-secret\nops o-secret\n', { mode: 0o600 });
    const acls = {
      update_weights: [
        { principals: { values: ['ops'] }, roles: { type: 'ANY' } },
        { principals: { type: 'ANY' }, roles: { type: 'NONE' } },
      ],
      mark_agents_gone: [{ principals: { type: 'ANY' }, agents: { type: 'NONE' } }],
    };
    const master = await startMasterProc([
      '--credentials',
      creds,
      '--authenticate_http_readwrite',
      '--acls',
      JSON.stringify(acls),
    ]);
    await leading(master);
    const alice = { authorization: basicAuthorization('alice', 'a-secret') };
    const ops = { authorization: basicAuthorization('ops', 'o-secret') };
    const anon = await call(master.url, { type: 'GET_STATE' });
    expect(anon.status).to.equal(401);
    expect(anon.json.code).to.equal('AGORA_HTTP_UNAUTHENTICATED');
    expect((await call(master.url, { type: 'GET_STATE' }, alice)).status).to.equal(200);
    const weights = { type: 'UPDATE_WEIGHTS', update_weights: { weight_infos: [{ role: 'web', weight: 3 }] } };
    const refused = await call(master.url, weights, alice);
    expect(refused.status).to.equal(403);
    expect(refused.json.code).to.equal('AGORA_HTTP_FORBIDDEN');
    expect(await getJson(`${master.url}/weights`)).to.deep.equal([]);
    expect((await call(master.url, weights, ops)).status).to.equal(200);
    expect(await getJson(`${master.url}/weights`)).to.deep.equal([{ role: 'web', weight: 3 }]);
    const gone = await call(
      master.url,
      { type: 'MARK_AGENT_GONE', mark_agent_gone: { agent_id: { value: 'x' } } },
      ops,
    );
    expect(gone.status).to.equal(403);
    const sub = await Subscription.open(master.url, alice);
    expect(sub.events[0].type).to.equal('SUBSCRIBED');
    sub.close();
  });
});
