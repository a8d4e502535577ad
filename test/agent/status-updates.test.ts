import { expect } from 'chai';
import {
  STATUS_RETRY_INITIAL_MS,
  STATUS_RETRY_MAX_MS,
  StatusUpdateManager,
  type UpdateStream,
} from '../../agent/status-updates.js';
import { isTerminal, TaskState, type TaskStatus } from '../../sdk/protocol/types.js';
import { VirtualClock } from '../../sdk/util/clock.js';

function status(taskId: string, state: TaskState, uuid: string): TaskStatus {
  return { task_id: taskId, state, uuid, timestamp: 0 };
}

describe('StatusUpdateManager (at-least-once, in order)', () => {
  let clock: VirtualClock;
  let sent: TaskStatus[] = [];
  let persisted: UpdateStream[] = [];
  let done: string[] = [];
  let connected = true;
  let m: StatusUpdateManager;

  beforeEach(() => {
    clock = new VirtualClock();
    sent = [];
    persisted = [];
    done = [];
    connected = true;
    m = new StatusUpdateManager({
      send: (_f, s) => {
        if (connected) sent.push(s);
        return connected;
      },
      persist: (s) => {
        persisted.push({ ...s, pending: [...s.pending] });
        return undefined;
      },
      onTerminalAcknowledged: (s) => done.push(s.taskId),
      isTerminal: (s) => isTerminal(s.state),
      retryInitialMs: 1000,
      retryMaxMs: 4000,
      clock,
    });
  });

  const tick = (ms: number) => clock.advance(ms);

  it('sends one update at a time per task, the next only after the acknowledgement', () => {
    m.update('F', status('t', TaskState.STARTING, 'u1'));
    m.update('F', status('t', TaskState.RUNNING, 'u2'));
    expect(sent.map((s) => s.uuid)).to.deep.equal(['u1']);
    expect(m.acknowledge('F', 't', 'u2')).to.equal(false); // not the head
    expect(m.acknowledge('F', 't', 'u1')).to.equal(true);
    expect(sent.map((s) => s.uuid)).to.deep.equal(['u1', 'u2']);
  });

  it('retries the head with backoff until acknowledged', () => {
    m.update('F', status('t', TaskState.RUNNING, 'u1'));
    tick(999);
    expect(sent).to.have.length(1);
    tick(1); // 1000: first retry
    expect(sent).to.have.length(2);
    tick(1999);
    expect(sent).to.have.length(2);
    tick(1); // +2000: backoff doubled
    expect(sent).to.have.length(3);
    tick(4000); // capped at 4000
    tick(4000);
    expect(sent).to.have.length(5);
    m.acknowledge('F', 't', 'u1');
    tick(10_000);
    expect(sent).to.have.length(5);
  });

  it('keeps updates while disconnected and resends them on flush', () => {
    connected = false;
    m.update('F', status('t', TaskState.RUNNING, 'u1'));
    m.update('G', status('x', TaskState.RUNNING, 'u9'));
    expect(sent).to.have.length(0);
    connected = true;
    m.flush();
    expect(sent.map((s) => s.uuid).sort()).to.deep.equal(['u1', 'u9']);
  });

  it('persists every change to the queue and reports the terminal acknowledgement', () => {
    m.update('F', status('t', TaskState.RUNNING, 'u1'));
    m.update('F', status('t', TaskState.FINISHED, 'u2'));
    m.acknowledge('F', 't', 'u1');
    m.acknowledge('F', 't', 'u2');
    expect(persisted.map((p) => p.pending.map((s) => s.uuid))).to.deep.equal([['u1'], ['u1', 'u2'], ['u2'], []]);
    expect(done).to.deep.equal(['t']);
    expect(m.pendingCount()).to.equal(0);
  });

  it('recovers a checkpointed queue and sends its head at the next flush, then retries it', () => {
    m.recover({ frameworkId: 'F', taskId: 't', pending: [status('t', TaskState.FINISHED, 'u7')] });
    tick(10_000);
    expect(sent).to.deep.equal([]);
    m.flush();
    tick(1000);
    expect(sent.map((s) => s.uuid)).to.deep.equal(['u7', 'u7']);
  });

  it('starts the backoff afresh at a flush (a new connection) and stops resending after stop()', () => {
    m.update('F', status('t', TaskState.RUNNING, 'u1'));
    tick(1000 + 2000 + 4000);
    expect(m.retryDelayMs('F', 't')).to.equal(4000);
    m.flush();
    expect(m.retryDelayMs('F', 't')).to.equal(1000);
    const before = sent.length;
    m.stop();
    tick(60_000);
    m.flush();
    expect(sent.length).to.equal(before);
    expect(clock.pending()).to.equal(0);
  });

  it("backs off from 10 s doubling to a 10 min cap by default (Mesos's STATUS_UPDATE_RETRY_INTERVAL_MIN/MAX)", () => {
    const times: number[] = [];
    const d = new StatusUpdateManager({
      send: () => {
        times.push(clock.now());
        return false;
      },
      persist: () => undefined,
      isTerminal: (s) => isTerminal(s.state),
      clock,
    });
    const start = clock.now();
    d.update('F', status('t', TaskState.RUNNING, 'u1'));
    // Nothing is resent before 10 s (the 2 s of old would have sent 2 by now).
    tick(9_999);
    expect(times).to.have.length(1);
    tick(3_000_000);
    const gaps = times.slice(1).map((t, i) => t - times[i]);
    expect(times[0]).to.equal(start);
    expect(STATUS_RETRY_INITIAL_MS).to.equal(10_000);
    expect(STATUS_RETRY_MAX_MS).to.equal(600_000);
    expect(gaps.slice(0, 8)).to.deep.equal([10_000, 20_000, 40_000, 80_000, 160_000, 320_000, 600_000, 600_000]);
    d.acknowledge('F', 't', 'u1');
    expect(clock.pending()).to.equal(0);
  });

  it('a restarted agent resends a recovered head at once on flush, then backs off from the initial delay again', () => {
    const times: number[] = [];
    const d = new StatusUpdateManager({
      send: () => {
        times.push(clock.now());
        return false;
      },
      persist: () => undefined,
      isTerminal: (s) => isTerminal(s.state),
      clock,
    });
    const t0 = clock.now();
    d.recover({ frameworkId: 'F', taskId: 't', pending: [status('t', TaskState.FINISHED, 'u9')] });
    expect(times).to.have.length(0);
    d.flush();
    tick(10_000 + 20_000);
    expect(times.map((t) => t - t0)).to.deep.equal([0, 10_000, 30_000]);
    expect(d.acknowledge('F', 't', 'u9')).to.equal(true);
    expect(clock.pending()).to.equal(0);
  });

  it('ignores an acknowledgement for an unknown stream or uuid', () => {
    expect(m.acknowledge('F', 'nope', 'u')).to.equal(false);
    m.update('F', status('t', TaskState.RUNNING, 'u1'));
    expect(m.acknowledge('F', 't', 'other')).to.equal(false);
    expect(m.pendingCount()).to.equal(1);
  });

  it('sends a terminal update only once its checkpoint is written (on disk before on the wire); others at once', async () => {
    let release: () => void = () => undefined;
    const written = new Promise<void>((r) => {
      release = r;
    });
    const out: TaskStatus[] = [];
    const mgr = new StatusUpdateManager({
      send: (_f, st) => {
        out.push(st);
        return true;
      },
      persist: () => written,
      isTerminal: (st) => isTerminal(st.state),
      clock,
    });
    mgr.update('F', status('r', TaskState.RUNNING, 'u0'));
    expect(
      out.map((s) => s.uuid),
      'a RUNNING update does not wait',
    ).to.deep.equal(['u0']);
    out.length = 0;
    mgr.update('F', status('t', TaskState.FINISHED, 'u1'));
    mgr.flush();
    clock.advance(100_000);
    const terminal = () => out.filter((s) => s.task_id === 't').map((s) => s.uuid);
    expect(terminal(), 'nothing before the write completes, not even a retry').to.deep.equal([]);
    release();
    await written;
    await Promise.resolve();
    expect(terminal()).to.deep.equal(['u1']);
  });
});
