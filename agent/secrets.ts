/**
 * Secrets at launch: the agent asks its master (SECRETS_REQUEST, over its authenticated and, when
 * configured, TLS connection) for the values a task references, then hands them to the task as
 * environment variables and as files in its sandbox (mode 0400, owned by the task's user when the
 * agent runs it as one, `--switch_user`). Values are kept only in the launch spec: never in the
 * checkpoint (it keeps the TaskInfo, which holds references), the agent's state, or its logs.
 */
import { randomUUID } from 'node:crypto';
import { chown, lchown, mkdir, open, realpath } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { AgentMessage, MasterToAgentMessage } from '../sdk/protocol/messages.js';
import type { TaskInfo } from '../sdk/protocol/types.js';
import { type SecretPlan, secretPlan, withoutSecretVolumes } from '../sdk/secrets/refs.js';
import type { Clock, Timer } from '../sdk/util/clock.js';
import { ContainerLaunchError } from './containerizer/types.js';
import { isInside } from './sandbox.js';

/** Mesos's reason for a task whose secrets could not be resolved. */
export const SECRET_FAILURE_REASON = 'REASON_SECRET_GENERATOR_FAILED';
const DEFAULT_TIMEOUT_MS = 30_000;
/** Requests in flight at once; more are refused (a bound on what a flood of RUN_TASKs can hold). */
const MAX_PENDING = 1024;

type SecretsAnswer = Extract<MasterToAgentMessage, { type: 'SECRETS' }>;

/** A task whose secrets could not be delivered: TASK_FAILED with REASON_SECRET_GENERATOR_FAILED. */
export class SecretDeliveryError extends ContainerLaunchError {
  constructor(message: string) {
    super(message, SECRET_FAILURE_REASON);
  }
}

interface Pending {
  resolve: (values: Map<string, string>) => void;
  reject: (e: Error) => void;
  timer: Timer;
}

/** Asks the master for values and matches its answers to the requests. */
export class SecretsClient {
  private readonly pending = new Map<string, Pending>();

  constructor(
    private readonly send: (m: AgentMessage) => boolean,
    private readonly clock: Clock,
    private readonly timeoutMs = DEFAULT_TIMEOUT_MS,
  ) {}

  request(frameworkId: string, taskId: string, names: string[]): Promise<Map<string, string>> {
    return new Promise((resolve, reject) => {
      if (this.pending.size >= MAX_PENDING) {
        reject(new SecretDeliveryError('too many secrets requests in flight on this agent'));
        return;
      }
      const requestId = randomUUID();
      const timer = this.clock.setTimeout(() => {
        this.pending.delete(requestId);
        reject(new SecretDeliveryError(`no answer from the master to the secrets request within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.pending.set(requestId, { resolve, reject, timer });
      const sent = this.send({
        type: 'SECRETS_REQUEST',
        request_id: requestId,
        framework_id: frameworkId,
        task_id: taskId,
        names,
      });
      if (!sent) this.settle(requestId, new SecretDeliveryError('not connected to the master; cannot fetch secrets'));
    });
  }

  onAnswer(m: SecretsAnswer): void {
    const p = this.pending.get(m.request_id);
    if (!p) return;
    if (m.error || !m.secrets) {
      this.settle(
        m.request_id,
        new SecretDeliveryError(
          `the master refused the secrets: ${m.error?.message ?? 'no values'} [${m.error?.code ?? 'none'}]`,
        ),
      );
      return;
    }
    this.settle(m.request_id, new Map(m.secrets.map((s) => [s.name, s.value])));
  }

  /** Fails every request in flight (the connection to the master was lost). */
  failAll(reason: string): void {
    for (const id of [...this.pending.keys()]) this.settle(id, new SecretDeliveryError(reason));
  }

  private settle(id: string, out: Map<string, string> | Error): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    p.timer.cancel();
    if (out instanceof Error) p.reject(out);
    else p.resolve(out);
  }
}

/** Writes the secret files into the sandbox (0400, created fresh) and returns the env variables. */
export async function materialize(
  plan: SecretPlan,
  values: ReadonlyMap<string, string>,
  sandbox: string,
  /** The task's user (resolved by the agent when it switches users); absent: the agent's user. */
  owner: { uid: number; gid: number } | undefined,
): Promise<Record<string, string>> {
  const value = (name: string): string => {
    const v = values.get(name);
    if (v === undefined) throw new SecretDeliveryError(`the master sent no value for secret '${name}'`);
    return v;
  };
  const env: Record<string, string> = {};
  for (const e of plan.env) env[e.variable] = value(e.secret);
  if (plan.files.length === 0) return env;
  await mkdir(sandbox, { recursive: true });
  const root = await realpath(sandbox);
  for (const f of plan.files) {
    const file = join(root, f.path);
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
    // A symlink fetched into the sandbox must not carry the file out of it.
    const dir = await realpath(dirname(file));
    if (dir !== root && !isInside(root, dir)) {
      throw new SecretDeliveryError(`secret file '${f.path}' would land outside the sandbox`);
    }
    // The task's user must reach the file through the directories made for it.
    if (owner) {
      const parts = f.path.split('/').slice(0, -1);
      for (let i = 1; i <= parts.length; i++) await lchown(join(root, ...parts.slice(0, i)), owner.uid, owner.gid);
    }
    // 'wx': never follow or reuse something already at that path.
    const fh = await open(file, 'wx', 0o400).catch((e: NodeJS.ErrnoException) => {
      throw new SecretDeliveryError(`cannot create secret file '${f.path}' in the sandbox (${e.code ?? 'error'})`);
    });
    try {
      await fh.writeFile(value(f.secret), 'utf8');
      await fh.chmod(0o400);
    } finally {
      await fh.close();
    }
    if (owner) await chown(file, owner.uid, owner.gid);
  }
  return env;
}

/**
 * The environment and task to launch with, for a task that references secrets; undefined for one
 * that does not. Throws SecretDeliveryError (nothing is started).
 */
export async function resolveTaskSecrets(
  client: SecretsClient,
  frameworkId: string,
  task: TaskInfo,
  sandbox: string,
  owner: { uid: number; gid: number } | undefined,
): Promise<{ env: Record<string, string>; task: TaskInfo } | undefined> {
  let plan: SecretPlan;
  try {
    plan = secretPlan(task);
  } catch (e) {
    throw new SecretDeliveryError((e as Error).message);
  }
  if (plan.names.length === 0) return undefined;
  const values = await client.request(frameworkId, task.task_id, plan.names);
  const env = await materialize(plan, values, sandbox, owner);
  return { env, task: withoutSecretVolumes(task) };
}
