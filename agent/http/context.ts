/** What the agent's HTTP plugins read of the agent: its public state, nothing else. */
import type { BuildInfo } from '../../sdk/http/build-info.js';
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

export type AgentHttpOptions = {
  agent: AgentView;
  /** The host name the agent registered with (default: this host's name). */
  hostname?: string;
  /** The flags as given (shown by `/state` and `/flags`, secrets redacted). */
  flags?: Record<string, string>;
  build?: BuildInfo;
};
