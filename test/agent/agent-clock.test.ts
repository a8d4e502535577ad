/**
 * The agent's timers run on the Clock it is given: an unacknowledged status update is resent
 * when the virtual clock passes the agent's first resend delay (here 2 s through its option, the
 * `--status_update_retry_interval_min` flag; the default is 10 s), then 4 s later (backing off),
 * and not at all once acknowledged.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { pino } from 'pino';
import { Agent } from '../../agent/agent.js';
import type { Containerizer, RunningContainer } from '../../agent/containerizer/types.js';
import { agentCommand, statusRetryFlags } from '../../cli/daemons.js';
import type { AgentMessage } from '../../sdk/protocol/messages.js';
import type { TaskStatus } from '../../sdk/protocol/types.js';
import { Resources } from '../../sdk/resources/resources.js';
import { VirtualClock } from '../../sdk/util/clock.js';

describe('Agent on a VirtualClock', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('resends an unacknowledged update as the clock passes the set 2 s, then 4 s more, and stops once acknowledged', async () => {
    dir = mkdtempSync(join(tmpdir(), 'agora-agent-clock-'));
    const clock = new VirtualClock(1_000_000);
    const idle: Containerizer = {
      name: 'posix',
      available: async () => ({ ok: true }),
      canLaunch: () => true,
      launch: async (spec) =>
        ({
          handle: { containerizer: 'posix', id: spec.task.task_id },
          wait: () => new Promise(() => undefined),
          kill: async () => undefined,
        }) satisfies RunningContainer,
      recover: async () => ({ gone: true, exit: { exitCode: 0, signal: null, killed: false } }),
      usage: async () => undefined,
    };
    const agent = new Agent({
      masterUrl: () => undefined,
      workDir: join(dir, 'work'),
      port: 0,
      resources: Resources.empty(),
      attributes: {},
      containerizers: [idle],
      logger: pino({ level: 'silent' }),
      clock,
      statusRetryInitialMs: 2_000,
    });
    const sent: { at: number; status: TaskStatus }[] = [];
    const internals = agent as unknown as { sendToMaster(m: AgentMessage): boolean; onMessage(m: unknown): void };
    internals.sendToMaster = (m) => {
      if (m.type === 'STATUS_UPDATE') sent.push({ at: clock.now(), status: m.update.status });
      return true;
    };
    internals.onMessage({
      type: 'RUN_TASK',
      framework: { id: 'fw', name: 'f' },
      task: { name: 't', task_id: 't', agent_id: 'a', resources: [], command: { value: 'true' } },
    });
    await new Promise((r) => setImmediate(r));
    const states = () => sent.map((s) => [s.at - 1_000_000, s.status.state]);
    expect(states()).to.deep.equal([[0, 'TASK_STARTING']]);
    await clock.advanceAsync(1_999);
    expect(states()).to.have.length(1);
    await clock.advanceAsync(1);
    await clock.advanceAsync(4_000);
    expect(states()).to.deep.equal([
      [0, 'TASK_STARTING'],
      [2_000, 'TASK_STARTING'],
      [6_000, 'TASK_STARTING'],
    ]);
    internals.onMessage({ type: 'ACK_UPDATE', framework_id: 'fw', task_id: 't', uuid: sent[0].status.uuid });
    // The next update (RUNNING) goes out at once; STARTING is never sent again.
    await clock.advanceAsync(100_000);
    expect(sent.slice(3).map((s) => s.status.state)).to.not.include('TASK_STARTING');
    expect(sent[3].status.state).to.equal('TASK_RUNNING');
    await agent.stop();
  });
});

describe("the agent's status-update resend flags", () => {
  it('default to 10 s and 10 min (as Mesos), and refuse a max below the min or a zero', () => {
    expect(statusRetryFlags({})).to.deep.equal({ minMs: 10_000, maxMs: 600_000 });
    expect(
      statusRetryFlags({ status_update_retry_interval_min: '2secs', status_update_retry_interval_max: '1mins' }),
    ).to.deep.equal({ minMs: 2_000, maxMs: 60_000 });
    expect(() =>
      statusRetryFlags({ status_update_retry_interval_min: '1mins', status_update_retry_interval_max: '10secs' }),
    ).to.throw(/must not be shorter than --status_update_retry_interval_min/);
    expect(() => statusRetryFlags({ status_update_retry_interval_min: '0secs' })).to.throw(/between 1ms and 1day/);
    expect(() => statusRetryFlags({ status_update_retry_interval_min: 'soon' })).to.throw();
    const help = agentCommand.flags.map((f) => f.name);
    expect(help).to.include.members(['status_update_retry_interval_min', 'status_update_retry_interval_max']);
  });
});
