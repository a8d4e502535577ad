/**
 * A `Store` in ZooKeeper, shared by the masters that fail over to each other.
 *
 * Layout: one znode per key under the root (`/agora/state` by default): key `registrar/agents/a1` is
 * node `/agora/state/registrar/agents/a1`. The key's version is the znode's version, so the
 * compare-and-set is ZooKeeper's own `setData(path, data, version)`. A node with empty data holds no
 * value (a parent of other keys, or a deleted key that still has sub-keys).
 *
 * Node data starts with a header line `agora-store/1 <format>\n`:
 *   - `json`:   the value's JSON follows.
 *   - `gzip`:   the gzipped JSON follows (values whose JSON is over `inlineLimitBytes`, ~900 KB).
 *   - `chunks`: a manifest `{gen, count, bytes, sha256}` follows; the gzipped JSON, still too big for one
 *               node, is split into children `.chunk-<gen>-<i>` of the key's node.
 *
 * ZooKeeper refuses nodes over 1 MB (jute.maxbuffer), which is what bites Marathon users with big
 * groups; this is how we never hit it. A chunked write creates its chunks under a fresh generation
 * first and only then switches the head node to the new manifest with the compare-and-set, so a
 * reader sees the old value or the new one, never half of one; a losing writer deletes its chunks, the
 * winner deletes the replaced generation. Chunks orphaned by a writer that crashed before its switch
 * are removed by a later write of the key once they are older than `orphanChunkAgeMs`.
 */
