/**
 * A stand-in for an agent in the launcher's fault test: launches `sleep 600` through a Launcher,
 * prints `<launcher pid> <task pid> <its temp dir>` on stdout, then waits to be killed.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Launcher } from '../../agent/launcher/client.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'agora-launcher-parent-'));
const launcher = new Launcher();
const p = await launcher.launch({
  file: '/bin/sh',
  args: ['-c', 'sleep 600'],
  cwd: dir,
  env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
  stdout: path.join(dir, 'stdout'),
  stderr: path.join(dir, 'stderr'),
  statusFile: path.join(dir, '.agora-exit-status'),
});
process.stdout.write(`${launcher.pid} ${p.pid} ${dir}\n`);
setInterval(() => undefined, 60_000);
