/**
 * The durable, versioned key-value store the master's registrar (and the frameworks) keep their
 * state in. Two back ends implement it: `FileStore` (one process, a local work dir) and `ZkStore`
 * (shared through ZooKeeper, for masters that fail over to each other).
 *
 * Keys are slash-separated paths such as `registrar/agents/<id>`; values are JSON. Every write is a
 * compare-and-set against the version the writer last saw, so two writers never silently overwrite
 * each other: the loser gets a `StoreConflictError` and must re-read.
 *
 * Versions are opaque integers that grow with every write of a key; compare them only for equality.
 * (A key deleted and created again may start from a low version again.)
 */
import { AgoraError, statusOf } from '../errors.js';

export interface Versioned<T> {
  value: T;
  version: number;
}

export interface Store {
  get<T>(key: string): Promise<Versioned<T> | undefined>;
  /** Compare-and-set: `expectedVersion` undefined = create only if absent; resolves with the new version; rejects with StoreConflictError (code AGORA_STORE_CONFLICT) on a version mismatch. */
  put<T>(key: string, value: T, expectedVersion?: number): Promise<number>;
  /** Deletes the key; with `expectedVersion`, only at that version (StoreConflictError otherwise, also when absent). Without it, deleting an absent key is a no-op. */
  delete(key: string, expectedVersion?: number): Promise<void>;
  /** Every key that starts with `prefix` (`''` for all), sorted. `registrar/agents/` lists that folder, recursively. */
  list(prefix: string): Promise<string[]>;
  close(): Promise<void>;
}

// ---- errors (codes are stable, never reused) ---------------------------------------------------

export const StoreErrorCode = {
  CONFLICT: 'AGORA_STORE_CONFLICT',
  BAD_KEY: 'AGORA_STORE_BAD_KEY',
  BAD_VALUE: 'AGORA_STORE_BAD_VALUE',
  LOCKED: 'AGORA_STORE_LOCKED',
  CLOSED: 'AGORA_STORE_CLOSED',
  CORRUPT: 'AGORA_STORE_CORRUPT',
  UNAVAILABLE: 'AGORA_STORE_UNAVAILABLE',
} as const;
export type StoreErrorCode = (typeof StoreErrorCode)[keyof typeof StoreErrorCode];

/** Every Store failure; `code` is one of {@link StoreErrorCode}, `statusCode` from the SDK catalogue (sdk/errors.ts). */
export class StoreError extends AgoraError {
  declare readonly code: StoreErrorCode;
  constructor(code: StoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, statusOf(code), options);
    this.name = 'StoreError';
  }
}

/** The key's version is not the expected one (or it exists when it should not, or the reverse). */
export class StoreConflictError extends StoreError {
  constructor(
    readonly key: string,
    readonly expectedVersion: number | undefined,
    /** The version found, when known; undefined when the key is absent. */
    readonly actualVersion?: number,
  ) {
    const expected = expectedVersion === undefined ? 'absent' : `version ${expectedVersion}`;
    const actual = actualVersion === undefined ? 'a different state' : `version ${actualVersion}`;
    super(StoreErrorCode.CONFLICT, `store conflict on '${key}': expected ${expected}, found ${actual}`);
    this.name = 'StoreConflictError';
  }
}

export class StoreKeyError extends StoreError {
  constructor(
    readonly key: string,
    reason: string,
  ) {
    super(StoreErrorCode.BAD_KEY, `bad store key '${key}': ${reason}`);
    this.name = 'StoreKeyError';
  }
}

export class StoreValueError extends StoreError {
  constructor(key: string, reason: string) {
    super(StoreErrorCode.BAD_VALUE, `bad value for store key '${key}': ${reason}`);
    this.name = 'StoreValueError';
  }
}

export class StoreLockedError extends StoreError {
  constructor(
    readonly dir: string,
    readonly holderPid: number,
  ) {
    super(
      StoreErrorCode.LOCKED,
      `the store in ${dir} is in use by process ${holderPid}; stop it first (or, if that process is not ours, remove ${dir}/.lock)`,
    );
    this.name = 'StoreLockedError';
  }
}

export class StoreClosedError extends StoreError {
  constructor() {
    super(StoreErrorCode.CLOSED, 'the store is closed');
    this.name = 'StoreClosedError';
  }
}

