/**
 * Where a linux launch's CPU goes beyond a posix one, step by step, without Agora:
 * `node dist/scripts/bench/launch-steps.js [--n 300] [--json]`.
 *
 * Each step runs N times one after another (spawnSync from this process); the figure is the CPU
 * of the children (user + system, from this process's `cutime`/`cstime` in /proc/self/stat, which
 * count every waited-for descendant) per run, and the wall time per run. The rows differ by one
 * thing each, so their differences are the cost of that thing:
 *
 * - `sh`: `/bin/sh -c true`, the programs of a raw task;
 * - `exec layer`: `/usr/bin/env /bin/sh -c true`, one more program exec'd before the shell;
 * - `unshare, no namespaces`: util-linux `unshare -- /bin/sh -c true`;
 * - `unshare, the linux containerizer's`: `unshare --pid --fork --mount-proc --mount --uts --ipc
 *   --kill-child -- /bin/sh -c true`, what every linux task runs;
 * - `cgroups` (root, cgroup v1 or v2): making, filling and removing one task's cgroup
 *   directories as the linux containerizer plans them, timed in this process;
 * - `agora-spawn, plain` and `agora-spawn, the linux containerizer's`: the same `/bin/sh -c true`
 *   N times through the launcher's spawn helper (agent/launcher/spawn-helper.c), fed in one go,
 *   without and with the linux containerizer's namespaces (pid, mount + /proc, uts, ipc); the
 *   CPU is the helper's own (its clones) plus its children's, i.e. more than the `sh` row counts.
 *
 * A benchmark, not a test: it prints and exits 0. Root is needed for the namespaces and cgroups
 * (the rows that cannot run say why).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { Cgroups } from '../../agent/containerizer/cgroups.js';
import type { LaunchRequest } from '../../agent/launcher/protocol.js';
import { encodeRequest, spawnHelper } from '../../agent/launcher/spawn-helper.js';

const USER_HZ = 100;

interface Row {
  step: string;
  command: string;
  cpu_ms?: number;
  wall_ms?: number;
  skipped?: string;
}

function childrenCpuMs(): number {
  const f = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  // After the comm: field 14 (cutime) and 15 (cstime) of proc(5) are at 13 and 14 here.
  return ((Number(f[13]) + Number(f[14])) * 1000) / USER_HZ;
}

function runSteps(n: number, file: string, args: string[]): { cpu: number; wall: number } | string {
  const c0 = childrenCpuMs();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const r = spawnSync(file, args, { stdio: 'ignore' });
    if (r.error) return r.error.message;
    if (r.status !== 0) return `${file} exited ${r.status ?? r.signal}`;
  }
  const wall = Number(process.hrtime.bigint() - t0) / 1e6 / n;
  return { cpu: (childrenCpuMs() - c0) / n, wall };
}

/** N `/bin/sh -c true` through one spawn helper; its CPU and its children's, per run. */
async function helperSteps(n: number, namespaces: boolean): Promise<{ cpu: number; wall: number } | string> {
  const h = spawnHelper();
  if ('reason' in h) return h.reason;
  if (namespaces && process.getuid?.() !== 0) return 'needs root';
  // The helper appends the task's output to plain files only (no device, link or FIFO).
  const dir = mkdtempSync(path.join(tmpdir(), 'agora-steps-'));
  const p = spawn(h.path, [], { stdio: ['pipe', 'pipe', 'inherit'] });
  const t0 = process.hrtime.bigint();
  const isolate: LaunchRequest['isolate'] = { namespaces: ['pid', 'mount', 'uts', 'ipc'] };
  for (let i = 0; i < n; i++) {
    const req: LaunchRequest = {
      id: i + 1,
      file: '/bin/sh',
      args: ['-c', 'true'],
      cwd: '/',
      env: { PATH: '/usr/bin:/bin' },
      stdout: path.join(dir, 'out'),
      stderr: path.join(dir, 'err'),
      ...(namespaces ? { isolate } : {}),
    };
    p.stdin.write(encodeRequest(req));
  }
  let out = '';
  let exits = 0;
  let failed = '';
  p.stdout.setEncoding('utf8');
  const cpu = await new Promise<number>((resolve) => {
    p.stdout.on('data', (d: string) => {
      out += d;
      const lines = out.split('\n');
      out = lines.pop() ?? '';
      for (const l of lines) {
        if (l.startsWith('X ')) exits++;
        if (l.startsWith('F ')) {
          exits++;
          failed ||= l;
        }
      }
      if (exits === n) {
        const f = readFileSync(`/proc/${p.pid}/stat`, 'utf8').split(') ')[1].split(' ');
        // utime, stime, cutime, cstime: fields 14-17 of proc(5), at 11-14 here.
        resolve(((Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) * 1000) / USER_HZ);
      }
    });
  });
  const wall = Number(process.hrtime.bigint() - t0) / 1e6 / n;
  p.stdin.end();
  rmSync(dir, { recursive: true, force: true });
  if (failed) return failed;
  return { cpu: cpu / n, wall };
}

