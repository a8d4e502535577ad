/**
 * One contract suite for every Store back end (FileStore, ZkStore), plus what is particular to each:
 * crash-safety and the work-dir lock for FileStore, values far beyond ZooKeeper's 1 MB node limit
 * for ZkStore. ZkStore runs against a real ZooKeeper started through scripts/zookeeper.sh.
 */

import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect } from 'chai';
import {
  FileStore,
  isConflict,
  openStore,
  type Store,
  StoreConflictError,
  StoreErrorCode,
  StoreKeyError,
  StoreLockedError,
  validateKey,
  ZkStore,
} from '../../../sdk/store/index.js';
import { ZkClient } from '../../../sdk/zk/client.js';
import type { ZkCredentials } from '../../../sdk/zk/url.js';
import { caught } from '../../support/caught.js';
import { within } from '../../support/cluster.js';
import { requireReal } from '../../support/require-real.js';
import { TestZkServer, zookeeperAvailability } from '../../support/zookeeper.js';

const _execFileAsync = promisify(execFile);
const FILE_STORE_MODULE = fileURLToPath(new URL('../../../sdk/store/file-store.js', import.meta.url));

/** ~`bytes` of JSON that compresses poorly (hex strings from a random source), in many small records. */
function bulkyValue(bytes: number): { records: Array<{ id: number; blob: string; tags: string[] }> } {
  const records: Array<{ id: number; blob: string; tags: string[] }> = [];
  let size = 0;
  for (let id = 0; size < bytes; id++) {
    const blob = randomBytes(256).toString('hex');
    records.push({ id, blob, tags: [`t${id % 7}`, `r${id % 13}`] });
    size += blob.length + 40;
  }
  return { records };
}

interface Backend {
  name: string;
  /** A fresh, empty store. */
  open(): Promise<Store>;
  /** A second handle on the same data, as another writer would have (undefined if the back end has none). */
  second?(): Promise<Store>;
}

