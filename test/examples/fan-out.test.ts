/** The fan-out batch example (examples/fan-out/batch.ts): on the test kit, then on real processes. */
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { TestCluster } from 'agora/sdk/testing';
import { expect } from 'chai';
import { runBatch } from '../../examples/fan-out/batch.js';
import { Proc, REPO_ROOT, startAgentProc, startMasterProc, stopAll, waitFor } from '../../testkit/processes.js';

describe('the fan-out batch example', () => {
  it('answers --help with its usage and exit 0, not a stack trace', () => {
    const r = spawnSync(process.execPath, [join(REPO_ROOT, 'dist/examples/fan-out/batch.js'), '--help'], {
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/^Usage: .*--attempts 3\] ITEM\.\.\./);
  });

  it('runs one task per item, retries failures up to the limit, and reports the result (test kit)', async () => {
    // Item "bad" always fails; item "flaky" fails on its first attempt only.
    const cluster = await TestCluster.start({ agents: 2, onLaunch: 'none' });
    const driver = cluster.driver({ framework: { name: 'fan-out' } });
    const result = runBatch(driver, { items: ['ok', 'flaky', 'bad'], command: 'work $ITEM', maxAttempts: 2 });
    const itemOf = (taskId: string) => {
      const t = cluster.agents.flatMap((a) => [...a.tasks.values()]).find((x) => x.task.task_id === taskId);
      return t?.task.command?.environment?.variables?.find((v) => v.name === 'ITEM')?.value;
    };
    let flakyFailed = false;
    await cluster.until(
      () => {
        for (const { taskId, agent } of cluster.running()) {
          const item = itemOf(taskId);
          if (item === 'ok') agent.finish(taskId);
          else if (item === 'bad') agent.fail(taskId);
          else if (item === 'flaky' && !flakyFailed) {
            flakyFailed = true;
            agent.fail(taskId);
          } else agent.finish(taskId);
        }
        return cluster.master.state.frameworks.size === 0 && cluster.master.state.completedFrameworks.length === 1;
      },
      { what: 'the batch to end' },
    );
    const r = await result;
    expect(r.succeeded.sort()).to.deep.equal(['flaky', 'ok']);
    expect(r.failed).to.have.length(1);
    expect(r.failed[0]).to.include({ item: 'bad', attempts: 2, state: 'TASK_FAILED' });
    expect(r.attempts).to.deep.equal({ ok: 1, flaky: 2, bad: 2 });
  });
});

describe('the fan-out batch example on a real master and agent @integration', function () {
  this.timeout(180_000);
  after(stopAll);

  it('retries the failing item on real agents and reports it failed, the others succeeded', async () => {
    const master = await startMasterProc();
    await startAgentProc(master.address, ['--resources', 'cpus:2;mem:512;disk:1000']);
    const script = join(REPO_ROOT, 'dist/examples/fan-out/batch.js');
    const args = [
      script,
      '--master',
      master.address,
      '--command',
      'test "$ITEM" -ne 3',
      '--attempts',
      '2',
      '1',
      '2',
      '3',
      '4',
    ];
    const p = new Proc('fan-out', spawn(process.execPath, args));
    const exited = await waitFor(
      () => `the batch to exit (output: ${p.text().slice(-500)})`,
      () => p.exited,
      120_000,
    );
    expect(exited.code, p.text()).to.equal(1);
    const line = p
      .text()
      .trim()
      .split('\n')
      .find((l) => l.startsWith('{"succeeded"'));
    const result = JSON.parse(line ?? '{}');
    expect(result.succeeded.sort()).to.deep.equal(['1', '2', '4']);
    expect(result.failed).to.deep.equal([
      { item: '3', attempts: 2, state: 'TASK_FAILED', message: result.failed[0].message },
    ]);
  });
});
