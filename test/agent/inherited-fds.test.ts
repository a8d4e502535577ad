import { mkdtempSync, readlinkSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { killGroup } from '../../agent/containerizer/proc.js';
import { closesOnExec, strayDescriptors } from '../../agent/inherited-fds.js';
import { type LaunchedProcess, Launcher } from '../../agent/launcher/client.js';
import { ZkClient } from '../../sdk/zk/index.js';
import { requireReal } from '../support/require-real.js';
import { TestZkServer, zookeeperAvailability } from '../support/zookeeper.js';

/** What each descriptor of `pid` points at (`socket:[123]`, a path, ...), by number. */
function links(pid: number | 'self'): Map<number, string> {
  const out = new Map<number, string>();
  for (const fd of strayDescriptors(new Set(), pid)) {
    try {
      out.set(fd, readlinkSync(`/proc/${pid}/fd/${fd}`));
    } catch {
      // closed meanwhile
    }
  }
  return out;
}

describe('descriptors inherited by mistake (agent/inherited-fds.ts)', () => {
  it('reads close-on-exec from the octal flags /proc/<pid>/fdinfo shows', () => {
    expect(closesOnExec('pos:\t0\nflags:\t02000002\nmnt_id:\t15\n')).to.equal(true);
    expect(closesOnExec('pos:\t0\nflags:\t0100002\nmnt_id:\t15\n')).to.equal(false);
    expect(closesOnExec('pos:\t0\nflags:\t02\n')).to.equal(false);
    expect(closesOnExec('pos:\t0\nmnt_id:\t15\n')).to.equal(undefined);
  });

  describe('a launcher forked by a process holding a ZooKeeper session @integration', function () {
    this.timeout(90_000);
    let zk: TestZkServer | undefined;
    let client: ZkClient | undefined;
    let launcher: Launcher | undefined;
    let dir: string | undefined;
    const started: LaunchedProcess[] = [];

    before(async function () {
      requireReal(this, 'ZooKeeper', zookeeperAvailability());
      zk = await TestZkServer.start();
    });

    after(async () => {
      for (const p of started) killGroup(p.pid, 'SIGKILL');
      launcher?.close();
      await client?.close();
      await zk?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it("keeps none of the parent's ZooKeeper connection, and neither do its tasks", async () => {
      client = new ZkClient({ servers: zk?.servers ?? '', sessionTimeoutMs: 10_000 });
      await client.connect();
      // The parent's side: the native client's connection is open without close-on-exec (the
      // reason for all this). If a newer addon sets the flag, this guard has nothing left to guard.
      const parentSockets = [...links('self').values()].filter((l) => l.startsWith('socket:'));
      expect(parentSockets, "this process's ZooKeeper connection, not close-on-exec").to.not.be.empty;

      dir = mkdtempSync(path.join(os.tmpdir(), 'agora-inherited-fds-'));
      launcher = new Launcher({ pollIntervalMs: 50 });
      const cwd = path.join(dir, 't');
      const task = await launcher.launch({
        file: '/bin/sh',
        args: ['-c', 'exec sleep 60'],
        cwd,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
        stdout: path.join(cwd, 'stdout'),
        stderr: path.join(cwd, 'stderr'),
        prepare: { mkdir: [cwd] },
      });
      started.push(task);
      const launcherPid = launcher.pid as number;
      expect(launcherPid).to.be.a('number');

      const inLauncher = [...links(launcherPid).values()];
      const inTask = [...links(task.pid).values()];
      for (const s of parentSockets) {
        expect(inLauncher, `the launcher holds the parent's ${s}`).to.not.include(s);
        expect(inTask, `the task holds the parent's ${s}`).to.not.include(s);
      }
      expect(strayDescriptors(new Set(), launcherPid), 'descriptors the launcher keeps by mistake').to.deep.equal([]);
      expect(strayDescriptors(new Set(), task.pid), 'descriptors the task got by mistake').to.deep.equal([]);
    });
  });
});
