/**
 * Fairness over time, by simulation: frameworks launch tasks from the offers of each cycle, tasks
 * finish, and the allocator runs again. All randomness is seeded, so each run is the same.
 *
 * Plus the worked example from the DRF paper (Ghodsi et al., "Dominant Resource Fairness", NSDI
 * 2011, section 4), done by progressive filling with the DRF sorter itself.
 */
import { expect } from 'chai';
import { allocate } from '../../../master/allocator/allocate.js';
import { DrfSorter } from '../../../master/allocator/drf-sorter.js';
import { ScalarSpace } from '../../../master/allocator/sorter.js';
import type { AllocatorAgent, AllocatorFramework, AllocatorRole } from '../../../master/allocator/types.js';
import { Resources } from '../../../sdk/resources/resources.js';
import { seededRng } from '../../../sdk/util/random.js';

describe('DRF paper example (progressive filling)', () => {
  it('gives user A three tasks and user B two', () => {
    // The system has 9 CPUs and 18 GB. A's tasks need <1 CPU, 4 GB>; B's need <3 CPUs, 1 GB>.
    // Per task, A's dominant resource is memory (4/18 = 0.222 > 1/9 = 0.111) and B's is CPU
    // (3/9 = 0.333 > 1/18 = 0.056). DRF gives the next task to the user with the lower dominant
    // share, as long as the task still fits:
    //   start        A 0      B 0      tie (no allocations either) → by name, A
    //   A task 1     A 0.222  B 0      → B
    //   B task 1     A 0.222  B 0.333  → A
    //   A task 2     A 0.444  B 0.333  → B
    //   B task 2     A 0.444  B 0.667  → A
    //   A task 3     A 0.667  B 0.667  used: 3·1 + 2·3 = 9 CPUs, 3·4 + 2·1 = 14 GB
    // Now no task fits (no CPU left): A runs 3 tasks, B 2, and both dominant shares are 2/3.
    const space = new ScalarSpace();
    space.addTotal(Resources.parse('cpus:9;mem:18'));
    const sorter = new DrfSorter({ space });
    const demand: Record<string, Resources> = {
      A: Resources.parse('cpus:1;mem:4'),
      B: Resources.parse('cpus:3;mem:1'),
    };
    sorter.add('A');
    sorter.add('B');
    let free = Resources.parse('cpus:9;mem:18');
    const tasks: Record<string, number> = { A: 0, B: 0 };
    const sequence: string[] = [];
    for (;;) {
      let next: string | undefined;
      sorter.visit((i) => {
        const user = sorter.nameOf(i);
        if (!free.contains(demand[user])) return false;
        next = user;
        return true;
      });
      if (!next) break;
      sorter.allocated(next, demand[next]);
      free = free.minus(demand[next]);
      tasks[next]++;
      sequence.push(next);
    }
    expect(sequence).to.deep.equal(['A', 'B', 'A', 'B', 'A']);
    expect(tasks).to.deep.equal({ A: 3, B: 2 });
    expect(sorter.share('A')).to.be.closeTo(12 / 18, 1e-9);
    expect(sorter.share('B')).to.be.closeTo(6 / 9, 1e-9);
  });
});

interface Profile {
  id: string;
  role: string;
  task: { cpus: number; mem: number };
}

interface SimulationOptions {
  agents: number;
  cycles: number;
  /** Tasks a framework launches per offer at most (it declines the rest). */
  perOffer: number;
  frameworks: Profile[];
  roles: AllocatorRole[];
}

/**
 * Runs `cycles` allocation cycles over identical agents (8 CPUs, 32 GB). In each cycle every
 * framework launches up to `perOffer` tasks from each offer, as many as fit, and declines the rest
 * (it comes back next cycle); tasks run for 5–24 cycles. Returns the dominant share of each
 * framework after every cycle.
 */
