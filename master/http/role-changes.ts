/**
 * Changes to the roles' weights and quota, one at a time per master (the classic `/weights` and
 * `/quota` routes and the v1 UPDATE_WEIGHTS / UPDATE_QUOTA calls share the queue): the next roles
 * are computed from the current ones, made durable by `Master.changeRoles`, then swapped in.
 */
import type { AllocatorRole } from '../allocator/types.js';
import type { Master } from '../master.js';

const queues = new WeakMap<Master, Promise<unknown>>();

export function changeRolesSerially<T = void>(
  master: Master,
  fn: (
    roles: ReadonlyMap<string, AllocatorRole>,
  ) => Map<string, AllocatorRole> | { roles: Map<string, AllocatorRole>; out: T },
): Promise<T> {
  const run = (queues.get(master) ?? Promise.resolve()).then(async () => {
    const r = fn(master.roles);
    const { roles, out } = r instanceof Map ? { roles: r, out: undefined as T } : r;
    await master.changeRoles(roles);
    return out;
  });
  queues.set(
    master,
    run.catch(() => undefined),
  );
  return run;
}
