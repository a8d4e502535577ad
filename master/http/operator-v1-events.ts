/**
 * The operator event stream's events (Mesos's `master::Event`: TASK_ADDED, TASK_UPDATED,
 * AGENT_ADDED, AGENT_REMOVED, FRAMEWORK_ADDED, FRAMEWORK_UPDATED, FRAMEWORK_REMOVED), derived
 * once per master event from what it touched, by comparing with a small shadow of what
 * subscribers were last told. Only the things an event can change are looked at (a status update
 * looks at its task; a registration at the agents), so deriving costs little per event, and
 * nothing at all while nobody subscribes (the shadow is dropped and rebuilt on the next subscribe).
 */
import { taskUser } from '../../sdk/http/index.js';
import type { TaskState } from '../../sdk/protocol/types.js';
import { type FrameworkEntry, type TaskEntry, taskKey } from '../registry.js';
import type { Effect, MasterEvent } from '../state/index.js';
import {
  id,
  type Json,
  latestStatus,
  v1Agent,
  v1Framework,
  v1FrameworkInfo,
  v1Status,
  v1Task,
} from './operator-v1-json.js';
import { holdings, type MasterView } from './operator-v1-views.js';

export type { MasterView } from './operator-v1-views.js';

/**
 * Who may see an event: every check (a view ACL action and its object, the OS user) must allow
 * the subscriber's principal, as for the SUBSCRIBED snapshot. None: every subscriber.
 */
export type EventView = readonly (readonly [action: string, object: string | undefined])[];
/** One derived operator event and who may see it. */
export interface Derived {
  event: Json;
  view?: EventView;
}

/** A framework's events: view_frameworks of its user. */
export function frameworkView(f: FrameworkEntry | undefined): EventView {
  return [['view_frameworks', f?.info.user || undefined]];
}

/** A task's events: its framework's view and view_tasks of the task's user (as GET_TASKS filters). */
export function taskView(f: FrameworkEntry | undefined, t: TaskEntry): EventView {
  const fwUser = f?.info.user || undefined;
  return [
    ['view_frameworks', fwUser],
    ['view_tasks', taskUser(t.task.command, fwUser)],
  ];
}

const TERMINAL: ReadonlySet<TaskState> = new Set([
  'TASK_FINISHED',
  'TASK_FAILED',
  'TASK_KILLED',
  'TASK_ERROR',
  'TASK_LOST',
  'TASK_DROPPED',
  'TASK_GONE',
  'TASK_GONE_BY_OPERATOR',
] as TaskState[]);

/** Master events after which agents may have come or gone. */
const AGENT_EVENTS = new Set([
  'agentDisconnected',
  'agentSendFailed',
  'agentProtocolError',
  'timerFired',
  'markGone',
  'persisted',
  'persistFailed',
  'leadershipGained',
]);
/** Master events after which frameworks may have come, changed or gone. */
const FRAMEWORK_EVENTS = new Set([
  'operatorTeardown',
  'schedulerDisconnected',
  'schedulerSendFailed',
  'schedulerProtocolError',
  'timerFired',
  'persisted',
  'persistFailed',
  'leadershipGained',
]);

/** Scheduler calls that may change a framework (not ACCEPT, DECLINE, ACKNOWLEDGE, RECONCILE: the busy ones). */
const FRAMEWORK_CALLS = new Set(['SUBSCRIBE', 'TEARDOWN', 'SUPPRESS', 'REVIVE', 'UPDATE_FRAMEWORK']);

type Ctx = { m: MasterView; out: Derived[] };

const present = (state: string) => state === 'active' || state === 'disconnected';

function frameworkSignature(f: FrameworkEntry): string {
  return `${f.active}|${f.connected}|${f.roles.join(',')}|${[...f.suppressedRoles].join(',')}|${f.info.name}|${f.reregisteredAt ?? ''}`;
}

export class OperatorEventDeriver {
  private readonly agents = new Set<string>();
  private readonly frameworks = new Map<string, string>();
  private readonly tasks = new Map<string, TaskState>();
  private primed = false;

