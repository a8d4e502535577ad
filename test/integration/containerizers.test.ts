/**
 * Containerizers through a real agent process: Docker (real engine), linux (real namespaces and
 * cgroups), posix; health checks, the fetcher, and `kill -9` of an agent with 10 running tasks of
 * each kind.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { DockerContainerizer } from '../../agent/containerizer/docker.js';
import { LinuxContainerizer } from '../../agent/containerizer/linux.js';
import type { Offer, TaskInfo } from '../../sdk/protocol/types.js';
import { Resources } from '../../sdk/resources/resources.js';
import {
  AGORA_BIN,
  type AgentProc,
  agora,
  dumpProcessLogs,
  freePortRun,
  getJson,
  type MasterProc,
  REPO_ROOT,
  sleep,
  startAgentProc,
  startMasterProc,
  stopAll,
  tempDir,
  waitFor,
} from '../support/cluster.js';
import { commandTask, TestFramework } from '../support/framework.js';
import { pidRunning } from '../support/proc-stat.js';
import { requireReal } from '../support/require-real.js';

const IMAGE = 'agora/busybox:latest';

function dockerTask(offer: Offer, id: string, command: string, extra: Partial<TaskInfo> = {}): TaskInfo {
  return {
    ...commandTask(offer, id, command, 'cpus:0.1;mem:64'),
    container: { type: 'DOCKER', docker: { image: IMAGE, network: 'HOST' } },
    ...extra,
  };
}

function linuxTask(offer: Offer, id: string, command: string, resources = 'cpus:0.1;mem:64'): TaskInfo {
  return { ...commandTask(offer, id, command, resources), container: { type: 'MESOS', containerizer: 'linux' } };
}

function posixTask(offer: Offer, id: string, command: string): TaskInfo {
  return { ...commandTask(offer, id, command), container: { type: 'MESOS', containerizer: 'posix' } };
}

/** The labels the agent puts on its containers (docs/containerizers.md). */
const LABEL_AGENT_ID = 'agora.agent_id';
const LABEL_TASK_ID = 'agora.task_id';

/** Task id → container id of the running containers of one agent, by `docker ps` (not the agent). */
function runningContainers(agentId: string): Map<string, string> {
  const out = execFileSync(
    'docker',
    [
      'ps',
      '--no-trunc',
      '--filter',
      `label=${LABEL_AGENT_ID}=${agentId}`,
      '--format',
      `{{.Label "${LABEL_TASK_ID}"}} {{.ID}}`,
    ],
    { encoding: 'utf8' },
  );
  const map = new Map<string, string>();
  for (const line of out.trim().split('\n').filter(Boolean)) {
    const [task, id] = line.split(' ');
    map.set(task, id);
  }
  return map;
}

