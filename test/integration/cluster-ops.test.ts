/**
 * Operations through running processes: an agent coming back with other resources, offers
 * rescinded when their agent goes (and an ACCEPT of one refused), RESERVE and UNRESERVE, weights
 * and quota across a master failover, a `failover_timeout: 0` framework (`agora execute`) across a
 * master failover, and `agora local` itself, stopped with SIGINT.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import type { Offer } from '../../sdk/protocol/types.js';
import { Resources } from '../../sdk/resources/resources.js';
import {
  AGORA_BIN,
  agora,
  dumpProcessLogs,
  freePort,
  freePortRun,
  getJson,
  haMasterFlags,
  leaderOf,
  REPO_ROOT,
  sleep,
  startAgentProc,
  startMasterProc,
  stopAll,
  tempDir,
  waitFor,
} from '../support/cluster.js';
import { commandTask, TestFramework } from '../support/framework.js';
import { pidRunning, pidWritten } from '../support/proc-stat.js';
import { requireReal } from '../support/require-real.js';
import { TestZkServer, zookeeperAvailability } from '../support/zookeeper.js';

const sumCpus = (offers: Offer[]) => offers.reduce((n, o) => n + Resources.from(o.resources).scalar('cpus'), 0);

async function send(url: string, method: string, body: unknown): Promise<{ status: number; json: unknown }> {
  const r = await fetch(url, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await r.text();
  return { status: r.status, json: text ? JSON.parse(text) : undefined };
}

/** Every descendant of `pid`, from the ppid fields in /proc. */
function descendants(pid: number): number[] {
  const parent = new Map<number, number>();
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      parent.set(Number(e), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [child, pp] of parent) {
      if (pp === p) {
        out.push(child);
        walk(child);
      }
    }
  };
  walk(pid);
  return out;
}

