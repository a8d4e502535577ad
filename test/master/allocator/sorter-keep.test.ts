/**
 * Sorters kept between cycles (master/allocator/sorter-keep.ts) serve in the order a rebuilt
 * sorter would, and so give the same plans:
 *
 * - a DRF sorter (hierarchical and flat) brought from one cycle's end to the next one's start with
 *   `rebind`, weights, `setActiveAt` and `setAllocationAt` has, after any sequence of such cycles
 *   (pool totals, weights, activity and allocations changing, offers recorded in between), the same
 *   order (`sort()`) and the same shares as a sorter built afresh from that cycle's inputs; the
 *   allocations are drawn from a few values so that equal shares, and so the tie-breaks (allocation
 *   count, then name), decide much of the order;
 * - `allocate` keeping its sorters gives, cycle after cycle (offers kept outstanding, allocations,
 *   activity, suppression, weights and quota changing, frameworks and roles sometimes coming and
 *   going, listed in another order), the same plans as with `keepSorters: false`.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { createAllocate } from '../../../master/allocator/allocate.js';
import { DrfSorter } from '../../../master/allocator/drf-sorter.js';
import { ScalarSpace } from '../../../master/allocator/sorter.js';
import type { AllocationPlan, AllocatorFramework, AllocatorSnapshot } from '../../../master/allocator/types.js';
import { Resources } from '../../../sdk/resources/resources.js';
import { seededRng } from '../../../sdk/util/random.js';

const DIMS = ['cpus', 'mem', 'disk'];

/** A cycle's inputs for one sorter: pool totals, weights by path, and per client its allocation and activity. */
interface SorterCycle {
  totals: number[];
  weights: [string, number][];
  /** Per client its inputs, or null: the same as in the cycle before (most clients, in some cycles). */
  clients: ({ alloc: number[] | null; active: boolean } | null)[];
  /** Bring the kept sorter to the start with `reset` (else client by client). */
  bulk: boolean;
  /** Offers recorded during the cycle (client, vector): the state the next cycle starts from. */
  offers: [number, number[]][];
}

const vec = fc.tuple(...DIMS.map(() => fc.constantFrom(0, 1, 2, 0.5, 1.25)));

function cycleArb(n: number, paths: string[]): fc.Arbitrary<SorterCycle> {
  return fc.record({
    totals: fc.tuple(...DIMS.map(() => fc.constantFrom(0, 4, 8, 10.5))),
    weights: fc.array(fc.tuple(fc.constantFrom(...paths), fc.constantFrom(0.5, 1, 2, 3)), { maxLength: 3 }),
    clients: fc.integer({ min: 0, max: 3 }).chain((sticky) =>
      fc.array(
        fc.oneof(
          // Mostly unchanged in some cycles (then few clients move), all drawn anew in others.
          { arbitrary: fc.constant(null), weight: sticky * 10 },
          { arbitrary: fc.record({ alloc: fc.option(vec, { freq: 2 }), active: fc.boolean() }), weight: 1 },
        ),
        { minLength: n, maxLength: n },
      ),
    ),
    bulk: fc.integer({ min: 0, max: 3 }).map((k) => k > 0),
    offers: fc.array(fc.tuple(fc.nat({ max: n - 1 }), vec), { maxLength: 6 }),
  });
}

function spaceOf(totals: number[]): ScalarSpace {
  const space = new ScalarSpace(DIMS);
  space.addTotalVector(totals);
  return space;
}

type Inputs = { alloc: number[] | null; active: boolean }[];

/** Each client's inputs in a cycle (null: as in the cycle before; nothing and active at first). */
function resolve(c: SorterCycle, before: Inputs | null): Inputs {
  return c.clients.map((x, i) => x ?? before?.[i] ?? { alloc: null, active: true });
}

/** The sorter a cycle builds afresh: weights, then the clients in order, their activity and allocation. */
function fresh(names: string[], hierarchical: boolean, c: SorterCycle, inputs: Inputs): DrfSorter {
  const s = new DrfSorter({ hierarchical, space: spaceOf(c.totals) });
  for (const [path, w] of new Map(c.weights)) s.updateWeight(path, w);
  names.forEach((name, i) => {
    s.add(name);
    if (!inputs[i].active) s.deactivate(name);
    const a = inputs[i].alloc;
    if (a) s.allocatedAt(i, a);
  });
  return s;
}

