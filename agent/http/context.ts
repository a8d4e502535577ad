/** What the agent's HTTP plugins read of the agent: its public state, nothing else. */
import type { Agent } from '../agent.js';

export type AgentView = Pick<
  Agent,
  | 'agentId'
  | 'tasks'
  | 'workDir'
  | 'connected'
  | 'masterInfo'
  | 'resources'
  | 'attributes'
  | 'containerizers'
  | 'startedAt'
> & { updates: Pick<Agent['updates'], 'pendingCount'> };

export type AgentHttpOptions = { agent: AgentView };
