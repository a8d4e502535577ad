/**
 * Launch-throughput benchmark (not a test): tasks launched per second END TO END through one real
 * agent, for each containerizer (posix, linux, docker), beside the raw rate of the same work without
 * Agora, measured in the same run and interleaved round by round (the machine is shared and noisy).
 *
 *   npm run bench:launch                                   build, then a table
 *   node dist/scripts/bench/launch.js --json               one JSON object per line per containerizer
 *   node dist/scripts/bench/launch.js --only posix --tasks 100 --rounds 3
 *
 * Flags:
 *   --tasks N          tasks per round for posix and linux (200)
 *   --docker-tasks N   tasks per round for docker (30)
 *   --rounds R         measured rounds per containerizer (5); --warmup W unmeasured ones first (1)
 *   --only LIST        e.g. posix,docker
 *   --batch K          tasks per ACCEPT (default: every task that fits, in one ACCEPT)
 *   --image IMG        docker image (agora/busybox:latest)
 *   --log-level L      master and agent log level (info, as shipped)
 *   --no-cli           skip the `docker run -d` (CLI) baseline
 *   --cpu-prof DIR     run the master and the agent under `node --cpu-prof` (profiles written into DIR at the end)
 *   --work-dir DIR     put the agent's work dir (sandboxes, checkpoint) under DIR (default: the temp dir)
 *   --launcher-processes N   the agent's --launcher_processes (default: the agent's, 2)
 *   --parent-cpu-shares S    the agent's --cgroups_parent_cpu_shares: resources (the agent's default,
 *                      min(its cpus:64, the host's CPUs) × 1024), none, or shares (1024: the kernel default)
 *   --json
 *
 * The measured window, the same on every side: from the start (Agora: the framework's first launch
 * call; raw: the start stamp of a tiny separate spawner process) to the LAST TASK'S OWN MARKER: every
 * task's command is `echo ID > FIFO; exec sleep 600`, and a tiny reader process stamps each line on
 * CLOCK_MONOTONIC as it arrives (launch-markers.ts). So the linux side includes its namespaces and
 * shell, as the baseline includes its shell. The master runs with its default allocation interval;
 * the wait for offers before a round (the last round's resources coming back) is reported apart, not
 * in the window. Each round also checks that every task's marker came exactly once.
 *
 *   agora     master + agent (bin/agora, started once); this process is the framework (SDK
 *             SchedulerDriver); all N tasks (cpus:0.1;mem:32, pinned to the containerizer) in one
 *             ACCEPT on the offers held (or --batch K per ACCEPT). Offers left over are held.
 *   spawn     (raw, posix and linux) spawn('/bin/sh', ['-c', CMD], {detached: true}) × N from the tiny
 *             spawner (launch-spawner.ts): the benchmark process is large, and forking it is slower.
 *   byhand    (linux, extra) per task memory/cpu/cpuacct cgroups with limits, `sh` joins them and execs
 *             `unshare --pid --fork --mount-proc --mount --uts --ipc --kill-child -- /bin/sh -c CMD`.
 *   api       (raw, docker) dockerode createContainer + start, host network, N concurrently.
 *   cli       (docker, extra) `docker run -d --network host ...`, N concurrently.
 *
 * It also prints where Agora's time goes (offer wait, agent STARTING/RUNNING stamps, last marker) and
 * the CPU per task of the agent, its launcher, the master, this process and the spawner (and dockerd,
 * containerd), from /proc: CPU is less at the mercy of other tenants than wall time; and the load
 * average at the start and end of each containerizer's rounds.
 *
 * Everything this starts (daemons, tasks, processes, containers, cgroups) is removed at the end,
 * also on Ctrl-C (exit status 0 either way).
 */
import Docker from 'dockerode';
import { waitFor } from '../../testkit/processes.js';
import { BenchFramework } from './launch-agora.js';
import { cleanup, live } from './launch-cleanup.js';
import { startCluster } from './launch-cluster.js';
import { MarkerMeter } from './launch-markers.js';
import { type CzResult, type Method, measure, probe } from './launch-measure.js';
import {
  addThreadsMs,
  CpuMeter,
  execFileP,
  launcherPids,
  launchersOf,
  launcherThreadsMs,
  log,
  pidsByComm,
} from './launch-meter.js';
import { COMMAND, CONTAINERIZERS, parseOptions, TASK_RESOURCES } from './launch-options.js';
import { ByHandLinux, RawSpawner, rawDockerApiRound, rawDockerCliRound, rawSpawnRound } from './launch-raw.js';
import { jsonLine, table } from './launch-report.js';

