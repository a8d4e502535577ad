/** The dependency graph: readiness with durable marks, cycles, deletion, renderings. */
import { expect } from 'chai';
import fc from 'fast-check';
import {
  childrenAfterDelete,
  childrenOf,
  clearMarks,
  type DependencyState,
  dependencyProblem,
  emptyDependencyState,
  findCycle,
  forgetJob,
  type GraphJob,
  recordParentFinished,
  renderCsv,
  renderDot,
  waitingFor,
} from '../../../../frameworks/chronos/model/index.js';

const j = (name: string, ...parents: string[]): GraphJob => ({ name, parents });
// a (scheduled) → b → d ; c (scheduled) → d
const JOBS = [j('a'), j('b', 'a'), j('c'), j('d', 'b', 'c')];

/** Survives a round trip through JSON, as the service persists it. */
const persist = (s: DependencyState): DependencyState => JSON.parse(JSON.stringify(s));

describe('chronos model: dependency graph', () => {
  it('a child with one parent is ready when that parent succeeds', () => {
    const r = recordParentFinished(emptyDependencyState(), JOBS, 'a', true, 100);
    expect(r.ready).to.deep.equal([{ name: 'b', triggeredAt: 100 }]);
    expect(r.state.marks).to.deep.equal({});
  });

  it('a child waits for every parent, across a failover (state persisted between events)', () => {
    let s = emptyDependencyState();
    const r1 = recordParentFinished(s, JOBS, 'c', true, 100);
    expect(r1.ready).to.deep.equal([]);
    s = persist(r1.state);
    expect(waitingFor(s, JOBS[3])).to.deep.equal(['b']);
    const r2 = recordParentFinished(s, JOBS, 'b', true, 200);
    expect(r2.ready).to.deep.equal([{ name: 'd', triggeredAt: 200 }]);
    expect(waitingFor(r2.state, JOBS[3])).to.deep.equal(['b', 'c']);
  });

  it('a failed parent does not count, a softError failure does (the caller passes done)', () => {
    const hard = recordParentFinished(emptyDependencyState(), JOBS, 'a', false, 100);
    expect(hard.ready).to.deep.equal([]);
    expect(hard.state.marks).to.deep.equal({});
    const soft = recordParentFinished(emptyDependencyState(), JOBS, 'a', true, 100);
    expect(soft.ready.map((c) => c.name)).to.deep.equal(['b']);
  });

  it('a parent succeeding twice before the other does not run the child twice', () => {
    let s = recordParentFinished(emptyDependencyState(), JOBS, 'c', true, 100).state;
    s = recordParentFinished(s, JOBS, 'c', true, 150).state;
    const r = recordParentFinished(s, JOBS, 'b', true, 200);
    expect(r.ready).to.have.length(1);
    expect(recordParentFinished(r.state, JOBS, 'b', true, 300).ready).to.deep.equal([]);
  });

  it('a manual run of the child starts its marks over; forgetting a job drops its marks', () => {
    const s = recordParentFinished(emptyDependencyState(), JOBS, 'c', true, 100).state;
    expect(clearMarks(s, 'd').marks).to.deep.equal({});
    expect(forgetJob(s, 'c').marks).to.deep.equal({ d: {} });
    expect(forgetJob(s, 'd').marks).to.deep.equal({});
  });

  it('finds cycles and refuses jobs that would close one, or name a missing parent', () => {
    expect(findCycle(JOBS)).to.equal(null);
    expect(findCycle([j('x', 'z'), j('y', 'x'), j('z', 'y')])).to.deep.equal(['x', 'y', 'z', 'x']);
    expect(dependencyProblem(JOBS, j('a', 'd'))).to.match(/^dependency cycle: .*a.*d/);
    expect(dependencyProblem(JOBS, j('e', 'nope'))).to.equal('unknown parent job(s): nope');
    expect(dependencyProblem(JOBS, j('e', 'e'))).to.equal('a job cannot be its own parent');
    expect(dependencyProblem(JOBS, j('e', 'd', 'a'))).to.equal(null);
  });

  it('a deep chain does not overflow the stack', () => {
    const chain = Array.from({ length: 50_000 }, (_, i) => j(`j${i}`, ...(i > 0 ? [`j${i - 1}`] : [])));
    expect(findCycle(chain)).to.equal(null);
    chain[0] = j('j0', 'j49999');
    expect(findCycle(chain)).to.have.length(50_001);
  });

  it('property: findCycle finds a cycle exactly when a topological order does not exist', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(7), fc.nat(7)), { maxLength: 15 }), (edges) => {
        const jobs = Array.from({ length: 8 }, (_, i) =>
          j(`n${i}`, ...[...new Set(edges.filter(([, c]) => c === i).map(([p]) => `n${p}`))]),
        );
        // Kahn's algorithm as the oracle.
        const indeg = new Map(jobs.map((x) => [x.name, x.parents.length]));
        const queue = jobs.filter((x) => x.parents.length === 0).map((x) => x.name);
        let seen = 0;
        const kids = childrenOf(jobs);
        while (queue.length) {
          const n = queue.pop() as string;
          seen++;
          for (const c of kids.get(n) ?? []) {
            indeg.set(c, (indeg.get(c) as number) - 1);
            if (indeg.get(c) === 0) queue.push(c);
          }
        }
        const cycle = findCycle(jobs);
        expect(cycle !== null).to.equal(seen < jobs.length);
        if (cycle) {
          expect(cycle[0]).to.equal(cycle[cycle.length - 1]);
          for (let i = 1; i < cycle.length; i++)
            expect(jobs.find((x) => x.name === cycle[i])?.parents).to.include(cycle[i - 1]);
        }
      }),
    );
  });

  it('property: over any sequence of finishes (state persisted between each), a child runs exactly once per round of all its parents', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c'), fc.boolean()), { maxLength: 40 }), (events) => {
        let state = emptyDependencyState();
        const since = new Map<string, Set<string>>(JOBS.map((x) => [x.name, new Set()]));
        const ranOracle: string[] = [];
        const ran: string[] = [];
        events.forEach(([parent, done], t) => {
          const r = recordParentFinished(state, JOBS, parent, done, t);
          state = persist(r.state);
          ran.push(...r.ready.map((c) => `${c.name}@${c.triggeredAt}`));
          if (!done) return;
          for (const child of JOBS.filter((x) => x.parents.includes(parent))) {
            const s = since.get(child.name) as Set<string>;
            s.add(parent);
            if (child.parents.every((p) => s.has(p))) {
              ranOracle.push(`${child.name}@${t}`);
              s.clear();
            }
          }
        });
        expect(ran).to.deep.equal(ranOracle);
      }),
    );
  });

  describe('deleting a job re-attaches its children as Chronos does', () => {
    const S = 'R/2026-01-01T00:00:00Z/PT1H';
    const jobs = [
      { name: 'a', parents: [], schedule: S },
      { name: 'b', parents: ['a'], schedule: null },
      { name: 'c', parents: ['b'], schedule: null },
      { name: 'x', parents: [], schedule: S },
      { name: 'd', parents: ['b', 'x'], schedule: null },
    ];
    it('deleting a dependent job: its children take its parents', () => {
      expect(childrenAfterDelete(jobs, 'b')).to.deep.equal([
        { name: 'c', parents: ['a'] },
        { name: 'd', parents: ['x', 'a'] },
      ]);
    });
    it('deleting a scheduled job: an only child inherits its schedule', () => {
      expect(childrenAfterDelete(jobs, 'a')).to.deep.equal([{ name: 'b', parents: [], inheritSchedule: S }]);
    });
    it('deleting a scheduled job: a child with other parents just loses it', () => {
      expect(childrenAfterDelete(jobs, 'x')).to.deep.equal([{ name: 'd', parents: ['b'] }]);
      expect(childrenAfterDelete(jobs, 'nope')).to.deep.equal([]);
    });
  });

  it('renders graph/dot and graph/csv as Chronos does', () => {
    expect(renderDot(JOBS)).to.equal(
      [
        'digraph G {',
        '  1 [ label="a" ];',
        '  2 [ label="b" ];',
        '  3 [ label="c" ];',
        '  4 [ label="d" ];',
        '  1 -> 2;',
        '  2 -> 4;',
        '  3 -> 4;',
        '}',
        '',
      ].join('\n'),
    );
    const last: Record<string, string> = { a: 'success', b: 'failure' };
    expect(
      renderCsv(
        JOBS,
        (n) => last[n] ?? 'fresh',
        (n) => (n === 'a' ? '1 running' : 'idle'),
      ),
    ).to.equal(
      'node,a,success,1 running\nnode,b,failure,idle\nnode,c,fresh,idle\nnode,d,fresh,idle\nlink,a,b\nlink,b,d\nlink,c,d\n',
    );
  });
});
