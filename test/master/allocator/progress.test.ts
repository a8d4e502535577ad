/**
 * Properties of `allocate` beyond safety (properties.test.ts has those): an allocator that offers
 * nothing, ignores weights or skips the quota stage fails these.
 *
 * - Liveness: an active agent whose free unreserved resources hold a minimum allocatable
 *   alternative, and an active framework in an unsuppressed role that may use them (no quota limit
 *   on the role or its ancestors, no guarantees anywhere that could hold the resources back as
 *   headroom) with no live filter on that agent ⇒ the plan has an offer on that agent.
 * - Weighted DRF across roles: roles with weights, frameworks that accept everything, agents
 *   joining in batches over several cycles (the pool is fixed: inactive agents count in it). In each
 *   cycle every offer goes to a role whose dominant share divided by its weight (at the start of the
 *   cycle plus the plan's offers before it) is the lowest; after each cycle the weighted shares of
 *   any two roles differ by at most one agent's dominant share divided by the smallest weight.
 * - Filters with resources: a filter whose resources cover nothing an offer could hold changes
 *   nothing (the plan equals the plan without it), and one whose resources cover everything an
 *   agent has acts as a whole-agent filter.
 * - Quota first: when the free resources cover the sum of the guarantees, after one cycle every
 *   quota role with an active framework holds at least its guarantee, and the roles without quota
 *   were offered no more than the free resources minus the guarantees.
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
import { Resources } from '../../../sdk/resources/resources.js';
import { seededRng } from '../../../sdk/util/random.js';

const NOW = 10_000;
const MIN = ['cpus:0.01', 'mem:32'].map((t) => Resources.parse(t));
const ROLES = ['*', 'a', 'b', 'a/x'];

function agent(i: number, total: Resources, allocated = Resources.empty(), active = true): AllocatorAgent {
  return { id: `agent-${i}`, hostname: `h${i}`, total, allocated, attributes: {}, active };
}

function framework(id: string, roles: string[], extra: Partial<AllocatorFramework> = {}): AllocatorFramework {
  return { id, roles, suppressedRoles: [], allocated: {}, filters: [], active: true, ...extra };
}

function unreserved(r: Resources): Resources {
  return r.filter((e) => e.role === undefined || e.role === '*');
}

function holdsMinimum(r: Resources): boolean {
  return MIN.some((m) => r.contains(m));
}

// ------------------------------------------------------------------ liveness

const liveCluster = fc.record({
  agents: fc.array(
    fc.record({
      cpus: fc.integer({ min: 0, max: 8000 }),
      mem: fc.integer({ min: 0, max: 4096 }),
      usedPct: fc.integer({ min: 0, max: 100 }),
      reservedFor: fc.option(fc.constantFrom('a', 'b', 'a/x')),
      active: fc.integer({ min: 0, max: 4 }).map((n) => n > 0),
    }),
    { minLength: 1, maxLength: 8 },
  ),
  frameworks: fc.array(
    fc.record({
      roles: fc.subarray(ROLES, { minLength: 1 }),
      suppressMask: fc.integer({ min: 0, max: 15 }),
      filters: fc.array(
        fc.record({
          agent: fc.nat(),
          expiresIn: fc.integer({ min: -2, max: 2 }),
          resources: fc.option(fc.constantFrom('cpus:1', 'cpus:100;mem:100000')),
        }),
        { maxLength: 3 },
      ),
      active: fc.integer({ min: 0, max: 4 }).map((n) => n > 0),
    }),
    { minLength: 1, maxLength: 5 },
  ),
  limits: fc.uniqueArray(fc.record({ role: fc.constantFrom('a', 'b', 'a/x'), cpus: fc.integer({ min: 0, max: 4 }) }), {
    maxLength: 2,
    selector: (l) => l.role,
  }),
  weights: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 4, maxLength: 4 }),
  seed: fc.integer(),
});

type LiveCluster = typeof liveCluster extends fc.Arbitrary<infer T> ? T : never;

function buildLive(c: LiveCluster): AllocatorSnapshot {
  const agents = c.agents.map((g, i) => {
    const total = [`cpus:${g.cpus / 1000}`, `mem:${g.mem}`];
    if (g.reservedFor) total.push(`cpus(${g.reservedFor}):1`);
    const used = `cpus:${Math.floor((g.cpus * g.usedPct) / 100) / 1000};mem:${Math.floor((g.mem * g.usedPct) / 100)}`;
    return agent(i, Resources.parse(total.join(';')), Resources.parse(used), g.active);
  });
  const frameworks = c.frameworks.map((f, i) =>
    framework(`fw-${i}`, f.roles, {
      suppressedRoles: f.roles.filter((_, k) => (f.suppressMask >> k) & 1),
      filters: f.filters.map((x) => ({
        agentId: `agent-${x.agent % agents.length}`,
        expiresAt: NOW + x.expiresIn,
        ...(x.resources ? { resources: Resources.parse(x.resources) } : {}),
      })),
      active: f.active,
    }),
  );
  const roles: AllocatorRole[] = ROLES.map((name, k) => {
    const limit = c.limits.find((l) => l.role === name);
    return {
      name,
      weight: c.weights[k],
      ...(limit ? { quota: { limit: Resources.scalars({ cpus: limit.cpus }) } } : {}),
    };
  });
  return { now: NOW, agents, frameworks, roles, minAllocatable: MIN };
}

/** Agents that some eligible framework could be offered, by the liveness premise. */
function liveAgents(s: AllocatorSnapshot): string[] {
  const limited = (role: string) => s.roles.some((r) => r.quota?.limit && isAtOrBelow(role, r.name));
  if (s.roles.some((r) => r.quota?.guarantee)) return [];
  const out: string[] = [];
  for (const a of s.agents) {
    if (!a.active || !holdsMinimum(unreserved(a.total.minus(a.allocated)))) continue;
    const wanted = s.frameworks.some(
      (f) =>
        f.active &&
        f.roles.some((r) => !f.suppressedRoles.includes(r) && !limited(r)) &&
        !f.filters.some((x) => x.agentId === a.id && x.expiresAt > s.now),
    );
    if (wanted) out.push(a.id);
  }
  return out;
}

