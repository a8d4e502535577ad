import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { CgroupPool, POOL_PREFIX, removePools, sweepPools } from '../../../agent/launcher/cgroup-pool.js';

// The pool's bookkeeping on plain directories (a cgroup hierarchy behaves the same for mkdir,
// rename and rmdir of empty directories; linux.test.ts checks it on real cgroups).
describe('CgroupPool (empty task cgroups made ahead, renamed into place)', () => {
  let root: string;
  let parents: string[];
  beforeEach(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'agora-pool-test-'));
    parents = ['memory', 'cpu', 'cpuacct'].map((h) => path.join(root, h, 'agora'));
    for (const p of parents) mkdirSync(p, { recursive: true });
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const dirsOf = (name: string) => parents.map((p) => path.join(p, name));
  const pooled = (p: string) => readdirSync(p).filter((n) => n.startsWith(POOL_PREFIX));
  async function until(what: string, ok: () => boolean): Promise<void> {
    for (let i = 0; i < 200; i++) {
      if (ok()) return;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`gave up waiting for ${what}`);
  }

  it('makes the first task cgroups itself, then fills up to its size once launches pause, the same name in every hierarchy', async () => {
    const pool = new CgroupPool({ size: 3, idleMs: 20, owner: 4242 });
    expect(pool.make(dirsOf('task-1'))).to.equal('mkdir');
    for (const d of dirsOf('task-1')) expect(existsSync(d)).to.equal(true);
    await until('the pool to fill', () => pool.readyFor(parents) === 3);
    const names = pooled(parents[0]);
    expect(names).to.have.length(3);
    for (const n of names) expect(n.startsWith(`${POOL_PREFIX}4242-`)).to.equal(true);
    for (const p of parents) expect(pooled(p)).to.deep.equal(names);
    pool.drain();
  });

  it('hands out a pooled set by renaming it (the same directories), then refills', async () => {
    const pool = new CgroupPool({ size: 2, idleMs: 20, owner: 4242 });
    pool.make(dirsOf('task-1'));
    await until('the pool to fill', () => pool.readyFor(parents) === 2);
    const before = new Map(pooled(parents[0]).map((n) => [statSync(path.join(parents[0], n)).ino, n]));
    expect(pool.make(dirsOf('task-2'))).to.equal('pool');
    const ino = statSync(dirsOf('task-2')[0]).ino;
    expect(before.has(ino), 'task-2 is a pooled directory, renamed').to.equal(true);
    for (const p of parents) expect(pooled(p)).to.have.length(1);
    await until('the pool to refill', () => pool.readyFor(parents) === 2);
    pool.drain();
    for (const p of parents) expect(pooled(p)).to.deep.equal([]);
    for (const d of [...dirsOf('task-1'), ...dirsOf('task-2')]) expect(existsSync(d), d).to.equal(true);
  });

  it('does not refill while launches go on, only after they pause', async () => {
    const pool = new CgroupPool({ size: 4, idleMs: 80, owner: 4242 });
    for (let i = 0; i < 5; i++) {
      pool.make(dirsOf(`task-${i}`));
      await new Promise((r) => setTimeout(r, 20));
      expect(pool.readyFor(parents)).to.equal(0);
    }
    await until('the pool to fill', () => pool.readyFor(parents) === 4);
    pool.drain();
  });

  it('falls back to mkdir and stops pooling when a pooled set cannot be renamed', async () => {
    const pool = new CgroupPool({ size: 2, idleMs: 20, owner: 4242 });
    pool.make(dirsOf('task-1'));
    await until('the pool to fill', () => pool.readyFor(parents) === 2);
    // Take the sets away behind its back: the rename fails (ENOENT), as where renaming is not supported.
    for (const p of parents) for (const n of pooled(p)) rmSync(path.join(p, n), { recursive: true });
    expect(pool.make(dirsOf('task-2'))).to.equal('mkdir');
    for (const d of dirsOf('task-2')) expect(existsSync(d)).to.equal(true);
    await new Promise((r) => setTimeout(r, 100));
    expect(pool.readyFor(parents), 'no refill once off').to.equal(0);
    expect(pool.make(dirsOf('task-3'))).to.equal('mkdir');
  });

  it('with size 0 never pools', async () => {
    const pool = new CgroupPool({ size: 0, idleMs: 5, owner: 4242 });
    expect(pool.make(dirsOf('task-1'))).to.equal('mkdir');
    await new Promise((r) => setTimeout(r, 50));
    for (const p of parents) expect(pooled(p)).to.deep.equal([]);
  });

  it("sweeps only the sets of launchers that are gone; removePools takes one launcher's", () => {
    for (const n of [`${POOL_PREFIX}100-0`, `${POOL_PREFIX}100-1`, `${POOL_PREFIX}200-0`, 'task-x', '+launcher'])
      mkdirSync(path.join(parents[0], n));
    expect(sweepPools(parents[0], (pid) => pid === 200)).to.equal(2);
    expect(readdirSync(parents[0]).sort()).to.deep.equal(['+launcher', `${POOL_PREFIX}200-0`, 'task-x']);
    expect(removePools(parents[0], 200)).to.equal(1);
    expect(readdirSync(parents[0]).sort()).to.deep.equal(['+launcher', 'task-x']);
  });
});
