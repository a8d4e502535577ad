/** Route helpers: search, manual-run arguments, Chronos's counting-down schedule, run views. */
import { expect } from 'chai';
import {
  dependentRun,
  describeProblems,
  jobFromChronos,
  jobToChronos,
  metronomeRunView,
  parseSchedule,
  type RunRecord,
  scheduleProgress,
  searchJobs,
  withRunArguments,
} from '../../../../frameworks/chronos/model/index.js';

const NOW = Date.parse('2026-01-01T00:00:30Z');

describe('chronos model: route helpers', () => {
  const jobs = [
    { name: 'etl-daily', command: 'run-etl --daily' },
    { name: 'backup', command: 'tar czf /b.tgz /data' },
    { name: 'ETL-hourly', command: 'run-etl --hourly' },
    { name: 'report', command: 'mail report' },
  ];
  it("jobs/search filters as Chronos's does, in name order, with offset and limit", () => {
    expect(searchJobs(jobs, { name: 'etl' }).map((j) => j.name)).to.deep.equal(['ETL-hourly', 'etl-daily']);
    expect(searchJobs(jobs, { name: 'etl', command: 'daily' }).map((j) => j.name)).to.deep.equal(['etl-daily']);
    expect(searchJobs(jobs, { name: 'zzz', any: 'tar' }).map((j) => j.name)).to.deep.equal(['backup']);
    expect(searchJobs(jobs, { any: 'report' }).map((j) => j.name)).to.deep.equal(['report']);
    expect(searchJobs(jobs, {}).map((j) => j.name)).to.deep.equal(['ETL-hourly', 'backup', 'etl-daily', 'report']);
    expect(searchJobs(jobs, { limit: 2, offset: 1 }).map((j) => j.name)).to.deep.equal(['backup', 'etl-daily']);
  });

  it('manual-run arguments: appended to a shell command, extra argv otherwise', () => {
    expect(withRunArguments({ command: 'echo', shell: true, arguments: [] }, '-n hi')).to.deep.equal({
      command: 'echo -n hi',
      arguments: [],
    });
    expect(withRunArguments({ command: '/bin/echo', shell: false, arguments: ['a'] }, ' -n  hi ')).to.deep.equal({
      command: '/bin/echo',
      arguments: ['a', '-n', 'hi'],
    });
    expect(withRunArguments({ command: 'x', shell: true, arguments: [] }, 'y'.repeat(9000))).to.have.property('error');
  });

  it('Chronos shows Rn counting down from the next due time, and R0 when spent', () => {
    const r = jobFromChronos({ name: 'r', command: 'x', schedule: 'R3/2026-01-01T00:00:00Z/PT10S' }, { now: NOW });
    if (!r.ok) throw new Error(describeProblems(r.problems));
    const s = r.value.schedule as NonNullable<typeof r.value.schedule>;
    const first = Date.parse('2026-01-01T00:00:00Z');
    expect(jobToChronos(r.value, scheduleProgress(s, first, NOW)).schedule).to.equal(
      'R2/2026-01-01T00:00:10.000Z/PT10S',
    );
    expect(jobToChronos(r.value, scheduleProgress(s, first + 20_000, NOW)).schedule).to.equal(
      'R0/2026-01-01T00:00:00.000Z/PT10S',
    );
    const g = jobFromChronos(
      { name: 'g', command: 'x', schedule: 'R3/2024-03-31T02:30:00/P1D', scheduleTimeZone: 'Europe/Berlin' },
      { now: NOW },
    );
    if (!g.ok) throw new Error(describeProblems(g.problems));
    const gs = g.value.schedule as NonNullable<typeof g.value.schedule>;
    const gFirst = Date.parse('2024-03-31T01:30:00Z');
    expect(jobToChronos(g.value, scheduleProgress(gs, gFirst, gFirst)).schedule).to.equal(
      'R2/2024-04-01T02:30:00.000+02:00/P1D',
    );
    const cron = parseSchedule('*/5 * * * *', 'UTC', NOW);
    expect(cron.ok && scheduleProgress(cron.value, null, NOW)).to.deep.equal({
      nextDue: Date.parse('2026-01-01T00:05:00Z'),
      remaining: null,
    });
  });

  it("a dependent child's run id and deadline follow from the trigger time", () => {
    const t = Date.parse('2026-01-01T01:00:00Z');
    expect(dependentRun({ startingDeadlineSeconds: 60 }, t)).to.deep.equal({
      runId: 'dep-20260101T010000.000Z',
      startBy: t + 60_000,
    });
  });

  it("a run as Metronome's runs API shows it", () => {
    const r: RunRecord = {
      jobName: 'prod.job',
      runId: '20260101T000000.000Z',
      due: 0,
      createdAt: 0,
      startedAt: 1000,
      finishedAt: null,
      state: 'RUNNING',
      exitStatus: null,
      agentId: 'a1',
      taskId: 'ct:0:1:prod.job:20260101T000000.000Z',
      attempt: 1,
    };
    expect(metronomeRunView(r)).to.deep.equal({
      id: '20260101T000000.000Z',
      jobId: 'prod.job',
      status: 'ACTIVE',
      createdAt: '1970-01-01T00:00:00.000Z',
      completedAt: null,
      tasks: [{ id: r.taskId, startedAt: '1970-01-01T00:00:01.000Z', completedAt: null, status: 'TASK_RUNNING' }],
    });
    expect(metronomeRunView({ ...r, state: 'PENDING', taskId: null, startedAt: null })).to.include({
      status: 'INITIAL',
    });
    expect(metronomeRunView({ ...r, state: 'FAILED', finishedAt: 5000 })).to.include({
      status: 'FAILED',
      completedAt: '1970-01-01T00:00:05.000Z',
    });
  });
});
