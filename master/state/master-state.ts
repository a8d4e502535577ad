/**
 * The master's bookkeeping as one state machine: `apply(event)` changes the state and returns the
 * effects to carry out, in order. It does no I/O and arms no timer; the shell (master/master.ts)
 * or a test harness (master/testing/) turns the effects into sends, writes and timers, and feeds
 * their outcomes back as events.
 */

import type { AgentMessage, MasterToAgentMessage, SchedulerCall, SchedulerEvent } from '../../sdk/protocol/messages.js';
import type { MasterInfo } from '../../sdk/protocol/types.js';
import type { RefusedOperation } from '../../sdk/protocol/validate.js';
import type { Resources } from '../../sdk/resources/resources.js';
import type { AllocationPlan, AllocatorRole } from '../allocator/types.js';
import type { RecoveredState } from '../registrar.js';
import type { AgentEntry, FrameworkEntry, OfferEntry, TaskEntry } from '../registry.js';
import {
  markGone,
  markUnreachable,
  onAdmissionFailed,
  onAdmitted,
  onAgentClosed,
  onPong,
  onRegister,
  pingRound,
} from './agents.js';
import { onCall, runTaskNotSent } from './calls.js';
import { Core, type Counters, type MasterConfig } from './core.js';
import { type Effect, Effects, Timers } from './effects.js';
import {
  onFailoverTimeout,
  onFrameworkPersisted,
  onFrameworkPersistFailed,
  onResubscribeWindowClosed,
  onSchedulerClosed,
  onSubscribe,
  teardown,
} from './frameworks.js';
import { type GroupEntry, liveGroups } from './groups.js';
import { agentWindowClosed, gainLeadership, loseLeadership } from './leadership.js';
import { allocationCycle, allocationResult, allocationSoon, offersNotSent, snapshot } from './offers.js';
import { applyOperatorReservation } from './operator-reservations.js';
import {
  onReregisterConnClosed,
  onReregisterPart,
  onReregisterPartsTimeout,
  onReregisterTasks,
  REREGISTER_PARTS_TIMER,
} from './reregister.js';
import { refuseAgent, refuseSubscribe, teardownRefusalFor } from './security.js';
import { statusUpdate } from './tasks.js';

export type MasterEvent =
  /** The shell is running: arm the periodic timers. */
  | { type: 'started' }
  /** `principal`: what the connection authenticated as at the upgrade (undefined: anonymous). */
  | { type: 'agentConnected'; conn: string; principal?: string }
  | { type: 'agentMessage'; conn: string; message: AgentMessage }
  | { type: 'agentDisconnected'; conn: string }
  | { type: 'agentProtocolError'; conn: string; code: string; message: string }
  | { type: 'schedulerConnected'; conn: string; principal?: string }
  /**
   * A call from a scheduler connection. `refused`: operations or tasks of an ACCEPT that failed the
   * wire schema (the call carries only the valid rest); each refused task gets TASK_ERROR.
   */
  | { type: 'schedulerCall'; conn: string; call: SchedulerCall; refused?: RefusedOperation[] }
  | { type: 'schedulerDisconnected'; conn: string }
  | { type: 'schedulerProtocolError'; conn: string; code: string; message: string }
  /**
   * The scheduler connection's unread backlog passed its high water (congested: no new offers go
   * to it, everything else still does) or came back down (offers resume).
   */
  | { type: 'schedulerBackpressure'; conn: string; congested: boolean }
  /** A message the state asked to send could not be sent (connection closed, too slow, too large). */
  | { type: 'agentSendFailed'; conn: string; message: MasterToAgentMessage }
  | { type: 'schedulerSendFailed'; conn: string; message: SchedulerEvent }
  | { type: 'timerFired'; timer: string }
  /** The outcome of a `persistAgent` effect that carried an `ack`. */
  | { type: 'persisted'; ack: string }
  | { type: 'persistFailed'; ack: string; message: string }
  | { type: 'leadershipGained'; recovered: RecoveredState }
  | { type: 'leadershipLost'; reason: string }
  | { type: 'rolesChanged'; roles: Map<string, AllocatorRole> }
  | { type: 'markGone'; agentId: string }
  /** An operator tears a framework down (v1 TEARDOWN, POST /master/teardown), already authorized. */
  | { type: 'operatorTeardown'; frameworkId: string }
  /** An operator's RESERVE_RESOURCES / UNRESERVE_RESOURCES (master/state/operator-reservations.ts). */
  | { type: 'operatorReservation'; agentId: string; reserve: Resources; unreserve: Resources }
  /** Run an allocation cycle soon (coalesced with other requests). */
  | { type: 'allocationRequested' }
  /** Run an allocation cycle now. */
  | { type: 'allocateNow' }
  /** The allocator's plan for the snapshot of the last `allocate` effect, and how long it took. */
  | { type: 'allocationResult'; plan: AllocationPlan; durationMs: number };

export class MasterState {
  private readonly s: Core;

  constructor(cfg: MasterConfig) {
    this.s = new Core(cfg);
  }

