/**
 * Placements per second by the master (issue 14): the real `agora master` (standalone, default
 * allocation interval) against simulated agents and frameworks, beside a stub master on the same
 * transport that only relays (the message-passing ceiling). Prints a table and, with --json, one
 * JSON line per case and phase.
 *
 *   node dist/scripts/bench/placement.js [--agents 1000,5000,10000] [--frameworks 10] [--tasks 0]
 *        [--churn-seconds 10] [--targets stub,agora] [--agent-procs N] [--json]
 */
import { parseArgs } from 'node:util';
import { type PhaseResult, runPlacementCase } from './placement-run.js';
import { agentClientKind } from './sim/agents.js';
import { loadAverage } from './sim/proc.js';

const HELP = `Placements per second by the master, against the stub (the message-passing ceiling).

Options:
  --agents LIST          agent counts, comma-separated (default 1000,5000,10000)
  --frameworks LIST      framework counts, comma-separated (default 10)
  --tasks N              cap on the fill phase's tasks (default 0: 80% of capacity)
  --agent-resources R    each simulated agent (default cpus:1;mem:1024)
  --task R               each task (default cpus:0.1;mem:32)
  --churn-seconds S      length of the churn phase (default 10; 0 skips it)
  --targets LIST         stub,agora (default both)
  --agent-procs N        processes holding the agents (default 1 up to 5,000 agents, else 2)
  --agent-client K       what holds the simulated agents' connections: lean (default; the bench's
                         own client, sim/lean-client.ts) or sdk (the SDK's ReconnectingClient)
  --stall-seconds S      give a phase up after S seconds without progress (default 30)
  --json                 also print one JSON line per phase
  --help                 this text
`;

function list(v: string | undefined, dflt: string): number[] {
  return (v ?? dflt).split(',').map((x) => {
    const n = Number(x);
    if (!Number.isInteger(n) || n < 1 || n > 100_000) throw new Error(`bad count '${x}'`);
    return n;
  });
}

function slotsOf(agent: string, task: string): number {
  const get = (s: string, k: string) => Number(new RegExp(`${k}:([0-9.]+)`).exec(s)?.[1] ?? 0);
  return Math.floor(Math.min(get(agent, 'cpus') / get(task, 'cpus'), get(agent, 'mem') / get(task, 'mem')) + 1e-9);
}

