/**
 * Refusal filters per role (Mesos: a DECLINE filters the framework in the role of the declined
 * offer only; REVIVE with roles clears those roles' filters only, without roles all of them;
 * UPDATE_FRAMEWORK dropping a role drops that role's filters; the state endpoint counts them per role),
 * through the harness: real master logic, a fake agent and a fake multi-role scheduler.
 */
import { expect } from 'chai';
import { masterState } from '../../../master/state-json.js';
import { type FakeScheduler, type MasterHarness as Harness, MasterHarness } from '../../../master/testing/index.js';
import type { Offer } from '../../../sdk/protocol/types.js';

const HOUR = 3600;

/** The one offer the framework holds now (fails when it holds none or several). */
function onlyOffer(f: FakeScheduler): Offer {
  const offers = f.offers();
  expect(offers, 'offers held').to.have.length(1);
  return offers[0];
}

/** A two-role framework and one agent; the first offer (whichever role DRF picked) declined for an hour. */
async function declinedOnce(): Promise<{ h: Harness; f: FakeScheduler; first: string; other: string }> {
  const h = await MasterHarness.start({ allocationIntervalMs: 1000 });
  const f = await h.subscribe({ name: 'two-roles', roles: ['a', 'b'], capabilities: [{ type: 'MULTI_ROLE' }] });
  await h.addAgent({ hostname: 'only' });
  await h.allocate();
  const o = onlyOffer(f);
  const first = o.allocation_role;
  const other = first === 'a' ? 'b' : 'a';
  f.decline([o.id], HOUR);
  await h.allocate();
  return { h, f, first, other };
}

describe('refusal filters per role (harness)', () => {
  it('a decline in one role leaves the agent offered to the framework in its other role', async () => {
    const { h, f, first, other } = await declinedOnce();
    const o = onlyOffer(f);
    expect(o.allocation_role).to.equal(other);
    // And the first role stays filtered: declining the other one too leaves nothing offered.
    f.decline([o.id], HOUR);
    await h.advance(10_000);
    expect(f.offers()).to.have.length(0);
    const fw = h.master.frameworks.get(f.frameworkId!)!;
    expect(fw.filters.map((x) => x.role).sort()).to.deep.equal([first, other].sort());
  });

  it('REVIVE with roles clears only those roles; REVIVE without roles clears them all', async () => {
    const { h, f, first, other } = await declinedOnce();
    f.decline([onlyOffer(f).id], HOUR);
    await h.advance(10_000);
    expect(f.offers()).to.have.length(0);

    // REVIVE{roles:[other]}: offered again in that role only; the first role's filter holds.
    f.call({ type: 'REVIVE', framework_id: '', revive: { roles: [other] } });
    await h.settle();
    const again = onlyOffer(f);
    expect(again.allocation_role).to.equal(other);
    f.decline([again.id], HOUR);
    await h.advance(10_000);
    expect(f.offers(), `${first} still filtered after REVIVE{${other}}`).to.have.length(0);
    const fw = h.master.frameworks.get(f.frameworkId!)!;
    expect(fw.filters.map((x) => x.role).sort()).to.deep.equal([first, other].sort());

    // REVIVE{}: every role's filters go; the agent is offered again.
    f.call({ type: 'REVIVE', framework_id: '', revive: {} });
    await h.settle();
    expect(fw.filters).to.have.length(0);
    expect(f.offers()).to.have.length(1);
  });

  it('UPDATE_FRAMEWORK without a role drops its filters: the role back again is offered at once', async () => {
    const { h, f, first, other } = await declinedOnce();
    // Both roles filtered for an hour: nothing offered.
    f.decline([onlyOffer(f).id], HOUR);
    await h.advance(10_000);
    expect(f.offers()).to.have.length(0);
    const id = f.frameworkId!;
    const update = (roles: string[]) =>
      f.call({
        type: 'UPDATE_FRAMEWORK',
        framework_id: id,
        update_framework: {
          framework_info: { id, name: 'two-roles', roles, capabilities: [{ type: 'MULTI_ROLE' }] },
        },
      });
    update([other]);
    await h.settle();
    expect(f.errors()).to.deep.equal([]);
    // Still nothing: the remaining role's filter holds.
    await h.advance(10_000);
    expect(f.offers()).to.have.length(0);
    update([first, other]);
    await h.settle();
    await h.advance(1_000);
    // Within the hour the first role's filter would have run, the agent is offered in that role.
    expect(onlyOffer(f).allocation_role).to.equal(first);
    const fw = h.master.frameworks.get(id)!;
    expect(fw.filters.map((x) => x.role)).to.deep.equal([other]);
  });

  it("the state's offer_stats: active_filters the total, active_filters_by_role split by role", async () => {
    const { h, f, first, other } = await declinedOnce();
    const stats = () => masterState(h.master).frameworks.find((x) => x.id === f.frameworkId)!.offer_stats;
    expect(stats().active_filters).to.equal(1);
    expect(stats().active_filters_by_role).to.deep.equal({ [first]: 1 });
    f.decline([onlyOffer(f).id], HOUR);
    await h.advance(10_000);
    expect(stats().active_filters).to.equal(2);
    expect(stats().active_filters_by_role).to.deep.equal({ [first]: 1, [other]: 1 });
    f.call({ type: 'REVIVE', framework_id: '', revive: { roles: [other] } });
    await h.settle();
    expect(stats().active_filters).to.equal(1);
    expect(stats().active_filters_by_role).to.deep.equal({ [first]: 1 });
    // Over the wire as JSON: a plain object of counts.
    expect(JSON.parse(JSON.stringify(stats())).active_filters_by_role).to.deep.equal({ [first]: 1 });
  });

  it('active_filters counts a filter only until it expires, swept by a cycle or not', async () => {
    // No timed cycle in the hour: an expired filter stays in the books until an event's cycle.
    const h = await MasterHarness.start({ allocationIntervalMs: 3_600_000 });
    const f = await h.subscribe({ name: 'short-filter', roles: ['a'] });
    await h.addAgent({ hostname: 'only' });
    await h.allocate();
    f.decline([onlyOffer(f).id], 5);
    await h.settle();
    const stats = () => masterState(h.master).frameworks.find((x) => x.id === f.frameworkId)!.offer_stats;
    expect(stats().active_filters).to.equal(1);
    await h.advance(10_000);
    expect(stats().active_filters).to.equal(0);
    expect(stats().active_filters_by_role).to.deep.equal({});
  });

  it('an ACCEPT with refuse_seconds filters what it left over in the offer role only', async () => {
    const h = await MasterHarness.start({ allocationIntervalMs: 1000 });
    const f = await h.subscribe({ name: 'two-roles', roles: ['a', 'b'], capabilities: [{ type: 'MULTI_ROLE' }] });
    await h.addAgent({ hostname: 'only' });
    await h.allocate();
    const o = onlyOffer(f);
    f.launch(o, [{ task_id: 't1', resources: 'cpus:1;mem:64' }], HOUR);
    await h.allocate();
    const fw = h.master.frameworks.get(f.frameworkId!)!;
    expect(fw.filters.map((x) => x.role)).to.deep.equal([o.allocation_role]);
    // The rest of the agent comes back in the other role.
    expect(onlyOffer(f).allocation_role).to.not.equal(o.allocation_role);
  });
});
