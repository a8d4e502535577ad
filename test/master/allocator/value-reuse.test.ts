/**
 * Values reused from one cycle to the next (docs/allocator.md, "Round on the PVM host"):
 *
 * - the allocator hands out the very same Resources value for the same offer contents in a later
 *   cycle (master/allocator/offer-resources.ts), and a new one when the contents differ;
 * - a master whose frameworks decline their offers and are offered the same again goes back, after
 *   each DECLINE, to the very allocation value it had before the offers (master/state/offers.ts),
 *   and that value is equal, entry by entry, to what adding the tasks up gives;
 * - the master's snapshot hands out the last full snapshot's agents list, and each framework's last
 *   `allocated` record, again while nothing in them changed, and new ones once something did;
 * - a framework's allocation value keeps its vectors between cycles only over the same dimensions;
 * - the offer rows kept between cycles (master/allocator/state.ts) hold nothing of an earlier cycle
 *   that a later, smaller one could hand out.
 */
import { expect } from 'chai';
import { createAllocate } from '../../../master/allocator/allocate.js';
import { forgetOfferValues } from '../../../master/allocator/offer-resources.js';
import type { AllocatorSnapshot } from '../../../master/allocator/types.js';
import type { Effect } from '../../../master/state/index.js';
import { sameEntries } from '../../../master/state/offers.js';
import { DeclineOffersShape } from '../../../scripts/bench/allocator.js';
import { WholeCycle } from '../../../scripts/bench/sim/whole-cycle.js';
import { Resources } from '../../../sdk/resources/resources.js';
import { seededRng } from '../../../sdk/util/random.js';

