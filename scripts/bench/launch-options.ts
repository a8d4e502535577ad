/** The launch benchmark's flags and fixed figures (see launch.ts for what they mean). */
import { existsSync, readFileSync } from 'node:fs';

export const CONTAINERIZERS = ['posix', 'linux', 'docker'] as const;
export type Cz = (typeof CONTAINERIZERS)[number];

export interface Options {
  tasks: number;
  dockerTasks: number;
  rounds: number;
  warmup: number;
  only: Cz[];
  batch: number;
  image: string;
  logLevel: string;
  cli: boolean;
  json: boolean;
  /** Start the master and the agent under `node --cpu-prof` writing into this directory. */
  cpuProf?: string;
  /** Parent directory of the agent's work dir. */
  workDir?: string;
  /** The agent's `--launcher_processes` (undefined: the agent's default). */
  launcherProcesses?: number;
  /** The agent's `--cgroups_parent_cpu_shares` (undefined: the agent's default, by resources). */
  parentCpuShares?: string;
}

export const TARGET = 0.8;
export const COMMAND = 'sleep 600';
export const TASK_RESOURCES = 'cpus:0.1;mem:32';
export const AGENT_RESOURCES = 'cpus:64;mem:65536;ports:[31000-32000]';
export const BENCH_LABEL = 'agora-bench-launch';

export function parseOptions(argv: string[]): Options {
  const o: Options = {
    tasks: 200,
    dockerTasks: 30,
    rounds: 5,
    warmup: 1,
    only: [...CONTAINERIZERS],
    batch: 0,
    image: 'agora/busybox:latest',
    logLevel: 'info',
    cli: true,
    json: false,
  };
  const int = (name: string, v: string | undefined, min: number): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} needs a whole number >= ${min}, got '${v}'`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const eq = a.indexOf('=');
    const name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
    const value = () => (eq >= 0 ? a.slice(eq + 1) : argv[++i]);
    switch (name) {
      case 'tasks':
        o.tasks = int(name, value(), 1);
        break;
      case 'docker-tasks':
        o.dockerTasks = int(name, value(), 1);
        break;
      case 'rounds':
        o.rounds = int(name, value(), 1);
        break;
      case 'warmup':
        o.warmup = int(name, value(), 0);
        break;
      case 'batch':
        o.batch = int(name, value(), 0);
        break;
      case 'only': {
        const list = (value() ?? '').split(',').map((s) => s.trim());
        const bad = list.filter((s) => !(CONTAINERIZERS as readonly string[]).includes(s));
        if (bad.length || !list.length)
          throw new Error(`--only takes ${CONTAINERIZERS.join(',')}; got '${bad.join(',')}'`);
        o.only = CONTAINERIZERS.filter((c) => list.includes(c));
        break;
      }
      case 'image':
        o.image = value() ?? o.image;
        break;
      case 'log-level':
        o.logLevel = value() ?? o.logLevel;
        break;
      case 'no-cli':
        o.cli = false;
        break;
      case 'json':
        o.json = true;
        break;
      case 'cpu-prof':
        o.cpuProf = value();
        break;
      case 'work-dir': {
        const d = value();
        if (!d || !existsSync(d)) throw new Error(`--work-dir needs an existing directory, got '${d}'`);
        o.workDir = d;
        break;
      }
      case 'launcher-processes':
        o.launcherProcesses = int(name, value(), 1);
        break;
      case 'parent-cpu-shares': {
        const v = value() ?? '';
        if (!/^(resources|none|\d+)$/.test(v))
          throw new Error(`--parent-cpu-shares takes resources, none or a number of shares; got '${v}'`);
        o.parentCpuShares = v;
        break;
      }
      case 'help':
        console.log(readFileSync(new URL('./launch.js', import.meta.url), 'utf8').split('*/')[0]);
        process.exit(0);
        break;
      default:
        throw new Error(`unknown flag '${a}' (see --help)`);
    }
  }
  return o;
}
