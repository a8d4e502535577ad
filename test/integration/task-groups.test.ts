/**
 * Task groups (LAUNCH_GROUP) on real agent processes: the tasks of a group share a directory
 * (evidence: a file one writes that the other reads, checked in the sandboxes on disk), one failing
 * kills the others (evidence from /proc: the process is gone), a restarted agent still knows its
 * groups; on linux the tasks share one network namespace (evidence: /proc/<pid>/ns/net inodes),
 * on docker the later containers join the first one's network (evidence: `docker inspect`).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { DockerContainerizer } from '../../agent/containerizer/docker.js';
import { LinuxContainerizer } from '../../agent/containerizer/linux.js';
import type { ExecutorInfo, Offer, Operation, TaskInfo } from '../../sdk/protocol/types.js';
import { Resources } from '../../sdk/resources/resources.js';
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
import { pidRunning } from '../support/proc-stat.js';
import { requireReal } from '../support/require-real.js';

const IMAGE = 'agora/busybox:latest';

function executor(id: string, extra: Partial<ExecutorInfo> = {}): ExecutorInfo {
  return { executor_id: id, type: 'DEFAULT', resources: Resources.parse('cpus:0.1;mem:32').toList(), ...extra };
}

function group(exec: ExecutorInfo, tasks: TaskInfo[], killOnFailure?: boolean): Operation {
  return {
    type: 'LAUNCH_GROUP',
    launch_group: {
      executor: exec,
      task_group: { tasks, ...(killOnFailure === undefined ? {} : { kill_group_on_task_failure: killOnFailure }) },
    },
  };
}

function sandboxOf(agent: AgentProc, frameworkId: string, taskId: string): string {
  return join(agent.workDir, 'sandboxes', encodeURIComponent(frameworkId), encodeURIComponent(taskId));
}

function readIfThere(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Host pids whose working directory is this sandbox (the task's processes), from /proc. */
function pidsIn(sandbox: string): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (readlinkSync(`/proc/${e}/cwd`) === sandbox) out.push(Number(e));
    } catch {
      // gone, or not ours to read
    }
  }
  return out;
}

function netnsInode(pid: number | 'self'): number {
  return statSync(`/proc/${pid}/ns/net`).ino;
}

