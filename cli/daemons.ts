/** `agora master`, `agora agent` and `agora local`: starting the long-running parts. */
import { existsSync, mkdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import type pino from 'pino';
import { Agent } from '../agent/agent.js';
import type { ParentCpuShares } from '../agent/containerizer/parent-weight.js';
import { createContainerizers } from '../agent/containerizer/registry.js';
import { detectResources, parseAttributes } from '../agent/detect.js';
import { MAX_LAUNCHER_PROCESSES } from '../agent/launcher/client.js';
import { startAgentHttp } from '../agent/server.js';
import { readSecretsKeyFile } from '../master/secrets/key-file.js';
import { AGENT_WS_PATH, type RunningMaster, startMaster } from '../master/server.js';
import { AgoraError } from '../sdk/errors.js';
import { Resources } from '../sdk/resources/resources.js';
import { parseDuration } from '../sdk/util/duration.js';
import { createLogger } from '../sdk/util/logger.js';
import { followLeader } from '../sdk/zk/follow-leader.js';
import { redactZkUrl } from '../sdk/zk/index.js';
import { startLocalChronos } from './chronos.js';
import { type CommandDef, type Flags, intFlag, UsageError } from './flags.js';
import { localAgentResources } from './local-ports.js';
import { marathonCommand, runMarathon } from './marathon.js';
import {
  clientSecurityFromFlags,
  MASTER_TLS_FLAGS,
  secureLocalFlags,
  serverTlsFromFlags,
  TLS_SERVER_FLAGS,
} from './secure.js';
import {
  agentSecurityFlags,
  agentSecurityFromFlags,
  asUsageError,
  enforceBind,
  type MasterSecurity,
  masterSecurityFlags,
  masterSecurityFromFlags,
} from './security.js';

export const masterCommand: CommandDef = {
  name: 'master',
  summary: 'Run an Agora master: pools the agents, offers their resources to frameworks in DRF order.',
  usage: 'agora master [--port 5050] [--work_dir DIR] [--zk zk://127.0.0.1:2181/agora --quorum 1]',
  flags: [
    {
      name: 'zk',
      help: 'ZooKeeper URL (zk://host1:2181,host2:2181/agora): elect a leader among masters, keep state there',
    },
    {
      name: 'quorum',
      help: 'Mesos compatibility: accepted with --zk (ZooKeeper itself provides the quorum)',
      default: '1',
    },
    {
      name: 'zk_session_timeout',
      help: 'ZooKeeper session timeout (a lost session ends leadership)',
      default: '10secs',
    },
    {
      name: 'agent_reregister_timeout',
      help: 'how long a new leader waits for known agents to re-register before marking them unreachable',
      default: '10mins',
    },
    { name: 'port', help: 'port for the operator API and the agent/scheduler WebSockets', default: '5050' },
    {
      name: 'ip',
      help: 'address to listen on; beyond loopback (e.g. 0.0.0.0) needs authentication on or --insecure',
      default: '127.0.0.1',
    },
    {
      name: 'advertise_ip',
      help: 'address agents and frameworks should use to reach this master',
      default: '127.0.0.1',
    },
    { name: 'hostname', help: 'hostname to advertise (default: the machine hostname)' },
    { name: 'work_dir', help: 'where the master keeps its state', default: '.agora/master' },
    { name: 'allocation_interval', help: 'time between allocation cycles', default: '1secs' },
    { name: 'agent_ping_timeout', help: 'time between pings to each agent', default: '15secs' },
    { name: 'max_agent_ping_timeouts', help: 'unanswered pings before an agent is marked unreachable', default: '5' },
    { name: 'offer_timeout', help: 'rescind offers held longer than this (off by default)' },
    { name: 'scheduler_heartbeat_interval', help: 'HEARTBEAT events to frameworks this often', default: '15secs' },
    {
      name: 'min_allocatable_resources',
      help: "offer only what holds one of these ('|'-separated alternatives)",
      default: 'cpus:0.01|mem:32',
    },
    ...MASTER_TLS_FLAGS,
    { name: 'log_level', help: 'trace, debug, info, warn, error (default: $AGORA_LOG_LEVEL, else info)' },
    ...masterSecurityFlags,
    { name: 'max_connections_per_ip', help: 'open agent/scheduler connections allowed per address', default: '1000' },
    {
      name: 'connection_deadline',
      help: 'close a connection that has not subscribed or registered within this (0secs: never)',
      default: '30secs',
    },
    {
      name: 'secrets_key_file',
      help: 'AES-256 key of the secret store (32 random bytes, raw, base64 or hex; mode 0600); without it secrets are off',
    },
    // The v1 operator API's SUBSCRIBE stream (docs/mesos-operator-api.md).
    {
      name: 'operator_heartbeat_interval',
      help: 'HEARTBEAT events to operator API subscribers this often',
      default: '15secs',
    },
    {
      name: 'operator_subscriber_buffer',
      help: 'bytes an operator API subscriber may fall behind before it is disconnected',
      default: '8388608',
    },
    { name: 'max_operator_subscribers', help: 'operator API SUBSCRIBE streams open at once', default: '2000' },
    // Framework connections (WebSocket and v1 HTTP event stream) that read slowly (docs/protocol.md).
    {
      name: 'framework_backlog_high_water',
      help: 'unread bytes past which a framework connection gets no new offers until it reads',
      default: '1048576',
    },
    {
      name: 'framework_backlog_max',
      help: 'unread bytes past which a framework connection is dropped',
      default: '67108864',
    },
    {
      name: 'framework_stall_timeout',
      help: 'drop a framework connection that is over the high water and takes nothing for this long',
      default: '60secs',
    },
    {
      name: 'webui_dir',
      help: "serve Mesos's web UI from this directory (its src/webui) at / (docs/mesos-operator-api.md)",
    },
  ],
  examples: [
    'agora master --port 5050 --work_dir /var/lib/agora/master',
    'agora master --ip 0.0.0.0 --credentials /etc/agora/credentials.json --acls /etc/agora/acls.json --authenticate_frameworks --authenticate_agents --authenticate_http_readwrite --authenticate_http_readonly',
    'agora master --zk zk://10.0.0.1:2181,10.0.0.2:2181,10.0.0.3:2181/agora --quorum 2 --work_dir /var/lib/agora/master',
  ],
};

function backpressureFromFlags(f: Flags) {
  const highWaterBytes = intFlag(f, 'framework_backlog_high_water');
  const maxBufferedBytes = intFlag(f, 'framework_backlog_max');
  const stallTimeoutMs = parseDuration(f.framework_stall_timeout ?? '60secs');
  if (highWaterBytes < 1024) throw new UsageError('--framework_backlog_high_water must be at least 1024 bytes');
  if (maxBufferedBytes <= highWaterBytes)
    throw new UsageError('--framework_backlog_max must be above --framework_backlog_high_water');
  if (stallTimeoutMs < 1000) throw new UsageError('--framework_stall_timeout must be at least 1secs');
  return { highWaterBytes, maxBufferedBytes, stallTimeoutMs };
}

export function masterOptionsFromFlags(f: Flags, logger: pino.Logger) {
  if (f.zk && !f.zk.startsWith('zk://'))
    throw new UsageError(`--zk must look like zk://host:2181/agora, got '${redactZkUrl(f.zk)}'`);
  if (f.quorum !== undefined && intFlag(f, 'quorum') < 1) throw new UsageError('--quorum must be at least 1');
  if (f.webui_dir && !existsSync(join(f.webui_dir, 'index.html')))
    throw new UsageError(`--webui_dir must hold Mesos's web UI (its src/webui, with index.html): ${f.webui_dir}`);
  return {
    workDir: resolve(f.work_dir ?? '.agora/master'),
    zk: f.zk,
    zkSessionTimeoutMs: parseDuration(f.zk_session_timeout ?? '10secs'),
    agentReregisterTimeoutMs: parseDuration(f.agent_reregister_timeout ?? '10mins'),
    port: intFlag(f, 'port'),
    host: f.ip,
    advertiseIp: f.advertise_ip,
    hostname: f.hostname,
    allocationIntervalMs: parseDuration(f.allocation_interval ?? '1secs'),
    agentPingTimeoutMs: parseDuration(f.agent_ping_timeout ?? '15secs'),
    maxAgentPingTimeouts: intFlag(f, 'max_agent_ping_timeouts'),
    offerTimeoutMs: f.offer_timeout ? parseDuration(f.offer_timeout) : undefined,
    schedulerHeartbeatSeconds: parseDuration(f.scheduler_heartbeat_interval ?? '15secs') / 1000,
    minAllocatable: (f.min_allocatable_resources ?? '')
      .split('|')
      .filter(Boolean)
      .map((s) => Resources.parse(s)),
    webuiDir: f.webui_dir ? resolve(f.webui_dir) : undefined,
    operatorStream: {
      heartbeatIntervalMs: parseDuration(f.operator_heartbeat_interval ?? '15secs'),
      maxBufferedBytes: Math.max(1024, intFlag(f, 'operator_subscriber_buffer')),
      maxSubscribers: Math.max(1, intFlag(f, 'max_operator_subscribers')),
    },
    schedulerBackpressure: backpressureFromFlags(f),
    logger,
  };
}

export async function runMaster(f: Flags): Promise<RunningMaster> {
  const logger = createLogger('agora-master', f.log_level);
  let security: MasterSecurity;
  try {
    security = masterSecurityFromFlags(f, logger);
  } catch (e) {
    throw asUsageError(e);
  }
  for (const w of security.warnings) logger.warn(w);
  enforceBind('master', f.ip ?? '127.0.0.1', security.missing, f.insecure === 'true', logger);
  mkdirSync(resolve(f.work_dir ?? '.agora/master'), { recursive: true });
  let secretsKey: Buffer | undefined;
  try {
    secretsKey = f.secrets_key_file ? readSecretsKeyFile(f.secrets_key_file) : undefined;
  } catch (e) {
    throw e instanceof AgoraError ? new UsageError(`${e.message} [${e.code}]`) : e;
  }
  if (secretsKey) logger.info('secrets enabled (key from --secrets_key_file)');
  const { authorizer } = security;
  return startMaster({
    ...masterOptionsFromFlags(f, logger),
    flags: Object.fromEntries(Object.entries(f).filter((e): e is [string, string] => e[1] !== undefined)), // shown by /master/state, /flags and GET_FLAGS (secrets redacted there)
    authorizer,
    tls: serverTlsFromFlags(f), // cli/secure.ts
    secretsKey,
    // The protocol side (master/state/security.ts): the principal the upgrade proved, bound to ids, under the ACLs.
    authenticateFrameworks: f.authenticate_frameworks === 'true',
    authenticateAgents: f.authenticate_agents === 'true',
    permits: (p, action, object) => authorizer.permits(p, action, object),
    rateLimiter: security.rateLimiter,
    audit: (record) => authorizer.answered(record),
    connectionLimits: {
      maxPerAddress: Math.max(1, intFlag(f, 'max_connections_per_ip')),
      deadlineMs: parseDuration(f.connection_deadline ?? '30secs'),
    },
  });
}

export const agentCommand: CommandDef = {
  name: 'agent',
  summary: 'Run an Agora agent: offers this machine to the master and runs the tasks it is sent.',
  usage: 'agora agent --master HOST:PORT [--port 5051] [--work_dir DIR] [--resources ...] [--attributes ...]',
  flags: [
    {
      name: 'master',
      help: 'the master: HOST:PORT, or zk://host:2181/agora to follow the elected leader',
      default: '127.0.0.1:5050',
    },
    { name: 'port', help: 'port for the agent HTTP API (/state, /files)', default: '5051' },
    {
      name: 'ip',
      help: 'address to listen on (beyond loopback only with --authenticate_http_readonly or --insecure)',
      default: '127.0.0.1',
    },
    { name: 'hostname', help: 'hostname to advertise (default: the machine hostname)' },
    { name: 'work_dir', help: 'sandboxes and checkpoints live here', default: '.agora/agent' },
    {
      name: 'resources',
      help: "override detected resources, e.g. 'cpus:4;mem:8192;ports:[31000-32000];cpus(analytics):2'",
    },
    { name: 'attributes', help: "attributes, e.g. 'rack:r1;zone:a'" },
    {
      name: 'containerizers',
      help: 'comma-separated, in order of preference: docker (Docker engine), linux (namespaces + cgroups, root), posix (plain processes)',
      default: 'posix',
    },
    {
      name: 'docker_stop_timeout',
      help: 'grace between docker stop and kill when a task gives none',
      default: '0secs',
    },
    {
      name: 'launcher_processes',
      help: "launcher processes that start posix and linux tasks side by side (a spawn blocks its launcher until the task has exec'd); 1 to 16",
      default: '2',
    },
    {
      name: 'cgroups_parent_cpu_shares',
      help: "cpu weight of the cgroup holding the linux tasks: 'resources' (the agent's cpus, at most the host's, × 1024 shares, so the tasks together compete like the CPUs offered; an operator's own weight there is kept), a number of shares (2 to 262144; the linear cpu.weight on cgroup v2), or 'none' (left as it is)",
      default: 'resources',
    },
    { name: 'kill_grace_period', help: 'SIGTERM→SIGKILL grace when a task gives none', default: '3secs' },
    {
      name: 'registration_backoff_factor',
      help: "when the leading master changes, re-register with the new one after a random wait in [0, this), so that a cluster's agents do not all reach it at once (0secs: at once; at most 10mins)",
      default: '1secs',
    },
    { name: 'checkpoint_fsync', help: 'fsync checkpoints (survive power loss, slower)', boolean: true },
    {
      name: 'status_update_retry_interval_min',
      help: 'first resend of a status update the framework has not acknowledged (then doubling); updates are also resent at once on every reconnection',
      default: '10secs',
    },
    {
      name: 'status_update_retry_interval_max',
      help: 'longest wait between resends of an unacknowledged status update',
      default: '10mins',
    },
    {
      name: 'switch_user',
      help: "when the agent runs as root, run each task as its command's user, else its framework's user (--switch_user=false: as the agent's user)",
      boolean: true,
      default: 'true',
    },
    ...TLS_SERVER_FLAGS,
    ...agentSecurityFlags,
    { name: 'log_level', help: 'trace, debug, info, warn, error (default: $AGORA_LOG_LEVEL, else info)' },
  ],
  examples: [
    'agora agent --master 127.0.0.1:5050 --work_dir /var/lib/agora/agent',
    "agora agent --master 10.0.0.5:5050 --resources 'cpus:8;mem:16384' --attributes 'rack:r1;zone:a'",
  ],
};

/** A boolean flag's value: `true` or `false` (as Mesos spells them), else a usage error. */
export function booleanFlag(f: Flags, name: string, fallback: boolean): boolean {
  const v = f[name];
  if (v === undefined) return fallback;
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw new UsageError(`--${name} must be true or false, got '${v}'`);
}

/**
 * `--cgroups_parent_cpu_shares`: `resources` (default: the agent's cpus × 1024, the cpus capped at
 * the host's, as Kubernetes' allocatable never exceeds capacity: an agent that offers more CPUs than
 * the host has must not outweigh its system services by that much), 2 to 262144, or `none`.
 */
export function parentCpuSharesFlag(f: Flags, cpus: number, hostCpus = availableParallelism()): ParentCpuShares {
  const v = f.cgroups_parent_cpu_shares ?? 'resources';
  if (v === 'none' || (v === 'resources' && !(cpus > 0))) return { mode: 'none' };
  if (v === 'resources') {
    const n = Math.min(cpus, Math.max(1, hostCpus));
    return { mode: 'resources', shares: Math.max(2, Math.min(262_144, Math.round(n * 1024))) };
  }
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < 2 || n > 262_144) {
    throw new UsageError(`--cgroups_parent_cpu_shares must be 'resources', 'none' or 2 to 262144, got '${v}'`);
  }
  return { mode: 'explicit', shares: n };
}

