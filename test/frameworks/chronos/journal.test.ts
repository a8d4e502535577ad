/**
 * The engine's group-committed journal: many changes in one Store write, replay by a new leader
 * (before and after checkpointing), trimming, and fencing between an old and a new leader.
 */
import { MemoryStore } from 'agora/sdk/testing';
import { expect } from 'chai';
import { pino } from 'pino';
import { JOURNAL_KEYS, Journal } from '../../../frameworks/chronos/engine/journal.js';
import { emptyState, type JobRecord, KEYS } from '../../../frameworks/chronos/engine/records.js';
import { jobFromChronos } from '../../../frameworks/chronos/model/index.js';

const log = pino({ level: 'silent' });

function rec(name: string, lastDue: number): JobRecord {
  const c = jobFromChronos(
    { name, command: 'true', schedule: 'R/2026-01-01T00:00:00Z/PT1M', cpus: 0.1, mem: 32 },
    { now: 0, route: 'any' },
  );
  if (!c.ok) throw new Error(JSON.stringify(c.problems));
  return { job: c.value, state: emptyState(lastDue) };
}

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 10_000 && !cond(); i++) await new Promise((r) => setImmediate(r));
  expect(cond()).to.equal(true);
}

describe('Chronos journal (group commit, replay, fencing)', () => {
  it('commits the changes of one pass in one entry, and a new leader reads them back before and after checkpoints', async () => {
    const store = new MemoryStore();
    const a = new Journal(store, log);
    await a.load();
    const puts: string[] = [];
    const put = store.put.bind(store);
    store.put = (key, value, version) => {
      puts.push(key);
      return put(key, value, version);
    };
    await Promise.all(Array.from({ length: 100 }, (_, i) => a.commit(`job${i}`, rec(`job${i}`, i))));
    expect(puts.filter((k) => k.startsWith(JOURNAL_KEYS.journal))).to.have.length(1);
    expect(a.stats.records).to.equal(100);

    // A new leader right now (the checkpoints may not be done): every record, from the journal.
    a.stop();
    const b = new Journal(store, log);
    const seen = await b.load();
    expect(seen.size).to.equal(100);
    // A state-only record over a job known from an earlier entry, read back by the next leader.
    await b.commit('job3', rec('job3', 333), false);
    b.stop();
    const b2 = new Journal(store, log);
    const early = await b2.load();
    expect(early.get('job3')?.state.lastDue).to.equal(333);
    expect(early.get('job3')?.job.command).to.equal('true');
    expect(seen.get('job42')?.state.lastDue).to.equal(42);

    // It changes one, deletes one; once checkpointed, the journal is trimmed and the keys hold it all.
    await b2.commit('job42', rec('job42', 4200), false); // the state alone: the entry holds no job
    await b2.commit('job7', null);
    await until(() => b2.backlog === 0 && b2.stats.trimmed > 0);
    b2.stop();
    const c = new Journal(store, log);
    const final = await c.load();
    expect(final.size).to.equal(99);
    expect(final.get('job42')?.state.lastDue).to.equal(4200);
    expect(final.get('job42')?.job.name).to.equal('job42');
    expect(final.has('job7')).to.equal(false);
    expect((await store.get<JobRecord>(KEYS.job('job42')))?.value.state.lastDue).to.equal(4200);
    expect(await store.get(KEYS.job('job7'))).to.equal(undefined);
  });

  it('a trim asked for while another runs is not dropped: the journal shrinks to its newest entry with no further commit', async () => {
    const store = new MemoryStore();
    const j = new Journal(store, log);
    await j.load(); // entry 1: the leader's claim
    let open!: () => void;
    const gate = new Promise<void>((r) => {
      open = r;
    });
    const del = store.delete.bind(store);
    store.delete = async (key, version) => {
      await gate; // the first trim pass is held inside its first delete
      return del(key, version);
    };
    await j.commit('a', rec('a', 1)); // entry 2; checkpointed, then a trim starts and waits at the gate
    await until(() => j.backlog === 0);
    await j.commit('b', rec('b', 2)); // entry 3; its checkpoint asks for a trim while the first runs
    await until(() => j.backlog === 0);
    await j.commit('c', rec('c', 3)); // entry 4, the newest (always kept)
    await until(() => j.backlog === 0);
    open();
    await until(() => j.stats.trimmed >= 3);
    // Read from the Store, not the journal's own counters: only the newest entry is left.
    expect(await store.list(JOURNAL_KEYS.journal)).to.deep.equal([JOURNAL_KEYS.entry(4)]);
    j.stop();
    const next = await new Journal(store, log).load();
    expect([...next.keys()].sort()).to.deep.equal(['a', 'b', 'c']);
  });

  it('an old leader that writes after a new one took over is refused and stops', async () => {
    const store = new MemoryStore();
    const old = new Journal(store, log);
    await old.load();
    await old.commit('j', rec('j', 1));
    const fresh = new Journal(store, log);
    expect((await fresh.load()).get('j')?.state.lastDue).to.equal(1);
    await fresh.commit('j', rec('j', 2)); // takes the next sequence number
    let refused = false;
    await old.commit('j', rec('j', 99)).catch(() => {
      refused = true;
    });
    expect(refused).to.equal(true);
    expect(old.fenced).to.equal(true);
    const again = await new Journal(store, log).load();
    expect(again.get('j')?.state.lastDue).to.equal(2);
  });

  it('a new leader that collides with a stale leader’s entry (in flight across the takeover) adopts it and refuses its own batch', async () => {
    const store = new MemoryStore();
    const adopted: string[] = [];
    const fresh = new Journal(store, log, { onAdopt: (records) => adopted.push(...records.map(([n]) => n)) });
    await fresh.load(); // epoch 1, its claim at seq 1
    // The old leader's write that was in flight lands on the next number (epoch 0: older).
    await store.put(JOURNAL_KEYS.entry(2), { epoch: 0, records: [['launched-by-old', rec('launched-by-old', 5)]] });
    let refused = false;
    await fresh.commit('x', rec('x', 1)).catch(() => {
      refused = true;
    });
    expect(refused).to.equal(true);
    expect(fresh.fenced).to.equal(false);
    expect(adopted).to.deep.equal(['launched-by-old']);
    await fresh.commit('x', rec('x', 1)); // computed again, it goes through
    fresh.stop();
    const after = await new Journal(store, log).load();
    expect([...after.keys()].sort()).to.deep.equal(['launched-by-old', 'x']);
  });
});
