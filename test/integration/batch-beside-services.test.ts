/**
 * Batch beside services (issue 13): Marathon services and a burst of Chronos jobs on one small real
 * cluster (a master and two posix agents), under two roles weighted 2:1 (`services` for Marathon's
 * `--mesos_role`, `batch` for Chronos's `--role`, weights through the master's `PUT /weights`).
 *
 * While both want more than their share (Marathon scaled past it, Chronos with runs queued), the
 * dominant shares the master reports in `/roles` must settle near 2:1; neither side may starve; the
 * services must keep the instances they had before the burst running throughout (sampled from
 * Marathon's `/v2/apps`); and every job run due in the burst must happen, as the jobs' own log says.
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
  PROCESS_START_MS,
  sleep,
  startAgentProc,
  startMasterProc,
  stopAll,
  tempDir,
  waitFor,
} from '../support/cluster.js';
import { send, startMarathonProc } from './marathon-support.js';

const JOBS = 32;
/** Each job holds its slot this long, so the burst keeps Chronos wanting more for a while. */
const JOB_SECONDS = 3;

describe('Batch beside services: Marathon and a Chronos burst under weights 2:1 @integration', function () {
  this.timeout(300_000);
  let master: MasterProc;

  afterEach(async function () {
    if (this.currentTest?.state === 'failed') dumpProcessLogs(60);
    await stopAll();
  });

  it('shares settle near the weights, neither starves, services keep their capacity, every run happens', async () => {
    master = await startMasterProc(['--allocation_interval', '200ms']);
    // 4 CPUs in all: at 2:1 the services' fair share is 2.67 CPUs (10.7 tasks of 0.25), batch's 1.33 (5.3).
    // Memory and disk in proportion (8 tasks of 32 MB each per agent), so that a dominant share counts
    // slots: with idle gigabytes, whoever holds an offer counts an agent's idle memory as its share.
    for (let i = 0; i < 2; i++) await startAgentProc(master.address, ['--resources', 'cpus:2;mem:256;disk:256']);
    const w = await send(master.url, 'PUT', '/weights', [
      { role: 'services', weight: 2 },
      { role: 'batch', weight: 1 },
    ]);
    expect(w.status).to.equal(200);

    const marathon = await startMarathonProc(master.address, ['--mesos_role', 'services']);
    const chronosPort = await freePort();
    const chronos = agora('chronos', [
      'chronos',
      '--master',
      master.address,
      '--http_port',
      String(chronosPort),
      '--work_dir',
      tempDir('chronos'),
      '--role',
      'batch',
    ]);
    const chronosUrl = `http://127.0.0.1:${chronosPort}`;
    await waitFor(
      () => `chronos to lead (output: ${chronos.text().slice(-500)})`,
      async () => {
        if (chronos.exited) throw new Error(`chronos exited: ${chronos.text().slice(-2000)}`);
        return (await getJson(`${chronosUrl}/metrics`)).leading === 1;
      },
      PROCESS_START_MS,
    );

    // The services first: 4 instances (1 CPU), the capacity they must keep through the burst.
    const app = { id: '/web', cmd: 'sleep 100000', cpus: 0.25, mem: 32, disk: 32, instances: 4 };
    expect((await send(marathon.url, 'POST', '/v2/apps', app)).status).to.equal(201);
    const running = async () => ((await getJson(`${marathon.url}/v2/apps/web`)).app.tasksRunning as number) ?? 0;
    await waitFor('4 service instances running', async () => (await running()) === 4, 40_000);

    // The burst: JOBS jobs due at the same moment, each writing its run to a log outside Agora.
    const log = join(tempDir('batch-log'), 'runs.log');
    const due = new Date(Date.now() + 4_000).toISOString();
    for (let i = 0; i < JOBS; i++) {
      const r = await send(chronosUrl, 'POST', '/scheduler/iso8601', {
        name: `burst-${i}`,
        // Each run ends on the next multiple of JOB_SECONDS of the clock: runs launched together end
        // together, as a burst of equal jobs does on a quiet machine (the case that broke the weights).
        command: `echo "$CHRONOS_JOB_NAME $CHRONOS_DUE" >> ${log}; sleep $(awk -v t=$(date +%s.%N) 'BEGIN { print ${JOB_SECONDS} - t % ${JOB_SECONDS} }')`,
        schedule: `R1/${due}/PT1H`,
        epsilon: 'PT5M',
        cpus: 0.25,
        mem: 32,
        disk: 32,
      });
      expect(r.status, JSON.stringify(r.body)).to.equal(204);
    }
    // ... and as it starts the services want 12 instances (3 CPUs: past their 2.67). Chronos holds the
    // free offers for its due time, so batch starts above its share: as its tasks end, the freed
    // resources must go to the services until the shares meet the weights (no preemption in DRF).
    await sleep(Math.max(0, Date.parse(due) - Date.now()));
    expect((await send(marathon.url, 'PUT', '/v2/apps/web', { instances: 12 })).status).to.equal(200);

    // Sample while both want more: shares from /roles, the services' running count from Marathon.
    const samples: { services: number; batch: number }[] = [];
    let minRunning = Number.POSITIVE_INFINITY;
    let batchEverRan = false;
    let servicesGrew = false;
    const lines = () => {
      try {
        return readFileSync(log, 'utf8').split('\n').filter(Boolean);
      } catch {
        return [];
      }
    };
    const deadline = Date.now() + 70_000;
    while (Date.now() < deadline && lines().length < JOBS) {
      const [roles, n] = await Promise.all([getJson(`${master.url}/roles`), running()]);
      minRunning = Math.min(minRunning, n);
      if (n > 4) servicesGrew = true;
      const share = (name: string) =>
        (roles.roles as { name: string; dominant_share: number }[]).find((r) => r.name === name)?.dominant_share ?? 0;
      const s = { services: share('services'), batch: share('batch') };
      if (s.batch > 0) batchEverRan = true;
      // Both want more: Chronos with runs not yet started (lines < JOBS), and the services, whose 12
      // instances are more than their share (10.67 slots), until they have them: at 12 while the burst
      // waits, they passed their share (12:4, 3.0), which the median must catch too.
      if (s.batch > 0) samples.push(s);
      if (process.env.AGORA_TEST_VERBOSE)
        console.log(`    t=${Date.now()} running ${n} shares ${JSON.stringify(s)} lines ${lines().length}`);
      await sleep(500);
    }

    // Every run due in the burst happened, exactly once (the jobs' own log): on a slow machine the
    // last runs may end after the sampling window, so they are waited for, not read at its end.
    await waitFor(
      () => `all ${JOBS} runs in the log (${lines().length} so far)`,
      () => lines().length >= JOBS,
      60_000,
    );
    const got = lines()
      .map((l) => l.split(' ')[0])
      .sort();
    const want = Array.from({ length: JOBS }, (_, i) => `burst-${i}`).sort();
    expect(got).to.deep.equal(want);
    // Neither starved.
    expect(batchEverRan, 'batch got resources').to.equal(true);
    expect(servicesGrew, 'services got resources during the burst').to.equal(true);
    // The services kept their capacity through the burst.
    expect(minRunning).to.be.at.least(4);
    // While both wanted more, the shares settled near 2:1: the median ratio over the later half of
    // the samples (the first half is the climb from where the burst started).
    expect(samples.length, 'samples while both wanted more').to.be.at.least(6);
    const settled = samples.slice(Math.floor(samples.length / 2));
    const ratios = settled.map((s) => s.services / s.batch).sort((a, b) => a - b);
    const median = ratios[Math.floor(ratios.length / 2)] as number;
    console.log(
      `    shares while both wanted more (services/batch): median ${median.toFixed(2)} over the last ${settled.length} of ${samples.length} samples; last ${JSON.stringify(samples.at(-1))}`,
    );
    // The weights' target is 2: 10.67 of the 16 slots for the services, 5.33 for the burst. With
    // whole slots the shares settle at 10:6 (1.67) or 11:5 (2.2), the two points beside it (which
    // one depends on how the ends fall; ties go to the role with fewer allocations). Before each
    // framework took at most half of an offer, runs ending together settled at 8:8 or 9:7 (1.0 or
    // 1.29) and, when Chronos held offers long under load, at 12:4 (3.0). docs/chronos.md.
    expect(median, 'services/batch dominant-share ratio').to.be.within(1.6, 2.5);
  });
});
