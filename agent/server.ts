/**
 * The agent's HTTP server: `/state` (Mesos's agent state shape), `/files/browse` and
 * `/files/read` over task sandboxes, `/monitor/statistics`, `/health`; the routes are in agent/http.
 */
import type { FastifyInstance } from 'fastify';
import { type Logger, pino } from 'pino';
import type { Authorizer } from '../sdk/http/index.js';
import { type ServerTls, secureServer } from '../sdk/tls/index.js';
import type { Agent } from './agent.js';
import { buildAgentHttp } from './http/index.js';

export { MAX_READ_LENGTH, resolveSandboxPath } from './http/index.js';

export async function startAgentHttp(
  agent: Agent,
  port: number,
  host = '0.0.0.0',
  opts: { logger?: Logger; authorizer?: Authorizer; tls?: ServerTls } = {},
): Promise<FastifyInstance> {
  const http = buildAgentHttp(agent, {
    logger: opts.logger ?? pino({ level: 'warn' }),
    authorizer: opts.authorizer,
  });
  if (opts.tls) secureServer(http.server, opts.tls, opts.logger);
  await http.listen({ port, host });
  return http;
}