  constructor(private readonly master: () => MasterView | undefined) {}

  /** Takes the current state as told (a subscriber was just sent a full snapshot). */
  prime(): void {
    this.reset();
    const m = this.master();
    if (!m) return;
    for (const a of m.agents.values()) if (present(a.state)) this.agents.add(a.id);
    for (const f of m.frameworks.values()) this.frameworks.set(f.id, frameworkSignature(f));
    for (const t of m.tasks.values()) if (!TERMINAL.has(t.state)) this.tasks.set(t.key, t.state);
    this.primed = true;
  }

  /** Forgets everything (nobody subscribes). */
  reset(): void {
    this.agents.clear();
    this.frameworks.clear();
    this.tasks.clear();
    this.primed = false;
  }

  get active(): boolean {
    return this.primed;
  }

  /** The operator events one applied master event caused, in order. */
  observe(event: MasterEvent, effects: readonly Effect[]): Derived[] {
    const m = this.master();
    if (!this.primed || !m) return [];
    const out: Derived[] = [];
    const ctx = { m, out };
    if ((event.type === 'schedulerCall' && FRAMEWORK_CALLS.has(event.call.type)) || FRAMEWORK_EVENTS.has(event.type))
      this.diffFrameworks(ctx);
    if (AGENT_EVENTS.has(event.type) || event.type === 'agentMessage') {
      const t = event.type === 'agentMessage' ? event.message.type : '';
      if (event.type !== 'agentMessage' || t === 'REGISTER' || t === 'REREGISTER' || t === 'REREGISTER_TASKS') {
        this.diffAgents(ctx);
      }
    }
    if (event.type === 'schedulerCall' && event.call.type === 'ACCEPT') {
      for (const op of event.call.accept.operations) {
        if (op.type !== 'LAUNCH') continue;
        for (const ti of op.launch.task_infos) this.checkTask(ctx, taskKey(event.call.framework_id, ti.task_id));
      }
    }
    for (const e of effects) {
      if (e.kind === 'toAgent' && e.message.type === 'RUN_TASK') {
        this.checkTask(ctx, taskKey(e.message.framework.id, e.message.task.task_id));
      }
    }
    if (event.type === 'agentMessage') {
      const msg = event.message;
      if (msg.type === 'STATUS_UPDATE')
        this.checkTask(ctx, taskKey(msg.update.framework_id, msg.update.status.task_id));
      else if (msg.type === 'REREGISTER' || msg.type === 'REREGISTER_TASKS') this.checkAgentTasks(ctx, event.conn);
    }
    // Updates the master made itself (a kill before launch, a lost agent's tasks) reach a connected framework.
    let byConn: Map<string, string> | undefined;
    for (const e of effects) {
      if (e.kind !== 'toScheduler' || e.message.type !== 'UPDATE') continue;
      if (!byConn) {
        byConn = new Map();
        for (const f of m.frameworks.values()) if (f.peer) byConn.set(f.peer.id, f.id);
      }
      const fw = byConn.get(e.conn);
      if (fw) this.checkTask(ctx, taskKey(fw, e.message.update.status.task_id));
    }
    return out;
  }

  private frameworkOf(m: MasterView, fid: string): FrameworkEntry | undefined {
    return m.frameworks.get(fid) ?? m.completedFrameworks.find((c) => c.id === fid);
  }

  private lookup(m: MasterView, key: string): TaskEntry | undefined {
    const live = m.tasks.get(key);
    if (live) return live;
    const fw = m.frameworks.get(key.slice(0, key.indexOf('\u0000')));
    return fw?.completedByKey.get(key);
  }

