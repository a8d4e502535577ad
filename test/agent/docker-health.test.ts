/**
 * COMMAND health checks of Docker tasks run inside the container (`docker exec`, through the
 * Containerizer interface), not on the host: the check tests a file that exists only in the
 * container's own filesystem. The test makes the task healthy, then (from outside, with the docker
 * CLI) unhealthy, and reads both in the framework's status updates.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { containerName, DockerContainerizer } from '../../agent/containerizer/docker/index.js';
import type { TaskInfo } from '../../sdk/protocol/types.js';
import {
  type AgentProc,
  dumpProcessLogs,
  getJson,
  type MasterProc,
  REPO_ROOT,
  startAgentProc,
  startMasterProc,
  stopAll,
  waitFor,
} from '../support/cluster.js';
import { commandTask, TestFramework } from '../support/framework.js';
import { requireReal } from '../support/require-real.js';

const IMAGE = 'agora/busybox:latest';

describe('docker-exec health checks through a real agent @integration', function () {
  this.timeout(120_000);
  let master: MasterProc;
  let agent: AgentProc;
  let agentId = 'none';
  let f: TestFramework | undefined;

  before(async function () {
    requireReal(this, 'Docker', await new DockerContainerizer().available());
    const hasImage = spawnSync('docker', ['image', 'inspect', IMAGE]).status === 0;
    if (!hasImage) execFileSync('bash', [join(REPO_ROOT, 'scripts/docker.sh'), 'image'], { stdio: 'inherit' });
    master = await startMasterProc(['--allocation_interval', '100ms']);
    agent = await startAgentProc(master.address, [
      '--containerizers',
      'docker,posix',
      '--resources',
      'cpus:2;mem:1024',
    ]);
    agentId = (await getJson(`${agent.url}/state`)).id;
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') dumpProcessLogs();
  });

  after(async () => {
    await f?.driver.teardown().catch(() => undefined);
    await stopAll();
    spawnSync('sh', ['-c', `docker ps -aq --filter label=agora.agent_id=${agentId} | xargs -r docker rm -f`]);
  });

  it('runs the check inside the container: healthy, then unhealthy, in RUNNING updates', async () => {
    const flag = `/agora-health-flag-${process.pid}`;
    // The file exists only in the container: a check run on the host could never pass.
    expect(existsSync(flag), `${flag} on the host`).to.equal(false);
    f = await new TestFramework(master.address, 'docker-health').start();
    const [o] = await f.takeOffers();
    const id = `docker-health-${process.pid}`;
    const task: TaskInfo = {
      ...commandTask(o, id, `touch ${flag} && exec sleep 300`, 'cpus:0.1;mem:64'),
      container: { type: 'DOCKER', docker: { image: IMAGE, network: 'NONE' } },
      health_check: {
        type: 'COMMAND',
        command: { value: `test -f ${flag}` },
        delay_seconds: 0,
        interval_seconds: 0.3,
        timeout_seconds: 30, // a `docker exec` takes seconds on a loaded machine: not a timeout there
        grace_period_seconds: 0,
        consecutive_failures: 0, // report only, never kill
      },
    };
    f.driver.launch(o, [task]);
    const ours = () => f?.updates.filter((u) => u.task_id === id) ?? [];
    const seen = () => JSON.stringify(ours().map((u) => [u.state, u.healthy, u.message]));
    const healthy = await waitFor(
      'a healthy update',
      () => ours().find((u) => u.state === 'TASK_RUNNING' && u.healthy === true),
      60_000,
    ).catch((e: Error) => {
      throw new Error(`${e.message}; updates seen: ${seen()}`);
    });
    expect(healthy.reason).to.equal('REASON_TASK_HEALTH_CHECK_STATUS_UPDATED');

    // From outside the system under test: remove the file inside the container. Only updates from
    // then on count: with no grace period, a check run before the task's `touch` may have reported
    // an unhealthy update already, before the healthy one.
    const mark = ours().length;
    execFileSync('docker', ['exec', containerName(id), 'rm', flag]);
    const unhealthy = await waitFor(
      'an unhealthy update after the file was removed in the container',
      () =>
        ours()
          .slice(mark)
          .find((u) => u.state === 'TASK_RUNNING' && u.healthy === false),
      60_000,
    ).catch((e: Error) => {
      throw new Error(`${e.message}; updates seen: ${seen()}`);
    });
    expect(unhealthy.message).to.match(new RegExp(`test -f ${flag}' exited with status 1`));
    expect(
      ours().map((u) => u.state),
      'still running: consecutive_failures 0 never kills',
    ).to.not.include('TASK_KILLED');
  });
});
