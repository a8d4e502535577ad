/**
 * Secure by default, on the real `bin/agora master`: beyond loopback it refuses to start without
 * authentication (exit 64, the reason and code on stderr); `--insecure` starts it with a WARN line;
 * authentication on starts it quietly; the default (loopback) needs nothing.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { REPO_ROOT, tempDir } from '../../../testkit/processes.js';

interface Run {
  code: number | null;
  stderr: string;
}

/** Runs the master until it exits, or until `until` shows in its stderr (then stops it). */
function runMaster(args: string[], until?: RegExp): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(
      process.execPath,
      [join(REPO_ROOT, 'bin/agora'), 'master', '--port', '0', '--work_dir', tempDir('agora-secure-'), ...args],
      { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, AGORA_LOG_LEVEL: 'info' } },
    );
    let stderr = '';
    const guard = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.stderr?.on('data', (d) => {
      stderr += String(d);
      if (until?.test(stderr)) child.kill('SIGTERM');
    });
    child.on('error', reject);
    // 'close', not 'exit': the last stderr lines may still be unread at 'exit' (docs/testing.md).
    child.on('close', (code) => {
      clearTimeout(guard);
      resolve({ code, stderr });
    });
  });
}

const LISTENING = /master listening on/;

/** The host's own non-loopback IPv4 addresses (none in a bare network namespace). */
function hostAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flat()
    .filter((a) => a && a.family === 'IPv4' && !a.internal)
    .map((a) => (a as { address: string }).address);
}

describe('agora master: secure by default', () => {
  const addrs = ['0.0.0.0', ...hostAddresses().slice(0, 1)];
  for (const ip of addrs) {
    it(`refuses --ip ${ip} without authentication: exit 64, the reason and AGORA_AUTH_INSECURE_BIND`, async () => {
      const r = await runMaster(['--ip', ip], LISTENING);
      expect(r.code).to.equal(64);
      expect(r.stderr).to.contain('AGORA_AUTH_INSECURE_BIND');
      expect(r.stderr).to.contain('--insecure');
      expect(r.stderr).not.to.match(LISTENING);
    });
  }

  it('refuses when only some authentication is on (HTTP writes open)', async () => {
    const dir = tempDir('agora-creds-');
    const file = join(dir, 'credentials.json');
    writeFileSync(file, JSON.stringify({ credentials: [{ principal: 'ops', secret: 'pw-77' }] }), { mode: 0o600 });
    const r = await runMaster(
      ['--ip', '0.0.0.0', '--credentials', file, '--authenticate_frameworks', '--authenticate_agents'],
      LISTENING,
    );
    expect(r.code).to.equal(64);
    expect(r.stderr).to.contain('--authenticate_http_readwrite');
  });

  it('starts with --insecure, saying so in a WARN line', async () => {
    const r = await runMaster(['--ip', '0.0.0.0', '--insecure'], LISTENING);
    expect(r.stderr).to.match(LISTENING);
    const warn = r.stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l))
      .find((l) => l.level === 40 && /INSECURE/.test(l.msg));
    expect(warn, r.stderr).to.not.equal(undefined);
  });

  it('starts beyond loopback with authentication on, without the warning', async () => {
    const dir = tempDir('agora-creds-');
    const file = join(dir, 'credentials');
    writeFileSync(file, 'ops pw-77\n', { mode: 0o600 });
    const r = await runMaster(
      [
        '--ip',
        '0.0.0.0',
        '--credentials',
        file,
        '--authenticate_frameworks',
        '--authenticate_agents',
        '--authenticate_http_readwrite',
      ],
      LISTENING,
    );
    expect(r.stderr).to.match(LISTENING);
    expect(r.stderr).not.to.contain('INSECURE');
    expect(r.stderr).not.to.contain('pw-77');
  });

  it('starts on loopback (the default) with no set-up', async () => {
    const r = await runMaster([], LISTENING);
    expect(r.stderr).to.match(LISTENING);
    expect(r.stderr).not.to.contain('INSECURE');
  });
});
