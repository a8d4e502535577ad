/**
 * Tasks run as their user (issue 10): an agent running as root, with --switch_user on (the
 * default), runs a task as its `command.user`, else its framework's `user`, through the posix,
 * linux and docker containerizers, and its COMMAND health checks too. Evidence comes from outside:
 * the Uid/Gid/Groups lines of the task's process in /proc, the owners of the files it wrote as
 * the kernel records them, `docker inspect` and `docker exec`. An unknown user fails the task with
 * a reason, and nothing of it runs; --switch_user=false runs the task as root.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { pino } from 'pino';
import { Agent } from '../../agent/agent.js';
import { containerName, DockerContainerizer } from '../../agent/containerizer/docker/index.js';
import { LinuxContainerizer } from '../../agent/containerizer/linux.js';
import { PosixContainerizer } from '../../agent/containerizer/posix.js';
import { killGroup } from '../../agent/containerizer/proc.js';
import type { Containerizer } from '../../agent/containerizer/types.js';
import { FetchError, fetchUris } from '../../agent/fetcher.js';
import { chownTree } from '../../agent/launcher/chown.js';
import { Launcher, pidsWithCwd } from '../../agent/launcher/client.js';
import { taskKey } from '../../agent/task-key.js';
import { lookupUser } from '../../agent/users.js';
import { agentCommand, defaultsOf, runAgent } from '../../cli/daemons.js';
import type { AgentMessage } from '../../sdk/protocol/messages.js';
import type { FrameworkInfo, TaskInfo, TaskStatus } from '../../sdk/protocol/types.js';
import { Resources } from '../../sdk/resources/resources.js';
import { requireReal } from '../support/require-real.js';

const NOBODY = lookupUser(readFileSync('/etc/passwd', 'utf8'), readFileSync('/etc/group', 'utf8'), 'nobody');
const IMAGE = 'agora/busybox:latest';

/** The Uid, Gid (real, effective, saved, fs) and Groups lines of a process, from /proc. */
function procIds(pid: number): { uid: number[]; gid: number[]; groups: number[] } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const line = (key: string) =>
    (status.match(new RegExp(`^${key}:[ \\t]*(.*)$`, 'm'))?.[1] ?? '').trim().split(/\s+/).filter(Boolean).map(Number);
  return { uid: line('Uid'), gid: line('Gid'), groups: line('Groups') };
}

/**
 * The pid once it runs `sleep`: setpriv sets the user's groups, gid and uid, then execs the command
 * in the same pid, so ids read before the exec are root's (seen on a loaded CI machine).
 */
async function execed(pid: number): Promise<number> {
  await until(`pid ${pid} to exec sleep`, () => readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'sleep');
  return pid;
}

/** The children of a process (for linux: the task under unshare). */
function childrenOf(pid: number): number[] {
  return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
}

/**
 * A linux task's own process: the top process itself when the spawn helper cloned it straight into
 * its namespaces, the child of util-linux `unshare` without the helper.
 */
function linuxTaskOf(top: number): number | undefined {
  return readFileSync(`/proc/${top}/comm`, 'utf8').trim() === 'unshare' ? childrenOf(top)[0] : top;
}

async function until<T>(what: string, probe: () => T | undefined, ms = 30_000): Promise<T> {
  for (const end = Date.now() + ms; Date.now() < end; ) {
    let v: T | undefined;
    try {
      v = probe();
    } catch {
      v = undefined;
    }
    if (v !== undefined && v !== false) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`gave up waiting for ${what}`);
}

/** A host user with supplementary groups (from /etc/group member lists), if there is one. */
function userWithGroups(): { name: string; groups: number[] } | undefined {
  const passwd = readFileSync('/etc/passwd', 'utf8');
  const group = readFileSync('/etc/group', 'utf8');
  for (const line of group.split('\n')) {
    for (const member of (line.split(':')[3] ?? '').split(',').filter(Boolean)) {
      const u = lookupUser(passwd, group, member);
      if (u && u.uid !== 0 && u.groups.length > 0) return u;
    }
  }
  return undefined;
}