/** `--launcher_processes`: 1 to MAX_LAUNCHER_PROCESSES (default 2). */
export function launcherProcessesFlag(f: Flags): number {
  const n = f.launcher_processes === undefined ? 2 : intFlag(f, 'launcher_processes');
  if (!Number.isInteger(n) || n < 1 || n > MAX_LAUNCHER_PROCESSES) {
    throw new UsageError(
      `--launcher_processes must be from 1 to ${MAX_LAUNCHER_PROCESSES}, got '${f.launcher_processes}'`,
    );
  }
  return n;
}

/** `--registration_backoff_factor`, checked: 0 to 10 minutes. */
export function registrationBackoffFlag(f: Flags): number {
  let ms: number;
  try {
    ms = parseDuration(f.registration_backoff_factor ?? '1secs');
  } catch (e) {
    throw asUsageError(e);
  }
  if (!Number.isFinite(ms) || ms < 0 || ms > 600_000) {
    throw new UsageError(
      `--registration_backoff_factor must be between 0secs and 10mins, got '${f.registration_backoff_factor}'`,
    );
  }
  return ms;
}

/** The two status-update resend flags, checked: 1 ms ≤ min ≤ max ≤ 1 day. */
export function statusRetryFlags(f: Flags): { minMs: number; maxMs: number } {
  const read = (name: string, fallback: string): number => {
    let ms: number;
    try {
      ms = parseDuration(f[name] ?? fallback);
    } catch (e) {
      throw asUsageError(e);
    }
    if (!Number.isFinite(ms) || ms < 1 || ms > 86_400_000) {
      throw new UsageError(`--${name} must be between 1ms and 1day, got '${f[name]}'`);
    }
    return ms;
  };
  const minMs = read('status_update_retry_interval_min', '10secs');
  const maxMs = read('status_update_retry_interval_max', '10mins');
  if (maxMs < minMs) {
    throw new UsageError(
      `--status_update_retry_interval_max (${f.status_update_retry_interval_max ?? '10mins'}) must not be shorter than --status_update_retry_interval_min (${f.status_update_retry_interval_min ?? '10secs'})`,
    );
  }
  return { minMs, maxMs };
}