  private checkTask(ctx: Ctx, key: string): void {
    const t = this.lookup(ctx.m, key);
    const prev = this.tasks.get(key);
    if (!t) {
      if (prev !== undefined) this.tasks.delete(key);
      return;
    }
    if (prev === undefined) {
      if (TERMINAL.has(t.state)) return; // never told, already over (or told and finished before)
      ctx.out.push({
        event: { type: 'TASK_ADDED', task_added: { task: v1Task(t) } },
        view: taskView(this.frameworkOf(ctx.m, t.frameworkId), t),
      });
      this.tasks.set(key, t.state);
      return;
    }
    if (prev === t.state) return;
    ctx.out.push(this.updated(ctx.m, t));
    if (TERMINAL.has(t.state)) this.tasks.delete(key);
    else this.tasks.set(key, t.state);
  }

  /** The tasks of the agent on this connection (after it re-registered with them). */
  private checkAgentTasks(ctx: Ctx, conn: string): void {
    for (const a of ctx.m.agents.values()) {
      if (a.peer?.id !== conn) continue;
      for (const k of a.tasks) this.checkTask(ctx, k);
    }
  }

  private diffAgents(ctx: Ctx): void {
    const { m, out } = ctx;
    for (const a of m.agents.values()) {
      if (!present(a.state) || this.agents.has(a.id)) continue;
      this.agents.add(a.id);
      out.push({ event: { type: 'AGENT_ADDED', agent_added: { agent: v1Agent(a) } } });
    }
    for (const aid of [...this.agents]) {
      const a = m.agents.get(aid);
      if (a && present(a.state)) continue;
      this.agents.delete(aid);
      out.push({ event: { type: 'AGENT_REMOVED', agent_removed: { agent_id: id(aid) } } });
      // Its tasks became unreachable, lost or gone: tell what they are now.
      if (a) for (const k of a.tasks) this.checkTask(ctx, k);
      for (const [k] of this.tasks) {
        const t = this.lookup(m, k);
        if (t && t.agentId === aid) this.checkTask(ctx, k);
      }
    }
  }

  private diffFrameworks(ctx: Ctx): void {
    const { m, out } = ctx;
    const host = (agentId: string) => m.agents.get(agentId)?.info.hostname;
    for (const f of m.frameworks.values()) {
      const sig = frameworkSignature(f);
      const prev = this.frameworks.get(f.id);
      if (prev === sig) continue;
      this.frameworks.set(f.id, sig);
      const framework = v1Framework(f, holdings(m, f), host);
      out.push({
        event:
          prev === undefined
            ? { type: 'FRAMEWORK_ADDED', framework_added: { framework } }
            : { type: 'FRAMEWORK_UPDATED', framework_updated: { framework } },
        view: frameworkView(f),
      });
    }
    for (const fid of [...this.frameworks.keys()]) {
      if (m.frameworks.has(fid)) continue;
      this.frameworks.delete(fid);
      const done = m.completedFrameworks.find((c) => c.id === fid);
      if (done) {
        // Its tasks were killed with it.
        for (const [k] of this.tasks) if (k.startsWith(`${fid}\u0000`)) this.checkTaskIn(ctx, done, k);
      }
      out.push({
        event: {
          type: 'FRAMEWORK_REMOVED',
          framework_removed: { framework_info: done ? v1FrameworkInfo(done.info, done.roles) : { id: id(fid) } },
        },
        view: frameworkView(done),
      });
    }
  }

  private checkTaskIn(ctx: Ctx, f: FrameworkEntry, key: string): void {
    const t = ctx.m.tasks.get(key) ?? f.completedByKey.get(key);
    if (!t) {
      this.tasks.delete(key);
      return;
    }
    const prev = this.tasks.get(key);
    if (prev === t.state) return;
    ctx.out.push(this.updated(ctx.m, t));
    if (TERMINAL.has(t.state)) this.tasks.delete(key);
    else this.tasks.set(key, t.state);
  }

  private updated(m: MasterView, t: TaskEntry): Derived {
    return {
      event: {
        type: 'TASK_UPDATED',
        task_updated: { framework_id: id(t.frameworkId), status: v1Status(latestStatus(t), t.agentId), state: t.state },
      },
      view: taskView(this.frameworkOf(m, t.frameworkId), t),
    };
  }
}
