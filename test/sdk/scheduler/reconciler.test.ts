/** The SDK's Reconciler (sdk/scheduler/reconciler.ts) on a virtual clock: rounds, backoff, the master's hold. */
import { expect } from 'chai';
import { Reconciler, type TaskRef } from '../../../sdk/scheduler/reconciler.js';
import { VirtualClock } from '../../../sdk/util/clock.js';

function reconciler(opts: { initialMs?: number; maxMs?: number } = {}) {
  const clock = new VirtualClock(0);
  const sent: { at: number; ids: string[] }[] = [];
  let done = 0;
  const r = new Reconciler({
    clock,
    send: (tasks: TaskRef[]) => {
      sent.push({ at: clock.now(), ids: tasks.map((t) => t.task_id) });
      return true;
    },
    onDone: () => done++,
    ...opts,
  });
  const explicitAt = () => sent.filter((s) => s.ids.length > 0).map((s) => s.at);
  return { clock, sent, r, explicitAt, done: () => done };
}

const tasks = [
  { task_id: 't1', agent_id: 'a1' },
  { task_id: 't2', agent_id: 'a2' },
];

describe('sdk/scheduler Reconciler', () => {
  it('asks again for what is unanswered after 1 s, doubling up to maxMs, then implicitly once all is answered', () => {
    const { clock, sent, r, explicitAt, done } = reconciler({ initialMs: 1_000, maxMs: 4_000 });
    r.start(tasks);
    r.answered('t1');
    clock.advance(12_000);
    expect(explicitAt()).to.deep.equal([0, 1_000, 3_000, 7_000, 11_000]);
    expect(sent.slice(1).every((s) => s.ids.join() === 't2')).to.equal(true);
    r.answered('t2');
    expect(done()).to.equal(1);
    expect(sent.at(-1)?.ids).to.deep.equal([]); // the implicit reconciliation
    clock.advance(60_000);
    expect(explicitAt()).to.have.length(5);
  });

  it('while the master holds its questions (SUBSCRIBED after a failover), the first round waits for the hold', () => {
    const { clock, r, explicitAt, done } = reconciler({ initialMs: 1_000, maxMs: 60_000 });
    r.start(tasks, 30_000);
    clock.advance(29_999);
    expect(explicitAt(), 'held questions are not asked again').to.deep.equal([0]);
    // The master answers when the agents come back (or the window closes): nothing more is asked.
    r.answered('t1');
    r.answered('t2');
    expect(done()).to.equal(1);
    clock.advance(120_000);
    expect(explicitAt()).to.deep.equal([0]);
  });

  it('still asks again after the hold for a question the master did not answer (at least once)', () => {
    const { clock, r, explicitAt } = reconciler({ initialMs: 1_000, maxMs: 60_000 });
    r.start(tasks, 10_000);
    clock.advance(10_000 + 20_000 + 40_000);
    expect(explicitAt()).to.deep.equal([0, 10_000, 30_000, 70_000]);
  });

  it('waits at most maxMs for a long hold, and at least initialMs for a short one', () => {
    const long = reconciler({ initialMs: 1_000, maxMs: 8_000 });
    long.r.start(tasks, 600_000);
    long.clock.advance(24_000);
    expect(long.explicitAt()).to.deep.equal([0, 8_000, 16_000, 24_000]);
    const short = reconciler({ initialMs: 1_000, maxMs: 8_000 });
    short.r.start(tasks, 200);
    short.clock.advance(3_000);
    expect(short.explicitAt()).to.deep.equal([0, 1_000, 3_000]);
  });
});
