/** The test kit itself: a real driver on the real master logic, simulated agents, virtual time. */
import { expect } from 'chai';
import type { SchedulerDriver } from '../../../sdk/scheduler/index.js';
import { TestCluster } from '../../../sdk/testing/index.js';

/** A framework that keeps `want` tasks running, relaunching any that ends. */
function keepRunning(driver: SchedulerDriver, want: string[]): void {
  const live = new Set<string>();
  driver.on('offers', (offers) => {
    for (const offer of offers) {
      const missing = want.filter((id) => !live.has(id));
      if (missing.length === 0) break;
      const id = missing[0];
      live.add(id);
      driver.launch(offer, [
        {
          name: id,
          task_id: id,
          agent_id: offer.agent_id,
          command: { value: 'sleep 1000' },
          resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 1 } }],
        },
      ]);
    }
  });
  driver.on('update', (s) => {
    if (
      [
        'TASK_FAILED',
        'TASK_LOST',
        'TASK_KILLED',
        'TASK_FINISHED',
        'TASK_ERROR',
        'TASK_DROPPED',
        'TASK_GONE',
        'TASK_UNREACHABLE',
      ].includes(s.state)
    ) {
      live.delete(s.task_id);
      driver.wantOffers();
    }
    if (want.every((id) => live.has(id))) driver.idle();
  });
}

describe('agora/sdk/testing: TestCluster', () => {
  it('when the agent running task X is lost, the framework relaunches X elsewhere within one offer cycle', async () => {
    const cluster = await TestCluster.start({ agents: 2 });
    const driver = cluster.driver({ framework: { name: 'keeper' } });
    keepRunning(driver, ['x']);
    driver.start();
    await cluster.until(() => cluster.agentOf('x') !== undefined, { what: 'x to run' });
    const first = cluster.agentOf('x');
    await cluster.loseAgent(first!);
    const took = await cluster.until(() => cluster.agentOf('x') !== undefined, { what: 'x to run again' });
    expect(cluster.agentOf('x')).to.not.equal(first);
    expect(took).to.be.at.most(1_000); // one allocation interval
    await cluster.stop();
  });

  it('a failed task is relaunched', async () => {
    const cluster = await TestCluster.start({ agents: 1 });
    const driver = cluster.driver({ framework: { name: 'keeper' } });
    keepRunning(driver, ['a', 'b']);
    driver.start();
    await cluster.until(() => cluster.running().length === 2);
    cluster.agentOf('a')?.fail('a');
    await cluster.until(() => cluster.running().length === 2, { what: 'a relaunched' });
    expect(cluster.agents[0].tasks.get('a')?.state).to.equal('TASK_RUNNING');
    await cluster.stop();
  });

  it('an agent marked gone by the operator: its task is reported lost and relaunched elsewhere', async () => {
    const cluster = await TestCluster.start({ agents: 2 });
    const driver = cluster.driver({ framework: { name: 'keeper' } });
    const states: string[] = [];
    driver.on('update', (s) => states.push(s.state));
    keepRunning(driver, ['y']);
    driver.start();
    await cluster.until(() => cluster.agentOf('y') !== undefined);
    const first = cluster.agentOf('y');
    await cluster.markGone(first!);
    await cluster.until(() => cluster.agentOf('y') !== undefined && cluster.agentOf('y') !== first, {
      what: 'y elsewhere',
      withinMs: 2_000,
    });
    expect(states).to.include('TASK_LOST');
    await cluster.stop();
  });
});