  // ---------------------------------------------------------------- read-only views
  get info(): MasterInfo {
    return this.s.cfg.info;
  }
  get agents(): ReadonlyMap<string, AgentEntry> {
    return this.s.agents;
  }
  get frameworks(): ReadonlyMap<string, FrameworkEntry> {
    return this.s.frameworks;
  }
  get completedFrameworks(): readonly FrameworkEntry[] {
    return this.s.completedFrameworks;
  }
  get offers(): ReadonlyMap<string, OfferEntry> {
    return this.s.offers;
  }
  get tasks(): ReadonlyMap<string, TaskEntry> {
    return this.s.tasks;
  }
  get roles(): ReadonlyMap<string, AllocatorRole> {
    return this.s.roles;
  }
  get recovering(): ReadonlySet<string> {
    return this.s.recovering;
  }
  get recoveringFrameworks(): ReadonlySet<string> {
    return this.s.recoveringFrameworks;
  }
  get counters(): Counters {
    return this.s.counters;
  }
  get leading(): boolean {
    return this.s.leading;
  }
  get electedAt(): number | undefined {
    return this.s.electedAt;
  }
  /** The live task groups (LAUNCH_GROUP): each executor, its agent and its live tasks (state views). */
  get groups(): readonly GroupEntry[] {
    return liveGroups(this.s);
  }
  /** The allocator's input as it would be now. */
  snapshot() {
    return snapshot(this.s);
  }

  /** Applies one event; returns what to do, in order. */
  apply(e: MasterEvent): Effect[] {
    const out = new Effects();
    this.route(e, out);
    return out.list;
  }

  private route(e: MasterEvent, out: Effects): void {
    const s = this.s;
    switch (e.type) {
      case 'started':
        out.arm(Timers.heartbeat, s.cfg.schedulerHeartbeatSeconds * 1000, true);
        out.arm(Timers.allocation, s.cfg.allocationIntervalMs, true);
        out.arm(Timers.ping, s.cfg.agentPingTimeoutMs, true);
        return;
      case 'agentConnected':
        s.agentConns.set(e.conn, e.principal === undefined ? {} : { principal: e.principal });
        return;
      case 'schedulerConnected':
        s.schedulerConns.set(e.conn, e.principal === undefined ? {} : { principal: e.principal });
        return;
      case 'agentMessage':
        if (this.refuseIfNotLeading(e.conn, out, 'agent')) return;
        this.agentMessage(e.conn, e.message, out);
        return;
      case 'schedulerCall':
        if (this.refuseIfNotLeading(e.conn, out, 'scheduler')) return;
        this.schedulerCall(e.conn, e.call, out, e.refused);
        return;
      case 'agentDisconnected':
        onReregisterConnClosed(s, out, e.conn);
        onAgentClosed(s, out, e.conn);
        return;
      case 'schedulerDisconnected':
        onSchedulerClosed(s, out, e.conn);
        return;
      case 'agentProtocolError':
        s.counters.invalidFrames++;
        out.log('warn', 'invalid frame from an agent; disconnecting it', { code: e.code, err: e.message });
        return;
      case 'schedulerBackpressure': {
        const c = s.schedulerConns.get(e.conn);
        if (!c) return;
        c.congested = e.congested;
        if (e.congested) s.counters.schedulerCongestions++;
        else s.requestAllocation(out);
        out.log('info', e.congested ? 'framework connection congested: offers held back' : 'framework caught up', {
          frameworkId: c.frameworkId,
        });
        return;
      }
      case 'schedulerProtocolError':
        s.counters.invalidFrames++;
        out.log('warn', 'invalid frame from a scheduler; refused', { code: e.code, err: e.message });
        out.schedulerError(e.conn, e.code, `invalid frame: ${e.message}`);
        return;
      case 'agentSendFailed':
        if (e.message.type === 'RUN_TASK') runTaskNotSent(s, out, e.message.framework.id, e.message.task.task_id);
        if (e.message.type === 'RUN_TASK_GROUP') {
          for (const t of e.message.task_group.tasks) runTaskNotSent(s, out, e.message.framework.id, t.task_id);
        }
        return;
      case 'schedulerSendFailed':
        if (e.message.type === 'OFFERS') offersNotSent(s, out, e.message.offers.offers);
        return;
      case 'timerFired':
        this.timer(e.timer, out);
        return;
      case 'persisted':
        if (e.ack.startsWith('framework:')) onFrameworkPersisted(s, out, e.ack.slice('framework:'.length));
        else onAdmitted(s, out, e.ack);
        return;
      case 'persistFailed':
        if (e.ack.startsWith('framework:'))
          onFrameworkPersistFailed(s, out, e.ack.slice('framework:'.length), e.message);
        else onAdmissionFailed(s, out, e.ack, e.message);
        return;
      case 'leadershipGained':
        gainLeadership(s, out, e.recovered);
        return;
      case 'leadershipLost':
        loseLeadership(s, out, e.reason);
        return;
      case 'rolesChanged':
        s.roles = e.roles;
        s.requestAllocation(out);
        return;
      case 'markGone': {
        const a = s.agents.get(e.agentId);
        if (a && a.state !== 'gone') markGone(s, out, a);
        return;
      }
      case 'operatorTeardown': {
        const fw = s.frameworks.get(e.frameworkId);
        if (fw) teardown(s, out, fw);
        return;
      }
      case 'operatorReservation':
        applyOperatorReservation(s, out, e.agentId, e.reserve, e.unreserve);
        return;
      case 'allocationRequested':
        s.requestAllocation(out);
        return;
      case 'allocateNow':
        allocationCycle(s, out);
        return;
      case 'allocationResult':
        allocationResult(s, out, e.plan, e.durationMs);
        return;
    }
  }