function cgroupSteps(n: number): { cpu: number; wall: number } | string {
  if (process.getuid?.() !== 0) return 'needs root';
  const cg = new Cgroups({ root: 'agora-bench-steps' });
  let made: string[] = [];
  try {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) {
      const plan = cg.plan(`steps-${process.pid}-${i}`, { memBytes: 32 * 1024 * 1024, cpus: 0.1 });
      made = plan.mkdir;
      for (const d of plan.mkdir) mkdirSync(d, { recursive: true });
      for (const w of plan.write) {
        try {
          writeFileSync(w.file, w.value);
        } catch (err) {
          if (!w.optional) throw err;
        }
      }
      for (const d of plan.mkdir) rmdirSync(d);
      made = [];
    }
    const c = process.cpuUsage(c0);
    return { cpu: (c.user + c.system) / 1000 / n, wall: Number(process.hrtime.bigint() - t0) / 1e6 / n };
  } catch (err) {
    return (err as Error).message;
  } finally {
    for (const d of made) {
      try {
        rmdirSync(d);
      } catch {
        // not made
      }
    }
    for (const base of new Set(Object.values(safeBases(cg)))) {
      try {
        rmdirSync(base);
      } catch {
        // in use or never made
      }
    }
  }
}

function safeBases(cg: Cgroups): Record<string, string> {
  try {
    return cg.bases();
  } catch {
    return {};
  }
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help')) {
    console.log(readFileSync(new URL(import.meta.url), 'utf8').split('*/')[0]);
    return;
  }
  const ni = argv.indexOf('--n');
  const n = ni >= 0 ? Number(argv[ni + 1]) : 300;
  if (!Number.isInteger(n) || n < 1) throw new Error(`--n needs a whole number >= 1, got '${argv[ni + 1]}'`);
  const json = argv.includes('--json');
  const sh = ['/bin/sh', '-c', 'true'];
  const ns = ['--pid', '--fork', '--mount-proc', '--mount', '--uts', '--ipc', '--kill-child', '--'];
  const steps: [string, string, string[]][] = [
    ['sh', sh[0], sh.slice(1)],
    ['exec layer', '/usr/bin/env', sh],
    ['unshare, no namespaces', 'unshare', ['--', ...sh]],
    ["unshare, the linux containerizer's", 'unshare', [...ns, ...sh]],
  ];
  const load = [loadavg()[0]];
  const rows: Row[] = [];
  for (const [step, file, args] of steps) {
    const r = runSteps(n, file, args);
    const command = [file, ...args].join(' ');
    rows.push(
      typeof r === 'string' ? { step, command, skipped: r } : { step, command, cpu_ms: r.cpu, wall_ms: r.wall },
    );
  }
  const c = cgroupSteps(n);
  const cgCommand = 'mkdir + limits + rmdir of one task cgroup set (this process)';
  rows.push(
    typeof c === 'string'
      ? { step: 'cgroups', command: cgCommand, skipped: c }
      : { step: 'cgroups', command: cgCommand, cpu_ms: c.cpu, wall_ms: c.wall },
  );
  for (const [step, namespaces] of [
    ['agora-spawn, plain', false],
    ["agora-spawn, the linux containerizer's", true],
  ] as const) {
    const r = await helperSteps(n, namespaces);
    const command = `agora-spawn: /bin/sh -c true${namespaces ? ' in new pid (+ /proc), mount, uts, ipc namespaces' : ''}`;
    rows.push(
      typeof r === 'string' ? { step, command, skipped: r } : { step, command, cpu_ms: r.cpu, wall_ms: r.wall },
    );
  }
  load.push(loadavg()[0]);
  if (json) {
    for (const r of rows) console.log(JSON.stringify({ ...r, n, load_avg: load }));
    return;
  }
  console.log(
    `Launch steps, ${n} runs each, one after another; load average ${load[0].toFixed(1)} → ${load[1].toFixed(1)}`,
  );
  console.log('step                                     CPU ms/run  wall ms/run  command');
  for (const r of rows) {
    const cpu = r.cpu_ms === undefined ? '-' : r.cpu_ms.toFixed(2);
    const wall = r.wall_ms === undefined ? '-' : r.wall_ms.toFixed(2);
    console.log(
      `${r.step.padEnd(40)} ${cpu.padStart(10)}  ${wall.padStart(11)}  ${r.skipped ? `skipped: ${r.skipped}` : r.command}`,
    );
  }
  const by = (s: string) => rows.find((r) => r.step === s)?.cpu_ms;
  const base = by('sh');
  const full = by("unshare, the linux containerizer's");
  const bare = by('unshare, no namespaces');
  if (base !== undefined && full !== undefined && bare !== undefined) {
    console.log(
      `unshare's program (exec + its start): ${(bare - base).toFixed(2)} ms; the namespaces, --fork and /proc: ${(full - bare).toFixed(2)} ms; together ${(full - base).toFixed(2)} ms of CPU per linux task beyond a raw one`,
    );
  }
}

await main();