/** Set on Ctrl-C (or SIGTERM): the run stops after cleaning up, and still exits 0. */
let interrupted = false;

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  const docker = new Docker();
  const why = await probe(o, docker);
  const usable = o.only.filter((c) => !why[c]);
  if (o.only.includes('docker') && !why.docker) live.docker = docker;
  const results: CzResult[] = [];
  for (const c of o.only) if (why[c]) log(`${c}: skipped: ${why[c]}`);

  const onSignal = (sig: string) => {
    if (interrupted) return;
    interrupted = true;
    log(`\n${sig}: cleaning up (tasks, containers, processes)...`);
    void cleanup().finally(() => {
      if (results.length && !o.json) console.log(table(results, o));
      process.exit(0);
    });
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));

  let byHand: ByHandLinux | undefined;
  let byHandWhy: string | undefined;
  if (usable.includes('linux')) {
    try {
      byHand = new ByHandLinux();
    } catch (e) {
      byHandWhy = (e as Error).message;
    }
  }
  let cliWhy: string | undefined;
  if (usable.includes('docker') && o.cli) {
    const v = await execFileP('docker', ['version', '--format', '{{.Client.Version}}'], 20_000);
    if (!v.ok) cliWhy = `docker CLI: ${v.out}`;
  }

  try {
    if (usable.length > 0) {
      log(`starting a master and an agent (--containerizers ${usable.join(',')})...`);
      const cluster = await startCluster(o, usable);
      const markers = new MarkerMeter();
      const spawner = new RawSpawner();
      await markers.ready;
      const fw = new BenchFramework(cluster.master);
      live.driver = fw.driver;
      fw.driver.start();
      await waitFor('the framework to subscribe', () => fw.driver.subscribed);
      live.frameworkId = fw.driver.frameworkId;
      const dockerPids: Record<string, number[]> = usable.includes('docker')
        ? { dockerd: pidsByComm(['dockerd']), containerd: pidsByComm(['containerd']) }
        : {};
      const cpu = new CpuMeter(
        () => ({
          agent: [cluster.agent.child.pid ?? 0],
          launcher: launcherPids(cluster.agent.child.pid),
          master: [cluster.masterProc.child.pid ?? 0],
          bench: [],
          spawner: [spawner.child.pid ?? 0],
          ...dockerPids,
        }),
        () => {
          // By thread, finer than the ticks above: where the agent's and its launchers' time goes.
          const agentPid = cluster.agent.child.pid;
          const { launchers, helpers } = launchersOf(agentPid);
          const out = launcherThreadsMs(launchers, helpers);
          out.agent_main = 0;
          out.agent_other = 0;
          if (agentPid) addThreadsMs(out, agentPid, 'agent_main', 'agent_other');
          return out;
        },
      );
      for (const cz of usable) {
        if (interrupted) break;
        const n = cz === 'docker' ? o.dockerTasks : o.tasks;
        const methods: Method[] = [];
        if (cz === 'docker') {
          methods.push({
            key: 'api',
            label: `dockerode createContainer + start, ${n} concurrently, --network host (the engine API Agora uses)`,
            primary: true,
            round: (tag, c) => rawDockerApiRound(markers, docker, o.image, n, tag, c),
          });
          if (o.cli && !cliWhy) {
            methods.push({
              key: 'cli',
              label: `docker run -d --network host ${o.image} /bin/sh -c '${COMMAND}', ${n} concurrently (CLI)`,
              primary: false,
              round: (tag, c) => rawDockerCliRound(markers, docker, o.image, n, tag, c),
            });
          }
        } else {
          methods.push({
            key: 'spawn',
            label: `spawn('/bin/sh', ['-c', 'echo ID > FIFO; exec ${COMMAND}'], {detached: true}) × ${n} from a tiny spawner process, until every marker`,
            primary: true,
            round: (tag, c) => rawSpawnRound(spawner, markers, n, `raw-${cz}-${tag}`, c),
          });
          if (cz === 'linux' && byHand) {
            const bh = byHand;
            methods.push({
              key: 'byhand',
              label:
                'by hand: memory+cpu+cpuacct cgroups with limits, sh joins them, then unshare --pid --fork --mount-proc --mount --uts --ipc',
              primary: false,
              round: (tag, c) => bh.round(markers, n, tag, c),
            });
          }
        }
        log(
          `${cz}: ${n} tasks × (${o.warmup} warm-up + ${o.rounds} rounds), interleaved with: ${methods.map((m) => m.key).join(', ')}`,
        );
        let r: CzResult;
        try {
          r = await measure(o, cz, n, fw, markers, methods, cpu);
        } catch (e) {
          r = { containerizer: cz, tasks: n, error: (e as Error).message, baselines: [], profiles: [], retried: [] };
          log(`${cz}: FAILED: ${r.error}`);
        }
        results.push(r);
        if (o.json) console.log(jsonLine(r));
      }
    }
  } finally {
    for (const c of o.only) {
      if (!why[c]) continue;
      const r: CzResult = { containerizer: c, tasks: 0, skipped: why[c], baselines: [], profiles: [], retried: [] };
      results.push(r);
      if (o.json) console.log(jsonLine(r));
    }
    results.sort((a, b) => CONTAINERIZERS.indexOf(a.containerizer) - CONTAINERIZERS.indexOf(b.containerizer));
    if (byHandWhy && usable.includes('linux')) log(`linux by-hand baseline not measured: ${byHandWhy}`);
    if (cliWhy) log(`docker CLI baseline not measured: ${cliWhy}`);
    if (!interrupted) log('cleaning up...');
    await cleanup();
    // After Ctrl-C the signal handler prints what was measured and exits (0).
    if (interrupted) await new Promise(() => undefined);
  }
  if (!o.json) {
    console.log('');
    console.log(
      `Launch throughput, end to end (framework LAUNCH → every task's own marker), one agent, 'echo ID > FIFO; exec ${COMMAND}' (${TASK_RESOURCES}), log level ${o.logLevel}, agent --cgroups_parent_cpu_shares ${o.parentCpuShares ?? 'resources (default)'}`,
    );
    console.log(table(results, o));
  }
}

main().then(
  () => process.exit(0),
  async (e: Error) => {
    if (interrupted) return; // the signal handler cleans up and exits
    console.error(`bench:launch failed: ${e.stack ?? e.message}`);
    await cleanup().catch(() => undefined);
    process.exit(1);
  },
);
