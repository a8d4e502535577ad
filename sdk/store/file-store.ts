/**
 * A `Store` in a local work dir, for a single master (or an agent, or a framework) that owns it.
 *
 * Layout: every key is a directory under `<workDir>/store/`, and its value is the file `@value.json`
 * inside it (`registrar/agents/a1` → `store/registrar/agents/a1/@value.json`). Key segments cannot
 * start with `@` or `.`, so a value file never collides with a sub-key, and `registrar/agents` can
 * hold a value and sub-keys at once — the same shape as the ZooKeeper back end.
 *
 * The file is an envelope `{"version":N,"value":...}`. Writes are atomic and durable: the new
 * envelope goes to a temp file `.@value.json.tmp-*` in the same directory, which is fsynced, renamed
 * over the value file, and the directory fsynced. A crash leaves either the old or the new value and
 * at worst a temp file, which readers ignore and the next open() removes.
 *
 * One process owns a work dir: open() takes `<workDir>/store/.lock` (holding the pid) and refuses,
 * with a StoreLockedError naming the holder, while that process lives. Within the process, writes to
 * one key are serialised so the compare-and-set is exact.
 */
import { randomBytes } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rmdir, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { type Logger, pino } from 'pino';
import {
  encodeValue,
  KeyedMutex,
  prefixDir,
  type Store,
  StoreClosedError,
  StoreConflictError,
  StoreCorruptError,
  StoreLockedError,
  type Versioned,
  validateKey,
  validatePrefix,
} from './store.js';

const VALUE_FILE = '@value.json';
const TEMP_PREFIX = `.${VALUE_FILE}.tmp-`;
const LOCK_FILE = '.lock';

/** Work dirs open in this process (another FileStore on the same dir is refused too). */
const openDirs = new Set<string>();

export interface FileStoreOptions {
  logger?: Logger;
  /** fsync files and directories (default true; turning it off only makes sense for throwaway tests). */
  fsync?: boolean;
}

interface Envelope {
  version: number;
  value: unknown;
}

export class FileStore implements Store {
  private readonly mutex = new KeyedMutex();
  private readonly inflight = new Set<Promise<unknown>>();
  private closed = false;

  private constructor(
    /** The `<workDir>/store` directory. */
    readonly dir: string,
    private readonly log: Logger,
    private readonly durable: boolean,
  ) {}

  /** Opens (creating if needed) the store of `workDir`, taking its lock and removing debris of crashed writes. */
  static async open(workDir: string, options: FileStoreOptions = {}): Promise<FileStore> {
    const dir = resolve(workDir, 'store');
    const log = (options.logger ?? pino({ level: 'silent' })).child({ component: 'file-store', dir });
    await mkdir(dir, { recursive: true });
    if (openDirs.has(dir)) throw new StoreLockedError(dir, process.pid);
    await takeLock(dir, log);
    openDirs.add(dir);
    const store = new FileStore(dir, log, options.fsync ?? true);
    try {
      const removed = await store.sweepTemps(dir);
      if (removed > 0) log.warn({ removed }, 'removed temp files left by an interrupted write');
    } catch (err) {
      openDirs.delete(dir);
      await unlink(join(dir, LOCK_FILE)).catch(() => undefined);
      throw err;
    }
    return store;
  }

  get<T>(key: string): Promise<Versioned<T> | undefined> {
    return this.track(async () => {
      validateKey(key);
      const env = await this.read(key);
      return env ? { value: env.value as T, version: env.version } : undefined;
    });
  }

  put<T>(key: string, value: T, expectedVersion?: number): Promise<number> {
    return this.track(async () => {
      validateKey(key);
      const text = encodeValue(key, value);
      return this.mutex.run(key, async () => {
        const current = await this.read(key);
        if (expectedVersion === undefined) {
          if (current) throw new StoreConflictError(key, undefined, current.version);
        } else if (!current || current.version !== expectedVersion) {
          throw new StoreConflictError(key, expectedVersion, current?.version);
        }
        const version = current ? current.version + 1 : 0;
        await this.writeAtomic(key, `{"version":${version},"value":${text}}\n`);
        return version;
      });
    });
  }

  delete(key: string, expectedVersion?: number): Promise<void> {
    return this.track(async () => {
      validateKey(key);
      await this.mutex.run(key, async () => {
        const current = await this.read(key);
        if (expectedVersion !== undefined && (!current || current.version !== expectedVersion)) {
          throw new StoreConflictError(key, expectedVersion, current?.version);
        }
        if (!current) return;
        const keyDir = this.keyDir(key);
        await unlink(join(keyDir, VALUE_FILE));
        await this.syncDir(keyDir);
        await this.pruneEmptyDirs(key);
      });
    });
  }

