/**
 * The registrar's part of a failover, alone: the time from the election to leading is mostly the new
 * leader's `Registrar.recover()` reading the registry from ZooKeeper. This writes a registry of the
 * failover bench's size (5,000 agents in batch keys, 10 frameworks) under a fresh path, then times
 * recoveries by a standby that did not read ahead against recoveries by one that did
 * (`Registrar.readAhead()` before; a few keys changed in between, as a leader would have written
 * them), alternately, on the same ZooKeeper.
 *
 *   node dist/scripts/bench/failover-recovery.js [--zk zk://127.0.0.1:2181] [--agents 5000] [--frameworks 10] [--runs 7] [--changed 2]
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { type AgentRecord, type FrameworkRecord, Registrar } from '../../master/registrar.js';
import { parseResourceList } from '../../sdk/resources/resources.js';
import { ZkStore } from '../../sdk/store/index.js';
import { loadAverage } from './sim/proc.js';

const HELP = `The registrar's recovery at an election, with and without the standby's read-ahead.

Options:
  --zk URL         ZooKeeper (default zk://127.0.0.1:2181; a unique path is added)
  --agents N       agents in the registry (default 5000)
  --frameworks N   frameworks in the registry (default 10)
  --runs N         recoveries of each kind, alternated (default 7)
  --changed N      agents whose record changes between the read-ahead and the recovery (default 2)
  --json           one JSON line at the end
  --help           this text
`;

const log = pino({ level: 'silent' });

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : s[Math.floor((s.length - 1) / 2)];
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      zk: { type: 'string' },
      agents: { type: 'string' },
      frameworks: { type: 'string' },
      runs: { type: 'string' },
      changed: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  const agents = Number(values.agents ?? 5000);
  const frameworks = Number(values.frameworks ?? 10);
  const runs = Number(values.runs ?? 7);
  const changed = Number(values.changed ?? 2);
  const base = (values.zk ?? process.env.AGORA_ZK ?? 'zk://127.0.0.1:2181').replace(/\/+$/, '');
  const url = `${base}/agora-recovery-${randomBytes(4).toString('hex')}`;
  const open = () => ZkStore.connect(url);

  process.stdout.write(`load average at start: ${loadAverage()}\n`);
  const leaderStore = await open();
  const leader = new Registrar(leaderStore, log);
  await leader.recover();
  const res = parseResourceList('cpus:2;mem:2048');
  const agent = (i: number, hostname = `sim-${i}`): AgentRecord => ({
    info: { id: `agent-${i}`, hostname, port: 5051, resources: res, attributes: { rack: `r${i % 20}` } },
    total: res,
    state: 'admitted',
  });
  await Promise.all(Array.from({ length: agents }, (_, i) => leader.saveAgent(agent(i))));
  for (let i = 0; i < frameworks; i++) {
    const rec: FrameworkRecord = {
      info: { id: `fw-${i}`, name: `fw-${i}`, roles: [`role-${i}`], failover_timeout: 3600 },
      completed: false,
    };
    await leader.saveFramework(rec);
  }

  const cold: number[] = [];
  const warm: number[] = [];
  const warmReads: number[] = [];
  let round = 0;
  for (let r = 0; r < runs; r++) {
    for (const kind of ['cold', 'warm'] as const) {
      const store = await open();
      const standby = new Registrar(store, log);
      if (kind === 'warm') await standby.readAhead();
      // What a leader writes meanwhile: a few agents' records change (their batch keys are read again).
      for (let c = 0; c < changed; c++)
        await leader.saveAgent(agent((round * 997 + c * 131) % agents, `moved-${round}`));
      round++;
      const t0 = performance.now();
      const got = await standby.recover();
      const ms = performance.now() - t0;
      if (got.agents.length !== agents || got.frameworks.length !== frameworks) {
        throw new Error(`recovered ${got.agents.length} agents and ${got.frameworks.length} frameworks`);
      }
      (kind === 'cold' ? cold : warm).push(ms);
      if (kind === 'warm') warmReads.push(standby.lastRecovery.read);
      process.stdout.write(
        `${kind === 'cold' ? 'without read-ahead' : 'after read-ahead  '}: ${ms.toFixed(1)} ms (keys read ${standby.lastRecovery.read}, taken from the read-ahead ${standby.lastRecovery.reused})\n`,
      );
      await store.close();
    }
  }
  await leaderStore.close();
  process.stdout.write(
    `median recovery: without read-ahead ${median(cold).toFixed(1)} ms, after read-ahead ${median(warm).toFixed(1)} ms\n`,
  );
  process.stdout.write(`load average at end: ${loadAverage()}\n`);
  if (values.json) {
    process.stdout.write(
      `${JSON.stringify({ bench: 'failover-recovery', agents, frameworks, changed, cold_ms: cold, warm_ms: warm, warm_keys_read: warmReads })}\n`,
    );
  }
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack}\n`);
  process.exit(1);
});