describe('cluster operations through running processes @integration', function () {
  this.timeout(240_000);
  const frameworks: TestFramework[] = [];
  let zk: TestZkServer | undefined;

  afterEach(async function () {
    if (this.currentTest?.state === 'failed') dumpProcessLogs();
    await Promise.all(frameworks.splice(0).map((f) => f.driver.teardown()));
    await stopAll();
  });

  after(async () => {
    await zk?.destroy();
  });

  async function zkServer(ctx: Mocha.Context): Promise<TestZkServer> {
    requireReal(ctx, 'ZooKeeper', zookeeperAvailability());
    zk ??= await TestZkServer.start();
    return zk;
  }

  it('an agent restarted with other resources re-registers under its id with the new totals, and offers follow them', async () => {
    const master = await startMasterProc(['--allocation_interval', '200ms']);
    const workDir = tempDir('agent-resized');
    const agent = await startAgentProc(master.address, ['--resources', 'cpus:2;mem:1024'], workDir);
    const id = (await getJson(`${agent.url}/state`)).id;
    const f = await new TestFramework(master.address, 'resized').start();
    frameworks.push(f);
    expect(sumCpus(await f.takeOffers())).to.equal(2);
    await agent.proc.kill('SIGTERM');
    const port = await freePort();
    agora('agent-resized', [
      'agent',
      '--master',
      master.address,
      '--port',
      String(port),
      '--work_dir',
      workDir,
      '--resources',
      'cpus:3;mem:2048',
    ]);
    await waitFor('the agent back', async () => (await getJson(`http://127.0.0.1:${port}/state`)).registered, 30_000);
    expect((await getJson(`http://127.0.0.1:${port}/state`)).id, 'same agent id').to.equal(id);
    const st = await waitFor('the master to see the new totals', async () => {
      const s = await getJson(`${master.url}/master/state`);
      return s.slaves.length === 1 && s.slaves[0].resources.cpus === 3 ? s : undefined;
    });
    expect(st.slaves[0].id).to.equal(id);
    expect(st.slaves[0].resources).to.include({ cpus: 3, mem: 2048 });
    // Offers made before the restart were rescinded (TestFramework drops them): what is offered now is the new total.
    await waitFor('an offer of the new total', () => sumCpus(f.offers) === 3, 30_000);
    for (const x of f.offers) expect(x.agent_id).to.equal(id);
  });

  it('rescinds the offers of an agent that disconnects, and refuses an ACCEPT of a rescinded offer (TASK_ERROR, nothing runs)', async () => {
    const master = await startMasterProc(['--allocation_interval', '200ms']);
    const agent = await startAgentProc(master.address, ['--resources', 'cpus:2;mem:1024']);
    const f = await new TestFramework(master.address, 'rescinded').start();
    frameworks.push(f);
    const [o] = await f.takeOffers();
    await agent.proc.kill('SIGKILL');
    await waitFor('the offer rescinded', () => f.rescinded.includes(o.id), 30_000);
    const dir = tempDir('rescinded');
    f.driver.launch(o, [commandTask(o, 'too-late', `touch ${dir}/ran`)]);
    const err = await f.waitState('too-late', 'TASK_ERROR');
    expect(err.reason).to.equal('REASON_INVALID_OFFERS');
    await sleep(500);
    expect(readdirSync(dir), 'the task never ran').to.deep.equal([]);
    const st = await getJson(`${master.url}/master/state`);
    expect(st.frameworks.find((x: { id: string }) => x.id === f.driver.frameworkId).tasks).to.deep.equal([]);
  });

  it('refuses an ACCEPT of an offer rescinded by --offer_timeout (TASK_ERROR, nothing runs)', async () => {
    const master = await startMasterProc(['--allocation_interval', '200ms', '--offer_timeout', '1secs']);
    await startAgentProc(master.address, ['--resources', 'cpus:2;mem:1024']);
    const f = await new TestFramework(master.address, 'expired').start();
    frameworks.push(f);
    const [o] = await f.takeOffers();
    await waitFor('the offer rescinded after its timeout', () => f.rescinded.includes(o.id), 30_000);
    const dir = tempDir('expired');
    f.driver.launch(o, [commandTask(o, 'expired-offer', `touch ${dir}/ran`)]);
    const err = await f.waitState('expired-offer', 'TASK_ERROR');
    expect(err.reason).to.equal('REASON_INVALID_OFFERS');
    await sleep(500);
    expect(readdirSync(dir), 'the task never ran').to.deep.equal([]);
  });

  it('RESERVE and UNRESERVE through a running master: reserved resources go only to their role, and back', async () => {
    const master = await startMasterProc(['--allocation_interval', '200ms']);
    await startAgentProc(master.address, ['--resources', 'cpus:4;mem:1024']);
    const dev = await new TestFramework(master.address, 'dev', { roles: ['dev'] }).start();
    frameworks.push(dev);
    const [o] = await dev.takeOffers();
    const reserved = Resources.parse('cpus:1;mem:128').withRole('dev');
    dev.driver.accept([o.id], [{ type: 'RESERVE', reserve: { resources: reserved.toList() } }], { refuse_seconds: 0 });
    const agentState = async () => (await getJson(`${master.url}/master/state`)).slaves[0];
    await waitFor('the reservation in the master state', async () => (await agentState()).reserved_resources.dev);
    expect((await agentState()).reserved_resources.dev).to.include({ cpus: 1, mem: 128 });
    // The next offer to dev holds the reservation, marked with its role.
    const withReservation = await waitFor(
      'an offer with the reserved resources',
      () => dev.offers.find((x) => Resources.from(x.resources).roles().includes('dev')),
      30_000,
    );
    // Another role is offered the rest only: dev steps aside (suppressed, its offers declined).
    dev.driver.suppress();
    dev.driver.decline(
      dev.offers.splice(0).map((x) => x.id),
      { refuse_seconds: 0 },
    );
    const other = await new TestFramework(master.address, 'other').start();
    frameworks.push(other);
    await waitFor('offers to the other role', () => other.offers.length > 0, 30_000);
    for (const x of other.offers) expect(Resources.from(x.resources).roles(), 'no dev resources').to.not.include('dev');
    expect(sumCpus(other.offers)).to.equal(3);
    expect(Resources.from(withReservation.resources).reservedFor('dev').scalar('cpus')).to.equal(1);
    // UNRESERVE, on a fresh offer to dev, gives them back to everyone.
    dev.driver.revive();
    const again = await waitFor(
      'the reserved resources offered to dev again',
      () => dev.offers.find((x) => Resources.from(x.resources).roles().includes('dev')),
      30_000,
    );
    // UNRESERVE gives them back to everyone.
    const back = Resources.from(again.resources).reservedFor('dev');
    dev.driver.accept([again.id], [{ type: 'UNRESERVE', unreserve: { resources: back.toList() } }], {
      refuse_seconds: 0,
    });
    await waitFor(
      'the reservation gone',
      async () => Object.keys((await agentState()).reserved_resources).length === 0,
      30_000,
    );
    expect((await agentState()).unreserved_resources).to.include({ cpus: 4, mem: 1024 });
  });

  it('weights and quota survive a master failover (set on the leader, read back on the next one)', async function () {
    const server = await zkServer(this);
    const url = server.url(`/agora-ops-wq-${process.pid}`);
    // Side by side: they elect one through ZooKeeper.
    const flags = ['--zk', url, '--quorum', '1', '--zk_session_timeout', '2secs'];
    const masters = await Promise.all([startMasterProc(flags), startMasterProc(flags)]);
    const leader = await leaderOf(masters);
    const weights = [
      { role: 'eng', weight: 3 },
      { role: 'batch', weight: 0.5 },
    ];
    expect((await send(`${leader.url}/weights`, 'PUT', weights)).status).to.equal(200);
    const quota = { role: 'batch', guarantees: { cpus: 1 }, limits: { cpus: 2, mem: 4096 } };
    expect((await send(`${leader.url}/quota`, 'POST', quota)).status).to.equal(200);
    await leader.proc.kill('SIGKILL');
    const next = await leaderOf(masters.filter((m) => m !== leader));
    expect(next.port).to.not.equal(leader.port);
    expect(await getJson(`${next.url}/weights`)).to.deep.equal(weights);
    const q = await getJson(`${next.url}/quota`);
    expect(q.infos).to.have.length(1);
    expect(q.infos[0]).to.deep.include({ role: 'batch' });
    expect(q.infos[0].limits).to.deep.equal({ cpus: 2, mem: 4096 });
    expect(q.infos[0].guarantees).to.deep.equal({ cpus: 1 });
    const roles = (await getJson(`${next.url}/roles`)).roles;
    expect(roles.find((r: { name: string }) => r.name === 'eng').weight).to.equal(3);
  });

  it('an `agora execute` task (failover_timeout 0) survives a master failover: still running, its framework still registered, and execute exits 0 when it ends', async function () {
    const server = await zkServer(this);
    const url = server.url(`/agora-ops-fo0-${process.pid}`);
    const flags = haMasterFlags(url);
    // Side by side, and the agent beside them: they find the leader through ZooKeeper.
    const [masters] = await Promise.all([
      Promise.all([startMasterProc(flags), startMasterProc(flags)]),
      startAgentProc(url, ['--resources', 'cpus:2;mem:1024']),
    ]);
    const leader = await leaderOf(masters);
    const dir = tempDir('execute-failover');
    const child = spawn(
      process.execPath,
      [
        AGORA_BIN,
        'execute',
        '--master',
        url,
        '--name',
        'survives-failover',
        '--command',
        // Runs until the test says so (a file), not for a fixed 15 s: it must still run after the
        // failover and end afterwards, whatever the failover took.
        `echo $$ > ${dir}/pid; until [ -e ${dir}/go ]; do sleep 0.2; done; echo done > ${dir}/done`,
      ],
      { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      out += d;
    });
    // 'close', not 'exit': its last output lines may still be unread at 'exit' (docs/testing.md).
    const exited = new Promise<number | null>((r) => child.once('close', (code) => r(code)));
    try {
      const pid = await waitFor('the task to start', () => Number(readFileSync(join(dir, 'pid'), 'utf8').trim()));
      const fw = await waitFor('its framework on the leader', async () =>
        (await getJson(`${leader.url}/master/state`)).frameworks.find(
          (x: { name: string }) => x.name === 'agora-execute: survives-failover',
        ),
      );
      await leader.proc.kill('SIGKILL');
      const next = await leaderOf(masters.filter((m) => m !== leader));
      await sleep(3000);
      expect(pidRunning(pid), 'the task still runs after the failover').to.equal(true);
      const st = await getJson(`${next.url}/master/state`);
      expect(
        st.completed_frameworks.map((x: { id: string }) => x.id),
        'the framework was not torn down',
      ).to.not.include(fw.id);
      writeFileSync(join(dir, 'go'), '');
      const code = await exited;
      expect(code, out).to.equal(0);
      expect(readFileSync(join(dir, 'done'), 'utf8').trim(), 'the task ran to its end').to.equal('done');
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('`agora execute` whose framework was torn down while it was frozen exits non-zero, saying so, and its task is killed', async () => {
    const master = await startMasterProc(['--allocation_interval', '200ms']);
    await startAgentProc(master.address, ['--resources', 'cpus:2;mem:1024']);
    const dir = tempDir('execute-removed');
    const child = spawn(
      process.execPath,
      [
        AGORA_BIN,
        'execute',
        '--master',
        master.address,
        '--name',
        'frozen',
        '--command',
        `echo $$ > ${dir}/pid; exec sleep 600`,
      ],
      { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      out += d;
    });
    // 'close', not 'exit': its last output lines may still be unread at 'exit' (docs/testing.md).
    const exited = new Promise<number | null>((r) => child.once('close', (code) => r(code)));
    try {
      const pid = await waitFor('the task to start', () => Number(readFileSync(join(dir, 'pid'), 'utf8').trim()));
      child.kill('SIGSTOP');
      // failover_timeout 0: once the master drops the silent connection, the framework is torn down.
      await waitFor(
        'the framework torn down',
        async () =>
          (await getJson(`${master.url}/master/state`)).completed_frameworks.some(
            (x: { name: string }) => x.name === 'agora-execute: frozen',
          ),
        60_000,
      );
      await waitFor('its task killed', () => !pidRunning(pid), 20_000);
      child.kill('SIGCONT');
      const code = await Promise.race([exited, sleep(20_000).then(() => 'still running' as const)]);
      expect(code, `agora execute after its framework was removed: ${out.slice(-2000)}`).to.not.equal('still running');
      expect(code).to.not.equal(0);
      expect(out).to.match(/removed|torn down/i);
      // One message, not one every few milliseconds.
      expect(out.split('\n').filter((l) => /removed|torn down/i.test(l)).length, out.slice(-2000)).to.be.at.most(3);
    } finally {
      child.kill('SIGCONT');
      child.kill('SIGKILL');
    }
  });

  it('`agora local` runs a cluster (with Marathon and Chronos) that `agora execute` uses; SIGINT stops it all, tasks included, leaving no process', async () => {
    const port = await freePort();
    const agentPort = await freePortRun(2);
    const marathonPort = await freePort();
    const chronosPort = await freePort();
    const root = tempDir('local');
    const local = agora('agora-local', [
      'local',
      '--agents',
      '2',
      '--port',
      String(port),
      '--agent_port',
      String(agentPort),
      '--marathon_port',
      String(marathonPort),
      '--chronos_port',
      String(chronosPort),
      '--work_dir',
      root,
      '--resources',
      'cpus:2;mem:1024',
    ]);
    const masterUrl = `http://127.0.0.1:${port}`;
    await waitFor(
      'the local cluster with 2 agents',
      async () => {
        if (local.exited) throw new Error(`agora local exited: ${local.text().slice(-1000)}`);
        return (await getJson(`${masterUrl}/master/state`)).activated_slaves === 2;
      },
      60_000,
    );
    // Marathon and Chronos came up beside it, registered with the master as frameworks.
    await waitFor(
      'Marathon and Chronos registered with the local master',
      async () => {
        const names = ((await getJson(`${masterUrl}/master/state`)).frameworks as { name: string }[]).map(
          (f) => f.name,
        );
        return names.some((n) => /marathon/i.test(n)) && names.some((n) => /chronos/i.test(n));
      },
      60_000,
    );
    expect((await getJson(`http://127.0.0.1:${marathonPort}/v2/info`)).name).to.match(/marathon/i);
    expect(await getJson(`http://127.0.0.1:${chronosPort}/v1/scheduler/jobs`)).to.deep.equal([]);
    const dir = tempDir('local-tasks');
    const run = spawn(
      process.execPath,
      [AGORA_BIN, 'execute', '--master', `127.0.0.1:${port}`, '--name', 'hi', '--command', `echo hello > ${dir}/hello`],
      { cwd: REPO_ROOT, stdio: 'ignore' },
    );
    const code = await new Promise<number | null>((r) => run.once('exit', (c) => r(c)));
    expect(code).to.equal(0);
    expect(readFileSync(join(dir, 'hello'), 'utf8')).to.equal('hello\n');
    // A long task left running, then Ctrl-C.
    const f = await new TestFramework(`127.0.0.1:${port}`, 'left-running').start();
    const [o] = await f.takeOffers();
    f.driver.launch(o, [commandTask(o, 'long', `echo $$ > ${dir}/long.pid; exec sleep 600`)]);
    await f.waitState('long', 'TASK_RUNNING');
    const taskPid = await pidWritten(join(dir, 'long.pid'));
    const localPid = local.child.pid as number;
    const tree = descendants(localPid);
    expect(tree, 'the task is a descendant of agora local').to.include(taskPid);
    await f.driver.stop();
    local.child.kill('SIGINT');
    await waitFor('agora local to exit', () => local.exited !== undefined, 30_000);
    expect(local.exited?.code, local.text().slice(-1000)).to.equal(0);
    await waitFor(
      'no process of the local cluster left',
      () => [localPid, ...tree].every((p) => !pidRunning(p)),
      30_000,
    ).catch(() => {
      throw new Error(`left running: ${[localPid, ...tree].filter(pidRunning).join(', ')}`);
    });
    const refused = await fetch(`${masterUrl}/health`).then(
      () => false,
      () => true,
    );
    expect(refused, 'the master port is closed').to.equal(true);
  });
});
