/**
 * Table-driven cases for `allocate(snapshot, rng)`: each case is a small cluster and the plan it
 * must produce. Offers are compared as `framework@agent/role: resources` lines, sorted, so the
 * cases read like the plan itself; where the agent order (a seeded shuffle) decides who gets which
 * agent, the case checks totals instead.
 */
import { expect } from 'chai';
import { allocate, createAllocate } from '../../../master/allocator/allocate.js';
import type {
  AllocationPlan,
  AllocatorAgent,
  AllocatorFramework,
  AllocatorRole,
  AllocatorSnapshot,
  RefusalFilter,
} from '../../../master/allocator/types.js';
import { Resources } from '../../../sdk/resources/resources.js';
import { seededRng } from '../../../sdk/util/random.js';

const R = (text: string) => Resources.parse(text);
const NOW = 1_000_000;

function agent(id: string, total: string, allocated = '', extra: Partial<AllocatorAgent> = {}): AllocatorAgent {
  return {
    id,
    hostname: `${id}.example`,
    total: R(total),
    allocated: R(allocated),
    attributes: {},
    active: true,
    ...extra,
  };
}

interface FwSpec {
  roles?: string[];
  suppressed?: string[];
  allocated?: Record<string, string>;
  filters?: RefusalFilter[];
  active?: boolean;
}

function framework(id: string, spec: FwSpec = {}): AllocatorFramework {
  return {
    id,
    roles: spec.roles ?? ['*'],
    suppressedRoles: spec.suppressed ?? [],
    allocated: Object.fromEntries(Object.entries(spec.allocated ?? {}).map(([role, text]) => [role, R(text)])),
    filters: spec.filters ?? [],
    active: spec.active ?? true,
  };
}

function snapshot(
  agents: AllocatorAgent[],
  frameworks: AllocatorFramework[],
  roles: AllocatorRole[] = [],
  minAllocatable = ['cpus:0.01', 'mem:32'],
): AllocatorSnapshot {
  return { now: NOW, agents, frameworks, roles, minAllocatable: minAllocatable.map(R) };
}

function lines(plan: AllocationPlan): string[] {
  return plan.offers.map((o) => `${o.frameworkId}@${o.agentId}/${o.role}: ${o.resources.toString()}`).sort();
}

/** Sum of one scalar over the offers that match. */
function offered(plan: AllocationPlan, name: string, match: (o: AllocationPlan['offers'][number]) => boolean): number {
  let sum = 0;
  for (const o of plan.offers) if (match(o)) sum += o.resources.scalar(name);
  return Math.round(sum * 1000) / 1000;
}

interface Case {
  name: string;
  snapshot: AllocatorSnapshot;
  /** Exactly these offers (sorted lines), when given. */
  offers?: string[];
  /** Exactly these skip counts, when given. */
  skipped?: AllocationPlan['skipped'];
  check?: (plan: AllocationPlan) => void;
}