import { createHash, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import { type Logger, pino } from 'pino';
import { isZkError, joinPath, ZkClient, ZkError, ZkErrorCode, type ZkStat } from '../zk/client.js';
import { ensureProtected } from '../zk/protect.js';
import { parseZkUrl } from '../zk/url.js';
import {
  encodeValue,
  prefixDir,
  type Store,
  StoreClosedError,
  StoreConflictError,
  StoreCorruptError,
  StoreUnavailableError,
  type Versioned,
  validateKey,
  validatePrefix,
} from './store.js';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

const MAGIC = 'agora-store/1 ';
const CHUNK_PREFIX = '.chunk-';
/** Retries of a write that ran into a benign race (a placeholder node appearing, a parent vanishing). */
const MAX_ATTEMPTS = 8;

export interface ZkStoreOptions {
  client: ZkClient;
  /** The root node, e.g. `/agora/state`. */
  root: string;
  logger?: Logger;
  /** Values whose JSON is bigger are gzipped; if still bigger, chunked. Default 900 KiB. */
  inlineLimitBytes?: number;
  /** Size of each chunk node. Default 512 KiB. */
  chunkBytes?: number;
  /** Age after which unreferenced chunks (of a crashed writer) are removed. Default 10 minutes. */
  orphanChunkAgeMs?: number;
  /** Close the client when the store is closed. Default false. */
  ownsClient?: boolean;
}

interface Manifest {
  gen: string;
  count: number;
  bytes: number;
  sha256: string;
}

type Payload = { format: 'json' | 'gzip'; data: Buffer } | { format: 'chunks'; manifest: Manifest; chunks: Buffer[] };

interface Head {
  stat: ZkStat;
  data: Buffer;
}

/**
 * What a key's node was when it was read: `<czxid>:<mzxid>` (in hex). ZooKeeper gives every
 * change of a node's data a new, ever-growing mzxid, and a node created again (after a delete) a new
 * czxid, so two equal stamps of a key mean the same value: a reader that kept a value with its stamp
 * need not read it again while the stamp stays. (A version does not say as much: a key deleted and
 * created again starts again from version 0.) Sub-keys and a chunked value's chunks are child nodes
 * and do not change the stamp; a chunked value is replaced by a write of its head, which does.
 */
export type StoreStamp = string;

/** A Store that tells the stamp of what it lists and reads (ZkStore). */
export interface StampedStore extends Store {
  /** As `list`, each key with the stamp of its node when it was listed. */
  listStamped(prefix: string): Promise<[key: string, stamp: StoreStamp][]>;
  /** As `get`, with the stamp of the node the value was read from. */
  getStamped<T>(key: string): Promise<(Versioned<T> & { stamp: StoreStamp }) | undefined>;
}

export function isStampedStore(store: Store): store is StampedStore {
  const s = store as Partial<StampedStore>;
  return typeof s.listStamped === 'function' && typeof s.getStamped === 'function';
}

function stampOf(stat: ZkStat): StoreStamp {
  return `${stat.czxid.toString(16)}:${stat.mzxid.toString(16)}`;
}

export class ZkStore implements StampedStore {
  readonly root: string;
  private readonly client: ZkClient;
  private readonly log: Logger;
  private readonly inlineLimit: number;
  private readonly chunkBytes: number;
  private readonly orphanAgeMs: number;
  private readonly ownsClient: boolean;
  private readonly knownDirs = new Set<string>();
  private closed = false;

  constructor(options: ZkStoreOptions) {
    this.client = options.client;
    this.root = options.root;
    this.log = (options.logger ?? pino({ level: 'silent' })).child({ component: 'zk-store', root: options.root });
    this.inlineLimit = options.inlineLimitBytes ?? 900 * 1024;
    this.chunkBytes = options.chunkBytes ?? 512 * 1024;
    this.orphanAgeMs = options.orphanChunkAgeMs ?? 10 * 60_000;
    this.ownsClient = options.ownsClient ?? false;
    if (this.chunkBytes > 1000 * 1024) throw new RangeError('ZkStore: chunkBytes must stay under the 1 MB node limit');
  }

  /** Connects the client if needed and makes sure the root exists. */
  static async open(options: ZkStoreOptions): Promise<ZkStore> {
    const store = new ZkStore(options);
    try {
      const client = options.client;
      if (!client.connected) await client.connect();
      // The Store's parent (the election path) may be read by all; the Store by our credentials only.
      // Nodes an earlier run left open are tightened, children first (see sdk/zk/protect.ts).
      const parent = options.root.slice(0, options.root.lastIndexOf('/'));
      if (parent) await ensureProtected(client, parent, client.acls.publicRead, store.log, { quiet: true });
      await ensureProtected(client, options.root, client.acls.private, store.log, { subtree: true });
    } catch (err) {
      if (store.ownsClient) await options.client.close();
      throw err;
    }
    return store;
  }

  /** A store for a `zk://host:2181/agora` URL, under `<path>/state` (or `root`), with its own client. */
  static async connect(
    url: string,
    options: { root?: string; sessionTimeoutMs?: number; logger?: Logger } = {},
  ): Promise<ZkStore> {
    const parsed = parseZkUrl(url);
    const client = new ZkClient({
      servers: parsed.servers,
      credentials: parsed.credentials,
      sessionTimeoutMs: options.sessionTimeoutMs,
      logger: options.logger,
    });
    return ZkStore.open({
      client,
      root: options.root ?? joinPath(parsed.path, 'state'),
      logger: options.logger,
      ownsClient: true,
    });
  }

  async get<T>(key: string): Promise<Versioned<T> | undefined> {
    const got = await this.getStamped<T>(key);
    return got && { value: got.value, version: got.version };
  }

  getStamped<T>(key: string): Promise<(Versioned<T> & { stamp: StoreStamp }) | undefined> {
    return this.guard('get', key, async () => {
      validateKey(key);
      const path = this.pathOf(key);
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const head = await this.readHead(path);
        if (!head || head.data.length === 0) return undefined;
        const text = await this.decode(key, path, head);
        if (text === undefined) continue; // chunks replaced under us: read the new head
        try {
          // The stamp of the head the value came from (its data and stat are one read).
          return { value: JSON.parse(text) as T, version: head.stat.version, stamp: stampOf(head.stat) };
        } catch (err) {
          throw new StoreCorruptError(key, `not JSON: ${(err as Error).message}`);
        }
      }
      throw new StoreUnavailableError(`'${key}' kept changing while being read`);
    });
  }

  put<T>(key: string, value: T, expectedVersion?: number): Promise<number> {
    return this.guard('put', key, async () => {
      validateKey(key);
      const payload = await this.encode(encodeValue(key, value));
      const path = this.pathOf(key);
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const result = await this.tryPut(key, path, payload, expectedVersion);
        if (result !== undefined) return result;
      }
      throw new StoreConflictError(key, expectedVersion);
    });
  }

  delete(key: string, expectedVersion?: number): Promise<void> {
    return this.guard('delete', key, async () => {
      validateKey(key);
      const path = this.pathOf(key);
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        if (await this.tryDelete(key, path, expectedVersion)) return;
      }
      throw new StoreConflictError(key, expectedVersion);
    });
  }

  async list(prefix: string): Promise<string[]> {
    return (await this.listStamped(prefix)).map(([key]) => key);
  }

  listStamped(prefix: string): Promise<[key: string, stamp: StoreStamp][]> {
    return this.guard('list', prefix, async () => {
      validatePrefix(prefix);
      const base = prefixDir(prefix);
      const keys: [string, StoreStamp][] = [];
      await this.walk(base, keys);
      return keys.filter(([k]) => k.startsWith(prefix)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ownsClient) await this.client.close();
  }

  // ---- writing ---------------------------------------------------------------------------------

  /** One attempt; undefined means "a benign race happened, try again". */
  private async tryPut(
    key: string,
    path: string,
    payload: Payload,
    expected: number | undefined,
  ): Promise<number | undefined> {
    let head = await this.readHead(path);
    const present = head !== undefined && head.data.length > 0;
    if (expected === undefined) {
      if (present) throw new StoreConflictError(key, undefined, head?.stat.version);
    } else if (!present || head?.stat.version !== expected) {
      throw new StoreConflictError(key, expected, present ? head?.stat.version : undefined);
    }
    if (head && !this.client.acls.open && head.stat.aversion === 0) {
      // Created open and not sealed yet (its creator is in the middle of it, or died): seal, then retry.
      await this.client.seal(path, this.client.acls.private).catch((err: unknown) => {
        if (isZkError(err) && err.isConnectionError) throw err;
      });
      return undefined;
    }
    const old = head && present ? this.manifestOf(head.data) : undefined;

    if (payload.format !== 'chunks') {
      const data = frame(payload.format, payload.data);
      if (!head) {
        try {
          return await this.createNode(path, data);
        } catch (err) {
          if (isZkError(err, ZkErrorCode.NODE_EXISTS)) return this.conflictOrRetry(key, path, expected);
          if (isZkError(err, ZkErrorCode.TAMPERED)) return undefined;
          throw err;
        }
      }
      const stat = await this.casSet(key, path, data, head.stat.version, expected);
      if (!stat) return undefined;
      if (old) await this.removeChunks(path, old);
      return stat.version;
    }

    // Chunked: the head node must exist (as an empty placeholder) to hold the chunks.
    if (!head) {
      try {
        await this.createNode(path, Buffer.alloc(0));
      } catch (err) {
        if (!isZkError(err, ZkErrorCode.NODE_EXISTS) && !isZkError(err, ZkErrorCode.TAMPERED)) throw err;
      }
      head = await this.readHead(path);
      if (!head || head.data.length > 0) return this.conflictOrRetry(key, path, expected);
    }
    const { manifest, chunks } = payload;
    const gen = randomBytes(8).toString('hex');
    const mine: Manifest = { ...manifest, gen };
    try {
      await this.writeChunks(path, gen, chunks);
    } catch (err) {
      await this.removeChunks(path, mine);
      if (isZkError(err, ZkErrorCode.NO_NODE)) return undefined; // the head went away meanwhile
      throw err;
    }
    let stat: ZkStat | undefined;
    try {
      stat = await this.casSet(
        key,
        path,
        frame('chunks', Buffer.from(JSON.stringify(mine))),
        head.stat.version,
        expected,
      );
    } catch (err) {
      // Outcome unknown on a connection error: leave the chunks (the orphan sweep removes them if unused).
      if (!(isZkError(err) && err.isConnectionError)) await this.removeChunks(path, mine);
      throw err;
    }
    if (!stat) {
      await this.removeChunks(path, mine);
      return undefined;
    }
    if (old) await this.removeChunks(path, old);
    await this.sweepOrphans(path, gen, stat.mtime);
    return stat.version;
  }

  /** set with CAS; on BAD_VERSION: conflict if the caller named a version, else undefined (retry). */
  private async casSet(
    key: string,
    path: string,
    data: Buffer,
    version: number,
    expected: number | undefined,
  ): Promise<ZkStat | undefined> {
    try {
      return await this.client.set(path, data, version);
    } catch (err) {
      if (isZkError(err, ZkErrorCode.BAD_VERSION) || isZkError(err, ZkErrorCode.NO_NODE)) {
        return this.conflictOrRetry(key, path, expected);
      }
      throw err;
    }
  }

  /** After losing a race: a real conflict if a value is now there (or we expected a version), else retry. */
  private async conflictOrRetry(key: string, path: string, expected: number | undefined): Promise<undefined> {
    const now = await this.readHead(path);
    const present = now !== undefined && now.data.length > 0;
    if (expected !== undefined || present) {
      throw new StoreConflictError(key, expected, present ? now?.stat.version : undefined);
    }
    return undefined;
  }

  private async tryDelete(key: string, path: string, expected: number | undefined): Promise<boolean> {
    const head = await this.readHead(path);
    const present = head !== undefined && head.data.length > 0;
    if (expected !== undefined && (!present || head?.stat.version !== expected)) {
      throw new StoreConflictError(key, expected, present ? head?.stat.version : undefined);
    }
    if (!head || !present) return true;
    const old = this.manifestOf(head.data);
    try {
      await this.client.delete(path, head.stat.version);
      this.knownDirs.delete(path);
      return true;
    } catch (err) {
      if (isZkError(err, ZkErrorCode.BAD_VERSION) || isZkError(err, ZkErrorCode.NO_NODE)) {
        if (expected !== undefined) throw new StoreConflictError(key, expected);
        return false;
      }
      if (!isZkError(err, ZkErrorCode.NOT_EMPTY)) throw err;
    }
    // It has children (chunks or sub-keys): empty it first (readers now see no value), then tidy up.
    let emptied: ZkStat;
    try {
      emptied = await this.client.set(path, Buffer.alloc(0), head.stat.version);
    } catch (err) {
      if (isZkError(err, ZkErrorCode.BAD_VERSION) || isZkError(err, ZkErrorCode.NO_NODE)) {
        if (expected !== undefined) throw new StoreConflictError(key, expected);
        return false;
      }
      throw err;
    }
    if (old) await this.removeChunks(path, old);
    try {
      await this.client.delete(path, emptied.version);
      this.knownDirs.delete(path);
    } catch (err) {
      if (!isZkError(err) || err.isConnectionError) throw err;
      // NOT_EMPTY (sub-keys), BAD_VERSION (written again), NO_NODE: all fine.
    }
    return true;
  }

  /** Creates the node (and its parents), with the Store's ACL; resolves with its version. */
  private async createNode(path: string, data: Buffer): Promise<number> {
    const parent = path.slice(0, path.lastIndexOf('/')) || '/';
    for (let attempt = 0; ; attempt++) {
      if (!this.knownDirs.has(parent)) {
        await this.client.mkdirp(parent);
        this.knownDirs.add(parent);
      }
      try {
        if (this.client.acls.open) {
          await this.client.create(path, data);
          return 0;
        }
        return (await this.client.createNode(path, data)).stat.version;
      } catch (err) {
        if (isZkError(err, ZkErrorCode.NO_NODE) && attempt < 2) {
          this.knownDirs.delete(parent); // someone removed a parent: make it again
          continue;
        }
        throw err;
      }
    }
  }

  private async writeChunks(path: string, gen: string, chunks: Buffer[]): Promise<void> {
    const parallel = 4;
    for (let i = 0; i < chunks.length; i += parallel) {
      await Promise.all(
        chunks.slice(i, i + parallel).map((chunk, j) => this.client.create(chunkPath(path, gen, i + j), chunk)),
      );
    }
  }

  private async removeChunks(path: string, manifest: Manifest): Promise<void> {
    await Promise.all(
      Array.from({ length: manifest.count }, async (_, i) => {
        try {
          await this.client.delete(chunkPath(path, manifest.gen, i));
        } catch (err) {
          if (isZkError(err, ZkErrorCode.NO_NODE)) return;
          if (isZkError(err) && err.isConnectionError) throw err;
          this.log.warn({ err, path, gen: manifest.gen, i }, 'could not remove a chunk');
        }
      }),
    );
  }

  /** Removes chunks of generations other than `keep` that are older than orphanChunkAgeMs (crashed writers). */
  private async sweepOrphans(path: string, keep: string, now: number): Promise<void> {
    let children: string[];
    try {
      children = await this.client.getChildren(path);
    } catch (err) {
      if (isZkError(err, ZkErrorCode.NO_NODE)) return;
      throw err;
    }
    const gens = new Map<string, string[]>();
    for (const name of children) {
      const parsed = parseChunkName(name);
      if (!parsed || parsed.gen === keep) continue;
      gens.set(parsed.gen, [...(gens.get(parsed.gen) ?? []), name]);
    }
    for (const [gen, names] of gens) {
      const stat = await this.client.exists(joinPath(path, names[0]));
      if (!stat || now - stat.ctime < this.orphanAgeMs) continue;
      this.log.warn({ path, gen, chunks: names.length }, 'removing chunks orphaned by an interrupted write');
      for (const name of names) await this.client.delete(joinPath(path, name)).catch(() => undefined);
    }
  }

  // ---- reading ---------------------------------------------------------------------------------

  private async readHead(path: string): Promise<Head | undefined> {
    try {
      return await this.client.get(path);
    } catch (err) {
      if (isZkError(err, ZkErrorCode.NO_NODE)) return undefined;
      throw err;
    }
  }

  /** The value's JSON text; undefined when its chunks were replaced while we read them. */
  private async decode(key: string, path: string, head: Head): Promise<string | undefined> {
    const { format, body } = unframe(key, head.data);
    if (format === 'json') return body.toString('utf8');
    if (format === 'gzip') return (await gunzipOrCorrupt(key, body)).toString('utf8');
    const manifest = parseManifest(key, body);
    let chunks: Buffer[];
    try {
      chunks = await Promise.all(
        Array.from(
          { length: manifest.count },
          async (_, i) => (await this.client.get(chunkPath(path, manifest.gen, i))).data,
        ),
      );
    } catch (err) {
      if (!isZkError(err, ZkErrorCode.NO_NODE)) throw err;
      const now = await this.client.exists(path);
      if (now && now.version === head.stat.version)
        throw new StoreCorruptError(key, `chunk of generation ${manifest.gen} is missing`);
      return undefined;
    }
    const blob = Buffer.concat(chunks);
    const digest = createHash('sha256').update(blob).digest('hex');
    if (blob.length !== manifest.bytes || digest !== manifest.sha256) {
      const now = await this.client.exists(path);
      if (now && now.version === head.stat.version)
        throw new StoreCorruptError(key, 'chunks do not match their manifest');
      return undefined;
    }
    return (await gunzipOrCorrupt(key, blob)).toString('utf8');
  }

  private manifestOf(data: Buffer): Manifest | undefined {
    try {
      const { format, body } = unframe('', data);
      return format === 'chunks' ? parseManifest('', body) : undefined;
    } catch {
      return undefined;
    }
  }

  private async encode(text: string): Promise<Payload> {
    const raw = Buffer.from(text, 'utf8');
    if (raw.length <= this.inlineLimit) return { format: 'json', data: raw };
    const zipped = await gzipAsync(raw);
    if (zipped.length <= this.inlineLimit) return { format: 'gzip', data: zipped };
    const chunks: Buffer[] = [];
    for (let off = 0; off < zipped.length; off += this.chunkBytes)
      chunks.push(zipped.subarray(off, off + this.chunkBytes));
    return {
      format: 'chunks',
      chunks,
      manifest: {
        gen: '',
        count: chunks.length,
        bytes: zipped.length,
        sha256: createHash('sha256').update(zipped).digest('hex'),
      },
    };
  }

  private async walk(relDir: string, out: [string, StoreStamp][]): Promise<void> {
    const abs = relDir ? this.pathOf(relDir) : this.root;
    let children: string[];
    try {
      children = await this.client.getChildren(abs);
    } catch (err) {
      if (isZkError(err, ZkErrorCode.NO_NODE)) return;
      throw err;
    }
    await Promise.all(
      children
        .filter((name) => !name.startsWith('.'))
        .map(async (name) => {
          const rel = relDir ? `${relDir}/${name}` : name;
          const stat = await this.client.exists(joinPath(abs, name));
          if (!stat) return;
          if (stat.dataLength > 0) out.push([rel, stampOf(stat)]);
          if (stat.numChildren > 0) await this.walk(rel, out);
        }),
    );
  }

  // ---- plumbing --------------------------------------------------------------------------------

  private pathOf(key: string): string {
    return joinPath(this.root, ...key.split('/'));
  }

  private async guard<T>(op: string, key: string, fn: () => Promise<T>): Promise<T> {
    if (this.closed) throw new StoreClosedError();
    try {
      return await fn();
    } catch (err) {
      if (err instanceof ZkError) {
        if (err.code === ZkErrorCode.CLOSED) throw new StoreClosedError();
        if (err.isConnectionError) {
          throw new StoreUnavailableError(
            `ZooKeeper unavailable during ${op} of '${key}' (${err.code})${op === 'put' || op === 'delete' ? '; the outcome is unknown, re-read before retrying' : ''}`,
            err,
          );
        }
      }
      throw err;
    }
  }
}

function frame(format: 'json' | 'gzip' | 'chunks', body: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${MAGIC}${format}\n`, 'utf8'), body]);
}

function unframe(key: string, data: Buffer): { format: 'json' | 'gzip' | 'chunks'; body: Buffer } {
  const nl = data.indexOf(0x0a);
  const header = nl > 0 && nl < 64 ? data.subarray(0, nl).toString('utf8') : '';
  if (!header.startsWith(MAGIC)) throw new StoreCorruptError(key, 'the node does not hold an Agora store value');
  const format = header.slice(MAGIC.length);
  if (format !== 'json' && format !== 'gzip' && format !== 'chunks') {
    throw new StoreCorruptError(key, `unknown value format '${format}'`);
  }
  return { format, body: data.subarray(nl + 1) };
}

function parseManifest(key: string, body: Buffer): Manifest {
  let m: Partial<Manifest>;
  try {
    m = JSON.parse(body.toString('utf8')) as Partial<Manifest>;
  } catch {
    throw new StoreCorruptError(key, 'unreadable chunk manifest');
  }
  if (
    typeof m.gen !== 'string' ||
    !/^[0-9a-f]+$/.test(m.gen) ||
    !Number.isInteger(m.count) ||
    !Number.isInteger(m.bytes) ||
    typeof m.sha256 !== 'string'
  ) {
    throw new StoreCorruptError(key, 'bad chunk manifest');
  }
  return m as Manifest;
}

function chunkPath(path: string, gen: string, i: number): string {
  return `${path}/${CHUNK_PREFIX}${gen}-${i}`;
}

function parseChunkName(name: string): { gen: string; index: number } | undefined {
  const m = /^\.chunk-([0-9a-f]+)-([0-9]+)$/.exec(name);
  return m ? { gen: m[1], index: Number(m[2]) } : undefined;
}

async function gunzipOrCorrupt(key: string, data: Buffer): Promise<Buffer> {
  try {
    return await gunzipAsync(data);
  } catch (err) {
    throw new StoreCorruptError(key, `bad gzip data: ${(err as Error).message}`);
  }
}
