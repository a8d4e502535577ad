/**
 * The spawn helper (`agora-spawn`, source `spawn-helper.c` beside this file): where its binary
 * is, building it when a C compiler is there, and the launcher's side of its pipe protocol.
 *
 * The binary is built by `npm run build` (`scripts/build-spawn-helper.mjs`) next to the compiled
 * launcher (`dist/agent/launcher/agora-spawn`); when it is missing or older than its source, the
 * agent builds it on first use (one `cc` run, about half a second). With no C compiler (or a
 * failed build) every launch takes the Node path (`child_process.spawn`, util-linux `unshare` for
 * linux tasks) and the agent says so once in its log. `AGORA_SPAWN_HELPER=off` forces that path
 * (for comparisons); `AGORA_SPAWN_HELPER=<path>` names a binary.
 *
 * This module is imported by the launcher process too: Node built-ins only.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, renameSync, rmSync, statSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { LaunchRequest } from './protocol.js';

export const HELPER_ENV = 'AGORA_SPAWN_HELPER';

/** Where the binary goes: beside this module (dist/agent/launcher/agora-spawn). */
export function helperBinaryPath(): string {
  return fileURLToPath(new URL('./agora-spawn', import.meta.url));
}

/** The C source: beside this module when run from source, else in the package's `agent/launcher/`. */
export function helperSourcePath(): string | undefined {
  for (const rel of ['./spawn-helper.c', '../../../agent/launcher/spawn-helper.c']) {
    const p = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(p)) return p;
  }
  return undefined;
}

function compiler(): string | undefined {
  for (const cc of [process.env.CC, 'cc', 'gcc', 'clang']) {
    if (!cc) continue;
    try {
      execFileSync(cc, ['--version'], { stdio: 'ignore', timeout: 10_000 });
      return cc;
    } catch {
      // not this one
    }
  }
  return undefined;
}

function mtime(p: string): number | undefined {
  try {
    return statSync(p).mtimeMs;
  } catch {
    return undefined;
  }
}

/**
 * Builds the helper when it is missing or older than its source. Returns its path, or the reason
 * it cannot be had. Safe to run concurrently (the binary is renamed into place).
 */
export function buildSpawnHelper(): { path: string } | { reason: string } {
  if (process.platform !== 'linux') return { reason: 'the spawn helper is for Linux only' };
  const bin = helperBinaryPath();
  const src = helperSourcePath();
  const binTime = mtime(bin);
  if (binTime !== undefined && (src === undefined || (mtime(src) ?? 0) <= binTime)) return { path: bin };
  if (!src) return { reason: `its source spawn-helper.c was not found and ${bin} does not exist` };
  const cc = compiler();
  if (!cc) return { reason: 'no C compiler (cc, gcc or clang) was found to build it (apt-get install gcc libc6-dev)' };
  const tmp = `${bin}.${process.pid}.tmp`;
  try {
    execFileSync(cc, ['-O2', '-Wall', '-o', tmp, src], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 120_000 });
    renameSync(tmp, bin);
    return { path: bin };
  } catch (err) {
    rmSync(tmp, { force: true });
    const stderr = String((err as { stderr?: Buffer }).stderr ?? '').trim();
    return { reason: `${cc} could not build it: ${stderr || (err as Error).message}`.slice(0, 2000) };
  }
}

let resolved: { path: string } | { reason: string } | undefined;

/** The helper to use in this process (looked up, and built if need be, once). */
export function spawnHelper(): { path: string } | { reason: string } {
  if (resolved) return resolved;
  const env = process.env[HELPER_ENV];
  if (env === 'off' || env === '0') resolved = { reason: `${HELPER_ENV}=${env}` };
  else if (env) resolved = existsSync(env) ? { path: env } : { reason: `${HELPER_ENV}=${env} does not exist` };
  else resolved = buildSpawnHelper();
  return resolved;
}

/** Forgets the lookup (tests). */
export function resetSpawnHelper(): void {
  resolved = undefined;
}

// ---- the pipe protocol (see spawn-helper.c) ----

/** One request as the helper reads it: "<byte count>\n" + NUL-terminated fields. */
export function encodeRequest(req: LaunchRequest): Buffer {
  const f: string[] = [String(req.id), req.file, String(req.args.length), ...req.args];
  const env = Object.entries(req.env).map(([k, v]) => `${k}=${v}`);
  f.push(String(env.length), ...env, req.cwd, req.stdout, req.stderr, req.statusFile ?? '');
  const join = req.cgroups?.join ?? [];
  const leave = req.cgroups?.leave ?? [];
  const home = req.cgroups?.home ?? [];
  f.push(String(join.length), ...join, String(leave.length), ...leave, String(home.length), ...home);
  const after = req.afterSpawn ?? [];
  f.push(String(after.length));
  for (const w of after) f.push(w.file, w.value, w.optional ? '1' : '0');
  const user = req.user;
  const groups = user?.groups ?? [];
  f.push(user ? String(user.uid) : '', user ? String(user.gid) : '', String(groups.length), ...groups.map(String));
  const iso = req.isolate;
  const letters: Record<string, string> = { pid: 'p', mount: 'm', uts: 'u', ipc: 'i', net: 'n' };
  f.push((iso?.namespaces ?? []).map((n) => letters[n]).join(''), iso?.hostname ?? '', iso?.loUp ? '1' : '0');
  f.push(iso?.joinNet ?? '');
  for (const s of f) if (s.includes('\0')) throw new Error('a launch request field holds a NUL byte');
  const body = Buffer.from(`${f.join('\0')}\0`);
  return Buffer.concat([Buffer.from(`${body.length}\n`), body]);
}

export type HelperEvent =
  | { ev: 'started'; id: number; pid: number; startTime?: number }
  | { ev: 'failed'; id: number; stage: 'prepare' | 'spawn'; message: string }
  | { ev: 'exit'; id: number; code: number | null; signal: string | null };

const SIGNAL_NAMES = new Map<number, string>(
  Object.entries(osConstants.signals).map(([name, n]) => [n as number, name]),
);

/** One line of the helper's output; undefined for a line it does not know. */
export function parseEvent(line: string): HelperEvent | undefined {
  const [kind, idText, ...rest] = line.split(' ');
  const id = Number(idText);
  if (!Number.isInteger(id)) return undefined;
  if (kind === 'S') {
    const start = Number(rest[1]);
    return { ev: 'started', id, pid: Number(rest[0]), ...(start > 0 ? { startTime: start } : {}) };
  }
  if (kind === 'F')
    return { ev: 'failed', id, stage: rest[0] === 'prepare' ? 'prepare' : 'spawn', message: rest.slice(1).join(' ') };
  if (kind === 'X') {
    const code = Number(rest[0]);
    const sig = Number(rest[1]);
    if (code >= 0) return { ev: 'exit', id, code, signal: null };
    return { ev: 'exit', id, code: null, signal: SIGNAL_NAMES.get(sig) ?? `SIG${sig}` };
  }
  return undefined;
}
