/** The tutorial's framework (examples/tutorial/framework.ts): on the test kit, then on real processes. */

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type SimAgent, TestCluster } from 'agora/sdk/testing';
import { expect } from 'chai';
import { runJob } from '../../examples/tutorial/framework.js';
import { Proc, REPO_ROOT, startAgentProc, startMasterProc, stopAll, waitFor } from '../../testkit/processes.js';

describe('the tutorial framework', () => {
  it('is under 60 lines, as docs/sdk.md promises', () => {
    const lines = readFileSync(join(REPO_ROOT, 'examples/tutorial/framework.ts'), 'utf8').trimEnd().split('\n');
    expect(lines.length).to.be.below(60);
  });

  // <tutorial-test>
  it('launches N tasks, relaunches a failed one, and exits 0 when all finished (test kit)', async () => {
    const cluster = await TestCluster.start({ agents: 2, onLaunch: 'TASK_RUNNING' });
    const driver = cluster.driver({ framework: { name: 'tutorial' } });
    const result = runJob(driver, { tasks: 3, command: 'true' });
    await cluster.until(() => cluster.running().length === 3, { what: 'three tasks running' });
    cluster.agentOf('task-1')?.fail('task-1');
    await cluster.until(() => cluster.running().length === 3, { what: 'task-1 relaunched', withinMs: 1_000 });
    for (const { taskId, agent } of cluster.running()) agent.finish(taskId);
    await cluster.settle();
    expect(await result).to.equal(0);
    expect(cluster.master.state.frameworks.size).to.equal(0); // torn down
  });
  // </tutorial-test>

  // docs/sdk.md shows this test verbatim (between the markers), as the issue asks.
  // <agent-lost>
  it('when the agent running task X is lost, relaunches X elsewhere within one offer cycle', async () => {
    const cluster = await TestCluster.start({ agents: 2 });
    const driver = cluster.driver({ framework: { name: 'tutorial' } });
    void runJob(driver, { tasks: 3, command: 'sleep 600' });
    await cluster.until(() => cluster.running().length === 3, { what: 'three tasks running' });
    const lost = cluster.agentOf('task-1') as SimAgent;
    await cluster.loseAgent(lost); // time passes until the master gives up on it: task-1 is LOST
    await cluster.until(() => cluster.agentOf('task-1') !== undefined, { what: 'task-1 again', withinMs: 1_000 });
    expect(cluster.agentOf('task-1')).to.not.equal(lost);
    await cluster.stop();
  });
  // </agent-lost>

  it('gives up with 1 after more failures than allowed', async () => {
    const cluster = await TestCluster.start({ agents: 1 });
    const driver = cluster.driver({ framework: { name: 'tutorial' } });
    const result = runJob(driver, { tasks: 1, command: 'false', maxFailures: 2 });
    for (let i = 0; i < 3; i++) {
      await cluster.until(() => cluster.running().length === 1, { what: `attempt ${i + 1}` });
      cluster.agentOf('task-0')?.fail('task-0');
    }
    await cluster.settle();
    expect(await result).to.equal(1);
  });
});

describe('the tutorial framework on a real master and agent @integration', function () {
  this.timeout(180_000);
  after(stopAll);

  it('runs as `node dist/examples/tutorial/framework.js` and exits 0 with every task finished', async () => {
    const master = await startMasterProc();
    await startAgentProc(master.address, ['--resources', 'cpus:2;mem:512;disk:1000']);
    const script = join(REPO_ROOT, 'dist/examples/tutorial/framework.js');
    const p = new Proc('tutorial', spawn(process.execPath, [script, '--master', master.address, '--tasks', '3']));
    const exited = await waitFor(
      () => `the framework to exit (output: ${p.text().slice(-500)})`,
      () => p.exited,
      120_000,
    );
    expect(exited.code, p.text()).to.equal(0);
    for (const id of ['task-0', 'task-1', 'task-2']) expect(p.text()).to.contain(`${id}: TASK_FINISHED`);
    const state = await (await fetch(`${master.url}/master/state`)).json();
    expect(state.frameworks).to.have.length(0);
    expect(state.completed_frameworks.map((f: { name: string }) => f.name)).to.include('tutorial');
  });
});

describe('docs/sdk.md', () => {
  it('shows the tutorial framework verbatim', () => {
    const doc = readFileSync(join(REPO_ROOT, 'docs/sdk.md'), 'utf8');
    const code = readFileSync(join(REPO_ROOT, 'examples/tutorial/framework.ts'), 'utf8');
    expect(doc).to.contain(code);
  });

  for (const marker of ['tutorial-test', 'agent-lost']) {
    it(`shows the ${marker} test of this file verbatim`, () => {
      const doc = readFileSync(join(REPO_ROOT, 'docs/sdk.md'), 'utf8');
      const self = readFileSync(join(REPO_ROOT, 'test/examples/tutorial.test.ts'), 'utf8');
      const block = self.split(`// <${marker}>\n`)[1].split(`  // </${marker}>`)[0];
      expect(doc).to.contain(block.replace(/^ {2}/gm, ''));
    });
  }
});
