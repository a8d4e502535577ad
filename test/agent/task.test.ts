/** The task's launch environment (pure) and its health checker wired through the Containerizer interface. */
import { expect } from 'chai';
import { pino } from 'pino';
import type { ContainerHandle, Containerizer } from '../../agent/containerizer/types.js';
import type { CommandRunResult } from '../../agent/health/index.js';
import { type AgentTask, launchSpec } from '../../agent/task.js';
import { startTaskHealth } from '../../agent/task-health.js';
import { type TaskInfo, TaskState } from '../../sdk/protocol/types.js';
import { VirtualClock } from '../../sdk/util/clock.js';

function task(extra: Partial<TaskInfo> = {}): TaskInfo {
  return { name: 't', task_id: 't1', agent_id: 'a1', resources: [], command: { value: 'true' }, ...extra };
}

describe('launchSpec', () => {
  const base = { framework: { id: 'fw', name: 'f', user: 'u' } as never, sandbox: '/w/sandboxes/fw/t1' };

  it("sets Mesos's task environment, PORT<n> from the task's ports, and the task's own variables last", () => {
    const spec = launchSpec(
      {
        ...base,
        task: task({
          resources: [{ name: 'ports', type: 'RANGES', ranges: { range: [{ begin: 31000, end: 31001 }] } }],
          command: { value: 'true', environment: { variables: [{ name: 'HOME', value: '/custom' }] } },
        }),
      },
      'a1',
      '/bin',
    );
    expect(spec.env).to.deep.equal({
      PATH: '/bin',
      HOME: '/custom',
      MESOS_TASK_ID: 't1',
      MESOS_FRAMEWORK_ID: 'fw',
      MESOS_AGENT_ID: 'a1',
      MESOS_SANDBOX: '/w/sandboxes/fw/t1',
      AGORA_TASK_ID: 't1',
      PORT0: '31000',
      PORT1: '31001',
      PORT: '31000',
    });
    expect(spec).to.include({ frameworkId: 'fw', sandbox: '/w/sandboxes/fw/t1', agentId: 'a1' });
  });

  it('names at most 100 ports however many the task holds', () => {
    const spec = launchSpec(
      {
        ...base,
        task: task({ resources: [{ name: 'ports', type: 'RANGES', ranges: { range: [{ begin: 1, end: 60_000 }] } }] }),
      },
      undefined,
    );
    expect(Object.keys(spec.env).filter((k) => /^PORT\d+$/.test(k))).to.have.length(100);
    expect(spec.env.MESOS_AGENT_ID).to.equal('');
  });
});

describe('startTaskHealth', () => {
  const handle: ContainerHandle = { containerizer: 'box', id: 'c-1' };

  function setup(c: Partial<Containerizer>, check: TaskInfo['health_check']) {
    const clock = new VirtualClock(0);
    const reports: [boolean, string | undefined][] = [];
    const kills: string[] = [];
    const t: AgentTask = {
      framework: { id: 'fw' } as never,
      task: task({ health_check: check }),
      state: TaskState.RUNNING,
      sandbox: '/nonexistent-sandbox',
      pending: [],
      container: { handle, wait: () => new Promise(() => undefined), kill: async () => undefined },
      containerizerRef: c as Containerizer,
    };
    const hc = startTaskHealth(
      t,
      { A: '1' },
      {
        clock,
        logger: pino({ level: 'silent' }),
        report: (healthy, message) => reports.push([healthy, message]),
        kill: (m) => kills.push(m),
      },
    );
    return { clock, reports, kills, hc };
  }

  const settle = () => new Promise((r) => setImmediate(r));

  it("runs COMMAND checks through the containerizer's exec, with the container's handle", async () => {
    const calls: [ContainerHandle, string | undefined, Record<string, string>][] = [];
    let exit = 0;
    const { clock, reports, kills, hc } = setup(
      {
        exec: async (h, command, o): Promise<CommandRunResult> => {
          calls.push([h, command.value, o.env]);
          return { exitCode: exit, output: 'from inside' };
        },
      },
      {
        type: 'COMMAND',
        command: { value: 'test -f /inside' },
        delay_seconds: 1,
        interval_seconds: 1,
        grace_period_seconds: 0,
        consecutive_failures: 2,
      },
    );
    clock.advance(1000);
    await settle();
    exit = 1;
    clock.advance(1000);
    await settle();
    clock.advance(1000);
    await settle();
    hc?.stop();
    expect(calls.map((c) => [c[0].id, c[1], c[2].A])).to.deep.equal([
      ['c-1', 'test -f /inside', '1'],
      ['c-1', 'test -f /inside', '1'],
      ['c-1', 'test -f /inside', '1'],
    ]);
    expect(reports.map((r) => r[0])).to.deep.equal([true, false]);
    expect(reports[1][1]).to.match(/exited with status 1: from inside/);
    expect(kills).to.have.length(1);
    expect(kills[0]).to.match(/killed after 2 consecutive failed health checks/);
  });

  it('dials the port the containerizer maps for HTTP and TCP checks', () => {
    const asked: number[] = [];
    const { hc } = setup(
      {
        hostPort: (_t, p) => {
          asked.push(p);
          return 31_555;
        },
      },
      { type: 'TCP', tcp: { port: 80 }, delay_seconds: 3600 },
    );
    expect(asked).to.deep.equal([80]);
    expect((hc as unknown as { check: { tcp: { port: number } } }).check.tcp.port).to.equal(31_555);
    hc?.stop();
  });

  it('starts nothing for a task without a check', () => {
    expect(setup({}, undefined).hc).to.equal(undefined);
  });
});
