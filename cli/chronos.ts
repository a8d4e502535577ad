/** `agora chronos`: the Chronos/Metronome batch-job framework (frameworks/chronos). */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { type RunningChronos, startChronos } from '../frameworks/chronos/service.js';
import { AuditLog, checkBind, parseAcls, parseCredentials, SecurityAuthorizer } from '../sdk/auth/index.js';
import { AgoraError } from '../sdk/errors.js';
import { systemClock } from '../sdk/util/clock.js';
import { parseDuration } from '../sdk/util/duration.js';
import { createLogger } from '../sdk/util/logger.js';
import { redactZkUrl } from '../sdk/zk/index.js';
import { type CommandDef, type Flags, intFlag, UsageError } from './flags.js';
import { clientSecurityFromFlags, EXECUTE_TLS_FLAGS } from './secure.js';
import { executeCredentialFlags } from './security.js';

export const chronosCommand: CommandDef = {
  name: 'chronos',
  summary: 'Run Chronos: scheduled and dependent batch jobs (Chronos 3 and Metronome REST APIs), exactly once.',
  usage: 'agora chronos --master HOST:PORT|zk://… [--zk zk://host:2181/chronos] [--http_port 4400] [--work_dir DIR]',
  flags: [
    {
      name: 'master',
      help: 'the master: HOST:PORT, or zk://host:2181/agora to follow the elected leader',
      default: '127.0.0.1:5050',
    },
    {
      name: 'zk',
      help: 'zk://host:2181/chronos: keep state in ZooKeeper and elect a leader among instances (else: files in --work_dir, one instance)',
    },
    {
      name: 'zk_session_timeout',
      help: 'ZooKeeper session timeout (a lost session ends leadership)',
      default: '10secs',
    },
    { name: 'http_port', help: 'port of the REST API', default: '4400' },
    {
      name: 'ip',
      help: 'address to listen on; beyond loopback needs authentication on or --insecure',
      default: '127.0.0.1',
    },
    { name: 'advertise_ip', help: 'address other instances use to forward requests to this one', default: '127.0.0.1' },
    { name: 'hostname', help: 'hostname to advertise' },
    { name: 'work_dir', help: 'where state is kept without --zk', default: '.agora/chronos' },
    { name: 'framework_name', help: 'the framework name registered with the master', default: 'chronos' },
    { name: 'role', help: 'the role to run jobs under', default: '*' },
    { name: 'user', help: "default user of tasks (a job's runAsUser wins)" },
    {
      name: 'failover_timeout',
      help: 'how long the master keeps our tasks while no leader is connected',
      default: '7days',
    },
    { name: 'history_limit', help: 'run records kept per job', default: '100' },
    ...executeCredentialFlags,
    ...EXECUTE_TLS_FLAGS,
    { name: 'http_credentials', help: 'Mesos credentials file for callers of the REST API' },
    { name: 'authenticate_http_readonly', help: 'GETs need credentials (/ping stays open)', boolean: true },
    { name: 'authenticate_http_readwrite', help: 'every other method needs credentials', boolean: true },
    { name: 'acls', help: 'Mesos ACLs (get_endpoints for reads): JSON text or a file path' },
    {
      name: 'insecure',
      help: 'allow listening beyond loopback without authentication (logged as a warning at every start)',
      boolean: true,
    },
    { name: 'log_level', help: 'trace, debug, info, warn, error (default: $AGORA_LOG_LEVEL, else info)' },
  ],
  examples: [
    'agora chronos --master 127.0.0.1:5050',
    'agora chronos --master zk://10.0.0.1:2181/agora --zk zk://10.0.0.1:2181/chronos --http_port 4400',
  ],
};

const on = (v: string | undefined) => v === 'true' || v === '1';

