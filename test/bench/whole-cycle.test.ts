/**
 * The whole-cycle timer runs a real cycle on a real MasterState: every agent with room is offered
 * once, what is already allocated on an agent is never offered again, and declined offers go to
 * another framework next round. No timing is asserted.
 */
import { expect } from 'chai';
import { allocate } from '../../master/allocator/index.js';
import type { AllocatorSnapshot } from '../../master/allocator/types.js';
import { WholeCycle } from '../../scripts/bench/sim/whole-cycle.js';
import { Resources } from '../../sdk/resources/resources.js';
import { seededRng } from '../../sdk/util/random.js';

function shape(agents: number, frameworks: number): AllocatorSnapshot {
  const total = Resources.parse('cpus:4;mem:4096');
  return {
    now: 1_000_000,
    agents: Array.from({ length: agents }, (_, i) => ({
      id: `S${i}`,
      hostname: `h${i}`,
      total,
      allocated: i % 2 === 0 ? Resources.parse('cpus:3;mem:1024') : Resources.empty(),
      attributes: {},
      active: true,
    })),
    frameworks: Array.from({ length: frameworks }, (_, i) => ({
      id: `F${i}`,
      roles: ['*'],
      suppressedRoles: [],
      allocated: {},
      filters: [],
      active: true,
    })),
    roles: [],
    minAllocatable: [Resources.parse('cpus:0.01'), Resources.parse('mem:32')],
  };
}

describe('whole-cycle timing (scripts/bench/sim/whole-cycle.ts)', () => {
  it('books one offer per agent, never over what the agent has left, and reports both timings', () => {
    const w = WholeCycle.fromSnapshot(shape(20, 3));
    const t = w.run(allocate, seededRng(7));
    expect(t.offers).to.equal(20);
    expect(t.whole_cycle_ms).to.be.at.least(t.allocate_ms);
    for (const o of w.state.offers.values()) {
      const agent = w.state.agents.get(o.agentId);
      expect(agent, o.agentId).to.not.equal(undefined);
      const free = agent?.total.minus(agent.used) ?? Resources.empty();
      expect(free.contains(o.resources), `${o.agentId}: offered ${o.resources} with ${free} free`).to.equal(true);
    }
    const held = [...w.state.agents.values()].filter((a) => !a.used.isEmpty()).length;
    expect(held, 'the allocated half is held by tasks').to.equal(10);
  });

  it('after every offer is declined with a filter, the next round offers each agent to another framework', () => {
    const w = WholeCycle.fromSnapshot(shape(6, 2));
    w.run(allocate, seededRng(1));
    const first = new Map([...w.state.offers.values()].map((o) => [o.agentId, o.frameworkId]));
    w.declineAll(60);
    expect(w.state.offers.size).to.equal(0);
    const t = w.run(allocate, seededRng(1));
    expect(t.offers).to.equal(6);
    for (const o of w.state.offers.values()) expect(o.frameworkId).to.not.equal(first.get(o.agentId));
    w.declineAll(60);
    expect(w.run(allocate, seededRng(1)).offers, 'both frameworks filtered every agent').to.equal(0);
  });
});