export class StoreCorruptError extends StoreError {
  constructor(key: string, reason: string) {
    super(StoreErrorCode.CORRUPT, `store key '${key}' is unreadable: ${reason}`);
    this.name = 'StoreCorruptError';
  }
}

/** The back end cannot be reached; for a write, its outcome is unknown (re-read before retrying). */
export class StoreUnavailableError extends StoreError {
  constructor(message: string, cause?: unknown) {
    super(StoreErrorCode.UNAVAILABLE, message, { cause });
    this.name = 'StoreUnavailableError';
  }
}

export function isConflict(err: unknown): err is StoreConflictError {
  return err instanceof StoreError && err.code === StoreErrorCode.CONFLICT;
}

// ---- keys ----------------------------------------------------------------------------------------

/** Characters allowed in a key segment: safe in file names, ZooKeeper node names, URLs and shells. */
const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9_.:@+=,~-]*$/;
const MAX_SEGMENT = 200;
const MAX_KEY = 1000;

/**
 * Checks a key: slash-separated segments, none empty, none `.`/`..`, none starting with `.` (the
 * back ends keep their own files and nodes under such names), at most 200 characters each.
 */
export function validateKey(key: string): void {
  if (typeof key !== 'string') throw new StoreKeyError(String(key), 'not a string');
  if (key.length === 0) throw new StoreKeyError(key, 'empty');
  if (key.length > MAX_KEY) throw new StoreKeyError(key, `longer than ${MAX_KEY} characters`);
  for (const segment of key.split('/')) checkSegment(key, segment);
}

/** Checks a list() prefix: '' or a key, optionally ending with '/'; the last segment may be partial. */
export function validatePrefix(prefix: string): void {
  if (typeof prefix !== 'string') throw new StoreKeyError(String(prefix), 'not a string');
  if (prefix === '') return;
  const body = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  if (body === '') throw new StoreKeyError(prefix, "a prefix may not start with '/'");
  validateKey(body);
}

function checkSegment(key: string, segment: string): void {
  if (segment === '') throw new StoreKeyError(key, "empty segment (leading, trailing or doubled '/')");
  if (segment === '.' || segment === '..') throw new StoreKeyError(key, `'${segment}' segment`);
  if (segment.startsWith('.')) throw new StoreKeyError(key, `segment '${segment}' starts with '.'`);
  if (segment.length > MAX_SEGMENT) throw new StoreKeyError(key, `segment longer than ${MAX_SEGMENT} characters`);
  if (!SEGMENT.test(segment))
    throw new StoreKeyError(key, `segment '${segment}' has characters outside [A-Za-z0-9_.:@+=,~-]`);
}

/** The directory part of a prefix (what to enumerate) — `a/b/c` → `a/b`, `a/b/` → `a/b`, `a` → ''. */
export function prefixDir(prefix: string): string {
  const slash = prefix.lastIndexOf('/');
  return slash < 0 ? '' : prefix.slice(0, slash);
}

/**
 * Serialises a value to JSON text, refusing what JSON cannot hold or would not give back: a
 * non-finite number (JSON writes null, so a record with an overflowed quantity could not be read
 * back as written), and undefined, a function or a symbol inside an array (written as null).
 * Object fields set to undefined are left out, as absent.
 */
export function encodeValue(key: string, value: unknown): string {
  if (value === undefined) throw new StoreValueError(key, 'undefined cannot be stored (delete the key instead)');
  let text: string | undefined;
  try {
    text = JSON.stringify(value, function (this: unknown, field: string, v: unknown) {
      if (typeof v === 'number' && !Number.isFinite(v)) {
        throw new StoreValueError(key, `the number at '${field}' is ${v}, which JSON cannot hold`);
      }
      if (Array.isArray(this) && (v === undefined || typeof v === 'function' || typeof v === 'symbol')) {
        throw new StoreValueError(key, `item ${field} of an array is ${typeof v}, which JSON would turn into null`);
      }
      return v;
    });
  } catch (err) {
    if (err instanceof StoreValueError) throw err;
    throw new StoreValueError(key, `not serialisable to JSON: ${(err as Error).message}`);
  }
  if (text === undefined) throw new StoreValueError(key, `a ${typeof value} cannot be stored as JSON`);
  return text;
}

/** Serialises work per key within one process (the CAS of one writer at a time). */
export class KeyedMutex {
  private tails = new Map<string, Promise<void>>();

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous.then(() => mine);
    this.tails.set(key, tail);
    await previous;
    try {
      return await fn();
    } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}
