/** The launch benchmark's cluster: one master and one agent through bin/agora, in their own process groups. */
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { type Proc, startAgentProc, startMasterProc, tempDir } from '../../testkit/processes.js';
import { live } from './launch-cleanup.js';
import { AGENT_RESOURCES, type Cz, type Options } from './launch-options.js';

/** Runs master and agent in their own process groups (a Ctrl-C in the terminal reaches only the benchmark). */
function daemonOptions(name: string, cpuProf?: string) {
  const nodeArgs = cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${cpuProf}`, `--cpu-prof-name=${name}.cpuprofile`] : [];
  return { name, detached: true, nodeArgs };
}

export async function startCluster(
  o: Options,
  containerizers: Cz[],
): Promise<{ master: string; agentUrl: string; agent: Proc; masterProc: Proc }> {
  const masterDir = tempDir('bench-master');
  const agentDir = o.workDir ? mkdtempSync(join(o.workDir, 'agora-bench-agent-')) : tempDir('bench-agent');
  live.dirs.push(masterDir, agentDir);
  live.agentWorkDir = agentDir;
  // The daemons are stopped by testkit's stopAll() in cleanup, also when one fails to start.
  const master = await startMasterProc(['--log_level', o.logLevel], {
    ...daemonOptions('master', o.cpuProf),
    workDir: masterDir,
  });
  const agent = await startAgentProc(
    master.address,
    [
      '--containerizers',
      containerizers.join(','),
      '--resources',
      AGENT_RESOURCES,
      '--log_level',
      o.logLevel,
      ...(o.launcherProcesses === undefined ? [] : ['--launcher_processes', String(o.launcherProcesses)]),
      ...(o.parentCpuShares === undefined ? [] : ['--cgroups_parent_cpu_shares', o.parentCpuShares]),
    ],
    agentDir,
    daemonOptions('agent', o.cpuProf),
  );
  live.agentUrl = agent.url;
  return { master: master.address, agentUrl: agent.url, agent: agent.proc, masterProc: master.proc };
}
