/**
 * Paths inside the agent's task sandboxes (`<work_dir>/sandboxes`). A path is resolved by hand,
 * one component at a time, following links only while they stay inside the sandboxes: nothing
 * outside is ever looked at, so a caller learns nothing about the host. Every path outside is
 * "outside" whether it exists or not; a path inside that does not exist is "missing".
 */
import { lstatSync, readlinkSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, join, normalize, relative, resolve, sep } from 'node:path';

export type SandboxPath = { kind: 'ok'; real: string } | { kind: 'outside' } | { kind: 'missing' };

/** Links followed per lookup before giving up (Linux's MAXSYMLINKS). */
const MAX_LINKS = 40;

function within(root: string, p: string): boolean {
  return p === root || p.startsWith(root.endsWith(sep) ? root : root + sep);
}

function realOrUndefined(p: string): string | undefined {
  try {
    return realpathSync(p);
  } catch {
    return undefined;
  }
}

/** `path` is absolute, or relative to the sandboxes root. */
export function resolveSandboxPath(workDir: string, path: string): SandboxPath {
  const root = resolve(workDir, 'sandboxes');
  const realRoot = realOrUndefined(root);
  const abs = isAbsolute(path) ? normalize(path) : resolve(root, path);
  let rel: string;
  if (within(root, abs)) rel = relative(root, abs);
  else if (realRoot && within(realRoot, abs)) rel = relative(realRoot, abs);
  else return { kind: 'outside' };
  if (!realRoot) return { kind: 'missing' }; // no task has run yet
  const parts = rel.split(sep).filter((p) => p !== '' && p !== '.');
  let cur = realRoot;
  let links = 0;
  while (parts.length > 0) {
    const p = parts.shift() as string;
    if (p === '..') {
      if (cur === realRoot) return { kind: 'outside' };
      cur = dirname(cur);
      continue;
    }
    const next = join(cur, p);
    let st: ReturnType<typeof lstatSync>;
    try {
      st = lstatSync(next);
    } catch {
      return within(realRoot, normalize(join(next, ...parts))) ? { kind: 'missing' } : { kind: 'outside' };
    }
    if (st.isSymbolicLink()) {
      if (++links > MAX_LINKS) return { kind: 'missing' };
      const target = readlinkSync(next);
      if (isAbsolute(target)) {
        const t = normalize(target);
        const base = within(realRoot, t) ? realRoot : within(root, t) ? root : undefined;
        if (!base) return { kind: 'outside' };
        cur = realRoot;
        parts.unshift(
          ...relative(base, t)
            .split(sep)
            .filter((x) => x !== '' && x !== '.'),
        );
      } else {
        parts.unshift(...target.split('/').filter((x) => x !== '' && x !== '.'));
      }
      continue;
    }
    if (parts.length > 0 && !st.isDirectory()) return { kind: 'missing' };
    cur = next;
  }
  return { kind: 'ok', real: cur };
}
