/**
 * The placement and failover benchmarks' correctness: "every task RUNNING exactly once". A second
 * RUNNING from an agent (an update with a new uuid) is a second launch and counts; an update resent
 * (same uuid) or an answer to a reconciliation asked again after a re-subscription (no uuid) does not.
 * Pure bookkeeping: the simulated framework is fed events, with no master.
 */
import { expect } from 'chai';
import { SimFrameworks } from '../../scripts/bench/sim/frameworks.js';
import type { SchedulerEvent } from '../../sdk/protocol/messages.js';
import { TaskState } from '../../sdk/protocol/types.js';

function rig(): { sim: SimFrameworks; feed: (status: Record<string, unknown>) => void } {
  const sim = new SimFrameworks({
    url: 'ws://127.0.0.1:1/api/v1/scheduler/ws',
    count: 1,
    task: 'cpus:0.1;mem:32',
    declineSeconds: 5,
  });
  const fw = sim.fws[0] as unknown as { id?: string; event(e: SchedulerEvent): void };
  fw.id = 'fw-1';
  const feed = (status: Record<string, unknown>) =>
    fw.event({
      type: 'UPDATE',
      update: { status: { agent_id: 'a-1', source: 'SOURCE_EXECUTOR', ...status } },
    } as unknown as SchedulerEvent);
  return { sim, feed };
}

describe('simulated frameworks: counting a task RUNNING twice', () => {
  it('a resent update and repeated reconciliation answers are not a second launch', () => {
    const { sim, feed } = rig();
    feed({ task_id: 't1', state: TaskState.RUNNING, uuid: 'u1' });
    feed({ task_id: 't1', state: TaskState.RUNNING, uuid: 'u1' }); // resent: not yet acknowledged
    feed({ task_id: 't1', state: TaskState.RUNNING }); // reconciliation answer, after a re-subscription
    feed({ task_id: 't1', state: TaskState.RUNNING }); // and again, after another
    // An implicit reconciliation answer may come before the agent's own update of a task.
    feed({ task_id: 't2', state: TaskState.RUNNING });
    feed({ task_id: 't2', state: TaskState.RUNNING, uuid: 'u2' });
    expect(sim.runningTwice).to.equal(0);
    expect(sim.running).to.equal(2);
  });

  it('a RUNNING with another uuid is a second launch', () => {
    const { sim, feed } = rig();
    feed({ task_id: 't1', state: TaskState.RUNNING, uuid: 'u1' });
    feed({ task_id: 't1', state: TaskState.RUNNING, uuid: 'u9' });
    feed({ task_id: 't2', state: TaskState.RUNNING });
    feed({ task_id: 't2', state: TaskState.RUNNING, uuid: 'u2' });
    feed({ task_id: 't2', state: TaskState.RUNNING, uuid: 'u3' });
    expect(sim.runningTwice).to.equal(2);
  });
});