describe('tasks run as their user (--switch_user) @integration', function () {
  this.timeout(120_000);
  let parent: string;
  let launcher: Launcher;
  let sent: TaskStatus[];
  let agents: Agent[];

  before(function () {
    requireReal(this, 'root (tasks switch user only when the agent is root)', {
      ok: process.getuid?.() === 0,
      reason: 'these tests run as a non-root user; run them as root',
    });
    requireReal(this, "a 'nobody' user in /etc/passwd", { ok: NOBODY !== undefined, reason: 'no nobody user' });
  });

  beforeEach(() => {
    // Tasks that are not root must be able to reach their sandbox under the work dir.
    parent = mkdtempSync(join(tmpdir(), 'agora-switch-user-'));
    chmodSync(parent, 0o755);
    launcher = new Launcher({ pollIntervalMs: 50 });
    sent = [];
    agents = [];
  });

  afterEach(async () => {
    for (const a of agents) {
      for (const t of a.tasks.values()) {
        if (t.container?.handle.pid) killGroup(t.container.handle.pid, 'SIGKILL');
        await t.container?.kill(0).catch(() => undefined);
      }
      await a.stop().catch(() => undefined);
    }
    launcher.close();
    rmSync(parent, { recursive: true, force: true, maxRetries: 5 });
  });

  function startAgent(containerizers: Containerizer[], opts: { switchUser?: boolean } = {}): Agent {
    const agent = new Agent({
      masterUrl: () => undefined,
      workDir: join(parent, 'work'),
      port: 0,
      resources: Resources.empty(),
      attributes: {},
      containerizers,
      logger: pino({ level: 'silent' }),
      ...opts,
    });
    capture(agent);
    return agent;
  }

  /** Records the agent's status updates and acknowledges each, as the master would pass on the framework's ack. */
  function capture(agent: Agent): void {
    agents.push(agent);
    const internals = agent as unknown as { sendToMaster(m: AgentMessage): boolean; onMessage(m: unknown): void };
    internals.sendToMaster = (m) => {
      if (m.type !== 'STATUS_UPDATE') return true;
      const { framework_id, status } = m.update;
      sent.push(status);
      if (status.uuid) {
        const ack = { type: 'ACK_UPDATE', framework_id, task_id: status.task_id, uuid: status.uuid };
        setImmediate(() => internals.onMessage(ack));
      }
      return true;
    };
  }

  function run(agent: Agent, framework: Partial<FrameworkInfo>, task: Partial<TaskInfo> & { task_id: string }): void {
    (agent as unknown as { onMessage(m: unknown): void }).onMessage({
      type: 'RUN_TASK',
      framework: { id: 'fw', name: 'switch-user', ...framework },
      task: { name: task.task_id, agent_id: 'a1', resources: [], ...task },
    });
  }

  const stateOf = (id: string, state: string) => sent.find((s) => s.task_id === id && s.state === state);
  /** The task's top pid once it runs; throws at once when it failed instead. */
  const running = async (agent: Agent, id: string): Promise<number> => {
    const r = await until(`${id} running or failed`, () => {
      const failed = stateOf(id, 'TASK_FAILED');
      if (failed) return { failed };
      const pid = agent.tasks.get(taskKey('fw', id))?.container?.handle.pid;
      return stateOf(id, 'TASK_RUNNING') && pid ? { pid } : undefined;
    });
    if ('failed' in r && r.failed) throw new Error(`${id} failed: ${r.failed.message}`);
    return r.pid;
  };
  const sandboxOf = (id: string) => join(parent, 'work', 'sandboxes', 'fw', id);

  /** Writes who it is into its sandbox, then stays (so that /proc can be read). */
  const WRITE_AND_WAIT = 'echo "$USER $LOGNAME" > who && touch "$MESOS_SANDBOX/made-by-task" && exec sleep 300';

  it('posix: command.user nobody (over the framework user root) — the process, its files and its sandbox are nobody’s', async () => {
    const agent = startAgent([new PosixContainerizer({ launcher })]);
    run(agent, { user: 'root' }, { task_id: 'posix-nobody', command: { value: WRITE_AND_WAIT, user: 'nobody' } });
    const pid = await running(agent, 'posix-nobody');
    const sandbox = sandboxOf('posix-nobody');
    await until('the task wrote in its sandbox', () => existsSync(join(sandbox, 'made-by-task')));
    const ids = procIds(pid);
    expect(ids.uid, 'Uid line').to.deep.equal([65534, 65534, 65534, 65534]);
    expect(ids.gid, 'Gid line').to.deep.equal([NOBODY?.gid, NOBODY?.gid, NOBODY?.gid, NOBODY?.gid]);
    expect(ids.groups, 'no supplementary groups left from root').to.deep.equal([]);
    expect(statSync(join(sandbox, 'made-by-task')).uid, 'owner of the file the task made').to.equal(65534);
    expect(readFileSync(join(sandbox, 'who'), 'utf8').trim()).to.equal('nobody nobody');
    for (const f of ['.', 'stdout', 'stderr']) expect(statSync(join(sandbox, f)).uid, f).to.equal(65534);
    expect(statSync(sandbox).mode & 0o777, 'sandbox closed to other users').to.equal(0o750);
  });

  it("posix: the framework's user when the command names none", async () => {
    const agent = startAgent([new PosixContainerizer({ launcher })]);
    run(agent, { user: 'nobody' }, { task_id: 'posix-fw-user', command: { value: 'exec sleep 300' } });
    // Read once it runs `sleep`: before setpriv has switched and exec'd, the pid is still root's.
    const pid = await execed(await running(agent, 'posix-fw-user'));
    expect(procIds(pid).uid).to.deep.equal([65534, 65534, 65534, 65534]);
  });

  it('posix and linux: a user with supplementary groups gets them (through setpriv)', async function () {
    const user = userWithGroups();
    requireReal(this, 'a host user with supplementary groups', {
      ok: user !== undefined,
      reason: 'no host user with supplementary groups in /etc/group',
    });
    if (!user) return;
    const linux = new LinuxContainerizer({ launcher });
    const linuxOk = (await linux.available()).ok;
    const agent = startAgent(
      linuxOk ? [new PosixContainerizer({ launcher }), linux] : [new PosixContainerizer({ launcher })],
    );
    run(agent, {}, { task_id: 'posix-groups', command: { value: 'exec sleep 300', user: user?.name } });
    const pid = await execed(await running(agent, 'posix-groups'));
    expect(procIds(pid).groups, 'posix Groups line').to.include.members(user?.groups ?? []);
    if (!linuxOk) return;
    run(
      agent,
      {},
      {
        task_id: 'linux-groups',
        command: { value: 'exec sleep 300', user: user?.name },
        container: { type: 'MESOS', containerizer: 'linux' },
      },
    );
    const top = await running(agent, 'linux-groups');
    const task = await execed(await until('the task process', () => linuxTaskOf(top)));
    expect(procIds(task).groups, 'linux Groups line').to.include.members(user?.groups ?? []);
  });

  it('linux: command.user nobody — the task under unshare is nobody, and writes in its sandbox', async function () {
    const linux = new LinuxContainerizer({ launcher });
    requireReal(this, 'Linux namespaces and cgroups (root, util-linux unshare)', await linux.available());
    const agent = startAgent([linux]);
    run(
      agent,
      {},
      {
        task_id: 'linux-nobody',
        command: { value: WRITE_AND_WAIT, user: 'nobody' },
        container: { type: 'MESOS', containerizer: 'linux', hostname: 'as-nobody' },
      },
    );
    const top = await running(agent, 'linux-nobody');
    const sandbox = sandboxOf('linux-nobody');
    await until('the task wrote in its sandbox', () => existsSync(join(sandbox, 'made-by-task')));
    // The task's own process is nobody (without the helper: the one under unshare, which stays root).
    const task = await execed(await until('the task process', () => linuxTaskOf(top)));
    expect(procIds(task).uid, 'Uid line').to.deep.equal([65534, 65534, 65534, 65534]);
    expect(procIds(task).gid, 'Gid line').to.deep.equal([NOBODY?.gid, NOBODY?.gid, NOBODY?.gid, NOBODY?.gid]);
    expect(procIds(task).groups).to.deep.equal([]);
    expect(statSync(join(sandbox, 'made-by-task')).uid).to.equal(65534);
    expect(readFileSync(join(sandbox, 'who'), 'utf8').trim()).to.equal('nobody nobody');
  });

  it("the launcher (root) does not follow a link the task's user put in place of its exit-status file", async () => {
    const victim = join(parent, 'victim');
    writeFileSync(victim, 'original\n');
    const agent = startAgent([new PosixContainerizer({ launcher })]);
    run(
      agent,
      {},
      {
        task_id: 'status-link',
        command: { value: `ln -sf ${victim} .agora-exit-status && exit 3`, user: 'nobody' },
      },
    );
    const failed = await until('TASK_FAILED', () => stateOf('status-link', 'TASK_FAILED'));
    expect(failed.exit_status, 'the exit code still reaches the agent').to.equal(3);
    expect(lstatSync(join(sandboxOf('status-link'), '.agora-exit-status')).isSymbolicLink()).to.equal(true);
    expect(readFileSync(victim, 'utf8'), 'the file the link points at').to.equal('original\n');
  });

  it('a link in place of stdout (as a fetched archive could leave) fails the launch; the linked file is never handed to the task', async () => {
    const victim = join(parent, 'victim');
    writeFileSync(victim, 'original\n');
    const sandbox = join(parent, 'linked-stdout');
    mkdirSync(sandbox);
    symlinkSync(victim, join(sandbox, 'stdout'));
    const posix = new PosixContainerizer({ launcher });
    const launched = posix.launch({
      frameworkId: 'fw',
      agentId: 'a1',
      sandbox,
      env: { PATH: '/usr/bin:/bin' },
      user: NOBODY,
      task: { name: 't', task_id: 'linked-stdout', agent_id: 'a1', resources: [], command: { value: 'echo owned' } },
    });
    await launched.then(
      () => expect.fail('the launch should fail'),
      (e: Error) => expect(e.message).to.match(/linked-stdout\/stdout/),
    );
    expect(readFileSync(victim, 'utf8')).to.equal('original\n');
    expect(statSync(victim).uid, 'the linked file keeps its owner').to.equal(0);
  });

  describe('the fetcher, for a task with a user', () => {
    it("reads local files as the user: a root-only file is refused (the agent's own tasks still get it)", async () => {
      const secret = join(parent, 'secret');
      writeFileSync(secret, 'root only\n', { mode: 0o600 });
      const asNobody = join(parent, 'fetch-nobody');
      mkdirSync(asNobody);
      const err = await fetchUris([{ value: secret }], asNobody, { user: NOBODY }).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(err, 'a FetchError').to.be.instanceOf(FetchError);
      expect(err?.message).to.match(/user 'nobody' cannot read .*secret: .*Permission denied/);
      expect(readdirSync(asNobody), 'nothing of it in the sandbox').to.deep.equal([]);
      const asAgent = join(parent, 'fetch-agent');
      mkdirSync(asAgent);
      await fetchUris([{ value: secret }], asAgent);
      expect(readFileSync(join(asAgent, 'secret'), 'utf8')).to.equal('root only\n');
    });

    it('extracts archives as the user, and never writes through a link an archive left', async () => {
      const content = join(parent, 'content');
      const outside = join(parent, 'outside');
      mkdirSync(join(content, 'app'), { recursive: true });
      mkdirSync(outside);
      writeFileSync(join(content, 'app', 'hello.txt'), 'hello\n');
      symlinkSync(outside, join(content, 'sub'));
      const archive = join(parent, 'app.tar');
      execFileSync('tar', ['-C', content, '-cf', archive, 'app', 'sub']);
      const sandbox = join(parent, 'fetch-archive');
      mkdirSync(sandbox);
      const err = await fetchUris(
        [{ value: archive }, { value: archive, output_file: 'sub/evil.tar', extract: false }],
        sandbox,
        { user: NOBODY },
      ).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(statSync(join(sandbox, 'app', 'hello.txt')).uid, 'extracted by the user').to.equal(65534);
      expect(err?.message).to.match(/sub\/evil\.tar' would land outside the sandbox \(through a link\)/);
      expect(readdirSync(outside), 'nothing written through the link').to.deep.equal([]);
    });
  });

  it("handing the sandbox over follows no link: a link's target keeps its owner", async () => {
    const victim = join(parent, 'victim-owner');
    writeFileSync(victim, 'root owned\n');
    const sandbox = join(parent, 'chown-links');
    mkdirSync(join(sandbox, 'nested'), { recursive: true });
    symlinkSync(victim, join(sandbox, 'nested', 'link'));
    symlinkSync(parent, join(sandbox, 'dirlink'));
    chownTree({ path: sandbox, uid: 65534, gid: 65534, mode: 0o750 });
    expect(statSync(victim).uid, 'the file a link points at').to.equal(0);
    expect(statSync(parent).uid, 'the directory a link points at').to.equal(0);
    expect(lstatSync(join(sandbox, 'nested', 'link')).uid, 'the link itself').to.equal(65534);
    expect(statSync(join(sandbox, 'nested')).uid).to.equal(65534);
  });

  it('an unknown user fails the task with a reason naming the user; nothing of it runs', async () => {
    const agent = startAgent([new PosixContainerizer({ launcher })]);
    run(
      agent,
      { user: 'root' },
      {
        task_id: 'no-such-user',
        command: { value: 'touch ran; exec sleep 300', user: 'agora-no-such-user' },
      },
    );
    const failed = await until('TASK_FAILED', () => stateOf('no-such-user', 'TASK_FAILED'));
    expect(failed.reason).to.equal('REASON_CONTAINER_LAUNCH_FAILED');
    expect(failed.message).to.match(/user 'agora-no-such-user' does not exist on this agent/);
    expect(sent.filter((s) => s.task_id === 'no-such-user').map((s) => s.state)).to.deep.equal([
      'TASK_STARTING',
      'TASK_FAILED',
    ]);
    const sandbox = sandboxOf('no-such-user');
    expect(existsSync(join(sandbox, 'ran')), 'the command never ran').to.equal(false);
    expect(pidsWithCwd(sandbox), 'no process in the sandbox').to.deep.equal([]);
  });

  it('--switch_user=false (the agent flag): the task runs as the agent (root) whatever it asks', async () => {
    const ra = await runAgent({
      ...defaultsOf(agentCommand),
      master: '127.0.0.1:1',
      port: '0',
      ip: '127.0.0.1',
      work_dir: join(parent, 'work'),
      resources: 'cpus:1;mem:128',
      switch_user: 'false',
      log_level: 'silent',
    });
    try {
      capture(ra.agent);
      run(ra.agent, { user: 'nobody' }, { task_id: 'no-switch', command: { value: 'exec sleep 300', user: 'nobody' } });
      // Read once it runs `sleep`: read before any exec, root's ids would pass even if it had switched.
      const pid = await execed(await running(ra.agent, 'no-switch'));
      expect(procIds(pid).uid).to.deep.equal([0, 0, 0, 0]);
      expect(statSync(sandboxOf('no-switch')).uid).to.equal(0);
    } finally {
      await ra.close(true);
      agents = agents.filter((a) => a !== ra.agent);
    }
  });

  it('a COMMAND health check of a posix task runs as the task’s user', async () => {
    const agent = startAgent([new PosixContainerizer({ launcher })]);
    run(
      agent,
      {},
      {
        task_id: 'health-nobody',
        command: { value: 'exec sleep 300', user: 'nobody' },
        health_check: {
          type: 'COMMAND',
          command: { value: 'id -u > hc-uid' },
          delay_seconds: 0,
          interval_seconds: 0.2,
          grace_period_seconds: 0,
          consecutive_failures: 0,
        },
      },
    );
    await running(agent, 'health-nobody');
    const file = join(sandboxOf('health-nobody'), 'hc-uid');
    await until('the check wrote its file', () => existsSync(file) && readFileSync(file, 'utf8').trim() !== '');
    expect(statSync(file).uid, 'owner of the file the check made').to.equal(65534);
    expect(readFileSync(file, 'utf8').trim()).to.equal('65534');
    await until('a healthy update', () => sent.find((s) => s.task_id === 'health-nobody' && s.healthy === true));
  });

  describe('docker', () => {
    let docker: DockerContainerizer;
    before(async function () {
      docker = new DockerContainerizer();
      requireReal(this, 'Docker', await docker.available());
      if (spawnSync('docker', ['image', 'inspect', IMAGE]).status !== 0) {
        requireReal(this, `the image ${IMAGE}`, { ok: false, reason: 'run scripts/docker.sh image' });
      }
    });
    after(() => {
      for (const id of ['docker-nobody', 'docker-host-only-user']) {
        spawnSync('sh', ['-c', `docker rm -f ${containerName(id)} >/dev/null 2>&1`]);
      }
    });

    it("the container's User is the task's user: docker inspect and docker exec say nobody", async () => {
      const agent = startAgent([docker]);
      run(
        agent,
        { user: 'root' },
        {
          task_id: 'docker-nobody',
          command: { value: 'touch /mnt/mesos/sandbox/made-by-task && exec sleep 300', user: 'nobody' },
          container: { type: 'DOCKER', docker: { image: IMAGE, network: 'NONE' } },
        },
      );
      await until('docker task running', () => stateOf('docker-nobody', 'TASK_RUNNING'), 60_000);
      const name = containerName('docker-nobody');
      expect(execFileSync('docker', ['inspect', '-f', '{{.Config.User}}', name]).toString().trim()).to.equal('nobody');
      expect(execFileSync('docker', ['exec', name, 'id', '-u']).toString().trim()).to.equal('65534');
      const file = join(sandboxOf('docker-nobody'), 'made-by-task');
      await until('the task wrote in its sandbox', () => existsSync(file));
      expect(statSync(file).uid, 'owner on the host of the file the container made').to.equal(65534);
      for (const f of ['stdout', 'stderr'])
        expect(statSync(join(sandboxOf('docker-nobody'), f)).uid, f).to.equal(65534);
    });

    it('a user the host has but the image lacks fails the task, naming the user', async function () {
      const user = userWithGroups();
      const inImage =
        user && spawnSync('docker', ['run', '--rm', IMAGE, 'grep', `^${user.name}:`, '/etc/passwd']).status === 0;
      requireReal(this, 'a host user that the test image lacks', {
        ok: user !== undefined && !inImage,
        reason: 'no host user that the image lacks',
      });
      if (!user) return;
      const agent = startAgent([docker]);
      run(
        agent,
        {},
        {
          task_id: 'docker-host-only-user',
          command: { value: 'exec sleep 300', user: user?.name },
          container: { type: 'DOCKER', docker: { image: IMAGE, network: 'NONE' } },
        },
      );
      const failed = await until('TASK_FAILED', () => stateOf('docker-host-only-user', 'TASK_FAILED'), 60_000);
      expect(failed.reason).to.equal('REASON_CONTAINER_LAUNCH_FAILED');
      expect(failed.message).to.include(user?.name);
      const ps = spawnSync('docker', ['ps', '-q', '--filter', `name=${containerName('docker-host-only-user')}`]);
      expect(ps.stdout.toString().trim(), 'no container left running').to.equal('');
    });
  });
});
