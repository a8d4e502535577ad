/** The agent's HTTP surface: one plugin per concern, on the common server of sdk/http; see docs/api.md. */
import type pino from 'pino';
import { buildInfo } from '../../sdk/http/build-info.js';
import { type AgoraHttp, type Authorizer, createHttpServer, jsonpSupport } from '../../sdk/http/index.js';
import { AGENT_VERSION } from '../agent.js';
import type { AgentView } from './context.js';
import { filesRoutes } from './files.js';
import { healthRoutes } from './health.js';
import { metricsRoutes } from './metrics.js';
import { monitorRoutes } from './monitor.js';
import { stateRoutes } from './state.js';

export type { AgentHttpOptions, AgentView } from './context.js';
export { MAX_READ_LENGTH } from './files.js';
export { resolveSandboxPath, type SandboxPath } from './sandbox.js';

/** The agent takes no large bodies (it has no write endpoints). */
export const AGENT_BODY_LIMIT = 64 * 1024;

export interface AgentHttpServerOptions {
  logger: pino.Logger;
  authorizer?: Authorizer;
  /** The host name the agent registered with (default: this host's name). */
  hostname?: string;
  /** The flags as given (shown by `/state` and `/flags`, secrets redacted). */
  flags?: Record<string, string>;
}

/** An agent's HTTP server with every route declared (not listening yet; `inject` works at once). */
export function buildAgentHttp(agent: AgentView, opts: AgentHttpServerOptions): AgoraHttp {
  const app = createHttpServer({ logger: opts.logger, authorizer: opts.authorizer, bodyLimit: AGENT_BODY_LIMIT });
  const o = { agent, hostname: opts.hostname, flags: opts.flags, build: buildInfo(AGENT_VERSION) };
  void app.register(jsonpSupport);
  void app.register(healthRoutes, o);
  void app.register(stateRoutes, o);
  void app.register(filesRoutes, o);
  void app.register(monitorRoutes, o);
  void app.register(metricsRoutes, o);
  return app;
}
