/**
 * `agora execute`, like `mesos-execute`: a tiny framework on the SDK that launches one task,
 * prints its status updates, and exits 0 on TASK_FINISHED (non-zero otherwise). Built on the SDK's
 * helpers: `take` picks what the task needs out of an offer (ports chosen), `buildTaskInfo` builds
 * the task for its containerizer, the driver declines what is left and suppresses once launched.
 */
import { randomUUID } from 'node:crypto';
import { buildTaskInfo, type Containerizer, isTerminal, type TaskNeed, take } from '../sdk/offers/index.js';
import { type Offer, type TaskInfo, TaskState, type TaskStatus } from '../sdk/protocol/types.js';
import { Resources } from '../sdk/resources/resources.js';
import { SchedulerDriver } from '../sdk/scheduler/index.js';
import { parseDuration } from '../sdk/util/duration.js';
import { createLogger } from '../sdk/util/logger.js';
import { type CommandDef, type Flags, UsageError } from './flags.js';
import { clientSecurityFromFlags, EXECUTE_TLS_FLAGS } from './secure.js';
import { executeCredentialFlags } from './security.js';

export const executeCommand: CommandDef = {
  name: 'execute',
  summary: 'Launch one task through the master, print its status updates, exit 0 when it finishes.',
  usage: "agora execute --master HOST:PORT --name NAME --command CMD [--resources 'cpus:0.1;mem:32']",
  flags: [
    {
      name: 'master',
      help: 'the master: HOST:PORT, https://HOST:PORT (TLS), or zk://host:2181/agora; --ca_file implies TLS',
      default: '127.0.0.1:5050',
    },
    { name: 'name', help: 'task (and framework) name', required: true },
    { name: 'command', help: 'shell command to run (optional with --docker_image: the image default runs)' },
    { name: 'resources', help: 'what the task needs', default: 'cpus:0.1;mem:32' },
    { name: 'role', help: 'role to subscribe with', default: '*' },
    { name: 'containerizer', help: 'posix, linux or docker (default: the agent chooses)' },
    { name: 'docker_image', help: 'run the command in this Docker image (implies --containerizer docker)' },
    { name: 'env', help: 'environment as a JSON object, e.g. \'{"A":"1"}\'' },
    { name: 'timeout', help: 'give up (and kill the task) after this long', default: '10mins' },
    { name: 'log_level', help: 'driver log level', default: 'warn' },
    ...executeCredentialFlags,
    ...EXECUTE_TLS_FLAGS,
  ],
  examples: [
    "agora execute --master 127.0.0.1:5050 --name hi --command 'echo hello' --resources 'cpus:0.1;mem:32'",
    "agora execute --name box --docker_image agora/busybox:latest --command 'uname -a'",
    "agora execute --master https://10.0.0.5:5050 --ca_file ca.crt --credential framework.credential.json --name hi --command 'echo hello'",
  ],
};

/** What `--resources` asks for, as the offer helpers take it (ports as named host ports). */
export function needOf(resources: string): TaskNeed {
  const r = Resources.parse(resources);
  const scalars = r.scalarTotals();
  const { cpus, mem, disk, gpus, ...others } = scalars;
  const ports = r.ranges('ports').flatMap((x) => Array.from({ length: x.end - x.begin + 1 }, (_, k) => x.begin + k));
  return {
    cpus,
    mem,
    disk,
    gpus,
    ...(Object.keys(others).length > 0 ? { scalars: others } : {}),
    ...(ports.length > 0 ? { ports } : {}),
  };
}

/** The task for `offer`, booking `taken` (what `take` gave), for the containerizer the flags name. */
export function buildTask(f: Flags, offer: Offer, taskId: string, taken?: Resources): TaskInfo {
  const env = f.env ? parseEnv(f.env) : {};
  const containerizer = (f.docker_image ? 'docker' : f.containerizer) as Containerizer | undefined;
  const task = buildTaskInfo({
    id: taskId,
    name: f.name ?? taskId,
    agentId: offer.agent_id,
    resources: taken ?? Resources.parse(f.resources ?? 'cpus:0.1;mem:32'),
    containerizer,
    command: f.command,
    env,
    ...(f.docker_image ? { docker: { image: f.docker_image, network: 'HOST' as const } } : {}),
  });
  // An explicit --containerizer is passed on as asked (the builder leaves posix to the agent's default).
  if (containerizer === 'posix') task.container = { type: 'MESOS', containerizer: 'posix' };
  if (task.container?.type === 'DOCKER') task.container.containerizer = 'docker';
  if (task.command && !task.command.environment) task.command.environment = { variables: [] };
  return task;
}

function parseEnv(text: string): Record<string, string> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new UsageError(`--env must be a JSON object like '{"A":"1"}', got '${text}'`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new UsageError('--env must be a JSON object');
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, String(x)]));
}

/** Exit status when the master removed (or never knew) this framework: nothing more can happen. */
export const EXIT_FRAMEWORK_REMOVED = 3;
/** Exit status when the master refused the connection (credentials or client certificate). */
export const EXIT_REFUSED = 4;