/** A kept sorter brought to the cycle's start, as sorter-keep.ts does. */
function bringTo(
  s: DrfSorter,
  weightsBefore: Map<string, number>,
  c: SorterCycle,
  inputs: Inputs,
): Map<string, number> {
  s.rebind(spaceOf(c.totals));
  const weights = new Map(c.weights);
  for (const [path, w] of weights) if (weightsBefore.get(path) !== w) s.updateWeight(path, w);
  for (const path of weightsBefore.keys()) if (!weights.has(path)) s.updateWeight(path, 1);
  if (c.bulk) {
    s.reset(
      inputs.map((x) => x.active),
      inputs.map((x) => x.alloc),
      inputs.map((x) => (x.alloc ? 1 : 0)),
    );
  } else {
    inputs.forEach((x, i) => {
      s.setActiveAt(i, x.active);
      s.setAllocationAt(i, x.alloc, x.alloc ? 1 : 0);
    });
  }
  return weights;
}

function sameAs(kept: DrfSorter, rebuilt: DrfSorter, names: string[]): void {
  expect(kept.sort()).to.deep.equal(rebuilt.sort());
  for (const name of names) expect(kept.share(name), name).to.equal(rebuilt.share(name));
}

function sorterProperty(names: string[], paths: string[], hierarchical: boolean): void {
  fc.assert(
    fc.property(fc.array(cycleArb(names.length, paths), { minLength: 1, maxLength: 6 }), (cycles) => {
      let inputs = resolve(cycles[0], null);
      const kept = fresh(names, hierarchical, cycles[0], inputs);
      let weights = new Map(cycles[0].weights);
      for (let k = 0; k < cycles.length; k++) {
        const c = cycles[k];
        if (k > 0) {
          inputs = resolve(c, inputs);
          weights = bringTo(kept, weights, c, inputs);
        }
        sameAs(kept, fresh(names, hierarchical, c, inputs), names);
        // The cycle's own changes: offers recorded, then the next cycle starts from there.
        for (const [i, v] of c.offers) kept.allocatedAt(i, v);
      }
    }),
    { numRuns: 400 },
  );
}

describe('sorters kept between cycles', function () {
  this.timeout(120_000);

  it('a kept hierarchical DRF sorter serves in the order, and with the shares, of a rebuilt one', () => {
    const roles = ['a', 'b', 'a/x', 'a/y', 'c/d/e', 'c', 'z'];
    sorterProperty(roles, [...roles, 'c/d'], true);
  });

  it('a kept flat DRF sorter (frameworks of a role) does too', () => {
    // Twenty: enough that a cycle where few of them changed moves just those (`reset`'s other path).
    const fws = Array.from({ length: 20 }, (_, i) => `fw-${(i * 7) % 20}`);
    sorterProperty(fws, fws, false);
  });

  it('allocate() keeping its sorters gives the same plans, cycle after cycle, as rebuilding them', () => {
    fc.assert(
      fc.property(fc.array(clusterCycleArb, { minLength: 2, maxLength: 5 }), fc.integer(), (cycles, seed) => {
        const keeping = createAllocate();
        const rebuilding = createAllocate({ keepSorters: false });
        let outstanding: AllocationPlan | null = null;
        cycles.forEach((c, k) => {
          const snapshot = clusterSnapshot(c, outstanding);
          const a = keeping(snapshot, seededRng(seed + k));
          const b = rebuilding(snapshot, seededRng(seed + k));
          expect(show(a)).to.equal(show(b));
          outstanding = c.keepOffers ? a : null;
        });
      }),
      { numRuns: 300 },
    );
  });

  it('does not reuse a stage-1 sorter kept for other roles, even as many', () => {
    // Cycle 1: roles a, b, c, each below its guarantee. Cycle 2: a, a/x, c (as many roles; the
    // role sorter is built afresh, at the same indices). Reusing the stage-1 sorter of a, b, c
    // would put a/x's allocation under the name b, at the top level: a (holding nothing) would
    // come first, where a's subtree (a/x holding 3 CPUs) comes after c (2 CPUs).
    const g = { guarantee: Resources.scalars({ cpus: 10 }) };
    const fw = (id: string, role: string, cpus: number): AllocatorFramework => ({
      id,
      roles: [role],
      suppressedRoles: [],
      allocated: cpus > 0 ? { [role]: Resources.scalars({ cpus }) } : {},
      filters: [],
      active: true,
    });
    const cycle = (roles: string[], frameworks: AllocatorFramework[]): AllocatorSnapshot => ({
      now: 1000,
      agents: [
        {
          id: 'agent-0',
          hostname: 'h0',
          total: Resources.parse('cpus:1;mem:1024'),
          allocated: Resources.empty(),
          attributes: {},
          active: true,
        },
      ],
      frameworks,
      roles: roles.map((name) => ({ name, weight: 1, quota: g })),
      minAllocatable: MIN,
    });
    const keeping = createAllocate();
    keeping(cycle(['a', 'b', 'c'], [fw('fw-a', 'a', 0), fw('fw-b', 'b', 0), fw('fw-c', 'c', 0)]), seededRng(1));
    const second = cycle(['a', 'a/x', 'c'], [fw('fw-a', 'a', 0), fw('fw-ax', 'a/x', 3), fw('fw-c', 'c', 2)]);
    const plan = keeping(second, seededRng(2));
    expect(plan.offers.map((o) => o.frameworkId)).to.deep.equal(['fw-c']);
    expect(show(plan)).to.equal(show(createAllocate({ keepSorters: false })(second, seededRng(2))));
  });
});

