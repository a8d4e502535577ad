/**
 * The registrar's cost at scale, on the real ZooKeeper Store: N agents' records saved at once (as
 * N agents registering together ask), then a fresh registrar recovering them (what a new leader
 * reads before it takes any re-registration). CPU milliseconds of this process and wall time.
 * `--dist DIR` loads the registrar and Store of another build (e.g. main's) for a before/after.
 *
 *   node dist/scripts/bench/registrar.js [--agents 5000] [--dist /work/main/dist] [--json]
 */
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import type { AgentRecord, Registrar } from '../../master/registrar.js';
import type { Store } from '../../sdk/store/index.js';
import { loadAverage } from './sim/proc.js';

const HELP = `Registrar cost: N agents' records saved at once, then recovered by a fresh registrar.

Options:
  --agents N   agents (default 5000)
  --zk URL     ZooKeeper (default zk://127.0.0.1:2181; a unique path is added and removed after)
  --dist DIR   the build to measure (default: this one), e.g. /work/main/dist for a before figure
  --json       also print the result as one JSON line
  --help       this text
`;

type RegistrarCtor = new (store: Store, log: pino.Logger) => Registrar;

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

function record(i: number): AgentRecord {
  const res = [
    { name: 'cpus', type: 'SCALAR' as const, scalar: { value: 2 } },
    { name: 'mem', type: 'SCALAR' as const, scalar: { value: 2048 } },
  ];
  return {
    info: { id: `bench-S${i}`, hostname: `sim-${i}`, port: 5051, resources: res, attributes: {} },
    total: res,
    state: 'admitted',
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      agents: { type: 'string' },
      zk: { type: 'string' },
      dist: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  const n = Number(values.agents ?? 5000);
  const dist = values.dist ? resolve(values.dist) : resolve(import.meta.dirname, '../..');
  const load = async <T>(rel: string): Promise<T> => (await import(pathToFileURL(resolve(dist, rel)).href)) as T;
  const { Registrar: Reg } = await load<{ Registrar: RegistrarCtor }>('master/registrar.js');
  const { openStore } = await load<{ openStore: (t: string) => Promise<Store> }>('sdk/store/index.js');
  const zk = `${(values.zk ?? process.env.AGORA_ZK ?? 'zk://127.0.0.1:2181').replace(/\/$/, '')}/agora-registrar-bench-${randomBytes(4).toString('hex')}`;
  const log = pino({ level: 'silent' });
  process.stdout.write(`load average at start: ${loadAverage()} (2 cores shared); build ${dist}\n`);

  const first = await openStore(zk);
  const writer = new Reg(first, log);
  let c = cpuMs();
  let t = performance.now();
  await Promise.all(Array.from({ length: n }, (_, i) => writer.saveAgent(record(i))));
  const saveCpu = cpuMs() - c;
  const saveWall = performance.now() - t;
  const keys = (await first.list('registrar/')).length;

  const second = await openStore(zk);
  const reader = new Reg(second, log);
  c = cpuMs();
  t = performance.now();
  const got = await reader.recover();
  const recoverCpu = cpuMs() - c;
  const recoverWall = performance.now() - t;

  const r = {
    bench: 'registrar',
    dist,
    agents: n,
    store_keys: keys,
    recovered: got.agents.length,
    save_cpu_ms: Math.round(saveCpu),
    save_cpu_ms_per_agent: Number((saveCpu / n).toFixed(3)),
    save_wall_ms: Math.round(saveWall),
    recover_cpu_ms: Math.round(recoverCpu),
    recover_wall_ms: Math.round(recoverWall),
    load: loadAverage(),
  };
  for (const k of await second.list('')) await second.delete(k).catch(() => undefined);
  await first.close();
  await second.close();
  if (values.json) process.stdout.write(`${JSON.stringify(r)}\n`);
  const rows: [string, string][] = [
    ['agents / Store keys written / recovered', `${r.agents} / ${r.store_keys} / ${r.recovered}`],
    ['save all at once: CPU ms (per agent)', `${r.save_cpu_ms} (${r.save_cpu_ms_per_agent})`],
    ['save all at once: wall ms', String(r.save_wall_ms)],
    ['recover: CPU ms / wall ms', `${r.recover_cpu_ms} / ${r.recover_wall_ms}`],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  for (const [k, v] of rows) process.stdout.write(`${k.padEnd(w)}  ${v}\n`);
  process.stdout.write(`load average at end: ${r.load}\n`);
  if (r.recovered !== n) process.exitCode = 1;
}

main().then(
  () => process.exit(),
  (e) => {
    process.stderr.write(`${(e as Error).stack}\n`);
    process.exit(1);
  },
);
