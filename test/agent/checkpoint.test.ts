import { pbkdf2 } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { Checkpoint, JOURNAL_FILE, type TaskCheckpoint } from '../../agent/checkpoint.js';
import { TaskState } from '../../sdk/protocol/types.js';

function cp(taskId: string, state: TaskState = TaskState.STARTING, frameworkId = 'fw-1'): TaskCheckpoint {
  return {
    framework: { id: frameworkId, name: 'test', user: 'root' },
    task: { name: taskId, task_id: taskId, agent_id: 'a-1', resources: [], command: { value: 'true' } },
    state,
    sandbox: `/sandboxes/${taskId}`,
    pending: [],
  };
}

/** This process's open file descriptors on `file` (read from /proc/self/fd). */
function openFdsOn(file: string): string[] {
  return readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === file;
    } catch {
      return false; // closed since the listing (the listing's own fd among them)
    }
  });
}

/**
 * Keeps libuv's thread pool (which runs fs calls) busy until stopped, so that an fs call queued now
 * waits behind other work, as on a loaded machine, and only a completion that is awaited is seen.
 */
function busyThreadPool(): () => void {
  let on = true;
  const job = (): void => {
    if (on) pbkdf2('x', 'y', 20_000, 32, 'sha256', job);
  };
  for (let i = 0; i < 8; i++) job();
  return () => {
    on = false;
  };
}

function journalLines(dir: string): string[] {
  return readFileSync(path.join(dir, 'meta', JOURNAL_FILE), 'utf8')
    .split('\n')
    .filter(Boolean);
}

