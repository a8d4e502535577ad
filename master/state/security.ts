/**
 * Security on the WebSocket protocol, as the state applies it: who may SUBSCRIBE (authenticated as
 * required, in roles `register_frameworks` allows, not with an id bound to another principal),
 * who may REGISTER/REREGISTER an agent id, which users a framework's tasks may run as
 * (`run_tasks`), who may TEARDOWN (`teardown_frameworks`) and RESERVE/UNRESERVE. The decisions are
 * the pure functions of sdk/auth/protocol.ts; here they meet the connections and the registry.
 */
import {
  agentRegisterRefusal,
  launchRefusal,
  type Permits,
  reservationRefusal,
  subscribeRefusal,
  teardownRefusal,
} from '../../sdk/auth/protocol.js';
import type { AgoraError } from '../../sdk/errors.js';
import { type FrameworkInfo, type Operation, TaskState } from '../../sdk/protocol/types.js';
import { Resources } from '../../sdk/resources/resources.js';
import type { FrameworkEntry } from '../registry.js';
import type { Core } from './core.js';
import type { Effects } from './effects.js';
import { bumpState, sendUpdate } from './tasks.js';

export interface ProtocolSecurity {
  /** --authenticate_frameworks: a SUBSCRIBE needs a principal proved at the upgrade. */
  authenticateFrameworks: boolean;
  /** --authenticate_agents: a REGISTER/REREGISTER needs a principal proved at the upgrade. */
  authenticateAgents: boolean;
  /** The ACLs (SecurityAuthorizer.permits). */
  permits: Permits;
}

export const ALLOW_ALL: ProtocolSecurity = {
  authenticateFrameworks: false,
  authenticateAgents: false,
  permits: () => true,
};

/** The reason of a task the ACLs refuse (Mesos's TaskStatus reason). */
export const REASON_TASK_UNAUTHORIZED = 'REASON_TASK_UNAUTHORIZED';

function sec(s: Core): ProtocolSecurity {
  return s.cfg.security ?? ALLOW_ALL;
}

/** A WebSocket close reason holds at most 123 bytes. */
function closeReason(e: AgoraError): string {
  return `${e.code}: ${e.message}`.slice(0, 120);
}

/**
 * Checks a SUBSCRIBE before anything else about it is looked at; on refusal sends ERROR with the
 * code, closes the connection and returns true. The framework the id names is not touched.
 */
export function refuseSubscribe(s: Core, out: Effects, conn: string, info: FrameworkInfo): boolean {
  const c = s.schedulerConns.get(conn);
  if (!c) return false;
  const bound = info.id ? s.frameworks.get(info.id)?.principal : undefined;
  const roles = info.roles && info.roles.length > 0 ? info.roles : [];
  const refusal = subscribeRefusal(
    { mustAuthenticate: sec(s).authenticateFrameworks, connection: c.principal, claimed: info.principal },
    info.id,
    bound,
    roles,
    sec(s).permits,
  );
  if (!refusal) return false;
  s.counters.authRefusals++;
  out.log('warn', 'SUBSCRIBE refused', { conn, code: refusal.code, frameworkId: info.id, principal: c.principal });
  out.audit({
    conn,
    principal: c.principal ?? info.principal,
    action: 'register_frameworks',
    target: info.id,
    code: refusal.code,
    status: refusal.statusCode,
  });
  out.schedulerError(conn, refusal.code, refusal.message);
  out.close(conn, 1008, closeReason(refusal));
  return true;
}

/** Checks an agent's REGISTER (no id) or REREGISTER (its id); on refusal closes the connection and returns true. */
export function refuseAgent(s: Core, out: Effects, conn: string, agentId: string | undefined): boolean {
  const c = s.agentConns.get(conn);
  if (!c) return false;
  const bound = agentId ? s.agents.get(agentId)?.principal : undefined;
  const refusal = agentRegisterRefusal(
    { mustAuthenticate: sec(s).authenticateAgents, connection: c.principal },
    agentId,
    bound,
  );
  if (!refusal) return false;
  s.counters.authRefusals++;
  s.counters.agentRegistrationsRefused++;
  out.log('warn', 'agent registration refused', { conn, code: refusal.code, agentId, principal: c.principal });
  out.audit({
    conn,
    principal: c.principal,
    action: 'register_agents',
    target: agentId,
    code: refusal.code,
    status: refusal.statusCode,
  });
  out.close(conn, 1008, closeReason(refusal));
  return true;
}

