/**
 * A small correctness run of the launch benchmark (`bench:launch`), real master, agent and tasks:
 * on both sides (Agora and the raw spawner) every task's own marker is seen exactly once, nothing
 * doubled, and every round ends on those markers. No timing is asserted.
 */
import { execFile } from 'node:child_process';
import { expect } from 'chai';

function runBench(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const script = new URL('../../scripts/bench/launch.js', import.meta.url).pathname;
  return new Promise((resolve) => {
    execFile(process.execPath, [script, ...args], { timeout: 150_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('launch benchmark, tiny (real processes) @integration', function () {
  this.timeout(180_000);

  it('posix: every task of every round writes its marker once, on the Agora and the raw side', async () => {
    const tasks = 4;
    const r = await runBench(['--only', 'posix', '--tasks', String(tasks), '--rounds', '2', '--warmup', '0', '--json']);
    expect(r.code, r.stderr).to.equal(0);
    const lines = r.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l));
    const posix = lines.find((l) => l.containerizer === 'posix');
    expect(posix, r.stdout + r.stderr).to.not.equal(undefined);
    expect(posix.error, r.stderr).to.equal(undefined);
    expect(posix.marker_faults, r.stderr).to.deep.equal([]);
    // 2 rounds × (Agora + raw spawn), each checked: all markers seen, none doubled.
    expect(posix.marker_rounds_checked).to.equal(4);
    expect(posix.agora.rates).to.have.length(2);
    expect(posix.raw.rates).to.have.length(2);
    expect(posix.raw.method).to.equal('spawn');
    expect(posix.profile_ms.lastMarker).to.be.a('number');
    expect(posix.offer_wait_ms).to.be.a('number');
  });
});
