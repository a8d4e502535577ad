/**
 * The Chronos service's HTTP faces on the engine (agora/sdk/testing cluster, virtual clock):
 * Chronos's routes under /scheduler and /v1/scheduler, Metronome's /v1/jobs, 400 messages that say
 * what is wrong, cycles refused, one job seen through both faces, the fixtures posted, forwarding
 * from a non-leader.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestCluster } from 'agora/sdk/testing';
import { expect } from 'chai';
import { pino } from 'pino';
import type { Engine } from '../../../frameworks/chronos/engine/engine.js';
import { createChronosHttp } from '../../../frameworks/chronos/http/index.js';
import type { AgoraHttp } from '../../../sdk/http/index.js';
import { REPO_ROOT } from '../../support/cluster.js';
import { type ChronosRig, startChronosRig } from './http-rig.js';

const log = pino({ level: 'silent' });
const START = Date.UTC(2026, 2, 1, 12, 0, 0);

describe('Chronos HTTP API (Chronos 3 and Metronome faces)', () => {
  let cluster: TestCluster;
  let engine: Engine;
  let app: AgoraHttp;

  let rig: ChronosRig;

  beforeEach(async () => {
    rig = await startChronosRig(START);
    ({ cluster, engine, app } = rig);
  });
  afterEach(async () => rig.stop());

  const post = (url: string, payload: unknown) => app.inject({ method: 'POST', url, payload: payload as object });

  it('creates, lists, searches, shows and deletes Chronos jobs under both prefixes', async () => {
    const job = { name: 'nightly', command: 'echo hi', schedule: 'R/2026-03-02T00:00:00Z/P1D', owner: 'ops@x' };
    expect((await post('/scheduler/iso8601', job)).statusCode).to.equal(204);
    expect(
      (await post('/v1/scheduler/iso8601', { ...job, name: 'other', command: 'ls', owner: '' })).statusCode,
    ).to.equal(204);
    const list = (await app.inject({ url: '/v1/scheduler/jobs' })).json();
    expect(list.map((j: { name: string }) => j.name).sort()).to.deep.equal(['nightly', 'other']);
    const one = (await app.inject({ url: '/scheduler/job/nightly' })).json();
    expect(one).to.include({ name: 'nightly', command: 'echo hi', retries: 2, shell: true, epsilon: 'PT60S' });
    const found = (await app.inject({ url: '/scheduler/jobs/search?command=ls' })).json();
    expect(found.map((j: { name: string }) => j.name)).to.deep.equal(['other']);
    const any = (await app.inject({ url: '/scheduler/jobs/search?any=ops@x&limit=5&offset=0' })).json();
    expect(any.map((j: { name: string }) => j.name)).to.deep.equal(['nightly']);
    const summary = (await app.inject({ url: '/scheduler/jobs/summary' })).json();
    expect(summary.jobs).to.have.length(2);
    expect((await app.inject({ method: 'DELETE', url: '/scheduler/job/other' })).statusCode).to.equal(204);
    expect((await app.inject({ url: '/scheduler/job/other' })).statusCode).to.equal(404);
    expect((await app.inject({ url: '/scheduler/leader' })).json()).to.deep.equal({ leader: '127.0.0.1:4400' });
  });

  it('answers 400 with what is wrong (no stack) and refuses unknown parents and cycles', async () => {
    const bad = await post('/scheduler/iso8601', {
      name: 'x',
      command: 'true',
      schedule: 'R/2026-01-01T00:00:00Z/PT0S',
    });
    expect(bad.statusCode).to.equal(400);
    expect(bad.json().code).to.equal('AGORA_CHRONOS_JOB_INVALID');
    expect(bad.json().message).to.match(/schedule/);
    expect(bad.body).not.to.match(/at .*\.js/);
    const tz = await post('/scheduler/iso8601', {
      name: 'y',
      command: 'true',
      schedule: 'R/2026-01-01T00:00:00Z/P1D',
      scheduleTimeZone: 'Mars/Olympus',
    });
    expect(tz.statusCode).to.equal(400);
    expect(tz.json().message).to.match(/Mars\/Olympus|time zone/i);
    const orphan = await post('/scheduler/dependency', { name: 'c', command: 'true', parents: ['nope'] });
    expect(orphan.statusCode).to.equal(400);
    expect(orphan.json().message).to.match(/nope/);
    expect(
      (await post('/scheduler/iso8601', { name: 'a', command: 'true', schedule: 'R/2026-03-02T00:00:00Z/P1D' }))
        .statusCode,
    ).to.equal(204);
    expect((await post('/scheduler/dependency', { name: 'b', command: 'true', parents: ['a'] })).statusCode).to.equal(
      204,
    );
    const cycle = await post('/scheduler/dependency', { name: 'a', command: 'true', parents: ['b'] });
    expect(cycle.statusCode).to.equal(400);
    expect(cycle.json().code).to.equal('AGORA_CHRONOS_DEPENDENCY_INVALID');
    expect(cycle.json().message).to.match(/cycle/);
    const csv = (await app.inject({ url: '/scheduler/graph/csv' })).body;
    expect(csv).to.include('link,a,b');
    expect((await app.inject({ url: '/scheduler/graph/dot' })).body).to.match(/digraph/);
  });

  it('runs a job now with arguments, kills it, counts a manual success and deletes a parent as Chronos does', async () => {
    await post('/scheduler/iso8601', {
      name: 'p',
      command: 'echo',
      schedule: 'R/2027-01-01T00:00:00Z/P1D',
      cpus: 0.1,
      mem: 16,
      disk: 0,
    });
    await post('/scheduler/dependency', { name: 'q', command: 'true', parents: ['p'] });
    expect(
      (await app.inject({ method: 'PUT', url: '/scheduler/job/p?arguments=one%20%22two%20three%22' })).statusCode,
    ).to.equal(204);
    await cluster.until(() => cluster.running().length === 1, { what: 'the manual run to be launched' });
    const [task] = [...(cluster.agents[0]?.tasks.values() ?? [])];
    // Appended as written, as Chronos 3 does (the shell splits it).
    expect(task?.task.command?.value).to.equal('echo one "two three"');
    expect((await app.inject({ method: 'DELETE', url: '/scheduler/task/kill/p' })).statusCode).to.equal(204);
    await cluster.until(() => cluster.running().length === 0, { what: 'the kill' });
    expect((await app.inject({ method: 'PUT', url: '/scheduler/job/success/p' })).statusCode).to.equal(204);
    await cluster.until(() => cluster.running().length === 1, { what: 'the child to run after the success' });
    expect((await app.inject({ url: '/scheduler/job/p' })).json().successCount).to.equal(1);
    const stat = (await app.inject({ url: '/scheduler/job/stat/p' })).json();
    expect(stat).to.have.property('histogram');
    expect((await app.inject({ url: '/scheduler/stats/99thPercentile' })).statusCode).to.equal(200);
    // Deleting the scheduled parent: the child takes its schedule.
    expect((await app.inject({ method: 'DELETE', url: '/scheduler/job/p' })).statusCode).to.equal(204);
    const q = (await app.inject({ url: '/scheduler/job/q' })).json();
    expect(q.parents).to.equal(undefined);
    expect(q.schedule).to.match(/^R\/2027-01-0\dT00:00:00(\.000)?Z\/P1D$/);
  });

  it('serves Metronome: jobs, schedules, runs and history on the same engine, both ways', async () => {
    const spec = { id: 'etl.daily', description: 'd', run: { cmd: 'true', cpus: 0.1, mem: 32, disk: 0 } };
    const created = await post('/v1/jobs', spec);
    expect(created.statusCode, created.body).to.equal(201);
    expect((await post('/v1/jobs', spec)).statusCode).to.equal(409);
    const sched = { id: 'nightly', cron: '30 2 * * *', timezone: 'Europe/Berlin', concurrencyPolicy: 'FORBID' };
    expect((await post('/v1/jobs/etl.daily/schedules', sched)).statusCode).to.equal(201);
    const s = (await app.inject({ url: '/v1/jobs/etl.daily/schedules/nightly' })).json();
    expect(s).to.include({ cron: '30 2 * * *', timezone: 'Europe/Berlin', concurrencyPolicy: 'FORBID', enabled: true });
    // 2026-03-02 02:30 in Berlin (CET, UTC+1) is 01:30 UTC.
    expect(s.nextRunAt).to.equal('2026-03-02T01:30:00.000Z');
    const run = await post('/v1/jobs/etl.daily/runs', {});
    expect(run.statusCode).to.equal(201);
    await cluster.until(() => cluster.running().length === 1, { what: 'the run to start' });
    const [t] = cluster.running();
    t?.agent.finish(t.taskId);
    await cluster.advance(1_000);
    const withHistory = (
      await app.inject({ url: '/v1/jobs/etl.daily?embed=history&embed=schedules&embed=activeRuns' })
    ).json();
    expect(withHistory.history.successCount).to.equal(1);
    expect(withHistory.schedules).to.have.length(1);
    expect(withHistory.activeRuns).to.deep.equal([]);
    const got = (await app.inject({ url: `/v1/jobs/etl.daily/runs/${run.json().id}` })).json();
    expect(got.status).to.equal('SUCCESS');
    // The same job through Chronos's face, with its counters.
    const asChronos = (await app.inject({ url: '/scheduler/job/etl.daily' })).json();
    expect(asChronos).to.include({ name: 'etl.daily', successCount: 1 });
    // And a Chronos job through Metronome's.
    await post('/scheduler/iso8601', { name: 'fromchronos', command: 'true', schedule: '*/5 * * * *' });
    const m = (await app.inject({ url: '/v1/jobs/fromchronos?embed=schedules' })).json();
    expect(m.run.cmd).to.equal('true');
    expect(m.schedules[0].cron).to.equal('*/5 * * * *');
    expect((await app.inject({ method: 'DELETE', url: '/v1/jobs/etl.daily/schedules/nightly' })).statusCode).to.equal(
      200,
    );
    expect((await app.inject({ method: 'DELETE', url: '/v1/jobs/etl.daily' })).statusCode).to.equal(200);
    expect((await app.inject({ url: '/v1/jobs/etl.daily' })).statusCode).to.equal(404);
  });

  it('takes every Chronos and Metronome job of the fixtures, or refuses it with a reason', async () => {
    const dir = join(REPO_ROOT, 'test/fixtures/chronos');
    const seen: string[] = [];
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.json') && f !== 'SOURCES.json')) {
      const doc = JSON.parse(readFileSync(join(dir, file), 'utf8'));
      const docs = Array.isArray(doc) ? doc : [doc];
      for (const d of docs) {
        const metronome = 'run' in d;
        const dependent = Array.isArray(d.parents) && d.parents.length > 0;
        const url = metronome ? '/v1/jobs' : dependent ? '/scheduler/dependency' : '/scheduler/iso8601';
        // A dependent job's parents are created first, as their users would.
        if (dependent)
          for (const p of d.parents as string[])
            await post('/scheduler/iso8601', { name: p, command: 'true', schedule: 'R/2030-01-01T00:00:00Z/P1D' });
        const r = await post(url, d);
        if (r.statusCode >= 300) {
          // 409: the same Metronome id as an earlier fixture's (several share 'prod.example.app').
          expect(r.statusCode, `${file}: ${r.body}`).to.be.oneOf([400, 409]);
          expect(r.json().message, file).to.be.a('string').and.not.equal('');
        }
        seen.push(`${file} ${r.statusCode}`);
      }
    }
    expect(seen).to.include('chronos-doc-scheduled-SAMPLE_JOB1.json 204');
    expect(seen.filter((s) => /^metronome-.* 201$/.test(s)).length).to.be.greaterThan(3);
    expect(seen.filter((s) => / 400$/.test(s)).length).to.be.greaterThan(0);
  });

  it('a non-leader forwards requests to the leader and relays its answers', async () => {
    await app.listen({ port: 0, host: '127.0.0.1' });
    const addr = app.server.address();
    const leaderAt = `127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
    const follower = createChronosHttp({
      logger: log,
      clock: cluster.clock,
      engine: () => undefined,
      leader: () => leaderAt,
      leading: () => false,
      metrics: () => ({}),
    });
    await follower.listen({ port: 0, host: '127.0.0.1' });
    try {
      const fa = follower.server.address();
      const url = `http://127.0.0.1:${typeof fa === 'object' && fa ? fa.port : 0}`;
      const r = await fetch(`${url}/scheduler/iso8601`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'via', command: 'true', schedule: 'R/2030-01-01T00:00:00Z/P1D' }),
      });
      expect(r.status).to.equal(204);
      expect(engine.get('via')).to.not.equal(undefined);
      const bad = await fetch(`${url}/v1/jobs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ id: 'BAD id' }),
      });
      expect(bad.status).to.equal(400);
      expect(((await bad.json()) as { code: string }).code).to.equal('AGORA_CHRONOS_JOB_INVALID');
      expect((await fetch(`${url}/ping`)).status).to.equal(200);
    } finally {
      await follower.close();
    }
  });
});