/** The contract every Store must meet. */
function contract(backend: () => Backend): void {
  let store: Store;
  beforeEach(async () => {
    store = await backend().open();
  });
  afterEach(async () => {
    await store.close();
  });

  it('returns undefined for an absent key', async () => {
    expect(await store.get('registrar/agents/nobody')).to.equal(undefined);
  });

  it('creates with expectedVersion undefined, then updates only at the current version', async () => {
    const v1 = await store.put('registrar/agents/a1', { hostname: 'h1', cpus: 4 });
    expect(await store.get('registrar/agents/a1')).to.deep.equal({ value: { hostname: 'h1', cpus: 4 }, version: v1 });

    const v2 = await store.put('registrar/agents/a1', { hostname: 'h1', cpus: 8 }, v1);
    expect(v2).to.not.equal(v1);
    expect(await store.get('registrar/agents/a1')).to.deep.equal({ value: { hostname: 'h1', cpus: 8 }, version: v2 });
  });

  it('rejects a create of an existing key and a stale or absent version with StoreConflictError', async () => {
    const v1 = await store.put('k', 1);
    const exists = await caught(store.put('k', 2));
    expect(exists).to.be.instanceOf(StoreConflictError);
    expect(exists).to.have.property('code', 'AGORA_STORE_CONFLICT');
    expect(exists).to.have.property('actualVersion', v1);

    const v2 = await store.put('k', 3, v1);
    const stale = await caught(store.put('k', 4, v1));
    expect(isConflict(stale)).to.equal(true);
    expect(stale).to.have.property('expectedVersion', v1);
    expect(stale).to.have.property('actualVersion', v2);

    const absent = await caught(store.put('never', 1, 0));
    expect(isConflict(absent)).to.equal(true);
    expect(await store.get('k')).to.deep.equal({ value: 3, version: v2 });
    expect(await store.get('never')).to.equal(undefined);
  });

  it('lets exactly one of two writers at the same version win', async () => {
    const v = await store.put('frameworks/f1', { n: 0 });
    const other = backend().second ? await backend().second!() : store;
    try {
      for (let round = 0; round < 5; round++) {
        const current = (await store.get<{ n: number }>('frameworks/f1'))!;
        const results = await Promise.allSettled([
          store.put('frameworks/f1', { n: current.value.n + 1, by: 'a' }, current.version),
          other.put('frameworks/f1', { n: current.value.n + 1, by: 'b' }, current.version),
        ]);
        const won = results.filter((r) => r.status === 'fulfilled');
        const lost = results.filter((r) => r.status === 'rejected');
        expect(won).to.have.length(1);
        expect(lost).to.have.length(1);
        expect(isConflict((lost[0] as PromiseRejectedResult).reason)).to.equal(true);
        const after = (await store.get<{ n: number; by: string }>('frameworks/f1'))!;
        expect(after.version).to.equal((won[0] as PromiseFulfilledResult<number>).value);
        expect(after.value.n).to.equal(round + 1);
      }
      // Two creates of the same absent key: one wins too.
      const creates = await Promise.allSettled([store.put('fresh', 'a'), other.put('fresh', 'b')]);
      expect(creates.filter((r) => r.status === 'fulfilled')).to.have.length(1);
    } finally {
      if (other !== store) await other.close();
    }
    expect(v).to.be.a('number');
  });

  it('deletes, with and without an expected version, and can create the key again', async () => {
    const v1 = await store.put('tasks/t1', { state: 'RUNNING' });
    const wrong = await caught(store.delete('tasks/t1', v1 + 100));
    expect(isConflict(wrong)).to.equal(true);
    await store.delete('tasks/t1', v1);
    expect(await store.get('tasks/t1')).to.equal(undefined);
    await store.delete('tasks/t1'); // absent: a no-op
    const absent = await caught(store.delete('tasks/t1', v1));
    expect(isConflict(absent)).to.equal(true);

    await store.put('tasks/t1', { state: 'STAGING' });
    await store.delete('tasks/t1');
    expect(await store.get('tasks/t1')).to.equal(undefined);
    await store.put('tasks/t1', { state: 'FINISHED' });
    expect((await store.get('tasks/t1'))?.value).to.deep.equal({ state: 'FINISHED' });
  });

  it('lets a key hold a value and sub-keys at once, and deleting one leaves the others', async () => {
    await store.put('a', 'parent');
    await store.put('a/b', 'child');
    await store.put('a/b/c', 'grandchild');
    expect(await store.list('')).to.deep.equal(['a', 'a/b', 'a/b/c']);
    await store.delete('a/b');
    expect(await store.list('')).to.deep.equal(['a', 'a/b/c']);
    expect((await store.get('a/b/c'))?.value).to.equal('grandchild');
    await store.delete('a');
    expect(await store.list('')).to.deep.equal(['a/b/c']);
    expect(await store.get('a')).to.equal(undefined);
  });

  it('lists keys by prefix, recursively and sorted', async () => {
    const keys = [
      'registrar/agents/a2',
      'registrar/agents/a1',
      'registrar/agents/b1',
      'registrar/frameworks/f1',
      'other',
    ];
    for (const k of keys) await store.put(k, { k });
    expect(await store.list('')).to.deep.equal([...keys].sort());
    expect(await store.list('registrar/')).to.deep.equal(keys.filter((k) => k.startsWith('registrar/')).sort());
    expect(await store.list('registrar/agents/')).to.deep.equal([
      'registrar/agents/a1',
      'registrar/agents/a2',
      'registrar/agents/b1',
    ]);
    expect(await store.list('registrar/agents/a')).to.deep.equal(['registrar/agents/a1', 'registrar/agents/a2']);
    expect(await store.list('registrar/agents')).to.deep.equal([
      'registrar/agents/a1',
      'registrar/agents/a2',
      'registrar/agents/b1',
    ]);
    expect(await store.list('nothing/here/')).to.deep.equal([]);
  });

  it('round-trips JSON values of every kind', async () => {
    const values: unknown[] = [
      0,
      -1.5,
      'text with "quotes" and ünïcödé ✓',
      true,
      false,
      null,
      [],
      {},
      [1, [2, [3]]],
      { a: { b: [null, 'x'] } },
    ];
    for (const [i, value] of values.entries()) {
      await store.put(`values/v${i}`, value);
      expect((await store.get(`values/v${i}`))?.value).to.deep.equal(value);
    }
    const undef = await caught(store.put('values/undef', undefined));
    expect(undef).to.have.property('code', StoreErrorCode.BAD_VALUE);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(await caught(store.put('values/cyclic', cyclic))).to.have.property('code', StoreErrorCode.BAD_VALUE);
    // What JSON would write as null, so that the record would not read back as written (issue 9, 1).
    for (const [i, bad] of [
      { quota: { cpus: 1e308 * 10 } },
      { weight: Number.NaN },
      [1, Number.NEGATIVE_INFINITY],
      [1, undefined, 3],
    ].entries()) {
      const e = await caught(store.put(`values/bad${i}`, bad));
      expect(e, JSON.stringify(bad)).to.have.property('code', StoreErrorCode.BAD_VALUE);
      expect(await store.get(`values/bad${i}`)).to.equal(undefined);
    }
    // An object field set to undefined is simply absent.
    await store.put('values/sparse', { a: 1, b: undefined });
    expect((await store.get('values/sparse'))?.value).to.deep.equal({ a: 1 });
  });

  it('stores a value of several megabytes', async () => {
    const value = bulkyValue(3 * 1024 * 1024);
    const v1 = await store.put('big/state', value);
    const got = await store.get<typeof value>('big/state');
    expect(got?.version).to.equal(v1);
    expect(got?.value).to.deep.equal(value);
  });

  it('rejects bad keys', async () => {
    const bad = [
      '',
      '/a',
      'a/',
      'a//b',
      '../a',
      'a/../b',
      'a/./b',
      '.hidden',
      'a/.b',
      'a b',
      'a\\b',
      'a\u0000b',
      'x'.repeat(201),
      '@value.json',
    ];
    for (const key of bad) {
      expect(() => validateKey(key), JSON.stringify(key)).to.throw(StoreKeyError);
      const put = await caught(store.put(key, 1));
      expect(put, JSON.stringify(key)).to.be.instanceOf(StoreKeyError);
      expect(put).to.have.property('code', 'AGORA_STORE_BAD_KEY');
      expect(await caught(store.get(key))).to.be.instanceOf(StoreKeyError);
      expect(await caught(store.delete(key))).to.be.instanceOf(StoreKeyError);
    }
    expect(await caught(store.list('/x'))).to.be.instanceOf(StoreKeyError);
    expect(await caught(store.list('a//'))).to.be.instanceOf(StoreKeyError);
    for (const key of ['a', 'registrar/agents/20240101-abc_1.2:3@x+y=z,w~v', 'A-B_c.d']) validateKey(key);
  });
}