// ------------------------------------------------------------------ weighted DRF

interface Held {
  cpus: number;
  mem: number;
}

function dominant(h: Held, total: Held): number {
  return Math.max(h.cpus / total.cpus, h.mem / total.mem);
}

const drfCluster = fc.record({
  /** Agent shapes: cpu-heavy or memory-heavy, so the dominant resource differs between offers. */
  agents: fc.array(fc.constantFrom([4, 1024], [1, 4096], [2, 2048], [8, 512]), { minLength: 4, maxLength: 24 }),
  batches: fc.integer({ min: 1, max: 4 }),
  weights: fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 2, maxLength: 3 }),
  frameworksPerRole: fc.integer({ min: 1, max: 3 }),
  seed: fc.integer(),
});

// ------------------------------------------------------------------ quota

const quotaCluster = fc.record({
  agents: fc.array(fc.record({ cpus: fc.integer({ min: 1, max: 8 }), mem: fc.integer({ min: 1, max: 16 }) }), {
    minLength: 1,
    maxLength: 10,
  }),
  /** Per quota role: its part of the pool, in percent (normalised so that the parts sum to at most 100). */
  parts: fc.array(fc.record({ cpus: fc.integer({ min: 0, max: 100 }), mem: fc.integer({ min: 0, max: 100 }) }), {
    minLength: 1,
    maxLength: 3,
  }),
  others: fc.integer({ min: 1, max: 3 }),
  weights: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 6, maxLength: 6 }),
  seed: fc.integer(),
});

/** The plan as comparable text. */
function show(p: AllocationPlan): string {
  return JSON.stringify({
    o: p.offers.map((o) => [o.frameworkId, o.agentId, o.role, o.resources.toString()]),
    s: p.skipped,
  });
}

/** Agents with ports (partly in use) and some reservations, for the filter properties. */
const portCluster = fc.record({
  base: liveCluster,
  ports: fc.array(fc.record({ len: fc.integer({ min: 1, max: 30 }), used: fc.integer({ min: 0, max: 6 }) }), {
    minLength: 8,
    maxLength: 8,
  }),
});

type PortCluster = typeof portCluster extends fc.Arbitrary<infer T> ? T : never;

function buildWithPorts(c: PortCluster, filterResources: string | null): AllocatorSnapshot {
  const s = buildLive(c.base);
  const agents = s.agents.map((a, i) => {
    const p = c.ports[i % c.ports.length];
    const end = 31_000 + p.len - 1;
    const used: string[] = [];
    for (let k = 0; k < Math.min(p.used, p.len); k++) used.push(`${31_000 + 2 * k}-${31_000 + 2 * k}`);
    return {
      ...a,
      total: a.total.plus(Resources.parse(`ports:[31000-${end}]`)),
      allocated: used.length > 0 ? a.allocated.plus(Resources.parse(`ports:[${used.join(',')}]`)) : a.allocated,
    };
  });
  const frameworks = s.frameworks.map((f) => ({
    ...f,
    filters: f.filters.map((x) => ({
      agentId: x.agentId,
      expiresAt: x.expiresAt,
      ...(filterResources === null ? {} : { resources: Resources.parse(filterResources) }),
    })),
  }));
  return { ...s, agents, frameworks };
}