function jsonOrFile(v: string): string {
  return v.trim().startsWith('{') ? v : readFileSync(v.replace(/^file:\/\//, ''), 'utf8');
}

export async function runChronos(f: Flags): Promise<RunningChronos> {
  // Every run is written (fsync) before its launch: more threads let those writes go in parallel.
  // Read when the thread pool first starts, which is after this in `agora chronos`.
  process.env.UV_THREADPOOL_SIZE ??= '16';
  const logger = createLogger('agora-chronos', f.log_level);
  if (f.zk && !f.zk.startsWith('zk://'))
    throw new UsageError(`--zk must look like zk://host:2181/chronos, got '${redactZkUrl(f.zk)}'`);
  if ((on(f.authenticate_http_readonly) || on(f.authenticate_http_readwrite)) && !f.http_credentials)
    throw new UsageError('--authenticate_http_readonly/--authenticate_http_readwrite need --http_credentials');
  const ip = f.ip ?? '127.0.0.1';
  try {
    const warn = checkBind({
      component: 'master',
      host: ip,
      authenticated: on(f.authenticate_http_readwrite),
      insecure: on(f.insecure),
      missing: on(f.authenticate_http_readwrite) ? [] : ['--authenticate_http_readwrite'],
    });
    if (warn) logger.warn(warn.replace('the master', 'chronos'));
  } catch (e) {
    if (e instanceof AgoraError) throw new UsageError(`${e.message} [${e.code}]`);
    throw e;
  }
  let authorizer: SecurityAuthorizer;
  try {
    authorizer = new SecurityAuthorizer({
      credentials: f.http_credentials
        ? parseCredentials(readFileSync(f.http_credentials, 'utf8'), f.http_credentials)
        : undefined,
      acls: f.acls ? parseAcls(jsonOrFile(f.acls)) : undefined,
      authenticateHttpReadonly: on(f.authenticate_http_readonly),
      authenticateHttpReadwrite: on(f.authenticate_http_readwrite),
      audit: AuditLog.open(undefined, logger, systemClock),
      clock: systemClock,
    });
  } catch (e) {
    if (e instanceof AgoraError) throw new UsageError(`${e.message} [${e.code}]`);
    throw e;
  }
  const security = clientSecurityFromFlags(f);
  return startChronos({
    master: security.master,
    credential: security.credential,
    tls: security.tls,
    zk: f.zk,
    zkSessionTimeoutMs: parseDuration(f.zk_session_timeout ?? '10secs'),
    workDir: resolve(f.work_dir ?? '.agora/chronos'),
    port: intFlag(f, 'http_port'),
    host: ip,
    advertiseIp: f.advertise_ip,
    hostname: f.hostname,
    logger,
    authorizer,
    frameworkName: f.framework_name,
    role: f.role,
    user: f.user,
    failoverTimeoutSecs: parseDuration(f.failover_timeout ?? '7days') / 1000,
    historyLimit: intFlag(f, 'history_limit'),
  });
}

/** `agora local`'s Chronos: on --chronos_port (default 4400; 0 = none), state under the local work dir. */
export async function startLocalChronos(
  f: Flags,
  root: string,
  masterPort: number,
  logLevel: string,
  secure?: { caCert: string; frameworkCredential: string },
): Promise<RunningChronos | undefined> {
  const port = f.chronos_port === undefined ? 4400 : Number(f.chronos_port);
  if (!Number.isInteger(port) || port <= 0) return undefined;
  const flags: Flags = {
    master: `${secure ? 'https://' : ''}127.0.0.1:${masterPort}`,
    http_port: String(port),
    work_dir: `${root}/chronos`,
    log_level: logLevel,
    history_limit: '100',
    failover_timeout: '7days',
  };
  if (secure) {
    flags.ca_file = secure.caCert;
    flags.credential = secure.frameworkCredential;
  }
  return runChronos(flags).catch((err: NodeJS.ErrnoException) => {
    // Port taken (another Chronos, another local cluster): the cluster still comes up.
    if (err.code !== 'EADDRINUSE') throw err;
    console.error(`agora local: port ${port} is in use, so no Chronos (pick one with --chronos_port)`);
    return undefined;
  });
}
