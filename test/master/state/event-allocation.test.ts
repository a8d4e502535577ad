/**
 * An event allocates only what it changed (as Mesos allocates just the affected agent): a task
 * that ends asks for a cycle over its agent alone, with the whole cluster's totals for the shares;
 * a framework event still asks for every agent. And the allocator, given the cluster's totals,
 * orders frameworks on a partial snapshot as it would on the full one.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { allocate } from '../../../master/allocator/index.js';
import type { AllocatorSnapshot } from '../../../master/allocator/types.js';
import type { TaskEntry } from '../../../master/registry.js';
import { type Effect, Timers } from '../../../master/state/index.js';
import { DeclineOffersShape } from '../../../scripts/bench/allocator.js';
import { WholeCycle } from '../../../scripts/bench/sim/whole-cycle.js';
import { TaskState } from '../../../sdk/protocol/types.js';
import { Resources } from '../../../sdk/resources/resources.js';
import { seededRng } from '../../../sdk/util/random.js';

function allocateEffect(effects: Effect[]): Extract<Effect, { kind: 'allocate' }> | undefined {
  return effects.find((e): e is Extract<Effect, { kind: 'allocate' }> => e.kind === 'allocate');
}

/** The task's agent reports it FINISHED; then the "soon" timer fires: the cycle it runs, if any. */
function endTask(w: WholeCycle, task: TaskEntry, uuid: string) {
  finishTask(w, task, uuid);
  return allocateEffect(w.state.apply({ type: 'timerFired', timer: Timers.allocateSoon }));
}

/** The task's agent reports it FINISHED (no timer fired). */
function finishTask(w: WholeCycle, task: TaskEntry, uuid: string): void {
  const agentIndex = [...w.state.agents.keys()].indexOf(task.agentId);
  w.state.apply({
    type: 'agentMessage',
    conn: `a${agentIndex}`,
    message: {
      type: 'STATUS_UPDATE',
      update: {
        framework_id: task.frameworkId,
        status: { task_id: task.task.task_id, state: TaskState.FINISHED, timestamp: 1, uuid },
      },
    },
  });
}