// ---------------------------------------------------------------- random clusters, cycle after cycle

const ROLES = ['a', 'b', 'a/x', '*'];

const clusterCycleArb = fc.record({
  agents: fc.integer({ min: 1, max: 8 }),
  /** Frameworks: most cycles the same four, sometimes one more (the sorters cannot be kept then). */
  extraFramework: fc.integer({ min: 0, max: 4 }).map((n) => n === 0),
  frameworks: fc.array(
    fc.record({
      roles: fc.subarray(ROLES, { minLength: 1, maxLength: 2 }),
      suppressMask: fc.integer({ min: 0, max: 31 }).map((m) => (m < 16 ? 0 : m)),
      held: fc.option(
        fc.record({
          role: fc.constantFrom(...ROLES),
          cpus: fc.constantFrom(1, 2, 4),
          mem: fc.constantFrom(0, 512, 1024),
        }),
      ),
      active: fc.integer({ min: 0, max: 5 }).map((n) => n > 0),
    }),
    { minLength: 4, maxLength: 4 },
  ),
  roles: fc.uniqueArray(
    fc.record({
      name: fc.constantFrom(...ROLES),
      weight: fc.constantFrom(1, 1, 2, 3),
      guarantee: fc.option(fc.constantFrom(1, 2, 6)),
      limit: fc.option(fc.constantFrom(2, 4, 8)),
    }),
    { maxLength: 3, selector: (r) => r.name },
  ),
  /** The offers made stay outstanding into the next cycle (held by their frameworks and agents). */
  keepOffers: fc.boolean(),
  /** Frameworks and roles listed in reverse (kept sorters are reused whatever the order of their clients). */
  reversed: fc.boolean(),
});

type ClusterCycle = typeof clusterCycleArb extends fc.Arbitrary<infer T> ? T : never;

const MIN = ['cpus:0.01', 'mem:32'].map((t) => Resources.parse(t));

function clusterSnapshot(c: ClusterCycle, outstanding: AllocationPlan | null): AllocatorSnapshot {
  const onAgent = new Map<string, Resources>();
  const byFw = new Map<string, Map<string, Resources>>();
  for (const o of outstanding?.offers ?? []) {
    onAgent.set(o.agentId, (onAgent.get(o.agentId) ?? Resources.empty()).plus(o.resources));
    const held = byFw.get(o.frameworkId) ?? new Map<string, Resources>();
    held.set(o.role, (held.get(o.role) ?? Resources.empty()).plus(o.resources));
    byFw.set(o.frameworkId, held);
  }
  const agents = Array.from({ length: c.agents }, (_, i) => {
    const total = Resources.parse('cpus:4;mem:4096;disk:100');
    const used = onAgent.get(`agent-${i}`) ?? Resources.empty();
    return { id: `agent-${i}`, hostname: `h${i}`, total, allocated: used, attributes: {}, active: true };
  });
  const specs = c.extraFramework ? [...c.frameworks, c.frameworks[0]] : c.frameworks;
  const frameworks: AllocatorFramework[] = specs.map((f, i) => {
    const id = `fw-${i}`;
    const allocated: Record<string, Resources> = {};
    if (f.held) allocated[f.held.role] = Resources.scalars({ cpus: f.held.cpus, mem: f.held.mem });
    for (const [role, r] of byFw.get(id) ?? []) allocated[role] = (allocated[role] ?? Resources.empty()).plus(r);
    return {
      id,
      roles: f.roles,
      suppressedRoles: f.roles.filter((_, k) => (f.suppressMask >> k) & 1),
      allocated,
      filters: [],
      active: f.active,
    };
  });
  const roles = c.roles.map((r) => ({
    name: r.name,
    weight: r.weight,
    quota: {
      ...(r.guarantee !== null ? { guarantee: Resources.scalars({ cpus: r.guarantee }) } : {}),
      ...(r.limit !== null ? { limit: Resources.scalars({ cpus: r.limit }) } : {}),
    },
  }));
  if (c.reversed) {
    frameworks.reverse();
    roles.reverse();
  }
  return { now: 1000, agents, frameworks, roles, minAllocatable: MIN };
}

function show(p: AllocationPlan): string {
  return JSON.stringify({
    o: p.offers.map((o) => [o.frameworkId, o.agentId, o.role, o.resources.toString()]),
    s: p.skipped,
  });
}
