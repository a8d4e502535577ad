/**
 * The launcher's side of the spawn helper's pipe protocol (pure), and the helper itself fed by
 * hand (a real agora-spawn process, no launcher): a request's fields arrive in order, events parse
 * back, a failure before the exec is reported and nothing runs.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import type { LaunchRequest } from '../../../agent/launcher/protocol.js';
import { encodeRequest, parseEvent, spawnHelper } from '../../../agent/launcher/spawn-helper.js';
import { requireReal } from '../../support/require-real.js';

function request(extra: Partial<LaunchRequest> = {}): LaunchRequest {
  return {
    id: 7,
    file: '/bin/sh',
    args: ['-c', 'echo "$A $#" "$0"; pwd'],
    cwd: '/tmp',
    env: { A: 'x y', PATH: '/usr/bin:/bin' },
    stdout: '/tmp/out',
    stderr: '/tmp/err',
    ...extra,
  };
}

describe('spawn helper protocol', () => {
  it('encodes a request as a byte count and NUL-terminated fields, in the order the helper reads them', () => {
    const buf = encodeRequest(
      request({
        statusFile: '/tmp/s',
        cgroups: { join: ['/cg/a/tasks'], leave: ['/cg/agora/+launcher/tasks'], home: ['/cg/home/tasks'] },
        afterSpawn: [{ file: '/cg/a/cpu.shares', value: '102', optional: true }],
        user: { uid: 65534, gid: 65534, groups: [4, 27] },
        isolate: { namespaces: ['pid', 'mount', 'uts', 'ipc', 'net'], hostname: 'web-1', loUp: true },
      }),
    );
    const text = buf.toString();
    const nl = text.indexOf('\n');
    const body = text.slice(nl + 1);
    expect(Number(text.slice(0, nl))).to.equal(Buffer.byteLength(body));
    expect(body.endsWith('\0')).to.equal(true);
    expect(body.slice(0, -1).split('\0')).to.deep.equal([
      '7',
      '/bin/sh',
      '2',
      '-c',
      'echo "$A $#" "$0"; pwd',
      '2',
      'A=x y',
      'PATH=/usr/bin:/bin',
      '/tmp',
      '/tmp/out',
      '/tmp/err',
      '/tmp/s',
      '1',
      '/cg/a/tasks',
      '1',
      '/cg/agora/+launcher/tasks',
      '1',
      '/cg/home/tasks',
      '1',
      '/cg/a/cpu.shares',
      '102',
      '1',
      '65534',
      '65534',
      '2',
      '4',
      '27',
      'pmuin',
      'web-1',
      '1',
      '',
    ]);
  });

  it('refuses a field holding a NUL byte (it would shift every later field)', () => {
    expect(() => encodeRequest(request({ args: ['-c', 'a\0b'] }))).to.throw(/NUL/);
  });

  it('parses started, failed and exit lines, and ignores anything else', () => {
    expect(parseEvent('S 3 1234 98765')).to.deep.equal({ ev: 'started', id: 3, pid: 1234, startTime: 98765 });
    expect(parseEvent('S 3 1234 0')).to.deep.equal({ ev: 'started', id: 3, pid: 1234 });
    expect(parseEvent('F 4 prepare could not join cgroup /x: No such file')).to.deep.equal({
      ev: 'failed',
      id: 4,
      stage: 'prepare',
      message: 'could not join cgroup /x: No such file',
    });
    expect(parseEvent('X 5 3 0')).to.deep.equal({ ev: 'exit', id: 5, code: 3, signal: null });
    expect(parseEvent('X 5 -1 15')).to.deep.equal({ ev: 'exit', id: 5, code: null, signal: 'SIGTERM' });
    expect(parseEvent('hello')).to.equal(undefined);
    expect(parseEvent('Q 1 2')).to.equal(undefined);
  });
});

describe('agora-spawn, fed by hand @integration', function () {
  this.timeout(30_000);
  let dir: string;

  before(function () {
    const h = spawnHelper();
    requireReal(this, 'the spawn helper (a C compiler to build it)', {
      ok: 'path' in h,
      reason: 'reason' in h ? h.reason : '',
    });
  });
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'agora-spawn-test-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** Feeds the requests to a fresh helper, closes its input, and returns its event lines once it exits. */
  function run(reqs: LaunchRequest[]): Promise<string[]> {
    const h = spawnHelper() as { path: string };
    const p = spawn(h.path, [], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.setEncoding('utf8');
    p.stdout.on('data', (d: string) => {
      out += d;
    });
    for (const r of reqs) p.stdin.write(encodeRequest(r));
    p.stdin.end();
    return new Promise((resolve) => p.on('close', () => resolve(out.trim().split('\n'))));
  }

  it('runs a task with its arguments, environment and directory, records its status, and exits after it', async () => {
    const statusFile = path.join(dir, 'status');
    const events = await run([
      request({ cwd: dir, stdout: path.join(dir, 'out'), stderr: path.join(dir, 'err'), statusFile }),
      request({
        id: 8,
        args: ['-c', 'exit 3'],
        cwd: dir,
        stdout: path.join(dir, 'out8'),
        stderr: path.join(dir, 'err8'),
      }),
    ]);
    const parsed = events.map(parseEvent);
    expect(parsed.filter((e) => e?.ev === 'started').map((e) => e?.id)).to.have.members([7, 8]);
    expect(parsed).to.deep.include({ ev: 'exit', id: 7, code: 0, signal: null });
    expect(parsed).to.deep.include({ ev: 'exit', id: 8, code: 3, signal: null });
    expect(readFileSync(path.join(dir, 'out'), 'utf8')).to.equal(`x y 0 /bin/sh\n${dir}\n`);
    expect(readFileSync(statusFile, 'utf8')).to.equal('0\n');
  });

  // Plain files stand in for the cgroups' `tasks` files: a "move" is the write of 0 into each.
  it('has a task without cgroups, cloned after a launch that left it away from home, write its way home', async () => {
    const io = (id: number) => ({ id, cwd: dir, stdout: path.join(dir, `o${id}`), stderr: path.join(dir, `e${id}`) });
    const [join, leave, home] = ['join', 'leave', 'home'].map((f) => path.join(dir, f));
    const events = await run([
      request({ ...io(1), args: ['-c', 'true'] }),
      request({ ...io(2), args: ['-c', 'true'], cgroups: { join: [join], leave: [leave], home: [home] } }),
    ]);
    expect(events.map(parseEvent).filter((e) => e?.ev === 'started')).to.have.length(2);
    // Neither the first posix task nor the helper itself goes home: nothing was written there yet.
    expect(existsSync(home)).to.equal(false);
    expect(readFileSync(leave, 'utf8')).to.equal('0');
    const after = await run([
      request({ ...io(3), args: ['-c', 'true'], cgroups: { join: [join], leave: [leave], home: [home] } }),
      request({ ...io(4), args: ['-c', 'true'] }),
    ]);
    expect(after.map(parseEvent)).to.deep.include({ ev: 'exit', id: 4, code: 0, signal: null });
    expect(readFileSync(home, 'utf8')).to.equal('0');
  });

  it('fails a task without cgroups that cannot go home, and starts nothing for it', async () => {
    const io = (id: number) => ({ id, cwd: dir, stdout: path.join(dir, `o${id}`), stderr: path.join(dir, `e${id}`) });
    const cgroups = { join: [path.join(dir, 'join')], leave: [path.join(dir, 'leave')], home: ['/no/such/dir/tasks'] };
    const events = (await run([request({ ...io(1), cgroups }), request({ ...io(2), args: ['-c', 'touch ran'] })])).map(
      parseEvent,
    );
    expect(events).to.deep.include({ ev: 'exit', id: 1, code: 0, signal: null });
    const failed = events.find((e) => e?.id === 2);
    expect(failed).to.include({ ev: 'failed', stage: 'prepare' });
    expect((failed as { message: string }).message).to.match(/\/no\/such\/dir\/tasks.*No such file/);
    expect(existsSync(path.join(dir, 'ran'))).to.equal(false);
  });

  // A signal ignored when the helper was started stays ignored across its exec, and so into the
  // tasks, unless the child sets it back: the helper itself ignores SIGINT, SIGTERM and SIGPIPE,
  // and here it is started with SIGHUP and SIGUSR1 ignored too (as a shell's `trap ''` leaves them).
  it('starts a task with no signal ignored or blocked, also those ignored when the helper was started', async () => {
    const h = spawnHelper() as { path: string };
    const p = spawn('/bin/sh', ['-c', `trap '' HUP USR1; exec "$0"`, h.path], { stdio: ['pipe', 'pipe', 'inherit'] });
    const out = path.join(dir, 'out');
    p.stdin.write(
      encodeRequest(
        request({
          file: '/bin/grep',
          args: ['-E', '^Sig(Ign|Blk)', '/proc/self/status'],
          cwd: dir,
          stdout: out,
          stderr: path.join(dir, 'err'),
        }),
      ),
    );
    p.stdin.end();
    await new Promise((resolve) => p.on('close', resolve));
    expect(readFileSync(out, 'utf8')).to.equal('SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n');
  });

  // A forked helper takes copy-on-write faults on its stack, heap and buffers after every clone
  // (about nine per launch here); one that lends its memory to the child until the exec (CLONE_VM
  // with CLONE_VFORK, as posix_spawn does) takes none: the count is the kernel's, not a timing.
  it('clones each task without copying its own memory: no copy-on-write faults in the helper per launch', async () => {
    const h = spawnHelper() as { path: string };
    const p = spawn(h.path, [], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    const waiting: (() => void)[] = [];
    p.stdout.setEncoding('utf8');
    p.stdout.on('data', (d: string) => {
      out += d;
      for (const w of waiting.splice(0)) w();
    });
    const exits = () => out.split('\n').filter((l) => l.startsWith('X ')).length;
    const until = (n: number) =>
      new Promise<void>((resolve) => {
        const check = () => (exits() >= n ? resolve() : waiting.push(check));
        check();
      });
    // /proc/<pid>/stat field 10: minor faults (the fields after the command's closing parenthesis start at 3).
    const minorFaults = () => Number(readFileSync(`/proc/${p.pid}/stat`, 'utf8').split(') ')[1].split(' ')[7]);
    const req = (id: number) =>
      encodeRequest(
        request({
          id,
          file: '/bin/true',
          args: [],
          cwd: dir,
          stdout: path.join(dir, `o${id}`),
          stderr: path.join(dir, `e${id}`),
        }),
      );
    try {
      // The first launches fault in the code and buffers every launch uses.
      for (let id = 1; id <= 5; id++) p.stdin.write(req(id));
      await until(5);
      const before = minorFaults();
      const n = 50;
      for (let id = 6; id < 6 + n; id++) p.stdin.write(req(id));
      await until(5 + n);
      expect(out).to.not.match(/^F /m);
      expect(minorFaults() - before).to.be.below(n);
    } finally {
      p.stdin.end();
      await new Promise((resolve) => p.on('close', resolve));
    }
  });

  it('reports a program that cannot be run as a failed launch, without start or exit', async () => {
    const events = await run([
      request({ file: '/no/such/program', cwd: dir, stdout: path.join(dir, 'o'), stderr: path.join(dir, 'e') }),
    ]);
    expect(events).to.have.length(1);
    const ev = parseEvent(events[0]);
    expect(ev).to.include({ ev: 'failed', id: 7, stage: 'spawn' });
    expect((ev as { message: string }).message).to.match(/\/no\/such\/program.*No such file/);
  });
});
