/**
 * Frameworks: SUBSCRIBE (one framework per connection; an id the caller brings must be one this
 * cluster issued), disconnection and the failover timeout, and teardown, with completed
 * frameworks kept (in memory and in the registrar) up to MAX_COMPLETED_FRAMEWORKS.
 */
import { effectivePrincipal } from '../../sdk/auth/protocol.js';
import { FRAMEWORK_TORN_DOWN_REASON } from '../../sdk/protocol/messages.js';
import type { FrameworkInfo } from '../../sdk/protocol/types.js';
import { TaskState } from '../../sdk/protocol/types.js';
import { DEFAULT_ROLE } from '../../sdk/resources/resources.js';
import type { FrameworkRecord } from '../registrar.js';
import { type FrameworkEntry, MAX_COMPLETED_FRAMEWORKS, newFrameworkEntry } from '../registry.js';
import { roleNameProblem } from '../roles.js';
import type { Core } from './core.js';
import { type Effects, failoverTimer } from './effects.js';
import { dropFrameworkOffers } from './offers.js';
import { reconcileHoldSeconds } from './reconcile.js';
import { applyState, masterStatus } from './tasks.js';

export function frameworkRecord(fw: FrameworkEntry, completed: boolean): FrameworkRecord {
  const rec: FrameworkRecord = { info: fw.info, completed };
  if (completed && fw.unregisteredAt !== undefined) rec.unregistered_time = fw.unregisteredAt;
  if (fw.principal !== undefined) rec.principal = fw.principal;
  return rec;
}

export function onSubscribe(s: Core, out: Effects, conn: string, info: FrameworkInfo): void {
  const c = s.schedulerConns.get(conn);
  if (!c) return;
  if (c.frameworkId !== undefined && info.id !== c.frameworkId) {
    out.schedulerError(
      conn,
      'AGORA_MASTER_ALREADY_SUBSCRIBED',
      `this connection already carries framework ${c.frameworkId}; open another connection for another framework`,
    );
    return;
  }
  const badRole = (info.roles ?? []).map(roleNameProblem).find((why) => why);
  if (badRole) {
    out.schedulerError(conn, 'AGORA_MASTER_INVALID_FRAMEWORK_ROLE', `SUBSCRIBE refused: ${badRole.slice(0, 300)}`);
    out.close(conn, 1000, 'invalid role');
    return;
  }
  if (info.id && s.isCompletedFramework(info.id)) {
    out.schedulerError(
      conn,
      'AGORA_MASTER_FRAMEWORK_REMOVED',
      `framework ${info.id} has been torn down; subscribe without an id`,
    );
    out.close(conn, 1000, 'framework removed');
    return;
  }
  const fw = info.id ? s.frameworks.get(info.id) : undefined;
  if (info.id && !fw && s.recovering.size > 0) {
    // A new leader still waiting for agents: one of them may report this framework (its record
    // lost or unreadable), and then it is adopted. Not fatal: the scheduler tries again.
    out.log('warn', 'SUBSCRIBE with a framework id not known yet while agents re-register; retry asked', {
      frameworkId: info.id,
      awaitingAgents: s.recovering.size,
    });
    out.schedulerError(
      conn,
      'AGORA_MASTER_FRAMEWORK_RECOVERING',
      `framework id ${info.id} is not known yet: the master is still recovering from a failover; retry`,
    );
    out.close(conn, 1013, 'recovering; retry');
    return;
  }
  if (info.id && !fw) {
    out.log('warn', 'SUBSCRIBE with a framework id this cluster never issued; refused', { frameworkId: info.id });
    out.schedulerError(
      conn,
      'AGORA_MASTER_UNKNOWN_FRAMEWORK',
      `framework id ${info.id} is unknown to this cluster; subscribe without an id to get one`,
    );
    out.close(conn, 1000, 'unknown framework id');
    return;
  }
  if (fw) {
    out.cancel(failoverTimer(fw.id));
    s.recoveringFrameworks.delete(fw.id);
    const old = fw.peer?.id;
    if (old !== undefined && old !== conn) {
      out.schedulerError(old, 'AGORA_MASTER_FRAMEWORK_FAILED_OVER', 'framework failed over to another connection');
      out.close(old, 1000, 'framework failed over');
      const oc = s.schedulerConns.get(old);
      if (oc) oc.frameworkId = undefined;
    }
    // Offers made to the old connection are void.
    dropFrameworkOffers(s, out, fw);
    const roles = info.roles && info.roles.length > 0 ? [...new Set(info.roles)] : [DEFAULT_ROLE];
    fw.info = { ...info, id: fw.id, roles };
    fw.roles = roles;
    for (const r of [...fw.suppressedRoles]) if (!roles.includes(r)) fw.suppressedRoles.delete(r);
    fw.partitionAware = (info.capabilities ?? []).some((x) => x.type === 'PARTITION_AWARE');
    fw.reregisteredAt = s.nowSecs();
    fw.principal ??= effectivePrincipal({ mustAuthenticate: false, connection: c.principal, claimed: info.principal });
    if (fw.principal !== undefined) fw.info.principal = fw.principal; // what state and secrets read
    out.persistFramework(frameworkRecord(fw, false));
    out.log('info', 'framework re-subscribed', { frameworkId: fw.id, name: info.name });
  } else {
    if (c.pending) {
      out.schedulerError(
        conn,
        'AGORA_MASTER_ALREADY_SUBSCRIBED',
        'a SUBSCRIBE on this connection is still being admitted',
      );
      return;
    }
    // A new framework is admitted only once its record is durable, as agents are: a framework told
    // SUBSCRIBED that a later leader did not know would have its tasks shut down.
    const id = s.newId('F', (x) => s.frameworks.has(x) || s.isCompletedFramework(x) || s.isPendingFramework(x));
    const entry = newFrameworkEntry({ ...info, id }, s.nowSecs());
    entry.principal = effectivePrincipal({ mustAuthenticate: false, connection: c.principal, claimed: info.principal });
    if (entry.principal !== undefined) entry.info.principal = entry.principal;
    c.pending = entry;
    out.persistFramework(frameworkRecord(entry, false), frameworkAck(conn));
    return;
  }
  admit(s, out, conn, fw);
}

