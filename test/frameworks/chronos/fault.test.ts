/**
 * The fault test, in the manner of Jepsen's Chronos analysis: jobs repeating every few seconds write
 * `<job> <due> <start>` lines to a log file outside Agora; two Chronos instances elect a leader on a
 * real ZooKeeper; the leading Chronos is killed with SIGKILL while they run, and then the leading
 * master of two. Afterwards every due time in the window has exactly one run that started within
 * [due, due + epsilon + a few seconds], and no due time has two — read from the tasks' own log, not
 * from Chronos's records. The due times are computed here, from the schedule posted.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import {
  agora,
  dumpProcessLogs,
  freePort,
  getJson,
  type MasterProc,
  type Proc,
  sleep,
  startAgentProc,
  startMasterProc,
  stopAll,
  tempDir,
  waitFor,
} from '../../support/cluster.js';
import { requireReal } from '../../support/require-real.js';
import { TestZkServer, zookeeperAvailability } from '../../support/zookeeper.js';

const PERIOD_S = 3;
const EPSILON_S = 30;
/** Slack on top of epsilon for a run's start (process start, clocks). */
const SLACK_MS = 5_000;
const JOBS = ['alpha', 'beta', 'gamma'];

interface ChronosProc {
  proc: Proc;
  port: number;
  url: string;
}

async function startChronos(zk: string, masterZk: string, name: string): Promise<ChronosProc> {
  const port = await freePort();
  const proc = agora(name, [
    'chronos',
    '--master',
    masterZk,
    '--zk',
    zk,
    '--zk_session_timeout',
    '4secs',
    '--http_port',
    String(port),
    '--work_dir',
    tempDir('chronos'),
  ]);
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`${name} to answer /ping`, async () => {
    if (proc.exited) throw new Error(`${name} exited: ${proc.text().slice(-2000)}`);
    return (await fetch(`${url}/ping`)).ok;
  });
  return { proc, port, url };
}

async function leading(c: ChronosProc): Promise<boolean> {
  if (c.proc.exited) return false;
  try {
    return (await getJson(`${c.url}/metrics`)).leading === 1;
  } catch {
    return false;
  }
}

async function masterLeading(m: MasterProc): Promise<boolean> {
  if (m.proc.exited) return false;
  try {
    return (await getJson(`${m.url}/health`)).leading === true;
  } catch {
    return false;
  }
}

describe('Chronos fault test: leader kills, exactly one run per due time (@integration)', function () {
  this.timeout(180_000);
  let zk: TestZkServer | undefined;

  before(async function () {
    requireReal(this, 'ZooKeeper', zookeeperAvailability());
    zk = await TestZkServer.start();
  });
  after(async () => {
    await stopAll();
    await zk?.destroy();
  });
  afterEach(function () {
    if (this.currentTest?.state === 'failed') dumpProcessLogs(60);
  });

  it('SIGKILL of the leading Chronos, then of the leading master: every due time runs once, on time (@integration)', async () => {
    if (!zk) throw new Error('no ZooKeeper');
    const masterZk = zk.url('/agora');
    const masterFlags = ['--zk', masterZk, '--zk_session_timeout', '4secs', '--allocation_interval', '200ms'];
    const masters = [await startMasterProc(masterFlags), await startMasterProc(masterFlags)];
    await startAgentProc(masterZk, ['--resources', 'cpus:8;mem:8192;disk:10000']);
    const chronosZk = zk.url('/chronos');
    const chronos = [
      await startChronos(chronosZk, masterZk, 'chronos-1'),
      await startChronos(chronosZk, masterZk, 'chronos-2'),
    ];
    const leader = await waitFor('a leading Chronos', async () => {
      for (const c of chronos) if (await leading(c)) return c;
      return undefined;
    });
    const other = chronos.find((c) => c !== leader) as ChronosProc;

    await waitFor(
      'the other Chronos to know the leader',
      async () => (await getJson(`${other.url}/scheduler/leader`)).leader,
    );
    const log = join(tempDir('chronos-fault'), 'runs.log');
    const start = Math.ceil((Date.now() + 3_000) / 1000) * 1000;
    for (const name of JOBS) {
      // Posted to the non-leader: it forwards to the leader.
      const r = await fetch(`${other.url}/scheduler/iso8601`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          name,
          command: `echo "$CHRONOS_JOB_NAME $CHRONOS_DUE $(date +%s%3N)" >> ${log}`,
          schedule: `R/${new Date(start).toISOString()}/PT${PERIOD_S}S`,
          epsilon: `PT${EPSILON_S}S`,
          cpus: 0.05,
          mem: 16,
          disk: 0,
          retries: 0,
          // A run whose end is not yet confirmed (its update held up by the master failover) must
          // not make the next due time skip (FORBID would, and record it so).
          concurrent: true,
        }),
      });
      expect(r.status, await r.text()).to.equal(204);
    }

    await sleep(10_000);
    leader.proc.child.kill('SIGKILL');
    await waitFor('the other Chronos to lead', () => leading(other), 30_000);
    await sleep(10_000);
    const leadingMaster = await waitFor('a leading master', async () => {
      for (const m of masters) if (await masterLeading(m)) return m;
      return undefined;
    });
    leadingMaster.proc.child.kill('SIGKILL');
    const otherMaster = masters.find((m) => m !== leadingMaster) as MasterProc;
    await waitFor('the other master to lead', () => masterLeading(otherMaster), 30_000);
    await sleep(15_000);
    // The window: due times up to 12 s ago (each has had time to run and write its line).
    const end = Date.now() - 12_000;
    await sleep(3_000);

    const lines = readFileSync(log, 'utf8').trim().split('\n').filter(Boolean);
    const seen = new Map<string, number[]>();
    for (const line of lines) {
      const [job, due, started] = line.split(' ');
      const key = `${job} ${due}`;
      seen.set(key, [...(seen.get(key) ?? []), Number(started)]);
    }
    const problems: string[] = [];
    let expected = 0;
    for (const job of JOBS) {
      for (let due = start; due <= end; due += PERIOD_S * 1000) {
        expected++;
        const starts = seen.get(`${job} ${due}`) ?? [];
        if (starts.length !== 1) problems.push(`${job} due ${new Date(due).toISOString()}: ${starts.length} runs`);
        for (const s of starts) {
          if (s < due || s > due + EPSILON_S * 1000 + SLACK_MS)
            problems.push(`${job} due ${new Date(due).toISOString()} started ${s - due} ms after its due time`);
        }
      }
    }
    for (const [key, starts] of seen) if (starts.length > 1) problems.push(`${key}: ${starts.length} runs (doubled)`);
    const late = [...seen.entries()].map(([k, s]) => (s[0] as number) - Number(k.split(' ')[1]));
    console.log(
      `      ${expected} due times in the window, ${lines.length} runs logged, lateness max ${Math.max(...late)} ms`,
    );
    if (problems.length > 0) {
      console.log('start', start, lines.slice(0, 6));
      const h = await getJson(`${other.url}/scheduler/job/alpha/runs`);
      const bad = new Set(problems.map((p) => Date.parse((p.split(' ')[2] as string).replace(/:$/, ''))));
      console.log(JSON.stringify([...h.history, ...h.active].filter((r: { due: number }) => bad.has(r.due))));
    }
    expect(problems).to.deep.equal([]);
    expect(expected).to.be.at.least(3 * 8);
  });
});