describe('allocate() progress properties', function () {
  this.timeout(120_000);

  it('filters: one covering nothing changes nothing, one covering everything filters the whole agent', () => {
    const everything = 'cpus:1000;mem:1000000;ports:[1-65535];cpus(a):100;cpus(b):100;cpus(a/x):100';
    fc.assert(
      fc.property(portCluster, (c) => {
        const seed = c.base.seed;
        const plain = buildWithPorts(c, null);
        const unfiltered = {
          ...plain,
          frameworks: plain.frameworks.map((f) => ({ ...f, filters: [] })),
        };
        // A filter only refuses offers its resources contain; these contain no offer.
        for (const nothing of ['cpus:0.001', 'ports:[1-2]', 'mem:1;ports:[31000-31000]']) {
          expect(show(allocate(buildWithPorts(c, nothing), seededRng(seed))), nothing).to.equal(
            show(allocate(unfiltered, seededRng(seed))),
          );
        }
        expect(show(allocate(buildWithPorts(c, everything), seededRng(seed)))).to.equal(
          show(allocate(plain, seededRng(seed))),
        );
      }),
      { numRuns: 200 },
    );
  });

  it('filters: an agent refused by many frameworks goes to one that did not refuse it', () => {
    // 40 frameworks; all but one hold a whole-agent filter on a0 (more than a short chain holds).
    for (const keep of [0, 17, 39]) {
      const frameworks = Array.from({ length: 40 }, (_, i) =>
        framework(`fw-${String(i).padStart(2, '0')}`, ['*'], {
          filters: i === keep ? [] : [{ agentId: 'agent-0', expiresAt: NOW + 1 }],
        }),
      );
      const s: AllocatorSnapshot = {
        now: NOW,
        agents: [agent(0, Resources.parse('cpus:4;mem:4096'))],
        frameworks,
        roles: [],
        minAllocatable: MIN,
      };
      const plan = allocate(s, seededRng(keep));
      expect(plan.offers.map((o) => o.frameworkId)).to.deep.equal([frameworks[keep].id]);
    }
  });

  it('liveness: free resources and an eligible, unfiltered framework mean an offer on that agent', () => {
    let nonTrivial = 0;
    fc.assert(
      fc.property(liveCluster, (c) => {
        const s = buildLive(c);
        const live = liveAgents(s);
        if (live.length > 0) nonTrivial++;
        const plan = allocate(s, seededRng(c.seed));
        const offered = new Set(plan.offers.map((o) => o.agentId));
        for (const id of live) expect(offered.has(id), `no offer on ${id}`).to.equal(true);
      }),
      { numRuns: 400 },
    );
    // The premise held often enough for the property to say something.
    expect(nonTrivial).to.be.greaterThan(100);
  });

  it('weighted DRF across roles: the lowest weighted share is served first, and shares stay within one agent', () => {
    fc.assert(
      fc.property(drfCluster, (c) => {
        const roles = c.weights.map((w, k) => ({ name: `r${k}`, weight: w }));
        const total: Held = { cpus: 0, mem: 0 };
        for (const [cpus, mem] of c.agents) {
          total.cpus += cpus;
          total.mem += mem;
        }
        const maxAgentShare = Math.max(...c.agents.map(([cpus, mem]) => dominant({ cpus, mem }, total)));
        const minWeight = Math.min(...c.weights);
        const held = new Map<string, Held>(); // framework id → what it holds (all in its one role)
        const roleHeld = roles.map(() => ({ cpus: 0, mem: 0 }));
        const agentUsed: Held[] = c.agents.map(() => ({ cpus: 0, mem: 0 }));
        const batch = Math.ceil(c.agents.length / c.batches);
        for (let cycle = 1; cycle <= c.batches; cycle++) {
          const agents = c.agents.map(([cpus, mem], i) =>
            agent(
              i,
              Resources.scalars({ cpus, mem }),
              Resources.scalars({ cpus: agentUsed[i].cpus, mem: agentUsed[i].mem }),
              i < cycle * batch, // the rest have not joined yet, but count in the pool
            ),
          );
          const frameworks: AllocatorFramework[] = [];
          roles.forEach((r, k) => {
            for (let j = 0; j < c.frameworksPerRole; j++) {
              const id = `fw-${k}-${j}`;
              const h = held.get(id);
              frameworks.push(
                framework(id, [r.name], {
                  allocated: h && h.cpus + h.mem > 0 ? { [r.name]: Resources.scalars({ ...h }) } : {},
                }),
              );
            }
          });
          const s: AllocatorSnapshot = { now: NOW, agents, frameworks, roles, minAllocatable: MIN };
          const plan = allocate(s, seededRng(c.seed + cycle));
          // Replay: each offer went to a role with the lowest weighted share at that point.
          for (const o of plan.offers) {
            const k = roles.findIndex((r) => r.name === o.role);
            const mine = dominant(roleHeld[k], total) / roles[k].weight;
            roles.forEach((r, j) => {
              const theirs = dominant(roleHeld[j], total) / r.weight;
              expect(mine, `${o.role} served before ${r.name}`).to.be.at.most(theirs + 1e-9);
            });
            // The framework accepts everything.
            const got = { cpus: o.resources.scalar('cpus'), mem: o.resources.scalar('mem') };
            const h = held.get(o.frameworkId) ?? { cpus: 0, mem: 0 };
            held.set(o.frameworkId, { cpus: h.cpus + got.cpus, mem: h.mem + got.mem });
            roleHeld[k].cpus += got.cpus;
            roleHeld[k].mem += got.mem;
            const i = Number(o.agentId.slice('agent-'.length));
            agentUsed[i].cpus += got.cpus;
            agentUsed[i].mem += got.mem;
          }
          const weighted = roles.map((r, k) => dominant(roleHeld[k], total) / r.weight);
          const gap = Math.max(...weighted) - Math.min(...weighted);
          expect(gap, `weighted shares ${weighted.join(', ')} after cycle ${cycle}`).to.be.at.most(
            maxAgentShare / minWeight + 1e-9,
          );
        }
      }),
      { numRuns: 300 },
    );
  });

  it('quota: every guarantee is met in the first cycle before roles without quota take from the headroom', () => {
    fc.assert(
      fc.property(quotaCluster, (c) => {
        // Agents of whole cpus and multiples of 256 MB; guarantees of whole cpus and multiples of 32 MB,
        // so a guarantee is never left short by less than the minimum allocatable size.
        const agents = c.agents.map((g, i) => agent(i, Resources.scalars({ cpus: g.cpus, mem: g.mem * 256 })));
        const pool = { cpus: 0, mem: 0 };
        for (const g of c.agents) {
          pool.cpus += g.cpus;
          pool.mem += g.mem * 256;
        }
        const sum = { cpus: 0, mem: 0 };
        for (const p of c.parts) {
          sum.cpus += p.cpus;
          sum.mem += p.mem;
        }
        const scale = { cpus: Math.max(100, sum.cpus), mem: Math.max(100, sum.mem) };
        const guarantees = c.parts.map((p) => ({
          cpus: Math.floor((pool.cpus * p.cpus) / scale.cpus),
          mem: Math.floor((pool.mem * p.mem) / scale.mem / 32) * 32,
        }));
        const roles: AllocatorRole[] = guarantees.map((g, k) => ({
          name: `q${k}`,
          weight: c.weights[k],
          quota: { guarantee: Resources.scalars(g) },
        }));
        const frameworks = roles.map((r) => framework(`fw-${r.name}`, [r.name]));
        for (let k = 0; k < c.others; k++) {
          roles.push({ name: `n${k}`, weight: c.weights[3 + k] });
          frameworks.push(framework(`fw-n${k}`, [`n${k}`]));
        }
        const s: AllocatorSnapshot = { now: NOW, agents, frameworks, roles, minAllocatable: MIN };
        const plan: AllocationPlan = allocate(s, seededRng(c.seed));
        const got = new Map<string, { cpus: number; mem: number }>();
        for (const o of plan.offers) {
          const h = got.get(o.role) ?? { cpus: 0, mem: 0 };
          got.set(o.role, { cpus: h.cpus + o.resources.scalar('cpus'), mem: h.mem + o.resources.scalar('mem') });
        }
        const others = { cpus: 0, mem: 0 };
        guarantees.forEach((g, k) => {
          const h = got.get(`q${k}`) ?? { cpus: 0, mem: 0 };
          expect(h.cpus, `q${k} cpus`).to.be.at.least(g.cpus - 1e-9);
          expect(h.mem, `q${k} mem`).to.be.at.least(g.mem - 1e-9);
        });
        for (const [role, h] of got) {
          if (!role.startsWith('n')) continue;
          others.cpus += h.cpus;
          others.mem += h.mem;
        }
        const needed = { cpus: 0, mem: 0 };
        for (const g of guarantees) {
          needed.cpus += g.cpus;
          needed.mem += g.mem;
        }
        expect(others.cpus, 'cpus taken from the headroom').to.be.at.most(pool.cpus - needed.cpus + 1e-9);
        expect(others.mem, 'mem taken from the headroom').to.be.at.most(pool.mem - needed.mem + 1e-9);
      }),
      { numRuns: 300 },
    );
  });
});