function fmt(n: number, d = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      agents: { type: 'string' },
      frameworks: { type: 'string' },
      tasks: { type: 'string' },
      'agent-resources': { type: 'string' },
      task: { type: 'string' },
      'churn-seconds': { type: 'string' },
      targets: { type: 'string' },
      'agent-procs': { type: 'string' },
      'agent-client': { type: 'string' },
      'stall-seconds': { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  const agentResources = values['agent-resources'] ?? 'cpus:1;mem:1024';
  const task = values.task ?? 'cpus:0.1;mem:32';
  const targets = (values.targets ?? 'stub,agora').split(',') as ('agora' | 'stub')[];
  const rows: PhaseResult[] = [];
  const failures: string[] = [];
  const agentClient = agentClientKind(values['agent-client']);
  process.stdout.write(`load average at start: ${loadAverage()} (2 cores shared); agent client: ${agentClient}\n`);
  for (const agents of list(values.agents, '1000,5000,10000')) {
    for (const frameworks of list(values.frameworks, '10')) {
      for (const target of targets) {
        const r = await runPlacementCase({
          target,
          agents,
          frameworks,
          tasks: Number(values.tasks ?? 0),
          agentProcs: Number(values['agent-procs'] ?? (agents > 5000 ? 2 : 1)),
          agentClient,
          agentResources,
          task,
          slots: slotsOf(agentResources, task),
          churnSeconds: Number(values['churn-seconds'] ?? 10),
          stallMs: Number(values['stall-seconds'] ?? 30) * 1000,
        });
        rows.push(...r.phases);
        for (const p of r.phases) {
          if (p.phase !== 'register')
            process.stderr.write(
              `${target} ${agents}x${frameworks} ${p.phase}: ${p.phase_offers} offers in ${p.phase_offer_events} OFFERS events, ` +
                `${p.phase_accepts} accepts, ${p.phase_revives} REVIVE, ${p.phase_suppresses} SUPPRESS\n`,
            );
        }
        if (!r.correct.ok) failures.push(`${target} ${agents}x${frameworks}: ${JSON.stringify(r.correct)}`);
        for (const p of r.phases) {
          if (values.json)
            process.stdout.write(`${JSON.stringify({ bench: 'placement', ...p, correct: r.correct })}\n`);
        }
        process.stderr.write(
          `done ${target} ${agents} agents ${frameworks} frameworks: ${JSON.stringify(r.correct)}; ` +
            `launches ended before running (queued again): ${r.lostBeforeRunning} ${r.lastReason}; ` +
            `framework connections closed: ${r.frameworkCloses} ${r.lastFrameworkClose}\n`,
        );
      }
    }
  }
  const head = [
    'phase',
    'target',
    'agents',
    'fws',
    'count',
    'secs',
    'rate/s',
    'running/s',
    'p50 ms',
    'p99 ms',
    'cpu ms/item',
    'rss MiB',
    'health ms',
    'harness',
    'offers',
    'offers/acc',
    'ratio',
  ];
  const table: string[][] = [head];
  for (const p of rows) {
    const stub = rows.find(
      (q) => q.target === 'stub' && q.phase === p.phase && q.agents === p.agents && q.frameworks === p.frameworks,
    );
    const ratio = p.target === 'agora' && stub && stub.rate > 0 ? fmt(p.rate / stub.rate, 2) : '';
    table.push([
      p.phase,
      p.target,
      fmt(p.agents),
      String(p.frameworks),
      fmt(p.count) + (p.complete ? '' : '!'),
      fmt(p.seconds, 1),
      fmt(p.rate),
      p.phase === 'register' ? '' : fmt(p.runningRate),
      p.phase === 'register' ? '' : fmt(p.p50_ms),
      p.phase === 'register' ? '' : fmt(p.p99_ms),
      fmt(p.master_cpu_ms_per_item, 3),
      fmt(p.master_peak_rss_mib),
      fmt(p.slowest_health_ms),
      `${fmt(p.harness_cpu_share * 100)}%${p.harness_cpu_share >= 0.9 ? ' (bottleneck)' : ''}`,
      p.phase === 'register' ? '' : fmt(p.offers),
      p.phase === 'register' || p.phase_accepts === 0 ? '' : fmt(p.phase_offers / p.phase_accepts, 1),
      ratio,
    ]);
  }
  const widths = head.map((_, i) => Math.max(...table.map((r) => r[i].length)));
  for (const r of table) process.stdout.write(`${r.map((c, i) => c.padStart(widths[i])).join('  ')}\n`);
  for (const p of rows) {
    process.stdout.write(`agents' processes CPU ${p.target} ${p.agents} ${p.phase}: ${fmt(p.agents_cpu_ms)} ms\n`);
    if (p.quarters_s)
      process.stdout.write(
        `register ${p.target} ${p.agents}: seconds per quarter of the agents ${p.quarters_s.join(' / ')}\n`,
      );
  }
  process.stdout.write(
    `rate = RUN_TASK received by agents per second (registrations/s for 'register'); '!' = phase stalled; ` +
      `harness = busiest harness process's share of one core; offers = offers received so far; offers/acc = offers per ACCEPT in the phase; ratio = agora / stub. load average at end: ${loadAverage()}\n`,
  );
  if (failures.length > 0) {
    process.stdout.write(`CORRECTNESS FAILURES:\n${failures.join('\n')}\n`);
    process.exitCode = 1;
  } else
    process.stdout.write('correctness: no agent over-committed, every task RUNNING exactly once, nothing doubled\n');
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack}\n`);
  process.exit(1);
});
