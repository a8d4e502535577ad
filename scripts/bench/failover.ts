/**
 * Failover at scale (issue 14): two `agora master`s on ZooKeeper, simulated agents and frameworks,
 * the cluster filled with running tasks, the leader killed with SIGKILL. Reports the seconds from the
 * new leader's election until every agent re-registered, every framework re-subscribed and
 * reconciliation accounted for every task, and whether any task was lost or doubled.
 *
 *   node dist/scripts/bench/failover.js [--agents 5000] [--tasks 50000] [--frameworks 10] [--json]
 */
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { parseDuration } from '../../sdk/util/duration.js';
import { runFailover } from './failover-run.js';
import { agentClientKind } from './sim/agents.js';
import { loadAverage } from './sim/proc.js';

const HELP = `Failover at scale: the leading master killed with SIGKILL, the standby takes over.

Options:
  --agents N             simulated agents (default 5000)
  --tasks N              running tasks before the failover (default 50000)
  --frameworks N         simulated frameworks (default 10)
  --agent-resources R    each agent (default cpus:2;mem:2048, 20 tasks of the default shape)
  --task R               each task (default cpus:0.1;mem:32)
  --zk URL               ZooKeeper (default zk://127.0.0.1:2181; a unique path is added)
  --zk-session-timeout D the masters' ZooKeeper session timeout (default 10secs)
  --agent-procs N        processes holding the agents (default 1 up to 5,000 agents, else 2)
  --agent-client K       what holds the simulated agents' connections: lean (default; the bench's
                         own client, sim/lean-client.ts) or sdk (the SDK's ReconnectingClient)
  --follow zk|poll       how agents and frameworks find the new leader: zk (default) as the real
                         agent and the SDK driver (ZooKeeper detector; frameworks reconcile at
                         re-subscription); poll: the first harness (masters tried in turn, the
                         harness sends reconciliation once everything is back)
  --registration-backoff D
                         with --follow zk, each agent re-registers after a random wait in [0, D)
                         once it sees the new leader, as the agent's --registration_backoff_factor
                         (default 1secs, the agent's default; 0secs: all at once, as before
                         2026-12-02)
  --encode-at-reconnect  the agents encode their REREGISTER when they reconnect, inside the window
                         (the harness of the first two rounds); default: encoded before the kill,
                         as real agents on machines of their own would not spend the leader's cores
  --json                 also print the result as one JSON line
  --help                 this text
`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      agents: { type: 'string' },
      tasks: { type: 'string' },
      frameworks: { type: 'string' },
      'agent-resources': { type: 'string' },
      task: { type: 'string' },
      zk: { type: 'string' },
      'zk-session-timeout': { type: 'string' },
      'agent-procs': { type: 'string' },
      'agent-client': { type: 'string' },
      follow: { type: 'string' },
      'encode-at-reconnect': { type: 'boolean' },
      'registration-backoff': { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  const agents = Number(values.agents ?? 5000);
  const follow = values.follow ?? 'zk';
  if (follow !== 'zk' && follow !== 'poll') throw new Error(`--follow must be zk or poll, got '${follow}'`);
  const agentClient = agentClientKind(values['agent-client']);
  const registrationBackoff = values['registration-backoff'] ?? '1secs';
  process.stdout.write(
    `load average at start: ${loadAverage()} (2 cores shared); agent client: ${agentClient}; agents' registration backoff: ${registrationBackoff}\n`,
  );
  const r = await runFailover({
    agents,
    tasks: Number(values.tasks ?? 50_000),
    frameworks: Number(values.frameworks ?? 10),
    agentResources: values['agent-resources'] ?? 'cpus:2;mem:2048',
    task: values.task ?? 'cpus:0.1;mem:32',
    zk: values.zk ?? process.env.AGORA_ZK ?? 'zk://127.0.0.1:2181',
    zkSessionTimeout: values['zk-session-timeout'] ?? '10secs',
    agentProcs: Number(values['agent-procs'] ?? (agents > 5000 ? 2 : 1)),
    agentClient,
    stallMs: 60_000,
    follow,
    preencode: !values['encode-at-reconnect'],
    registrationBackoffMs: parseDuration(registrationBackoff),
  });
  if (values.json) process.stdout.write(`${JSON.stringify({ bench: 'failover', ...r })}\n`);
  const rows: [string, string][] = [
    ['agents / frameworks / running tasks', `${r.agents} / ${r.frameworks} / ${r.tasks}`],
    ['kill → new leader elected (s)', r.kill_to_elected_s.toFixed(2)],
    ['elected → every agent re-registered (s)', r.elected_to_agents_s.toFixed(2)],
    ['elected → every framework re-subscribed (s)', r.elected_to_frameworks_s.toFixed(2)],
    ['elected → reconciliation accounted for every task (s)', r.elected_to_reconciled_s.toFixed(2)],
    ['ZooKeeper election → leading (registrar recovered) (s)', r.zk_elected_to_leading_s.toFixed(2)],
    ['ZooKeeper election → every agent re-registered (s)', r.zk_elected_to_agents_s.toFixed(2)],
    [
      '  re-registered p10 / p50 / p90 (s)',
      [r.agents_p10_s, r.agents_p50_s, r.agents_p90_s].map((x) => x.toFixed(2)).join(' / '),
    ],
    [
      '  agents / frameworks detected the new leader (s)',
      `${r.agents_detected_s.toFixed(2)} / ${r.frameworks_detected_s.toFixed(2)}`,
    ],
    ['ZooKeeper election → every framework re-subscribed (s)', r.zk_elected_to_frameworks_s.toFixed(2)],
    ['  first RECONCILE sent / rounds (s)', `${r.reconcile_sent_s.toFixed(2)} / ${r.reconcile_rounds}`],
    ['ZooKeeper election → reconciliation accounted for every task (s)', r.zk_elected_to_reconciled_s.toFixed(2)],
    ['new leader CPU during recovery (ms)', r.new_leader_cpu_ms.toFixed(0)],
    ['new leader CPU from the kill (ms)', r.new_leader_cpu_from_kill_ms.toFixed(0)],
    ['new leader peak RSS (MiB)', r.new_leader_peak_rss_mib.toFixed(0)],
    ['slowest /health during recovery (ms)', r.slowest_health_ms.toFixed(0)],
    ['busiest harness process (share of a core)', `${(r.harness_cpu_share * 100).toFixed(0)}%`],
    [
      'CPU leading → reconciled (ms): leader main thread / its other threads',
      `${r.window_cpu_ms.leader_main.toFixed(0)} / ${r.window_cpu_ms.leader_other_threads.toFixed(0)}`,
    ],
    [
      '  agents / frameworks / bench / ZooKeeper',
      [r.window_cpu_ms.agents, r.window_cpu_ms.frameworks, r.window_cpu_ms.bench, r.window_cpu_ms.zookeeper]
        .map((x) => (Number.isNaN(x) ? 'n/a' : x.toFixed(0)))
        .join(' / '),
    ],
    ['  every process / what the cores could give in the window (ms)', coreShare(r)],
    [
      'page faults leading → reconciled: leader main thread minor / process minor / major',
      [r.window_faults.leader_main_minor, r.window_faults.leader_minor, r.window_faults.leader_major]
        .map((x) => (Number.isNaN(x) ? 'n/a' : x.toFixed(0)))
        .join(' / '),
    ],
    ['re-registered / re-subscribed / reconciled', `${r.reregistered} / ${r.resubscribed} / ${r.reconciled}`],
    [
      'lost / killed / doubled / reconciled not RUNNING',
      `${r.lost} / ${r.killed} / ${r.doubled} / ${r.reconcile_not_running}`,
    ],
    ['complete', String(r.complete)],
    ['new leader process ended during the run', r.new_leader_exited ?? 'no'],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  for (const [k, v] of rows) process.stdout.write(`${k.padEnd(w)}  ${v}\n`);
  process.stdout.write(`load average at end: ${r.load}\n`);
  const [zkAt, leadAt, doneAt] = r.window_mono_us;
  process.stdout.write(
    `window on the monotonic clock (µs; for a --cpu-prof profile): ZooKeeper election ${zkAt}, leading ${leadAt}, reconciled ${doneAt}\n`,
  );
  const ok = r.complete && r.lost === 0 && r.killed === 0 && r.doubled === 0 && r.reconcile_not_running === 0;
  if (!ok) process.exitCode = 1;
}

/**
 * The CPU every process of the run used from leading to reconciled, beside what the machine's cores
 * could give in that time: near 100%, the window is as short as the work allows on these cores, and
 * a shorter one needs less work in all, not only on the leader's main thread (docs/failover-performance.md).
 */
function coreShare(r: Awaited<ReturnType<typeof runFailover>>): string {
  const c = r.window_cpu_ms;
  const parts = [c.leader_main, c.leader_other_threads, c.agents, c.frameworks, c.bench, c.zookeeper];
  // A process whose CPU could not be read counts nothing, and the row says so.
  const unread = parts.filter((x) => Number.isNaN(x)).length;
  const used = parts.reduce((sum, x) => sum + (Number.isNaN(x) ? 0 : x), 0);
  // The machine's cores, not this process's affinity: the processes measured may run on others.
  const cores = cpus().length;
  const available = (r.zk_elected_to_reconciled_s - r.zk_elected_to_leading_s) * 1000 * cores;
  if (!(available > 0)) return 'n/a';
  const share = `${used.toFixed(0)} / ${available.toFixed(0)} (${((100 * used) / available).toFixed(0)}% of ${cores} cores)`;
  return unread > 0 ? `${share}; ${unread} process(es) not read, counted as 0` : share;
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack}\n`);
  process.exit(1);
});
