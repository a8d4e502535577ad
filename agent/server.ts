/**
 * The agent's HTTP server: `/state` (Mesos's agent state shape), `/files/browse` and
 * `/files/read` over task sandboxes, `/monitor/statistics`, `/health`; the routes are in agent/http.
 */
import type { FastifyInstance } from 'fastify';
import { type Logger, pino } from 'pino';
import { checkBind } from '../sdk/auth/index.js';
import type { Authorizer } from '../sdk/http/index.js';
import { type ServerTls, secureServer } from '../sdk/tls/index.js';
import type { Agent } from './agent.js';
import { buildAgentHttp } from './http/index.js';

export { MAX_READ_LENGTH, resolveSandboxPath } from './http/index.js';

export interface AgentHttpStartOptions {
  logger?: Logger;
  authorizer?: Authorizer;
  /**
   * The loopback rule (docs/security.md): when given, listening beyond loopback with `missing`
   * authentication flags throws AGORA_AUTH_INSECURE_BIND unless `insecure` (then a WARN line).
   */
  bindCheck?: { missing: string[]; insecure: boolean };
  /** Serve TLS (sdk/tls). */
  tls?: ServerTls;
  /** The host name the agent registered with, and its flags as given (shown by `/state`, `/flags`). */
  hostname?: string;
  flags?: Record<string, string>;
}

export async function startAgentHttp(
  agent: Agent,
  port: number,
  host = '0.0.0.0',
  opts: AgentHttpStartOptions = {},
): Promise<FastifyInstance> {
  const logger = opts.logger ?? pino({ level: 'warn' });
  if (opts.bindCheck) {
    const warn = checkBind({
      component: 'agent',
      host,
      authenticated: opts.bindCheck.missing.length === 0,
      insecure: opts.bindCheck.insecure,
      missing: opts.bindCheck.missing,
    });
    if (warn) logger.warn({ insecure: true, host }, warn);
  }
  const http = buildAgentHttp(agent, {
    logger,
    authorizer: opts.authorizer,
    hostname: opts.hostname,
    flags: opts.flags,
  });
  if (opts.tls) secureServer(http.server, opts.tls, logger);
  await http.listen({ port, host });
  return http;
}