describe('containerizers through a real agent @integration', function () {
  this.timeout(180_000);
  let master: MasterProc;
  let agent: AgentProc;
  let agentId: string | undefined;
  // The agent's task ports: a run of free ones, not a fixed range that another test file running
  // beside this one may have handed to a daemon of its own.
  let taskPorts = '';
  let hostPort = 0;
  const frameworks: TestFramework[] = [];

  before(async function () {
    requireReal(this, 'Docker', await new DockerContainerizer().available());
    requireReal(this, 'Linux namespaces and cgroups', await new LinuxContainerizer().available());
    const hasImage = spawnSync('docker', ['image', 'inspect', IMAGE]).status === 0;
    if (!hasImage) execFileSync('bash', [join(REPO_ROOT, 'scripts/docker.sh'), 'image'], { stdio: 'inherit' });
    master = await startMasterProc(['--allocation_interval', '100ms']);
    const base = await freePortRun(101);
    taskPorts = `ports:[${base}-${base + 100}]`;
    hostPort = base + 10;
    agent = await startAgentProc(master.address, [
      '--containerizers',
      'docker,linux,posix',
      '--resources',
      `cpus:8;mem:8192;${taskPorts}`,
    ]);
    agentId = (await getJson(`${agent.url}/state`)).id;
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed') dumpProcessLogs();
    await Promise.all(frameworks.splice(0).map((f) => f.driver.teardown()));
  });

  after(async () => {
    await stopAll();
    // Only this test's containers: other agents on the host may have their own.
    const id = agentId ?? 'none';
    spawnSync('sh', ['-c', `docker ps -aq --filter label=agora.agent_id=${id} | xargs -r docker rm -f`]);
  });

  async function framework(name: string): Promise<TestFramework> {
    const f = await new TestFramework(master.address, name).start();
    frameworks.push(f);
    return f;
  }

  function runExecute(args: string[]): { code: number | null; out: string } {
    const r = spawnSync(process.execPath, [AGORA_BIN, 'execute', '--master', master.address, ...args], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      timeout: 60_000,
    });
    return { code: r.status, out: `${r.stdout}${r.stderr}` };
  }

  it('agora execute --containerizer docker --docker_image runs in the image and exits 0', () => {
    const r = runExecute([
      '--name',
      'dock',
      '--containerizer',
      'docker',
      '--docker_image',
      IMAGE,
      '--command',
      'cat /etc/hostname; test -x /bin/busybox',
    ]);
    expect(r.out).to.match(/TASK_FINISHED/);
    expect(r.code, r.out).to.equal(0);
  });

  it('agora execute --containerizer linux runs the task in its own pid namespace', async () => {
    const r = runExecute([
      '--name',
      'ns',
      '--containerizer',
      'linux',
      '--command',
      'echo pid=$$ > pid.txt; ls /proc | grep -c "^[0-9]" > nprocs.txt',
    ]);
    expect(r.code, r.out).to.equal(0);
    const sandboxes = execFileSync('sh', ['-c', `cat ${agent.workDir}/sandboxes/*/ns-*/nprocs.txt`], {
      encoding: 'utf8',
    });
    // Only the task's own few processes are visible, not the host's hundreds.
    expect(Number(sandboxes.trim().split('\n').pop())).to.be.below(10);
  });

  it('fails a linux task that goes over its memory with the memory-limit reason', async () => {
    const f = await framework('hog');
    const [o] = await f.takeOffers();
    // 32 MB limit; the shell builds a ~100 MB string in memory.
    f.driver.launch(o, [
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell expansion, not a template
      linuxTask(o, 'hog', 'x=$(head -c 100000000 /dev/zero | tr "\\0" a); echo ${#x}', 'cpus:0.1;mem:32'),
    ]);
    const st = await f.waitState('hog', 'TASK_FAILED', 60_000);
    expect(st.reason).to.equal('REASON_CONTAINER_LIMITATION_MEMORY');
    expect(st.message).to.match(/memory/i);
  });

  it('serves a Docker task with a BRIDGE port mapping on its host port', async () => {
    const f = await framework('web');
    const [o] = await f.takeOffers();
    const task: TaskInfo = {
      ...dockerTask(o, 'web', 'mkdir -p /www && echo hello-bridge > /www/index.html && httpd -f -p 80 -h /www'),
      resources: Resources.parse(`cpus:0.1;mem:64;ports:[${hostPort}-${hostPort}]`).toList(),
      container: {
        type: 'DOCKER',
        docker: { image: IMAGE, network: 'BRIDGE', port_mappings: [{ host_port: hostPort, container_port: 80 }] },
      },
    };
    f.driver.launch(o, [task]);
    await f.waitState('web', 'TASK_RUNNING', 60_000);
    const body = await waitFor('the container to answer on its host port', async () => {
      const r = await fetch(`http://127.0.0.1:${hostPort}/`);
      return r.ok ? r.text() : undefined;
    });
    expect(body.trim()).to.equal('hello-bridge');
    f.driver.kill('web');
    await f.waitState('web', 'TASK_KILLED', 60_000);
  });

  it('fails a Docker task whose image is not on the agent, naming the image', async () => {
    const f = await framework('noimage');
    const [o] = await f.takeOffers();
    f.driver.launch(o, [
      { ...dockerTask(o, 'missing', 'true'), container: { type: 'DOCKER', docker: { image: 'agora/not-here:1.0' } } },
    ]);
    const st = await f.waitState('missing', 'TASK_FAILED', 90_000);
    expect(st.message).to.match(/agora\/not-here:1\.0/);
  });

  it('reports health in RUNNING updates and kills a task whose check fails past the limit', async () => {
    const f = await framework('health');
    const [o] = await f.takeOffers();
    const fast = { delay_seconds: 0, interval_seconds: 0.2, timeout_seconds: 2, grace_period_seconds: 0 };
    // The healthy task's checks may start before its shell has run `touch ok` (on a loaded machine,
    // more than 3 checks of 0.2 s before): a grace period until its first success, and room for a
    // check slowed by the load, so that only the sick task can be killed.
    const tolerant = { ...fast, timeout_seconds: 20, grace_period_seconds: 120 };
    f.driver.launch(o, [
      {
        ...posixTask(o, 'healthy', 'touch ok; sleep 300'),
        health_check: { type: 'COMMAND', command: { value: 'test -f ok' }, ...tolerant, consecutive_failures: 3 },
      },
      {
        ...posixTask(o, 'sick', 'sleep 300'),
        health_check: { type: 'COMMAND', command: { value: 'exit 1' }, ...fast, consecutive_failures: 2 },
      },
    ]);
    await waitFor('a healthy update', () => f.updates.find((u) => u.task_id === 'healthy' && u.healthy === true));
    const killed = await f.waitState('sick', 'TASK_KILLED', 30_000);
    expect(killed.healthy).to.equal(false);
    expect(killed.message).to.match(/consecutive failed health checks/);
    expect(f.statesOf('healthy')).to.not.include('TASK_KILLED');
  });

  it('runs COMMAND health checks of a Docker task inside its container (docker exec), and kills it when they fail', async () => {
    const f = await framework('docker-health');
    const [o] = await f.takeOffers();
    const fast = { delay_seconds: 0, interval_seconds: 0.5, timeout_seconds: 5, grace_period_seconds: 0 };
    // The healthy container's checks may start before it has run `touch` and a `docker exec` takes
    // seconds on a loaded machine: a grace period until the first success and a longer timeout, so
    // that only the sick task can be killed.
    const tolerant = { ...fast, timeout_seconds: 30, grace_period_seconds: 120 };
    // The file exists only inside the container: a check run on the host would fail.
    const marker = `/tmp/agora-health-${process.pid}`;
    f.driver.launch(o, [
      {
        ...dockerTask(o, 'd-healthy', `touch ${marker}; sleep 300`),
        health_check: {
          type: 'COMMAND',
          command: { value: `test -f ${marker}` },
          ...tolerant,
          consecutive_failures: 3,
        },
      },
      {
        ...dockerTask(o, 'd-sick', 'sleep 300'),
        health_check: { type: 'COMMAND', command: { value: 'exit 1' }, ...fast, consecutive_failures: 2 },
      },
    ]);
    await waitFor(
      'a healthy update from inside the container',
      () => f.updates.find((u) => u.task_id === 'd-healthy' && u.healthy === true),
      60_000,
    );
    expect(spawnSync('test', ['-f', marker]).status, 'the marker is not on the host').to.not.equal(0);
    const killed = await f.waitState('d-sick', 'TASK_KILLED', 60_000);
    expect(killed.healthy).to.equal(false);
    await waitFor('the sick container stopped', () => !runningContainers(agentId as string).has('d-sick'), 30_000);
    expect(runningContainers(agentId as string).has('d-healthy'), 'the healthy container runs').to.equal(true);
    f.driver.kill('d-healthy');
    await f.waitState('d-healthy', 'TASK_KILLED', 30_000);
  });

  it('fetches URIs into the sandbox (extracting archives) and fails the task when a fetch fails', async () => {
    const dir = tempDir('fetch');
    writeFileSync(join(dir, 'data.txt'), 'fetched-content\n');
    execFileSync('tar', ['-czf', join(dir, 'bundle.tar.gz'), '-C', dir, 'data.txt']);
    const f = await framework('fetch');
    const [o] = await f.takeOffers();
    const good = posixTask(o, 'fetched', 'cat data.txt');
    good.command = { value: 'cat data.txt', uris: [{ value: `file://${join(dir, 'bundle.tar.gz')}`, extract: true }] };
    const bad = posixTask(o, 'unfetched', 'true');
    bad.command = { value: 'true', uris: [{ value: `file://${join(dir, 'nope.tar.gz')}` }] };
    f.driver.launch(o, [good, bad]);
    await f.waitState('fetched', 'TASK_FINISHED');
    const st = await f.waitState('unfetched', 'TASK_FAILED');
    expect(st.reason).to.equal('REASON_FETCHER_FAILED');
    expect(st.message).to.match(/nope\.tar\.gz/);
  });

  it('kill -9 of an agent with 10 running tasks of each kind, then restart: all 30 still RUNNING and reported so', async () => {
    const f = await framework('survivors');
    const ids: string[] = [];
    const want: TaskInfo[] = [];
    const [o] = await f.takeOffers();
    for (let i = 0; i < 10; i++) {
      want.push(
        dockerTask(o, `d${i}`, 'sleep 600'),
        linuxTask(o, `l${i}`, 'sleep 600'),
        posixTask(o, `p${i}`, 'sleep 600'),
      );
    }
    ids.push(...want.map((t) => t.task_id));
    f.driver.launch(o, want);
    await waitFor('30 tasks RUNNING', () => ids.every((id) => f.statesOf(id).includes('TASK_RUNNING')), 120_000);
    const before = await getJson(`${agent.url}/state`);
    const pidsBefore = new Map<string, number>();
    for (const t of before.frameworks.flatMap(
      (x: { executors: { tasks: { id: string; container?: { pid?: number } }[] }[] }) =>
        x.executors.flatMap((e) => e.tasks),
    )) {
      if (t.container?.pid) pidsBefore.set(t.id, t.container.pid);
    }
    // Evidence from outside the agent: the host pids of the linux and posix tasks, alive in /proc,
    // and the Docker tasks' containers, running by `docker ps`.
    const hostTasks = ids.filter((id) => !id.startsWith('d'));
    for (const id of hostTasks) {
      expect(pidsBefore.get(id), `${id} has a pid`).to.be.a('number');
      expect(pidRunning(pidsBefore.get(id) as number), `${id} runs`).to.equal(true);
    }
    const containersBefore = runningContainers(agentId as string);
    expect([...containersBefore.keys()].sort(), 'one running container per Docker task').to.deep.equal(
      ids.filter((id) => id.startsWith('d')).sort(),
    );
    await agent.proc.kill('SIGKILL');
    await sleep(500);
    const mark = f.updates.length;
    const again = agora('agent-restarted', [
      'agent',
      '--master',
      master.address,
      '--port',
      String(agent.port),
      '--work_dir',
      agent.workDir,
      '--containerizers',
      'docker,linux,posix',
      '--resources',
      `cpus:8;mem:8192;${taskPorts}`,
    ]);
    await waitFor(
      'the restarted agent to re-register',
      async () => (await getJson(`${agent.url}/state`)).registered,
      60_000,
    );
    const after = await getJson(`${agent.url}/state`);
    const running = after.frameworks
      .flatMap((x: { executors: { tasks: { id: string; state: string; container?: { pid?: number } }[] }[] }) =>
        x.executors.flatMap((e) => e.tasks),
      )
      .filter((t: { id: string }) => ids.includes(t.id));
    expect(running.map((t: { state: string }) => t.state)).to.deep.equal(Array(30).fill('TASK_RUNNING'));
    for (const t of running) if (pidsBefore.has(t.id)) expect(t.container?.pid, t.id).to.equal(pidsBefore.get(t.id));
    // The same processes and containers, not new ones: none was killed or relaunched.
    for (const id of hostTasks)
      expect(pidRunning(pidsBefore.get(id) as number), `${id}'s process after the restart`).to.equal(true);
    expect(runningContainers(agentId as string), 'the same containers, still running').to.deep.equal(containersBefore);
    const state = await getJson(`${master.url}/master/state`);
    const fw = state.frameworks.find((x: { id: string }) => x.id === f.driver.frameworkId);
    expect(fw.tasks.filter((t: { state: string }) => t.state === 'TASK_RUNNING')).to.have.length(30);
    // Usage of every recovered task, from cgroups, docker stats or /proc.
    const stats = await getJson(`${agent.url}/monitor/statistics`);
    const mine = stats.filter((s: { executor_id: string }) => ids.includes(s.executor_id));
    expect(mine).to.have.length(30);
    for (const s of mine)
      expect(s.statistics?.mem_rss_bytes ?? s.statistics?.cpus_user_time_secs, s.executor_id).to.be.a('number');
    await sleep(1000);
    const terminal = f.updates.slice(mark).filter((u) => ids.includes(u.task_id) && u.state !== 'TASK_RUNNING');
    expect(terminal, 'no task ended across the agent restart').to.deep.equal([]);
    // And they can all be killed through the master afterwards.
    for (const id of ids) f.driver.kill(id);
    await waitFor('all 30 killed', () => ids.every((id) => f.statesOf(id).includes('TASK_KILLED')), 120_000);
    await waitFor('their processes gone', () => hostTasks.every((id) => !pidRunning(pidsBefore.get(id) as number)));
    await waitFor('their containers stopped', () => runningContainers(agentId as string).size === 0);
    agent = { ...agent, proc: again };
  });
});