describe('Checkpoint (task journal)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'agora-ckpt-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads back what was written, the latest change of each task winning, removed tasks gone', async () => {
    const a = new Checkpoint(dir);
    await a.writeTask(cp('t1'));
    await a.writeTask(cp('t2'));
    await a.writeTask(cp('t1', TaskState.RUNNING));
    await a.writeTask(cp('t3'));
    await a.removeTask('fw-1', 't3');
    await a.close();

    const b = new Checkpoint(dir);
    const byId = new Map(b.readTasks().map((t) => [t.task.task_id, t.state]));
    expect(Object.fromEntries(byId)).to.deep.equal({ t1: TaskState.RUNNING, t2: TaskState.STARTING });
    expect(b.skippedLines).to.equal(0);
    await b.close();
  });

  it('writes the changes of one event-loop turn in one append, each task once', async () => {
    const a = new Checkpoint(dir);
    const writes = [
      a.writeTask(cp('t1')),
      a.writeTask(cp('t1', TaskState.RUNNING)),
      a.writeTask(cp('t2')),
      a.writeTask(cp('t1', TaskState.FINISHED)),
    ];
    // Nothing is on disk before the turn ends.
    expect(existsSync(path.join(dir, 'meta', JOURNAL_FILE))).to.equal(false);
    await Promise.all(writes);
    const lines = journalLines(dir).map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.i, l.t.state])).to.deep.equal([
      ['t2', TaskState.STARTING],
      ['t1', TaskState.FINISHED],
    ]);
    await a.close();
  });

  it('keeps changes queued while a write is under way, and flush() waits for all of them', async () => {
    const a = new Checkpoint(dir);
    const first = a.writeTask(cp('t1'));
    await new Promise((r) => setImmediate(r)); // the first batch is now being written
    for (let i = 0; i < 50; i++) void a.writeTask(cp(`later-${i}`));
    await first;
    await a.flush();
    const b = new Checkpoint(dir);
    expect(b.readTasks()).to.have.length(51);
    await Promise.all([a.close(), b.close()]);
  });

  it('skips a torn last line after a crash and starts again from a clean journal', async () => {
    const a = new Checkpoint(dir);
    await a.writeTask(cp('t1', TaskState.RUNNING));
    await a.close();
    const file = path.join(dir, 'meta', JOURNAL_FILE);
    const whole = readFileSync(file, 'utf8');
    writeFileSync(file, `${whole}${whole.slice(0, 40)}`); // a second write cut short

    const b = new Checkpoint(dir);
    expect(b.skippedLines).to.equal(1);
    expect(b.readTasks().map((t) => [t.task.task_id, t.state])).to.deep.equal([['t1', TaskState.RUNNING]]);
    expect(readFileSync(file, 'utf8')).to.equal(whole);
    await b.close();
  });

  it('ignores lines that are JSON but not journal records', async () => {
    mkdirSync(path.join(dir, 'meta'), { recursive: true });
    writeFileSync(path.join(dir, 'meta', JOURNAL_FILE), '{"x":1}\n42\nnull\n');
    const a = new Checkpoint(dir);
    expect(a.skippedLines).to.equal(3);
    expect(a.readTasks()).to.deep.equal([]);
    await a.close();
  });

  it('compacts the journal when it grows past twice the live tasks, losing nothing', async () => {
    const a = new Checkpoint(dir, { compactBytes: 4096 });
    const states = [TaskState.STAGING, TaskState.STARTING, TaskState.RUNNING];
    for (let round = 0; round < 60; round++) {
      await a.writeTask(cp(`t${round % 4}`, states[round % 3]));
      if (round % 10 === 9) await a.removeTask('fw-1', `t${round % 4}`);
    }
    await a.close();
    const size = statSync(path.join(dir, 'meta', JOURNAL_FILE)).size;
    expect(size).to.be.below(4096 + 2000);

    // The same sequence without compaction gives the same tasks.
    const plain = mkdtempSync(path.join(os.tmpdir(), 'agora-ckpt-plain-'));
    try {
      const p = new Checkpoint(plain);
      for (let round = 0; round < 60; round++) {
        await p.writeTask(cp(`t${round % 4}`, states[round % 3]));
        if (round % 10 === 9) await p.removeTask('fw-1', `t${round % 4}`);
      }
      await p.close();
      const plainSize = statSync(path.join(plain, 'meta', JOURNAL_FILE)).size;
      const norm = (c: Checkpoint) =>
        c
          .readTasks()
          .map((t) => `${t.task.task_id}:${t.state}`)
          .sort();
      const b = new Checkpoint(dir);
      const q = new Checkpoint(plain);
      expect(norm(b)).to.deep.equal(norm(q));
      expect(norm(b)).to.have.length.greaterThan(0);
      expect(plainSize).to.be.above(4096 + 2000);
      await Promise.all([b.close(), q.close()]);
    } finally {
      rmSync(plain, { recursive: true, force: true });
    }
  });

  it('imports the per-task files of an agent from before the journal, then removes them', async () => {
    const legacy = path.join(dir, 'meta', 'tasks');
    mkdirSync(legacy, { recursive: true });
    writeFileSync(path.join(legacy, 'fw-1__old.json'), JSON.stringify(cp('old', TaskState.RUNNING)));
    writeFileSync(path.join(legacy, 'fw-1__old.json.tmp'), '{"half');
    const a = new Checkpoint(dir);
    expect(a.readTasks().map((t) => [t.task.task_id, t.state])).to.deep.equal([['old', TaskState.RUNNING]]);
    expect(existsSync(legacy)).to.equal(false);
    await a.close();
    const b = new Checkpoint(dir);
    expect(b.readTasks()).to.have.length(1);
    await b.close();
  });

  it('keeps the agent meta in its own file', () => {
    const a = new Checkpoint(dir);
    expect(a.readMeta()).to.deep.equal({});
    a.writeMeta({ agent_id: 'agent-7', boot_id: 'boot-1' });
    expect(new Checkpoint(dir).readMeta()).to.deep.equal({ agent_id: 'agent-7', boot_id: 'boot-1' });
  });

  it('a change written after close() is appended, and the journal is closed again (no fd left to GC)', async () => {
    const a = new Checkpoint(dir);
    await a.writeTask(cp('t1', TaskState.RUNNING));
    await a.close();
    expect(openFdsOn(a.journalPath), 'fds on the journal after close()').to.deep.equal([]);
    // A task that ends after its agent stopped (stop() without killing, or killing after close()),
    // written while the thread pool is busy: the descriptor is closed when the write is done.
    const stop = busyThreadPool();
    try {
      await a.writeTask(cp('t1', TaskState.FINISHED));
      expect(openFdsOn(a.journalPath), 'fds on the journal after a late write').to.deep.equal([]);
    } finally {
      stop();
    }
    expect(new Checkpoint(dir).readTasks().map((t) => [t.task.task_id, t.state])).to.deep.equal([
      ['t1', TaskState.FINISHED],
    ]);
  });

  it('rejects the writes of a batch that could not be written, and keeps serving', async () => {
    const a = new Checkpoint(dir);
    await a.writeTask(cp('t1'));
    await a.close();
    // Make the journal unopenable: a directory where the file should be.
    rmSync(path.join(dir, 'meta', JOURNAL_FILE));
    mkdirSync(path.join(dir, 'meta', JOURNAL_FILE));
    const err = await a.writeTask(cp('t2')).catch((e: Error) => e);
    expect(err).to.be.instanceOf(Error);
    rmSync(path.join(dir, 'meta', JOURNAL_FILE), { recursive: true });
    await a.writeTask(cp('t3'));
    await a.close();
    expect(new Checkpoint(dir).readTasks().map((t) => t.task.task_id)).to.include('t3');
  });
});
