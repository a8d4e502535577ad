/**
 * The rolling replace: Marathon's bounds (with its edge cases) table-driven, first decisions
 * table-driven, and a simulated rollout under random events (fast-check) in which, at every step,
 * the kills never take healthy instances below `ceil(instances × minimumHealthCapacity)` and the
 * instances never exceed the capacity cap; without failures the rollout finishes.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import {
  type InstanceState,
  launchDelaySeconds,
  replaceBounds,
  replaceStep,
  selectInstancesToKill,
} from '../../../../frameworks/marathon/plan/index.js';

describe('marathon/plan replaceBounds (Marathon TaskReplaceActor.computeRestartStrategy)', () => {
  const table: [number, number, number, boolean, number, number, number][] = [
    // instances, minimumHealthCapacity, maximumOverCapacity, resident → minHealthy, maxCapacity, belowMinimum
    [10, 1, 1, false, 10, 20, 0],
    [10, 0.5, 0, false, 5, 10, 0],
    [6, 0.5, 0.5, false, 3, 9, 0],
    [4, 0, 0, false, 0, 4, 0],
    [1, 1, 0, false, 1, 2, 0], // minHealthy == maxCapacity: one extra instance allowed
    [3, 1, 0, false, 3, 4, 0],
    [3, 0.7, 0.1, false, 3, 4, 0], // ceil(2.1) = 3 = floor(3.3): the edge case again
    [3, 1, 0, true, 3, 3, 1], // resident: go one below the minimum instead
    [3, 0.7, 0, false, 3, 4, 0],
    [5, 0.3, 0.2, false, 2, 6, 0],
  ];
  for (const [n, mhc, moc, resident, minH, maxC, below] of table) {
    it(`${n} instances, ${mhc}/${moc}${resident ? ' resident' : ''} → min ${minH}, max ${maxC}`, () => {
      expect(replaceBounds(n, { minimumHealthCapacity: mhc, maximumOverCapacity: moc }, resident)).to.deep.equal({
        minHealthy: minH,
        maxCapacity: maxC,
        belowMinimumAllowed: below,
      });
    });
  }
});

const healthy = (id: string, startedAtMs = 0): InstanceState => ({ id, healthy: true, startedAtMs });

describe('marathon/plan replaceStep first decisions', () => {
  it('1/1: launches all new instances at once, kills nothing', () => {
    const d = replaceStep({
      instances: 3,
      upgradeStrategy: { minimumHealthCapacity: 1, maximumOverCapacity: 1 },
      old: [healthy('o1'), healthy('o2'), healthy('o3')],
      new: [],
    });
    expect(d).to.deep.include({ kill: [], launch: 3, done: false });
  });
  it('0.5/0: kills half at once, launches nothing until they are gone', () => {
    const d = replaceStep({
      instances: 4,
      upgradeStrategy: { minimumHealthCapacity: 0.5, maximumOverCapacity: 0 },
      old: ['a', 'b', 'c', 'd'].map((x, i) => healthy(x, i)),
      new: [],
    });
    expect(d.kill).to.have.length(2);
    expect(d.launch).to.equal(0);
  });
  it('1/0: launches one extra, kills one old per new healthy one', () => {
    const s = { minimumHealthCapacity: 1, maximumOverCapacity: 0 };
    const old = [healthy('o1'), healthy('o2'), healthy('o3')];
    expect(replaceStep({ instances: 3, upgradeStrategy: s, old, new: [] })).to.deep.include({ kill: [], launch: 1 });
    const afterOne = replaceStep({ instances: 3, upgradeStrategy: s, old, new: [healthy('n1')] });
    expect(afterOne.kill).to.have.length(1);
    expect(afterOne.launch).to.equal(0);
  });
  it('unhealthy old instances are killed first', () => {
    const d = replaceStep({
      instances: 2,
      upgradeStrategy: { minimumHealthCapacity: 0, maximumOverCapacity: 0 },
      old: [healthy('good'), { id: 'bad', healthy: false, startedAtMs: 5 }],
      new: [],
    });
    // budget: 1 healthy − 0 minimum = 1 kill, spent on the unhealthy one
    expect(d.kill).to.deep.equal(['bad']);
  });
  it('waits for readiness: a healthy but not ready new instance does not let an old one go', () => {
    const d = replaceStep({
      instances: 1,
      upgradeStrategy: { minimumHealthCapacity: 1, maximumOverCapacity: 1 },
      old: [healthy('o1')],
      new: [{ id: 'n1', healthy: true, ready: false }],
    });
    expect(d.kill).to.deep.equal([]);
  });
  it('0 instances: every old instance goes, nothing launches', () => {
    const d = replaceStep({
      instances: 0,
      upgradeStrategy: { minimumHealthCapacity: 1, maximumOverCapacity: 0 },
      old: [healthy('o1'), { id: 'o2', healthy: true, killing: true }],
      new: [],
    });
    expect(d).to.deep.include({ kill: ['o1'], launch: 0, done: false });
  });
  it('done when all new are healthy and ready and no old is left', () => {
    expect(
      replaceStep({
        instances: 2,
        upgradeStrategy: { minimumHealthCapacity: 1, maximumOverCapacity: 1 },
        old: [],
        new: [healthy('n1'), healthy('n2')],
      }).done,
    ).to.equal(true);
  });
});

interface Sim {
  old: InstanceState[];
  new: InstanceState[];
}

describe('marathon/plan replaceStep: simulated rollouts (property)', () => {
  const strategy = fc.record({
    instances: fc.integer({ min: 1, max: 12 }),
    minimumHealthCapacity: fc.constantFrom(0, 0.1, 0.25, 0.5, 0.7, 0.9, 1),
    maximumOverCapacity: fc.constantFrom(0, 0.1, 0.25, 0.5, 1),
  });
  // Events between decisions: which instance changes (index into a list), and how.
  const event = fc.record({
    kind: fc.constantFrom('newHealthy', 'newHealthy', 'killDone', 'killDone', 'newFails', 'oldUnhealthy'),
    pick: fc.nat(),
  });

  it('kills never take healthy below the minimum; instances never exceed the cap; finishes without failures', () => {
    fc.assert(
      fc.property(strategy, fc.array(event, { maxLength: 300 }), fc.boolean(), (s, events, failures) => {
        const up = { minimumHealthCapacity: s.minimumHealthCapacity, maximumOverCapacity: s.maximumOverCapacity };
        const sim: Sim = { old: Array.from({ length: s.instances }, (_, i) => healthy(`o${i}`, i)), new: [] };
        let seq = 0;
        const healthyCount = () =>
          sim.old.filter((i) => i.healthy && !i.killing).length +
          sim.new.filter((i) => i.healthy && (i.ready ?? true)).length;
        const decide = () => {
          const before = healthyCount();
          const d = replaceStep({ instances: s.instances, upgradeStrategy: up, old: sim.old, new: sim.new });
          for (const id of d.kill) {
            const i = sim.old.find((x) => x.id === id);
            if (!i || i.killing) throw new Error(`bad kill ${id}`);
            i.killing = true;
          }
          const after = healthyCount();
          // The healthy minimum: kills never take it below minHealthy (nor lower it when already below).
          if (after < before && after < d.minHealthy) throw new Error(`healthy ${before} → ${after} < ${d.minHealthy}`);
          for (let k = 0; k < d.launch; k++) sim.new.push({ id: `n${seq++}`, healthy: false });
          if (sim.old.length + sim.new.length > d.maxCapacity) {
            throw new Error(`over capacity ${sim.old.length + sim.new.length} > ${d.maxCapacity}`);
          }
          return d;
        };
        decide();
        for (const e of events) {
          if (e.kind === 'newHealthy') {
            const c = sim.new.filter((i) => !i.healthy);
            if (c.length > 0) c[e.pick % c.length].healthy = true;
          } else if (e.kind === 'killDone') {
            const c = sim.old.filter((i) => i.killing);
            if (c.length > 0) sim.old = sim.old.filter((i) => i !== c[e.pick % c.length]);
          } else if (failures && e.kind === 'newFails') {
            if (sim.new.length > 0) sim.new.splice(e.pick % sim.new.length, 1);
          } else if (failures && e.kind === 'oldUnhealthy') {
            const c = sim.old.filter((i) => i.healthy && !i.killing);
            if (c.length > 0) c[e.pick % c.length].healthy = false;
          }
          decide();
        }
        if (failures) return true;
        // Liveness: let the remaining events happen in order until done.
        for (let guard = 0; guard < 10_000; guard++) {
          const d = decide();
          if (d.done) return true;
          const pending = sim.new.find((i) => !i.healthy);
          if (pending) pending.healthy = true;
          else {
            const dying = sim.old.find((i) => i.killing);
            if (dying) sim.old = sim.old.filter((i) => i !== dying);
          }
        }
        return false;
      }),
      { numRuns: 300 },
    );
  });
});

describe('marathon/plan launch backoff', () => {
  const p = { backoffSeconds: 1, backoffFactor: 1.15, maxLaunchDelaySeconds: 300 };
  const table: [number, number][] = [
    [0, 0],
    [1, 1],
    [2, 1.15],
    [3, 1.15 ** 2],
    [10, 1.15 ** 9],
    [50, 300], // 1.15^49 ≈ 945 → capped
    [1_000_000, 300],
  ];
  for (const [failures, delay] of table) {
    it(`${failures} failures → ${delay.toFixed(3)} s`, () => {
      expect(launchDelaySeconds(p, failures)).to.be.closeTo(delay, 1e-9);
    });
  }
  it('backoffSeconds 0 means no delay; the cap holds for any factor', () => {
    expect(launchDelaySeconds({ ...p, backoffSeconds: 0 }, 5)).to.equal(0);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 100 }),
        fc.double({ min: 1, max: 10, noNaN: true }),
        fc.nat(5000),
        (b, f, n) => {
          const d = launchDelaySeconds({ backoffSeconds: b, backoffFactor: f, maxLaunchDelaySeconds: 300 }, n);
          return d >= 0 && d <= Math.max(300, 0) && Number.isFinite(d);
        },
      ),
    );
  });
});

describe('marathon/plan selectInstancesToKill', () => {
  const inst = (
    id: string,
    startedAtMs: number,
    hostname = 'h',
    attributes: Record<string, string> = {},
    running = true,
  ) => ({
    id,
    startedAtMs,
    hostname,
    attributes,
    running,
  });
  it('YOUNGEST_FIRST kills the latest started; OLDEST_FIRST the earliest', () => {
    const xs = [inst('a', 1), inst('b', 3), inst('c', 2)];
    expect(selectInstancesToKill(xs, 2, { killSelection: 'YOUNGEST_FIRST' })).to.deep.equal(['b', 'c']);
    expect(selectInstancesToKill(xs, 2, { killSelection: 'OLDEST_FIRST' })).to.deep.equal(['a', 'c']);
  });
  it('instances not yet running go first', () => {
    const xs = [inst('a', 1), inst('b', 3), inst('s', 0, 'h', {}, false)];
    expect(selectInstancesToKill(xs, 1, { killSelection: 'YOUNGEST_FIRST' })).to.deep.equal(['s']);
  });
  it('GROUP_BY keeps the spread even (Marathon: select only tasks of the unbalanced group)', () => {
    const xs = [
      inst('r1a', 1, 'h1', { rack: 'r1' }),
      inst('r1b', 2, 'h2', { rack: 'r1' }),
      inst('r1c', 3, 'h3', { rack: 'r1' }),
      inst('r2a', 9, 'h4', { rack: 'r2' }),
    ];
    const chosen = selectInstancesToKill(xs, 2, {
      killSelection: 'YOUNGEST_FIRST',
      constraints: [{ field: 'rack', operator: 'GROUP_BY' }],
    });
    expect(chosen).to.have.length(2);
    expect(chosen.every((id) => id.startsWith('r1'))).to.equal(true);
    expect(chosen).to.deep.equal(['r1c', 'r1b']);
  });
  // Marathon's ConstraintsTest cases for selectInstancesToKill:
  const gb = (field: string): { field: string; operator: 'GROUP_BY' } => ({ field, operator: 'GROUP_BY' });
  it('even on 2 hosts: 10 of 20 are taken 5 from each', () => {
    const xs = Array.from({ length: 20 }, (_, n) => inst(`t${n}`, n, `${n % 2}`));
    const chosen = selectInstancesToKill(xs, 10, { killSelection: 'YOUNGEST_FIRST', constraints: [gb('hostname')] });
    expect(chosen).to.have.length(10);
    expect(chosen.filter((id) => Number(id.slice(1)) % 2 === 0)).to.have.length(5);
  });
  it('uneven (20 on host 1, 10 on host 2): all 10 from host 1', () => {
    const xs = [
      ...Array.from({ length: 20 }, (_, n) => inst(`a${n}`, n, '1')),
      ...Array.from({ length: 10 }, (_, n) => inst(`b${n}`, 100 + n, '2')),
    ];
    const chosen = selectInstancesToKill(xs, 10, { killSelection: 'YOUNGEST_FIRST', constraints: [gb('hostname')] });
    expect(chosen).to.have.length(10);
    expect(chosen.every((id) => id.startsWith('a'))).to.equal(true);
  });
  it('two GROUP_BY fields (rack, color): 20 of 40 keep both even', () => {
    const kinds = [
      ['rack-1', 'blue'],
      ['rack-1', 'green'],
      ['rack-2', 'blue'],
      ['rack-2', 'green'],
    ];
    const xs = kinds.flatMap(([rack, color], k) =>
      Array.from({ length: 10 }, (_, n) => inst(`${rack}-${color}-${n}`, k * 10 + n, `h${k}${n}`, { rack, color })),
    );
    const chosen = new Set(
      selectInstancesToKill(xs, 20, { killSelection: 'YOUNGEST_FIRST', constraints: [gb('rack'), gb('color')] }),
    );
    const picked = xs.filter((x) => chosen.has(x.id));
    expect(picked).to.have.length(20);
    expect(picked.filter((x) => x.attributes.rack === 'rack-1')).to.have.length(10);
    expect(picked.filter((x) => x.attributes.color === 'blue')).to.have.length(10);
  });
  it('asked for all or more: all', () => {
    expect(selectInstancesToKill([inst('a', 1)], 3, { killSelection: 'YOUNGEST_FIRST' })).to.deep.equal(['a']);
    expect(selectInstancesToKill([inst('a', 1)], 0, { killSelection: 'YOUNGEST_FIRST' })).to.deep.equal([]);
  });
});
