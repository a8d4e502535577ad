/**
 * A small correctness run of the allocator benchmark's shapes (scripts/bench/allocator.ts), so
 * that the benchmark measures a cycle that does the right thing: no agent over-committed, nothing
 * offered twice, declined resources not offered again to the framework that declined them, quota
 * guarantees met exactly (guarantee = limit) and nothing offered while the first offers are out.
 * No timing is asserted.
 */
import { expect } from 'chai';
import { allocate } from '../../../master/allocator/index.js';
import {
  DECLINE_AGENT,
  DECLINE_USED,
  DeclineOffersShape,
  fragmentPorts,
  LargeAndSmallQuotaShape,
} from '../../../scripts/bench/allocator.js';
import { countPorts, Resources } from '../../../sdk/resources/resources.js';
import { seededRng } from '../../../sdk/util/random.js';

describe('allocator benchmark shapes (small correctness run)', () => {
  it('builds the port fragments as Mesos does', () => {
    expect(fragmentPorts(1, 10, 3)).to.equal('ports:[1-1,3-3,5-10]');
    const used = Resources.parse(DECLINE_USED);
    expect(used.ranges('ports')).to.have.length(16);
    expect(countPorts(Resources.parse(DECLINE_AGENT).minus(used))).to.equal(15);
  });

  it('DeclineOffers: every round offers each agent once, to a framework that has not declined it', () => {
    const shape = new DeclineOffersShape(60, 6);
    const declined = new Set<string>();
    const free = Resources.parse(DECLINE_AGENT).minus(Resources.parse(DECLINE_USED));
    for (let round = 0; round < 4; round++) {
      const plan = allocate(shape.snapshot(), seededRng(round));
      expect(plan.offers, `round ${round}`).to.have.length(60);
      const agents = new Set<string>();
      for (const o of plan.offers) {
        expect(agents.has(o.agentId), `${o.agentId} offered twice`).to.equal(false);
        agents.add(o.agentId);
        expect(declined.has(`${o.frameworkId}@${o.agentId}`), `${o.frameworkId} re-offered ${o.agentId}`).to.equal(
          false,
        );
        expect(o.resources.equals(free), `offer on ${o.agentId}: ${o.resources}`).to.equal(true);
        declined.add(`${o.frameworkId}@${o.agentId}`);
      }
      shape.decline(plan);
      expect(shape.filterCount()).to.equal(60 * (round + 1));
    }
  });

  it('LargeAndSmallQuota: every role gets exactly its quota in the first cycle, nothing in the second', () => {
    const shape = new LargeAndSmallQuotaShape({ small: 25, large: 5 });
    expect(shape.agents).to.equal(30);
    const first = allocate(shape.snapshot(), seededRng(1));
    // 25 half agents and 5 × 2 whole ones at best (Mesos made 3,500 at 2,500 + 500); chopping may add a few.
    expect(first.offers.length).to.be.within(35, 40);
    const byRole = new Map<string, Resources>();
    const byAgent = new Map<string, Resources>();
    for (const o of first.offers) {
      byRole.set(o.role, (byRole.get(o.role) ?? Resources.empty()).plus(o.resources));
      byAgent.set(o.agentId, (byAgent.get(o.agentId) ?? Resources.empty()).plus(o.resources));
    }
    expect(byRole.size).to.equal(30);
    for (const [role, got] of byRole) {
      const want = role.startsWith('small') ? 'cpus:1;mem:1024;disk:1024' : 'cpus:4;mem:4096;disk:4096';
      expect(got.equals(Resources.parse(want)), `${role} got ${got}`).to.equal(true);
    }
    for (const [agent, got] of byAgent) {
      expect(Resources.parse('cpus:2;mem:2048;disk:2048').contains(got), `${agent} over-committed`).to.equal(true);
    }
    shape.keep(first);
    expect(allocate(shape.snapshot(), seededRng(2)).offers).to.have.length(0);
  });
});
