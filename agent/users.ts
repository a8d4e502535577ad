/**
 * Which user a task runs as, and that user's ids from the passwd and group databases. Pure: the
 * file contents come in as text (see user-db.ts for the reader).
 *
 * The rule follows Mesos's agent: with `--switch_user` on (the default) and the agent running as
 * root, a task runs as its `command.user` when set, else as its framework's `user`; with neither
 * set (or empty), as the agent's own user. With `--switch_user=false`, or an agent that is not
 * root, every task runs as the agent's user.
 */
import type { FrameworkInfo, TaskInfo } from '../sdk/protocol/types.js';

/** A resolved user: what the launcher needs to run a process as it. */
export interface TaskUser {
  name: string;
  uid: number;
  /** Primary group. */
  gid: number;
  /** Supplementary groups (from /etc/group member lists), without the primary group; sorted. */
  groups: number[];
}

/** A user name is at most this long (Linux's utmp limit is 32; useradd allows up to 32 too). */
export const MAX_USER_NAME = 256;
/** A user may belong to at most this many supplementary groups (Linux's NGROUPS_MAX is 65536). */
export const MAX_GROUPS = 65_536;

/** Why `name` cannot name a user, or undefined when it can. */
export function userNameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string' || name.length === 0) return 'must be a non-empty string';
  if (name.length > MAX_USER_NAME) return `must be at most ${MAX_USER_NAME} characters`;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (/[:/\s\u0000-\u001f\u007f,]/.test(name)) return 'must not contain :, /, commas, spaces or control characters';
  return undefined;
}

/**
 * The name of the user the task should run as, or undefined for the agent's own user.
 * `command.user` wins over the framework's `user`; an empty string counts as unset.
 */
export function taskUserName(
  framework: Pick<FrameworkInfo, 'user'>,
  task: Pick<TaskInfo, 'command'>,
  opts: { switchUser: boolean; agentIsRoot: boolean },
): string | undefined {
  if (!opts.switchUser || !opts.agentIsRoot) return undefined;
  const fromCommand = task.command?.user;
  if (typeof fromCommand === 'string' && fromCommand !== '') return fromCommand;
  const fromFramework = framework.user;
  if (typeof fromFramework === 'string' && fromFramework !== '') return fromFramework;
  return undefined;
}

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
}

function id(field: string | undefined): number | undefined {
  if (field === undefined || !/^\d{1,10}$/.test(field)) return undefined;
  const n = Number(field);
  return n <= 0xffff_fffe ? n : undefined;
}

/** The entry for `name` in passwd(5) text (`name:pw:uid:gid:gecos:home:shell`); the first match wins. */
export function findPasswdEntry(passwd: string, name: string): PasswdEntry | undefined {
  for (const line of passwd.split('\n')) {
    if (line === '' || line.startsWith('#') || line.startsWith('+') || line.startsWith('-')) continue;
    const f = line.split(':');
    if (f[0] !== name || f.length < 4) continue;
    const uid = id(f[2]);
    const gid = id(f[3]);
    if (uid === undefined || gid === undefined) return undefined;
    return { name, uid, gid };
  }
  return undefined;
}

/** The groups of group(5) text (`name:pw:gid:member,member`) that list `name` as a member. */
export function supplementaryGroups(group: string, name: string, primaryGid: number): number[] {
  const out = new Set<number>();
  for (const line of group.split('\n')) {
    if (line === '' || line.startsWith('#') || line.startsWith('+') || line.startsWith('-')) continue;
    const f = line.split(':');
    if (f.length < 4) continue;
    const gid = id(f[2]);
    if (gid === undefined || gid === primaryGid) continue;
    if (f[3].split(',').some((m) => m.trim() === name)) out.add(gid);
    if (out.size >= MAX_GROUPS) break;
  }
  return [...out].sort((a, b) => a - b);
}

/** The user `name` from passwd and group text, or undefined when passwd has no (valid) entry for it. */
export function lookupUser(passwd: string, group: string, name: string): TaskUser | undefined {
  const entry = findPasswdEntry(passwd, name);
  if (!entry) return undefined;
  return { name, uid: entry.uid, gid: entry.gid, groups: supplementaryGroups(group, name, entry.gid) };
}
