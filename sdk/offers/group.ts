/**
 * The LAUNCH_GROUP operation for a task group (docs/task-groups.md): its DEFAULT executor (with
 * the executor's own resources and the group's network), its tasks, its failure policy. Checked
 * against the wire schema like the TaskInfo builders.
 */
import { Compile } from 'typebox/compile';
import {
  type ContainerInfo,
  type ExecutorInfo,
  LaunchGroupSchema,
  type Operation,
  type TaskInfo,
} from '../protocol/types.js';
import { type Resource, Resources } from '../resources/resources.js';
import { InvalidTaskSpec } from './errors.js';

export interface TaskGroupSpec {
  executorId: string;
  /** The executor's own resources (Mesos's default executor books some: e.g. `cpus:0.1;mem:32`). */
  executorResources: Resources | readonly Resource[];
  /** The tasks, from `buildTaskInfo`; all posix/linux, or all docker. */
  tasks: TaskInfo[];
  /** linux: the group gets a network namespace of its own, shared by its tasks. */
  networkIsolation?: boolean;
  /** Default true (as Mesos's default executor): when one task fails, the others are killed. */
  killGroupOnTaskFailure?: boolean;
  /** The accepting framework's id, if the executor should carry it. */
  frameworkId?: string;
  name?: string;
}

const check = Compile(LaunchGroupSchema);

/** Builds and checks a LAUNCH_GROUP operation; throws InvalidTaskSpec naming the field when it is not valid. */
export function buildLaunchGroup(spec: TaskGroupSpec): Extract<Operation, { type: 'LAUNCH_GROUP' }> {
  if (spec.tasks.length === 0) throw new InvalidTaskSpec(`task group ${spec.executorId}: a task group needs tasks`);
  const docker = spec.tasks.filter((t) => t.container?.type === 'DOCKER').length;
  if (docker > 0 && docker < spec.tasks.length) {
    throw new InvalidTaskSpec(`task group ${spec.executorId}: its tasks are all docker or none`);
  }
  if (spec.networkIsolation && docker > 0) {
    throw new InvalidTaskSpec(
      `task group ${spec.executorId}: network isolation is for linux groups (docker groups share the first container's network)`,
    );
  }
  const executor: ExecutorInfo = {
    executor_id: spec.executorId,
    type: 'DEFAULT',
    resources: Resources.from(spec.executorResources as Resource[]).toList(),
  };
  if (spec.name) executor.name = spec.name;
  if (spec.frameworkId) executor.framework_id = spec.frameworkId;
  const container: ContainerInfo | undefined = spec.networkIsolation
    ? { type: 'MESOS', network_isolation: true }
    : undefined;
  if (container) executor.container = container;
  const op: Extract<Operation, { type: 'LAUNCH_GROUP' }> = {
    type: 'LAUNCH_GROUP',
    launch_group: {
      executor,
      task_group: {
        tasks: spec.tasks,
        ...(spec.killGroupOnTaskFailure === false ? { kill_group_on_task_failure: false } : {}),
      },
    },
  };
  const value: unknown = op.launch_group;
  if (!check.Check(value)) {
    const e = [...check.Errors(value)].find((x) => x.keyword !== 'anyOf');
    throw new InvalidTaskSpec(
      `task group ${spec.executorId}: launch_group${e?.instancePath ?? ''} ${e?.message ?? 'is invalid'}`,
    );
  }
  return op;
}