function simulate(o: SimulationOptions): Record<string, number>[] {
  const AGENT = { cpus: 8, mem: 32_768 };
  const used = Array.from({ length: o.agents }, () => ({ cpus: 0, mem: 0 }));
  const held = new Map(o.frameworks.map((f) => [f.id, { cpus: 0, mem: 0 }]));
  const running: { fw: string; agent: number; end: number }[] = [];
  const profile = new Map(o.frameworks.map((f) => [f.id, f]));
  const rng = seededRng(1);
  const lifetimes = seededRng(2);
  const trace: Record<string, number>[] = [];
  const total = { cpus: AGENT.cpus * o.agents, mem: AGENT.mem * o.agents };
  const move = (fw: string, agent: number, sign: number) => {
    const t = (profile.get(fw) as Profile).task;
    const h = held.get(fw) as { cpus: number; mem: number };
    used[agent].cpus += sign * t.cpus;
    used[agent].mem += sign * t.mem;
    h.cpus += sign * t.cpus;
    h.mem += sign * t.mem;
  };
  for (let cycle = 0; cycle < o.cycles; cycle++) {
    for (let i = running.length - 1; i >= 0; i--) {
      if (running[i].end <= cycle) {
        move(running[i].fw, running[i].agent, -1);
        running.splice(i, 1);
      }
    }
    const agents: AllocatorAgent[] = used.map((u, i) => ({
      id: `agent-${i}`,
      hostname: `host-${i}`,
      total: Resources.scalars(AGENT),
      allocated: Resources.scalars(u),
      attributes: {},
      active: true,
    }));
    const frameworks: AllocatorFramework[] = o.frameworks.map((f) => ({
      id: f.id,
      roles: [f.role],
      suppressedRoles: [],
      allocated: { [f.role]: Resources.scalars(held.get(f.id) as { cpus: number; mem: number }) },
      filters: [],
      active: true,
    }));
    const plan = allocate(
      {
        now: cycle,
        agents,
        frameworks,
        roles: o.roles,
        minAllocatable: [Resources.parse('cpus:0.01'), Resources.parse('mem:32')],
      },
      rng,
    );
    for (const offer of plan.offers) {
      const t = (profile.get(offer.frameworkId) as Profile).task;
      const agent = Number(offer.agentId.slice('agent-'.length));
      let cpus = offer.resources.scalar('cpus');
      let mem = offer.resources.scalar('mem');
      for (let k = 0; k < o.perOffer && cpus >= t.cpus && mem >= t.mem; k++) {
        cpus -= t.cpus;
        mem -= t.mem;
        move(offer.frameworkId, agent, 1);
        running.push({ fw: offer.frameworkId, agent, end: cycle + 5 + Math.floor(lifetimes.next() * 20) });
      }
    }
    const shares: Record<string, number> = {};
    for (const [fw, h] of held) shares[fw] = Math.max(h.cpus / total.cpus, h.mem / total.mem);
    trace.push(shares);
  }
  return trace;
}

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

// Opposite profiles: a CPU-heavy framework (<2 CPUs, 1 GB>: dominant share = CPUs) and a
// memory-heavy one (<0.5 CPU, 8 GB>: dominant share = memory).
const CPU_HEAVY = { cpus: 2, mem: 1024 };
const MEM_HEAVY = { cpus: 0.5, mem: 8192 };

describe('fairness over many cycles (simulation)', function () {
  // Hundreds of cycles; generous so a loaded machine does not fail them (no timing is asserted).
  this.timeout(120_000);

  it('brings the dominant shares of opposite profiles close together (same role)', () => {
    const trace = simulate({
      agents: 40,
      cycles: 250,
      perOffer: 2,
      frameworks: [
        { id: 'cpu-heavy', role: '*', task: CPU_HEAVY },
        { id: 'mem-heavy', role: '*', task: MEM_HEAVY },
      ],
      roles: [],
    });
    // After a warm-up, the cluster is busy (both shares well above zero) and the shares stay
    // close: DRF equalises dominant shares; what is left is packing (a nearly CPU-full agent
    // still takes a CPU-heavy task's 1 GB more easily than a memory-heavy one's 8 GB).
    const tail = trace.slice(100);
    const a = mean(tail.map((s) => s['cpu-heavy']));
    const b = mean(tail.map((s) => s['mem-heavy']));
    expect(a).to.be.above(0.5);
    expect(b).to.be.above(0.5);
    expect(a / b).to.be.within(0.9, 1.1);
    for (const s of tail) expect(Math.abs(s['cpu-heavy'] - s['mem-heavy'])).to.be.below(0.15);
  });

  it('converges to 2:1 dominant shares with role weights 2:1', () => {
    const trace = simulate({
      agents: 40,
      cycles: 250,
      perOffer: 2,
      frameworks: [
        { id: 'cpu-heavy', role: 'gold', task: CPU_HEAVY },
        { id: 'mem-heavy', role: 'silver', task: MEM_HEAVY },
      ],
      roles: [
        { name: 'gold', weight: 2 },
        { name: 'silver', weight: 1 },
      ],
    });
    const tail = trace.slice(100);
    const a = mean(tail.map((s) => s['cpu-heavy']));
    const b = mean(tail.map((s) => s['mem-heavy']));
    expect(a / b).to.be.within(1.8, 2.3);
  });

  it('converges to 2:1 the other way round too (weights follow the role, not the profile)', () => {
    const trace = simulate({
      agents: 40,
      cycles: 250,
      perOffer: 2,
      frameworks: [
        { id: 'cpu-heavy', role: 'silver', task: CPU_HEAVY },
        { id: 'mem-heavy', role: 'gold', task: MEM_HEAVY },
      ],
      roles: [
        { name: 'gold', weight: 2 },
        { name: 'silver', weight: 1 },
      ],
    });
    const tail = trace.slice(100);
    const a = mean(tail.map((s) => s['cpu-heavy']));
    const b = mean(tail.map((s) => s['mem-heavy']));
    expect(b / a).to.be.within(1.8, 2.3);
  });
});
