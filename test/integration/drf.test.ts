/**
 * The allocator through the real master: the DRF paper's example with two frameworks launching
 * tasks from offers, and weights and quota changed at run time through the operator API.
 */
import { expect } from 'chai';
import type { Offer } from '../../sdk/protocol/types.js';
import { Resources } from '../../sdk/resources/resources.js';
import {
  dumpProcessLogs,
  getJson,
  type MasterProc,
  sleep,
  startAgentProc,
  startMasterProc,
  stopAll,
  waitFor,
} from '../support/cluster.js';
import { commandTask, TestFramework } from '../support/framework.js';

/** Launches one task of `need` per offer for as long as offers hold it (progressive filling). */
function fillOneAtATime(f: TestFramework, prefix: string, need: string, max = 1000): string[] {
  const launched: string[] = [];
  const needed = Resources.parse(need);
  const onOffers = (offers: Offer[]) => {
    f.offers.length = 0;
    for (const o of offers) {
      if (launched.length < max && Resources.from(o.resources).contains(needed)) {
        const id = `${prefix}-${launched.length}`;
        launched.push(id);
        f.driver.launch(o, [commandTask(o, id, 'sleep 300', need)], { refuse_seconds: 0 });
      } else {
        f.driver.decline([o.id], { refuse_seconds: 1 });
      }
    }
  };
  f.driver.on('offers', onOffers);
  onOffers(f.offers.splice(0));
  return launched;
}

// biome-ignore lint/suspicious/noExplicitAny: loosely typed JSON from the HTTP API
async function send(url: string, method: string, body: unknown): Promise<{ status: number; json: any }> {
  const r = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: r.status, json: await r.json() };
}

