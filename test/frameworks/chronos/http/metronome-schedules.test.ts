/**
 * Metronome's schedules on a job, through the HTTP API: Metronome's JobSpec allows a `schedules`
 * array but its validator and its schedule routes accept only one per job (JobSpec: "schedules has
 * size <= 1"; POST schedules: 409 "A schedule with id … already exists", then 409 "Only one schedule
 * supported at the moment"). Agora answers the same, with its stable code, and changes nothing.
 */
import { expect } from 'chai';
import type { AgoraHttp } from '../../../../sdk/http/index.js';
import { type ChronosRig, startChronosRig } from '../http-rig.js';

const START = Date.UTC(2026, 2, 1, 12, 0, 0);
const JOB = { id: 'etl.daily', run: { cmd: 'echo etl', cpus: 0.1, mem: 32, disk: 0 } };
const NIGHTLY = { id: 'nightly', cron: '30 2 * * *', timezone: 'UTC' };
const HOURLY = { id: 'hourly', cron: '0 * * * *', timezone: 'UTC' };

describe('Metronome schedules: one per job, as Metronome', () => {
  let app: AgoraHttp;

  let rig: ChronosRig;

  beforeEach(async () => {
    rig = await startChronosRig(START);
    ({ app } = rig);
  });
  afterEach(async () => rig.stop());

  const send = (method: 'POST' | 'PUT' | 'DELETE', url: string, payload?: unknown) =>
    app.inject({ method, url, payload: payload as object });
  const schedules = async () => (await app.inject({ url: '/v1/jobs/etl.daily/schedules' })).json();

  it('a second schedule is refused 409 as Metronome words it, and nothing changes', async () => {
    expect((await send('POST', '/v1/jobs', JOB)).statusCode).to.equal(201);
    expect((await send('POST', '/v1/jobs/etl.daily/schedules', NIGHTLY)).statusCode).to.equal(201);

    const same = await send('POST', '/v1/jobs/etl.daily/schedules', { ...NIGHTLY, cron: '0 3 * * *' });
    expect(same.statusCode).to.equal(409);
    expect(same.json()).to.include({ code: 'AGORA_CHRONOS_JOB_CONFLICT' });
    expect(same.json().message).to.equal('A schedule with id nightly already exists');

    const second = await send('POST', '/v1/jobs/etl.daily/schedules', HOURLY);
    expect(second.statusCode).to.equal(409);
    expect(second.json()).to.include({ code: 'AGORA_CHRONOS_JOB_CONFLICT' });
    expect(second.json().message).to.match(/^Only one schedule supported at the moment/);

    const now = await schedules();
    expect(now).to.have.length(1);
    expect(now[0]).to.include({ id: 'nightly', cron: '30 2 * * *' });
    expect(now[0].nextRunAt).to.equal('2026-03-02T02:30:00.000Z');
  });

  it('a JobSpec with two schedules is refused (POST and PUT) naming /schedules, and nothing changes', async () => {
    const two = { ...JOB, schedules: [NIGHTLY, HOURLY] };
    const created = await send('POST', '/v1/jobs', two);
    expect(created.statusCode).to.equal(400);
    expect(created.json().code).to.equal('AGORA_CHRONOS_JOB_INVALID');
    expect(created.json().message).to.match(/\/schedules.*has size 2, expected 1 or less/);
    expect((await app.inject({ url: '/v1/jobs/etl.daily' })).statusCode).to.equal(404);

    expect((await send('POST', '/v1/jobs', { ...JOB, schedules: [NIGHTLY] })).statusCode).to.equal(201);
    const replaced = await send('PUT', '/v1/jobs/etl.daily', two);
    expect(replaced.statusCode).to.equal(400);
    expect(replaced.json().message).to.match(/has size 2, expected 1 or less/);
    expect((await schedules()).map((s: { id: string }) => s.id)).to.deep.equal(['nightly']);
  });

  it('after DELETE of the schedule another may be added, and it is the one the engine follows', async () => {
    expect((await send('POST', '/v1/jobs', { ...JOB, schedules: [NIGHTLY] })).statusCode).to.equal(201);
    expect((await send('DELETE', '/v1/jobs/etl.daily/schedules/nightly')).statusCode).to.equal(200);
    expect(await schedules()).to.deep.equal([]);
    expect((await send('POST', '/v1/jobs/etl.daily/schedules', HOURLY)).statusCode).to.equal(201);
    const now = await schedules();
    expect(now.map((s: { id: string }) => s.id)).to.deep.equal(['hourly']);
    // A job never due yet: the first due time at or after now (12:00:00 exactly).
    expect(now[0].nextRunAt).to.equal('2026-03-01T12:00:00.000Z');
  });
});
