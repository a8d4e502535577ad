import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import type Docker from 'dockerode';
import { containerName, DockerContainerizer, listAgoraContainers } from '../../../agent/containerizer/docker/index.js';
import {
  type ContainerExit,
  ContainerLaunchError,
  type LaunchSpec,
  type RecoveredGone,
  type RunningContainer,
} from '../../../agent/containerizer/types.js';
import type { TaskInfo } from '../../../sdk/protocol/types.js';
import type { Resource } from '../../../sdk/resources/resources.js';
import { freePort } from '../../../testkit/processes.js';
import { requireReal } from '../../support/require-real.js';

const IMAGE = 'agora/busybox:latest';
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
const AGENT = `agent-test-${process.pid}`;

function scalar(name: string, value: number): Resource {
  return { name, type: 'SCALAR', scalar: { value } };
}

function ports(begin: number, end = begin): Resource {
  return { name: 'ports', type: 'RANGES', ranges: { range: [{ begin, end }] } };
}

let seq = 0;
function dockerTask(command: string | undefined, extra: Partial<TaskInfo> = {}, image = IMAGE): TaskInfo {
  const id = `docker-test-${process.pid}-${seq++}`;
  return {
    name: id,
    task_id: id,
    agent_id: AGENT,
    resources: [scalar('cpus', 0.5), scalar('mem', 64)],
    command: command === undefined ? undefined : { value: command },
    container: { type: 'DOCKER', docker: { image, network: 'NONE' } },
    ...extra,
  };
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, tries = 600): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`gave up waiting for ${what}`);
}

function httpGet(port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', timeout: 2000 }, (res) => {
      let body = '';
      res.on('data', (c) => {
        body += c;
      });
      res.on('end', () => resolve(res.statusCode === 200 ? body : undefined));
    });
    req.on('error', () => resolve(undefined));
    req.on('timeout', () => req.destroy());
  });
}