/**
 * The operations of an ACCEPT the ACLs let through: tasks whose user (`command.user`, else the
 * framework's) `run_tasks` refuses get TASK_ERROR (REASON_TASK_UNAUTHORIZED) and leave their
 * LAUNCH; a RESERVE (`reserve_resources`, on each role) or UNRESERVE (`unreserve_resources`) the
 * ACLs refuse is dropped with an ERROR. The rest goes on.
 */
export function authorizeOperations(s: Core, out: Effects, fw: FrameworkEntry, operations: Operation[]): Operation[] {
  const permits = sec(s).permits;
  const p = fw.principal;
  const kept: Operation[] = [];
  const errors: string[] = [];
  let code: string | undefined;
  for (const op of operations) {
    if (op.type === 'LAUNCH') {
      const allowed = op.launch.task_infos.filter((task) => {
        const user = task.command?.user || fw.info.user;
        const refusal = launchRefusal(p, user, permits);
        if (!refusal) return true;
        s.counters.authRefusals++;
        out.audit({
          conn: fw.peer?.id,
          principal: p,
          action: 'run_tasks',
          target: user,
          code: refusal.code,
          status: refusal.statusCode,
        });
        sendUpdate(out, fw, {
          task_id: task.task_id,
          state: TaskState.ERROR,
          reason: REASON_TASK_UNAUTHORIZED,
          message: refusal.message,
          source: 'SOURCE_MASTER',
          timestamp: s.nowSecs(),
          agent_id: task.agent_id,
        });
        bumpState(s, undefined, TaskState.ERROR);
        return false;
      });
      if (allowed.length > 0) kept.push({ ...op, launch: { ...op.launch, task_infos: allowed } });
      continue;
    }
    if (op.type === 'LAUNCH_GROUP') {
      // All or none: a task the ACLs refuse refuses its whole group.
      const tasks = op.launch_group.task_group.tasks;
      let refused: { message: string } | undefined;
      for (const task of tasks) {
        const user = task.command?.user || fw.info.user;
        const refusal = launchRefusal(p, user, permits);
        if (!refusal) continue;
        s.counters.authRefusals++;
        out.audit({
          conn: fw.peer?.id,
          principal: p,
          action: 'run_tasks',
          target: user,
          code: refusal.code,
          status: refusal.statusCode,
        });
        refused = { message: `task ${task.task_id}: ${refusal.message}` };
        break;
      }
      if (!refused) {
        kept.push(op);
        continue;
      }
      for (const task of tasks) {
        sendUpdate(out, fw, {
          task_id: task.task_id,
          state: TaskState.ERROR,
          reason: REASON_TASK_UNAUTHORIZED,
          message: `task group refused: ${refused.message}`,
          source: 'SOURCE_MASTER',
          timestamp: s.nowSecs(),
          agent_id: task.agent_id,
        });
        bumpState(s, undefined, TaskState.ERROR);
      }
      continue;
    }
    let refusal: AgoraError | undefined;
    if (op.type === 'RESERVE') {
      const roles = new Set(
        Resources.from(op.reserve.resources)
          .toList()
          .map((r) => r.role ?? '*'),
      );
      for (const role of roles) refusal ??= reservationRefusal(p, 'reserve', role, permits);
    } else if (op.type === 'UNRESERVE') {
      // Reservations do not record who made them: the object is the framework's principal (its own).
      refusal = reservationRefusal(p, 'unreserve', p, permits);
    }
    if (refusal) {
      s.counters.authRefusals++;
      out.audit({
        conn: fw.peer?.id,
        principal: p,
        action: op.type === 'RESERVE' ? 'reserve_resources' : 'unreserve_resources',
        code: refusal.code,
        status: refusal.statusCode,
      });
      code = refusal.code;
      errors.push(refusal.message);
      continue;
    }
    kept.push(op);
  }
  if (code) out.schedulerError(fw.peer?.id, code, errors.slice(0, 10).join('; '));
  return kept;
}

/**
 * A TEARDOWN: a framework may always tear itself down (`own`: the call came on its own subscribed
 * connection, or from its own principal); anyone else (an operator) needs `teardown_frameworks`
 * on the framework's principal. Returns the refusal, if any.
 */
export function teardownRefusalFor(
  s: Core,
  caller: { principal?: string; own: boolean },
  fw: FrameworkEntry,
): AgoraError | undefined {
  if (caller.own || (caller.principal !== undefined && caller.principal === fw.principal)) return undefined;
  return teardownRefusal(caller.principal, fw.principal, sec(s).permits);
}
