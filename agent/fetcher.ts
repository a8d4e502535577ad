/**
 * The fetcher: puts a task's CommandInfo URIs into its sandbox before it starts, with Mesos's
 * semantics (src/launcher/fetcher.cpp): http(s), file:// and absolute paths; `extract` (default
 * true) unpacks .tar, .tar.gz/.tgz, .tar.bz2/.tbz2, .tar.xz/.txz, .zip and .gz into the sandbox;
 * `executable` sets mode 755 (and never extracts); `cache` keeps the download in the agent's cache
 * directory, keyed by the URI, and reuses it; `output_file` names the copy in the sandbox.
 */

import { execFile, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, createReadStream, createWriteStream, existsSync, promises as fs, openSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { fileURLToPath } from 'node:url';
import { createGunzip } from 'node:zlib';
import { type Logger, pino } from 'pino';
import type { CommandUri } from '../sdk/protocol/types.js';
import { runAs, SANDBOX_MODE } from './containerizer/as-user.js';
import { FetchFailed } from './errors.js';
import { withoutStrayDescriptors } from './inherited-fds.js';
import { isInside } from './sandbox.js';
import type { TaskUser } from './users.js';

export class FetchError extends FetchFailed {
  constructor(
    readonly uri: string,
    why: string,
  ) {
    super(`could not fetch '${uri}': ${why}`);
  }
}

export interface FetchOptions {
  /** Where cached downloads live (Mesos `--fetcher_cache_dir`); without it `cache` is ignored. */
  cacheDir?: string;
  logger?: Logger;
  /** Longest time for one download (default 5 minutes). */
  timeoutMs?: number;
  /**
   * The task's user: local files are read, and archives extracted, as this user (so a task gets
   * only what its user may read); cached downloads are kept per user. Absent: as the agent.
   */
  user?: TaskUser;
}

type ArchiveKind = 'tar' | 'zip' | 'gzip';

/** The archive kind a file name announces, if any. */
export function archiveKind(name: string): ArchiveKind | undefined {
  const n = name.toLowerCase();
  if (/\.(tar|tar\.gz|tgz|tar\.bz2|tbz2|tbz|tar\.xz|txz)$/.test(n)) return 'tar';
  if (n.endsWith('.zip')) return 'zip';
  if (n.endsWith('.gz')) return 'gzip';
  return undefined;
}

type Source = { kind: 'http'; url: string } | { kind: 'file'; file: string };

function sourceOf(value: string): Source {
  if (/^https?:\/\//i.test(value)) return { kind: 'http', url: value };
  if (/^file:\/\//i.test(value)) {
    try {
      return { kind: 'file', file: fileURLToPath(value) };
    } catch (err) {
      throw new FetchError(value, `not a valid file URI (${(err as Error).message})`);
    }
  }
  if (path.isAbsolute(value)) return { kind: 'file', file: value };
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(value);
  if (scheme) throw new FetchError(value, `the '${scheme[1]}' scheme is not supported (use http, https or file)`);
  throw new FetchError(
    value,
    'relative paths are not supported; give an absolute path, a file:// or an http(s):// URI',
  );
}

function baseName(uri: string, source: Source): string {
  if (source.kind === 'file') return path.basename(source.file);
  try {
    return decodeURIComponent(path.posix.basename(new URL(source.url).pathname));
  } catch {
    throw new FetchError(uri, 'not a valid URL');
  }
}

/** The sandbox path the URI lands at; refuses names that would leave the sandbox. */
function destination(uri: CommandUri, source: Source, sandbox: string): string {
  const name = uri.output_file ?? baseName(uri.value, source);
  if (!name || name === '/' || name === '.' || name === '..') {
    throw new FetchError(uri.value, 'no file name can be taken from the URI; set output_file');
  }
  if (uri.output_file !== undefined && path.isAbsolute(uri.output_file)) {
    throw new FetchError(uri.value, `output_file '${uri.output_file}' must be a path relative to the sandbox`);
  }
  const root = path.resolve(sandbox);
  const dest = path.resolve(root, name);
  if (!dest.startsWith(`${root}${path.sep}`)) {
    throw new FetchError(uri.value, `output_file '${name}' would be outside the sandbox`);
  }
  return dest;
}

function tmpName(target: string): string {
  return `${target}.agora-tmp-${randomBytes(4).toString('hex')}`;
}

/** Copies `file` to `tmp` reading it as `user` (`cat` under the user's ids): the kernel checks the user may read it. */
function copyAsUser(file: string, tmp: string, user: TaskUser): Promise<void> {
  const cat = which('cat');
  if (!cat) return Promise.reject(new Error("'cat' is not installed on this agent"));
  const fd = openSync(tmp, 'wx', 0o644);
  return new Promise<void>((resolve, reject) => {
    const { file: bin, args, as } = withoutStrayDescriptors(runAs({ file: cat, args: ['--', file] }, user));
    const child = spawn(bin, args, { stdio: ['ignore', fd, 'pipe'], ...(as ?? {}) });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      if (stderr.length < 4096) stderr += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new Error(`user '${user.name}' cannot read ${file}: ${stderr.trim() || `cat exited ${code}`}`));
    });
  }).finally(() => closeSync(fd));
}

