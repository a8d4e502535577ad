/**
 * The secret store over the master's durable Store (files or ZooKeeper): one record per secret
 * under `secrets/`, its value sealed with AES-256-GCM (sdk/secrets/crypto.ts). Only names,
 * versions and times are in clear; values leave only through `reveal` (agent delivery).
 */

import { open, type Sealed, seal } from '../../sdk/secrets/crypto.js';
import { SecretNotFound, SecretUnreadable, TooManySecrets } from '../../sdk/secrets/errors.js';
import {
  checkSecretName,
  checkSecretValue,
  MAX_SECRETS,
  nameOfStoreKey,
  SECRETS_PREFIX,
  storeKeyOf,
} from '../../sdk/secrets/names.js';
import type { Store } from '../../sdk/store/store.js';
import { type Clock, systemClock } from '../../sdk/util/clock.js';

export interface SecretRecord {
  name: string;
  /** 1 at creation, +1 per update. */
  version: number;
  created_at: number;
  updated_at: number;
  sealed: Sealed;
}

export interface SecretMeta {
  name: string;
  version: number;
  created_at: number;
  updated_at: number;
}

function meta(r: SecretRecord): SecretMeta {
  return { name: r.name, version: r.version, created_at: r.created_at, updated_at: r.updated_at };
}

function isRecord(v: unknown, name: string): v is SecretRecord {
  const r = v as SecretRecord;
  return (
    typeof r === 'object' &&
    r !== null &&
    r.name === name &&
    Number.isInteger(r.version) &&
    typeof r.sealed === 'object' &&
    r.sealed !== null &&
    typeof r.sealed.ciphertext === 'string' &&
    typeof r.sealed.nonce === 'string' &&
    typeof r.sealed.tag === 'string'
  );
}

export class SecretStore {
  constructor(
    private readonly store: Store,
    private readonly key: Buffer,
    private readonly clock: Clock = systemClock,
  ) {}

  private async read(name: string): Promise<{ record: SecretRecord; version: number } | undefined> {
    const v = await this.store.get<unknown>(storeKeyOf(name));
    if (!v) return undefined;
    if (!isRecord(v.value, name)) throw new SecretUnreadable(`the record of secret '${name}' has the wrong shape`);
    return { record: v.value, version: v.version };
  }

  /** Creates or updates; resolves with the metadata and whether it was created. */
  async put(name: string, value: string): Promise<{ meta: SecretMeta; created: boolean }> {
    checkSecretName(name);
    checkSecretValue(value);
    const key = storeKeyOf(name);
    const now = this.clock.now() / 1000;
    const old = await this.read(name);
    if (!old && (await this.store.list(SECRETS_PREFIX)).length >= MAX_SECRETS) {
      throw new TooManySecrets(`the store holds ${MAX_SECRETS} secrets already; delete some first`);
    }
    const record: SecretRecord = {
      name,
      version: (old?.record.version ?? 0) + 1,
      created_at: old?.record.created_at ?? now,
      updated_at: now,
      sealed: seal(this.key, name, value),
    };
    // A concurrent change fails the compare-and-set: AGORA_STORE_CONFLICT (409), retry.
    await this.store.put(key, record, old?.version);
    return { meta: meta(record), created: !old };
  }

  async get(name: string): Promise<SecretMeta> {
    checkSecretName(name);
    const r = await this.read(name);
    if (!r) throw new SecretNotFound(`no secret '${name}'`);
    return meta(r.record);
  }

  /** Every secret's metadata, sorted by name (records that do not read back are left out). */
  async list(): Promise<SecretMeta[]> {
    const out: SecretMeta[] = [];
    for (const k of await this.store.list(SECRETS_PREFIX)) {
      const name = nameOfStoreKey(k);
      if (!name) continue;
      const r = await this.read(name).catch(() => undefined);
      if (r) out.push(meta(r.record));
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async delete(name: string): Promise<void> {
    checkSecretName(name);
    const r = await this.read(name).catch(() => undefined);
    if (!r && !(await this.store.get(storeKeyOf(name)))) throw new SecretNotFound(`no secret '${name}'`);
    await this.store.delete(storeKeyOf(name));
  }

  /** The values of `names`, for delivery to a task; throws SecretNotFound or SecretUnreadable. */
  async reveal(names: readonly string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const name of names) {
      checkSecretName(name);
      const r = await this.read(name);
      if (!r) throw new SecretNotFound(`no secret '${name}'`);
      out.set(name, open(this.key, name, r.record.sealed));
    }
    return out;
  }
}