/**
 * Master errors after which this framework can never do anything again (it was torn down, replaced,
 * or is unknown to the cluster): the message to print before exiting, or undefined to carry on.
 */
export function fatalMasterError(e: { code?: string; message: string }): string | undefined {
  switch (e.code) {
    case 'AGORA_MASTER_FRAMEWORK_REMOVED':
      return `The master removed this framework (torn down, or its failover timeout ran out): ${e.message}`;
    case 'AGORA_MASTER_UNKNOWN_FRAMEWORK':
      return `The master does not know this framework any more: ${e.message}`;
    case 'AGORA_MASTER_FRAMEWORK_FAILED_OVER':
      return `Another scheduler took over this framework: ${e.message}`;
    case 'AGORA_HTTP_UNAUTHENTICATED':
      return `The master wants credentials (--credential FILE, or --principal and --secret): ${e.message}`;
    case 'AGORA_HTTP_FORBIDDEN':
      return `The master does not allow this principal to connect: ${e.message}`;
    case 'AGORA_TLS_CLIENT_CERT_REQUIRED':
      return `The master wants a client certificate (--tls_cert, --tls_key): ${e.message}`;
    default:
      return undefined;
  }
}

export async function runExecute(f: Flags): Promise<number> {
  if (!f.command && !f.docker_image) throw new UsageError('give --command (or --docker_image)');
  const needed = Resources.parse(f.resources ?? 'cpus:0.1;mem:32');
  const need = needOf(f.resources ?? 'cpus:0.1;mem:32');
  const timeoutMs = parseDuration(f.timeout ?? '10mins');
  const taskId = `${f.name}-${randomUUID().slice(0, 8)}`;
  const logger = createLogger('agora-execute', f.log_level ?? 'warn');
  const security = clientSecurityFromFlags(f);
  const driver = new SchedulerDriver({
    master: security.master,
    credential: security.credential,
    tls: security.tls,
    framework: {
      name: `agora-execute: ${f.name}`,
      roles: [f.role ?? '*'],
      failover_timeout: 0,
      user: process.env.USER ?? 'root',
    },
    logger,
    declineUnused: { refuseSeconds: 5 },
  });
  let launched = false;
  let agentId: string | undefined;
  let done = false;
  let lastError = '';
  return new Promise<number>((resolve) => {
    const finish = async (code: number, teardown = true) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      // The teardown resolves once the master acknowledged it; a master that is gone cannot, so
      // the command does not wait for it past 5 s.
      if (teardown) {
        let t: NodeJS.Timeout | undefined;
        await Promise.race([driver.teardown(), new Promise((r) => (t = setTimeout(r, 5_000)))]).catch(() => undefined);
        clearTimeout(t);
      }
      await driver.stop().catch(() => undefined);
      resolve(code);
    };
    const timer = setTimeout(() => {
      console.error(`Timed out after ${f.timeout}; killing task '${taskId}'`);
      if (launched) driver.kill(taskId, agentId);
      void finish(2);
    }, timeoutMs);
    driver.on('subscribed', ({ frameworkId, masterInfo }) => {
      console.log(`Subscribed with ID ${frameworkId} to master ${masterInfo.pid}`);
    });
    // Offers not launched on are declined by the driver; once launched it is idle (suppressed).
    driver.on('offers', (offers) => {
      if (launched) return;
      for (const offer of offers) {
        const got = take(offer, need);
        if (!got.ok) continue;
        launched = true;
        agentId = offer.agent_id;
        driver.launch(offer, [buildTask(f, offer, taskId, got.taken)], { refuse_seconds: 3600 });
        driver.idle();
        console.log(`Submitted task '${taskId}' to agent ${offer.agent_id} (${offer.hostname})`);
        return;
      }
      console.log(`No offer holds ${needed} yet; waiting`);
    });
    driver.on('update', (s: TaskStatus) => {
      if (s.task_id !== taskId) return;
      const extra = [s.message && `message: ${s.message}`, s.reason && `reason: ${s.reason}`]
        .filter(Boolean)
        .join(', ');
      console.log(`Received status update ${s.state} for task '${taskId}'${extra ? ` (${extra})` : ''}`);
      if (isTerminal(s.state)) void finish(s.state === TaskState.FINISHED ? 0 : 1);
    });
    driver.on('error', (e) => {
      const fatal = fatalMasterError(e);
      if (fatal) {
        console.error(`${fatal}${launched ? `; task '${taskId}' is no longer managed by this command` : ''}`);
        void finish(/^AGORA_(HTTP|TLS)_/.test(e.code ?? '') ? EXIT_REFUSED : EXIT_FRAMEWORK_REMOVED, false);
        return;
      }
      // The same error repeated (e.g. on every reconnection) is printed once.
      const line = `Master error${e.code ? ` ${e.code}` : ''}: ${e.message}`;
      if (line !== lastError) console.error(line);
      lastError = line;
    });
    driver.start();
  });
}
