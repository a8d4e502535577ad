/**
 * Reads a user's ids from this host's passwd and group files (no NSS, no `id`: the files are the
 * databases Mesos's agent and `useradd` use on the hosts Agora targets). Parsing is in users.ts.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { UnknownUser } from './errors.js';
import { lookupUser, type TaskUser, userNameProblem } from './users.js';

/** The passwd and group files are read up to this size; larger ones are refused. */
export const MAX_USER_DB_BYTES = 16 * 1024 * 1024;

export interface UserDbFiles {
  passwd?: string;
  group?: string;
}

function readBounded(file: string): string {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size > MAX_USER_DB_BYTES) throw new Error(`${file} is larger than ${MAX_USER_DB_BYTES} bytes`);
    const buf = Buffer.alloc(size);
    let n = 0;
    while (n < size) {
      const r = readSync(fd, buf, n, size - n, n);
      if (r === 0) break;
      n += r;
    }
    return buf.subarray(0, n).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** The user `name` of this host; throws UnknownUser (naming the user) when it cannot be run as. */
export function resolveUser(name: string, files: UserDbFiles = {}): TaskUser {
  const problem = userNameProblem(name);
  if (problem) throw new UnknownUser(`user ${JSON.stringify(String(name).slice(0, 80))} ${problem}`);
  const passwdFile = files.passwd ?? '/etc/passwd';
  const groupFile = files.group ?? '/etc/group';
  let passwd: string;
  let group = '';
  try {
    passwd = readBounded(passwdFile);
  } catch (e) {
    throw new UnknownUser(`cannot look up user '${name}': ${(e as Error).message}`);
  }
  try {
    group = readBounded(groupFile);
  } catch {
    // No group file: the user keeps only its primary group.
  }
  const user = lookupUser(passwd, group, name);
  if (!user) throw new UnknownUser(`user '${name}' does not exist on this agent (not in ${passwdFile})`);
  return user;
}
