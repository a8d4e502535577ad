/**
 * Leadership: taking over from what the registrar remembers (agents get a window to re-register,
 * frameworks a window to re-subscribe before their failover timeouts start), and stepping down
 * (every connection told where the leader is and closed, all state dropped).
 */
import { Resources } from '../../sdk/resources/resources.js';
import type { AllocatorRole } from '../allocator/types.js';
import type { RecoveredState, RolesRecord } from '../registrar.js';
import { MAX_COMPLETED_FRAMEWORKS, newFrameworkEntry } from '../registry.js';
import { recoveredAgent } from './agents.js';
import type { Core } from './core.js';
import { type Effects, failoverTimer, Timers } from './effects.js';
import { addCompleted } from './frameworks.js';
import { agentSettled, clearReconcileHold } from './reconcile.js';

export function gainLeadership(s: Core, out: Effects, rec: RecoveredState): void {
  for (const a of rec.agents) s.agents.set(a.info.id, recoveredAgent(s, a));
  const completed = rec.frameworks
    .filter((f) => f.completed)
    .sort((a, b) => (a.unregistered_time ?? 0) - (b.unregistered_time ?? 0))
    .slice(-MAX_COMPLETED_FRAMEWORKS);
  for (const f of completed) {
    const fw = newFrameworkEntry(f.info, s.nowSecs());
    fw.unregisteredAt = f.unregistered_time;
    fw.principal = f.principal;
    addCompleted(s, undefined, fw);
  }
  for (const f of rec.frameworks) {
    if (f.completed) continue;
    const fw = newFrameworkEntry(f.info, s.nowSecs());
    fw.principal = f.principal;
    s.frameworks.set(fw.id, fw);
    s.recoveringFrameworks.add(fw.id);
  }
  if (rec.roles) s.roles = rolesFromRecord(rec.roles);
  s.leading = true;
  s.electedAt = s.nowMs();
  if (s.recovering.size > 0) out.arm(Timers.agentReregister, s.cfg.agentReregisterTimeoutMs);
  if (s.allocationHeld()) out.arm(Timers.allocationHold, s.cfg.allocationHoldMs ?? 0);
  // Armed too when only agents are awaited: they may report frameworks to adopt (frameworks.ts).
  if (s.recoveringFrameworks.size > 0 || s.recovering.size > 0) {
    s.frameworkWindowOpen = true;
    out.arm(Timers.frameworkResubscribe, s.cfg.frameworkResubscribeTimeoutMs);
  }
  out.log('info', 'elected leader; waiting for agents to re-register and frameworks to re-subscribe', {
    agents: rec.agents.length,
    frameworks: s.frameworks.size,
    completedFrameworks: s.completedFrameworks.length,
    awaiting: s.recovering.size,
  });
  s.requestAllocation(out);
}

/** Every remembered agent that did not come back within the window is unreachable. */
export function agentWindowClosed(s: Core, out: Effects, markUnreachable: (id: string) => void): void {
  for (const id of [...s.recovering]) {
    s.recovering.delete(id);
    const a = s.agents.get(id);
    if (a && a.state !== 'active') markUnreachable(id);
    agentSettled(s, out, id);
  }
  out.log('info', 'agent re-register window closed');
}

export function loseLeadership(s: Core, out: Effects, reason: string): void {
  if (!s.leading) return;
  s.leading = false;
  out.log('error', 'no longer the leader; dropping all connections and state', { reason });
  out.cancel(Timers.agentReregister);
  out.cancel(Timers.frameworkResubscribe);
  out.cancel(Timers.allocationHold);
  const leader = { master_info: s.cfg.leaderInfo() };
  for (const conn of s.agentConns.keys()) {
    out.toAgent(conn, { type: 'LEADER', leader });
    out.close(conn, 1000, 'not the leader');
  }
  for (const conn of s.schedulerConns.keys()) {
    out.toScheduler(conn, { type: 'LEADER', leader });
    out.close(conn, 1000, 'not the leader');
  }
  for (const f of s.frameworks.values()) out.cancel(failoverTimer(f.id));
  for (const c of s.agentConns.values()) {
    c.agentId = undefined;
    c.pending = undefined;
    c.registering = false;
  }
  for (const c of s.schedulerConns.values()) c.frameworkId = undefined;
  s.agents.clear();
  s.frameworks.clear();
  s.completedFrameworks.length = 0;
  s.offers.clear();
  s.tasks.clear();
  s.recovering.clear();
  s.recoveringFrameworks.clear();
  // Writes still in flight for new agents/frameworks whose connection closed: no longer this
  // master's to undo (a deposed master must not write to the registrar; the next leader's
  // re-register window deals with a record nobody re-registers under).
  s.abandonedAgents.clear();
  s.abandonedFrameworks.clear();
  clearReconcileHold(s);
  s.frameworkWindowOpen = false;
  s.roles = new Map();
}

export function rolesToRecord(roles: ReadonlyMap<string, AllocatorRole>): RolesRecord {
  const rs = [...roles.values()];
  return {
    weights: rs.filter((r) => r.weight !== 1).map((r) => ({ role: r.name, weight: r.weight })),
    quotas: rs
      .filter((r) => r.quota)
      .map((r) => ({ role: r.name, guarantee: r.quota?.guarantee?.toList(), limit: r.quota?.limit?.toList() })),
  };
}

export function rolesFromRecord(rec: RolesRecord): Map<string, AllocatorRole> {
  const roles = new Map<string, AllocatorRole>();
  for (const w of rec.weights) roles.set(w.role, { name: w.role, weight: w.weight });
  for (const q of rec.quotas) {
    const r = roles.get(q.role) ?? { name: q.role, weight: 1 };
    roles.set(q.role, {
      ...r,
      quota: {
        ...(q.guarantee ? { guarantee: Resources.from(q.guarantee) } : {}),
        ...(q.limit ? { limit: Resources.from(q.limit) } : {}),
      },
    });
  }
  return roles;
}