describe('sdk/store', function () {
  this.timeout(120_000);

  describe('FileStore', () => {
    let dirs: string[] = [];
    const fresh = async () => {
      const dir = await mkdtemp(join(tmpdir(), 'agora-store-test-'));
      dirs.push(dir);
      return dir;
    };
    after(async () => {
      for (const d of dirs) await rm(d, { recursive: true, force: true });
      dirs = [];
    });

    describe('contract', () => {
      contract(() => ({ name: 'file', open: async () => FileStore.open(await fresh()) }));
    });

    it('keeps the old value through a crash mid-write (a leftover temp file is ignored and removed)', async () => {
      const dir = await fresh();
      const store = await FileStore.open(dir);
      const v = await store.put('registrar/agents/a1', { ok: 1 });
      await store.close();
      // A crash between writing the temp file and renaming it over the value, for an existing key and a new one.
      const keyDir = join(dir, 'store', 'registrar', 'agents', 'a1');
      await writeFile(join(keyDir, '.@value.json.tmp-999-deadbeef'), '{"version":1,"value":{"ok":2');
      const newKeyDir = join(dir, 'store', 'registrar', 'agents', 'a2');
      await mkdir(newKeyDir, { recursive: true });
      await writeFile(join(newKeyDir, '.@value.json.tmp-999-cafe'), '{"version":0,"value":"half');

      const reopened = await FileStore.open(dir);
      try {
        expect(await reopened.get('registrar/agents/a1')).to.deep.equal({ value: { ok: 1 }, version: v });
        expect(await reopened.get('registrar/agents/a2')).to.equal(undefined);
        expect(await reopened.list('registrar/')).to.deep.equal(['registrar/agents/a1']);
        expect(await readdir(keyDir)).to.deep.equal(['@value.json']);
        expect(await readdir(newKeyDir)).to.deep.equal([]);
        expect(await reopened.put('registrar/agents/a1', { ok: 3 }, v)).to.equal(v + 1);
      } finally {
        await reopened.close();
      }
    });

    it('writes a readable envelope, atomically replaced', async () => {
      const dir = await fresh();
      const store = await FileStore.open(dir);
      try {
        await store.put('k', { a: 1 });
        const text = await readFile(join(dir, 'store', 'k', '@value.json'), 'utf8');
        expect(JSON.parse(text)).to.deep.equal({ version: 0, value: { a: 1 } });
      } finally {
        await store.close();
      }
    });

    it('belongs to one process: a second open is refused while the holder lives, and a dead holder’s lock is taken over', async () => {
      const dir = await fresh();
      const first = await FileStore.open(dir);
      const same = await caught(FileStore.open(dir));
      expect(same).to.be.instanceOf(StoreLockedError);
      expect(same).to.have.property('code', 'AGORA_STORE_LOCKED');
      await first.close();

      // Another process opens it and stays.
      const child = spawn(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `const { FileStore } = await import(${JSON.stringify(FILE_STORE_MODULE)});
           await FileStore.open(${JSON.stringify(dir)});
           process.stdout.write('ready\\n');
           setInterval(() => {}, 1000);`,
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      try {
        await within(once(child.stdout!, 'data'), 'the other process to open the store and print ready');
        const locked = await caught(FileStore.open(dir));
        expect(locked).to.be.instanceOf(StoreLockedError);
        expect(locked).to.have.property('holderPid', child.pid);
        expect((locked as Error).message).to.include(String(child.pid));
      } finally {
        child.kill('SIGKILL');
        await once(child, 'exit');
      }
      // It died without closing: its lock is stale, and we take it.
      const after = await FileStore.open(dir);
      await after.close();
    });

    it('serialises concurrent writers within the process', async () => {
      const store = await FileStore.open(await fresh());
      try {
        const v0 = await store.put('counter', 0);
        const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => store.put('counter', i + 1, v0)));
        expect(results.filter((r) => r.status === 'fulfilled')).to.have.length(1);
        expect(results.filter((r) => r.status === 'rejected' && isConflict(r.reason))).to.have.length(9);
      } finally {
        await store.close();
      }
    });

    it('refuses calls after close()', async () => {
      const store = await FileStore.open(await fresh());
      await store.close();
      expect(await caught(store.get('k'))).to.have.property('code', 'AGORA_STORE_CLOSED');
    });
  });

  for (const credentials of [undefined, { scheme: 'digest' as const, username: 'agora', password: 'store-pw' }])
    describe(`ZkStore${credentials ? ' with credentials' : ''} @integration`, () => zkSuite(credentials));
});

