/**
 * The agent's checkpoint under `--work_dir`: its id and boot id (`meta/agent.json`), and a journal
 * of its tasks (`meta/tasks.journal`): one JSON line per change, holding the whole task, its
 * container handle and its unacknowledged status updates, or the removal of a task. The last line
 * of a task wins.
 *
 * Why a journal: a launch changes a task's checkpoint three or four times within a second. Writing
 * each change as a file of its own (temp file + rename) allocates and frees an inode every time,
 * which on some file systems costs more CPU than starting the task (ext4 without a journal scans
 * past every recently freed inode on each allocation). Appending the changes of one event-loop turn
 * in one write costs one system call and no inode. The journal is compacted (rewritten with only
 * the live tasks, then renamed into place) when it grows past twice their size and `compactBytes`.
 *
 * A crash can leave a torn last line; reading skips any line that does not parse. With `fsync`,
 * every batch reaches the disk before its promise resolves.
 */

import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { type FileHandle, open, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { FrameworkInfo, TaskInfo, TaskState, TaskStatus } from '../sdk/protocol/types.js';
import type { ContainerHandle } from './containerizer/types.js';
import type { TaskGroupMembership } from './task-group.js';
import { taskKey } from './task-key.js';
import type { TaskUser } from './users.js';

export interface AgentMeta {
  agent_id?: string;
  boot_id?: string;
}

export interface TaskCheckpoint {
  framework: FrameworkInfo & { id: string };
  task: TaskInfo;
  state: TaskState;
  sandbox: string;
  containerizer?: string;
  handle?: ContainerHandle;
  /** Updates not yet acknowledged, oldest first. */
  pending: TaskStatus[];
  latest?: TaskStatus;
  killRequested?: boolean;
  /** The user the task runs as, as resolved at launch (absent: the agent's user). */
  user?: TaskUser;
  /** Set for a task of a task group (agent/task-group.ts). */
  group?: TaskGroupMembership;
}

export interface CheckpointOptions {
  /** fsync every batch (and the compacted journal) before reporting it written. */
  fsync?: boolean;
  /** Compact only once the journal is larger than this (bytes; default 4 MiB). */
  compactBytes?: number;
}

export const JOURNAL_FILE = 'tasks.journal';

/** One journal line: a task's latest checkpoint (`t`), or its removal (`d`). */
interface JournalLine {
  f: string;
  i: string;
  t?: TaskCheckpoint;
  d?: 1;
}

interface Batch {
  lines: Map<string, string>;
  done: Promise<void>;
  resolve: () => void;
  reject: (e: Error) => void;
}

function newBatch(): Batch {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const done = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A caller may drop the promise; a failed write is still reported to those who await it.
  done.catch(() => undefined);
  return { lines: new Map(), done, resolve, reject };
}

export class Checkpoint {
  readonly metaDir: string;
  readonly journalPath: string;
  private readonly fsync: boolean;
  private readonly compactBytes: number;
  /** Latest line of every live task: what a compaction writes. */
  private readonly live = new Map<string, string>();
  private liveBytes = 0;
  private fileBytes = 0;
  private fh: FileHandle | undefined;
  private next: Batch | undefined;
  private writing: Promise<void> | undefined;
  private scheduled = false;
  /** `close()` was called: the journal is not kept open between writes any more. */
  private closed = false;
  /** Lines that did not parse when the journal was read (a torn last write after a crash). */
  readonly skippedLines: number;

  constructor(
    readonly workDir: string,
    opts: CheckpointOptions | boolean = {},
  ) {
    const o = typeof opts === 'boolean' ? { fsync: opts } : opts;
    this.fsync = o.fsync ?? false;
    this.compactBytes = o.compactBytes ?? 4 * 1024 * 1024;
    this.metaDir = join(workDir, 'meta');
    this.journalPath = join(this.metaDir, JOURNAL_FILE);
    mkdirSync(this.metaDir, { recursive: true });
    this.skippedLines = this.load();
  }

  // ------------------------------------------------------------------ agent meta (rare, whole file)

  readMeta(): AgentMeta {
    try {
      return JSON.parse(readFileSync(join(this.metaDir, 'agent.json'), 'utf8')) as AgentMeta;
    } catch {
      return {};
    }
  }

  writeMeta(meta: AgentMeta): void {
    this.writeFileAtomic(join(this.metaDir, 'agent.json'), JSON.stringify(meta));
  }

  // ------------------------------------------------------------------ tasks

  /** The checkpointed tasks, as read at construction and changed since. */
  readTasks(): TaskCheckpoint[] {
    return [...this.live.values()].map((l) => (JSON.parse(l) as JournalLine).t as TaskCheckpoint);
  }

  /**
   * Queues the task's checkpoint. Changes of one event-loop turn leave in one append; a task
   * changed twice in one batch is written once. Resolves once the batch is written.
   */
  writeTask(t: TaskCheckpoint): Promise<void> {
    const line = `${JSON.stringify({ f: t.framework.id, i: t.task.task_id, t } satisfies JournalLine)}\n`;
    const k = taskKey(t.framework.id, t.task.task_id);
    this.setLive(k, line);
    return this.enqueue(k, line);
  }

  removeTask(frameworkId: string, taskId: string): Promise<void> {
    const k = taskKey(frameworkId, taskId);
    this.setLive(k, undefined);
    return this.enqueue(k, `${JSON.stringify({ f: frameworkId, i: taskId, d: 1 } satisfies JournalLine)}\n`);
  }

  /** Resolves once every queued change has been written. */
  async flush(): Promise<void> {
    while (this.next || this.writing) {
      if (!this.writing) this.startWriting();
      await this.writing;
    }
  }

  /**
   * Closes the journal (after `flush()`). A change written after this (a task that ended after its
   * agent stopped) is still appended, but the journal is opened for that write only and closed
   * again: kept open, its FileHandle was left to the garbage collector ("Closing file descriptor
   * N on garbage collection").
   */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
    await this.fh?.close();
    this.fh = undefined;
  }

  private setLive(k: string, line: string | undefined): void {
    const old = this.live.get(k);
    // Sizes are counted in UTF-16 units, on both sides of the comparison: close enough to bytes.
    if (old !== undefined) this.liveBytes -= old.length;
    if (line === undefined) this.live.delete(k);
    else {
      this.live.set(k, line);
      this.liveBytes += line.length;
    }
  }

  private enqueue(k: string, line: string): Promise<void> {
    this.next ??= newBatch();
    const batch = this.next;
    batch.lines.delete(k); // keep the batch in the order of the latest changes
    batch.lines.set(k, line);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        if (!this.writing) this.startWriting();
      });
    }
    return batch.done;
  }

  private startWriting(): void {
    this.writing = this.drain().finally(() => {
      this.writing = undefined;
      // A change queued while the last write was finishing.
      if (this.next) this.startWriting();
    });
  }

  /** Writes batches one after another until none is queued. */
  private async drain(): Promise<void> {
    while (this.next) {
      const batch = this.next;
      this.next = undefined;
      const text = [...batch.lines.values()].join('');
      try {
        this.fh ??= await open(this.journalPath, 'a');
        await this.fh.writeFile(text);
        if (this.fsync) await this.fh.datasync();
        this.fileBytes += text.length;
        if (this.fileBytes > this.compactBytes && this.fileBytes > 2 * this.liveBytes) await this.compact();
        // After close(), the journal is closed again before the write is reported done, so that a
        // caller who awaited it holds no descriptor (a batch used to resolve first, and a loaded
        // machine could see the descriptor still open after the await).
        if (this.closed && this.fh) {
          const fh = this.fh;
          this.fh = undefined;
          await fh.close();
        }
        batch.resolve();
      } catch (err) {
        batch.reject(err as Error);
      }
    }
    if (this.closed && this.fh) {
      const fh = this.fh;
      this.fh = undefined;
      await fh.close().catch(() => undefined);
    }
  }

  /** Rewrites the journal with only the live tasks (temp file, then rename). */
  private async compact(): Promise<void> {
    const text = [...this.live.values()].join('');
    const tmp = `${this.journalPath}.tmp`;
    const out = await open(tmp, 'w');
    try {
      await out.writeFile(text);
      if (this.fsync) await out.sync();
    } finally {
      await out.close();
    }
    await this.fh?.close();
    this.fh = undefined;
    await rename(tmp, this.journalPath);
    this.fileBytes = text.length;
  }

  /** Reads the journal (and the per-task files of agents before the journal) into `live`. */
  private load(): number {
    let skipped = 0;
    let text = '';
    try {
      text = readFileSync(this.journalPath, 'utf8');
    } catch {
      // no journal yet
    }
    for (const raw of text.split('\n')) {
      if (!raw) continue;
      let l: JournalLine;
      try {
        l = JSON.parse(raw) as JournalLine;
      } catch {
        skipped++;
        continue;
      }
      if (typeof l?.f !== 'string' || typeof l.i !== 'string') {
        skipped++;
        continue;
      }
      this.setLive(taskKey(l.f, l.i), l.t ? `${raw}\n` : undefined);
    }
    this.fileBytes = text.length;
    const legacy = this.importLegacy();
    // Start from a clean journal when there was anything to drop or import.
    if (skipped > 0 || legacy || this.fileBytes > this.liveBytes) {
      const clean = [...this.live.values()].join('');
      this.writeFileAtomic(this.journalPath, clean);
      this.fileBytes = clean.length;
      if (legacy) rmSync(join(this.metaDir, 'tasks'), { recursive: true, force: true });
    }
    return skipped;
  }

  /** Agents before the journal kept one `meta/tasks/<framework>__<task>.json` per task. */
  private importLegacy(): boolean {
    const dir = join(this.metaDir, 'tasks');
    if (!existsSync(dir)) return false;
    for (const f of readdirSync(dir)) {
      if (!f.endsWith('.json')) continue;
      try {
        const t = JSON.parse(readFileSync(join(dir, f), 'utf8')) as TaskCheckpoint;
        const k = taskKey(t.framework.id, t.task.task_id);
        if (!this.live.has(k)) this.setLive(k, `${JSON.stringify({ f: t.framework.id, i: t.task.task_id, t })}\n`);
      } catch {
        // not a task checkpoint
      }
    }
    return true;
  }

  private writeFileAtomic(path: string, content: string): void {
    const tmp = `${path}.tmp`;
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, content);
      if (this.fsync) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  }
}

export function currentBootId(): string | undefined {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return undefined;
  }
}