const cases: Case[] = [
  {
    name: 'offers each agent its free resources (total − allocated), ports included',
    snapshot: snapshot(
      [
        agent('a1', 'cpus:4;mem:4096;ports:[31000-31009]', 'cpus:1;mem:1024;ports:[31000-31004]'),
        agent('a2', 'cpus:2;mem:2048'),
      ],
      [framework('web')],
    ),
    offers: ['web@a1/*: cpus:3;mem:3072;ports:[31005-31009]', 'web@a2/*: cpus:2;mem:2048'],
    skipped: {},
  },
  {
    name: 'skips inactive agents and inactive frameworks',
    snapshot: snapshot(
      [agent('a1', 'cpus:4;mem:4096'), agent('a2', 'cpus:4;mem:4096', '', { active: false })],
      [framework('gone', { active: false }), framework('web')],
    ),
    offers: ['web@a1/*: cpus:4;mem:4096'],
  },
  {
    name: 'gives reserved resources only to their role, unreserved ones to anyone',
    snapshot: snapshot(
      [
        agent('a1', 'cpus:4;mem:1024;cpus(analytics):2;mem(analytics):512'),
        agent('a2', 'cpus(analytics):8;mem(analytics):8192'),
        agent('a3', 'cpus(ml):8;mem(ml):8192'),
      ],
      [framework('web'), framework('spark', { roles: ['analytics'] })],
    ),
    // '*' and 'analytics' both hold nothing; ties go by name ('*' < 'analytics'), so web takes the
    // unreserved part of a1 and spark its reservation. Nobody may use ml's reservation.
    offers: [
      'spark@a1/analytics: cpus(analytics):2;mem(analytics):512',
      'spark@a2/analytics: cpus(analytics):8;mem(analytics):8192',
      'web@a1/*: cpus:4;mem:1024',
    ],
    // a2 and a3 hold only reservations: web cannot use either, spark cannot use a3's.
    skipped: { web: { reserved_for_other_role: 2 }, spark: { reserved_for_other_role: 1 } },
  },
  {
    name: 'honours a refusal filter until it expires',
    snapshot: snapshot(
      [agent('a1', 'cpus:4;mem:4096')],
      [framework('a-first', { filters: [{ agentId: 'a1', expiresAt: NOW + 5000 }] }), framework('b-second')],
    ),
    offers: ['b-second@a1/*: cpus:4;mem:4096'],
    skipped: { 'a-first': { filtered: 1 } },
  },
  {
    name: 'ignores an expired refusal filter (expiresAt ≤ now)',
    snapshot: snapshot(
      [agent('a1', 'cpus:4;mem:4096')],
      [framework('a-first', { filters: [{ agentId: 'a1', expiresAt: NOW }] }), framework('b-second')],
    ),
    offers: ['a-first@a1/*: cpus:4;mem:4096'],
  },
  {
    name: 'filters with resources only when the offer is contained in what was refused',
    snapshot: snapshot(
      [agent('a1', 'cpus:4;mem:4096'), agent('a2', 'cpus:4;mem:4096')],
      [
        framework('picky', {
          filters: [
            // Refused more than a1 has: an offer of a1 is inside it, so it is filtered.
            { agentId: 'a1', expiresAt: NOW + 1, resources: R('cpus:8;mem:8192') },
            // Refused less than a2 has: a bigger offer is not filtered.
            { agentId: 'a2', expiresAt: NOW + 1, resources: R('cpus:1;mem:128') },
          ],
        }),
      ],
    ),
    offers: ['picky@a2/*: cpus:4;mem:4096'],
    skipped: { picky: { filtered: 1 } },
  },
  {
    name: 'a filter left in one role does not hold back offers to the framework in its other roles',
    snapshot: snapshot(
      [agent('a1', 'cpus:4;mem:4096')],
      [framework('multi', { roles: ['a', 'b'], filters: [{ agentId: 'a1', expiresAt: NOW + 5000, role: 'a' }] })],
    ),
    offers: ['multi@a1/b: cpus:4;mem:4096'],
    skipped: { multi: { filtered: 1 } },
  },
  {
    name: "a long chain of one role's filters on an agent (looked up by framework) leaves the other role offered",
    snapshot: snapshot(
      [agent('a1', 'cpus:4;mem:4096')],
      [
        framework('multi', {
          roles: ['a', 'b'],
          filters: Array.from({ length: 20 }, (_, i) => ({
            agentId: 'a1',
            expiresAt: NOW + 5000 + i,
            role: 'a',
            resources: R(`cpus:${4 + i};mem:8192`),
          })),
        }),
      ],
    ),
    offers: ['multi@a1/b: cpus:4;mem:4096'],
    skipped: { multi: { filtered: 1 } },
  },
  {
    name: 'offers nothing to a suppressed role, and counts why',
    snapshot: snapshot(
      [agent('a1', 'cpus:4;mem:4096'), agent('a2', 'cpus:4;mem:4096')],
      [framework('quiet', { suppressed: ['*'] }), framework('busy')],
    ),
    offers: ['busy@a1/*: cpus:4;mem:4096', 'busy@a2/*: cpus:4;mem:4096'],
    skipped: { quiet: { suppressed: 2 } },
  },
  {
    name: 'never offers a role beyond its quota limit (the last offer is cut down)',
    snapshot: snapshot(
      [agent('a1', 'cpus:2;mem:1024'), agent('a2', 'cpus:2;mem:1024'), agent('a3', 'cpus:2;mem:1024')],
      [framework('dev1', { roles: ['dev'], allocated: { dev: 'cpus:0.5' } })],
      [{ name: 'dev', weight: 1, quota: { limit: R('cpus:3') } }],
    ),
    check: (plan) => {
      // 0.5 already held + 2.5 offered = the 3 cpu limit; mem has no limit.
      expect(offered(plan, 'cpus', () => true)).to.equal(2.5);
      // The third agent: cpus would be 0, and mem alone is still allocatable (mem:32), so it is
      // offered mem only.
      const cpus = plan.offers.map((o) => o.resources.scalar('cpus')).sort();
      expect(cpus).to.deep.equal([0, 0.5, 2]);
      expect(offered(plan, 'mem', () => true)).to.equal(3072);
    },
  },
  {
    name: 'counts quota_reached when the limit leaves nothing allocatable',
    snapshot: snapshot(
      [agent('a1', 'cpus:2;mem:1024'), agent('a2', 'cpus:2;mem:1024')],
      [framework('dev1', { roles: ['dev'], allocated: { dev: 'cpus:3;mem:64' } })],
      [{ name: 'dev', weight: 1, quota: { limit: R('cpus:3;mem:64') } }],
    ),
    offers: [],
    skipped: { dev1: { quota_reached: 2 } },
  },
  {
    name: 'serves quota guarantees first, before fair shares',
    snapshot: snapshot(
      [
        agent('a1', 'cpus:2;mem:1024'),
        agent('a2', 'cpus:2;mem:1024'),
        agent('a3', 'cpus:2;mem:1024'),
        agent('a4', 'cpus:2;mem:1024'),
        agent('busy', 'cpus:4;mem:4096', 'cpus:4;mem:4096'),
      ],
      // prod already holds 4 cpus (share 4/12) and batch nothing: by DRF alone batch would get
      // every agent before prod; prod's guarantee of 8 cpus is served first instead.
      [
        framework('prod1', { roles: ['prod'], allocated: { prod: 'cpus:4;mem:4096' } }),
        framework('batch1', { roles: ['batch'] }),
      ],
      [{ name: 'prod', weight: 1, quota: { guarantee: R('cpus:8') } }],
    ),
    check: (plan) => {
      expect(offered(plan, 'cpus', (o) => o.frameworkId === 'prod1')).to.equal(4);
      expect(offered(plan, 'cpus', (o) => o.frameworkId === 'batch1')).to.equal(4);
    },
  },
  {
    name: 'holds back what unsatisfied guarantees need (headroom), even for a role with no framework',
    snapshot: snapshot(
      [agent('a1', 'cpus:2;mem:1024'), agent('a2', 'cpus:2;mem:1024'), agent('a3', 'cpus:2;mem:1024')],
      [framework('batch1', { roles: ['batch'] })],
      [{ name: 'prod', weight: 1, quota: { guarantee: R('cpus:4') } }],
      ['cpus:0.01'],
    ),
    check: (plan) => {
      // 6 cpus free, 4 held for prod: batch gets 2.
      expect(offered(plan, 'cpus', () => true)).to.equal(2);
      expect(plan.skipped.batch1).to.deep.equal({ quota_headroom: 2 });
    },
  },
  {
    name: 'makes no offer below the minimum allocatable resources',
    snapshot: snapshot(
      [
        agent('crumbs', 'cpus:4;mem:4096', 'cpus:3.995;mem:4080'), // cpus:0.005;mem:16 left
        agent('mem-only', 'cpus:4;mem:4096', 'cpus:4;mem:4000'), // mem:96 left: mem:32 is enough
      ],
      [framework('web')],
    ),
    offers: ['web@mem-only/*: mem:96'],
    skipped: { web: { below_min_allocatable: 1 } },
  },
  {
    name: 'counts a parent role allocation as its children’s (hierarchical roles)',
    snapshot: snapshot(
      [agent('busy', 'cpus:9;mem:9000', 'cpus:9;mem:9000'), agent('free', 'cpus:4;mem:4096')],
      [
        framework('backend', { roles: ['eng/backend'], allocated: { 'eng/backend': 'cpus:8;mem:8000' } }),
        framework('frontend', { roles: ['eng/frontend'] }),
        framework('ops1', { roles: ['ops'], allocated: { ops: 'cpus:1;mem:1000' } }),
      ],
    ),
    // Flat by role, eng/frontend (share 0) would come first. By the tree: eng = 8/13 > ops = 1/13.
    offers: ['ops1@free/ops: cpus:4;mem:4096'],
  },
  {
    name: 'applies weights at the level of the role they are set on',
    snapshot: snapshot(
      [agent('busy', 'cpus:9;mem:9000', 'cpus:9;mem:9000'), agent('free', 'cpus:4;mem:4096')],
      [
        framework('backend', { roles: ['eng/backend'], allocated: { 'eng/backend': 'cpus:8;mem:8000' } }),
        framework('frontend', { roles: ['eng/frontend'] }),
        framework('ops1', { roles: ['ops'], allocated: { ops: 'cpus:1;mem:1000' } }),
      ],
      // eng at weight 10: (8/13)/10 < 1/13, so eng goes first; inside eng, frontend (0) first.
      [{ name: 'eng', weight: 10 }],
    ),
    offers: ['frontend@free/eng/frontend: cpus:4;mem:4096'],
  },
  {
    name: 'lets a subrole use its ancestor’s reservations',
    snapshot: snapshot(
      [agent('a1', 'cpus(eng):2;mem(eng):2048')],
      [framework('frontend', { roles: ['eng/frontend'] })],
    ),
    offers: ['frontend@a1/eng/frontend: cpus(eng):2;mem(eng):2048'],
  },
  {
    name: 'offers a multi-role framework in each of its roles',
    snapshot: snapshot(
      [agent('a1', 'cpus(a):2;mem(a):1024'), agent('a2', 'cpus(b):2;mem(b):1024')],
      [framework('multi', { roles: ['a', 'b'] })],
    ),
    offers: ['multi@a1/a: cpus(a):2;mem(a):1024', 'multi@a2/b: cpus(b):2;mem(b):1024'],
  },
  {
    name: 'suppresses one role of a multi-role framework and not the other',
    snapshot: snapshot(
      [agent('a1', 'cpus(a):2;mem(a):1024'), agent('a2', 'cpus(b):2;mem(b):1024')],
      [framework('multi', { roles: ['a', 'b'], suppressed: ['a'] })],
    ),
    offers: ['multi@a2/b: cpus(b):2;mem(b):1024'],
    // Counted per role: role a is suppressed (a1 usable by it), role b cannot use a1's reservation.
    skipped: { multi: { suppressed: 1, reserved_for_other_role: 1 } },
  },
  {
    name: 'gives the agent to the lowest dominant share (DRF) and then the next one',
    snapshot: snapshot(
      [agent('busy', 'cpus:10;mem:100', 'cpus:10;mem:100'), agent('free', 'cpus:4;mem:40')],
      // Pool cpus:14, mem:140. a: max(6/14, 10/140) = 0.43; b: max(1/14, 60/140) = 0.43 → equal?
      // No: 6/14 = 0.4286, 60/140 = 0.4286 exactly equal, both one allocation → by name, 'a'.
      // c: max(3/14, 30/140) = 0.214 → lowest, c wins.
      [
        framework('a', { allocated: { '*': 'cpus:6;mem:10' } }),
        framework('b', { allocated: { '*': 'cpus:1;mem:60' } }),
        framework('c', { allocated: { '*': 'cpus:3;mem:30' } }),
      ],
    ),
    offers: ['c@free/*: cpus:4;mem:40'],
  },
];

