/**
 * Containerizers by name, for `--containerizers=docker,linux,posix`. The order given is the order
 * of preference: a task goes to the first one that can run it (or to the one it names).
 */
import type pino from 'pino';
import type { Clock } from '../../sdk/util/clock.js';
import { ContainerizerUnavailable } from '../errors.js';
import { Launcher } from '../launcher/client.js';
import { DockerContainerizer } from './docker/index.js';
import { LinuxContainerizer } from './linux.js';
import type { ParentCpuShares } from './parent-weight.js';
import { PosixContainerizer } from './posix.js';
import type { Containerizer } from './types.js';

export interface ContainerizerConfig {
  logger: pino.Logger;
  workDir: string;
  dockerStopTimeoutMs?: number;
  /** Starts posix and linux tasks; one per agent, made on demand. */
  launcher?: Launcher;
  /** How many launcher processes the agent's launcher keeps (default 1); ignored with `launcher`. */
  launcherProcesses?: number;
  /** Arms the containerizers' timers (kill grace, polls; default the system clock). */
  clock?: Clock;
  /** The cpu weight of the linux tasks' parent cgroup (`--cgroups_parent_cpu_shares`; default: left alone). */
  cgroupsParentCpuShares?: ParentCpuShares;
}

type Factory = (cfg: ContainerizerConfig) => Promise<Containerizer>;

const factories: Record<string, Factory> = {
  docker: async (cfg) =>
    new DockerContainerizer({ logger: cfg.logger, stopTimeoutMs: cfg.dockerStopTimeoutMs, clock: cfg.clock }),
  linux: async (cfg) =>
    new LinuxContainerizer({
      logger: cfg.logger,
      launcher: cfg.launcher,
      clock: cfg.clock,
      parentCpuShares: cfg.cgroupsParentCpuShares,
      workDir: cfg.workDir,
    }),
  posix: async (cfg) => new PosixContainerizer({ launcher: cfg.launcher, clock: cfg.clock }),
};

export const CONTAINERIZER_NAMES = Object.keys(factories);

/** Builds the named containerizers, refusing (with the reason) any that cannot run on this host. */
export async function createContainerizers(names: string[], cfg: ContainerizerConfig): Promise<Containerizer[]> {
  const out: Containerizer[] = [];
  cfg = {
    ...cfg,
    launcher:
      cfg.launcher ??
      new Launcher({ logger: cfg.logger.child({ component: 'launcher' }), processes: cfg.launcherProcesses }),
  };
  for (const name of names) {
    const make = factories[name];
    if (!make) {
      throw new ContainerizerUnavailable(`unknown containerizer '${name}' (known: ${CONTAINERIZER_NAMES.join(', ')})`);
    }
    const c = await make(cfg);
    const ok = await c.available();
    if (!ok.ok) throw new ContainerizerUnavailable(`containerizer '${name}' cannot run here: ${ok.reason}`);
    out.push(c);
  }
  return out;
}
