/**
 * The master's HTTP surface: one plugin per concern, on the common server of sdk/http. Mesos's
 * operator endpoints; see docs/api.md.
 */

import type pino from 'pino';
import {
  type AgoraHttp,
  type Authorizer,
  createHttpServer,
  DEFAULT_BODY_LIMIT,
  jsonpSupport,
} from '../../sdk/http/index.js';
import { Internal } from '../errors.js';
import { classicRoutes } from './classic.js';
import type { MasterHttpOptions } from './context.js';
import { healthRoutes } from './health.js';
import { metricsRoutes } from './metrics.js';
import { operatorRoutes } from './operator.js';
import { redirectRoutes } from './redirect.js';
import { rolesRoutes } from './roles.js';
import { type SecretsHttpOptions, secretsRoutes } from './secrets.js';
import { stateRoutes } from './state.js';
import { v1SchedulerRoutes } from './v1-scheduler.js';
import type { SchedulerBackpressure } from './v1-scheduler-stream.js';
import { webuiRoutes } from './webui.js';

export type { MasterHttpOptions } from './context.js';
export { OperatorEventStream, type OperatorStreamOptions } from './operator-v1-stream.js';
export { LOCAL_PATHS } from './redirect.js';
export { roleViews } from './role-views.js';
export type { SecretsHttpOptions } from './secrets.js';
export { SCHEDULER_BACKPRESSURE, type SchedulerBackpressure } from './v1-scheduler-stream.js';

export interface MasterHttpServerOptions extends MasterHttpOptions {
  logger: pino.Logger;
  authorizer?: Authorizer;
  bodyLimit?: number;
  /** The secrets API; absent: disabled (503). */
  secrets?: SecretsHttpOptions;
  /** The flags as given (shown by `/master/state`, `/flags`, GET_FLAGS; secrets redacted there). */
  flags?: Record<string, string>;
  /** The v1 operator event stream (SUBSCRIBE). */
  events?: MasterHttpOptions['events'];
  /** Mesos's web UI files (`--webui_dir`), served at `/`, `/app/*`, `/assets/*`. */
  webuiDir?: string;
  /** Backpressure on the v1 scheduler API's event streams (as on scheduler WebSockets). */
  schedulerBackpressure?: Partial<SchedulerBackpressure>;
}

/** A master's HTTP server with every route declared (not listening yet; `inject` works at once). */
export function buildMasterHttp(opts: MasterHttpServerOptions): AgoraHttp {
  const app = createHttpServer({
    logger: opts.logger,
    authorizer: opts.authorizer,
    bodyLimit: opts.bodyLimit ?? DEFAULT_BODY_LIMIT,
    internalError: Internal,
  });
  const o: MasterHttpOptions = {
    current: opts.current,
    leader: opts.leader,
    flags: opts.flags,
    events: opts.events,
    loggingLevel: () => opts.logger.level,
  };
  void app.register(jsonpSupport);
  void app.register(redirectRoutes, o);
  void app.register(healthRoutes, o);
  void app.register(stateRoutes, o);
  void app.register(metricsRoutes, o);
  void app.register(rolesRoutes, o);
  void app.register(operatorRoutes, o);
  void app.register(classicRoutes, o);
  void app.register(webuiRoutes, { webuiDir: opts.webuiDir });
  void app.register(secretsRoutes, { ...o, secrets: opts.secrets });
  void app.register(v1SchedulerRoutes, {
    ...o,
    logger: opts.logger.child({ component: 'v1-scheduler' }),
    backpressure: opts.schedulerBackpressure,
  });
  return app;
}
