/**
 * Task groups on the agent (LAUNCH_GROUP, docs/task-groups.md): where a group's shared directory
 * lives, how each task's sandbox gets it, what each task records of its group (checkpointed, so a
 * restarted agent still knows the group), and the group's policy decisions. Pure except
 * `prepareShared` (files).
 */
import { chown, lstat, mkdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExecutorInfo, TaskState } from '../sdk/protocol/types.js';
import { TaskState as S } from '../sdk/protocol/types.js';
import { checkId, isInside, sandboxesRoot } from './sandbox.js';
import type { TaskUser } from './users.js';

/**
 * The directory of a framework's executors beside its task sandboxes. `@` is never produced by
 * the URI-encoding of a task id, so no task sandbox can be this directory.
 */
export const EXECUTORS_DIR = '@executors';
/** The name of the shared directory inside the executor's directory and inside each task's sandbox. */
export const SHARED_DIR = 'shared';

/** What a task of a group knows of its group (checkpointed with the task). */
export interface TaskGroupMembership {
  executor: ExecutorInfo;
  /** Kill the other tasks when one fails (default true, as Mesos's default executor). */
  killGroupOnTaskFailure: boolean;
  /** The group's task ids, in launch order (the first one's network is the group's). */
  taskIds: string[];
  /** The group's shared directory on the host. */
  sharedDir: string;
}

/**
 * `<work_dir>/sandboxes/<framework>/@executors/<executor>`: the group's own directory, whose
 * `shared` subdirectory every task of the group sees as `$MESOS_SANDBOX/shared`. Throws InvalidId
 * for an executor id that is not a safe path segment.
 */
export function executorDir(workDir: string, frameworkId: string, executorId: string): string {
  checkId('framework id', frameworkId);
  checkId('task id', executorId);
  const root = sandboxesRoot(workDir);
  const dir = join(root, encodeURIComponent(frameworkId), EXECUTORS_DIR, encodeURIComponent(executorId));
  if (!isInside(root, dir)) throw new Error(`the executor directory of ${executorId} would lie outside ${root}`);
  return dir;
}

/**
 * Makes the group's shared directory and gives `sandbox` its view of it: a symbolic link
 * `shared` → the directory (posix, linux: the task sees the host's files), or an empty mount
 * point `shared` (docker: the directory is bind-mounted there). The task's user owns it.
 */
export async function prepareShared(
  sandbox: string,
  sharedDir: string,
  how: 'link' | 'mountpoint',
  user?: TaskUser,
): Promise<void> {
  await mkdir(sharedDir, { recursive: true });
  await mkdir(sandbox, { recursive: true });
  const at = join(sandbox, SHARED_DIR);
  const exists = await lstat(at).then(
    () => true,
    () => false,
  );
  if (!exists) {
    if (how === 'link') await symlink(sharedDir, at);
    else await mkdir(at);
  }
  if (user) {
    await chown(sharedDir, user.uid, user.gid);
    if (how === 'mountpoint') await chown(at, user.uid, user.gid);
  }
}

/** A task's end that brings its group down (unless the group says otherwise): a failure, not a kill or success. */
export function endsGroup(state: TaskState): boolean {
  return state === S.FAILED || state === S.ERROR || state === S.LOST || state === S.DROPPED;
}

/** The group's network kind on this containerizer, for the launch of its tasks. */
export function wantsOwnNetns(executor: ExecutorInfo, firstTaskIsolated: boolean): boolean {
  return executor.container?.network_isolation === true || firstTaskIsolated;
}