describe('allocate()', () => {
  for (const c of cases) {
    it(c.name, () => {
      const plan = allocate(c.snapshot, seededRng(1));
      if (c.offers) expect(lines(plan)).to.deep.equal([...c.offers].sort());
      if (c.skipped) expect(plan.skipped).to.deep.equal(c.skipped);
      c.check?.(plan);
    });
  }

  it('expires filters by the snapshot time only (no clock)', () => {
    const s = snapshot(
      [agent('a1', 'cpus:4;mem:4096')],
      [framework('f', { filters: [{ agentId: 'a1', expiresAt: NOW + 10 }] })],
    );
    expect(allocate(s, seededRng(1)).offers).to.have.length(0);
    expect(allocate({ ...s, now: NOW + 10 }, seededRng(1)).offers).to.have.length(1);
  });

  it('does not change the snapshot', () => {
    const s = snapshot(
      [agent('a1', 'cpus:4;mem:4096;cpus(r):1;ports:[1-10]', 'cpus:1'), agent('a2', 'cpus:1;mem:64')],
      [framework('f', { roles: ['*', 'r'], allocated: { '*': 'cpus:1' } })],
      [{ name: 'r', weight: 2, quota: { limit: R('cpus:10'), guarantee: R('cpus:1') } }],
    );
    const before = JSON.stringify(s);
    deepFreeze(s);
    allocate(s, seededRng(3));
    expect(JSON.stringify(s)).to.equal(before);
  });

  it('gives the same plan for the same seed, and may differ for another', () => {
    const agents = Array.from({ length: 30 }, (_, i) =>
      agent(`a${i}`, `cpus:${1 + (i % 4)};mem:${1024 * (1 + (i % 3))}`),
    );
    const fws = Array.from({ length: 5 }, (_, i) => framework(`f${i}`));
    const s = snapshot(agents, fws);
    const one = lines(allocate(s, seededRng(9)));
    expect(lines(allocate(s, seededRng(9)))).to.deep.equal(one);
    const others = [10, 11, 12].map((seed) => lines(allocate(s, seededRng(seed))));
    expect(others.some((o) => JSON.stringify(o) !== JSON.stringify(one))).to.equal(true);
  });

  it('hands out every agent when frameworks share evenly (each gets its turn)', () => {
    const agents = Array.from({ length: 12 }, (_, i) => agent(`a${i}`, 'cpus:4;mem:4096'));
    const plan = allocate(snapshot(agents, [framework('x'), framework('y'), framework('z')]), seededRng(4));
    const per = new Map<string, number>();
    for (const o of plan.offers) per.set(o.frameworkId, (per.get(o.frameworkId) ?? 0) + 1);
    expect([...per.values()]).to.deep.equal([4, 4, 4]);
  });

  it('works with the random sorters too (same invariants, other order)', () => {
    const alloc = createAllocate({ roleSorter: 'random', frameworkSorter: 'random' });
    const agents = Array.from({ length: 12 }, (_, i) => agent(`a${i}`, 'cpus:4;mem:4096;cpus(r):1'));
    const s = snapshot(agents, [
      framework('x'),
      framework('y', { roles: ['r'] }),
      framework('z', { suppressed: ['*'] }),
    ]);
    const plan = alloc(s, seededRng(4));
    // Everything is handed out (y may take a whole agent, unreserved and reserved, in one offer).
    expect(offered(plan, 'cpus', () => true)).to.equal(12 * 5);
    for (const o of plan.offers) {
      expect(o.frameworkId).to.not.equal('z');
      if (o.resources.scalar('cpus', 'r') > 0) expect(o.role).to.equal('r');
    }
    expect(lines(alloc(s, seededRng(4)))).to.deep.equal(lines(plan));
  });

  it('merges a guarantee-stage offer and a fair-share offer on the same agent', () => {
    // prod is guaranteed 1 cpu: stage 1 gives it 1 cpu (no headroom to burst: the rest is needed
    // by nobody, so it bursts up to the agent). Either way one offer per (framework, agent, role).
    const s = snapshot(
      [agent('a1', 'cpus:4;mem:1024;cpus(prod):1')],
      [framework('p', { roles: ['prod'] })],
      [{ name: 'prod', weight: 1, quota: { guarantee: R('cpus:1') } }],
    );
    const plan = allocate(s, seededRng(1));
    expect(lines(plan)).to.deep.equal(['p@a1/prod: cpus:4;cpus(prod):1;mem:1024']);
  });
});