function checkMasterFlag(master: string): void {
  if (!/^[^:/\s]+:\d+$/.test(master) && !master.startsWith('zk://')) {
    throw new UsageError(
      `--master must be HOST:PORT (e.g. 127.0.0.1:5050) or zk://host:2181/agora, got '${redactZkUrl(master)}'`,
    );
  }
}

export interface RunningAgent {
  agent: Agent;
  port: number;
  close(killTasks?: boolean): Promise<void>;
}

export async function runAgent(f: Flags, logger = createLogger('agora-agent', f.log_level)): Promise<RunningAgent> {
  const workDir = resolve(f.work_dir ?? '.agora/agent');
  mkdirSync(workDir, { recursive: true });
  const resources = detectResources(workDir, f.resources);
  const containerizers = await createContainerizers(
    (f.containerizers ?? 'posix')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    {
      logger,
      workDir,
      dockerStopTimeoutMs: parseDuration(f.docker_stop_timeout ?? '0secs'),
      launcherProcesses: launcherProcessesFlag(f),
      cgroupsParentCpuShares: parentCpuSharesFlag(f, resources.scalar('cpus')),
    },
  );
  const port = intFlag(f, 'port');
  // TLS and the credential towards the master (cli/secure.ts); `--master https://…` accepted.
  const security = clientSecurityFromFlags(f);
  checkMasterFlag(security.master);
  let sec: ReturnType<typeof agentSecurityFromFlags>;
  try {
    sec = agentSecurityFromFlags(f, logger);
  } catch (e) {
    throw asUsageError(e);
  }
  const retry = statusRetryFlags(f);
  const registrationBackoffMs = registrationBackoffFlag(f);
  const switchUser = booleanFlag(f, 'switch_user', true);
  if (switchUser && process.getuid?.() !== 0) {
    logger.warn("--switch_user is on but the agent is not root: every task runs as the agent's user");
  }
  let agentRef: Agent | undefined;
  const endpoint = followLeader(security.master, AGENT_WS_PATH, {
    logger,
    onChange: () => agentRef?.reconnect(),
  });
  const agent = new Agent({
    masterUrl: endpoint.url,
    leaderHint: endpoint.hint,
    onShutdown: (message) => {
      console.error(`agora agent: ${message}`);
      void endpoint.close().finally(() => process.exit(0));
    },
    workDir,
    port,
    hostname: f.hostname,
    resources,
    attributes: parseAttributes(f.attributes),
    containerizers,
    logger,
    killGracePeriodMs: parseDuration(f.kill_grace_period ?? '3secs'),
    checkpointFsync: f.checkpoint_fsync === 'true',
    registrationBackoffMs,
    statusRetryInitialMs: retry.minMs,
    statusRetryMaxMs: retry.maxMs,
    switchUser,
    credential: security.credential,
    tls: security.tls,
  });
  agentRef = agent;
  const http = await startAgentHttp(agent, port, f.ip ?? '127.0.0.1', {
    logger,
    tls: serverTlsFromFlags(f),
    authorizer: sec.authorizer,
    bindCheck: { missing: sec.missing, insecure: f.insecure === 'true' },
    flags: Object.fromEntries(Object.entries(f).filter((e): e is [string, string] => e[1] !== undefined)),
    hostname: f.hostname,
  });
  await agent.start();
  logger.info({ port, workDir, resources: resources.toString() }, `agent listening on port ${port}`);
  return {
    agent,
    port,
    async close(killTasks = false) {
      await agent.stop(killTasks);
      await endpoint.close();
      await http.close();
    },
  };
}

