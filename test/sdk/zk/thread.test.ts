/**
 * The ZooKeeper session's own thread (docs/zookeeper.md): a process whose event loop is blocked for
 * twice its session timeout keeps its session (and its ephemeral node) when the session runs in the
 * ZooKeeper thread, and loses it when it runs on the blocked loop. Each case runs in a child process
 * (the blocked one); the evidence is read from ZooKeeper by this process, outside the child.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { CreateMode, ZkClient, type ZkThread } from '../../../sdk/zk/client.js';
import { requireReal } from '../../support/require-real.js';
import { TestZkServer, zookeeperAvailability } from '../../support/zookeeper.js';

const CLIENT = fileURLToPath(new URL('../../../sdk/zk/client.js', import.meta.url));

/** The blocked process: connects, creates an ephemeral node, blocks its loop, then reports. */
const CHILD = `
import { ZkClient, CreateMode } from ${JSON.stringify(CLIENT)};
const [servers, path, thread] = process.argv.slice(1);
const events = [];
const client = new ZkClient({ servers, sessionTimeoutMs: 4000, thread, reconnectOnExpiry: false });
for (const name of ['connected', 'disconnected', 'expired']) client.on(name, () => events.push(name));
await client.connect();
const sessionId = client.sessionId;
await client.create(path, 'held', CreateMode.EPHEMERAL);
const blockMs = 2 * client.negotiatedSessionTimeoutMs;
const until = Date.now() + blockMs;
while (Date.now() < until) {}
process.stdout.write(JSON.stringify({ phase: 'unblocked', sessionId, blockMs }) + '\\n');
await new Promise((r) => process.stdin.once('data', r));
process.stdout.write(JSON.stringify({ phase: 'end', events, state: client.state }) + '\\n');
await client.close();
`;

interface Outcome {
  sessionId: string;
  /** The node's owner right after the child's loop was unblocked (undefined: the node was gone). */
  ownerAfter?: string;
  events: string[];
  state: string;
}

async function blockedHolder(servers: string, path: string, thread: ZkThread, observer: ZkClient): Promise<Outcome> {
  const child = execFile(process.execPath, ['--input-type=module', '-e', CHILD, servers, path, thread], {
    timeout: 60_000,
  });
  const lines: Record<string, unknown>[] = [];
  let buffered = '';
  const next = () =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const poll = () => {
        const line = lines.shift();
        if (line) return resolve(line);
        if (child.exitCode !== null) return reject(new Error(`the child exited (${child.exitCode})`));
        setTimeout(poll, 50);
      };
      poll();
    });
  child.stdout?.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    let nl = buffered.indexOf('\n');
    while (nl >= 0) {
      lines.push(JSON.parse(buffered.slice(0, nl)));
      buffered = buffered.slice(nl + 1);
      nl = buffered.indexOf('\n');
    }
  });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  try {
    const unblocked = await next();
    // Read by this process as soon as the child's loop runs again: a session that expired while the
    // loop was blocked has taken its node with it (the server expired it; nothing was sent since).
    const stat = await observer.exists(path);
    child.stdin?.write('go\n');
    const end = await next();
    return {
      sessionId: String(unblocked.sessionId),
      ownerAfter: stat?.ephemeralOwner,
      events: end.events as string[],
      state: String(end.state),
    };
  } catch (err) {
    throw new Error(`${String(err)}; stderr: ${stderr}`);
  } finally {
    child.kill();
  }
}

describe('sdk/zk: the session in its own thread @integration', function () {
  this.timeout(60_000);
  let server: TestZkServer;
  let observer: ZkClient;

  before(async function () {
    requireReal(this, 'ZooKeeper', zookeeperAvailability());
    server = await TestZkServer.start();
    // The default thread: this process shares the addon with the other suites' clients (one thread only).
    observer = new ZkClient({ servers: server.servers });
    await observer.connect();
    await observer.create('/held', '', CreateMode.PERSISTENT);
  });
  after(async () => {
    await observer?.close();
    await server?.stop();
  });

  it("keeps the session and its ephemeral node through a blocked event loop with thread 'worker'", async () => {
    const out = await blockedHolder(server.servers, '/held/worker', 'worker', observer);
    expect(out.ownerAfter, 'the ephemeral node after the block').to.equal(out.sessionId);
    expect(out.events).to.not.include('expired');
    expect(out.state).to.equal('connected');
  });

  it("loses the session through a blocked event loop with thread 'main' (why the worker exists)", async () => {
    const out = await blockedHolder(server.servers, '/held/main', 'main', observer);
    expect(out.ownerAfter, 'the ephemeral node after the block').to.equal(undefined);
  });
});
