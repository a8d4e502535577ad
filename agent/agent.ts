/**
 * The agent: registers with the leading master, runs the tasks it is sent through its
 * containerizers, reports every state change at least once, and finds its tasks again after a
 * restart from the checkpoint under its work dir.
 */
import { randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { hostname as osHostname } from 'node:os';
import { join } from 'node:path';
import type pino from 'pino';
import { type AgentMessage, Direction, type MasterToAgentMessage } from '../sdk/protocol/messages.js';
import {
  type ExecutorInfo,
  type FrameworkInfo,
  isTerminal,
  type MasterInfo,
  type TaskGroupInfo,
  type TaskInfo,
  type TaskRecord,
  TaskState,
  type TaskStatus,
} from '../sdk/protocol/types.js';
import type { Resources } from '../sdk/resources/resources.js';
import { type ClientSecurity, ReconnectingClient } from '../sdk/transport/index.js';
import { type Clock, systemClock } from '../sdk/util/clock.js';
import { mathRandom, type Rng } from '../sdk/util/random.js';
import { Checkpoint, currentBootId } from './checkpoint.js';
import {
  type ContainerExit,
  type Containerizer,
  ContainerLaunchError,
  type GroupLaunchSpec,
  type LaunchSpec,
  type RunningContainer,
} from './containerizer/types.js';
import { UnknownUser } from './errors.js';
import { FetchError, fetchUris } from './fetcher.js';
import { healthCheckProblem } from './health/index.js';
import { DEFAULT_REGISTRATION_BACKOFF_MS, registrationDelayMs } from './registration-backoff.js';
import { sliceReregister } from './reregister-slices.js';
import { isInside, sandboxesRoot, sandboxPath } from './sandbox.js';
import { resolveTaskSecrets, SecretsClient } from './secrets.js';
import { StatusUpdateManager } from './status-updates.js';
import { type AgentTask, launchSpec } from './task.js';
import {
  endsGroup,
  executorDir,
  prepareShared,
  SHARED_DIR,
  type TaskGroupMembership,
  wantsOwnNetns,
} from './task-group.js';
import { startTaskHealth } from './task-health.js';
import { taskKey } from './task-key.js';
import { resolveUser, type UserDbFiles } from './user-db.js';
import { taskUserName } from './users.js';

export type { AgentTask } from './task.js';

export const AGENT_VERSION = '0.1.0';

export interface AgentOptions extends ClientSecurity {
  /** Where the leading master is now: `ws://host:port/api/v1/agent`, or undefined while unknown. */
  masterUrl: () => string | undefined | Promise<string | undefined>;
  /** Called after the master told this agent to shut down (it was marked gone) and its tasks were killed. */
  onShutdown?: (message: string) => void;
  /** Takes a LEADER hint from a master that is not leading; true when it changes where to connect. */
  leaderHint?: (leader: MasterInfo | undefined) => boolean;
  workDir: string;
  port: number;
  hostname?: string;
  resources: Resources;
  attributes: Record<string, string>;
  containerizers: Containerizer[];
  logger: pino.Logger;
  /** Default SIGTERM→SIGKILL grace when the task gives none (ms). */
  killGracePeriodMs?: number;
  /** First resend of an unacknowledged status update (ms; default 10 s, as Mesos). */
  statusRetryInitialMs?: number;
  /** Resends back off, doubling, up to this (ms; default 10 minutes, as Mesos). */
  statusRetryMaxMs?: number;
  checkpointFsync?: boolean;
  /** Reads the time and arms every timer of the agent (default the system clock). */
  clock?: Clock;
  /**
   * Mesos's `--registration_backoff_factor` (ms; default 1000, as Mesos): when the leader changes,
   * the agent waits a random time in [0, this) before it re-registers with the new one, so that a
   * cluster's agents do not all reach it in the same instant. 0: at once.
   */
  registrationBackoffMs?: number;
  /** Draws that wait (default Math.random). */
  rng?: Rng;
  /**
   * Mesos's `--switch_user` (default true): when this process is root, run each task as its
   * `command.user`, else its framework's `user`. Off, or not root: tasks run as the agent's user.
   */
  switchUser?: boolean;
  /** Where users are looked up (default /etc/passwd and /etc/group). */
  userDb?: UserDbFiles;
}

export class Agent {
  agentId?: string;
  readonly tasks = new Map<string, AgentTask>();
  readonly frameworks = new Map<string, FrameworkInfo & { id: string }>();
  readonly startedAt: number;
  masterInfo?: { id: string; pid: string };
  private client?: ReconnectingClient<typeof Direction.MasterToAgent, AgentMessage>;
  private readonly checkpoint: Checkpoint;
  readonly updates: StatusUpdateManager;
  private readonly log: pino.Logger;
  private readonly clock: Clock;
  private readonly hostname: string;
  private registered = false;
  private stopping = false;
  private readonly secrets: SecretsClient;

  constructor(private readonly opts: AgentOptions) {
    this.log = opts.logger;
    this.clock = opts.clock ?? systemClock;
    this.secrets = new SecretsClient((m) => this.sendToMaster(m), this.clock);
    this.startedAt = this.clock.now();
    this.hostname = opts.hostname ?? osHostname();
    this.checkpoint = new Checkpoint(opts.workDir, opts.checkpointFsync);
    this.updates = new StatusUpdateManager({
      send: (frameworkId, status) =>
        this.sendToMaster({ type: 'STATUS_UPDATE', update: { framework_id: frameworkId, status } }),
      persist: (s) => {
        const t = this.tasks.get(taskKey(s.frameworkId, s.taskId));
        return t ? this.persist(t) : undefined;
      },
      onPersistError: (e) => this.log.error({ err: e.message }, 'could not checkpoint a status update'),
      onTerminalAcknowledged: (s) => {
        // Delivered: the task leaves the checkpoint (its sandbox stays for the operator).
        void this.checkpoint.removeTask(s.frameworkId, s.taskId).catch(() => undefined);
        this.tasks.delete(taskKey(s.frameworkId, s.taskId));
      },
      isTerminal: (s) => isTerminal(s.state),
      retryInitialMs: opts.statusRetryInitialMs,
      retryMaxMs: opts.statusRetryMaxMs,
      clock: this.clock,
    });
  }

  get workDir(): string {
    return this.opts.workDir;
  }

  get connected(): boolean {
    return this.registered && (this.client?.connected ?? false);
  }

  get resources(): Resources {
    return this.opts.resources;
  }

  get attributes(): Record<string, string> {
    return this.opts.attributes;
  }

  get containerizers(): Containerizer[] {
    return this.opts.containerizers;
  }

  /** Recovers checkpointed tasks, then connects to the master. */
  async start(): Promise<void> {
    await this.recover();
    this.client = new ReconnectingClient({
      url: this.opts.masterUrl,
      inbound: Direction.MasterToAgent,
      onOpen: () => this.register(),
      onMessage: (m) => this.onMessage(m),
      onClose: () => {
        if (this.registered && !this.stopping) this.log.warn('lost the connection to the master; reconnecting');
        this.registered = false;
      },
      logger: this.log.child({ component: 'transport' }),
      credential: this.opts.credential,
      tls: this.opts.tls,
      clock: this.clock,
    });
    this.client.start();
  }

  /**
   * The leader changed: drops the connection to the old one and re-registers with the new one after
   * a random wait in [0, registrationBackoffMs) (Mesos's `--registration_backoff_factor`).
   */
  reconnect(): void {
    this.registered = false;
    const factor = this.opts.registrationBackoffMs ?? DEFAULT_REGISTRATION_BACKOFF_MS;
    const delay = registrationDelayMs(factor, this.opts.rng ?? mathRandom);
    this.log.info({ delayMs: delay }, 're-registering with the new leader after a random wait');
    this.client?.reconnectAfter(delay);
  }

  /** Stops talking to the master. Running tasks keep running (as after a crash) unless `killTasks`. */
  async stop(killTasks = false): Promise<void> {
    this.stopping = true;
    this.updates.stop();
    await this.client?.stop();
    await this.checkpoint.close();
    if (killTasks) {
      await Promise.all([...this.tasks.values()].map((t) => t.container?.kill(0)));
    }
  }

  private sendToMaster(m: AgentMessage): boolean {
    return this.client?.send(m) ?? false;
  }

  private persist(t: AgentTask): Promise<void> {
    const { container: _c, containerizerRef: _r, health: _h, killReason: _k, ...cp } = t;
    const s = this.updates.stream(t.framework.id, t.task.task_id);
    const written = this.checkpoint.writeTask({ ...cp, pending: s?.pending ?? [] });
    written.catch((e: Error) => this.log.error({ err: e.message, taskId: t.task.task_id }, 'checkpoint write failed'));
    return written;
  }

  // ---------------------------------------------------------------- registration

  private register(): void {
    const info = {
      hostname: this.hostname,
      port: this.opts.port,
      resources: this.opts.resources.toList(),
      attributes: this.opts.attributes,
    };
    if (!this.agentId) {
      this.sendToMaster({ type: 'REGISTER', agent: info, version: AGENT_VERSION });
      return;
    }
    const tasks: TaskRecord[] = [...this.tasks.values()].map((t) => ({
      task: t.task,
      framework_id: t.framework.id,
      state: t.state,
      status: t.latest,
      ...(t.group
        ? { group: { executor: t.group.executor, kill_group_on_task_failure: t.group.killGroupOnTaskFailure } }
        : {}),
    }));
    // In several frames when one would exceed the frame limit (issue 9).
    const head = { agent: { ...info, id: this.agentId }, version: AGENT_VERSION };
    for (const m of sliceReregister(head, tasks, [...this.frameworks.values()])) if (!this.sendToMaster(m)) return;
  }

  private onMessage(m: MasterToAgentMessage): void {
    switch (m.type) {
      case 'REGISTERED':
      case 'REREGISTERED':
        if (this.agentId && this.agentId !== m.agent_id) {
          this.log.error({ ours: this.agentId, theirs: m.agent_id }, 'master gave another agent id; keeping ours');
        }
        this.agentId = this.agentId ?? m.agent_id;
        this.checkpoint.writeMeta({ agent_id: this.agentId, boot_id: currentBootId() });
        this.registered = true;
        this.masterInfo = m.master_info;
        this.log.info(
          { agentId: this.agentId, master: m.master_info.pid },
          m.type === 'REGISTERED' ? 'registered' : 're-registered',
        );
        this.updates.flush();
        return;
      case 'RUN_TASK':
        this.runTask(m.framework, m.task).catch((e: Error) =>
          this.log.error({ taskId: m.task.task_id, err: e.message }, 'running a task failed unexpectedly'),
        );
        return;
      case 'RUN_TASK_GROUP':
        this.runTaskGroup(m.framework, m.executor, m.task_group).catch((e: Error) =>
          this.log.error(
            { executorId: m.executor.executor_id, err: e.message },
            'running a task group failed unexpectedly',
          ),
        );
        return;
      case 'KILL_TASK':
        this.killTask(m.framework_id, m.task_id, m.grace_period_seconds).catch((e: Error) =>
          this.log.error({ taskId: m.task_id, err: e.message }, 'killing a task failed unexpectedly'),
        );
        return;
      case 'ACK_UPDATE':
        this.updates.acknowledge(m.framework_id, m.task_id, m.uuid);
        return;
      case 'SHUTDOWN_FRAMEWORK':
        this.shutdownFramework(m.framework_id);
        return;
      case 'PING':
        this.sendToMaster({ type: 'PONG', seq: m.seq });
        return;
      case 'LEADER':
        // The master closes the connection; reconnect at once only if it named a leader we were
        // not trying, else after the usual backoff (no storm of reconnections to a stale leader).
        this.registered = false;
        if (this.opts.leaderHint?.(m.leader.master_info)) this.client?.reconnectNow();
        else this.log.info('this master is not the leader and knows no other yet; retrying with backoff');
        return;
      case 'SECRETS':
        this.secrets.onAnswer(m);
        return;
      case 'SHUTDOWN':
        this.log.error({ message: m.message }, 'the master told this agent to shut down; killing its tasks');
        void this.stop(true).then(() => this.opts.onShutdown?.(m.message));
        return;
    }
  }

  // ---------------------------------------------------------------- tasks

  /** Queues a status update for at-least-once delivery and records it as the task's state. */
  private sendStatus(t: AgentTask, state: TaskState, extra: Partial<TaskStatus> = {}): void {
    const status: TaskStatus = {
      task_id: t.task.task_id,
      state,
      source: 'SOURCE_EXECUTOR',
      agent_id: this.agentId,
      timestamp: this.clock.now() / 1000,
      uuid: randomUUID(),
      ...extra,
    };
    if (status.message === undefined) delete status.message;
    t.state = state;
    t.latest = status;
    this.updates.update(t.framework.id, status);
  }

  private pickContainerizer(task: TaskInfo): Containerizer | undefined {
    const wanted = task.container?.containerizer;
    if (wanted) return this.opts.containerizers.find((c) => c.name === wanted);
    return this.opts.containerizers.find((c) => c.canLaunch(task));
  }

  /** The task's sandbox under `<work_dir>/sandboxes`; throws InvalidId for an id that is not a safe path segment. */
  sandboxOf(frameworkId: string, taskId: string): string {
    return sandboxPath(this.opts.workDir, frameworkId, taskId);
  }

  /**
   * The user a task runs as (Mesos's rule, see users.ts), resolved on this host; undefined for the
   * agent's own user. Throws UnknownUser naming a user this host does not have.
   */
  private taskUser(framework: FrameworkInfo, task: TaskInfo) {
    const name = taskUserName(framework, task, {
      switchUser: this.opts.switchUser ?? true,
      agentIsRoot: process.getuid?.() === 0,
    });
    return name === undefined ? undefined : resolveUser(name, this.opts.userDb);
  }

  private spec(t: AgentTask): LaunchSpec {
    return launchSpec(t, this.agentId);
  }

  private async runTask(framework: FrameworkInfo & { id: string }, task: TaskInfo): Promise<void> {
    const k = taskKey(framework.id, task.task_id);
    if (this.tasks.has(k)) {
      this.log.warn({ taskId: task.task_id }, 'RUN_TASK for a task this agent already has; ignored');
      return;
    }
    let sandbox: string;
    try {
      sandbox = this.sandboxOf(framework.id, task.task_id);
    } catch (e) {
      this.refuseTask(framework.id, task.task_id, (e as Error).message);
      return;
    }
    const badCheck = task.health_check && healthCheckProblem(task.health_check);
    if (badCheck) {
      this.refuseTask(framework.id, task.task_id, `invalid health check: ${badCheck}`);
      return;
    }
    this.frameworks.set(framework.id, framework);
    const t: AgentTask = { framework, task, state: TaskState.STAGING, sandbox, pending: [] };
    this.tasks.set(k, t);
    const c = this.pickContainerizer(task);
    if (!c) {
      this.sendStatus(t, TaskState.FAILED, {
        reason: 'REASON_CONTAINER_LAUNCH_FAILED',
        message: `no enabled containerizer can run this task (enabled: ${this.opts.containerizers.map((x) => x.name).join(', ')})`,
      });
      return;
    }
    t.containerizer = c.name;
    t.containerizerRef = c;
    try {
      this.sendStatus(t, TaskState.STARTING);
      const user = this.taskUser(framework, task);
      if (user) t.user = user;
      const uris = task.command?.uris ?? [];
      if (uris.length > 0) {
        // Otherwise the containerizer makes the sandbox (posix and linux: in the launcher process).
        await mkdir(sandbox, { recursive: true });
        await fetchUris(uris, sandbox, {
          cacheDir: join(this.opts.workDir, 'fetcher-cache'),
          logger: this.log,
          ...(t.user ? { user: t.user } : {}),
        });
      }
      if (t.killRequested) throw new KilledBeforeStart();
      // Secret values go only into this launch's spec (agent/secrets.ts), never into `t` (checkpointed).
      const withSecrets = await resolveTaskSecrets(this.secrets, framework.id, task, sandbox, t.user);
      if (t.killRequested) throw new KilledBeforeStart();
      const spec = this.spec(t);
      t.container = await c.launch(
        withSecrets ? { ...spec, task: withSecrets.task, env: { ...spec.env, ...withSecrets.env } } : spec,
      );
      t.handle = t.container.handle;
    } catch (e) {
      if (e instanceof KilledBeforeStart) {
        this.sendStatus(t, TaskState.KILLED, { message: 'killed before it started' });
        return;
      }
      const err = e as Error;
      const reason = launchFailureReason(e);
      this.log.warn({ taskId: task.task_id, err: err.message }, 'task failed to launch');
      this.sendStatus(t, TaskState.FAILED, { reason, message: err.message });
      return;
    }
    if (t.killRequested) {
      void t.container.kill(this.graceMs(t));
    } else {
      this.sendStatus(t, TaskState.RUNNING);
      this.startHealthCheck(t);
    }
    this.watch(t, t.container);
  }

  /**
   * TASK_ERROR for a task this agent will not even record (an id that could escape the sandbox
   * layout, a health check that cannot run): nothing is created or checkpointed, so the update
   * goes out once, unqueued.
   */
  private refuseTask(frameworkId: string, taskId: string, message: string): void {
    this.log.warn({ frameworkId, taskId, reason: message }, 'refused a task whose ids are not safe path segments');
    const status: TaskStatus = {
      task_id: taskId,
      state: TaskState.ERROR,
      source: 'SOURCE_AGENT',
      agent_id: this.agentId,
      reason: 'REASON_TASK_INVALID',
      message,
      timestamp: this.clock.now() / 1000,
    };
    this.sendToMaster({ type: 'STATUS_UPDATE', update: { framework_id: frameworkId, status } });
  }

  private watch(t: AgentTask, container: RunningContainer): void {
    void container.wait().then((exit) => this.onExit(t, exit));
  }

  /**
   * Mesos semantics: results travel in RUNNING updates with `healthy`, and a task whose check fails
   * past `consecutive_failures` (after the grace period) is killed.
   */
  private startHealthCheck(t: AgentTask): void {
    try {
      t.health = this.taskHealth(t);
    } catch (e) {
      // A check refused at launch cannot get here; one from an older checkpoint can.
      this.log.error({ taskId: t.task.task_id, err: (e as Error).message }, 'cannot check the health of this task');
    }
  }

  private taskHealth(t: AgentTask) {
    // A later task of a docker group is reached through the first task's port mappings.
    const first = t.group && t.containerizer === 'docker' ? t.group.taskIds[0] : undefined;
    const portsOf = first !== undefined ? this.tasks.get(taskKey(t.framework.id, first))?.task : undefined;
    return startTaskHealth(t, this.spec(t).env, {
      ...(portsOf ? { portsOf } : {}),
      clock: this.clock,
      logger: this.log,
      report: (healthy, message) => {
        if (isTerminal(t.state)) return;
        const extra: Partial<TaskStatus> = { healthy, reason: 'REASON_TASK_HEALTH_CHECK_STATUS_UPDATED' };
        if (message !== undefined) extra.message = message;
        this.sendStatus(t, TaskState.RUNNING, extra);
      },
      kill: (message) => {
        t.killReason = { reason: 'REASON_TASK_HEALTH_CHECK_STATUS_UPDATED', message };
        void this.killTask(t.framework.id, t.task.task_id);
      },
    });
  }

  private onExit(t: AgentTask, exit: ContainerExit): void {
    t.health?.stop();
    t.health = undefined;
    if (isTerminal(t.state)) return;
    t.container = undefined;
    const extra: Partial<TaskStatus> = { message: exit.message };
    if (exit.reason) extra.reason = exit.reason;
    if (t.killReason) {
      extra.reason = t.killReason.reason;
      extra.message = t.killReason.message;
      extra.healthy = false;
    }
    if (exit.exitCode !== null) extra.exit_status = exit.exitCode;
    let state: TaskState;
    if (exit.killed || t.killRequested) state = TaskState.KILLED;
    else if (exit.exitCode === 0 && !exit.reason) state = TaskState.FINISHED;
    else state = TaskState.FAILED;
    if (state === TaskState.KILLED && t.groupKilledBy !== undefined && !t.killReason) {
      extra.message = `killed because task ${t.groupKilledBy} of its task group failed`;
    }
    this.log.info({ taskId: t.task.task_id, state, exit }, 'task ended');
    this.sendStatus(t, state, extra);
    this.onGroupTaskEnded(t, state);
  }

  /**
   * A task of a group ended: when it failed and the group kills on failure (the default, as
   * Mesos's default executor), its live siblings are killed (they end TASK_KILLED).
   */
  private onGroupTaskEnded(t: AgentTask, state: TaskState): void {
    const g = t.group;
    if (!g?.killGroupOnTaskFailure || !endsGroup(state)) return;
    for (const id of g.taskIds) {
      const o = this.tasks.get(taskKey(t.framework.id, id));
      if (!o || o === t || isTerminal(o.state) || o.killRequested) continue;
      o.groupKilledBy = t.task.task_id;
      this.log.info({ taskId: id, failed: t.task.task_id }, 'killing a task whose task group lost a task');
      void this.killOne(o).catch((e: Error) => this.log.error({ taskId: id, err: e.message }, 'group kill failed'));
    }
  }

  // ---------------------------------------------------------------- task groups

  /**
   * Runs a task group as one unit, as Mesos's default executor does: every task is checked
   * first (any problem refuses them all), all use one containerizer, then they start in order;
   * if one cannot start, the started ones are killed and none reaches RUNNING. They share the
   * group's shared directory (`$MESOS_SANDBOX/shared`) and network (docs/task-groups.md).
   */
  private async runTaskGroup(
    framework: FrameworkInfo & { id: string },
    executor: ExecutorInfo,
    group: TaskGroupInfo,
  ): Promise<void> {
    const tasks = group.tasks;
    let sharedDir = '';
    const sandboxes: string[] = [];
    let problem: string | undefined;
    try {
      sharedDir = join(executorDir(this.opts.workDir, framework.id, executor.executor_id), SHARED_DIR);
      for (const task of tasks) {
        sandboxes.push(this.sandboxOf(framework.id, task.task_id));
        if (this.tasks.has(taskKey(framework.id, task.task_id))) {
          throw new Error(`task ${task.task_id} already exists on this agent`);
        }
        const bad = task.health_check && healthCheckProblem(task.health_check);
        if (bad) throw new Error(`task ${task.task_id}: invalid health check: ${bad}`);
      }
    } catch (e) {
      problem = (e as Error).message;
    }
    if (problem !== undefined) {
      for (const task of tasks) {
        if (!this.tasks.has(taskKey(framework.id, task.task_id))) {
          this.refuseTask(framework.id, task.task_id, `task group refused: ${problem}`);
        }
      }
      return;
    }
    this.frameworks.set(framework.id, framework);
    const membership: TaskGroupMembership = {
      executor,
      killGroupOnTaskFailure: group.kill_group_on_task_failure !== false,
      taskIds: tasks.map((t) => t.task_id),
      sharedDir,
    };
    const ts: AgentTask[] = tasks.map((task, i) => ({
      framework,
      task,
      state: TaskState.STAGING,
      sandbox: sandboxes[i],
      pending: [],
      group: membership,
    }));
    for (const t of ts) this.tasks.set(taskKey(framework.id, t.task.task_id), t);
    const c = this.pickContainerizer(tasks[0]);
    const other = ts.find((t) => this.pickContainerizer(t.task) !== c);
    if (!c || other) {
      const message = !c
        ? `no enabled containerizer can run this task group (enabled: ${this.opts.containerizers.map((x) => x.name).join(', ')})`
        : `the tasks of a group must run with one containerizer; task ${other?.task.task_id} would not use '${c.name}'`;
      for (const t of ts) this.sendStatus(t, TaskState.FAILED, { reason: 'REASON_CONTAINER_LAUNCH_FAILED', message });
      return;
    }
    for (const t of ts) {
      t.containerizer = c.name;
      t.containerizerRef = c;
      this.sendStatus(t, TaskState.STARTING);
    }
    const ownNetns = c.name === 'linux' && wantsOwnNetns(executor, tasks[0].container?.network_isolation === true);
    let failure: { t: AgentTask; reason: string; message: string } | undefined;
    for (const [i, t] of ts.entries()) {
      if (ts.some((x) => x.killRequested)) break;
      try {
        const user = this.taskUser(framework, t.task);
        if (user) t.user = user;
        await prepareShared(t.sandbox, sharedDir, c.name === 'docker' ? 'mountpoint' : 'link', t.user);
        const uris = t.task.command?.uris ?? [];
        if (uris.length > 0) {
          await fetchUris(uris, t.sandbox, {
            cacheDir: join(this.opts.workDir, 'fetcher-cache'),
            logger: this.log,
            ...(t.user ? { user: t.user } : {}),
          });
        }
        if (ts.some((x) => x.killRequested)) break;
        const withSecrets = await resolveTaskSecrets(this.secrets, framework.id, t.task, t.sandbox, t.user);
        if (ts.some((x) => x.killRequested)) break;
        const spec = this.spec(t);
        const first = ts[0].container?.handle;
        const g: GroupLaunchSpec = { executorId: executor.executor_id, sharedDir };
        if (i === 0) g.newNetns = ownNetns;
        else if (ownNetns && first?.pid) g.netnsPath = `/proc/${first.pid}/ns/net`;
        else if (c.name === 'docker' && first) g.joinContainer = first.id;
        const full: LaunchSpec = withSecrets
          ? { ...spec, task: withSecrets.task, env: { ...spec.env, ...withSecrets.env }, group: g }
          : { ...spec, group: g };
        t.container = await c.launch(full);
        t.handle = t.container.handle;
      } catch (e) {
        failure = { t, reason: launchFailureReason(e), message: (e as Error).message };
        this.log.warn({ taskId: t.task.task_id, err: failure.message }, 'task of a group failed to launch');
        break;
      }
    }
    const killed = ts.some((x) => x.killRequested);
    if (failure || killed) {
      // All or none: the group does not start.
      if (failure) this.sendStatus(failure.t, TaskState.FAILED, { reason: failure.reason, message: failure.message });
      const why = failure
        ? `task ${failure.t.task.task_id} of its task group failed to launch`
        : 'the task group was killed before it started';
      for (const t of ts) {
        if (t === failure?.t) continue;
        if (failure) t.groupKilledBy = failure.t.task.task_id;
        if (t.container) {
          t.killRequested = true;
          this.watch(t, t.container);
          void t.container.kill(0);
        } else {
          this.sendStatus(t, TaskState.KILLED, { message: `not started: ${why}` });
        }
      }
      return;
    }
    for (const t of ts) {
      this.sendStatus(t, TaskState.RUNNING);
      this.startHealthCheck(t);
    }
    for (const t of ts) if (t.container) this.watch(t, t.container);
  }

  private graceMs(t: AgentTask, override?: number): number {
    const secs = override ?? t.task.kill_policy?.grace_period_seconds;
    return secs !== undefined ? secs * 1000 : (this.opts.killGracePeriodMs ?? 3000);
  }

  private async killTask(frameworkId: string, taskId: string, graceSeconds?: number): Promise<void> {
    const t = this.tasks.get(taskKey(frameworkId, taskId));
    if (!t) {
      // Unknown here: tell the framework so it does not wait forever.
      const status: TaskStatus = {
        task_id: taskId,
        state: TaskState.LOST,
        source: 'SOURCE_AGENT',
        agent_id: this.agentId,
        message: 'kill: this agent does not know the task',
        reason: 'REASON_RECONCILIATION',
        timestamp: this.clock.now() / 1000,
      };
      this.sendToMaster({ type: 'STATUS_UPDATE', update: { framework_id: frameworkId, status } });
      return;
    }
    if (isTerminal(t.state)) return;
    if (t.group) {
      // A kill of one task of a group kills the whole group (as Mesos's default executor).
      const members = t.group.taskIds.map((id) => this.tasks.get(taskKey(frameworkId, id)));
      await Promise.all(members.map((o) => (o && !isTerminal(o.state) ? this.killOne(o, graceSeconds) : undefined)));
      return;
    }
    await this.killOne(t, graceSeconds);
  }

  private async killOne(t: AgentTask, graceSeconds?: number): Promise<void> {
    if (isTerminal(t.state)) return;
    t.killRequested = true;
    this.persist(t);
    if (t.container) await t.container.kill(this.graceMs(t, graceSeconds));
  }

  private shutdownFramework(frameworkId: string): void {
    for (const t of this.tasks.values()) {
      if (t.framework.id !== frameworkId) continue;
      void this.killTask(frameworkId, t.task.task_id, 0);
    }
  }

  // ---------------------------------------------------------------- recovery

  private async recover(): Promise<void> {
    const meta = this.checkpoint.readMeta();
    this.agentId = meta.agent_id;
    const rebooted = meta.boot_id !== undefined && meta.boot_id !== currentBootId();
    const saved = this.checkpoint.readTasks();
    if (saved.length > 0) this.log.info({ tasks: saved.length, rebooted }, 'recovering checkpointed tasks');
    for (const cp of saved) {
      const t: AgentTask = { ...cp, pending: [] };
      this.tasks.set(taskKey(cp.framework.id, cp.task.task_id), t);
      this.frameworks.set(cp.framework.id, cp.framework);
      this.updates.recover({ frameworkId: cp.framework.id, taskId: cp.task.task_id, pending: cp.pending });
      if (isTerminal(t.state)) continue; // only its unacknowledged updates are left to deliver
      const c = this.opts.containerizers.find((x) => x.name === cp.containerizer);
      if (!isInside(sandboxesRoot(this.opts.workDir), cp.sandbox)) {
        // A checkpoint written before ids were checked: never hand that path to a containerizer.
        this.sendStatus(t, TaskState.FAILED, {
          reason: 'REASON_CONTAINER_RECOVERY_FAILED',
          message: `task not recovered: its sandbox ${cp.sandbox} lies outside ${sandboxesRoot(this.opts.workDir)}`,
        });
        continue;
      }
      if (!cp.handle || !c || rebooted) {
        const why = rebooted
          ? 'the host rebooted while the agent was down'
          : !cp.handle
            ? 'the agent stopped before the task started'
            : `containerizer '${cp.containerizer}' is not enabled on this agent any more`;
        this.sendStatus(t, TaskState.FAILED, {
          reason: 'REASON_AGENT_RESTARTED',
          message: `task lost on agent restart: ${why}`,
        });
        continue;
      }
      t.containerizerRef = c;
      try {
        const r = await c.recover(cp.handle, this.spec(t));
        if ('gone' in r) {
          this.onExit(t, r.exit);
        } else {
          t.container = r;
          this.log.info({ taskId: cp.task.task_id }, 'recovered running task');
          if (t.killRequested) {
            // Asked to die before the restart (or its group lost a task meanwhile): finish the kill.
            this.watch(t, r);
            void r.kill(this.graceMs(t));
            continue;
          }
          if (t.state !== TaskState.RUNNING) this.sendStatus(t, TaskState.RUNNING);
          this.startHealthCheck(t);
          this.watch(t, r);
        }
      } catch (e) {
        this.sendStatus(t, TaskState.FAILED, {
          reason: 'REASON_CONTAINER_RECOVERY_FAILED',
          message: `could not recover the container: ${(e as Error).message}`,
        });
      }
    }
  }
}

class KilledBeforeStart extends Error {}

/** The Mesos reason of a launch that failed with `e`. */
function launchFailureReason(e: unknown): string {
  if (e instanceof ContainerLaunchError) return e.reason;
  if (e instanceof UnknownUser) return 'REASON_CONTAINER_LAUNCH_FAILED';
  if (e instanceof FetchError) return 'REASON_FETCHER_FAILED';
  return 'REASON_CONTAINER_LAUNCH_FAILED';
}
