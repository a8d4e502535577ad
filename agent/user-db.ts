/**
 * Reads a user's ids from this host's passwd and group files (no NSS, no `id`: the files are the
 * databases Mesos's agent and `useradd` use on the hosts Agora targets). Parsing is in users.ts.
 */
import { closeSync, fstatSync, openSync, readSync, type Stats, statSync } from 'node:fs';
import { UnknownUser } from './errors.js';
import { lookupUser, type TaskUser, userNameProblem } from './users.js';

/** The passwd and group files are read up to this size; larger ones are refused. */
export const MAX_USER_DB_BYTES = 16 * 1024 * 1024;

export interface UserDbFiles {
  passwd?: string;
  group?: string;
}

/** What identifies one version of a file: a rewrite (even within the same mtime tick) changes one of these. */
function versionOf(st: Stats): string {
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
}

interface CachedText {
  version: string;
  text: string;
}

/**
 * The files' text as last read, keyed by path and checked against the file's version (device,
 * inode, size, mtime, ctime) on every lookup: a launch pays one `stat` per file instead of reading
 * and parsing both files (about 0.4 ms per task on a small passwd). Editing a file in place, or
 * replacing it (as `useradd` does), changes its version, and the next lookup reads it again.
 */
const cache = new Map<string, CachedText>();
/** Parsed users by the two files' versions and the name (bounded: cleared when it grows past this). */
const users = new Map<string, TaskUser | null>();
const MAX_CACHED_USERS = 4096;

function readCached(file: string): { text: string; version: string } {
  const version = versionOf(statSync(file));
  const hit = cache.get(file);
  if (hit && hit.version === version) return hit;
  const text = readBounded(file);
  // Keyed by the version seen before the read: a change during the read is caught at the next lookup.
  cache.set(file, { version, text });
  return { text, version };
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
  let passwd: { text: string; version: string };
  let group = { text: '', version: 'none' };
  try {
    passwd = readCached(passwdFile);
  } catch (e) {
    throw new UnknownUser(`cannot look up user '${name}': ${(e as Error).message}`);
  }
  try {
    group = readCached(groupFile);
  } catch {
    // No group file: the user keeps only its primary group.
  }
  const key = `${passwdFile}\0${passwd.version}\0${groupFile}\0${group.version}\0${name}`;
  let user = users.get(key);
  if (user === undefined) {
    if (users.size >= MAX_CACHED_USERS) users.clear();
    user = lookupUser(passwd.text, group.text, name) ?? null;
    users.set(key, user);
  }
  if (!user) throw new UnknownUser(`user '${name}' does not exist on this agent (not in ${passwdFile})`);
  // A copy: the caller may keep or change it.
  return { ...user, groups: [...user.groups] };
}
