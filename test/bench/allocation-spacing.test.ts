/**
 * Event-driven allocation cycles are spaced by what the last cycle cost, so a stream of
 * registrations shares cycles instead of running one full cycle each (issue 14: registering 5,000
 * agents cost more for each quarter than the one before).
 */
import { expect } from 'chai';
import { type Effect, MasterState } from '../../master/state/index.js';
import { Resources } from '../../sdk/resources/resources.js';

const INFO = {
  id: 'm',
  pid: 'master@127.0.0.1:5050',
  hostname: 'h',
  port: 5050,
  address: { hostname: 'h', ip: '127.0.0.1', port: 5050 },
  version: 't',
};

function newState(clock: { now: number }): MasterState {
  const s = new MasterState({
    info: INFO,
    now: () => clock.now,
    allocationIntervalMs: 1000,
    agentPingTimeoutMs: 15_000,
    maxAgentPingTimeouts: 5,
    minAllocatable: [Resources.parse('cpus:0.01'), Resources.parse('mem:32')],
    schedulerHeartbeatSeconds: 15,
    agentReregisterTimeoutMs: 600_000,
    frameworkResubscribeTimeoutMs: 600_000,
    maxFrameBytes: 4 * 1024 * 1024,
    leaderInfo: () => INFO,
  });
  s.apply({ type: 'leadershipGained', recovered: { agents: [], frameworks: [] } });
  return s;
}

/** The allocate-soon timer that taking over armed fires: one cycle starts. */
function cycle(s: MasterState): Effect[] {
  return s.apply({ type: 'timerFired', timer: 'allocate-soon' });
}

function register(s: MasterState, i: number): Effect[] {
  const conn = `a${i}`;
  s.apply({ type: 'agentConnected', conn });
  const resources = Resources.parse('cpus:1;mem:1024').toList();
  s.apply({
    type: 'agentMessage',
    conn,
    message: { type: 'REGISTER', agent: { hostname: `h${i}`, port: 5051, resources, attributes: {} }, version: 't' },
  });
  return s.apply({ type: 'persisted', ack: conn });
}

const soon = (effects: Effect[]) =>
  effects.filter((e): e is Extract<Effect, { kind: 'arm' }> => e.kind === 'arm' && e.timer === 'allocate-soon');

describe('allocation cycles asked for by events are spaced by the last cycle cost', () => {
  it('a cycle that took 10 ms puts the next event-driven one 40 ms after its start', () => {
    const clock = { now: 1_000_000 };
    const s = newState(clock);
    const asked = cycle(s).find((e) => e.kind === 'allocate');
    expect(asked, 'the cycle asks for a plan').to.not.equal(undefined);
    clock.now += 10; // the allocator and the booking took 10 ms
    s.apply({ type: 'allocationResult', plan: { offers: [], skipped: {} }, durationMs: 10 });
    const armed = soon(register(s, 0));
    expect(armed.map((e) => e.ms)).to.deep.equal([30]);
  });

  it('registrations arriving while one cycle is pending ask for no further cycle', () => {
    const clock = { now: 1_000_000 };
    const s = newState(clock);
    cycle(s);
    clock.now += 50;
    s.apply({ type: 'allocationResult', plan: { offers: [], skipped: {} }, durationMs: 50 });
    let arms = 0;
    for (let i = 0; i < 1000; i++) {
      clock.now += 0.1;
      arms += soon(register(s, i)).length;
    }
    expect(s.agents.size).to.equal(1000);
    expect(arms, 'one allocate-soon for the whole stream').to.equal(1);
  });

  it('with no cost measured (a virtual clock) the cycle is asked for at once', () => {
    const clock = { now: 1_000_000 };
    const s = newState(clock);
    cycle(s);
    s.apply({ type: 'allocationResult', plan: { offers: [], skipped: {} }, durationMs: 3 });
    expect(soon(register(s, 0)).map((e) => e.ms)).to.deep.equal([0]);
  });
});
