/**
 * Running a task's process as its user. The posix containerizer has the launcher spawn it with
 * the user's uid and gid (Node's spawn, which clears supplementary groups); a user with
 * supplementary groups, and every linux task (whose namespaces need root to create), goes through
 * util-linux `setpriv`, which sets the groups, the gid and the uid, then execs the command (same
 * pid, no process in between).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { TaskUser } from '../users.js';

const SEARCH = ['/usr/bin', '/bin', '/usr/sbin', '/sbin'];
let setprivPath: string | null | undefined;

/** util-linux `setpriv`, looked up once (standard directories first, then PATH); undefined when absent. */
export function findSetpriv(): string | undefined {
  if (setprivPath === undefined) {
    const dirs = [...SEARCH, ...(process.env.PATH ?? '').split(':').filter((d) => path.isAbsolute(d))];
    setprivPath = dirs.map((d) => path.join(d, 'setpriv')).find((p) => existsSync(p)) ?? null;
  }
  return setprivPath ?? undefined;
}

/** `setpriv` arguments that become `user` (groups, then gid, then uid) and exec what follows. Pure. */
export function setprivArgs(user: TaskUser): string[] {
  return [
    `--reuid=${user.uid}`,
    `--regid=${user.gid}`,
    user.groups.length > 0 ? `--groups=${user.groups.join(',')}` : '--clear-groups',
    '--',
  ];
}

/** This process's identity: uid, primary gid and supplementary groups. */
export interface OwnIdentity {
  uid: number | undefined;
  gid: number | undefined;
  groups: number[];
}

export function ownIdentity(): OwnIdentity {
  return { uid: process.getuid?.(), gid: process.getgid?.(), groups: process.getgroups?.() ?? [] };
}

/**
 * Whether `user` is exactly who this process (and so its launcher and the tasks it starts) already
 * is: same uid, same primary gid, same supplementary groups (the primary group left out on both
 * sides, as `getgroups` may list it). Then there is nothing to switch: a linux task needs no
 * `setpriv` exec in its chain (the common case of a framework whose user is the agent's).
 */
export function isOwnIdentity(user: TaskUser, own: OwnIdentity = ownIdentity()): boolean {
  if (own.uid === undefined || own.gid === undefined) return false;
  if (user.uid !== own.uid || user.gid !== own.gid) return false;
  const mine = [...new Set(own.groups.filter((g) => g !== own.gid))].sort((a, b) => a - b);
  const theirs = [...new Set(user.groups.filter((g) => g !== user.gid))].sort((a, b) => a - b);
  return mine.length === theirs.length && mine.every((g, i) => g === theirs[i]);
}

/** A sandbox given to a task's user: theirs in full, readable by their group, closed to others. */
export const SANDBOX_MODE = 0o750;

/**
 * How the launcher starts `command` as `user`: with the spawn's uid and gid, or (the user has
 * supplementary groups and setpriv is here) through setpriv, started as root.
 */
export function runAs(
  command: { file: string; args: string[] },
  user: TaskUser | undefined,
  /** Where setpriv is; null when it is absent. */
  setpriv: string | null = findSetpriv() ?? null,
): { file: string; args: string[]; as?: { uid: number; gid: number } } {
  if (!user) return command;
  if (user.groups.length > 0 && setpriv) {
    return { file: setpriv, args: [...setprivArgs(user), command.file, ...command.args] };
  }
  return { ...command, as: { uid: user.uid, gid: user.gid } };
}