describe('task groups on real agents @integration', function () {
  this.timeout(180_000);
  let master: MasterProc;
  const frameworks: TestFramework[] = [];

  before(async () => {
    master = await startMasterProc(['--allocation_interval', '100ms']);
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed') dumpProcessLogs();
    await Promise.all(frameworks.splice(0).map((f) => f.driver.teardown()));
  });

  after(async () => {
    await stopAll();
  });

  async function framework(name: string): Promise<TestFramework> {
    const f = await new TestFramework(master.address, name).start();
    frameworks.push(f);
    return f;
  }

  /** An offer of this agent (others may be registered too). */
  async function offerOn(f: TestFramework, agentId: string): Promise<Offer> {
    return waitFor(`an offer of agent ${agentId}`, () => {
      const i = f.offers.findIndex((o) => o.agent_id === agentId);
      return i >= 0 ? f.offers.splice(i, 1)[0] : undefined;
    });
  }

  describe('posix', () => {
    let agent: AgentProc;
    let agentId: string;

    before(async () => {
      agent = await startAgentProc(master.address, ['--containerizers', 'posix', '--resources', 'cpus:4;mem:2048']);
      agentId = (await getJson(`${agent.url}/state`)).id;
    });

    it('runs two tasks that share the group directory: one writes, the other reads', async () => {
      const f = await framework('share');
      const o = await offerOn(f, agentId);
      f.driver.accept(
        [o.id],
        [
          group(executor('share-e'), [
            commandTask(o, 'writer', 'echo written-by-writer > shared/note.txt; exec sleep 300'),
            commandTask(
              o,
              'reader',
              'while [ ! -s shared/note.txt ]; do sleep 0.1; done; cat shared/note.txt > seen.txt; exec sleep 300',
            ),
          ]),
        ],
      );
      await f.waitState('writer', 'TASK_RUNNING');
      await f.waitState('reader', 'TASK_RUNNING');
      const fw = f.driver.frameworkId as string;
      const seen = await waitFor('the reader to copy the note', () =>
        readIfThere(join(sandboxOf(agent, fw, 'reader'), 'seen.txt')),
      );
      expect(seen.trim()).to.equal('written-by-writer');
      // The sandboxes' `shared` entries are one directory on disk.
      const a = statSync(join(sandboxOf(agent, fw, 'writer'), 'shared'));
      const b = statSync(join(sandboxOf(agent, fw, 'reader'), 'shared'));
      expect([a.dev, a.ino]).to.deep.equal([b.dev, b.ino]);
      // A kill of one task kills the group.
      f.driver.kill('reader');
      await f.waitState('reader', 'TASK_KILLED');
      await f.waitState('writer', 'TASK_KILLED');
    });

    it('kills the other tasks when one fails (their processes are gone), and reports each task on its own', async () => {
      const f = await framework('fail');
      const o = await offerOn(f, agentId);
      f.driver.accept(
        [o.id],
        [
          group(executor('fail-e'), [
            commandTask(o, 'survivor', 'echo $$ > pid; exec sleep 300'),
            commandTask(o, 'doomed', 'while [ ! -f go ]; do sleep 0.1; done; exit 3'),
          ]),
        ],
      );
      const fw = f.driver.frameworkId as string;
      const pid = Number(
        (await waitFor('the survivor pid', () => readIfThere(join(sandboxOf(agent, fw, 'survivor'), 'pid')))).trim(),
      );
      await f.waitState('survivor', 'TASK_RUNNING');
      expect(pidRunning(pid)).to.equal(true);
      execFileSync('touch', [join(sandboxOf(agent, fw, 'doomed'), 'go')]);
      const failed = await f.waitState('doomed', 'TASK_FAILED');
      expect(failed.exit_status).to.equal(3);
      const killed = await f.waitState('survivor', 'TASK_KILLED');
      expect(killed.message).to.match(/task doomed of its task group failed/);
      await waitFor('the survivor process to be gone', () => !pidRunning(pid));
      expect(f.statesOf('survivor')).to.include('TASK_RUNNING');
    });

    it('starts none when one cannot start: the started task is killed, none reaches RUNNING', async () => {
      const f = await framework('none');
      const o = await offerOn(f, agentId);
      const bad = commandTask(o, 'bad', 'true');
      bad.command = { value: 'true', user: 'agora-no-such-user' };
      f.driver.accept(
        [o.id],
        [group(executor('none-e'), [commandTask(o, 'first', 'echo $$ > pid; exec sleep 300'), bad])],
      );
      const failed = await f.waitState('bad', 'TASK_FAILED');
      expect(failed.message).to.match(/agora-no-such-user/);
      const killed = await f.waitState('first', 'TASK_KILLED');
      expect(killed.message).to.match(/task bad of its task group failed/);
      expect(f.statesOf('first')).to.not.include('TASK_RUNNING');
      expect(f.statesOf('bad')).to.not.include('TASK_RUNNING');
      const fw = f.driver.frameworkId as string;
      const pid = Number(readIfThere(join(sandboxOf(agent, fw, 'first'), 'pid'))?.trim());
      if (pid > 0) await waitFor('the started task process to be gone', () => !pidRunning(pid));
    });

    it('lets the others run on when the group says kill_group_on_task_failure: false', async () => {
      const f = await framework('keep');
      const o = await offerOn(f, agentId);
      f.driver.accept(
        [o.id],
        [
          group(
            executor('keep-e'),
            [commandTask(o, 'stays', 'echo $$ > pid; exec sleep 300'), commandTask(o, 'fails', 'sleep 0.5; exit 1')],
            false,
          ),
        ],
      );
      const fw = f.driver.frameworkId as string;
      const pid = Number(
        (await waitFor('the pid', () => readIfThere(join(sandboxOf(agent, fw, 'stays'), 'pid')))).trim(),
      );
      await f.waitState('fails', 'TASK_FAILED');
      // Killed now by us: had the group killed it, the message would name the failed task.
      f.driver.kill('stays');
      const killed = await f.waitState('stays', 'TASK_KILLED');
      expect(killed.message ?? '').to.not.match(/of its task group failed/);
      await waitFor('the process to be gone', () => !pidRunning(pid));
    });

    it('keeps the group across an agent restart: a task failing afterwards still kills its sibling', async () => {
      const dir = agent.workDir;
      const f = await framework('restart');
      const o = await offerOn(f, agentId);
      f.driver.accept(
        [o.id],
        [
          group(executor('restart-e'), [
            commandTask(o, 'r-long', 'echo $$ > pid; exec sleep 300'),
            commandTask(o, 'r-short', 'echo $$ > pid; while [ ! -f go ]; do sleep 0.1; done; exit 7'),
          ]),
        ],
      );
      const fw = f.driver.frameworkId as string;
      await f.waitState('r-long', 'TASK_RUNNING');
      await f.waitState('r-short', 'TASK_RUNNING');
      const longPid = Number(
        (await waitFor('pid', () => readIfThere(join(sandboxOf(agent, fw, 'r-long'), 'pid')))).trim(),
      );
      await agent.proc.kill('SIGKILL');
      agent = await startAgentProc(
        master.address,
        ['--containerizers', 'posix', '--resources', 'cpus:4;mem:2048'],
        dir,
      );
      expect(pidRunning(longPid), 'the task outlived its agent').to.equal(true);
      execFileSync('touch', [join(sandboxOf(agent, fw, 'r-short'), 'go')]);
      await f.waitState('r-short', 'TASK_FAILED', 30_000);
      await f.waitState('r-long', 'TASK_KILLED', 30_000);
      await waitFor('the sibling process to be gone', () => !pidRunning(longPid));
    });
  });

  describe('linux', () => {
    let agent: AgentProc;
    let agentId: string;

    before(async function () {
      requireReal(this, 'Linux namespaces and cgroups', await new LinuxContainerizer().available());
      agent = await startAgentProc(master.address, ['--containerizers', 'linux', '--resources', 'cpus:4;mem:2048']);
      agentId = (await getJson(`${agent.url}/state`)).id;
    });

    it('puts the tasks of a group in one network namespace of their own', async () => {
      const f = await framework('netns');
      const o = await offerOn(f, agentId);
      const linux = (id: string, cmd: string): TaskInfo => ({
        ...commandTask(o, id, cmd, 'cpus:0.1;mem:64'),
        container: { type: 'MESOS', containerizer: 'linux' },
      });
      f.driver.accept(
        [o.id],
        [
          group(executor('netns-e', { container: { type: 'MESOS', network_isolation: true } }), [
            linux('ns-a', 'echo a > shared/a; exec sleep 300'),
            linux('ns-b', 'while [ ! -f shared/a ]; do sleep 0.1; done; cp shared/a got; exec sleep 300'),
          ]),
        ],
      );
      await f.waitState('ns-a', 'TASK_RUNNING', 60_000);
      await f.waitState('ns-b', 'TASK_RUNNING', 60_000);
      const fw = f.driver.frameworkId as string;
      await waitFor('b to read a’s file', () => readIfThere(join(sandboxOf(agent, fw, 'ns-b'), 'got')));
      const a = await waitFor('processes of ns-a', () => {
        const p = pidsIn(sandboxOf(agent, fw, 'ns-a'));
        return p.length > 0 ? p : undefined;
      });
      const b = await waitFor('processes of ns-b', () => {
        const p = pidsIn(sandboxOf(agent, fw, 'ns-b'));
        return p.length > 0 ? p : undefined;
      });
      const inodes = new Set([...a, ...b].map((p) => netnsInode(p)));
      expect(inodes.size, 'one network namespace for both tasks').to.equal(1);
      expect([...inodes][0], 'not the host network').to.not.equal(netnsInode('self'));
      f.driver.kill('ns-a');
      await f.waitState('ns-b', 'TASK_KILLED', 30_000);
    });
  });

  describe('docker', () => {
    let agent: AgentProc;
    let agentId: string;

    before(async function () {
      requireReal(this, 'Docker', await new DockerContainerizer().available());
      const hasImage = spawnSync('docker', ['image', 'inspect', IMAGE]).status === 0;
      if (!hasImage) execFileSync('bash', [join(REPO_ROOT, 'scripts/docker.sh'), 'image'], { stdio: 'inherit' });
      agent = await startAgentProc(master.address, ['--containerizers', 'docker', '--resources', 'cpus:4;mem:2048']);
      agentId = (await getJson(`${agent.url}/state`)).id;
    });

    after(() => {
      spawnSync('sh', [
        '-c',
        `docker ps -aq --filter label=agora.agent_id=${agentId ?? 'none'} | xargs -r docker rm -f`,
      ]);
    });

    it('joins the later containers to the first one’s network and mounts the shared directory in each', async () => {
      const f = await framework('pod');
      const o = await offerOn(f, agentId);
      const docker = (id: string, cmd: string, network: 'BRIDGE' | 'HOST' = 'BRIDGE'): TaskInfo => ({
        ...commandTask(o, id, cmd, 'cpus:0.1;mem:64'),
        container: { type: 'DOCKER', docker: { image: IMAGE, network } },
      });
      f.driver.accept(
        [o.id],
        [
          group(executor('pod-e', { container: { type: 'DOCKER', docker: { image: IMAGE, network: 'BRIDGE' } } }), [
            docker('pod-a', 'echo from-a > $MESOS_SANDBOX/shared/a; exec sleep 300'),
            docker(
              'pod-b',
              'while [ ! -f $MESOS_SANDBOX/shared/a ]; do sleep 0.1; done; cp $MESOS_SANDBOX/shared/a $MESOS_SANDBOX/got; exec sleep 300',
            ),
          ]),
        ],
      );
      await f.waitState('pod-a', 'TASK_RUNNING', 60_000);
      await f.waitState('pod-b', 'TASK_RUNNING', 60_000);
      const fw = f.driver.frameworkId as string;
      const got = await waitFor('b to read a’s file', () => readIfThere(join(sandboxOf(agent, fw, 'pod-b'), 'got')));
      expect(got.trim()).to.equal('from-a');
      const inspect = (name: string) =>
        JSON.parse(execFileSync('docker', ['inspect', name], { encoding: 'utf8' }))[0] as {
          Id: string;
          HostConfig: { NetworkMode: string };
        };
      const a = inspect('agora-pod-a');
      const b = inspect('agora-pod-b');
      expect(a.HostConfig.NetworkMode).to.equal('bridge');
      expect([`container:agora-pod-a`, `container:${a.Id}`]).to.include(b.HostConfig.NetworkMode);
      f.driver.kill('pod-b');
      await f.waitState('pod-a', 'TASK_KILLED', 60_000);
      await f.waitState('pod-b', 'TASK_KILLED', 60_000);
    });
  });
});
