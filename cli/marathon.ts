/**
 * `agora marathon`: the Marathon-compatible framework for long-running services (REST API v2 on
 * 8080). State in ZooKeeper with `--zk`, in files under `--work_dir` otherwise; several instances
 * with the same `--zk` elect a leader and the others proxy to it.
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type pino from 'pino';
import { MarathonNode } from '../frameworks/marathon/index.js';
import { AuditLog, authErrors, checkBind, parseAcls, parseCredentials, SecurityAuthorizer } from '../sdk/auth/index.js';
import { AgoraError } from '../sdk/errors.js';
import { SchedulerDriver } from '../sdk/scheduler/driver.js';
import { FileStore, type Store, ZkStore } from '../sdk/store/index.js';
import { systemClock } from '../sdk/util/clock.js';
import { parseDuration } from '../sdk/util/duration.js';
import { createLogger } from '../sdk/util/logger.js';
import { joinPath, redactZkUrl, ZkClient } from '../sdk/zk/index.js';
import { type CommandDef, type Flags, intFlag, UsageError } from './flags.js';
import { clientSecurityFromFlags, EXECUTE_TLS_FLAGS } from './secure.js';
import { asUsageError, readBounded } from './security.js';

export const marathonCommand: CommandDef = {
  name: 'marathon',
  summary: 'Run Marathon: long-running services from Marathon JSON apps and groups (REST API v2).',
  usage:
    'agora marathon --master zk://127.0.0.1:2181/agora|HOST:PORT [--zk zk://127.0.0.1:2181/marathon] [--http_port 8080]',
  flags: [
    {
      name: 'master',
      help: 'the master: HOST:PORT, https://HOST:PORT, or zk://host:2181/agora',
      default: '127.0.0.1:5050',
    },
    {
      name: 'zk',
      help: 'ZooKeeper URL for state and leader election (zk://host:2181/marathon); without it, files under --work_dir',
    },
    {
      name: 'zk_session_timeout',
      help: 'ZooKeeper session timeout (a lost session ends leadership)',
      default: '10secs',
    },
    { name: 'http_port', help: 'port of the REST API', default: '8080' },
    {
      name: 'http_address',
      help: 'address to listen on; beyond loopback needs --authenticate_http_readwrite or --insecure',
      default: '127.0.0.1',
    },
    {
      name: 'hostname',
      help: 'address other Marathon instances reach this one at (default: --http_address, or 127.0.0.1)',
    },
    { name: 'work_dir', help: 'state directory when there is no --zk', default: '.agora/marathon' },
    { name: 'framework_name', help: 'framework name registered with the master', default: 'marathon' },
    { name: 'mesos_role', help: 'role to subscribe with', default: '*' },
    {
      name: 'failover_timeout',
      help: 'how long the master keeps the tasks while no Marathon is connected',
      default: '7days',
    },
    { name: 'mesos_user', help: 'user tasks run as by default (default: $USER)' },
    { name: 'mesos_authentication_principal', help: "Marathon's principal towards the master" },
    { name: 'mesos_authentication_secret_file', help: 'file holding the secret of --mesos_authentication_principal' },
    {
      name: 'credential',
      help: 'credential file towards the master: JSON {"principal","secret"} (instead of the two flags above)',
    },
    ...EXECUTE_TLS_FLAGS,
    { name: 'credentials', help: 'Mesos credentials file for callers of the REST API' },
    { name: 'authenticate_http_readonly', help: 'REST reads (GET) need credentials (/ping stays open)', boolean: true },
    {
      name: 'authenticate_http_readwrite',
      help: 'REST writes (POST, PUT, PATCH, DELETE) need credentials',
      boolean: true,
    },
    { name: 'acls', help: 'Mesos ACLs for the REST API: JSON text or a file path' },
    { name: 'insecure', help: 'allow listening beyond loopback without authentication', boolean: true },
    { name: 'log_level', help: 'trace, debug, info, warn, error (default: $AGORA_LOG_LEVEL, else info)' },
  ],
  examples: [
    'agora marathon --master 127.0.0.1:5050',
    'agora marathon --master zk://10.0.0.1:2181/agora --zk zk://10.0.0.1:2181/marathon --http_address 0.0.0.0 --credentials /etc/agora/credentials.json --authenticate_http_readwrite',
    'curl -X POST -H \'Content-Type: application/json\' localhost:8080/v2/apps -d \'{"id":"/hello","cmd":"sleep 1000","cpus":0.1,"mem":32}\'',
  ],
};

function masterCredentialFlags(f: Flags): Flags {
  if (f.mesos_authentication_principal) {
    if (!f.mesos_authentication_secret_file)
      throw new UsageError('--mesos_authentication_principal needs --mesos_authentication_secret_file');
    const secret = readBounded(f.mesos_authentication_secret_file, 'mesos_authentication_secret_file').trim();
    return { ...f, principal: f.mesos_authentication_principal, secret, credential: undefined };
  }
  return f;
}

export interface RunningMarathon {
  node: MarathonNode;
  port: number;
  close(): Promise<void>;
}

export async function runMarathon(
  f: Flags,
  logger: pino.Logger = createLogger('agora-marathon', f.log_level),
): Promise<RunningMarathon> {
  if (f.zk && !f.zk.startsWith('zk://'))
    throw new UsageError(`--zk must look like zk://host:2181/marathon, got '${redactZkUrl(f.zk)}'`);
  const port = intFlag(f, 'http_port');
  const host = f.http_address ?? '127.0.0.1';
  const on = (n: string) => f[n] === 'true';
  if ((on('authenticate_http_readonly') || on('authenticate_http_readwrite')) && !f.credentials) {
    throw new UsageError('--authenticate_http_readonly/--authenticate_http_readwrite need --credentials');
  }
  let authorizer: SecurityAuthorizer;
  try {
    authorizer = new SecurityAuthorizer({
      credentials: f.credentials
        ? parseCredentials(readBounded(f.credentials, 'credentials'), `--credentials ${f.credentials}`)
        : undefined,
      acls: f.acls ? parseAcls(f.acls.trimStart().startsWith('{') ? f.acls : readBounded(f.acls, 'acls')) : undefined,
      authenticateHttpReadonly: on('authenticate_http_readonly'),
      authenticateHttpReadwrite: on('authenticate_http_readwrite'),
      audit: AuditLog.open(undefined, logger, systemClock),
      clock: systemClock,
    });
  } catch (e) {
    throw asUsageError(e);
  }
  try {
    const warn = checkBind({
      component: 'master',
      host,
      authenticated: on('authenticate_http_readwrite'),
      insecure: on('insecure'),
      missing: on('authenticate_http_readwrite') ? [] : ['--authenticate_http_readwrite'],
    });
    if (warn) logger.warn({ insecure: true, host }, warn.replace('the master', 'marathon'));
  } catch (e) {
    if (e instanceof AgoraError || e instanceof authErrors.InsecureBind)
      throw new UsageError(`${(e as Error).message.replace('the master', 'marathon')} [${(e as AgoraError).code}]`);
    throw e;
  }
  const security = clientSecurityFromFlags(masterCredentialFlags(f));
  let store: Store;
  let zk: { client: ZkClient; path: string } | undefined;
  if (f.zk) {
    const c = ZkClient.fromUrl(f.zk, { sessionTimeoutMs: parseDuration(f.zk_session_timeout ?? '10secs'), logger });
    await c.client.connect();
    zk = c;
    store = await ZkStore.open({ client: c.client, root: joinPath(c.path, 'state'), logger });
  } else {
    const dir = resolve(f.work_dir ?? '.agora/marathon');
    mkdirSync(dir, { recursive: true });
    store = await FileStore.open(dir, { logger });
  }
  const failoverSeconds = parseDuration(f.failover_timeout ?? '7days') / 1000;
  const node = new MarathonNode({
    store,
    zk,
    host,
    port,
    advertiseHost: f.hostname,
    role: f.mesos_role ?? '*',
    logger,
    authorizer,
    config: {
      master: redactZkUrl(security.master),
      framework_name: f.framework_name ?? 'marathon',
      mesos_role: f.mesos_role ?? '*',
    },
    createDriver: (frameworkId) =>
      new SchedulerDriver({
        master: security.master,
        credential: security.credential,
        tls: security.tls,
        logger: logger.child({ component: 'driver' }),
        framework: {
          ...(frameworkId ? { id: frameworkId } : {}),
          name: f.framework_name ?? 'marathon',
          user: f.mesos_user ?? process.env.USER ?? 'root',
          roles: [f.mesos_role ?? '*'],
          failover_timeout: failoverSeconds,
          checkpoint: true,
          capabilities: [{ type: 'PARTITION_AWARE' }],
          ...(security.credential ? { principal: security.credential.principal } : {}),
          webui_url: `http://${f.hostname ?? (host === '0.0.0.0' ? '127.0.0.1' : host)}:${port}`,
        },
      }),
  });
  try {
    await node.start();
  } catch (err) {
    await node.close().catch(() => undefined);
    await store.close();
    await zk?.client.close();
    throw err;
  }
  return {
    node,
    port: node.port,
    async close() {
      await node.close();
      await store.close();
      await zk?.client.close();
    },
  };
}