describe('master/allocator and master/state/offers: values reused across cycles', () => {
  it('gives the same offer contents the same Resources value in a later cycle, and other contents another', () => {
    forgetOfferValues();
    const allocate = createAllocate();
    const shape = new DeclineOffersShape(40, 4);
    const first = allocate(shape.snapshot(), seededRng(1));
    shape.decline(first);
    const second = allocate(shape.snapshot(), seededRng(2));
    expect(first.offers).to.have.length(40);
    expect(second.offers).to.have.length(40);
    // Every agent of the shape has the same free resources: one value, in both cycles.
    const values = new Set([...first.offers, ...second.offers].map((o) => o.resources));
    expect(values.size).to.equal(1);
    // Other contents (a bigger agent) get a value of their own, equal as data to its free resources.
    const snap = shape.snapshot();
    const bigger: AllocatorSnapshot = {
      ...snap,
      agents: snap.agents.map((a, i) =>
        i === 0 ? { ...a, id: 'big', total: a.total.plus(Resources.parse('cpus:8')) } : a,
      ),
    };
    const third = allocate(bigger, seededRng(3));
    const big = third.offers.find((o) => o.agentId === 'big');
    expect(big, 'the bigger agent is offered (no filter names it)').to.not.equal(undefined);
    expect(values.has(big?.resources as Resources)).to.equal(false);
    expect(big?.resources.scalar('cpus')).to.equal(16);
  });

  it('brings a declining framework back to the very allocation value it had, equal to its tasks', () => {
    forgetOfferValues();
    const w = WholeCycle.fromSnapshot(new DeclineOffersShape(60, 4).snapshot());
    const before = new Map([...w.state.frameworks.values()].map((f) => [f.id, f.allocated.get('*')]));
    for (let round = 0; round < 3; round++) {
      const t = w.run(createAllocate(), seededRng(round));
      expect(t.offers).to.equal(60);
      w.declineAll(3600);
      for (const fw of w.state.frameworks.values()) {
        const now = fw.allocated.get('*');
        expect(now, fw.id).to.equal(before.get(fw.id));
        let tasks = Resources.empty();
        for (const key of fw.tasks) {
          const task = w.state.tasks.get(key);
          if (task) tasks = tasks.plus(task.resources);
        }
        expect(sameEntries(now as Resources, tasks), fw.id).to.equal(true);
      }
    }
  });

  it('compares allocation values entry by entry, in order', () => {
    const a = Resources.parse('cpus:1;mem:2;ports:[1-3]');
    expect(sameEntries(a, Resources.parse('cpus:1;mem:2;ports:[1-3]'))).to.equal(true);
    expect(sameEntries(a, Resources.parse('cpus:1;mem:2;ports:[1-4]'))).to.equal(false);
    expect(sameEntries(a, Resources.parse('cpus:1;mem:2'))).to.equal(false);
    expect(sameEntries(a, Resources.parse('mem:2;cpus:1;ports:[1-3]'))).to.equal(false);
    expect(sameEntries(a, Resources.parse('cpus(r):1;mem:2;ports:[1-3]'))).to.equal(false);
  });

  it('hands out no reserved part an earlier, larger cycle left in the kept offer rows', () => {
    const allocate = createAllocate();
    const reserved = Resources.parse('cpus(r):2;mem(r):64;cpus:1;mem:64');
    const agents = Array.from({ length: 4 }, (_, i) => ({
      id: `a${i}`,
      hostname: `a${i}`,
      total: reserved,
      allocated: Resources.empty(),
      attributes: {},
      active: true,
    }));
    const snap = (n: number): AllocatorSnapshot => ({
      now: 0,
      agents: agents.slice(0, n),
      frameworks: [{ id: 'f', roles: ['r'], suppressedRoles: [], allocated: {}, filters: [], active: true }],
      roles: [],
      minAllocatable: [],
    });
    const large = allocate(snap(4), seededRng(1));
    expect(large.offers).to.have.length(4);
    for (const o of large.offers) expect(o.resources.scalar('cpus', 'r')).to.equal(2);
    // A smaller cycle over agents with nothing reserved: its offers hold no reservation.
    const plain = agents.map((a) => ({ ...a, total: Resources.parse('cpus:1;mem:64') }));
    const small = allocate({ ...snap(2), agents: plain.slice(0, 2) }, seededRng(2));
    expect(small.offers).to.have.length(2);
    for (const o of small.offers) expect(o.resources.scalar('cpus', 'r')).to.equal(0);
  });

  it("hands out the last snapshot's agents list and allocated records again only while nothing in them changed", () => {
    const w = WholeCycle.fromSnapshot(new DeclineOffersShape(20, 3).snapshot());
    const take = (): AllocatorSnapshot => {
      const e = w.state
        .apply({ type: 'allocateNow' })
        .find((x): x is Extract<Effect, { kind: 'allocate' }> => x.kind === 'allocate');
      if (!e) throw new Error('no allocation asked for');
      return e.snapshot;
    };
    const first = take();
    const second = take();
    expect(second.agents).to.equal(first.agents);
    second.frameworks.forEach((f, i) => {
      expect(f.allocated).to.equal(first.frameworks[i].allocated);
    });
    // A cycle whose offers stay outstanding changes every agent offered and every framework's allocation.
    const t = w.run(createAllocate(), seededRng(1));
    expect(t.offers).to.equal(20);
    const third = take();
    expect(third.agents).to.not.equal(second.agents);
    for (const a of third.agents) {
      const entry = w.state.agents.get(a.id);
      if (!entry) throw new Error(`no agent ${a.id}`);
      expect(a.allocated.equals(entry.used.plus(entry.offered)), a.id).to.equal(true);
    }
    for (const f of third.frameworks) {
      const fw = w.state.frameworks.get(f.id);
      expect(f.allocated, f.id).to.deep.equal(Object.fromEntries(fw?.allocated ?? []));
      expect(f.allocated['*'], f.id).to.equal(fw?.allocated.get('*'));
    }
    third.frameworks.forEach((f, i) => {
      expect(f.allocated).to.not.equal(second.frameworks[i].allocated);
    });
  });

  it("reads a kept allocation value's vectors again when the dimensions come in another order", () => {
    // F1 holds 4 of 8 cpus (share 0.5), F2 100 of 1,000 mem (0.1): DRF offers the agent to F2. Read
    // over the other cycle's dimension order, F1's cpus would count as mem (0.004) and win it.
    const held = Resources.parse('cpus:4');
    const other = Resources.parse('mem:100');
    const snap = (total: string): AllocatorSnapshot => ({
      now: 0,
      agents: [
        {
          id: 'a',
          hostname: 'a',
          total: Resources.parse(total),
          allocated: Resources.empty(),
          attributes: {},
          active: true,
        },
      ],
      frameworks: [
        { id: 'f1', roles: ['*'], suppressedRoles: [], allocated: { '*': held }, filters: [], active: true },
        { id: 'f2', roles: ['*'], suppressedRoles: [], allocated: { '*': other }, filters: [], active: true },
      ],
      roles: [],
      minAllocatable: [],
    });
    const allocate = createAllocate();
    for (const total of ['cpus:8;mem:1000', 'mem:1000;cpus:8', 'cpus:8;mem:1000']) {
      const plan = allocate(snap(total), seededRng(1));
      expect(
        plan.offers.map((o) => o.frameworkId),
        total,
      ).to.deep.equal(['f2']);
    }
  });
});