describe('DRF, weights and quota through the real master @integration', function () {
  this.timeout(180_000);
  let master: MasterProc;
  const frameworks: TestFramework[] = [];

  afterEach(async function () {
    if (this.currentTest?.state === 'failed') dumpProcessLogs();
    await Promise.all(frameworks.splice(0).map((f) => f.driver.teardown()));
    await stopAll();
  });

  it("gives user A three tasks and user B two on 9 CPUs and 18 GB (the DRF paper's example)", async () => {
    master = await startMasterProc(['--allocation_interval', '100ms']);
    await startAgentProc(master.address, ['--resources', 'cpus:9;mem:18432;disk:1000']);
    // A's tasks need <1 CPU, 4 GB>: each adds 4/18 = 0.222 to A's dominant (mem) share.
    // B's tasks need <3 CPU, 1 GB>: each adds 3/9 = 0.333 to B's dominant (cpu) share.
    // DRF serves the lower share each time: A(0.22) B(0.33) A(0.44) B(0.67) A(0.67); then 0 CPUs are left.
    const a = await new TestFramework(master.address, 'user-a').start();
    const b = await new TestFramework(master.address, 'user-b').start();
    frameworks.push(a, b);
    const la = fillOneAtATime(a, 'a', 'cpus:1;mem:4096');
    const lb = fillOneAtATime(b, 'b', 'cpus:3;mem:1024');
    await waitFor(
      '5 tasks running',
      () => a.updates.concat(b.updates).filter((u) => u.state === 'TASK_RUNNING').length === 5,
    );
    await sleep(1000); // nothing more fits: no sixth task may appear
    expect(la).to.have.length(3);
    expect(lb).to.have.length(2);
    const state = await getJson(`${master.url}/master/state`);
    expect(state.slaves[0].used_resources).to.include({ cpus: 9, mem: 14336 });
    const metrics = await getJson(`${master.url}/metrics/snapshot`);
    expect(metrics['master/tasks_running']).to.equal(5);
  });

  it('changes weights at run time through PUT /weights, visible in /roles and /weights; bad requests change nothing', async () => {
    master = await startMasterProc();
    await startAgentProc(master.address, ['--resources', 'cpus:4;mem:4096']);
    const ok = await send(`${master.url}/weights`, 'PUT', [
      { role: 'eng/backend', weight: 2 },
      { role: 'analytics', weight: 0.5 },
    ]);
    expect(ok.status).to.equal(200);
    expect(await getJson(`${master.url}/weights`)).to.deep.equal([
      { role: 'eng/backend', weight: 2 },
      { role: 'analytics', weight: 0.5 },
    ]);
    const roles = (await getJson(`${master.url}/roles`)).roles;
    expect(roles.find((r: { name: string }) => r.name === 'eng/backend').weight).to.equal(2);
    for (const bad of [
      [
        { role: 'analytics', weight: 3 },
        { role: 'x', weight: -1 },
      ],
      [{ role: 'bad role', weight: 1 }],
      [{ role: '/lead', weight: 1 }],
      { role: 'x', weight: 1 },
      '[{"role": "x", "weight": 1',
    ]) {
      const r = await send(`${master.url}/weights`, 'PUT', bad);
      expect(r.status, JSON.stringify(bad)).to.equal(400);
      expect(r.json.message).to.be.a('string').and.not.equal('');
    }
    // An over-sized body (2 MiB, over the 1 MiB limit) is refused before it is parsed.
    const huge = await send(`${master.url}/weights`, 'PUT', [
      { role: 'x', weight: 1, pad: 'p'.repeat(2 * 1024 * 1024) },
    ]);
    expect(huge.status).to.equal(413);
    expect(huge.json.code).to.equal('AGORA_HTTP_BODY_TOO_LARGE');
    // The first bad request held a valid entry: it must not have been applied.
    expect(
      (await getJson(`${master.url}/weights`)).find((w: { role: string }) => w.role === 'analytics').weight,
    ).to.equal(0.5);
  });

  it('enforces a quota limit set at run time, shows it in /roles and /quota, and removes it', async () => {
    master = await startMasterProc(['--allocation_interval', '100ms']);
    await startAgentProc(master.address, ['--resources', 'cpus:8;mem:8192']);
    const set = await send(`${master.url}/quota`, 'POST', {
      role: 'batch',
      guarantees: { cpus: 1 },
      limits: { cpus: 2, mem: 4096 },
    });
    expect(set.status).to.equal(200);
    const f = await new TestFramework(master.address, 'batchy', { roles: ['batch'] }).start();
    frameworks.push(f);
    const launched = fillOneAtATime(f, 'q', 'cpus:0.5;mem:64');
    await waitFor('4 tasks (2 cpus) running', () => f.updates.filter((u) => u.state === 'TASK_RUNNING').length === 4);
    // For 1.5 s, every offer the framework gets stays within the limits. At its cpu limit the role
    // may still be offered what it has room for (its 3840 MB of mem room, the disk and ports, no
    // cpus; Mesos does the same).
    const offered: { cpus: number; mem: number }[] = [];
    const record = (offers: Offer[]) => {
      for (const o of offers) {
        const r = Resources.from(o.resources);
        offered.push({ cpus: r.scalar('cpus'), mem: r.scalar('mem') });
      }
    };
    f.driver.on('offers', record);
    await sleep(1500);
    f.driver.off('offers', record);
    const seen = `offers: ${JSON.stringify(offered)}`;
    for (const o of offered) {
      expect(o.cpus, `no cpus beyond the limit; ${seen}`).to.equal(0);
      expect(o.mem, `mem within its room; ${seen}`).to.be.at.most(3840);
    }
    // Such an offer lifts the dominant share to 1 (all of the disk) until the framework declines
    // it, so the share is read at a moment when nothing is on offer to the role.
    // biome-ignore lint/suspicious/noExplicitAny: loosely typed JSON from the HTTP API
    let quiet: any;
    for (let i = 0; i < 100 && quiet === undefined; i++) {
      const roles = (await getJson(`${master.url}/roles`)).roles;
      const b = roles.find((r: { name: string }) => r.name === 'batch');
      if (!Object.values(b.offered).some((v) => v !== 0)) quiet = b;
      else await sleep(10);
    }
    expect(launched, 'never beyond the 2-cpu limit').to.have.length(4);
    expect(quiet, 'a moment with nothing on offer to batch').to.not.equal(undefined);
    const batch = quiet;
    expect(batch.quota.limits).to.deep.equal({ cpus: 2, mem: 4096 });
    expect(batch.quota.guarantees).to.deep.equal({ cpus: 1 });
    expect(batch.allocated.cpus).to.equal(2);
    expect(batch.dominant_share).to.be.closeTo(0.25, 1e-9);
    const quota = await getJson(`${master.url}/quota`);
    expect(quota.infos.map((q: { role: string }) => q.role)).to.deep.equal(['batch']);
    for (const bad of [
      { role: 'batch', guarantees: { cpus: 3 }, limits: { cpus: 2 } },
      { role: '*', limits: { cpus: 1 } },
      { role: 'x' },
      { role: 'x', limits: { cpus: 'two' } },
      { role: 'x', limits: 'ports:[1-2]' },
    ]) {
      const r = await send(`${master.url}/quota`, 'POST', bad);
      expect(r.status, JSON.stringify(bad)).to.equal(400);
    }
    expect((await getJson(`${master.url}/quota`)).infos[0].limits).to.deep.equal({ cpus: 2, mem: 4096 });
    const del = await fetch(`${master.url}/quota/batch`, { method: 'DELETE' });
    expect(del.status).to.equal(200);
    expect((await fetch(`${master.url}/quota/batch`, { method: 'DELETE' })).status).to.equal(400);
    // Without the limit the framework may grow again.
    await waitFor('more than 4 tasks once the limit is gone', () => launched.length > 4);
    const metrics = await getJson(`${master.url}/metrics/snapshot`);
    expect(metrics['allocator/mesos/roles/batch/shares/dominant']).to.be.above(0.25);
    expect(metrics['allocator/mesos/allocation_runs']).to.be.above(0);
  });

  it('offers statically reserved resources only to their role', async () => {
    master = await startMasterProc(['--allocation_interval', '100ms']);
    await startAgentProc(master.address, ['--resources', 'cpus:1;mem:512;cpus(analytics):4;mem(analytics):2048']);
    const other = await new TestFramework(master.address, 'web', { roles: ['web'] }).start();
    const mine = await new TestFramework(master.address, 'analyst', { roles: ['analytics'] }).start();
    frameworks.push(other, mine);
    const [o1] = await other.takeOffers();
    const [o2] = await mine.takeOffers();
    const r1 = Resources.from(o1.resources);
    expect(r1.roles(), 'web sees no analytics reservation').to.deep.equal(['*']);
    const r2 = Resources.from(o2.resources);
    expect(r2.scalar('cpus', 'analytics')).to.equal(4);
    expect(o2.allocation_role).to.equal('analytics');
    // Launching on the reserved cpus works for the analytics framework.
    mine.driver.launch(o2, [commandTask(o2, 'res', 'sleep 300', 'cpus(analytics):2;mem(analytics):64')]);
    await mine.waitState('res', 'TASK_RUNNING');
    const roles = (await getJson(`${master.url}/roles`)).roles;
    expect(roles.find((r: { name: string }) => r.name === 'analytics').reserved).to.include({ cpus: 4, mem: 2048 });
  });

  it('rescinds offers held past --offer_timeout, sends HEARTBEAT events, and honours SUPPRESS and REVIVE', async () => {
    master = await startMasterProc([
      '--allocation_interval',
      '100ms',
      '--offer_timeout',
      '300ms',
      '--scheduler_heartbeat_interval',
      '200ms',
    ]);
    await startAgentProc(master.address, ['--resources', 'cpus:2;mem:1024']);
    const f = await new TestFramework(master.address, 'holder').start();
    frameworks.push(f);
    await waitFor('an offer rescinded after the timeout', () => f.rescinded.length > 0);
    await waitFor('a HEARTBEAT event from the master', () => f.driver.lastHeartbeat !== undefined);
    f.driver.suppress();
    let state = await getJson(`${master.url}/master/state`);
    const fw = () => state.frameworks.find((x: { id: string }) => x.id === f.driver.frameworkId);
    // Until the master has applied the SUPPRESS it still makes offers (every 100 ms, each rescinded
    // after 300 ms): wait for that, not a fixed 500 ms, before counting offers from a clean slate.
    await waitFor(
      () => `the master to apply SUPPRESS (suppressed_roles: ${JSON.stringify(fw()?.suppressed_roles)})`,
      async () => {
        state = await getJson(`${master.url}/master/state`);
        return fw()?.suppressed_roles?.length === 1;
      },
    );
    f.offers.length = 0;
    // Ten allocation cycles (counted by the master, not timed) with no offer.
    const runs = async () => (await getJson(`${master.url}/metrics/snapshot`))['allocator/mesos/allocation_runs'];
    const from = await runs();
    await waitFor('10 allocation cycles', async () => (await runs()) >= from + 10);
    expect(f.offers, 'no offers while suppressed').to.have.length(0);
    state = await getJson(`${master.url}/master/state`);
    expect(fw().suppressed_roles).to.deep.equal(['*']);
    expect(fw().offer_stats.agents_skipped_last_cycle.suppressed).to.equal(1);
    f.driver.revive();
    await f.takeOffers(1);
    state = await getJson(`${master.url}/master/state`);
    expect(fw().suppressed_roles).to.deep.equal([]);
    expect(fw().offer_stats.offers_rescinded).to.be.at.least(1);
  });
});
