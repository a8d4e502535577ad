import { expect } from 'chai';
import { StatusUpdateManager, type UpdateStream } from '../../agent/status-updates.js';
import { isTerminal, TaskState, type TaskStatus } from '../../sdk/protocol/types.js';

function status(taskId: string, state: TaskState, uuid: string): TaskStatus {
  return { task_id: taskId, state, uuid, timestamp: 0 };
}

describe('StatusUpdateManager (at-least-once, in order)', () => {
  let now = 0;
  let sent: TaskStatus[] = [];
  let persisted: UpdateStream[] = [];
  let done: string[] = [];
  let connected = true;
  let m: StatusUpdateManager;

  beforeEach(() => {
    now = 0;
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
      now: () => now,
    });
  });

  const tick = (ms: number) => {
    now += ms;
    (m as unknown as { tick(): void }).tick();
  };

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

  it('recovers a checkpointed queue and sends its head at the next tick', () => {
    m.recover({ frameworkId: 'F', taskId: 't', pending: [status('t', TaskState.FINISHED, 'u7')] });
    tick(0);
    expect(sent.map((s) => s.uuid)).to.deep.equal(['u7']);
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
      now: () => now,
    });
    mgr.update('F', status('r', TaskState.RUNNING, 'u0'));
    expect(
      out.map((s) => s.uuid),
      'a RUNNING update does not wait',
    ).to.deep.equal(['u0']);
    out.length = 0;
    mgr.update('F', status('t', TaskState.FINISHED, 'u1'));
    (mgr as unknown as { tick(): void }).tick();
    now += 100_000;
    (mgr as unknown as { tick(): void }).tick();
    const terminal = () => out.filter((s) => s.task_id === 't').map((s) => s.uuid);
    expect(terminal(), 'nothing before the write completes, not even a retry').to.deep.equal([]);
    release();
    await written;
    await Promise.resolve();
    expect(terminal()).to.deep.equal(['u1']);
  });
});