  list(prefix: string): Promise<string[]> {
    return this.track(async () => {
      validatePrefix(prefix);
      const base = prefixDir(prefix);
      const keys: string[] = [];
      await this.walk(base, keys);
      return keys.filter((k) => k.startsWith(prefix)).sort();
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.inflight]);
    openDirs.delete(this.dir);
    await unlink(join(this.dir, LOCK_FILE)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') this.log.warn({ err }, 'could not remove the lock file');
    });
  }

  // ---- internals -------------------------------------------------------------------------------

  private track<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new StoreClosedError());
    const p = fn();
    this.inflight.add(p);
    const done = () => this.inflight.delete(p);
    p.then(done, done);
    return p;
  }

  private keyDir(key: string): string {
    return join(this.dir, ...key.split('/'));
  }

  private async read(key: string): Promise<Envelope | undefined> {
    let text: string;
    try {
      text = await readFile(join(this.keyDir(key), VALUE_FILE), 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
      throw err;
    }
    let env: unknown;
    try {
      env = JSON.parse(text);
    } catch (err) {
      throw new StoreCorruptError(key, `not JSON: ${(err as Error).message}`);
    }
    const e = env as Partial<Envelope> | null;
    if (!e || typeof e !== 'object' || !Number.isSafeInteger(e.version) || !('value' in e)) {
      throw new StoreCorruptError(key, 'not a {version, value} envelope');
    }
    return e as Envelope;
  }

  private async writeAtomic(key: string, content: string): Promise<void> {
    // A delete of a parent key prunes empty directories; if it races with us, make them again.
    for (let attempt = 0; ; attempt++) {
      try {
        await this.writeOnce(key, content);
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= 3) throw err;
      }
    }
  }

  private async writeOnce(key: string, content: string): Promise<void> {
    const keyDir = this.keyDir(key);
    await this.mkdirDurable(key);
    const temp = join(keyDir, `${TEMP_PREFIX}${process.pid}-${randomBytes(6).toString('hex')}`);
    const fh = await open(temp, 'w', 0o644);
    try {
      try {
        await fh.writeFile(content, 'utf8');
        if (this.durable) await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(temp, join(keyDir, VALUE_FILE));
    } catch (err) {
      await unlink(temp).catch(() => undefined);
      throw err;
    }
    await this.syncDir(keyDir);
  }

  /** Creates the key's directory chain, fsyncing each parent that gained an entry. */
  private async mkdirDurable(key: string): Promise<void> {
    let current = this.dir;
    for (const segment of key.split('/')) {
      const next = join(current, segment);
      try {
        await mkdir(next);
        await this.syncDir(current);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      current = next;
    }
  }

  private async syncDir(dir: string): Promise<void> {
    if (!this.durable) return;
    const fh = await open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  }

  /** Removes directories left empty by a delete, up to the store root. */
  private async pruneEmptyDirs(key: string): Promise<void> {
    const segments = key.split('/');
    for (let n = segments.length; n > 0; n--) {
      const dir = join(this.dir, ...segments.slice(0, n));
      try {
        await rmdir(dir);
      } catch {
        return; // not empty (a sub-key or a value), or already gone
      }
    }
  }

  private async walk(relDir: string, out: string[]): Promise<void> {
    const abs = relDir ? join(this.dir, ...relDir.split('/')) : this.dir;
    let entries: Dirent[];
    try {
      entries = await readdir(abs, { withFileTypes: true });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return;
      throw err;
    }
    const subdirs: Promise<void>[] = [];
    for (const entry of entries) {
      if (entry.name === VALUE_FILE && entry.isFile()) {
        if (relDir) out.push(relDir);
      } else if (entry.isDirectory() && !entry.name.startsWith('.') && !entry.name.startsWith('@')) {
        subdirs.push(this.walk(relDir ? `${relDir}/${entry.name}` : entry.name, out));
      }
    }
    await Promise.all(subdirs);
  }

  /** Deletes temp files of interrupted writes (no writer of ours is running yet: we hold the lock). */
  private async sweepTemps(abs: string): Promise<number> {
    let removed = 0;
    const entries = await readdir(abs, { withFileTypes: true });
    for (const entry of entries) {
      const path = join(abs, entry.name);
      if (entry.isFile() && entry.name.startsWith(TEMP_PREFIX)) {
        await unlink(path);
        removed++;
      } else if (entry.isDirectory()) {
        removed += await this.sweepTemps(path);
      }
    }
    return removed;
  }
}

async function takeLock(dir: string, log: Logger): Promise<void> {
  const lockPath = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fh = await open(lockPath, 'wx', 0o644);
      try {
        await fh.writeFile(`${process.pid}\n${hostname()}\n`, 'utf8');
        await fh.sync();
      } finally {
        await fh.close();
      }
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let holder = Number.NaN;
    let holderHost = '';
    try {
      const [pidLine, hostLine] = (await readFile(lockPath, 'utf8')).split('\n');
      holder = Number(pidLine);
      holderHost = hostLine ?? '';
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // released meanwhile
      throw err;
    }
    const sameHost = !holderHost || holderHost === hostname();
    if (Number.isInteger(holder) && holder > 0 && (!sameHost || (holder !== process.pid && alive(holder)))) {
      throw new StoreLockedError(dir, holder);
    }
    // The holder is dead (or was an earlier process that had our pid): the lock is stale.
    log.warn({ holder }, 'removing a stale store lock');
    await unlink(lockPath).catch(() => undefined);
  }
  throw new Error(`could not take the store lock ${lockPath}`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
