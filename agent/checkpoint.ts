/**
 * The agent's checkpoint under `--work_dir`: its id and boot id, and one file per task holding
 * the task, its container handle and its unacknowledged status updates. Files are replaced
 * atomically (write to a temp file, rename), so a crash leaves the old or the new version, never
 * half of one; `fsync` makes that hold across power loss too, at a cost per write.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { FrameworkInfo, TaskInfo, TaskState, TaskStatus } from '../sdk/protocol/types.js';
import type { ContainerHandle } from './containerizer/types.js';

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
}

function safeName(s: string): string {
  return encodeURIComponent(s);
}

export class Checkpoint {
  readonly metaDir: string;
  readonly tasksDir: string;

  constructor(
    readonly workDir: string,
    private readonly fsync = false,
  ) {
    this.metaDir = join(workDir, 'meta');
    this.tasksDir = join(this.metaDir, 'tasks');
    mkdirSync(this.tasksDir, { recursive: true });
  }

  private write(path: string, value: unknown): void {
    const tmp = `${path}.tmp`;
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, JSON.stringify(value));
      if (this.fsync) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  }

  private read<T>(path: string): T | undefined {
    try {
      return JSON.parse(readFileSync(path, 'utf8')) as T;
    } catch {
      return undefined;
    }
  }

  readMeta(): AgentMeta {
    return this.read<AgentMeta>(join(this.metaDir, 'agent.json')) ?? {};
  }

  writeMeta(meta: AgentMeta): void {
    this.write(join(this.metaDir, 'agent.json'), meta);
  }

  private taskPath(frameworkId: string, taskId: string): string {
    return join(this.tasksDir, `${safeName(frameworkId)}__${safeName(taskId)}.json`);
  }

  /**
   * Queues the task's checkpoint for writing, off the event loop. Writes of one task are applied
   * in order and coalesce: while one is in flight only the latest state waits, so a burst of
   * updates costs one or two writes. `flush()` waits for all of them.
   */
  writeTask(t: TaskCheckpoint): Promise<void> {
    return this.enqueue(this.taskPath(t.framework.id, t.task.task_id), JSON.stringify(t));
  }

  removeTask(frameworkId: string, taskId: string): Promise<void> {
    return this.enqueue(this.taskPath(frameworkId, taskId), undefined);
  }

  /** Latest wanted content per file (undefined: remove), and the files being written now. */
  private readonly wanted = new Map<string, string | undefined>();
  private readonly inFlight = new Map<string, Promise<void>>();

  /** Resolves once this content (or a later one) is written. */
  private enqueue(path: string, content: string | undefined): Promise<void> {
    this.wanted.set(path, content);
    let p = this.inFlight.get(path);
    if (!p) {
      p = this.drain(path);
      this.inFlight.set(path, p);
    }
    return p;
  }

  private async drain(path: string): Promise<void> {
    try {
      while (this.wanted.has(path)) {
        const content = this.wanted.get(path);
        this.wanted.delete(path);
        if (content === undefined) await rm(path, { force: true });
        else await this.writeAsync(path, content);
      }
    } finally {
      this.inFlight.delete(path);
    }
  }

  private async writeAsync(path: string, content: string): Promise<void> {
    const tmp = `${path}.tmp`;
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(content);
      if (this.fsync) await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  }

  /** Resolves once every queued checkpoint write has reached the disk (or the page cache). */
  async flush(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight.values()]);
  }

  readTasks(): TaskCheckpoint[] {
    const out: TaskCheckpoint[] = [];
    for (const f of readdirSync(this.tasksDir)) {
      if (!f.endsWith('.json')) continue; // leftover .tmp files of a crash are ignored
      const t = this.read<TaskCheckpoint>(join(this.tasksDir, f));
      if (t) out.push(t);
    }
    return out;
  }
}

export function currentBootId(): string | undefined {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return undefined;
  }
}
