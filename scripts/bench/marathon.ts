/**
 * `npm run bench:marathon`: on a local cluster of real processes (a master, agents with the posix
 * containerizer, Marathon), seconds from POST to every instance running for one app of 1, 10, 100
 * and 1,000 instances and for a 100-app group, each beside the same tasks launched in the same run by
 * a minimal framework on the SDK (the ratio is Marathon's overhead), and a rolling restart of a
 * 100-instance app. For context, Marathon 1.4's own scale test (five agents) took 0.5 / 2.2 / 2.3 /
 * 38.5 s for 1 / 10 / 100 / 500 instances and did not finish 1,000 in 20 minutes.
 *
 * Flags: --agents N (4), --sizes 1,10,100,1000, --json.
 */
import {
  agora,
  freePort,
  getJson,
  startAgentProc,
  startMasterProc,
  stopAll,
  tempDir,
  waitFor,
} from '../../testkit/processes.js';
import { MinimalFramework, type TaskShape } from './marathon-minimal.js';

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  console.log(
    [
      'Usage: npm run bench:marathon -- [--agents N] [--sizes 1,10,100,1000] [--json]',
      'Seconds from POST to every instance running (one app of each size, a 100-app group, a rolling',
      'restart of 100), each beside the same tasks launched by a minimal SDK framework in the same run.',
    ].join('\n'),
  );
  process.exit(0);
}
const arg = (name: string, def: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
const AGENTS = Number(arg('agents', '4'));
const SIZES = arg('sizes', '1,10,100,1000').split(',').map(Number);
const SHAPE: TaskShape = { cmd: 'sleep 3600', cpus: 0.01, mem: 1 };
const POLL_MS = 50;

interface Row {
  what: string;
  marathon: number;
  minimal?: number;
}

async function main(): Promise<void> {
  process.env.AGORA_TEST_LOG_LEVEL ??= 'warn';
  const master = await startMasterProc(['--allocation_interval', '1secs']);
  for (let i = 0; i < AGENTS; i++) {
    await startAgentProc(master.address, [
      '--resources',
      'cpus:64;mem:65536;disk:100000;ports:[20000-30000]',
      '--containerizers',
      'posix',
    ]);
  }
  const port = await freePort();
  const m = agora('marathon', [
    'marathon',
    '--master',
    master.address,
    '--http_port',
    String(port),
    '--work_dir',
    tempDir('marathon'),
  ]);
  const base = `http://127.0.0.1:${port}`;
  await waitFor('marathon to lead', async () => (await getJson(`${base}/v2/info`)).frameworkId !== null, 30_000);
  const minimal = new MinimalFramework(master.address);
  await minimal.ready();
  const rows: Row[] = [];
  const post = async (path: string, body: unknown, method = 'POST') => {
    const r = await fetch(`${base}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
    return r.json() as Promise<{ deploymentId?: string }>;
  };
  const running = async () => {
    const apps = (await getJson(`${base}/v2/apps`)).apps as { tasksRunning: number }[];
    return apps.reduce((a, x) => a + x.tasksRunning, 0);
  };
  const deployments = async () => ((await getJson(`${base}/v2/deployments`)) as unknown[]).length;
  const until = async (what: string, fn: () => Promise<boolean>) => {
    const deadline = Date.now() + 600_000;
    while (!(await fn())) {
      if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  };
  const clear = async () => {
    await fetch(`${base}/v2/groups/bench?force=true`, { method: 'DELETE' });
    await until('marathon apps gone', async () => (await getJson(`${base}/v2/apps`)).apps.length === 0);
    await until('tasks gone', async () => {
      const st = await getJson(`${master.url}/master/state`);
      return st.frameworks.every((f: { tasks: unknown[] }) => f.tasks.length === 0);
    });
  };
  const app = (id: string, instances: number) => ({
    id,
    cmd: SHAPE.cmd,
    cpus: SHAPE.cpus,
    mem: SHAPE.mem,
    instances,
    portDefinitions: [],
  });

  for (const n of SIZES) {
    const base1 = await minimal.run(n, SHAPE);
    await minimal.killAll();
    const t0 = performance.now();
    await post('/v2/apps', app(`/bench/app${n}`, n));
    await until(`${n} running`, async () => (await running()) >= n);
    const secs = (performance.now() - t0) / 1000;
    rows.push({ what: `1 app × ${n}`, marathon: secs, minimal: base1 });
    console.error(`1 app × ${n}: marathon ${secs.toFixed(2)} s, minimal ${base1.toFixed(2)} s`);
    await clear();
  }
  {
    const base100 = await minimal.run(100, SHAPE);
    await minimal.killAll();
    const t0 = performance.now();
    await post('/v2/groups', { id: '/bench', apps: Array.from({ length: 100 }, (_, i) => app(`/bench/g${i}`, 1)) });
    await until('group running', async () => (await running()) >= 100);
    const secs = (performance.now() - t0) / 1000;
    rows.push({ what: '100-app group', marathon: secs, minimal: base100 });
    console.error(`100-app group: marathon ${secs.toFixed(2)} s, minimal ${base100.toFixed(2)} s`);
    await clear();
  }
  {
    await post('/v2/apps', app('/bench/rolling', 100));
    await until('100 running', async () => (await running()) >= 100 && (await deployments()) === 0);
    const t0 = performance.now();
    await post('/v2/apps/bench/rolling/restart', {});
    await until('restart done', async () => (await deployments()) === 0);
    const secs = (performance.now() - t0) / 1000;
    rows.push({ what: 'rolling restart × 100', marathon: secs });
    console.error(`rolling restart × 100: ${secs.toFixed(2)} s`);
    await clear();
  }
  await minimal.stop();
  m.kill('SIGTERM');
  await stopAll();
  if (args.includes('--json')) {
    console.log(JSON.stringify({ agents: AGENTS, rows }, null, 2));
    return;
  }
  console.log(
    `\nbench:marathon — ${AGENTS} agents (posix), tasks '${SHAPE.cmd}' cpus ${SHAPE.cpus} mem ${SHAPE.mem}; seconds from POST to all running`,
  );
  console.log('| what | Marathon (s) | minimal SDK framework (s) | rate ratio (minimal / Marathon) |');
  console.log('|---|---|---|---|');
  for (const r of rows) {
    const ratio = r.minimal !== undefined ? (r.minimal / r.marathon).toFixed(2) : '—';
    console.log(
      `| ${r.what} | ${r.marathon.toFixed(2)} | ${r.minimal !== undefined ? r.minimal.toFixed(2) : '—'} | ${ratio} |`,
    );
  }
  console.log(
    '\nContext: Marathon 1.4 scale test (5 agents): 0.5 / 2.2 / 2.3 / 38.5 s for 1 / 10 / 100 / 500 instances; 1,000 did not finish in 20 minutes.',
  );
}

main().catch(async (err) => {
  console.error(err);
  await stopAll();
  process.exit(1);
});