async function download(
  uri: string,
  source: Source,
  target: string,
  timeoutMs: number,
  user: TaskUser | undefined,
): Promise<void> {
  const tmp = tmpName(target);
  try {
    if (source.kind === 'file') {
      try {
        if (user) await copyAsUser(source.file, tmp, user);
        else await fs.copyFile(source.file, tmp);
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        const why = e.code === 'ENOENT' ? `no such file ${source.file}` : e.message;
        throw new FetchError(uri, why);
      }
    } else {
      let res: Response;
      try {
        res = await fetch(source.url, { redirect: 'follow', signal: AbortSignal.timeout(timeoutMs) });
      } catch (err) {
        const e = err as Error & { cause?: { code?: string; message?: string } };
        const why = e.name === 'TimeoutError' ? `timed out after ${timeoutMs} ms` : (e.cause?.message ?? e.message);
        throw new FetchError(uri, why);
      }
      if (!res.ok || !res.body) {
        await res.body?.cancel().catch(() => undefined);
        throw new FetchError(uri, `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`);
      }
      try {
        await pipeline(Readable.fromWeb(res.body as WebReadableStream), createWriteStream(tmp, { flags: 'wx' }));
      } catch (err) {
        throw new FetchError(uri, `download broke off: ${(err as Error).message}`);
      }
    }
    await fs.rename(tmp, target);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
}

function which(tool: string): string | undefined {
  for (const dir of [...(process.env.PATH ?? '').split(':'), '/usr/bin', '/bin']) {
    if (dir && existsSync(path.join(dir, tool))) return path.join(dir, tool);
  }
  return undefined;
}

function run(file: string, args: string[], user: TaskUser | undefined): Promise<void> {
  const cmd = withoutStrayDescriptors(runAs({ file, args }, user));
  return new Promise((resolve, reject) => {
    execFile(cmd.file, cmd.args, { maxBuffer: 4 * 1024 * 1024, ...(cmd.as ?? {}) }, (err, _out, stderr) => {
      if (err) reject(new Error(String(stderr).trim() || err.message));
      else resolve();
    });
  });
}

async function extract(
  uri: string,
  file: string,
  kind: ArchiveKind,
  into: string,
  user: TaskUser | undefined,
): Promise<void> {
  if (kind === 'gzip') {
    const out = file.slice(0, -'.gz'.length);
    // Into a new file, then renamed into place: a link already at `out` is replaced, not followed.
    const tmp = tmpName(out);
    try {
      await pipeline(createReadStream(file), createGunzip(), createWriteStream(tmp, { flags: 'wx' }));
      await fs.rename(tmp, out);
    } catch (err) {
      await fs.rm(tmp, { force: true });
      throw new FetchError(uri, `could not gunzip ${path.basename(file)}: ${(err as Error).message}`);
    }
    return;
  }
  const tool = kind === 'tar' ? 'tar' : 'unzip';
  const bin = which(tool);
  if (!bin) {
    throw new FetchError(
      uri,
      `cannot extract ${path.basename(file)}: '${tool}' is not installed on this agent (apt-get install ${tool})`,
    );
  }
  const args = kind === 'tar' ? ['-C', into, '-xf', file] : ['-o', '-q', file, '-d', into];
  try {
    await run(bin, args, user);
  } catch (err) {
    throw new FetchError(uri, `could not extract ${path.basename(file)}: ${(err as Error).message}`);
  }
}

/** Downloads in flight, so that two tasks asking for one cached URI download it once. */
const inFlight = new Map<string, Promise<void>>();

async function cached(
  uri: string,
  source: Source,
  cacheDir: string,
  timeoutMs: number,
  user: TaskUser | undefined,
): Promise<string> {
  // Per user (as Mesos keys its cache): what one user could fetch is not served to another.
  const key = createHash('sha256')
    .update(user ? `${user.name}\u0000${uri}` : uri)
    .digest('hex');
  const file = path.join(cacheDir, key);
  if (existsSync(file)) return file;
  let p = inFlight.get(file);
  if (!p) {
    p = (async () => {
      await fs.mkdir(cacheDir, { recursive: true });
      await download(uri, source, file, timeoutMs, user);
    })().finally(() => inFlight.delete(file));
    inFlight.set(file, p);
  }
  await p;
  return file;
}

async function fetchOne(uri: CommandUri, sandbox: string, opts: FetchOptions, logger: Logger): Promise<void> {
  const source = sourceOf(uri.value);
  const dest = destination(uri, source, sandbox);
  await fs.mkdir(path.dirname(dest), { recursive: true });
  // An earlier URI may have put a link in the sandbox (an archive): the directory the file lands
  // in must really lie inside it.
  const realSandbox = await fs.realpath(sandbox);
  const realDir = await fs.realpath(path.dirname(dest));
  if (realDir !== realSandbox && !isInside(realSandbox, realDir)) {
    throw new FetchError(
      uri.value,
      `'${path.relative(sandbox, dest)}' would land outside the sandbox (through a link)`,
    );
  }
  const timeoutMs = opts.timeoutMs ?? 5 * 60_000;
  const user = opts.user;
  if (uri.cache && opts.cacheDir) {
    const file = await cached(uri.value, source, opts.cacheDir, timeoutMs, user);
    const tmp = tmpName(dest);
    await fs.copyFile(file, tmp);
    await fs.rename(tmp, dest);
    logger.debug({ uri: uri.value, cache: file }, 'fetched from cache');
  } else {
    if (uri.cache) logger.warn({ uri: uri.value }, 'cache asked for but the agent has no cache directory');
    await download(uri.value, source, dest, timeoutMs, user);
  }
  if (uri.executable) {
    await fs.chmod(dest, 0o755);
    return;
  }
  const kind = archiveKind(dest);
  if ((uri.extract ?? true) && kind) await extract(uri.value, dest, kind, path.resolve(sandbox), user);
  logger.info({ uri: uri.value, dest }, 'fetched');
}

/** Fetches every URI into the sandbox, in order; the first failure throws a FetchError. */
export async function fetchUris(uris: readonly CommandUri[], sandbox: string, opts: FetchOptions = {}): Promise<void> {
  const logger = opts.logger ?? pino({ level: 'silent' });
  // The user extracts archives into its sandbox, so it must own the directory (the launcher hands
  // over the rest before the task starts).
  if (opts.user) {
    await fs.lchown(sandbox, opts.user.uid, opts.user.gid);
    await fs.chmod(sandbox, SANDBOX_MODE);
  }
  for (const uri of uris) {
    try {
      await fetchOne(uri, sandbox, opts, logger);
    } catch (err) {
      if (err instanceof FetchError) throw err;
      throw new FetchError(uri.value, (err as Error).message);
    }
  }
}
