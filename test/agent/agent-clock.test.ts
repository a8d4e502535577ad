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
import { DEFAULT_REGISTRATION_BACKOFF_MS, registrationDelayMs } from '../../agent/registration-backoff.js';
import { agentCommand, registrationBackoffFlag, statusRetryFlags } from '../../cli/daemons.js';
import type { AgentMessage } from '../../sdk/protocol/messages.js';
import type { TaskStatus } from '../../sdk/protocol/types.js';
import { Resources } from '../../sdk/resources/resources.js';
import { VirtualClock } from '../../sdk/util/clock.js';
import type { Rng } from '../../sdk/util/random.js';

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

describe('the agent re-registers with a new leader after a random wait (--registration_backoff_factor)', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** An agent on a virtual clock whose master is never known; counts its connection attempts. */
  async function agentWith(factorMs: number | undefined, draw: number) {
    dir = mkdtempSync(join(tmpdir(), 'agora-agent-regbackoff-'));
    const clock = new VirtualClock(1_000_000);
    let attempts = 0;
    const rng: Rng = { next: () => draw };
    const agent = new Agent({
      masterUrl: () => {
        attempts++;
        return undefined;
      },
      workDir: join(dir, 'work'),
      port: 0,
      resources: Resources.empty(),
      attributes: {},
      containerizers: [],
      logger: pino({ level: 'silent' }),
      clock,
      rng,
      ...(factorMs === undefined ? {} : { registrationBackoffMs: factorMs }),
    });
    await agent.start();
    await new Promise((r) => setImmediate(r));
    return { agent, clock, attempts: () => attempts };
  }

  it('waits the drawn share of the factor on its clock, and not a millisecond less', async () => {
    const { agent, clock, attempts } = await agentWith(2_000, 0.25);
    expect(attempts()).to.equal(1); // the first attempt at start
    agent.reconnect(); // the leader changed
    await new Promise((r) => setImmediate(r));
    expect(attempts(), 'an attempt before the wait').to.equal(1);
    // The client's own retry after the failed first attempt is replaced by the wait: 0.25 x 2 s.
    expect((clock.nextDue() ?? Number.NaN) - clock.now()).to.equal(500);
    await clock.advanceAsync(499);
    expect(attempts()).to.equal(1);
    await clock.advanceAsync(1);
    expect(attempts()).to.equal(2);
    await agent.stop();
  });

  it("defaults to Mesos's 1 s, and with a factor of 0 reconnects at once", async () => {
    const a = await agentWith(undefined, 0.999);
    a.agent.reconnect();
    expect((a.clock.nextDue() ?? Number.NaN) - a.clock.now()).to.equal(999);
    await a.agent.stop();
    rmSync(dir, { recursive: true, force: true });
    const b = await agentWith(0, 0.999);
    b.agent.reconnect();
    await new Promise((r) => setImmediate(r));
    expect(b.attempts()).to.equal(2);
    await b.agent.stop();
  });

  it('draws uniformly in [0, factor), whole milliseconds; the flag is 0 to 10 min', () => {
    expect(DEFAULT_REGISTRATION_BACKOFF_MS).to.equal(1_000);
    expect(registrationDelayMs(1_000, { next: () => 0 })).to.equal(0);
    expect(registrationDelayMs(1_000, { next: () => 0.9999 })).to.equal(999);
    expect(registrationDelayMs(0, { next: () => 0.5 })).to.equal(0);
    expect(() => registrationDelayMs(-1, { next: () => 0.5 })).to.throw(RangeError);
    expect(registrationBackoffFlag({})).to.equal(1_000);
    expect(registrationBackoffFlag({ registration_backoff_factor: '0secs' })).to.equal(0);
    expect(registrationBackoffFlag({ registration_backoff_factor: '10mins' })).to.equal(600_000);
    expect(() => registrationBackoffFlag({ registration_backoff_factor: '11mins' })).to.throw(
      /between 0secs and 10mins/,
    );
    expect(() => registrationBackoffFlag({ registration_backoff_factor: 'soon' })).to.throw();
    expect(agentCommand.flags.map((f) => f.name)).to.include('registration_backoff_factor');
  });
});