describe('event allocation (master/state/offers.ts allocationSoon)', () => {
  it('allocates only the agent a task ended on, against the whole cluster', () => {
    const w = WholeCycle.fromSnapshot(new DeclineOffersShape(8, 2).snapshot());
    w.run(allocate, seededRng(1)); // the full cycle: covers the registrations
    const task = [...w.state.tasks.values()][0];
    const asked = endTask(w, task, 'u1');
    expect(asked, 'a cycle runs').to.not.equal(undefined);
    expect(asked?.snapshot.agents.map((a) => a.id)).to.deep.equal([task.agentId]);
    expect(asked?.snapshot.clusterTotals?.cpus).to.equal(8 * 24);
    // Nothing asked since: the next "soon" timer runs no cycle.
    expect(allocateEffect(w.state.apply({ type: 'timerFired', timer: Timers.allocateSoon }))).to.equal(undefined);
  });

  it('covers the changed agents until half the cluster changed, then every agent', () => {
    const w = WholeCycle.fromSnapshot(new DeclineOffersShape(200, 2).snapshot());
    w.run(allocate, seededRng(1));
    const onePerAgent = [...new Map([...w.state.tasks.values()].map((t) => [t.agentId, t])).values()];
    expect(onePerAgent).to.have.length(200);
    const finish = (tasks: TaskEntry[], tag: string) => {
      for (const [i, t] of tasks.entries()) finishTask(w, t, `${tag}${i}`);
      return allocateEffect(w.state.apply({ type: 'timerFired', timer: Timers.allocateSoon }));
    };
    const some = finish(onePerAgent.slice(0, 99), 'a');
    expect(some?.snapshot.agents.map((a) => a.id)).to.deep.equal(onePerAgent.slice(0, 99).map((t) => t.agentId));
    // 100 of 200 changed: one full cycle rather than a list of ids as long as the cluster.
    const half = finish(onePerAgent.slice(99, 199), 'b');
    expect(half?.snapshot.agents).to.have.length(200);
    // And back to one agent for the next event.
    const one = finish(
      [[...w.state.tasks.values()].find((t) => t.agentId === onePerAgent[199].agentId) as TaskEntry],
      'c',
    );
    expect(one?.snapshot.agents.map((a) => a.id)).to.deep.equal([onePerAgent[199].agentId]);
  });

  it("sees an agent's changed total in the next event cycle (the kept sum is checked, not trusted)", () => {
    const w = WholeCycle.fromSnapshot(new DeclineOffersShape(8, 2).snapshot());
    w.run(allocate, seededRng(1));
    const [first, second] = [...w.state.tasks.values()].filter((t, i, all) => all[0].agentId !== t.agentId || i === 0);
    expect(endTask(w, first, 'u1')?.snapshot.clusterTotals?.cpus).to.equal(8 * 24);
    // The agent re-registers with 8 more cpus (its tasks reported as before): its total changes.
    const grown = w.state.agents.get(first.agentId);
    if (!grown) throw new Error('agent not found');
    const tasks = [...w.state.tasks.values()]
      .filter((t) => t.agentId === grown.id)
      .map((t) => ({ framework_id: t.frameworkId, task: t.task, state: t.state }));
    w.state.apply({
      type: 'agentMessage',
      conn: `a${[...w.state.agents.keys()].indexOf(grown.id)}`,
      message: {
        type: 'REREGISTER',
        agent: { ...grown.info, id: grown.id, resources: grown.total.plus(Resources.scalars({ cpus: 8 })).toList() },
        version: grown.version ?? '1',
        tasks,
        frameworks: [],
      },
    });
    expect(w.state.agents.get(grown.id)?.total.scalarTotals().cpus).to.equal(32);
    expect(endTask(w, second, 'u2')?.snapshot.clusterTotals?.cpus).to.equal(8 * 24 + 8);
  });

  it("changes an agent's total only through Core.setAgentTotal, which the kept totals depend on", () => {
    // A direct assignment elsewhere would leave event cycles sharing by stale cluster totals.
    const files = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
      );
    const assigning = files('master').filter(
      (f) => f !== join('master', 'state', 'core.ts') && /\.total\s*=[^=]/.test(readFileSync(f, 'utf8')),
    );
    expect(assigning).to.deep.equal([]);
  });

  it('allocates every agent when a framework event asked for it', () => {
    const w = WholeCycle.fromSnapshot(new DeclineOffersShape(8, 2).snapshot());
    w.run(allocate, seededRng(1));
    w.state.apply({ type: 'allocationRequested' });
    const asked = allocateEffect(w.state.apply({ type: 'timerFired', timer: Timers.allocateSoon }));
    expect(asked?.snapshot.agents).to.have.length(8);
    expect(asked?.snapshot.clusterTotals).to.equal(undefined);
  });
});

describe('allocator: clusterTotals on a partial snapshot', () => {
  // Agent 0 has most of the memory, the others the cpus. A holds cpus:10 (0.1 of the cluster's
  // cpus), B mem:20 (0.2 of its memory): A is the poorer and gets agent 0. On agent 0's totals
  // alone A would hold all its cpus (share 1) and B would come first.
  const fws = [
    ['A', 'cpus:10'],
    ['B', 'mem:20'],
  ] as const;
  const snap = (withTotals: boolean): AllocatorSnapshot => ({
    now: 0,
    agents: [
      {
        id: 'S0',
        hostname: 'h0',
        total: Resources.parse('cpus:10;mem:100'),
        allocated: Resources.empty(),
        attributes: {},
        active: true,
      },
    ],
    frameworks: fws.map(([id, held]) => ({
      id,
      roles: ['*'],
      suppressedRoles: [],
      allocated: { '*': Resources.parse(held) },
      filters: [],
      active: true,
    })),
    roles: [],
    minAllocatable: [Resources.parse('cpus:0.01'), Resources.parse('mem:32')],
    ...(withTotals ? { clusterTotals: { cpus: 100, mem: 100 } } : {}),
  });

  it("offers the agent to the framework poorest in the whole cluster's terms", () => {
    expect(allocate(snap(true), seededRng(1)).offers.map((o) => o.frameworkId)).to.deep.equal(['A']);
    // Without them, the shares are of agent 0 alone (the reason the totals are passed).
    expect(allocate(snap(false), seededRng(1)).offers.map((o) => o.frameworkId)).to.deep.equal(['B']);
  });
});
