/**
 * The posix containerizer's kill grace runs on the injected Clock: a task that ignores SIGTERM
 * lives (seen in /proc) until the clock passes the grace, then SIGKILL ends it.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { PosixContainerizer } from '../../../agent/containerizer/posix.js';
import { isAlive, killGroup } from '../../../agent/containerizer/proc.js';
import type { RunningContainer } from '../../../agent/containerizer/types.js';
import { Launcher } from '../../../agent/launcher/client.js';
import { VirtualClock } from '../../../sdk/util/clock.js';

describe('PosixContainerizer: kill grace on the Clock', function () {
  this.timeout(90_000);
  let dir: string;
  let launcher: Launcher;
  let running: RunningContainer | undefined;

  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'agora-posix-'));
    launcher = new Launcher({ pollIntervalMs: 50 });
  });

  afterEach(() => {
    if (running?.handle.pid) killGroup(running.handle.pid, 'SIGKILL');
    launcher.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends SIGKILL only once the clock has passed the grace', async () => {
    const clock = new VirtualClock(0);
    const posix = new PosixContainerizer({ launcher, clock });
    const sandbox = path.join(dir, 'stubborn');
    running = await posix.launch({
      frameworkId: 'fw',
      agentId: 'a1',
      sandbox,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      task: {
        name: 'stubborn',
        task_id: 'stubborn',
        agent_id: 'a1',
        resources: [],
        command: { value: "trap '' TERM; echo ready; exec sleep 300" },
      },
    });
    const pid = running.handle.pid as number;
    expect(isAlive(pid)).to.equal(true);
    // The trap is in place once the task has printed `ready`; a SIGTERM before that would end it.
    const stdout = path.join(sandbox, 'stdout');
    // Waited for up to 30 s by the clock (100 tries of 50 ms, 5 s, could end before a loaded machine
    // started the shell, and the test went on to SIGTERM a task without its trap).
    const readyBy = Date.now() + 30_000;
    while (!(existsSync(stdout) && readFileSync(stdout, 'utf8').includes('ready'))) {
      if (Date.now() > readyBy) throw new Error('timed out after 30 s waiting for the task to print ready');
      await new Promise((r) => setTimeout(r, 50));
    }
    const killed = running.kill(10_000);
    // SIGTERM is ignored; nothing else happens while the clock stands still.
    await new Promise((r) => setTimeout(r, 300));
    expect(isAlive(pid), 'alive during the grace').to.equal(true);
    clock.advance(9_999);
    await new Promise((r) => setTimeout(r, 100));
    expect(isAlive(pid), 'alive 1 ms before the grace ends').to.equal(true);
    clock.advance(1);
    const exit = await Promise.race([
      running.wait(),
      new Promise<'still running'>((r) => setTimeout(() => r('still running'), 30_000)),
    ]);
    await killed;
    expect(exit).to.not.equal('still running');
    expect(exit).to.include({ killed: true });
    expect(isAlive(pid)).to.equal(false);
  });
});
