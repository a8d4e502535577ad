/**
 * The agent's checkpoint under `--work_dir`: its id and boot id, and one file per task holding
 * the task, its container handle and its unacknowledged status updates. Files are replaced
 * atomically (write to a temp file, rename), so a crash leaves the old or the new version, never
 * half of one; `fsync` makes that hold across power loss too, at a cost per write.
 */
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
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

  writeTask(t: TaskCheckpoint): void {
    this.write(this.taskPath(t.framework.id, t.task.task_id), t);
  }

  removeTask(frameworkId: string, taskId: string): void {
    rmSync(this.taskPath(frameworkId, taskId), { force: true });
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