/**
 * A framework a re-registering agent reports that this (new) leader does not know: its record was
 * lost or unreadable, or never became durable. As Mesos recovers frameworks from agents'
 * re-registrations, it is kept, disconnected, with the info the agent holds (which the master sent
 * it with each task), and recorded durably again; it is torn down only if it does not re-subscribe
 * within the re-subscribe window and then its failover timeout, like a remembered one.
 */
export function adoptFramework(s: Core, out: Effects, info: FrameworkInfo & { id: string }): FrameworkEntry {
  const fw = newFrameworkEntry(info, s.nowSecs());
  if (info.principal !== undefined) fw.principal = info.principal;
  fw.disconnectedAt = s.nowSecs();
  s.frameworks.set(fw.id, fw);
  if (s.frameworkWindowOpen) s.recoveringFrameworks.add(fw.id);
  else startFailoverTimer(out, fw);
  out.persistFramework(frameworkRecord(fw, false));
  out.log('warn', 'adopted a framework a re-registering agent reports (its record was missing)', {
    frameworkId: fw.id,
    name: info.name,
  });
  return fw;
}

/** The ack a new framework's durable write carries (agents' acks are their connection ids). */
export function frameworkAck(conn: string): string {
  return `framework:${conn}`;
}

/** The durable write of a new framework finished: admit it if its connection is still there. */
export function onFrameworkPersisted(s: Core, out: Effects, conn: string): void {
  const abandoned = s.abandonedFrameworks.get(conn);
  if (abandoned !== undefined) {
    // Its scheduler left before it was told SUBSCRIBED: it never learnt the id, so nothing can
    // come back for it. Its record goes, or the next leader would recover a framework never admitted.
    s.abandonedFrameworks.delete(conn);
    out.forgetFramework(abandoned);
    out.log('info', 'a new framework left before it was admitted; its record is removed', { frameworkId: abandoned });
    return;
  }
  const c = s.schedulerConns.get(conn);
  const fw = c?.pending;
  if (!c || !fw) return;
  c.pending = undefined;
  if (!s.leading) return;
  s.frameworks.set(fw.id, fw);
  out.log('info', 'framework subscribed', { frameworkId: fw.id, name: fw.info.name, roles: fw.roles });
  admit(s, out, conn, fw);
}

/** The durable write of a new framework failed: nothing was admitted; the scheduler retries. */
export function onFrameworkPersistFailed(s: Core, out: Effects, conn: string, message: string): void {
  if (s.abandonedFrameworks.delete(conn)) return;
  const c = s.schedulerConns.get(conn);
  if (!c?.pending) return;
  c.pending = undefined;
  out.log('error', 'could not admit the framework durably; it will retry', { err: message });
  out.schedulerError(conn, 'AGORA_MASTER_REGISTRAR_UNAVAILABLE', 'the framework could not be recorded durably; retry');
  out.close(conn, 1011, 'registrar unavailable; retry');
}

