/**
 * `agora execute`, like `mesos-execute`: a tiny framework on the SDK that launches one task,
 * prints its status updates, and exits 0 on TASK_FINISHED (non-zero otherwise).
 */
import { randomUUID } from 'node:crypto';
import { isTerminal, type Offer, type TaskInfo, TaskState, type TaskStatus } from '../sdk/protocol/types.js';
import { Resources } from '../sdk/resources/resources.js';
import { SchedulerDriver } from '../sdk/scheduler/driver.js';
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

export function buildTask(f: Flags, offer: Offer, taskId: string): TaskInfo {
  const env = f.env ? parseEnv(f.env) : {};
  const task: TaskInfo = {
    name: f.name ?? taskId,
    task_id: taskId,
    agent_id: offer.agent_id,
    resources: Resources.parse(f.resources ?? 'cpus:0.1;mem:32').toList(),
  };
  if (f.command) {
    task.command = {
      value: f.command,
      environment: { variables: Object.entries(env).map(([name, value]) => ({ name, value })) },
    };
  }
  const containerizer = f.docker_image ? 'docker' : f.containerizer;
  if (f.docker_image) {
    task.container = { type: 'DOCKER', docker: { image: f.docker_image, network: 'HOST' }, containerizer: 'docker' };
  } else if (containerizer) {
    task.container = { type: 'MESOS', containerizer };
  }
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
      if (teardown) await driver.teardown().catch(() => undefined);
      else await driver.stop().catch(() => undefined);
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
    driver.on('offers', (offers) => {
      if (launched) {
        driver.decline(
          offers.map((o) => o.id),
          { refuse_seconds: 3600 },
        );
        return;
      }
      const fit = offers.find((o) => Resources.from(o.resources).allocatableTo(o.allocation_role).contains(needed));
      const rest = offers.filter((o) => o !== fit).map((o) => o.id);
      if (rest.length > 0) driver.decline(rest);
      if (!fit) {
        console.log(`No offer holds ${needed} yet; waiting`);
        return;
      }
      launched = true;
      agentId = fit.agent_id;
      driver.launch(fit, [buildTask(f, fit, taskId)], { refuse_seconds: 3600 });
      driver.suppress();
      console.log(`Submitted task '${taskId}' to agent ${fit.agent_id} (${fit.hostname})`);
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
