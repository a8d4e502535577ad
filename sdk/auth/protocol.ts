/**
 * The decisions the master makes on the WebSocket protocol, as pure functions over what it knows:
 * the principal the connection authenticated as (from `admitUpgrade`), the principal a message
 * claims (`FrameworkInfo.principal`), the principal an id is already bound to (from the registry),
 * and the ACLs (`permits`). Each returns the refusal to send (an ERROR event `{message, code}`, or
 * a closed connection), or undefined to go on. Nothing here changes state.
 */
import type { AgoraError } from '../errors.js';
import { IdBoundToOtherPrincipal, NotAuthenticated, NotAuthorized, PrincipalMismatch } from './errors.js';

export type Permits = (principal: string | undefined, action: string, object: string | undefined) => boolean;

export interface Caller {
  /** Whether this kind of connection must authenticate (--authenticate_frameworks / --authenticate_agents). */
  mustAuthenticate: boolean;
  /** The principal the connection proved at the upgrade; undefined when anonymous. */
  connection?: string;
  /** The principal the message claims (FrameworkInfo.principal); agents claim none. */
  claimed?: string;
}

/**
 * The principal a caller acts as: the authenticated one; without authentication, the one it
 * claims (as Mesos: unauthenticated principals are taken at their word, and bind nothing securely).
 */
export function effectivePrincipal(c: Caller): string | undefined {
  return c.connection ?? c.claimed;
}

function identityRefusal(c: Caller, what: string): AgoraError | undefined {
  if (c.mustAuthenticate && c.connection === undefined) {
    return new NotAuthenticated(`${what} needs credentials at the connection (Authorization header)`);
  }
  if (c.connection !== undefined && c.claimed !== undefined && c.claimed !== c.connection) {
    return new PrincipalMismatch(`${what} claims principal '${c.claimed}' but authenticated as '${c.connection}'`);
  }
  return undefined;
}

function bindingRefusal(c: Caller, bound: string | undefined, what: string): AgoraError | undefined {
  if (bound === undefined) return undefined;
  if (effectivePrincipal(c) !== bound) {
    // The message names neither principal: an id holder learns nothing about who owns it.
    return new IdBoundToOtherPrincipal(`${what} belongs to another principal`);
  }
  return undefined;
}

/**
 * SUBSCRIBE: authenticated as required, claiming no other principal, not an id bound to another
 * principal (`bound`: the principal of the existing framework with this id, if any), and allowed
 * `register_frameworks` for every role.
 */
export function subscribeRefusal(
  c: Caller,
  frameworkId: string | undefined,
  bound: string | undefined,
  roles: readonly string[],
  permits: Permits,
): AgoraError | undefined {
  const r = identityRefusal(c, 'SUBSCRIBE') ?? bindingRefusal(c, bound, `framework ${frameworkId ?? ''}`.trim());
  if (r) return r;
  const p = effectivePrincipal(c);
  for (const role of roles.length > 0 ? roles : ['*']) {
    if (!permits(p, 'register_frameworks', role)) {
      return new NotAuthorized(`principal ${p === undefined ? '(none)' : `'${p}'`} may not register in role '${role}'`);
    }
  }
  return undefined;
}

/** An agent's REGISTER/REREGISTER: authenticated as required, and an agent id bound to its principal. */
export function agentRegisterRefusal(
  c: Caller,
  agentId: string | undefined,
  bound: string | undefined,
): AgoraError | undefined {
  return identityRefusal(c, 'agent registration') ?? bindingRefusal(c, bound, `agent ${agentId ?? ''}`.trim());
}

/** LAUNCH: the task's user (`command.user`, else the framework's) under `run_tasks`. */
export function launchRefusal(
  principal: string | undefined,
  user: string | undefined,
  permits: Permits,
): AgoraError | undefined {
  return permits(principal, 'run_tasks', user)
    ? undefined
    : new NotAuthorized(
        `principal ${principal === undefined ? '(none)' : `'${principal}'`} may not run tasks as '${user ?? ''}'`,
      );
}

/** TEARDOWN by an operator: `teardown_frameworks` on the framework's principal. */
export function teardownRefusal(
  principal: string | undefined,
  frameworkPrincipal: string | undefined,
  permits: Permits,
): AgoraError | undefined {
  return permits(principal, 'teardown_frameworks', frameworkPrincipal)
    ? undefined
    : new NotAuthorized('not allowed to tear this framework down');
}

/** RESERVE into a role (`reserve_resources`), UNRESERVE of another principal's reservation (`unreserve_resources`). */
export function reservationRefusal(
  principal: string | undefined,
  op: 'reserve' | 'unreserve',
  object: string | undefined,
  permits: Permits,
): AgoraError | undefined {
  const action = op === 'reserve' ? 'reserve_resources' : 'unreserve_resources';
  return permits(principal, action, object)
    ? undefined
    : new NotAuthorized(`not allowed to ${op} (${object ?? 'any'})`);
}