describe('DockerContainerizer (real Docker engine) @integration', function () {
  this.timeout(120_000);
  let dz: DockerContainerizer;
  let docker: Docker;
  let root: string;
  const live: RunningContainer[] = [];

  before(async function () {
    dz = new DockerContainerizer({ pollIntervalMs: 100 });
    requireReal(this, 'Docker', await dz.available());
    docker = dz.docker;
    const present = await docker
      .getImage(IMAGE)
      .inspect()
      .then(() => true)
      .catch(() => false);
    if (!present) execFileSync('bash', [path.join(REPO, 'scripts/docker.sh'), 'image'], { stdio: 'inherit' });
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'agora-docker-test-'));
  });

  after(async () => {
    for (const c of live) await c.kill(0).catch(() => undefined);
    if (docker) {
      for (const c of await listAgoraContainers(docker, AGENT)) {
        await docker
          .getContainer(c.id)
          .remove({ force: true })
          .catch(() => undefined);
      }
    }
    if (root) await fs.rm(root, { recursive: true, force: true });
  });

  async function launch(task: TaskInfo, env: Record<string, string> = {}, z = dz) {
    const sandbox = path.join(root, task.task_id);
    await fs.mkdir(sandbox, { recursive: true });
    const spec: LaunchSpec = { frameworkId: 'fw-1', task, sandbox, env, agentId: AGENT };
    const c = await z.launch(spec);
    live.push(c);
    return { c, spec, sandbox };
  }

  const read = (sandbox: string, f: string) => fs.readFile(path.join(sandbox, f), 'utf8');

  it('copies stdout and stderr into the sandbox and reports exit 0', async () => {
    const { c, sandbox } = await launch(dockerTask('echo hello; echo oops >&2'));
    const exit = await c.wait();
    expect(exit).to.include({ exitCode: 0, killed: false });
    expect(await read(sandbox, 'stdout')).to.equal('hello\n');
    expect(await read(sandbox, 'stderr')).to.equal('oops\n');
  });

  it('propagates the exit code and removes the container', async () => {
    const { c } = await launch(dockerTask('exit 3'));
    const exit = await c.wait();
    expect(exit.exitCode).to.equal(3);
    expect(exit.killed).to.equal(false);
    const left = await docker
      .getContainer(c.handle.id)
      .inspect()
      .catch(() => undefined);
    expect(left).to.equal(undefined);
  });

  it('runs the image entrypoint with arguments when shell is false', async () => {
    const task = dockerTask(undefined);
    task.command = { shell: false, value: 'echo', arguments: ['one', 'two'] };
    const { c, sandbox } = await launch(task);
    expect((await c.wait()).exitCode).to.equal(0);
    expect(await read(sandbox, 'stdout')).to.equal('one two\n');
  });

  it('sets env, MESOS_SANDBOX and labels that find the container again', async () => {
    const task = dockerTask('echo "$GREETING $MESOS_SANDBOX $(pwd)" > $MESOS_SANDBOX/env.txt; exec sleep 1000', {
      labels: { labels: [{ key: 'owner', value: 'tests' }] },
    });
    const { c, sandbox } = await launch(task, { GREETING: 'hi' });
    // Its whole line: the shell's `>` creates the file empty before `echo` writes it.
    const whole = async () => {
      const t = await read(sandbox, 'env.txt');
      return t.endsWith('\n') ? t : undefined;
    };
    expect(await until('env.txt written', whole)).to.equal('hi /mnt/mesos/sandbox /mnt/mesos/sandbox\n');
    const info = await docker.getContainer(c.handle.id).inspect();
    expect(info.Config.Labels).to.include({
      owner: 'tests',
      'agora.task_id': task.task_id,
      'agora.framework_id': 'fw-1',
      'agora.agent_id': AGENT,
    });
    const listed = await listAgoraContainers(docker, AGENT);
    expect(listed.find((x) => x.taskId === task.task_id)).to.include({
      name: c.handle.id,
      state: 'running',
      frameworkId: 'fw-1',
    });
    await c.kill(0);
    expect((await c.wait()).killed).to.equal(true);
  });

  it('publishes a BRIDGE port mapping on a host port from the task resources', async () => {
    const hostPort = await freePort();
    const task = dockerTask('exec httpd -f -p 80 -h /var/www', {
      resources: [scalar('cpus', 0.2), scalar('mem', 32), ports(hostPort)],
    });
    task.container!.docker = {
      image: IMAGE,
      network: 'BRIDGE',
      port_mappings: [{ host_port: 0, container_port: 80 }],
    };
    const { c } = await launch(task);
    const body = await until('httpd', () => httpGet(hostPort));
    expect(body).to.equal('agora\n');
    await c.kill(0);
    await c.wait();
  });

  it('reports REASON_CONTAINER_LIMITATION_MEMORY when the kernel OOM-kills the container', async () => {
    const task = dockerTask('head -c 300m /dev/zero | tail', {
      resources: [scalar('cpus', 0.5), scalar('mem', 32)],
    });
    const { c } = await launch(task);
    const exit = await c.wait();
    expect(exit.reason).to.equal('REASON_CONTAINER_LIMITATION_MEMORY');
    expect(exit.message).to.match(/32 MB/);
  });

  it('replaces a stopped leftover container of the same name, and refuses to touch a running one', async () => {
    const task = dockerTask('echo fresh');
    const name = containerName(task.task_id);
    const stale = await docker.createContainer({ name, Image: IMAGE, Cmd: ['true'] });
    const { c, sandbox } = await launch(task);
    expect((await c.wait()).exitCode).to.equal(0);
    expect(await read(sandbox, 'stdout')).to.equal('fresh\n');
    const gone = await stale.inspect().catch((e: { statusCode?: number }) => e.statusCode);
    expect(gone).to.equal(404);

    const busy = dockerTask('true');
    const running = await docker.createContainer({
      name: containerName(busy.task_id),
      Image: IMAGE,
      Cmd: ['sleep', '30'],
      Labels: { 'agora.agent_id': AGENT },
    });
    await running.start();
    try {
      const err = await launch(busy).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(ContainerLaunchError);
      expect((err as Error).message).to.match(/already running/);
      expect((await running.inspect()).State.Running).to.equal(true);
    } finally {
      await running.remove({ force: true });
    }
  });

  it('refuses an image that is not present and cannot be pulled, naming it', async () => {
    const task = dockerTask('true', {}, 'agora/no-such-image:1');
    let err: unknown;
    try {
      await launch(task);
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(ContainerLaunchError);
    expect((err as ContainerLaunchError).reason).to.equal('REASON_CONTAINER_LAUNCH_FAILED');
    expect((err as Error).message).to.match(
      /image 'agora\/no-such-image:1' is not present on this agent and could not be pulled: .+/,
    );
  });

  it('kill sends SIGTERM first and the task can end within its grace', async () => {
    const { c, sandbox } = await launch(
      dockerTask("trap 'echo got TERM; exit 0' TERM; echo ready; while true; do sleep 0.1; done"),
    );
    await until('ready', async () => ((await read(sandbox, 'stdout')).includes('ready') ? true : undefined));
    await c.kill(30_000);
    const exit = await c.wait();
    expect(exit).to.include({ killed: true, exitCode: 0 });
    expect(await read(sandbox, 'stdout')).to.include('got TERM');
  });

  it('kill escalates to SIGKILL after the grace when SIGTERM is ignored', async () => {
    const { c, sandbox } = await launch(dockerTask("trap '' TERM; echo ready; while true; do sleep 0.1; done"));
    await until('ready', async () => ((await read(sandbox, 'stdout')).includes('ready') ? true : undefined));
    await c.kill(1000);
    const exit = await c.wait();
    expect(exit).to.include({ killed: true, exitCode: 137, signal: 'SIGKILL' });
  });

  it('recovers a running container with a new containerizer, without copying output twice', async () => {
    const task = dockerTask(
      'echo before; while [ ! -f go ]; do sleep 0.1; done; echo after; while true; do sleep 0.1; done',
    );
    const first = new DockerContainerizer({ pollIntervalMs: 100 });
    const { c, spec, sandbox } = await launch(task, {}, first);
    await until('before', async () => ((await read(sandbox, 'stdout')).includes('before') ? true : undefined));
    first.detach(); // the agent "dies"

    const second = new DockerContainerizer({ pollIntervalMs: 100 });
    const handle = JSON.parse(JSON.stringify(c.handle));
    const got = await second.recover(handle, spec);
    expect('gone' in got).to.equal(false);
    const rc = got as RunningContainer;
    live.push(rc);
    await fs.writeFile(path.join(sandbox, 'go'), '');
    await until('after', async () => ((await read(sandbox, 'stdout')).includes('after') ? true : undefined));
    const usage = await second.usage(rc.handle);
    expect(usage?.mem_limit_bytes).to.equal(64 * 1024 * 1024);
    expect(usage?.cpus_user_time_secs).to.be.a('number');
    await rc.kill(0);
    const exit = await rc.wait();
    expect(exit.killed).to.equal(true);
    expect(await read(sandbox, 'stdout')).to.equal('before\nafter\n');
  });

  it('reports a container that exited while the agent was down, with its exit code', async () => {
    const task = dockerTask('echo started; while [ ! -f go ]; do sleep 0.1; done; echo finished; exit 7');
    const first = new DockerContainerizer({ pollIntervalMs: 100 });
    const { c, spec, sandbox } = await launch(task, {}, first);
    await until('started', async () => ((await read(sandbox, 'stdout')).includes('started') ? true : undefined));
    first.detach();
    await fs.writeFile(path.join(sandbox, 'go'), '');
    await until('exit', async () =>
      (await docker.getContainer(c.handle.id).inspect()).State.Running ? undefined : true,
    );

    const second = new DockerContainerizer();
    const got = await second.recover(JSON.parse(JSON.stringify(c.handle)), spec);
    expect(got).to.have.property('gone', true);
    const exit: ContainerExit = (got as RecoveredGone).exit;
    expect(exit).to.include({ exitCode: 7, killed: false });
    expect(await read(sandbox, 'stdout')).to.equal('started\nfinished\n');
    const left = await docker
      .getContainer(c.handle.id)
      .inspect()
      .catch(() => undefined);
    expect(left).to.equal(undefined);
  });

  it('reports a checkpointed container that no longer exists as gone', async () => {
    const task = dockerTask('true');
    const sandbox = path.join(root, task.task_id);
    await fs.mkdir(sandbox, { recursive: true });
    const got = await dz.recover(
      { containerizer: 'docker', id: containerName(task.task_id) },
      { frameworkId: 'fw-1', task, sandbox, env: {}, agentId: AGENT },
    );
    expect(got).to.have.property('gone', true);
    expect((got as RecoveredGone).exit.reason).to.equal('REASON_EXECUTOR_TERMINATED');
  });
});
