/**
 * RUN_TASK_GROUP on an Agent with a scripted containerizer (no real processes): all or none, the
 * group spec each task is launched with (shared directory, network), the failure and kill policy,
 * and refusals. The real containerizers are exercised in test/integration/task-groups.test.ts.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { pino } from 'pino';
import { Agent } from '../../agent/agent.js';
import type { ContainerExit, Containerizer, LaunchSpec, RunningContainer } from '../../agent/containerizer/types.js';
import type { AgentMessage } from '../../sdk/protocol/messages.js';
import type { ExecutorInfo, FrameworkInfo, TaskInfo, TaskStatus } from '../../sdk/protocol/types.js';
import { Resources } from '../../sdk/resources/resources.js';
import { VirtualClock } from '../../sdk/util/clock.js';

interface Scripted {
  spec: LaunchSpec;
  exit: (e: Partial<ContainerExit>) => void;
  killed: boolean;
}

function scriptedContainerizer(name: string, failOn: Set<string>, out: Scripted[]): Containerizer {
  let pid = 1000;
  return {
    name,
    available: async () => ({ ok: true }),
    canLaunch: (t) => (t.container?.type === 'DOCKER') === (name === 'docker'),
    launch: async (spec) => {
      if (failOn.has(spec.task.task_id)) throw new Error(`cannot start ${spec.task.task_id}`);
      let resolve!: (e: ContainerExit) => void;
      const done = new Promise<ContainerExit>((r) => {
        resolve = r;
      });
      const s: Scripted = {
        spec,
        killed: false,
        exit: (e) => resolve({ exitCode: null, signal: null, killed: false, ...e }),
      };
      out.push(s);
      const handle = { containerizer: name, id: `c-${spec.task.task_id}`, pid: ++pid };
      return {
        handle,
        wait: () => done,
        kill: async () => {
          s.killed = true;
          s.exit({ killed: true, signal: 'SIGTERM' });
        },
      } satisfies RunningContainer;
    },
    recover: async () => ({ gone: true, exit: { exitCode: 0, signal: null, killed: false } }),
    usage: async () => undefined,
    hostPort: (task, port) => task.container?.docker?.port_mappings?.find((m) => m.container_port === port)?.host_port,
  };
}

describe('agent RUN_TASK_GROUP (scripted containerizer)', () => {
  let dir: string;
  let agent: Agent;
  let sent: AgentMessage[];
  let launched: Scripted[];
  let failOn: Set<string>;
  const framework = { id: 'fw', name: 'f' } as FrameworkInfo & { id: string };
  const task = (id: string, extra: Partial<TaskInfo> = {}): TaskInfo => ({
    name: id,
    task_id: id,
    agent_id: 'a1',
    resources: [],
    command: { value: 'true' },
    ...extra,
  });
  const executor = (extra: Partial<ExecutorInfo> = {}): ExecutorInfo => ({
    executor_id: 'e1',
    type: 'DEFAULT',
    resources: [],
    ...extra,
  });
  const send = (m: unknown) => (agent as unknown as { onMessage(m: unknown): void }).onMessage(m);
  const runGroup = (tasks: TaskInfo[], exec = executor(), kill?: boolean) =>
    send({
      type: 'RUN_TASK_GROUP',
      framework,
      executor: exec,
      task_group: { tasks, ...(kill === undefined ? {} : { kill_group_on_task_failure: kill }) },
    });
  /** Waits (polling) until `cond` holds: the agent's work is asynchronous (files, launches). */
  async function until(what: string, cond: () => boolean): Promise<void> {
    for (let i = 0; i < 2_000; i++) {
      if (cond()) return;
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new Error(`timed out waiting for ${what}`);
  }
  const last = (id: string) => statesOf(id).at(-1);
  const settled = (...ids: string[]) =>
    until(`${ids.join(', ')} to settle`, () =>
      ids.every((id) =>
        ['TASK_RUNNING', 'TASK_ERROR', 'TASK_FAILED', 'TASK_KILLED', 'TASK_FINISHED'].includes(last(id) ?? ''),
      ),
    );
  /** Every status the agent queued (the stream sends one at a time until acknowledged) or sent unqueued. */
  let recorded: TaskStatus[];
  const statuses = (): TaskStatus[] => [
    ...recorded,
    ...sent.flatMap((m) => (m.type === 'STATUS_UPDATE' && !m.update.status.uuid ? [m.update.status] : [])),
  ];

  const statesOf = (id: string) =>
    statuses()
      .filter((s) => s.task_id === id)
      .map((s) => s.state);

  let clock: VirtualClock;
  function start(names: string[]) {
    clock = new VirtualClock(1_000_000);
    dir = mkdtempSync(join(tmpdir(), 'agora-group-agent-'));
    sent = [];
    launched = [];
    failOn = new Set();
    agent = new Agent({
      masterUrl: () => undefined,
      workDir: dir,
      port: 0,
      resources: Resources.empty(),
      attributes: {},
      containerizers: names.map((n) => scriptedContainerizer(n, failOn, launched)),
      logger: pino({ level: 'silent' }),
      clock,
    });
    (agent as unknown as { sendToMaster(m: AgentMessage): boolean }).sendToMaster = (m) => {
      sent.push(m);
      return true;
    };
    recorded = [];
    const queue = agent.updates.update.bind(agent.updates);
    agent.updates.update = (frameworkId: string, status: TaskStatus) => {
      recorded.push(status);
      return queue(frameworkId, status);
    };
  }

  afterEach(async () => {
    // Closes the checkpoint journal: left open, Node closed it on GC with a warning.
    await agent?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts every task with the group spec, then reports RUNNING for each', async () => {
    start(['posix']);
    runGroup([task('a'), task('b')]);
    await settled('a', 'b');
    expect(launched.map((l) => l.spec.task.task_id)).to.deep.equal(['a', 'b']);
    const shared = join(dir, 'sandboxes', 'fw', '@executors', 'e1', 'shared');
    for (const l of launched) expect(l.spec.group).to.deep.include({ executorId: 'e1', sharedDir: shared });
    expect(l0NetnsPath()).to.equal(undefined);
    expect(existsSync(join(dir, 'sandboxes', 'fw', 'a', 'shared'))).to.equal(true);
    expect(statesOf('a')).to.deep.equal(['TASK_STARTING', 'TASK_RUNNING']);
    expect(statesOf('b')).to.deep.equal(['TASK_STARTING', 'TASK_RUNNING']);
    expect(launched[1].spec.env.MESOS_EXECUTOR_ID).to.equal('e1');
  });

  function l0NetnsPath() {
    return launched[1]?.spec.group?.netnsPath;
  }

  it('linux with network isolation: the first task gets a new namespace, the others enter it', async () => {
    start(['linux']);
    runGroup([task('a'), task('b'), task('c')], executor({ container: { type: 'MESOS', network_isolation: true } }));
    await settled('a', 'b', 'c');
    expect(launched[0].spec.group?.newNetns).to.equal(true);
    expect(launched[1].spec.group?.netnsPath).to.equal('/proc/1001/ns/net');
    expect(launched[2].spec.group?.netnsPath).to.equal('/proc/1001/ns/net');
  });

  it('docker: the later containers join the first one', async () => {
    start(['docker']);
    const d = (id: string) => task(id, { container: { type: 'DOCKER', docker: { image: 'i' } } });
    runGroup([d('a'), d('b')]);
    await settled('a', 'b');
    expect(launched[0].spec.group?.joinContainer).to.equal(undefined);
    expect(launched[1].spec.group?.joinContainer).to.equal('c-a');
  });

  it('all or none: when the second cannot start, the first is killed and no task reaches RUNNING', async () => {
    start(['posix']);
    failOn.add('b');
    runGroup([task('a'), task('b'), task('c')]);
    await settled('a', 'b', 'c');
    expect(launched.map((l) => [l.spec.task.task_id, l.killed])).to.deep.equal([['a', true]]);
    expect(statesOf('a')).to.deep.equal(['TASK_STARTING', 'TASK_KILLED']);
    expect(statesOf('b')).to.deep.equal(['TASK_STARTING', 'TASK_FAILED']);
    expect(statesOf('c')).to.deep.equal(['TASK_STARTING', 'TASK_KILLED']);
    expect(statuses().find((s) => s.task_id === 'c' && s.state === 'TASK_KILLED')?.message).to.match(
      /task b of its task group failed to launch/,
    );
  });

  it('docker: an HTTP health check of a later task goes through the first task’s port mapping', async () => {
    const server = createServer((_req, res) => res.end('ok'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const hostPort = (server.address() as AddressInfo).port;
    try {
      start(['docker']);
      const image = { type: 'DOCKER' as const, docker: { image: 'i', network: 'BRIDGE' as const } };
      runGroup([
        task('a', {
          container: {
            ...image,
            docker: { ...image.docker, port_mappings: [{ host_port: hostPort, container_port: 80 }] },
          },
        }),
        task('b', {
          container: image,
          health_check: {
            type: 'HTTP',
            http: { port: 80, path: '/' },
            delay_seconds: 0,
            interval_seconds: 1,
            grace_period_seconds: 0,
          },
        }),
      ]);
      await settled('a', 'b');
      await until('b to be reported healthy', () => {
        clock.advance(1_000);
        return recorded.some((u) => u.task_id === 'b' && u.healthy === true);
      });
    } finally {
      server.close();
    }
  });

  it('a failed task kills its siblings; a finished one does not', async () => {
    start(['posix']);
    runGroup([task('a'), task('b'), task('c')]);
    await settled('a', 'b', 'c');
    launched[2].exit({ exitCode: 0 });
    await until('c to finish', () => last('c') === 'TASK_FINISHED');
    expect(launched.map((l) => l.killed)).to.deep.equal([false, false, false]);
    launched[1].exit({ exitCode: 2 });
    await until('a to be killed', () => last('a') === 'TASK_KILLED');
    expect(statesOf('b').at(-1)).to.equal('TASK_FAILED');
    expect(statesOf('c').at(-1)).to.equal('TASK_FINISHED');
    expect(launched[0].killed).to.equal(true);
    expect(statuses().find((s) => s.task_id === 'a' && s.state === 'TASK_KILLED')?.message).to.match(
      /task b of its task group failed/,
    );
  });

  it('kill_group_on_task_failure false: the siblings run on', async () => {
    start(['posix']);
    runGroup([task('a'), task('b')], executor(), false);
    await settled('a', 'b');
    launched[1].exit({ exitCode: 2 });
    await until('b to fail', () => last('b') === 'TASK_FAILED');
    expect(launched[0].killed).to.equal(false);
    expect(statesOf('a')).to.deep.equal(['TASK_STARTING', 'TASK_RUNNING']);
  });

  it('a KILL of one task kills the whole group', async () => {
    start(['posix']);
    runGroup([task('a'), task('b')]);
    await settled('a', 'b');
    send({ type: 'KILL_TASK', framework_id: 'fw', task_id: 'b' });
    await until('both killed', () => last('a') === 'TASK_KILLED' && last('b') === 'TASK_KILLED');
    expect(launched.map((l) => l.killed)).to.deep.equal([true, true]);
    expect(statesOf('a').at(-1)).to.equal('TASK_KILLED');
    expect(statesOf('b').at(-1)).to.equal('TASK_KILLED');
  });

  it('refuses every task (TASK_ERROR) when one has a health check that cannot run, launching none', async () => {
    start(['posix']);
    runGroup([task('a'), task('b', { health_check: { type: 'HTTP' } })]);
    await settled('a', 'b');
    expect(launched).to.deep.equal([]);
    expect(statuses().map((s) => [s.task_id, s.state])).to.deep.equal([
      ['a', 'TASK_ERROR'],
      ['b', 'TASK_ERROR'],
    ]);
    expect(agent.tasks.size).to.equal(0);
  });

  it('fails every task when they would need two containerizers', async () => {
    start(['posix', 'docker']);
    runGroup([task('a'), task('b', { container: { type: 'DOCKER', docker: { image: 'i' } } })]);
    await settled('a', 'b');
    expect(launched).to.deep.equal([]);
    expect(statesOf('a')).to.deep.equal(['TASK_FAILED']);
    expect(statesOf('b')).to.deep.equal(['TASK_FAILED']);
  });

  it('re-registers each task with its group', async () => {
    start(['posix']);
    runGroup([task('a'), task('b')], executor(), false);
    await settled('a', 'b');
    (agent as unknown as { agentId: string }).agentId = 'a1';
    (agent as unknown as { register(): void }).register();
    const rr = sent.find((m) => m.type === 'REREGISTER') as Extract<AgentMessage, { type: 'REREGISTER' }>;
    expect(
      rr.tasks.map((t) => [t.task.task_id, t.group?.executor.executor_id, t.group?.kill_group_on_task_failure]),
    ).to.deep.equal([
      ['a', 'e1', false],
      ['b', 'e1', false],
    ]);
  });
});