function admit(s: Core, out: Effects, conn: string, fw: FrameworkEntry): void {
  const c = s.schedulerConns.get(conn);
  if (!c) return;
  fw.peer = { id: conn };
  c.frameworkId = fw.id;
  fw.active = true;
  fw.connected = true;
  fw.disconnectedAt = undefined;
  const hold = reconcileHoldSeconds(s);
  out.toScheduler(conn, {
    type: 'SUBSCRIBED',
    subscribed: {
      framework_id: fw.id,
      heartbeat_interval_seconds: s.cfg.schedulerHeartbeatSeconds,
      master_info: s.cfg.info,
      ...(hold === undefined ? {} : { reconcile_hold_seconds: hold }),
    },
  });
  s.requestAllocation(out);
}

export function onSchedulerClosed(s: Core, out: Effects, conn: string): void {
  const c = s.schedulerConns.get(conn);
  s.schedulerConns.delete(conn);
  if (c?.pending) s.abandonedFrameworks.set(conn, c.pending.id);
  const fw = c?.frameworkId ? s.frameworks.get(c.frameworkId) : undefined;
  if (!fw || fw.peer?.id !== conn) return;
  fw.peer = undefined;
  fw.connected = false;
  fw.disconnectedAt = s.nowSecs();
  dropFrameworkOffers(s, out, fw);
  out.log('warn', 'framework disconnected', { frameworkId: fw.id, failoverTimeoutSecs: fw.info.failover_timeout ?? 0 });
  startFailoverTimer(out, fw);
}

/** Tears the framework down unless it subscribes again within its failover_timeout. */
export function startFailoverTimer(out: Effects, fw: FrameworkEntry): void {
  out.arm(failoverTimer(fw.id), (fw.info.failover_timeout ?? 0) * 1000);
}

export function onFailoverTimeout(s: Core, out: Effects, frameworkId: string): void {
  const fw = s.frameworks.get(frameworkId);
  if (!fw || fw.peer) return;
  out.log('warn', 'framework did not come back within its failover timeout; tearing it down', { frameworkId });
  teardown(s, out, fw);
}

/** The re-subscribe window after a failover closed: the failover timeouts of the absent frameworks start. */
export function onResubscribeWindowClosed(s: Core, out: Effects): void {
  s.frameworkWindowOpen = false;
  for (const id of [...s.recoveringFrameworks]) {
    s.recoveringFrameworks.delete(id);
    const fw = s.frameworks.get(id);
    if (fw && !fw.peer) startFailoverTimer(out, fw);
  }
}

export function teardown(s: Core, out: Effects, fw: FrameworkEntry): void {
  out.cancel(failoverTimer(fw.id));
  s.recoveringFrameworks.delete(fw.id);
  dropFrameworkOffers(s, out, fw);
  const agents = new Set<string>();
  for (const key of fw.tasks) {
    const t = s.tasks.get(key);
    if (t) agents.add(t.agentId);
  }
  for (const id of agents) {
    out.toAgent(s.agents.get(id)?.peer?.id, { type: 'SHUTDOWN_FRAMEWORK', framework_id: fw.id });
  }
  for (const key of [...fw.tasks]) {
    const t = s.tasks.get(key);
    if (t) {
      applyState(s, out, t, masterStatus(s, t, TaskState.KILLED, 'framework torn down', 'REASON_FRAMEWORK_REMOVED'));
    }
  }
  fw.active = false;
  fw.connected = false;
  fw.unregisteredAt = s.nowSecs();
  out.close(fw.peer?.id, 1000, FRAMEWORK_TORN_DOWN_REASON);
  const c = fw.peer ? s.schedulerConns.get(fw.peer.id) : undefined;
  if (c) c.frameworkId = undefined;
  fw.peer = undefined;
  s.frameworks.delete(fw.id);
  out.persistFramework(frameworkRecord(fw, true));
  addCompleted(s, out, fw);
  out.log('info', 'framework torn down', { frameworkId: fw.id });
}

/** Keeps a completed framework, dropping the oldest beyond the cap from memory and from the registrar. */
export function addCompleted(s: Core, out: Effects | undefined, fw: FrameworkEntry): void {
  s.completedFrameworks.push(fw);
  while (s.completedFrameworks.length > MAX_COMPLETED_FRAMEWORKS) {
    const old = s.completedFrameworks.shift();
    if (old) out?.forgetFramework(old.id);
  }
}
