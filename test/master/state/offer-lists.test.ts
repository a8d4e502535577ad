/**
 * The offer records booking keeps (master/registry.ts, master/state/offers.ts): each agent's and
 * each framework's outstanding offers as lists threaded through the offers, oldest first, always
 * the same offers as the master's offer map holds for them, whatever order they are taken back in;
 * and each offer carries its agent's hostname and attributes as they are now, after the agent
 * re-registered with others.
 */
import { expect } from 'chai';
import { allocate } from '../../../master/allocator/index.js';
import type { PlannedOffer } from '../../../master/allocator/types.js';
import { agentOfferIds } from '../../../master/registry.js';
import type { Effect } from '../../../master/state/index.js';
import { DeclineOffersShape } from '../../../scripts/bench/allocator.js';
import { WholeCycle } from '../../../scripts/bench/sim/whole-cycle.js';
import type { Offer } from '../../../sdk/protocol/types.js';
import { Resources } from '../../../sdk/resources/resources.js';
import { seededRng } from '../../../sdk/util/random.js';

/** The number that ends an offer id the master made (`<prefix>-O<n>`): its creation order. */
const seq = (id: string) => Number(id.slice(id.lastIndexOf('O') + 1));

/** Every agent's and framework's list against the master's offers, in the order they were made. */
function expectListsMatch(w: WholeCycle): void {
  const all = [...w.state.offers.values()].sort((a, b) => seq(a.id) - seq(b.id));
  for (const a of w.state.agents.values()) {
    const want = all.filter((o) => o.agentId === a.id).map((o) => o.id);
    expect(agentOfferIds(a), a.id).to.deep.equal(want);
  }
  for (const f of w.state.frameworks.values()) {
    const want = all.filter((o) => o.frameworkId === f.id).map((o) => o.id);
    expect([...f.offers], f.id).to.deep.equal(want);
    expect(f.offers.size, f.id).to.equal(want.length);
  }
}

function offersIn(effects: Effect[]): Offer[] {
  const out: Offer[] = [];
  for (const e of effects)
    if (e.kind === 'toScheduler' && e.message.type === 'OFFERS') out.push(...e.message.offers.offers);
  return out;
}

function rescindsIn(effects: Effect[]): string[] {
  const out: string[] = [];
  for (const e of effects)
    if (e.kind === 'toScheduler' && e.message.type === 'RESCIND') out.push(e.message.rescind.offer_id);
  return out;
}

/** Books a plan by hand: several offers per agent and per framework, interleaved. */
function book(w: WholeCycle, offers: PlannedOffer[]): Offer[] {
  return offersIn(w.state.apply({ type: 'allocationResult', plan: { offers, skipped: {} }, durationMs: 0 }));
}

describe('offer lists per agent and per framework (master/state/offers.ts)', () => {
  const r = Resources.parse('cpus:1;mem:10');

  it('hold the same offers as the master, oldest first, through declines, rescinds and dropped frameworks', () => {
    const w = WholeCycle.fromSnapshot(new DeclineOffersShape(6, 3).snapshot());
    const agents = [...w.state.agents.keys()];
    const fws = [...w.state.frameworks.keys()];
    const plan: PlannedOffer[] = [];
    for (let k = 0; k < 18; k++)
      plan.push({ frameworkId: fws[k % 3], agentId: agents[(k * 5) % 6], role: '*', resources: r });
    const made = book(w, plan).map((o) => o.id);
    expect(made).to.have.length(18);
    expectListsMatch(w);
    expect(agentOfferIds(w.state.agents.get(agents[0]) as never)).to.have.length(3);

    // Decline some from the middle, the front and the end of the lists, one of them twice.
    const f0 = fws[0];
    const mine = [...(w.state.frameworks.get(f0)?.offers ?? [])];
    const declined = [mine[0], mine[2], mine[mine.length - 1], mine[2]];
    w.state.apply({
      type: 'schedulerCall',
      conn: w.frameworkConn.get(f0) as string,
      call: { type: 'DECLINE', framework_id: f0, decline: { offer_ids: declined, filters: { refuse_seconds: 0 } } },
    });
    for (const id of declined) expect(w.state.offers.has(id)).to.equal(false);
    expectListsMatch(w);

    // An agent that goes away: its offers are rescinded, oldest first, and leave every list.
    const gone = w.state.agents.get(agents[1]);
    const held = agentOfferIds(gone as never);
    expect(held.length).to.be.greaterThan(1);
    const rescinded = rescindsIn(w.state.apply({ type: 'agentDisconnected', conn: 'a1' }));
    expect(rescinded).to.deep.equal(held);
    expectListsMatch(w);

    // A framework that disconnects: its offers go back, and leave its agents' lists.
    const f1 = fws[1];
    expect(w.state.frameworks.get(f1)?.offers.size).to.be.greaterThan(0);
    w.state.apply({ type: 'schedulerDisconnected', conn: w.frameworkConn.get(f1) as string });
    expect(w.state.frameworks.get(f1)?.offers.size ?? 0).to.equal(0);
    expectListsMatch(w);

    // New offers go to the end of the lists.
    const again = book(w, [{ frameworkId: fws[2], agentId: agents[0], role: '*', resources: r }]).map((o) => o.id);
    const a0 = agentOfferIds(w.state.agents.get(agents[0]) as never);
    expect(a0[a0.length - 1]).to.equal(again[0]);
    expectListsMatch(w);
  });

  it('keep every offer of a full cycle, and none once all are declined', () => {
    const w = WholeCycle.fromSnapshot(new DeclineOffersShape(60, 4).snapshot());
    for (let round = 0; round < 3; round++) {
      expect(w.run(allocate, seededRng(round)).offers).to.be.greaterThan(0);
      expectListsMatch(w);
      w.declineAll(round === 1 ? 0 : 3600);
      expect(w.state.offers.size).to.equal(0);
      for (const a of w.state.agents.values()) expect(agentOfferIds(a)).to.deep.equal([]);
      for (const f of w.state.frameworks.values()) expect([...f.offers]).to.deep.equal([]);
    }
  });

  it("offer an agent's hostname and attributes as it re-registered with them last", () => {
    const w = WholeCycle.fromSnapshot(new DeclineOffersShape(2, 1).snapshot());
    const id = [...w.state.agents.keys()][0];
    const fw = [...w.state.frameworks.keys()][0];
    const first = book(w, [{ frameworkId: fw, agentId: id, role: '*', resources: r }]);
    expect(first[0].hostname).to.equal(w.state.agents.get(id)?.info.hostname);
    w.state.apply({ type: 'agentDisconnected', conn: 'a0' });
    w.state.apply({ type: 'agentConnected', conn: 'a0-again' });
    const info = w.state.agents.get(id)?.info as NonNullable<ReturnType<typeof w.state.agents.get>>['info'];
    w.state.apply({
      type: 'agentMessage',
      conn: 'a0-again',
      message: {
        type: 'REREGISTER',
        agent: { ...info, id, hostname: 'renamed.example', attributes: { rack: 'r2' } },
        version: 'bench',
        tasks: [],
        frameworks: [],
      },
    });
    expect(w.state.agents.get(id)?.state).to.equal('active');
    const next = book(w, [{ frameworkId: fw, agentId: id, role: '*', resources: r }]);
    expect(next).to.have.length(1);
    expect(next[0].hostname).to.equal('renamed.example');
    expect(next[0].attributes).to.deep.equal({ rack: 'r2' });
  });
});
