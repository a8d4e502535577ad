/**
 * Refusal filters chained per agent and kept between cycles (master/allocator/filter-chains.ts):
 * over any sequence of cycles (filters appended in place or to a copied list, expired ones dropped
 * or left in, filters on agents not in the snapshot, frameworks going inactive and back, time
 * moving on), an allocator extending the kept chains gives the same plans, skip counts included,
 * as one that rebuilds them every cycle; and the kept chains are in fact extended.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { createAllocate } from '../../../master/allocator/allocate.js';
import { filterChainStats, forgetFilterChains } from '../../../master/allocator/filter-chains.js';
import type {
  AllocationPlan,
  AllocatorAgent,
  AllocatorSnapshot,
  RefusalFilter,
} from '../../../master/allocator/types.js';
import { Resources } from '../../../sdk/resources/resources.js';
import { seededRng } from '../../../sdk/util/random.js';

const MIN = ['cpus:0.01', 'mem:32'].map((t) => Resources.parse(t));
const AGENT = 'cpus:4;mem:2048;ports:[31000-31010]';
const FILTER_RESOURCES = [
  undefined,
  Resources.parse(AGENT),
  Resources.parse('cpus:1;mem:100'),
  Resources.parse('cpus:4;mem:2048'),
];
const AGENT_IDS = ['agent-0', 'agent-1', 'agent-2', 'agent-3', 'agent-gone'];
const FRAMEWORKS = 3;

interface Step {
  /** Per framework: filters to add (agent, expiry after now in ms, resources), how the list changes, whether active. */
  fws: { add: [number, number, number][]; copy: boolean; dropExpired: boolean; active: boolean }[];
  advance: number;
}

const step: fc.Arbitrary<Step> = fc.record({
  fws: fc.array(
    fc.record({
      add: fc.array(
        fc.tuple(
          fc.nat({ max: AGENT_IDS.length - 1 }),
          fc.constantFrom(0, 5, 30, 1e9),
          fc.nat({ max: FILTER_RESOURCES.length - 1 }),
        ),
        { maxLength: 4 },
      ),
      copy: fc.boolean(),
      dropExpired: fc.boolean(),
      active: fc.integer({ min: 0, max: 5 }).map((k) => k > 0),
    }),
    { minLength: FRAMEWORKS, maxLength: FRAMEWORKS },
  ),
  advance: fc.constantFrom(0, 0, 1, 10, 40),
});

function summary(plan: AllocationPlan): unknown {
  return {
    offers: plan.offers.map((o) => [o.frameworkId, o.agentId, o.role, o.resources.toString()]).sort(),
    skipped: plan.skipped,
  };
}

/** An empty agent of the test's shape. */
function agent(id: string): AllocatorAgent {
  return {
    id,
    hostname: id,
    total: Resources.parse(AGENT),
    allocated: Resources.empty(),
    attributes: {},
    active: true,
  };
}

describe('refusal filter chains kept between cycles (master/allocator/filter-chains.ts)', () => {
  it('give the plans of chains rebuilt every cycle, for any sequence of filter changes', () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 8 }), (steps) => {
        forgetFilterChains();
        const kept = createAllocate({ keepSorters: false });
        const rebuilt = createAllocate({ keepSorters: false });
        const agents: AllocatorAgent[] = AGENT_IDS.slice(0, 4).map(agent);
        const lists: RefusalFilter[][] = Array.from({ length: FRAMEWORKS }, () => []);
        let now = 1000;
        const before = filterChainStats.extended;
        for (const [n, s] of steps.entries()) {
          now += s.advance;
          const frameworks = s.fws.map((c, f) => {
            let list = c.copy ? lists[f].slice() : lists[f];
            if (c.dropExpired) list = list.filter((x) => x.expiresAt > now);
            for (const [a, after, r] of c.add) {
              list.push({ agentId: AGENT_IDS[a], expiresAt: now + after, resources: FILTER_RESOURCES[r] });
            }
            lists[f] = list;
            return {
              id: `fw-${f}`,
              roles: ['*'],
              suppressedRoles: [],
              allocated: {},
              filters: list,
              active: c.active,
            };
          });
          const snap: AllocatorSnapshot = { now, agents, frameworks, roles: [], minAllocatable: MIN };
          const a = kept(snap, seededRng(n));
          forgetFilterChains();
          const b = rebuilt(snap, seededRng(n));
          expect(summary(a)).to.deep.equal(summary(b));
        }
        return filterChainStats.extended >= before;
      }),
      { numRuns: 300 },
    );
  });

  it('extends the kept chains when filters were only appended, and rebuilds them when one expired', () => {
    forgetFilterChains();
    const allocate = createAllocate();
    const agents = [agent('agent-0'), agent('agent-1')];
    const filters: RefusalFilter[] = [{ agentId: 'agent-0', expiresAt: 2000 }];
    const snap = (now: number, list: RefusalFilter[]): AllocatorSnapshot => ({
      now,
      agents,
      frameworks: [{ id: 'fw', roles: ['*'], suppressedRoles: [], allocated: {}, filters: list, active: true }],
      roles: [],
      minAllocatable: MIN,
    });
    const offered = (p: AllocationPlan) => p.offers.map((o) => o.agentId).sort();
    expect(offered(allocate(snap(1000, filters), seededRng(1)))).to.deep.equal(['agent-1']);
    const { extended, rebuilt } = filterChainStats;
    const more = [...filters, { agentId: 'agent-1', expiresAt: 3000 }];
    expect(offered(allocate(snap(1001, more), seededRng(1)))).to.deep.equal([]);
    expect(filterChainStats.extended).to.equal(extended + 1);
    // The first filter has expired at 2000: the chains are rebuilt without it.
    expect(offered(allocate(snap(2000, more), seededRng(1)))).to.deep.equal(['agent-0']);
    expect(filterChainStats.rebuilt).to.equal(rebuilt + 1);
  });
});
