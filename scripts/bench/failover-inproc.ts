/**
 * The new leader's own work in a failover, in one process and without sockets: the master state
 * recovered from registrar records (agents and frameworks), the frameworks re-subscribed and
 * reconciling every task, then every agent's REREGISTER frame decoded and validated, applied, and
 * every message it causes encoded, as the master's receive path does. No WebSocket upgrades, no
 * system calls: what is left is the master's CPU per re-registration, steady enough to compare
 * changes quickly (the whole failover is scripts/bench/failover.ts).
 *
 *   node dist/scripts/bench/failover-inproc.js [--agents 5000] [--tasks-per-agent 10] [--frameworks 10] [--runs 3]
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { AgentRecord, FrameworkRecord } from '../../master/registrar.js';
import { MasterState } from '../../master/state/master-state.js';
import { decode, encode } from '../../sdk/codec/codec.js';
import type { AgentMessage, SchedulerCall } from '../../sdk/protocol/messages.js';
import { type TaskRecord, TaskState } from '../../sdk/protocol/types.js';
import { parseResourceList, Resources } from '../../sdk/resources/resources.js';

const HELP = `The new leader's own work in a failover, in-process (no sockets).

Options:
  --agents N            agents re-registering (default 5000)
  --tasks-per-agent N   running tasks each reports (default 10)
  --frameworks N        frameworks, re-subscribed and reconciling every task first (default 10)
  --runs N              runs, each on a fresh state (default 3)
  --packed              each agent's tasks belong to one framework (as the failover bench's
                        frameworks launch many tasks on one offer); default: one task per framework
  --json                one JSON line per run
  --help                this text
`;

interface RunResult {
  run: number;
  agents: number;
  tasks: number;
  total_ms: number;
  /** CPU of the process (every thread: the garbage collector's helpers too) over the same loop. */
  cpu_ms: number;
  decode_ms: number;
  apply_ms: number;
  encode_ms: number;
  gc_ms: number;
  /** Minor page faults of the process (every thread) over the same loop. */
  minor_faults: number;
  us_per_agent: number;
  messages_out: number;
  updates_out: number;
}

function setup(agents: number, perAgent: number, frameworks: number, packed: boolean) {
  const agentRes = parseResourceList(`cpus:${perAgent * 0.1 + 1};mem:${perAgent * 32 + 1024}`);
  const taskRes = parseResourceList('cpus:0.1;mem:32');
  const fwIds = Array.from({ length: frameworks }, (_, i) => `fw-${i}`);
  const agentRecords: AgentRecord[] = [];
  const frames: Buffer[] = [];
  const byFw = new Map<string, { task_id: string; agent_id: string }[]>(fwIds.map((id) => [id, []]));
  for (let i = 0; i < agents; i++) {
    const id = `agent-${i}`;
    const info = { hostname: `sim-${i}`, port: 5051, resources: agentRes, attributes: {} };
    agentRecords.push({ info: { ...info, id }, total: agentRes, state: 'admitted' });
    const tasks: TaskRecord[] = [];
    const fws = new Set<string>();
    for (let j = 0; j < perAgent; j++) {
      const fw = fwIds[packed ? i % frameworks : (i * perAgent + j) % frameworks];
      const taskId = `t-${i}-${j}`;
      fws.add(fw);
      byFw.get(fw)?.push({ task_id: taskId, agent_id: id });
      tasks.push({
        task: { name: taskId, task_id: taskId, agent_id: id, resources: taskRes, command: { value: 'true' } },
        framework_id: fw,
        state: TaskState.RUNNING,
        status: {
          task_id: taskId,
          state: TaskState.RUNNING,
          source: 'SOURCE_EXECUTOR',
          agent_id: id,
          timestamp: 1_796_000_000 + i / 1000,
          uuid: `u${i}-${j}`,
        },
      });
    }
    const m: AgentMessage = {
      type: 'REREGISTER',
      agent: { ...info, id },
      version: 'sim',
      tasks,
      frameworks: [...fws].map((f) => ({ id: f, name: 'sim' })),
    };
    frames.push(encode(m));
  }
  const fwRecords: FrameworkRecord[] = fwIds.map((id) => ({
    info: { id, name: 'sim', roles: ['*'], failover_timeout: 3600 },
    completed: false,
  }));
  return { agentRecords, fwRecords, frames, byFw, fwIds };
}

