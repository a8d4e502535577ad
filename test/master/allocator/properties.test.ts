/**
 * Properties of `allocate` over random clusters (fast-check): agents with unreserved and reserved
 * resources and ports, partly in use; frameworks in one or more roles (hierarchical ones among
 * them), some suppressed, filtered or inactive; roles with weights, quota limits and guarantees.
 *
 * What is checked, precisely:
 * - no resource is offered twice and no offer exceeds its agent's free resources: per agent, the
 *   offers' scalars summed per (name, reservation role) are ≤ total − allocated, and their port
 *   ranges do not overlap and lie within the free ranges;
 * - quota limits hold: per role with a limit, the unreserved scalars offered to it and its subroles
 *   are ≤ limit − consumption before the cycle (consumption as Mesos counts it: reservations of
 *   the subtree, allocated or not, plus unreserved resources its frameworks hold);
 * - reserved resources go only to their role or its subroles;
 * - offers go only to active frameworks, in a role they subscribed with and did not suppress, on
 *   active agents they have no whole-agent filter for in that role (or in no recorded role), and each holds a minimum allocatable
 *   alternative (cpus:0.01 or mem:32);
 * - DRF order (one role, no filters, reservations or quota): replaying the plan's offers in order,
 *   each went to a framework whose dominant share — at the start of the cycle plus the offers
 *   before it in the plan — was the lowest among the active frameworks; in particular the first
 *   offer went to the framework with the lowest share at the start;
 * - the same seed gives the same plan.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { allocate } from '../../../master/allocator/allocate.js';
import { isAtOrBelow } from '../../../master/allocator/sorter.js';
import type {
  AllocationPlan,
  AllocatorAgent,
  AllocatorFramework,
  AllocatorRole,
  AllocatorSnapshot,
} from '../../../master/allocator/types.js';
import { countPorts, Resources } from '../../../sdk/resources/resources.js';
import { seededRng } from '../../../sdk/util/random.js';

const NOW = 5_000;
const ROLES = ['*', 'a', 'b', 'a/x'];
const RESERVATION_ROLES = ['a', 'b', 'a/x', 'c'];
const MIN = ['cpus:0.01', 'mem:32'].map((t) => Resources.parse(t));

const milli = (n: number) => (n / 1000).toFixed(3);

const agentArb = fc.record({
  cpus: fc.integer({ min: 0, max: 16_000 }),
  mem: fc.integer({ min: 0, max: 8192 }),
  usedPct: fc.integer({ min: 0, max: 100 }),
  reserved: fc.option(
    fc.record({
      role: fc.constantFrom(...RESERVATION_ROLES),
      cpus: fc.integer({ min: 0, max: 4000 }),
      mem: fc.integer({ min: 0, max: 2048 }),
      usedPct: fc.integer({ min: 0, max: 100 }),
    }),
  ),
  ports: fc.option(
    fc.record({ begin: fc.integer({ min: 31_000, max: 31_100 }), len: fc.integer({ min: 1, max: 40 }) }),
  ),
  usedPorts: fc.integer({ min: 0, max: 10 }),
  active: fc.integer({ min: 0, max: 4 }).map((n) => n > 0), // mostly active
});

const frameworkArb = fc.record({
  roles: fc.subarray(ROLES, { minLength: 1 }),
  suppressMask: fc.integer({ min: 0, max: 15 }),
  held: fc.array(
    fc.record({
      role: fc.constantFrom(...ROLES),
      cpus: fc.integer({ min: 0, max: 8000 }),
      mem: fc.integer({ min: 0, max: 4096 }),
    }),
    {
      maxLength: 2,
    },
  ),
  filters: fc.array(
    fc.record({
      agent: fc.nat(),
      expiresIn: fc.integer({ min: -3, max: 3 }),
      resources: fc.option(fc.constantFrom('cpus:100;mem:100000;ports:[31000-31200]', 'cpus:1')),
      // The role of the declined offer (null: a filter of no recorded role, for every role).
      role: fc.option(fc.constantFrom(...ROLES)),
    }),
    { maxLength: 3 },
  ),
  active: fc.integer({ min: 0, max: 5 }).map((n) => n > 0),
});

const roleArb = fc.record({
  name: fc.constantFrom('a', 'b', 'a/x', '*'),
  weight: fc.integer({ min: 1, max: 3 }),
  limit: fc.option(
    fc.record({ cpus: fc.integer({ min: 0, max: 20_000 }), mem: fc.option(fc.integer({ min: 0, max: 8192 })) }),
  ),
  guarantee: fc.option(fc.record({ cpus: fc.integer({ min: 0, max: 10_000 }) })),
});

const clusterArb = fc.record({
  agents: fc.array(agentArb, { minLength: 1, maxLength: 10 }),
  frameworks: fc.array(frameworkArb, { minLength: 1, maxLength: 6 }),
  roles: fc.uniqueArray(roleArb, { maxLength: 3, selector: (r) => r.name }),
  seed: fc.integer(),
});

type Cluster = typeof clusterArb extends fc.Arbitrary<infer T> ? T : never;

function build(c: Cluster): AllocatorSnapshot {
  const agents: AllocatorAgent[] = c.agents.map((g, i) => {
    const total: string[] = [`cpus:${milli(g.cpus)}`, `mem:${g.mem}`];
    const used: string[] = [
      `cpus:${milli(Math.floor((g.cpus * g.usedPct) / 100))}`,
      `mem:${Math.floor((g.mem * g.usedPct) / 100)}`,
    ];
    if (g.reserved) {
      const r = g.reserved;
      total.push(`cpus(${r.role}):${milli(r.cpus)}`, `mem(${r.role}):${r.mem}`);
      used.push(`cpus(${r.role}):${milli(Math.floor((r.cpus * r.usedPct) / 100))}`);
    }
    if (g.ports) {
      total.push(`ports:[${g.ports.begin}-${g.ports.begin + g.ports.len - 1}]`);
      const n = Math.min(g.usedPorts, g.ports.len);
      if (n > 0) used.push(`ports:[${g.ports.begin}-${g.ports.begin + n - 1}]`);
    }
    return {
      id: `agent-${i}`,
      hostname: `host-${i}`,
      total: Resources.parse(total.join(';')),
      allocated: Resources.parse(used.join(';')),
      attributes: {},
      active: g.active,
    };
  });
  const frameworks: AllocatorFramework[] = c.frameworks.map((f, i) => {
    const allocated: Record<string, Resources> = {};
    for (const h of f.held) {
      const r = Resources.scalars({ cpus: h.cpus / 1000, mem: h.mem });
      allocated[h.role] = (allocated[h.role] ?? Resources.empty()).plus(r);
    }
    return {
      id: `fw-${i}`,
      roles: f.roles,
      suppressedRoles: f.roles.filter((_, k) => (f.suppressMask >> k) & 1),
      allocated,
      filters: f.filters.map((x) => ({
        agentId: `agent-${x.agent % agents.length}`,
        expiresAt: NOW + x.expiresIn,
        ...(x.resources ? { resources: Resources.parse(x.resources) } : {}),
        ...(x.role !== null ? { role: x.role } : {}),
      })),
      active: f.active,
    };
  });
  const roles: AllocatorRole[] = c.roles.map((r) => {
    const quota: AllocatorRole['quota'] = {};
    if (r.limit) {
      quota.limit = Resources.scalars(
        r.limit.mem === null ? { cpus: r.limit.cpus / 1000 } : { cpus: r.limit.cpus / 1000, mem: r.limit.mem },
      );
    }
    if (r.guarantee) quota.guarantee = Resources.scalars({ cpus: r.guarantee.cpus / 1000 });
    return { name: r.name, weight: r.weight, ...(r.limit || r.guarantee ? { quota } : {}) };
  });
  return { now: NOW, agents, frameworks, roles, minAllocatable: MIN };
}

const EPS = 1e-9;

function checkWithinFree(s: AllocatorSnapshot, plan: AllocationPlan): void {
  for (const agent of s.agents) {
    const mine = plan.offers.filter((o) => o.agentId === agent.id);
    if (mine.length === 0) continue;
    expect(agent.active, `offer on inactive ${agent.id}`).to.equal(true);
    const free = agent.total.minus(agent.allocated);
    const sums = new Map<string, number>();
    let portCount = 0;
    let ports = Resources.empty();
    for (const o of mine) {
      for (const r of o.resources.toList()) {
        const key = `${r.name}(${r.role ?? '*'})`;
        if (r.type === 'SCALAR') sums.set(key, (sums.get(key) ?? 0) + (r.scalar?.value ?? 0));
      }
      portCount += countPorts(o.resources);
      ports = ports.plus(o.resources.filter((r) => r.type === 'RANGES'));
    }
    for (const [key, sum] of sums) {
      const [, name, role] = /^(.*)\((.*)\)$/.exec(key) ?? [];
      expect(sum, `${key} offered on ${agent.id}`).to.be.at.most(free.scalar(name, role) + EPS);
    }
    expect(countPorts(ports), `ports offered twice on ${agent.id}`).to.equal(portCount);
    expect(free.contains(ports), `ports beyond free on ${agent.id}`).to.equal(true);
  }
}

function unreservedScalars(r: Resources): Record<string, number> {
  const out: Record<string, number> = {};
  for (const e of r.toList())
    if (e.type === 'SCALAR' && !e.role) out[e.name] = (out[e.name] ?? 0) + (e.scalar?.value ?? 0);
  return out;
}

function checkQuotaLimits(s: AllocatorSnapshot, plan: AllocationPlan): void {
  for (const role of s.roles) {
    const limit = role.quota?.limit;
    if (!limit) continue;
    const under = (r: string) => isAtOrBelow(r, role.name);
    for (const [name, cap] of Object.entries(limit.scalarTotals())) {
      let before = 0;
      for (const a of s.agents)
        for (const e of a.total.toList())
          if (e.type === 'SCALAR' && e.name === name && e.role && under(e.role)) before += e.scalar?.value ?? 0;
      for (const f of s.frameworks) {
        for (const [r, held] of Object.entries(f.allocated)) if (under(r)) before += unreservedScalars(held)[name] ?? 0;
      }
      let given = 0;
      for (const o of plan.offers) if (under(o.role)) given += unreservedScalars(o.resources)[name] ?? 0;
      expect(given, `${name} offered to ${role.name} (limit ${cap}, consumed ${before})`).to.be.at.most(
        Math.max(0, cap - before) + 1e-6,
      );
    }
  }
}

function checkRecipients(s: AllocatorSnapshot, plan: AllocationPlan): void {
  for (const o of plan.offers) {
    const f = s.frameworks.find((x) => x.id === o.frameworkId);
    expect(f, o.frameworkId).to.not.equal(undefined);
    if (!f) continue;
    expect(f.active).to.equal(true);
    expect(f.roles).to.include(o.role);
    expect(f.suppressedRoles).to.not.include(o.role);
    const blocked = f.filters.some(
      (x) =>
        x.agentId === o.agentId && x.expiresAt > s.now && !x.resources && (x.role === undefined || x.role === o.role),
    );
    expect(blocked, `${o.frameworkId} filtered on ${o.agentId}`).to.equal(false);
    for (const q of o.resources.roles())
      if (q !== '*') expect(isAtOrBelow(o.role, q), `${q} reserved, offered to ${o.role}`).to.equal(true);
    expect(
      MIN.some((m) => o.resources.scalar('cpus') >= m.scalar('cpus') && o.resources.scalar('mem') >= m.scalar('mem')),
    ).to.equal(true);
  }
}

describe('allocate() properties', function () {
  // Hundreds of random clusters each; generous so a loaded machine does not fail them (no timing is asserted).
  this.timeout(120_000);

  it('never offers a resource twice, nor beyond an agent’s free resources', () => {
    fc.assert(
      fc.property(clusterArb, (c) => {
        const s = build(c);
        checkWithinFree(s, allocate(s, seededRng(c.seed)));
      }),
      { numRuns: 300 },
    );
  });

  it('never offers a role beyond its quota limit (its subroles included)', () => {
    fc.assert(
      fc.property(clusterArb, (c) => {
        const s = build(c);
        checkQuotaLimits(s, allocate(s, seededRng(c.seed)));
      }),
      { numRuns: 300 },
    );
  });

  it('offers reserved resources only to their role, and only to eligible frameworks', () => {
    fc.assert(
      fc.property(clusterArb, (c) => {
        const s = build(c);
        checkRecipients(s, allocate(s, seededRng(c.seed)));
      }),
      { numRuns: 300 },
    );
  });

  it('gives the same plan for the same seed', () => {
    fc.assert(
      fc.property(clusterArb, (c) => {
        const s = build(c);
        const show = (p: AllocationPlan) =>
          JSON.stringify({
            o: p.offers.map((o) => [o.frameworkId, o.agentId, o.role, o.resources.toString()]),
            s: p.skipped,
          });
        expect(show(allocate(s, seededRng(c.seed)))).to.equal(show(allocate(s, seededRng(c.seed))));
      }),
      { numRuns: 100 },
    );
  });

  it('gives the same plan with agents remembered from an earlier cycle as with every agent converted afresh', () => {
    // The conversion of an agent is remembered by its (immutable) total and allocated values
    // (convert-agents.ts): an earlier cycle over the same values, some agents then with nothing
    // allocated (a new value: converted again) and the agents in another order change nothing.
    const show = (p: AllocationPlan) =>
      JSON.stringify({
        o: p.offers.map((o) => [o.frameworkId, o.agentId, o.role, o.resources.toString()]),
        s: p.skipped,
      });
    const copy = (r: Resources) => Resources.from(r.toList());
    fc.assert(
      fc.property(clusterArb, fc.nat(), fc.boolean(), (c, changedMask, reversed) => {
        const s = build(c);
        allocate(s, seededRng(c.seed + 1));
        const agents = s.agents.map((a, i) => ((changedMask >> i) & 1 ? { ...a, allocated: Resources.empty() } : a));
        if (reversed) agents.reverse();
        const remembered = allocate({ ...s, agents }, seededRng(c.seed));
        const fresh = allocate(
          { ...s, agents: agents.map((a) => ({ ...a, total: copy(a.total), allocated: copy(a.allocated) })) },
          seededRng(c.seed),
        );
        expect(show(remembered)).to.equal(show(fresh));
      }),
      { numRuns: 300 },
    );
  });

  it('respects DRF order within a cycle (one role, no filters, reservations or quota)', () => {
    const simple = fc.record({
      agents: fc.array(
        fc.record({ cpus: fc.integer({ min: 0, max: 16_000 }), mem: fc.integer({ min: 0, max: 8192 }) }),
        { minLength: 1, maxLength: 12 },
      ),
      held: fc.array(fc.record({ cpus: fc.integer({ min: 0, max: 8000 }), mem: fc.integer({ min: 0, max: 4096 }) }), {
        minLength: 1,
        maxLength: 6,
      }),
      busy: fc.record({ cpus: fc.integer({ min: 0, max: 50_000 }), mem: fc.integer({ min: 0, max: 30_000 }) }),
      seed: fc.integer(),
    });
    fc.assert(
      fc.property(simple, (c) => {
        // A fully used agent carries what the frameworks hold, so the pool covers it.
        const agents: AllocatorAgent[] = c.agents.map((g, i) => ({
          id: `agent-${i}`,
          hostname: `h${i}`,
          total: Resources.scalars({ cpus: g.cpus / 1000, mem: g.mem }),
          allocated: Resources.empty(),
          attributes: {},
          active: true,
        }));
        const busy = Resources.scalars({ cpus: c.busy.cpus / 1000 + 50, mem: c.busy.mem + 30_000 });
        agents.push({ id: 'busy', hostname: 'busy', total: busy, allocated: busy, attributes: {}, active: true });
        const frameworks: AllocatorFramework[] = c.held.map((h, i) => ({
          id: `fw-${i}`,
          roles: ['*'],
          suppressedRoles: [],
          allocated: (h.cpus + h.mem > 0
            ? { '*': Resources.scalars({ cpus: h.cpus / 1000, mem: h.mem }) }
            : {}) as Record<string, Resources>,
          filters: [],
          active: true,
        }));
        const s: AllocatorSnapshot = { now: NOW, agents, frameworks, roles: [], minAllocatable: MIN };
        const plan = allocate(s, seededRng(c.seed));

        const total = { cpus: 0, mem: 0 };
        for (const a of agents) {
          total.cpus += a.total.scalar('cpus');
          total.mem += a.total.scalar('mem');
        }
        const held = frameworks.map((f) => ({
          cpus: f.allocated['*']?.scalar('cpus') ?? 0,
          mem: f.allocated['*']?.scalar('mem') ?? 0,
        }));
        const share = (h: { cpus: number; mem: number }) =>
          Math.max(total.cpus > 0 ? h.cpus / total.cpus : 0, total.mem > 0 ? h.mem / total.mem : 0);
        for (const o of plan.offers) {
          const k = frameworks.findIndex((f) => f.id === o.frameworkId);
          const mine = share(held[k]);
          for (let j = 0; j < held.length; j++) {
            expect(mine, `${o.frameworkId} served before fw-${j}`).to.be.at.most(share(held[j]) + 1e-12);
          }
          held[k].cpus += o.resources.scalar('cpus');
          held[k].mem += o.resources.scalar('mem');
        }
      }),
      { numRuns: 300 },
    );
  });
});
