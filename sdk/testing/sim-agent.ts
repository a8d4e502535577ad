/**
 * A simulated agent: registered with the test cluster's real master, it answers pings, "runs"
 * every task the master sends (reporting the state the test chose, TASK_RUNNING by default),
 * reports TASK_KILLED when asked to kill, and otherwise reports only what the test tells it to.
 */
import type { FakeAgent, MasterHarness } from '../../master/testing/harness.js';
import type { MasterToAgentMessage } from '../protocol/messages.js';
import { isTerminal, type TaskInfo, type TaskRecord, type TaskState, type TaskStatus } from '../protocol/types.js';

/** What a simulated agent reports when a task is launched: a state, or nothing (the test reports later). */
export type LaunchBehaviour = TaskState | 'none' | ((task: TaskInfo, agent: SimAgent) => TaskState | 'none');

/** A task on a simulated agent. */
export interface SimTask {
  frameworkId: string;
  task: TaskInfo;
  state: TaskState;
}

export interface SimAgentSpec {
  hostname?: string;
  /** Default `cpus:4;mem:4096;disk:10000;ports:[31000-32000]`. */
  resources?: string;
  attributes?: Record<string, string>;
  /** Overrides the cluster's `onLaunch` for this agent. */
  onLaunch?: LaunchBehaviour;
}

export class SimAgent {
  /** Tasks on this agent, terminal ones included, by task id. */
  readonly tasks = new Map<string, SimTask>();
  /** False once lost (`lose()`), until `reconnect()`. */
  connected = true;
  private fake!: FakeAgent;
  private agentId?: string;

  constructor(
    readonly hostname: string,
    private readonly spec: SimAgentSpec,
    private readonly onLaunch: () => LaunchBehaviour,
    private readonly connectTo: () => MasterHarness,
  ) {}

  /** The agent id the master gave. */
  get id(): string {
    if (!this.agentId) throw new Error(`agent ${this.hostname} is not registered`);
    return this.agentId;
  }

  /** Connects and registers (or re-registers with its tasks when it has an id). */
  async connect(): Promise<this> {
    const h = this.connectTo();
    const fake = h.connectAgent({
      hostname: this.hostname,
      resources: this.spec.resources ?? 'cpus:4;mem:4096;disk:10000;ports:[31000-32000]',
      attributes: this.spec.attributes ?? {},
    });
    this.fake = fake;
    fake.peer.onSend = (m) => queueMicrotask(() => this.onMessage(fake, m));
    this.connected = true;
    if (this.agentId) await fake.reregister(this.records(), this.agentId);
    else await fake.register();
    this.agentId = fake.id;
    if (!this.agentId) throw new Error(`the master did not register agent ${this.hostname}`);
    return this;
  }

  /** Task ids running (or staging/starting) here now. */
  active(): string[] {
    return [...this.tasks.values()].filter((t) => !isTerminal(t.state)).map((t) => t.task.task_id);
  }

  /** Reports a state for a task on this agent (as its executor would). */
  update(
    taskId: string,
    state: TaskState,
    extra: Partial<Pick<TaskStatus, 'message' | 'reason' | 'healthy'>> = {},
  ): void {
    const t = this.tasks.get(taskId);
    if (!t) throw new Error(`task ${taskId} is not on agent ${this.hostname}`);
    t.state = state;
    if (this.connected) this.fake.update(t.frameworkId, { task_id: taskId, state, ...extra });
  }

  /** The task exits 0. */
  finish(taskId: string): void {
    this.update(taskId, 'TASK_FINISHED');
  }

  /** The task exits non-zero. */
  fail(taskId: string, message = 'exited with status 1'): void {
    this.update(taskId, 'TASK_FAILED', { message, reason: 'REASON_COMMAND_EXECUTOR_FAILED' });
  }

  /** The agent drops off the network (crashed, partitioned): no pings answered, nothing reported. */
  lose(): void {
    if (!this.connected) return;
    this.connected = false;
    this.fake.drop();
  }

  /** The agent comes back and re-registers with the tasks it still has. */
  async reconnect(): Promise<this> {
    return this.connect();
  }

  /** What a re-registration carries. */
  private records(): TaskRecord[] {
    return [...this.tasks.values()]
      .filter((t) => !isTerminal(t.state))
      .map((t) => ({ task: t.task, framework_id: t.frameworkId, state: t.state }));
  }

  private launch(frameworkId: string, task: TaskInfo): void {
    this.tasks.set(task.task_id, { frameworkId, task, state: 'TASK_STAGING' });
    const b = this.spec.onLaunch ?? this.onLaunch();
    const state = typeof b === 'function' ? b(task, this) : b;
    if (state !== 'none') this.update(task.task_id, state);
  }

  private onMessage(fake: FakeAgent, m: MasterToAgentMessage): void {
    if (fake !== this.fake || !this.connected) return;
    switch (m.type) {
      case 'PING':
        fake.peer.deliver({ type: 'PONG', seq: m.seq });
        return;
      case 'RUN_TASK':
        this.launch(m.framework.id, m.task);
        return;
      case 'RUN_TASK_GROUP':
        // All tasks of the group start together; each reports its own state.
        for (const task of m.task_group.tasks) this.launch(m.framework.id, task);
        return;
      case 'KILL_TASK': {
        const t = this.tasks.get(m.task_id);
        if (t && !isTerminal(t.state)) this.update(m.task_id, 'TASK_KILLED');
        return;
      }
      case 'SHUTDOWN_FRAMEWORK':
        for (const t of this.tasks.values()) {
          if (t.frameworkId === m.framework_id && !isTerminal(t.state)) this.update(t.task.task_id, 'TASK_KILLED');
        }
        return;
      default:
        return;
    }
  }
}
