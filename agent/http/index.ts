/** The agent's HTTP surface: one plugin per concern, on the common server of sdk/http; see docs/api.md. */
import type pino from 'pino';
import { type AgoraHttp, type Authorizer, createHttpServer } from '../../sdk/http/index.js';
import type { AgentView } from './context.js';
import { filesRoutes } from './files.js';
import { healthRoutes } from './health.js';
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
}

/** An agent's HTTP server with every route declared (not listening yet; `inject` works at once). */
export function buildAgentHttp(agent: AgentView, opts: AgentHttpServerOptions): AgoraHttp {
  const app = createHttpServer({ logger: opts.logger, authorizer: opts.authorizer, bodyLimit: AGENT_BODY_LIMIT });
  void app.register(healthRoutes, { agent });
  void app.register(stateRoutes, { agent });
  void app.register(filesRoutes, { agent });
  void app.register(monitorRoutes, { agent });
  return app;
}
