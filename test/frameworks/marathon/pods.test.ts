/**
 * A pod volume shared between containers: each container's command, run by sh as the agent runs
 * it (each task its own sandbox whose `shared` is the group's directory, docs/task-groups.md),
 * sees the same directory at its mount path. Evidence: the file one writes, the other reads, on disk.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { buildTaskGroup, type PodDef } from '../../../frameworks/marathon/core/pods.js';
import { normalisePod } from '../../../frameworks/marathon/core/spec.js';
import { offer } from './harness.js';

describe('marathon pods: a volume shared between containers', () => {
  it('an ephemeral pod volume is one directory of the task group, mounted in each container', () => {
    const pod = normalisePod(
      {
        id: '/shared',
        volumes: [{ name: 'data' }],
        containers: [
          {
            name: 'writer',
            resources: { cpus: 0.1, mem: 16 },
            exec: { command: { shell: 'echo written-by-writer > in/data/note' } },
            volumeMounts: [{ name: 'data', mountPath: 'in/data' }],
          },
          {
            name: 'reader',
            resources: { cpus: 0.1, mem: 16 },
            exec: { command: { shell: 'cat elsewhere/note > read.txt' } },
            volumeMounts: [{ name: 'data', mountPath: 'elsewhere' }],
          },
        ],
        networks: [{ mode: 'host' }],
      },
      '2026-01-01T00:00:00.000Z',
    ) as PodDef;
    const g = buildTaskGroup(pod, offer(), 'shared.1', [], [], pod.version);
    // The agent's layout: a shared directory per group, linked into each task's sandbox.
    const root = mkdtempSync(join(tmpdir(), 'agora-pod-'));
    const group = join(root, 'group-shared');
    mkdirSync(group);
    const sandboxes = g.group.tasks.map((t) => {
      const dir = join(root, t.task_id);
      mkdirSync(dir);
      symlinkSync(group, join(dir, 'shared'));
      return dir;
    });
    g.group.tasks.forEach((t, n) => {
      execFileSync('sh', ['-c', t.command?.value ?? 'false'], {
        cwd: sandboxes[n],
        env: { PATH: process.env.PATH, MESOS_SANDBOX: sandboxes[n] },
      });
    });
    expect(readFileSync(join(sandboxes[1], 'read.txt'), 'utf8')).to.equal('written-by-writer\n');
    expect(readFileSync(join(group, 'data', 'note'), 'utf8')).to.equal('written-by-writer\n');
  });
});
