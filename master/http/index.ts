/**
 * The master's HTTP surface: one plugin per concern, on the common server of sdk/http. Mesos's
 * operator endpoints; see docs/api.md.
 */

import type pino from 'pino';
import { type AgoraHttp, type Authorizer, createHttpServer, DEFAULT_BODY_LIMIT } from '../../sdk/http/index.js';
import { Internal } from '../errors.js';
import type { MasterHttpOptions } from './context.js';
import { healthRoutes } from './health.js';
import { metricsRoutes } from './metrics.js';
import { operatorRoutes } from './operator.js';
import { redirectRoutes } from './redirect.js';
import { rolesRoutes } from './roles.js';
import { type SecretsHttpOptions, secretsRoutes } from './secrets.js';
import { stateRoutes } from './state.js';
import { v1SchedulerRoutes } from './v1-scheduler.js';

export type { MasterHttpOptions } from './context.js';
export { LOCAL_PATHS } from './redirect.js';
export { roleViews } from './role-views.js';
export type { SecretsHttpOptions } from './secrets.js';

export interface MasterHttpServerOptions extends MasterHttpOptions {
  logger: pino.Logger;
  authorizer?: Authorizer;
  bodyLimit?: number;
  /** The secrets API; absent: disabled (503). */
  secrets?: SecretsHttpOptions;
}

/** A master's HTTP server with every route declared (not listening yet; `inject` works at once). */
export function buildMasterHttp(opts: MasterHttpServerOptions): AgoraHttp {
  const app = createHttpServer({
    logger: opts.logger,
    authorizer: opts.authorizer,
    bodyLimit: opts.bodyLimit ?? DEFAULT_BODY_LIMIT,
    internalError: Internal,
  });
  const o: MasterHttpOptions = { current: opts.current, leader: opts.leader };
  void app.register(redirectRoutes, o);
  void app.register(healthRoutes, o);
  void app.register(stateRoutes, o);
  void app.register(metricsRoutes, o);
  void app.register(rolesRoutes, o);
  void app.register(operatorRoutes, o);
  void app.register(secretsRoutes, { ...o, secrets: opts.secrets });
  void app.register(v1SchedulerRoutes, { ...o, logger: opts.logger.child({ component: 'v1-scheduler' }) });
  return app;
}
