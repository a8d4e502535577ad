/**
 * What a cycle shares with the allocator instead of copying (master/state/offers.ts): a
 * framework's filter list is handed to the snapshot as it is, and a decline after it never changes
 * that snapshot; booking finds an offer's agent by the plan's `agentIndex` but never books it on
 * another agent than the one the offer names.
 */
import { expect } from 'chai';
import type { AllocatorSnapshot, PlannedOffer } from '../../../master/allocator/types.js';
import { agentOfferIds } from '../../../master/registry.js';
import type { Effect } from '../../../master/state/index.js';
import { DeclineOffersShape } from '../../../scripts/bench/allocator.js';
import { WholeCycle } from '../../../scripts/bench/sim/whole-cycle.js';
import type { Offer } from '../../../sdk/protocol/types.js';
import { Resources } from '../../../sdk/resources/resources.js';

function snapshotOf(effects: Effect[]): AllocatorSnapshot {
  const e = effects.find((x): x is Extract<Effect, { kind: 'allocate' }> => x.kind === 'allocate');
  if (!e) throw new Error('no allocate effect');
  return e.snapshot;
}

function offersIn(effects: Effect[]): Offer[] {
  const out: Offer[] = [];
  for (const e of effects)
    if (e.kind === 'toScheduler' && e.message.type === 'OFFERS') out.push(...e.message.offers.offers);
  return out;
}

describe('what a cycle shares with the allocator (master/state/offers.ts)', () => {
  const r = Resources.parse('cpus:1;mem:10');

  it('a snapshot keeps its filters when the framework declines again after it', () => {
    const w = WholeCycle.fromSnapshot(new DeclineOffersShape(4, 2).snapshot());
    const fw = [...w.state.frameworks.keys()][0];
    const agents = [...w.state.agents.keys()];
    const book = (agentId: string) =>
      offersIn(
        w.state.apply({
          type: 'allocationResult',
          plan: { offers: [{ frameworkId: fw, agentId, role: '*', resources: r }], skipped: {} },
          durationMs: 0,
        }),
      );
    const decline = (offerId: string) =>
      w.state.apply({
        type: 'schedulerCall',
        conn: w.frameworkConn.get(fw) as string,
        call: { type: 'DECLINE', framework_id: fw, decline: { offer_ids: [offerId], filters: { refuse_seconds: 60 } } },
      });
    decline(book(agents[0])[0].id);
    const first = snapshotOf(w.state.apply({ type: 'allocateNow' }));
    const held = first.frameworks.find((f) => f.id === fw)?.filters ?? [];
    expect(held.map((f) => f.agentId)).to.deep.equal([agents[0]]);
    decline(book(agents[1])[0].id);
    expect(
      held.map((f) => f.agentId),
      'the first snapshot changed',
    ).to.deep.equal([agents[0]]);
    const second = snapshotOf(w.state.apply({ type: 'allocateNow' }));
    expect(second.frameworks.find((f) => f.id === fw)?.filters.map((f) => f.agentId)).to.deep.equal([
      agents[0],
      agents[1],
    ]);
  });

  it('drops each filter when it expires, the earliest first, whatever order they were added in', () => {
    let clock = 1_000_000;
    const w = WholeCycle.fromSnapshot(new DeclineOffersShape(4, 1).snapshot(), { now: () => clock });
    const fw = [...w.state.frameworks.keys()][0];
    const agents = [...w.state.agents.keys()];
    const declineFor = (agentId: string, seconds: number) => {
      const [offer] = offersIn(
        w.state.apply({
          type: 'allocationResult',
          plan: { offers: [{ frameworkId: fw, agentId, role: '*', resources: r }], skipped: {} },
          durationMs: 0,
        }),
      );
      w.state.apply({
        type: 'schedulerCall',
        conn: w.frameworkConn.get(fw) as string,
        call: {
          type: 'DECLINE',
          framework_id: fw,
          decline: { offer_ids: [offer.id], filters: { refuse_seconds: seconds } },
        },
      });
    };
    declineFor(agents[0], 30);
    declineFor(agents[1], 10);
    declineFor(agents[2], 20);
    const held = () => w.state.frameworks.get(fw)?.filters.map((f) => f.agentId);
    const given = () =>
      snapshotOf(w.state.apply({ type: 'allocateNow' }))
        .frameworks.find((f) => f.id === fw)
        ?.filters.map((f) => f.agentId);
    expect(given()).to.deep.equal([agents[0], agents[1], agents[2]]);
    clock += 15_000;
    expect(given()).to.deep.equal([agents[0], agents[2]]);
    expect(held()).to.deep.equal([agents[0], agents[2]]);
    clock += 10_000;
    expect(given()).to.deep.equal([agents[0]]);
    declineFor(agents[3], 1);
    clock += 2_000;
    expect(given()).to.deep.equal([agents[0]]);
    clock += 10_000;
    expect(given()).to.deep.equal([]);
    expect(held()).to.deep.equal([]);
  });

  it('books an offer on the agent it names, whatever agentIndex says', () => {
    const w = WholeCycle.fromSnapshot(new DeclineOffersShape(4, 2).snapshot());
    const snap = snapshotOf(w.state.apply({ type: 'allocateNow' }));
    const fw = snap.frameworks[0].id;
    const ids = snap.agents.map((a) => a.id);
    const plan: PlannedOffer[] = [
      { frameworkId: fw, agentId: ids[1], role: '*', resources: r, agentIndex: 1 }, // right
      { frameworkId: fw, agentId: ids[2], role: '*', resources: r, agentIndex: 3 }, // wrong index
      { frameworkId: fw, agentId: ids[3], role: '*', resources: r, agentIndex: 99 }, // none there
    ];
    const sent = offersIn(
      w.state.apply({ type: 'allocationResult', plan: { offers: plan, skipped: {} }, durationMs: 0 }),
    );
    expect(sent.map((o) => o.agent_id)).to.deep.equal([ids[1], ids[2], ids[3]]);
    for (const [k, id] of ids.entries()) {
      const agent = w.state.agents.get(id);
      const want = sent.filter((o) => o.agent_id === id).map((o) => o.id);
      expect(agent && agentOfferIds(agent), `agent ${k}`).to.deep.equal(want);
    }
  });
});
