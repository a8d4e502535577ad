/**
 * Reservations an operator makes or removes (Mesos's v1 RESERVE_RESOURCES / UNRESERVE_RESOURCES):
 * unreserved resources of an agent moved to a role, or reserved ones moved back to `*`. The
 * agent's outstanding offers are rescinded first (as Mesos does), so that only resources held by
 * tasks count as taken. Refused, changing nothing, when the agent is unknown or not active, or
 * when the resources are not there to move.
 */
import { DEFAULT_ROLE, type Resources } from '../../sdk/resources/resources.js';
import type { AgentEntry } from '../registry.js';
import { agentRecord } from './agents.js';
import type { Core } from './core.js';
import type { Effects } from './effects.js';
import { rescindAgentOffers } from './offers.js';

/** Why this reservation change cannot be made, or undefined. Pure. */
export function reservationProblem(
  agent: AgentEntry | undefined,
  reserve: Resources,
  unreserve: Resources,
): string | undefined {
  if (!agent || agent.state === 'gone') return 'unknown agent';
  if (agent.state !== 'active') return `agent ${agent.id} is ${agent.state}`;
  if (reserve.isEmpty() && unreserve.isEmpty()) return 'no resources given';
  if (reserve.roles().includes(DEFAULT_ROLE)) return "resources to reserve need a role other than '*'";
  if (unreserve.roles().includes(DEFAULT_ROLE))
    return "resources to unreserve must be reserved (a role other than '*')";
  // Offers are rescinded first, so only what tasks hold is taken.
  const free = agent.total.minus(agent.used);
  if (!free.unreserved().contains(reserve.withRole(DEFAULT_ROLE)))
    return `agent ${agent.id} does not have ${reserve.withRole(DEFAULT_ROLE).toString()} unreserved and unused`;
  if (!free.contains(unreserve)) return `agent ${agent.id} does not have ${unreserve.toString()} reserved and unused`;
  return undefined;
}

export function applyOperatorReservation(
  s: Core,
  out: Effects,
  agentId: string,
  reserve: Resources,
  unreserve: Resources,
): void {
  const agent = s.agents.get(agentId);
  const why = reservationProblem(agent, reserve, unreserve);
  if (why || !agent) {
    out.log('info', 'operator reservation refused', { agentId, why });
    return;
  }
  rescindAgentOffers(s, out, agent.id);
  if (!reserve.isEmpty()) s.setAgentTotal(agent, agent.total.minus(reserve.withRole(DEFAULT_ROLE)).plus(reserve));
  if (!unreserve.isEmpty()) {
    s.setAgentTotal(agent, agent.total.minus(unreserve).plus(unreserve.withRole(DEFAULT_ROLE)));
  }
  out.persistAgent(agentRecord(agent));
  out.log('info', 'operator changed reservations', {
    agentId,
    reserved: reserve.toString(),
    unreserved: unreserve.toString(),
  });
  s.requestAllocation(out);
}
