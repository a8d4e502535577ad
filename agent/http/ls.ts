/**
 * A file's entry as Mesos's `/files/browse` gives it: `mode` as `ls -l` prints it
 * (`drwxr-xr-x`), `uid`/`gid` as user and group names (the number when the host has no name for
 * it), `nlink`, `mtime` (seconds), `size`, `path`. Names are read from /etc/passwd and /etc/group,
 * once per listing.
 */
import { readFileSync } from 'node:fs';

const TYPES: [number, string][] = [
  [0o140000, 's'],
  [0o120000, 'l'],
  [0o100000, '-'],
  [0o060000, 'b'],
  [0o040000, 'd'],
  [0o020000, 'c'],
  [0o010000, 'p'],
];

/** `st_mode` as `ls -l` prints it, set-id and sticky bits included. */
export function lsMode(mode: number): string {
  const type = TYPES.find(([bits]) => (mode & 0o170000) === bits)?.[1] ?? '?';
  const rwx = (shift: number, special: boolean, lower: string, upper: string) => {
    const r = mode & (0o4 << shift) ? 'r' : '-';
    const w = mode & (0o2 << shift) ? 'w' : '-';
    const x = mode & (0o1 << shift);
    const e = special ? (x ? lower : upper) : x ? 'x' : '-';
    return r + w + e;
  };
  return (
    type +
    rwx(6, !!(mode & 0o4000), 's', 'S') +
    rwx(3, !!(mode & 0o2000), 's', 'S') +
    rwx(0, !!(mode & 0o1000), 't', 'T')
  );
}

/** id → name from a passwd/group style file (`name:x:id:...`); empty when unreadable. */
export function idNames(file: string): Map<number, string> {
  const out = new Map<number, string>();
  let text = '';
  try {
    text = readFileSync(file, 'utf8').slice(0, 16 * 1024 * 1024);
  } catch {
    return out;
  }
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length < 3) continue;
    const id = Number(f[2]);
    if (Number.isInteger(id) && !out.has(id)) out.set(id, f[0]);
  }
  return out;
}

export interface Owners {
  user(uid: number): string;
  group(gid: number): string;
}

export function hostOwners(passwd = '/etc/passwd', group = '/etc/group'): Owners {
  const users = idNames(passwd);
  const groups = idNames(group);
  return { user: (u) => users.get(u) ?? String(u), group: (g) => groups.get(g) ?? String(g) };
}