function zkSuite(credentials?: ZkCredentials): void {
  {
    let port = 0;
    let zk: TestZkServer;
    let started = false;
    let root = '';
    let n = 0;
    const clients: ZkClient[] = [];
    const newClient = async () => {
      const client = new ZkClient({ servers: `127.0.0.1:${port}`, sessionTimeoutMs: 10_000, credentials });
      clients.push(client);
      await client.connect();
      return client;
    };

    before(async function () {
      requireReal(this, 'ZooKeeper', zookeeperAvailability());
      zk = await TestZkServer.start();
      port = zk.port;
      started = true;
    });
    beforeEach(() => {
      root = `/agora-store-${++n}/state`;
    });
    afterEach(async () => {
      for (const c of clients.splice(0)) await c.close();
    });
    after(async () => {
      if (started) await zk.destroy();
    });

    describe('contract', () => {
      contract(() => ({
        name: 'zk',
        open: async () => ZkStore.open({ client: await newClient(), root }),
        second: async () => ZkStore.open({ client: await newClient(), root }),
      }));
    });

    it('stores 5 MB of random-ish JSON in chunks under the 1 MB node limit, and replaces it cleanly', async () => {
      const client = await newClient();
      const store = await ZkStore.open({ client, root });
      const value = bulkyValue(5 * 1024 * 1024);
      expect(JSON.stringify(value).length).to.be.greaterThan(5 * 1024 * 1024);
      const v1 = await store.put('state/apps', value);

      const head = await client.get(`${root}/state/apps`);
      expect(head.data.subarray(0, 30).toString()).to.match(/^agora-store\/1 chunks\n/);
      const chunks = (await client.getChildren(`${root}/state/apps`)).filter((c) => c.startsWith('.chunk-'));
      expect(chunks.length).to.be.greaterThan(1);
      for (const c of chunks)
        expect((await client.exists(`${root}/state/apps/${c}`))!.dataLength).to.be.below(1024 * 1024);
      if (credentials) {
        // Neither the head nor a chunk may be read without the credentials.
        const outsider = new ZkClient({ servers: `127.0.0.1:${port}`, sessionTimeoutMs: 10_000 });
        clients.push(outsider);
        await outsider.connect();
        for (const node of [`${root}/state/apps`, `${root}/state/apps/${chunks[0]}`])
          expect(await caught(outsider.get(node))).to.have.property('code', 'NO_AUTH');
      }

      // Another client (a new leader) reads it back whole.
      const reader = await ZkStore.open({ client: await newClient(), root });
      expect(await reader.get('state/apps')).to.deep.equal({ value, version: v1 });

      // Replacing it switches to a new generation and removes the old chunks.
      const value2 = bulkyValue(4 * 1024 * 1024);
      const v2 = await store.put('state/apps', value2, v1);
      expect(await reader.get('state/apps')).to.deep.equal({ value: value2, version: v2 });
      const after = (await client.getChildren(`${root}/state/apps`)).filter((c) => c.startsWith('.chunk-'));
      expect(after.some((c) => chunks.includes(c))).to.equal(false);

      // A losing chunked writer leaves nothing behind.
      const stale = await caught(reader.put('state/apps', value, v1));
      expect(isConflict(stale)).to.equal(true);
      expect(
        (await client.getChildren(`${root}/state/apps`)).filter((c) => c.startsWith('.chunk-')).sort(),
      ).to.deep.equal(after.sort());

      // Going back to a small value removes the chunks; deleting removes the node.
      const v3 = await store.put('state/apps', { small: true }, v2);
      expect(await client.getChildren(`${root}/state/apps`)).to.deep.equal([]);
      expect(await reader.get('state/apps')).to.deep.equal({ value: { small: true }, version: v3 });
      await store.put('state/apps', value, v3);
      await store.delete('state/apps');
      expect(await client.exists(`${root}/state/apps`)).to.equal(undefined);
      expect(await reader.get('state/apps')).to.equal(undefined);
    });

    it('gzips a value over the inline limit that compresses below it, in one node', async () => {
      const client = await newClient();
      const store = await ZkStore.open({ client, root });
      const value = { lines: Array.from({ length: 60_000 }, (_, i) => `task-${i % 50} is RUNNING on agent-${i % 7}`) };
      expect(JSON.stringify(value).length).to.be.greaterThan(1024 * 1024);
      const v = await store.put('compressible', value);
      const head = await client.get(`${root}/compressible`);
      expect(head.data.subarray(0, 20).toString()).to.match(/^agora-store\/1 gzip\n/);
      expect(await client.getChildren(`${root}/compressible`)).to.deep.equal([]);
      expect(await store.get('compressible')).to.deep.equal({ value, version: v });
    });

    it('lets exactly one of two concurrent chunked writers win, and readers see one whole value', async () => {
      const [c1, c2, c3] = [await newClient(), await newClient(), await newClient()];
      const [s1, s2, reader] = [
        await ZkStore.open({ client: c1, root }),
        await ZkStore.open({ client: c2, root }),
        await ZkStore.open({ client: c3, root }),
      ];
      const base = bulkyValue(2 * 1024 * 1024);
      const v0 = await s1.put('contended', base);
      const a = { ...bulkyValue(2 * 1024 * 1024), writer: 'a' };
      const b = { ...bulkyValue(2 * 1024 * 1024), writer: 'b' };
      const reads: Array<Promise<unknown>> = [];
      const writes = Promise.allSettled([s1.put('contended', a, v0), s2.put('contended', b, v0)]);
      for (let i = 0; i < 5; i++) reads.push(reader.get('contended'));
      const results = await writes;
      expect(results.filter((r) => r.status === 'fulfilled')).to.have.length(1);
      const winner = results[0].status === 'fulfilled' ? a : b;
      for (const r of await Promise.all(reads)) {
        const value = (r as { value: unknown }).value;
        expect(
          [base, a, b].some((candidate) => candidate === value || JSON.stringify(candidate) === JSON.stringify(value)),
        ).to.equal(true);
      }
      expect((await reader.get('contended'))?.value).to.deep.equal(winner);
      const chunkGens = new Set(
        (await c3.getChildren(`${root}/contended`)).filter((c) => c.startsWith('.chunk-')).map((c) => c.split('-')[1]),
      );
      expect(chunkGens.size).to.equal(1);
    });

    it('stamps each key: the same stamp while the node is unchanged, another after a write, a delete and create, or a chunked replacement', async () => {
      const store = await ZkStore.open({ client: await newClient(), root });
      const other = await ZkStore.open({ client: await newClient(), root });
      const stampsOf = async () => new Map(await other.listStamped('r/'));
      const v0 = await store.put('r/a', { n: 1 });
      const vb = await store.put('r/b', { n: 2 });
      await store.put('q/c', { n: 3 });
      const s0 = await stampsOf();
      expect([...s0.keys()]).to.deep.equal(['r/a', 'r/b']);
      expect(await other.list('r/')).to.deep.equal(['r/a', 'r/b']);
      // getStamped gives the stamp listStamped gives for the same node, with get's value and version.
      const got = await other.getStamped('r/a');
      expect(got).to.deep.equal({ value: { n: 1 }, version: v0, stamp: s0.get('r/a') });

      // Unchanged by writes of other keys, and by a sub-key (a child node).
      await store.put('r/b', { n: 22 }, vb);
      await store.put('r/a/sub', { n: 4 });
      const s1 = await stampsOf();
      expect(s1.get('r/a')).to.equal(s0.get('r/a'));
      expect(s1.get('r/b')).to.not.equal(s0.get('r/b'));

      // Rewritten with the same value: another stamp.
      await store.put('r/a', { n: 1 }, v0);
      const s2 = await stampsOf();
      expect(s2.get('r/a')).to.not.equal(s1.get('r/a'));
      expect((await other.getStamped('r/a'))?.stamp).to.equal(s2.get('r/a'));

      // Deleted and created again with the same value: the version starts again (the same number
      // as before), the stamp does not.
      await store.delete('r/b');
      expect((await stampsOf()).has('r/b')).to.equal(false);
      expect(await other.getStamped('r/b')).to.equal(undefined);
      const c0 = await store.put('r/c', { n: 5 });
      const sc0 = (await stampsOf()).get('r/c');
      await store.delete('r/c');
      const c1 = await store.put('r/c', { n: 5 });
      expect(c1).to.equal(c0);
      const sc1 = (await stampsOf()).get('r/c');
      expect(sc1).to.be.a('string');
      expect(sc1).to.not.equal(sc0);

      // A chunked value replaced by another: its head is rewritten, so another stamp.
      const big = bulkyValue(2 * 1024 * 1024);
      const b0 = await store.put('r/big', big);
      const sb0 = (await stampsOf()).get('r/big');
      expect((await other.getStamped('r/big'))?.stamp).to.equal(sb0);
      await store.put('r/big', bulkyValue(2 * 1024 * 1024), b0);
      expect((await stampsOf()).get('r/big')).to.not.equal(sb0);
    });

    it('is opened by openStore() from a zk:// URL, under <path>/state', async () => {
      const auth = credentials ? `${credentials.username}:${credentials.password}@` : '';
      const store = await openStore(`zk://${auth}127.0.0.1:${port}/agora-open`);
      try {
        await store.put('x/y', 1);
        const client = await newClient();
        expect(await client.exists('/agora-open/state/x/y')).to.not.equal(undefined);
      } finally {
        await store.close();
      }
    });
  }
}
