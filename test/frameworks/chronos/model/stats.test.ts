/** History statistics: Chronos job/stat, stats/{percentile}, summaries, counters; Metronome historySummary. */
import { expect } from 'chai';
import {
  chronosCounters,
  chronosJobStat,
  chronosStatsList,
  chronosSummary,
  currentState,
  histogram,
  lastState,
  metronomeHistory,
  metronomeHistorySummary,
  quantile,
  type RunRecord,
  trimHistory,
} from '../../../../frameworks/chronos/model/index.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
function rec(i: number, over: Partial<RunRecord> = {}): RunRecord {
  return {
    jobName: 'j',
    runId: `r${i}`,
    due: T0 + i * 60_000,
    createdAt: T0 + i * 60_000,
    startedAt: T0 + i * 60_000 + 100,
    finishedAt: T0 + i * 60_000 + 100 + i * 1000,
    state: 'SUCCESS',
    exitStatus: 0,
    agentId: 'agent-1',
    taskId: `ct:${T0 + i * 60_000}:1:j:r${i}`,
    attempt: 1,
    ...over,
  };
}
const HUNDRED = Array.from({ length: 100 }, (_, k) => rec(k + 1)); // durations 1 s … 100 s

describe('chronos model: history statistics', () => {
  it("interpolates quantiles as Dropwizard's snapshot does", () => {
    const v = [1, 2, 3, 4];
    expect(quantile(v, 0.5)).to.equal(2.5);
    expect(quantile(v, 0.1)).to.equal(1);
    expect(quantile(v, 0.99)).to.equal(4);
    expect(quantile([], 0.5)).to.equal(0);
  });

  it('job/stat: the histogram of successful run times (ms) and the task history, newest first', () => {
    const h = histogram(HUNDRED);
    expect(h.count).to.equal(100);
    expect(h.median).to.equal(50_500);
    expect(h.mean).to.equal(50_500);
    expect(h['75thPercentile']).to.equal(75_750);
    expect(h['99thPercentile']).to.be.closeTo(99_990, 1e-6);
    const withFailure = [...HUNDRED, rec(101, { state: 'FAILED', exitStatus: 1, finishedAt: T0 + 1e9 })];
    expect(histogram(withFailure).count).to.equal(100);
    const stat = chronosJobStat(withFailure, 2) as { taskStatHistory: Record<string, unknown>[] };
    expect(stat.taskStatHistory).to.have.length(2);
    expect(stat.taskStatHistory[0]).to.include({
      taskId: withFailure[100].taskId,
      status: 'failed',
      slaveId: 'agent-1',
      exitStatus: 1,
    });
    expect(stat.taskStatHistory[1]).to.include({ status: 'finished', duration: 'PT1M40S' });
  });

  it('stats/{percentile}: jobs by that statistic, in seconds, largest first', () => {
    const byJob = new Map<string, RunRecord[]>([
      ['slow', HUNDRED],
      ['fast', [rec(1, { jobName: 'fast' })]],
      ['never', []],
    ]);
    expect(chronosStatsList(byJob, 'median')).to.deep.equal([
      { jobNameLabel: 'slow', time: 50.5 },
      { jobNameLabel: 'fast', time: 1 },
    ]);
    expect(chronosStatsList(byJob, 'mean')[0]).to.deep.equal({ jobNameLabel: 'slow', time: 50.5 });
  });

  it('summary states: fresh / success / failure, idle / queued / N running', () => {
    expect(lastState([])).to.equal('fresh');
    expect(lastState([rec(1, { state: 'SKIPPED' })])).to.equal('fresh');
    expect(lastState([rec(1), rec(2, { state: 'FAILED' })])).to.equal('failure');
    expect(lastState([rec(2, { state: 'FAILED' }), rec(3)])).to.equal('success');
    expect(currentState([rec(1)])).to.equal('idle');
    expect(currentState([rec(1, { state: 'PENDING' })])).to.equal('queued');
    expect(currentState([rec(1, { state: 'RUNNING' }), rec(2, { state: 'RUNNING' })])).to.equal('2 running');
    expect(
      chronosSummary({ name: 'j', disabled: false, parents: [], scheduleText: 'R/2026-01-01T00:00:00.000Z/PT1M' }, [
        rec(1),
      ]),
    ).to.deep.equal({
      name: 'j',
      status: 'success',
      state: 'idle',
      schedule: 'R/2026-01-01T00:00:00.000Z/PT1M',
      parents: [],
      disabled: false,
    });
  });

  it("Metronome's historySummary and history; skipped due times are not runs", () => {
    const records = [
      rec(1),
      rec(2, { state: 'FAILED' }),
      rec(3),
      rec(4, { state: 'SKIPPED', startedAt: null, finishedAt: null }),
    ];
    expect(metronomeHistorySummary(records)).to.deep.equal({
      successCount: 2,
      failureCount: 1,
      lastSuccessAt: new Date(records[2].finishedAt as number).toISOString(),
      lastFailureAt: new Date(records[1].finishedAt as number).toISOString(),
    });
    expect(metronomeHistorySummary([])).to.deep.equal({
      successCount: 0,
      failureCount: 0,
      lastSuccessAt: null,
      lastFailureAt: null,
    });
    const h = metronomeHistory(records) as {
      successfulFinishedRuns: { id: string }[];
      failedFinishedRuns: { id: string }[];
    };
    expect(h.successfulFinishedRuns.map((r) => r.id)).to.deep.equal(['r1', 'r3']);
    expect(h.failedFinishedRuns.map((r) => r.id)).to.deep.equal(['r2']);
  });

  it('Chronos counters add the history to the counters the job was posted with', () => {
    const records = [rec(1), rec(2, { state: 'FAILED' }), rec(3, { state: 'FAILED' })];
    expect(
      chronosCounters(
        { successCount: 190, errorCount: 3, lastSuccess: '2014-03-08T16:57:17.507Z', lastError: '' },
        records,
      ),
    ).to.deep.equal({
      successCount: 191,
      errorCount: 5,
      lastSuccess: new Date(records[0].finishedAt as number).toISOString(),
      lastError: new Date(records[2].finishedAt as number).toISOString(),
      errorsSinceLastSuccess: 2,
    });
  });

  it('trims a history to the newest finished runs, keeping every unfinished one', () => {
    const records = [
      rec(1),
      rec(2, { state: 'RUNNING', finishedAt: null }),
      rec(3),
      rec(4, { state: 'SKIPPED' }),
      rec(5),
    ];
    expect(trimHistory(records, 3).map((r) => r.runId)).to.deep.equal(['r2', 'r4', 'r5']);
    expect(trimHistory(records, 1).map((r) => r.runId)).to.deep.equal(['r2']);
    expect(trimHistory(records, 100)).to.deep.equal(records);
  });
});