  private timer(name: string, out: Effects): void {
    const s = this.s;
    switch (name) {
      case Timers.allocateSoon:
        s.allocationPending = false;
        allocationSoon(s, out);
        return;
      case Timers.allocation:
        if (s.allocationHeld()) return;
        allocationCycle(s, out);
        return;
      case Timers.allocationHold:
        if (s.leading) s.requestAllocation(out);
        return;
      case Timers.ping:
        pingRound(s, out);
        return;
      case Timers.heartbeat:
        if (!s.leading) return;
        for (const f of s.frameworks.values()) if (f.connected) out.toScheduler(f.peer?.id, { type: 'HEARTBEAT' });
        return;
      case Timers.agentReregister:
        agentWindowClosed(s, out, (id) => {
          const a = s.agents.get(id);
          if (a) markUnreachable(s, out, a);
        });
        return;
      case Timers.frameworkResubscribe:
        onResubscribeWindowClosed(s, out);
        return;
      default:
        if (name.startsWith(REREGISTER_PARTS_TIMER))
          onReregisterPartsTimeout(s, out, name.slice(REREGISTER_PARTS_TIMER.length));
        else if (name.startsWith(Timers.failoverPrefix))
          onFailoverTimeout(s, out, name.slice(Timers.failoverPrefix.length));
    }
  }

  /** When not leading: tells the peer where the leader is (LEADER has one shape both ways) and closes it. */
  private refuseIfNotLeading(conn: string, out: Effects, side: 'agent' | 'scheduler'): boolean {
    if (this.s.leading) return false;
    const m = this.s.cfg.leaderInfo();
    const leader = m && m.id !== this.s.cfg.info.id ? { master_info: m } : {};
    if (side === 'agent') out.toAgent(conn, { type: 'LEADER', leader });
    else out.toScheduler(conn, { type: 'LEADER', leader });
    out.close(conn, 1000, 'not the leader');
    return true;
  }

  private agentMessage(conn: string, m: AgentMessage, out: Effects): void {
    const s = this.s;
    switch (m.type) {
      case 'REGISTER':
        if (refuseAgent(s, out, conn, undefined)) return;
        onRegister(s, out, conn, m);
        return;
      case 'REREGISTER':
        // The principal is checked on the first part, before any part is held.
        if (refuseAgent(s, out, conn, m.agent.id)) return;
        onReregisterPart(s, out, conn, m);
        return;
      case 'REREGISTER_TASKS':
        onReregisterTasks(s, out, conn, m);
        return;
      case 'STATUS_UPDATE': {
        const id = s.agentConns.get(conn)?.agentId;
        if (!id || s.agents.get(id)?.peer?.id !== conn) {
          out.log('warn', 'message from an agent that has not registered; closing');
          out.close(conn, 1008, 'register first');
          return;
        }
        statusUpdate(s, out, id, m.update.framework_id, m.update.status);
        return;
      }
      case 'PONG':
        onPong(s, conn, m.seq);
        return;
    }
  }

  private schedulerCall(conn: string, call: SchedulerCall, out: Effects, refused?: RefusedOperation[]): void {
    const s = this.s;
    if (call.type === 'SUBSCRIBE') {
      if (refuseSubscribe(s, out, conn, call.subscribe.framework_info)) return;
      onSubscribe(s, out, conn, call.subscribe.framework_info);
      return;
    }
    const id = s.schedulerConns.get(conn)?.frameworkId;
    const fw = id ? s.frameworks.get(id) : undefined;
    if (!fw || fw.peer?.id !== conn || call.framework_id !== fw.id) {
      out.schedulerError(conn, 'AGORA_MASTER_NOT_SUBSCRIBED', 'subscribe first, and use the framework id it returned');
      return;
    }
    onCall(s, out, fw, call, refused);
  }

  /**
   * Tears a framework down (operator request); no-op for an unknown id. With `by` (the operator's
   * principal), `teardown_frameworks` must allow it: a refusal is thrown and nothing changes.
   */
  teardown(frameworkId: string, by?: { principal?: string }): Effect[] {
    const out = new Effects();
    const fw = this.s.frameworks.get(frameworkId);
    const refusal = fw && by ? teardownRefusalFor(this.s, { principal: by.principal, own: false }, fw) : undefined;
    if (refusal) throw refusal;
    if (fw) teardown(this.s, out, fw);
    return out.list;
  }
}
