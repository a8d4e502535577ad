/**
 * The runner's decisions: every due time becomes exactly one run or one recorded skip with a reason,
 * under the missed-run, deadline and concurrency policies; retries; run ids.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import {
  completionDeadline,
  type DueDecision,
  type Job,
  launchExpired,
  manualRunIdFor,
  manualStartBy,
  parseSchedule,
  parseTaskId,
  planDueTimes,
  retryDecision,
  runIdFor,
  taskIdFor,
} from '../../../../frameworks/chronos/model/index.js';

const T = (iso: string) => Date.parse(iso);
const MIN = 60_000;

type PlanJob = Parameters<typeof planDueTimes>[0]['job'];
function job(schedule: string, over: Partial<PlanJob> = {}): PlanJob {
  const p = parseSchedule(schedule, '', 0);
  if (!p.ok) throw new Error(p.reason);
  return {
    schedule: p.value,
    missedRunPolicy: 'RUN_ONCE',
    startingDeadlineSeconds: 60,
    concurrencyPolicy: 'FORBID',
    disabled: false,
    ...over,
  };
}
const EVERY_MINUTE = 'R/2026-01-01T00:00:00Z/PT1M';
const at = (m: number) => T('2026-01-01T00:00:00Z') + m * MIN;
const brief = (d: DueDecision) =>
  d.action === 'run' ? `run@${(d.due - at(0)) / MIN}` : `${d.reason}@${(d.due - at(0)) / MIN}`;

describe('chronos model: run decisions', () => {
  it('on time: the due time runs, with startBy = due + epsilon, and the watermark moves', () => {
    const p = planDueTimes({ job: job(EVERY_MINUTE), lastDue: at(4), now: at(5) + 1500, activeRunIds: [] });
    expect(p.decisions.map(brief)).to.deep.equal(['run@5']);
    expect(p.decisions[0]).to.include({ runId: runIdFor(at(5)), startBy: at(5) + 60_000 });
    expect(p.lastDue).to.equal(at(5));
    expect(p.nextDue).to.equal(at(6));
    expect(p.replace).to.deep.equal([]);
    expect(p.skippedRange).to.equal(null);
  });

  it('nothing due yet: no decisions, watermark unchanged', () => {
    const p = planDueTimes({ job: job(EVERY_MINUTE), lastDue: at(5), now: at(5) + 30_000, activeRunIds: [] });
    expect(p.decisions).to.deep.equal([]);
    expect(p.lastDue).to.equal(at(5));
    expect(p.nextDue).to.equal(at(6));
  });

  it('a job never due yet starts with the due time at now, not the past', () => {
    const p = planDueTimes({ job: job(EVERY_MINUTE), lastDue: null, now: at(7), activeRunIds: [] });
    expect(p.decisions.map(brief)).to.deep.equal(['run@7']);
  });

  describe('missed runs after ten minutes without a leader', () => {
    const base = { lastDue: at(0), now: at(10) + 45_000, activeRunIds: [] as string[] };
    // epsilon 30 s: due time 10 (45 s old) is missed too; 11 is not due yet.
    const J = (over: Partial<PlanJob> = {}) => job(EVERY_MINUTE, { startingDeadlineSeconds: 30, ...over });
    it('RUN_ONCE: the newest missed due time runs now, the rest are COALESCED', () => {
      const p = planDueTimes({ ...base, job: J({ missedRunPolicy: 'RUN_ONCE' }) });
      expect(p.decisions.map(brief)).to.deep.equal([
        ...[1, 2, 3, 4, 5, 6, 7, 8, 9].map((m) => `COALESCED@${m}`),
        'run@10',
      ]);
      const run = p.decisions.find((d) => d.action === 'run');
      expect(run).to.include({ startBy: base.now + 30_000 });
      expect(p.lastDue).to.equal(at(10));
    });
    it('RUN_ONCE with a due time still within epsilon: that one runs and all missed are COALESCED', () => {
      const p = planDueTimes({ ...base, now: at(10) + 20_000, job: J() });
      expect(p.decisions.map(brief)).to.deep.equal([
        ...[1, 2, 3, 4, 5, 6, 7, 8, 9].map((m) => `COALESCED@${m}`),
        'run@10',
      ]);
      expect(p.decisions[9]).to.include({ startBy: at(10) + 30_000 });
    });
    it('SKIP: every missed due time is recorded MISSED', () => {
      const p = planDueTimes({ ...base, job: J({ missedRunPolicy: 'SKIP' }) });
      expect(p.decisions.map(brief)).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((m) => `MISSED@${m}`));
      expect(p.decisions.every((d) => d.action === 'skip' && d.message.includes('SKIP'))).to.equal(true);
    });
    it('RUN_ALL with ALLOW: each runs, up to the catch-up limit; older ones CATCH_UP_LIMIT', () => {
      const p = planDueTimes({
        ...base,
        catchUpLimit: 4,
        job: J({ missedRunPolicy: 'RUN_ALL', concurrencyPolicy: 'ALLOW' }),
      });
      expect(p.decisions.map(brief)).to.deep.equal([
        ...[1, 2, 3, 4, 5, 6].map((m) => `CATCH_UP_LIMIT@${m}`),
        'run@7',
        'run@8',
        'run@9',
        'run@10',
      ]);
    });
    it('RUN_ALL with FORBID: one runs, the others are recorded CONCURRENCY_FORBID', () => {
      const p = planDueTimes({ ...base, job: J({ missedRunPolicy: 'RUN_ALL' }) });
      expect(p.decisions.map(brief)).to.deep.equal([
        'run@1',
        ...[2, 3, 4, 5, 6, 7, 8, 9, 10].map((m) => `CONCURRENCY_FORBID@${m}`),
      ]);
    });
  });

  describe('concurrency while a run is active', () => {
    const base = { lastDue: at(4), now: at(5) + 1000, activeRunIds: ['20260101T000400.000Z'] };
    it('FORBID (Chronos concurrent: false): skipped with its reason', () => {
      const p = planDueTimes({ ...base, job: job(EVERY_MINUTE, { concurrencyPolicy: 'FORBID' }) });
      expect(p.decisions.map(brief)).to.deep.equal(['CONCURRENCY_FORBID@5']);
      expect(p.replace).to.deep.equal([]);
    });
    it('ALLOW (concurrent: true): runs beside it', () => {
      const p = planDueTimes({ ...base, job: job(EVERY_MINUTE, { concurrencyPolicy: 'ALLOW' }) });
      expect(p.decisions.map(brief)).to.deep.equal(['run@5']);
      expect(p.replace).to.deep.equal([]);
    });
    it('REPLACE: runs, and the active run is to be killed', () => {
      const p = planDueTimes({ ...base, job: job(EVERY_MINUTE, { concurrencyPolicy: 'REPLACE' }) });
      expect(p.decisions.map(brief)).to.deep.equal(['run@5']);
      expect(p.replace.map((r) => r.runId)).to.deep.equal(['20260101T000400.000Z']);
    });
  });

  it('a disabled job makes no runs but its watermark still moves (no flood when re-enabled)', () => {
    const p = planDueTimes({
      job: job(EVERY_MINUTE, { disabled: true }),
      lastDue: at(0),
      now: at(10),
      activeRunIds: [],
    });
    expect(p.decisions).to.deep.equal([]);
    expect(p.lastDue).to.equal(at(10));
  });

  it('Rn: after the last due time there is no next one (the runner disables the job)', () => {
    const p = planDueTimes({ job: job('R2/2026-01-01T00:00:00Z/PT1M'), lastDue: at(0), now: at(5), activeRunIds: [] });
    expect(p.decisions.map(brief)).to.deep.equal(['run@1']);
    expect(p.nextDue).to.equal(null);
  });

  it('more missed due times than one answer holds: the newest are decided, the oldest come back as one counted range', () => {
    const p = planDueTimes({
      job: job('R/2026-01-01T00:00:00Z/PT1S', { missedRunPolicy: 'SKIP' }),
      lastDue: at(0),
      now: at(60),
      activeRunIds: [],
      maxDecisions: 100,
    });
    expect(p.decisions).to.have.length(100);
    expect(p.decisions[99].due).to.equal(at(60));
    expect(p.skippedRange).to.not.equal(null);
    expect(p.skippedRange?.count).to.equal(3600 - 100);
    expect(p.skippedRange?.reason).to.equal('MISSED');
    expect(p.skippedRange?.until).to.equal(p.decisions[0].due - 1);
    expect(p.lastDue).to.equal(at(60));
  });

  it('property: over any sequence of ticks, every due time gets exactly one decision, with one run id', () => {
    const periods = ['PT1S', 'PT7S', 'PT1M', 'PT5M'];
    fc.assert(
      fc.property(
        fc.constantFrom(...periods),
        fc.constantFrom('RUN_ONCE', 'RUN_ALL', 'SKIP') as fc.Arbitrary<Job['missedRunPolicy']>,
        fc.constantFrom('ALLOW', 'FORBID', 'REPLACE') as fc.Arbitrary<Job['concurrencyPolicy']>,
        fc.array(fc.integer({ min: 0, max: 4 * MIN }), { minLength: 1, maxLength: 8 }),
        (period, missed, conc, gaps) => {
          const j = job(`R/2026-01-01T00:00:00Z/${period}`, { missedRunPolicy: missed, concurrencyPolicy: conc });
          let lastDue: number | null = at(0);
          let now = at(0);
          const seen = new Map<number, string>();
          let ranged = 0;
          for (const g of gaps) {
            now += g;
            const p = planDueTimes({ job: j, lastDue, now, activeRunIds: [], maxDecisions: 500 });
            for (const d of p.decisions) {
              expect(seen.has(d.due), `due ${d.due} decided twice`).to.equal(false);
              expect(d.runId).to.equal(runIdFor(d.due));
              seen.set(d.due, d.action);
            }
            ranged += p.skippedRange?.count ?? 0;
            lastDue = p.lastDue;
          }
          const periodMs = { PT1S: 1000, PT7S: 7000, PT1M: MIN, PT5M: 5 * MIN }[period] as number;
          const expected = Math.floor((now - at(0)) / periodMs);
          expect(seen.size + ranged).to.equal(expected);
        },
      ),
      { numRuns: 200 },
    );
  });

  describe('starting deadline, retries and completion', () => {
    it('a run not started by startBy has expired; a started one has not', () => {
      expect(launchExpired({ startBy: 1000, startedAt: null }, 1001)).to.equal(true);
      expect(launchExpired({ startBy: 1000, startedAt: null }, 1000)).to.equal(false);
      expect(launchExpired({ startBy: 1000, startedAt: 900 }, 5000)).to.equal(false);
      expect(manualStartBy({ maxLaunchDelaySeconds: 3600 }, 1000)).to.equal(1000 + 3_600_000);
    });

    const chronos = {
      retries: 2,
      restart: { policy: 'ON_FAILURE', activeDeadlineSeconds: null },
      retryDelaySeconds: 60,
    } as const;
    it('Chronos retries: 2 means three attempts, 60 s apart', () => {
      expect(retryDecision(chronos, { attempt: 1, createdAt: 0 }, 10_000)).to.deep.equal({
        action: 'retry',
        attempt: 2,
        at: 70_000,
      });
      expect(retryDecision(chronos, { attempt: 2, createdAt: 0 }, 80_000)).to.deep.equal({
        action: 'retry',
        attempt: 3,
        at: 140_000,
      });
      expect(retryDecision(chronos, { attempt: 3, createdAt: 0 }, 150_000)).to.include({
        action: 'give-up',
        reason: 'RETRIES_EXHAUSTED',
      });
    });
    it('restart NEVER (Chronos retries: 0, Metronome default): no retry', () => {
      const never = {
        retries: 0,
        restart: { policy: 'NEVER', activeDeadlineSeconds: null },
        retryDelaySeconds: 60,
      } as const;
      expect(retryDecision(never, { attempt: 1, createdAt: 0 }, 10)).to.include({
        action: 'give-up',
        reason: 'NO_RESTART',
      });
    });
    it('Metronome ON_FAILURE retries until activeDeadlineSeconds after the run began', () => {
      const m = {
        retries: null,
        restart: { policy: 'ON_FAILURE', activeDeadlineSeconds: 120 },
        retryDelaySeconds: 60,
      } as const;
      expect(retryDecision(m, { attempt: 5, createdAt: 0 }, 30_000)).to.deep.equal({
        action: 'retry',
        attempt: 6,
        at: 90_000,
      });
      expect(retryDecision(m, { attempt: 6, createdAt: 0 }, 100_000)).to.include({
        action: 'give-up',
        reason: 'ACTIVE_DEADLINE',
      });
      const forever = { ...m, restart: { policy: 'ON_FAILURE', activeDeadlineSeconds: null } } as const;
      expect(retryDecision(forever, { attempt: 500, createdAt: 0 }, 1e9)).to.include({ action: 'retry' });
    });
    it('maxCompletionTime: killed that long after the start; 0 means no limit', () => {
      expect(completionDeadline({ maxCompletionTimeSeconds: 30 }, 1000)).to.equal(31_000);
      expect(completionDeadline({ maxCompletionTimeSeconds: 0 }, 1000)).to.equal(null);
    });
  });

  describe('ids', () => {
    it('one run id per due time, and task ids that parse back', () => {
      expect(runIdFor(at(5))).to.equal('20260101T000500.000Z');
      expect(runIdFor(at(5))).to.equal(runIdFor(at(5)));
      expect(runIdFor(at(5) + 1)).to.not.equal(runIdFor(at(5)));
      const tid = taskIdFor('my.job-1', runIdFor(at(5)), at(5), 2);
      expect(tid).to.equal(`ct:${at(5)}:2:my.job-1:20260101T000500.000Z`);
      expect(parseTaskId(tid)).to.deep.equal({
        due: at(5),
        attempt: 2,
        jobName: 'my.job-1',
        runId: '20260101T000500.000Z',
      });
      expect(parseTaskId('not-ours')).to.equal(null);
      expect(manualRunIdFor(at(5), 3)).to.equal('manual-20260101T000500.000Z-3');
    });
  });
});
