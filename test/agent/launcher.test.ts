import { execFileSync, spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { type CgroupLayout, detectLayout } from '../../agent/containerizer/cgroups.js';
import { isAlive, killGroup, processStartTime } from '../../agent/containerizer/proc.js';
import { LaunchError, type LaunchedProcess, Launcher, pidsWithCwd } from '../../agent/launcher/client.js';
import type { LaunchRequest } from '../../agent/launcher/protocol.js';
import { requireReal } from '../support/require-real.js';

const PARENT = fileURLToPath(new URL('../support/launcher-parent.js', import.meta.url));

/** Polls `probe` for up to `ms` (by the clock: 200 tries of 50 ms took far longer than 10 s under load). */
async function until<T>(what: string, probe: () => T | undefined, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`gave up after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('Launcher (a real launcher process starting real processes)', function () {
  this.timeout(90_000);
  let dir: string;
  let launcher: Launcher;
  const started: LaunchedProcess[] = [];

  function req(name: string, script: string, extra: Partial<LaunchRequest> = {}): Omit<LaunchRequest, 'id'> {
    const cwd = path.join(dir, name);
    return {
      file: '/bin/sh',
      args: ['-c', script],
      cwd,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', GREETING: 'hello' },
      stdout: path.join(cwd, 'stdout'),
      stderr: path.join(cwd, 'stderr'),
      prepare: { mkdir: [cwd] },
      ...extra,
    };
  }

  async function launch(r: Omit<LaunchRequest, 'id'>): Promise<LaunchedProcess> {
    const p = await launcher.launch(r);
    started.push(p);
    return p;
  }

  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'agora-launcher-'));
    launcher = new Launcher({ pollIntervalMs: 50 });
  });

  afterEach(() => {
    for (const p of started.splice(0)) killGroup(p.pid, 'SIGKILL');
    launcher.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts a process in its own directory and environment, and reports its pid, start time and exit', async () => {
    const p = await launch(req('a', 'echo "$GREETING from $(pwd)"; echo oops >&2; exit 3'));
    expect(p.pid).to.be.a('number');
    const end = await p.exited;
    expect(end).to.deep.equal({ code: 3, signal: null });
    expect(readFileSync(path.join(dir, 'a', 'stdout'), 'utf8')).to.equal(`hello from ${path.join(dir, 'a')}\n`);
    expect(readFileSync(path.join(dir, 'a', 'stderr'), 'utf8')).to.equal('oops\n');
    expect(launcher.pid).to.be.a('number').and.not.equal(process.pid);
  });

  it('records the start time /proc has, and puts the process in its own process group', async () => {
    const p = await launch(req('b', 'sleep 30'));
    expect(p.startTime).to.equal(processStartTime(p.pid));
    const pgid = Number(readFileSync(`/proc/${p.pid}/stat`, 'utf8').split(') ')[1].split(' ')[2]);
    expect(pgid).to.equal(p.pid);
    killGroup(p.pid, 'SIGTERM');
    expect(await p.exited).to.deep.equal({ code: null, signal: 'SIGTERM' });
  });

  it('appends to existing output files, and runs the preparation steps in order', async () => {
    const cwd = path.join(dir, 'c');
    await launch(req('c', 'true', { prepare: { mkdir: [cwd] } })).then((p) => p.exited);
    writeFileSync(path.join(cwd, 'old-status'), '9');
    const p = await launch(
      req('c', 'echo second; cat limit', {
        prepare: {
          mkdir: [cwd, path.join(cwd, 'sub', 'deeper')],
          unlink: [path.join(cwd, 'old-status'), path.join(cwd, 'never-there')],
          write: [
            { file: path.join(cwd, 'limit'), value: '42' },
            { file: path.join(cwd, 'no-such-dir', 'x'), value: '1', optional: true },
          ],
        },
      }),
    );
    await p.exited;
    expect(existsSync(path.join(cwd, 'old-status'))).to.equal(false);
    expect(existsSync(path.join(cwd, 'sub', 'deeper'))).to.equal(true);
    expect(readFileSync(path.join(cwd, 'stdout'), 'utf8')).to.equal('second\n42');
  });

  it('fails a launch whose preparation fails, and starts nothing', async () => {
    const cwd = path.join(dir, 'd');
    const err = await launcher
      .launch(
        req('d', 'touch ran', {
          prepare: { mkdir: [cwd], write: [{ file: path.join(cwd, 'missing', 'limit'), value: '1' }] },
        }),
      )
      .catch((e: unknown) => e);
    expect(err).to.be.instanceOf(LaunchError);
    expect((err as LaunchError).stage).to.equal('prepare');
    expect((err as Error).message).to.match(/could not write 1 to .*missing\/limit/);
    await new Promise((r) => setTimeout(r, 200));
    expect(existsSync(path.join(cwd, 'ran'))).to.equal(false);
    // The launcher keeps serving.
    const p = await launch(req('d2', 'exit 0'));
    expect(await p.exited).to.deep.equal({ code: 0, signal: null });
  });

  it('writes the after-spawn values once the child runs; a failed one kills the child and fails the launch', async () => {
    const ok = await launch(
      req('a', 'sleep 30', {
        afterSpawn: [
          { file: path.join(dir, 'a', 'after'), value: 'x' },
          { file: path.join(dir, 'missing', 'optional'), value: '1', optional: true },
        ],
      }),
    );
    expect(isAlive(ok.pid)).to.equal(true);
    expect(readFileSync(path.join(dir, 'a', 'after'), 'utf8')).to.equal('x');
    // The failed write must kill what the child started too, not the child alone: the shell's
    // `sleep` would stay in the sandbox, outside the limits the write was to set. The first write
    // goes to a FIFO, so it waits until the test has seen the sleep start and opens the FIFO.
    const cwd = path.join(dir, 'b');
    mkdirSync(cwd, { recursive: true });
    const gate = path.join(cwd, 'gate');
    execFileSync('mkfifo', [gate]);
    const launching = launcher
      .launch(
        req('b', 'sleep 120; true', {
          afterSpawn: [
            { file: gate, value: 'go' },
            { file: path.join(cwd, 'missing', 'limit'), value: '1' },
          ],
        }),
      )
      .catch((e: unknown) => e);
    await until('the shell and its sleep to run', () => (pidsWithCwd(cwd).length >= 2 ? true : undefined));
    const fd = openSync(gate, 'r');
    readFileSync(fd);
    closeSync(fd);
    const err = await launching;
    expect(err).to.be.instanceOf(LaunchError);
    expect((err as LaunchError).stage).to.equal('prepare');
    expect((err as Error).message).to.match(/could not write 1 to .*missing\/limit/);
    // Both are gone (killed), well before the sleep would have ended.
    await until('the shell and its sleep to be gone', () => (pidsWithCwd(cwd).length === 0 ? true : undefined));
  });

  it('fails a launch of a program that does not exist, or whose output file cannot be opened', async () => {
    const noFile = await launcher.launch(req('e', '', { file: '/no/such/program', args: [] })).catch((e) => e);
    expect(noFile).to.be.instanceOf(LaunchError);
    expect((noFile as LaunchError).stage).to.equal('spawn');
    expect((noFile as Error).message).to.include('/no/such/program');

    const noOut = await launcher
      .launch(req('f', 'true', { stdout: path.join(dir, 'f', 'missing', 'stdout') }))
      .catch((e) => e);
    expect(noOut).to.be.instanceOf(LaunchError);
    expect((noOut as Error).message).to.include('ENOENT');
  });

  it('records how the child ended (its code, or 128 + the signal) before reporting the exit', async () => {
    const status = (name: string) => path.join(dir, name, '.status');
    const a = await launch(req('g', 'exit 3', { statusFile: status('g') }));
    expect(await a.exited).to.deep.equal({ code: 3, signal: null });
    expect(readFileSync(status('g'), 'utf8')).to.equal('3\n');
    const b = await launch(req('h', 'sleep 30', { statusFile: status('h') }));
    killGroup(b.pid, 'SIGTERM');
    expect(await b.exited).to.deep.equal({ code: null, signal: 'SIGTERM' });
    expect(readFileSync(status('h'), 'utf8')).to.equal('143\n');
  });

  describe('cgroups (real cgroup v1) @integration', () => {
    let layout: CgroupLayout | undefined;
    const made: string[] = [];
    before(function () {
      try {
        layout = detectLayout();
      } catch (err) {
        requireReal(this, 'cgroups', { ok: false, reason: (err as Error).message });
      }
      requireReal(this, 'cgroup v1 as root', {
        ok: layout?.version === 1 && process.getuid?.() === 0,
        reason: 'this test moves threads through cgroup v1 tasks files as root',
      });
    });
    after(() => {
      for (const d of made.reverse()) rmdirSync(d);
    });

    function mine(): { dir: string; tasks: string; own: string } {
      const own = (layout as CgroupLayout).own.memory;
      const d = path.join(own, `agora-launcher-test-${process.pid}-${made.length}`);
      mkdirSync(d);
      made.push(d);
      return { dir: d, tasks: path.join(d, 'tasks'), own: path.join(own, 'tasks') };
    }

    function memoryCgroupOf(pid: number, tid = pid): string {
      const line = readFileSync(`/proc/${pid}/task/${tid}/cgroup`, 'utf8')
        .split('\n')
        .find((l) => /^\d+:([^:]*,)?memory(,[^:]*)?:/.test(l));
      return (line ?? '').split(':')[2];
    }

    it('starts the child inside the given cgroups, and the launcher goes back to its own', async () => {
      const cg = mine();
      const before = memoryCgroupOf(process.pid);
      const p = await launch(req('cg', 'sleep 30', { cgroups: { join: [cg.tasks], leave: [cg.own] } }));
      expect(memoryCgroupOf(p.pid)).to.equal(`${before === '/' ? '' : before}/${path.basename(cg.dir)}`);
      const lp = launcher.pid as number;
      expect(memoryCgroupOf(lp)).to.equal(before);
      // With the spawn helper it is the helper (the child's parent) that moved: it is back too.
      const spawner = Number(readFileSync(`/proc/${p.pid}/stat`, 'utf8').split(') ')[1].split(' ')[1]);
      expect(memoryCgroupOf(spawner)).to.equal(before);
      // The shell and the sleep it started: everything of the child is inside.
      const inside = readFileSync(path.join(cg.dir, 'cgroup.procs'), 'utf8').trim().split('\n').map(Number);
      expect(inside).to.include(p.pid);
      killGroup(p.pid, 'SIGKILL');
      await p.exited;
    });

    it('fails a launch whose cgroup cannot be joined, starts nothing, and stays where it was', async () => {
      const cg = mine();
      const err = await launcher
        .launch(req('cg2', 'touch ran', { cgroups: { join: [path.join(cg.dir, 'gone', 'tasks')], leave: [cg.own] } }))
        .catch((e: unknown) => e);
      expect(err).to.be.instanceOf(LaunchError);
      expect((err as Error).message).to.match(/could not join cgroup .*gone\/tasks/);
      expect(memoryCgroupOf(launcher.pid as number)).to.equal(memoryCgroupOf(process.pid));
      await new Promise((r) => setTimeout(r, 200));
      expect(existsSync(path.join(dir, 'cg2', 'ran'))).to.equal(false);
    });
  });

  it('launches a burst of 100 in one batch, each once, with distinct pids', async () => {
    const ps = await Promise.all(
      Array.from({ length: 100 }, (_, i) => launch(req(`burst-${i}`, `echo ${i}; sleep 30`))),
    );
    expect(new Set(ps.map((p) => p.pid)).size).to.equal(100);
    for (let i = 0; i < 100; i++) {
      const out = await until(`output of ${i}`, () => {
        const t = readFileSync(path.join(dir, `burst-${i}`, 'stdout'), 'utf8');
        return t ? t : undefined;
      });
      expect(out).to.equal(`${i}\n`);
    }
  });

  it('survives the death of its launcher process: running tasks are still watched, the next launch starts a new one', async () => {
    const p = await launch(req('i', 'sleep 30'));
    const first = launcher.pid as number;
    process.kill(first, 'SIGKILL');
    await until('the launcher to be seen dead', () => (launcher.restartCount === 1 ? true : undefined));
    expect(isAlive(p.pid)).to.equal(true);
    killGroup(p.pid, 'SIGKILL');
    expect(await p.exited).to.equal(undefined); // seen gone by pid: no exit code from a dead launcher
    const q = await launch(req('j', 'exit 7'));
    expect(launcher.pid).to.not.equal(first);
    expect(await q.exited).to.deep.equal({ code: 7, signal: null });
  });

  it('with the spawn helper, a task that ends after its launcher was killed still has its status recorded @integration', async function () {
    requireReal(this, 'the spawn helper (a C compiler to build it)', {
      ok: launcher.nativeSpawn,
      reason: 'no spawn helper could be built (apt-get install gcc libc6-dev)',
    });
    const cwd = path.join(dir, 'k');
    const statusFile = path.join(cwd, '.agora-exit-status');
    const p = await launch(req('k', 'while [ ! -f go ]; do sleep 0.05; done; exit 6', { statusFile }));
    process.kill(launcher.pid as number, 'SIGKILL');
    await until('the launcher to be seen dead', () => (launcher.restartCount === 1 ? true : undefined));
    writeFileSync(path.join(cwd, 'go'), '');
    expect(await p.exited).to.equal(undefined); // seen gone by pid
    // The helper outlived its launcher and recorded the status (Node's spawn path cannot).
    expect(
      await until('the status file', () => (existsSync(statusFile) ? readFileSync(statusFile, 'utf8') : undefined)),
    ).to.equal('6\n');
  });

  describe('with two launcher processes', () => {
    let two: Launcher;
    beforeEach(() => {
      two = new Launcher({ pollIntervalMs: 50, processes: 2 });
    });
    afterEach(() => two.close());

    const parentOf = (pid: number) => Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[1]);
    /** The launcher process that started a task: its parent, or its spawn helper's parent. */
    const launcherOf = (pid: number) => {
      const p = parentOf(pid);
      return two.pids.includes(p) ? p : parentOf(p);
    };

    it('deals a burst out to both (each is the parent of half), each task once, and reports every exit', async () => {
      const ps = await Promise.all(
        Array.from({ length: 20 }, (_, i) => two.launch(req(`two-${i}`, `echo ${i}; sleep 30`))),
      );
      started.push(...ps);
      expect(two.pids).to.have.length(2);
      const parents = ps.map((p) => launcherOf(p.pid));
      for (const lp of two.pids) expect(parents.filter((x) => x === lp)).to.have.length(10);
      for (let i = 0; i < 20; i++) {
        const out = await until(
          `output of ${i}`,
          () => readFileSync(path.join(dir, `two-${i}`, 'stdout'), 'utf8') || undefined,
        );
        expect(out).to.equal(`${i}\n`);
      }
      for (const p of ps) killGroup(p.pid, 'SIGTERM');
      for (const p of ps) expect(await p.exited).to.deep.equal({ code: null, signal: 'SIGTERM' });
    });

    it("one launcher's death touches only its own tasks: the other's still report their exit codes", async () => {
      const ps = await Promise.all(Array.from({ length: 4 }, (_, i) => two.launch(req(`d-${i}`, 'sleep 30'))));
      started.push(...ps);
      const [victim] = two.pids;
      process.kill(victim, 'SIGKILL');
      await until('the launcher to be seen dead', () => (two.restartCount === 1 ? true : undefined));
      for (const p of ps) killGroup(p.pid, 'SIGKILL');
      const ends = await Promise.all(ps.map((p) => p.exited));
      const byParentGone = ends.filter((e) => e === undefined);
      expect(byParentGone).to.have.length(2); // watched by pid: no code from a dead launcher
      expect(ends.filter((e) => e?.signal === 'SIGKILL')).to.have.length(2);
      const q = await two.launch(req('after', 'exit 7'));
      expect(await q.exited).to.deep.equal({ code: 7, signal: null });
      expect(two.pids).to.have.length(2);
    });

    it('refuses a count outside 1..16', () => {
      expect(() => new Launcher({ processes: 0 })).to.throw(RangeError);
      expect(() => new Launcher({ processes: 17 })).to.throw(RangeError);
    });
  });

  it('finds the processes whose working directory is a sandbox', async () => {
    const p = await launch(req('k', 'sleep 30'));
    expect(pidsWithCwd(path.join(dir, 'k'))).to.include(p.pid);
    expect(pidsWithCwd(path.join(dir, 'nothing-here'))).to.deep.equal([]);
  });

  it('outlives the agent (kill -9) until its tasks have ended, recording their exit status, then exits', async () => {
    const parent = spawn(process.execPath, [PARENT], { stdio: ['ignore', 'pipe', 'inherit'] });
    const line = await new Promise<string>((resolve, reject) => {
      let text = '';
      parent.stdout.on('data', (d: Buffer) => {
        text += d.toString();
        if (text.includes('\n')) resolve(text.trim());
      });
      parent.once('exit', (code) => reject(new Error(`the parent exited early (${code})`)));
    });
    const [lp, tp, parentDir] = line.split(' ');
    const launcherPid = Number(lp);
    const taskPid = Number(tp);
    try {
      parent.kill('SIGKILL');
      await new Promise((r) => setTimeout(r, 300));
      expect(isAlive(launcherPid)).to.equal(true);
      expect(isAlive(taskPid)).to.equal(true);
      killGroup(taskPid, 'SIGKILL');
      await until('the launcher to exit', () => (isAlive(launcherPid) ? undefined : true));
      expect(readFileSync(path.join(parentDir, '.agora-exit-status'), 'utf8')).to.equal('137\n');
    } finally {
      killGroup(taskPid, 'SIGKILL');
      rmSync(parentDir, { recursive: true, force: true });
    }
  });
});