async function run(
  n: number,
  o: { agents: number; perAgent: number; frameworks: number; packed: boolean },
): Promise<RunResult> {
  const { agentRecords, fwRecords, frames, byFw, fwIds } = setup(o.agents, o.perAgent, o.frameworks, o.packed);
  let clock = 1_796_000_000_000;
  const state = new MasterState({
    info: {
      id: 'bench-master',
      pid: 'master@127.0.0.1:5050',
      hostname: 'localhost',
      port: 5050,
      address: { hostname: 'localhost', ip: '127.0.0.1', port: 5050 },
      version: 'bench',
    },
    now: () => clock,
    allocationIntervalMs: 1000,
    agentPingTimeoutMs: 15_000,
    maxAgentPingTimeouts: 5,
    minAllocatable: [Resources.parse('cpus:0.01'), Resources.parse('mem:32')],
    schedulerHeartbeatSeconds: 15,
    agentReregisterTimeoutMs: 600_000,
    frameworkResubscribeTimeoutMs: 600_000,
    allocationHoldMs: 5000,
    maxFrameBytes: 4 * 1024 * 1024,
    leaderInfo: () => undefined,
  });
  state.apply({ type: 'leadershipGained', recovered: { agents: agentRecords, frameworks: fwRecords } });
  for (const [i, id] of fwIds.entries()) {
    const conn = `s${i}`;
    state.apply({ type: 'schedulerConnected', conn });
    const sub: Extract<SchedulerCall, { type: 'SUBSCRIBE' }> = {
      type: 'SUBSCRIBE',
      subscribe: { framework_info: { id, name: 'sim', roles: ['*'], failover_timeout: 3600 } },
    };
    state.apply({ type: 'schedulerCall', conn, call: sub });
    const asked = byFw.get(id) ?? [];
    for (let k = 0; k < asked.length; k += 1000) {
      state.apply({
        type: 'schedulerCall',
        conn,
        call: { type: 'RECONCILE', framework_id: id, reconcile: { tasks: asked.slice(k, k + 1000) } },
      });
    }
  }
  let gc = 0;
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gc += e.duration;
  });
  obs.observe({ entryTypes: ['gc'] });
  let decodeMs = 0;
  let applyMs = 0;
  let encodeMs = 0;
  let out = 0;
  let updates = 0;
  const started = performance.now();
  const cpu0 = process.cpuUsage();
  const faults0 = process.resourceUsage().minorPageFault;
  for (let i = 0; i < frames.length; i++) {
    // As the real master, which reads a few sockets per turn of its event loop (and so that the
    // garbage collector's timings are delivered).
    if (i % 50 === 49) await new Promise((r) => setImmediate(r));
    clock += 0.2;
    const conn = `a${i}`;
    let t = performance.now();
    state.apply({ type: 'agentConnected', conn });
    const message = decode('agent_to_master', frames[i]);
    let t2 = performance.now();
    decodeMs += t2 - t;
    t = t2;
    const effects = state.apply({ type: 'agentMessage', conn, message });
    t2 = performance.now();
    applyMs += t2 - t;
    t = t2;
    for (const e of effects) {
      if (e.kind === 'toAgent' || e.kind === 'toScheduler') {
        encode(e.message);
        out++;
        if (e.message.type === 'UPDATE') updates++;
      }
    }
    encodeMs += performance.now() - t;
  }
  const total = performance.now() - started;
  const cpu = process.cpuUsage(cpu0);
  const faults = process.resourceUsage().minorPageFault - faults0;
  for (const e of obs.takeRecords()) gc += e.duration;
  obs.disconnect();
  const tasks = o.agents * o.perAgent;
  if (state.tasks.size !== tasks) throw new Error(`${state.tasks.size} tasks recovered, expected ${tasks}`);
  if (updates !== tasks) throw new Error(`${updates} reconciliation answers, expected ${tasks}`);
  return {
    run: n,
    agents: o.agents,
    tasks,
    total_ms: total,
    cpu_ms: (cpu.user + cpu.system) / 1000,
    decode_ms: decodeMs,
    apply_ms: applyMs,
    encode_ms: encodeMs,
    gc_ms: gc,
    minor_faults: faults,
    us_per_agent: (total * 1000) / o.agents,
    messages_out: out,
    updates_out: updates,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      agents: { type: 'string' },
      'tasks-per-agent': { type: 'string' },
      frameworks: { type: 'string' },
      runs: { type: 'string' },
      packed: { type: 'boolean' },
      json: { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  const o = {
    agents: Number(values.agents ?? 5000),
    perAgent: Number(values['tasks-per-agent'] ?? 10),
    frameworks: Number(values.frameworks ?? 10),
    packed: values.packed === true,
  };
  const runs = Number(values.runs ?? 3);
  process.stdout.write('run  agents   tasks  total ms  cpu ms  decode  apply  encode  gc ms  µs/agent  faults\n');
  for (let n = 1; n <= runs; n++) {
    const r = await run(n, o);
    if (values.json) process.stdout.write(`${JSON.stringify({ bench: 'failover-inproc', ...r })}\n`);
    const f = (x: number, w: number) => x.toFixed(0).padStart(w);
    process.stdout.write(
      `${f(n, 3)}  ${f(r.agents, 6)}  ${f(r.tasks, 6)}  ${f(r.total_ms, 8)}  ${f(r.cpu_ms, 6)}  ${f(r.decode_ms, 6)}  ${f(r.apply_ms, 5)}  ${f(r.encode_ms, 6)}  ${f(r.gc_ms, 5)}  ${f(r.us_per_agent, 8)}  ${f(r.minor_faults, 6)}\n`,
    );
  }
}

await main();
