import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { requireReal } from '../../support/require-real.js';
import { TestZkServer, zookeeperAvailability } from '../../support/zookeeper.js';

const ZK = fileURLToPath(new URL('../../../sdk/zk/index.js', import.meta.url));
const LINK = fileURLToPath(new URL('../../../sdk/zk/thread-link.js', import.meta.url));

/** Runs a child that opens a ZooKeeper session, then runs `exit`; resolves with how it ended. */
function child(servers: string, exit: string): Promise<{ code: number | null; signal: string | null; err: string }> {
  const script = `
    const { ZkClient } = await import(${JSON.stringify(ZK)});
    const { exitClosingZk } = await import(${JSON.stringify(LINK)});
    const c = new ZkClient({ servers: ${JSON.stringify(servers)}, sessionTimeoutMs: 10000 });
    await c.connect();
    ${exit};`;
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d: Buffer) => {
      if (err.length < 8000) err += d.toString();
    });
    p.on('error', reject);
    p.on('close', (code, signal) => resolve({ code, signal, err }));
  });
}

describe('leaving a process that holds a ZooKeeper session (sdk/zk exitClosingZk) @integration', function () {
  this.timeout(60_000);
  let zk: TestZkServer | undefined;

  before(async function () {
    requireReal(this, 'ZooKeeper', zookeeperAvailability());
    zk = await TestZkServer.start();
  });
  after(async () => {
    await zk?.stop();
  });

  it('exits with the code asked for, not an abort of the ZooKeeper thread (SIGABRT)', async () => {
    // A bare process.exit here aborts the process: the native client's handles are still open in
    // the ZooKeeper thread when Node tears the worker down (seen 3 times in 3).
    for (let i = 0; i < 3; i++) {
      const r = await child(zk?.servers ?? '', 'await exitClosingZk(3)');
      expect({ code: r.code, signal: r.signal }, r.err).to.deep.equal({ code: 3, signal: null });
    }
  });
});
