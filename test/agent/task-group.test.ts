import { mkdtempSync, readlinkSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { InvalidId } from '../../agent/errors.js';
import { sandboxPath } from '../../agent/sandbox.js';
import { EXECUTORS_DIR, endsGroup, executorDir, prepareShared } from '../../agent/task-group.js';
import { TaskState } from '../../sdk/protocol/types.js';

describe('agent task groups (pure parts and the shared directory)', () => {
  it('puts the executor directory beside the sandboxes, where no task id can land', () => {
    const dir = executorDir('/w', 'fw', 'pod/1'.replace('/', '-'));
    expect(dir).to.equal(`/w/sandboxes/fw/${EXECUTORS_DIR}/pod-1`);
    // A task named like the executors' directory is URI-encoded into another name.
    expect(sandboxPath('/w', 'fw', EXECUTORS_DIR)).to.not.equal(`/w/sandboxes/fw/${EXECUTORS_DIR}`);
  });

  it('refuses an executor id that is not one safe path segment', () => {
    for (const bad of ['..', '.', 'a/b', '']) expect(() => executorDir('/w', 'fw', bad)).to.throw(InvalidId);
  });

  it('links the shared directory into a posix/linux sandbox, and makes a mount point for docker', async () => {
    const root = mkdtempSync(join(tmpdir(), 'agora-group-'));
    const shared = join(root, 'exec', 'shared');
    await prepareShared(join(root, 'a'), shared, 'link');
    expect(readlinkSync(join(root, 'a', 'shared'))).to.equal(shared);
    await prepareShared(join(root, 'a'), shared, 'link'); // again: idempotent
    await prepareShared(join(root, 'd'), shared, 'mountpoint');
    expect(statSync(join(root, 'd', 'shared')).isDirectory()).to.equal(true);
    expect(statSync(shared).isDirectory()).to.equal(true);
  });

  it('ends the group on a failure, not on success or a kill', () => {
    const ends = Object.values(TaskState).filter(endsGroup);
    expect(ends.sort()).to.deep.equal([TaskState.DROPPED, TaskState.ERROR, TaskState.FAILED, TaskState.LOST].sort());
  });
});