describe('allocate() edge cases', () => {
  it('copes with an empty cluster, no frameworks, and no minimum', () => {
    expect(allocate(snapshot([], [framework('f')]), seededRng(1))).to.deep.equal({ offers: [], skipped: {} });
    expect(allocate(snapshot([agent('a1', 'cpus:1;mem:64')], []), seededRng(1))).to.deep.equal({
      offers: [],
      skipped: {},
    });
    const plan = allocate(snapshot([agent('a1', 'cpus:0.001')], [framework('f')], [], []), seededRng(1));
    expect(lines(plan)).to.deep.equal(['f@a1/*: cpus:0.001']);
  });

  it('treats a weight that is not > 0 as 1 instead of failing the cycle', () => {
    const s = snapshot([agent('a1', 'cpus:1;mem:64')], [framework('f', { roles: ['r'] })], [{ name: 'r', weight: 0 }]);
    expect(allocate(s, seededRng(1)).offers).to.have.length(1);
  });

  it('handles a scalar that only some agents have (gpus on the last agent)', () => {
    const s = snapshot(
      [agent('a1', 'cpus:1;mem:64'), agent('a2', 'cpus:1;mem:64'), agent('a3', 'cpus:1;mem:64;gpus:2', 'gpus:1')],
      [framework('f')],
    );
    expect(lines(allocate(s, seededRng(1)))).to.deep.equal([
      'f@a1/*: cpus:1;mem:64',
      'f@a2/*: cpus:1;mem:64',
      'f@a3/*: cpus:1;gpus:1;mem:64',
    ]);
  });

  it('keeps identical offers apart when only their reservations differ', () => {
    const s = snapshot(
      [
        agent('a1', 'cpus:1;mem:64;cpus(r):1'),
        agent('a2', 'cpus:1;mem:64;cpus(r):2'),
        agent('a3', 'cpus:1;mem:64;cpus(r):1'),
      ],
      [framework('f', { roles: ['r'] })],
    );
    expect(lines(allocate(s, seededRng(1)))).to.deep.equal([
      'f@a1/r: cpus:1;cpus(r):1;mem:64',
      'f@a2/r: cpus:1;cpus(r):2;mem:64',
      'f@a3/r: cpus:1;cpus(r):1;mem:64',
    ]);
  });
});

function deepFreeze(o: unknown): void {
  if (o === null || typeof o !== 'object' || Object.isFrozen(o) || o instanceof Resources) return;
  Object.freeze(o);
  for (const v of Object.values(o as Record<string, unknown>)) deepFreeze(v);
}

describe('allocate(): role names that are also Object.prototype keys', () => {
  // Found by the fuzzer: a framework in role `constructor` crashed the cycle, because the lookup of
  // its allocation reached Object.prototype. These names pass Mesos's role rule.
  for (const role of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
    it(`offers to a framework in role '${role}' and to the others`, () => {
      const plan = allocate(
        snapshot(
          [agent('a1', 'cpus:4;mem:4096'), agent('a2', 'cpus:4;mem:4096')],
          [framework('f1', { roles: [role] }), framework('f2')],
        ),
        seededRng(1),
      );
      expect(plan.offers.map((o) => o.frameworkId).sort()).to.deep.equal(['f1', 'f2']);
      expect(plan.offers.find((o) => o.frameworkId === 'f1')?.role).to.equal(role);
    });
  }
});