export const localCommand: CommandDef = {
  name: 'local',
  summary: 'Run a local cluster in the foreground: a master and N agents (Ctrl-C stops it all).',
  usage: 'agora local [--agents 2] [--port 5050] [--agent_port 5051]',
  flags: [
    { name: 'agents', help: 'how many agents', default: '2' },
    { name: 'port', help: 'master port', default: '5050' },
    { name: 'agent_port', help: 'port of the first agent (the next ones count up)', default: '5051' },
    { name: 'work_dir', help: 'root for the master and agent work dirs', default: '.agora/local' },
    {
      name: 'resources',
      help: 'resources of each agent (default: detected; without ports, each agent gets its own slice of 31000-32000)',
    },
    { name: 'chronos_port', help: 'port of the Chronos started beside the cluster (0: none)', default: '4400' },
    {
      name: 'secure',
      help: 'TLS and authentication on, with a CA, certificates and credentials made under --work_dir/secure',
      boolean: true,
    },
    { name: 'log_level', help: 'trace, debug, info, warn, error (default: $AGORA_LOG_LEVEL, else warn)' },
    {
      name: 'marathon_port',
      help: 'port of the Marathon REST API started beside the cluster (0: no Marathon)',
      default: '8080',
    },
  ],
  examples: ['agora local', 'agora local --agents 4 --resources "cpus:2;mem:2048"'],
};

