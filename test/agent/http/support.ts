/** An agent's public state over a temp work dir, for the HTTP plugins (no master, no tasks running). */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Agent } from '../../../agent/agent.js';
import type { AgentView } from '../../../agent/http/index.js';
import { Resources } from '../../../sdk/resources/resources.js';
import { tempDir } from '../../support/cluster.js';

export function agentView(workDir = tempDir('agora-agent-http-')): AgentView & Agent {
  const view: AgentView = {
    agentId: 'A1',
    tasks: new Map(),
    workDir,
    connected: false,
    masterInfo: undefined,
    resources: Resources.parse('cpus:2;mem:1024'),
    attributes: { rack: 'r1' },
    containerizers: [],
    startedAt: 1_700_000_000_000,
    updates: { pendingCount: () => 0 },
  };
  return view as AgentView & Agent;
}

/** A sandbox with one file `stdout` holding `abcdef`; returns its directory. */
export function sandbox(workDir: string, framework = 'F1', task = 't1'): string {
  const dir = join(workDir, 'sandboxes', framework, task);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'stdout'), 'abcdef');
  return dir;
}
