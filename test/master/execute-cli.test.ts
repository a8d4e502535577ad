/** `agora execute` gives up, with a message and a non-zero status, once the master removed its framework (D12). */
import { expect } from 'chai';
import { EXIT_FRAMEWORK_REMOVED, fatalMasterError } from '../../cli/execute.js';

describe('agora execute: master errors', () => {
  it('treats a removed, unknown or taken-over framework as fatal, with a message saying what happened', () => {
    expect(fatalMasterError({ code: 'AGORA_MASTER_FRAMEWORK_REMOVED', message: 'x' })).to.match(
      /removed this framework/,
    );
    expect(fatalMasterError({ code: 'AGORA_MASTER_UNKNOWN_FRAMEWORK', message: 'x' })).to.match(/does not know/);
    expect(fatalMasterError({ code: 'AGORA_MASTER_FRAMEWORK_FAILED_OVER', message: 'x' })).to.match(/took over/);
    expect(EXIT_FRAMEWORK_REMOVED).to.not.equal(0);
  });

  it('carries on after errors it can outlive', () => {
    expect(fatalMasterError({ code: 'AGORA_MASTER_INVALID_ACCEPT', message: 'x' })).to.equal(undefined);
    expect(fatalMasterError({ message: 'no code' })).to.equal(undefined);
  });
});

describe('agora execute against a master that forgot its framework @integration', function () {
  this.timeout(60_000);
  after(async () => {
    const { stopAll } = await import('../support/cluster.js');
    await stopAll();
  });

  it('exits non-zero once, with a message, instead of printing the error forever', async () => {
    const { agora, getJson, startMasterProc, tempDir, waitFor } = await import('../support/cluster.js');
    const m = await startMasterProc();
    const exec = agora('execute', ['execute', '--master', m.address, '--name', 'forgotten', '--command', 'true'], {
      AGORA_LOG_LEVEL: 'error',
    });
    await waitFor(
      'the framework to subscribe',
      async () => (await getJson(`${m.url}/master/state`)).frameworks.length === 1,
    );
    // The master dies and one with an empty registrar takes its place on the same address.
    m.proc.child.kill('SIGKILL');
    await waitFor('the old master to exit', () => m.proc.exited);
    agora('master2', ['master', '--port', String(m.port), '--work_dir', tempDir('master2')]);
    const exited = await waitFor('agora execute to exit', () => exec.exited, 40_000);
    expect(exited.code).to.equal(EXIT_FRAMEWORK_REMOVED);
    const text = exec.text();
    expect(text).to.match(/does not know this framework/);
    expect(text.match(/AGORA_MASTER_UNKNOWN_FRAMEWORK/g)?.length ?? 0).to.be.at.most(1);
  });
});
