/**
 * Agents whose values the allocator has never seen are converted by copying the last agent's
 * conversion when their contents are the same (convert-agents.ts, "twins"): whatever the mix of
 * identical, reordered and slightly different agents, each agent is offered exactly its own
 * total − allocated.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { createAllocate } from '../../../master/allocator/allocate.js';
import type { AllocatorAgent, AllocatorSnapshot } from '../../../master/allocator/types.js';
import { Resources } from '../../../sdk/resources/resources.js';
import { seededRng } from '../../../sdk/util/random.js';

const TOTALS = [
  'cpus:4;mem:1024;ports:[1000-1010]',
  'mem:1024;cpus:4;ports:[1000-1010]', // the same contents, walked in another order
  'cpus:4;mem:1024;ports:[1000-1011]',
  'cpus:4;mem:2048;ports:[1000-1010]',
  'cpus:4;mem:1024;ports:[1000-1010];disk:10',
  'cpus:4;mem:1024;zones:{a,b}',
  'cpus:4;mem:1024;cpus(r):1;ports:[1000-1010]',
];
const USED = [
  '',
  'cpus:1',
  'cpus:1;ports:[1000-1000]',
  'cpus:1;ports:[1001-1001]',
  'cpus:2;ports:[1000-1000]',
  'mem:1',
];

describe('allocator twins (agents converted like the last one)', () => {
  it('offers every agent exactly its own free resources, however alike its neighbours are', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(TOTALS.length - 1), fc.nat(USED.length - 1), fc.boolean(), fc.boolean()), {
          minLength: 1,
          maxLength: 12,
        }),
        (layout) => {
          // Values shared between agents of one content (as a master that keeps one value per
          // shape hands them over: the twin is then found by identity), or fresh.
          const shared = new Map<string, Resources>();
          const value = (text: string, share: boolean) => {
            if (!share) return text === '' ? Resources.empty() : Resources.parse(text);
            let v = shared.get(text);
            if (v === undefined) {
              v = text === '' ? Resources.empty() : Resources.parse(text);
              shared.set(text, v);
            }
            return v;
          };
          const agents: AllocatorAgent[] = layout.map(([t, u, shareTotal, shareUsed], i) => ({
            id: `a${i}`,
            hostname: `a${i}`,
            // No memo holds these values (a new allocator): only a twin can save the conversion.
            total: value(TOTALS[t], shareTotal),
            allocated: value(USED[u], shareUsed),
            attributes: {},
            active: true,
          }));
          const snap: AllocatorSnapshot = {
            now: 0,
            agents,
            frameworks: [{ id: 'f', roles: ['*'], suppressedRoles: [], allocated: {}, filters: [], active: true }],
            roles: [],
            minAllocatable: [],
          };
          const plan = createAllocate()(snap, seededRng(1));
          const got = new Map(plan.offers.map((o) => [o.agentId, o.resources]));
          for (const a of agents) {
            const want = a.total.minus(a.allocated).unreserved();
            const offered = (got.get(a.id) ?? Resources.empty()).unreserved();
            expect(offered.equals(want), `${a.id}: ${offered} instead of ${want}`).to.equal(true);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
