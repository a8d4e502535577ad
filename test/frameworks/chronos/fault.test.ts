/**
 * The fault test, in the manner of Jepsen's Chronos analysis: jobs repeating every few seconds write
 * `<job> <due> <start>` lines to a log file outside Agora; two Chronos instances elect a leader on a
 * real ZooKeeper; the leading Chronos is killed with SIGKILL while they run, and then the leading
 * master of two. Afterwards every due time in the window has exactly one run that started within
 * [due, due + epsilon + a few seconds], and no due time has two — read from the tasks' own log, not
 * from Chronos's records. The due times are computed here, from the schedule posted.
 */
import { join } from 'node:path';
import { expect } from 'chai';
import {
  dumpProcessLogs,
  getJson,
  type MasterProc,
  startAgentProc,
  startMasterProc,
  stopAll,
  tempDir,
  waitFor,
} from '../../support/cluster.js';
import { requireReal } from '../../support/require-real.js';
import { TestZkServer, zookeeperAvailability } from '../../support/zookeeper.js';
import {
  type ChronosProc,
  checkExactlyOnceSettled,
  chronosLeading as leading,
  postLoggedJobs,
  recordsOf,
  startChronosProc,
  waitRunsFrom,
} from './fault-support.js';

/** Two due times of each job fall in the ~4 s without a leader (ZooKeeper session timeout), and more in the master's. */
const PERIOD_S = 2;
const EPSILON_S = 30;
/** Slack on top of epsilon for a run's start (process start, clocks). */
const SLACK_MS = 5_000;
const JOBS = ['alpha', 'beta', 'gamma'];

async function masterLeading(m: MasterProc): Promise<boolean> {
  if (m.proc.exited) return false;
  try {
    return (await getJson(`${m.url}/health`)).leading === true;
  } catch {
    return false;
  }
}

describe('Chronos fault test: leader kills, exactly one run per due time (@integration)', function () {
  this.timeout(300_000);
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
    // Started side by side: each finds the others through ZooKeeper, whichever comes up first.
    const chronosZk = zk.url('/chronos');
    const [masters, , chronos] = await Promise.all([
      Promise.all([startMasterProc(masterFlags), startMasterProc(masterFlags)]),
      startAgentProc(masterZk, ['--resources', 'cpus:8;mem:8192;disk:10000']),
      Promise.all([
        startChronosProc(chronosZk, masterZk, 'chronos-1'),
        startChronosProc(chronosZk, masterZk, 'chronos-2'),
      ]),
    ]);
    const leader = await waitFor('a leading Chronos', async () => {
      for (const c of chronos) if (await leading(c)) return c;
      return undefined;
    });
    const other = chronos.find((c) => c !== leader) as ChronosProc;

    await waitFor(
      'the other Chronos to know the leader',
      async () => (await getJson(`${other.url}/scheduler/leader`)).leader,
    );
    // Posted to the non-leader: it forwards to the leader.
    const jobs = await postLoggedJobs(other, JOBS, join(tempDir('chronos-fault'), 'runs.log'), PERIOD_S, EPSILON_S);

    // Runs under the first leader (two due times of every job), then its SIGKILL.
    await waitRunsFrom(jobs, jobs.start + PERIOD_S * 1000, 'runs under the first leader');
    leader.proc.child.kill('SIGKILL');
    await waitFor('the other Chronos to lead', () => leading(other), 30_000);
    // Runs under the new leader (those missed in between are checked at the end), then the master's SIGKILL.
    await waitRunsFrom(jobs, Date.now(), 'runs under the new leader');
    const leadingMaster = await waitFor('a leading master', async () => {
      for (const m of masters) if (await masterLeading(m)) return m;
      return undefined;
    });
    leadingMaster.proc.child.kill('SIGKILL');
    const otherMaster = masters.find((m) => m !== leadingMaster) as MasterProc;
    await waitFor('the other master to lead', () => masterLeading(otherMaster), 30_000);
    // The window: due times up to the first one run through the new master, and at least 8 of each
    // job. Then two more due times of runs, in which a run launched twice (a launch sent again after
    // the re-subscription) would show; the runs of the window that are still missing are waited for
    // (checkExactlyOnceSettled), up to epsilon late.
    const resumed = await waitRunsFrom(jobs, Date.now(), 'runs through the new master');
    const end = Math.max(resumed, jobs.start + 7 * PERIOD_S * 1000);
    await waitRunsFrom(jobs, end + 2 * PERIOD_S * 1000, 'runs after the window');

    const { problems, expected, lines, maxLatenessMs } = await checkExactlyOnceSettled(jobs, end, SLACK_MS);
    console.log(`      ${expected} due times in the window, ${lines} runs logged, lateness max ${maxLatenessMs} ms`);
    if (problems.length > 0) console.log(await recordsOf(other, 'alpha', problems));
    expect(problems).to.deep.equal([]);
    expect(expected).to.be.at.least(3 * 8);
  });
});