export async function runLocal(f: Flags): Promise<() => Promise<void>> {
  const root = resolve(f.work_dir ?? '.agora/local');
  const n = intFlag(f, 'agents');
  const logLevel = f.log_level ?? process.env.AGORA_LOG_LEVEL ?? 'warn';
  const masterPort = intFlag(f, 'port');
  const secure = f.secure === 'true' ? await secureLocalFlags(root) : undefined;
  const scheme = secure ? 'https' : 'http';
  const master = await runMaster({
    ...defaultsOf(masterCommand),
    port: String(masterPort),
    work_dir: `${root}/master`,
    log_level: logLevel,
    ...secure?.master,
  });
  const agents: RunningAgent[] = [];
  const firstAgentPort = intFlag(f, 'agent_port');
  for (let i = 0; i < n; i++) {
    const agentFlags = {
      ...defaultsOf(agentCommand),
      master: `127.0.0.1:${master.port}`,
      ...secure?.agent,
      port: String(firstAgentPort + i),
      work_dir: `${root}/agent-${i + 1}`,
      log_level: logLevel,
      resources: localAgentResources(f.resources, i, n),
    };
    agents.push(await runAgent(agentFlags, createLogger(`agora-agent-${i + 1}`, logLevel)));
  }
  // Chronos on 4400 (frameworks/chronos); its own hook, beside any other framework's.
  const chronos = await startLocalChronos(f, root, master.port, logLevel, secure?.paths);
  // Marathon beside the master and agents (cli/marathon.ts), state under the work dir.
  const marathonPort = intFlag(f, 'marathon_port');
  const marathon =
    marathonPort > 0
      ? await runMarathon(
          {
            ...defaultsOf(marathonCommand),
            master: `${secure ? 'https://' : ''}127.0.0.1:${master.port}`,
            http_port: String(marathonPort),
            work_dir: `${root}/marathon`,
            log_level: logLevel,
            ...(secure
              ? {
                  ca_file: secure.paths.caCert,
                  tls_cert: secure.paths.cliCert,
                  tls_key: secure.paths.cliKey,
                  credential: secure.paths.frameworkCredential,
                }
              : {}),
          },
          createLogger('agora-marathon', logLevel),
        ).catch((err: NodeJS.ErrnoException) => {
          // Port taken (another Marathon, another local cluster): the cluster still comes up.
          if (err.code !== 'EADDRINUSE') throw err;
          console.error(`agora local: port ${marathonPort} is in use, so no Marathon (pick one with --marathon_port)`);
          return undefined;
        })
      : undefined;
  const how = secure ? ` --ca_file ${secure.paths.caCert} --credential ${secure.paths.frameworkCredential}` : '';
  console.log(`Agora local cluster is up${secure ? ' (TLS and authentication on)' : ''}.
  master  ${scheme}://127.0.0.1:${master.port}   (state: ${scheme}://127.0.0.1:${master.port}/master/state)
${agents.map((a, i) => `  agent ${i + 1} ${scheme}://127.0.0.1:${a.port}   (work dir ${root}/agent-${i + 1})`).join('\n')}
${marathon ? `  marathon http://127.0.0.1:${marathon.port}   (POST Marathon JSON to /v2/apps or /v2/groups)\n` : ''}Try: ./bin/agora execute --master ${scheme === 'https' ? 'https://' : ''}127.0.0.1:${master.port}${how} --name hi --command 'echo hello' --resources 'cpus:0.1;mem:32'
${chronos ? `  chronos http://127.0.0.1:${chronos.port}   (Chronos: /scheduler/jobs, Metronome: /v1/jobs)\n` : ''}Ctrl-C stops the cluster.`);
  return async () => {
    await chronos?.close();
    await marathon?.close();
    await Promise.all(agents.map((a) => a.close(true)));
    await master.close();
  };
}

export function defaultsOf(cmd: CommandDef): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of cmd.flags) if (f.default !== undefined) out[f.name] = f.default;
  return out;
}
