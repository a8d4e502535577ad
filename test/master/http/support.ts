/** A real Master (no registrar, no sockets) behind the master's HTTP plugins, for `inject`. */
import { pino } from 'pino';
import { allocate } from '../../../master/allocator/index.js';
import { buildMasterHttp, type SecretsHttpOptions } from '../../../master/http/index.js';
import { Master } from '../../../master/master.js';
import type { AgoraHttp, Authorizer } from '../../../sdk/http/index.js';
import type { MasterInfo } from '../../../sdk/protocol/types.js';

export const silent = pino({ level: 'silent' });

export interface Harness {
  master: Master;
  app: AgoraHttp;
  /** What the master's roles look like from outside: weights and quota, as JSON. */
  rolesSnapshot(): string;
}

export async function masterHttp(
  opts: {
    leading?: boolean;
    leader?: () => MasterInfo | undefined;
    built?: boolean;
    /** Called before the routes load (e.g. to add an onRoute hook). */
    beforeReady?: (app: AgoraHttp) => void;
    authorizer?: Authorizer;
    logger?: typeof silent;
    secrets?: SecretsHttpOptions;
  } = {},
): Promise<Harness> {
  const master = new Master({ port: 5050, allocate, logger: silent, allocationIntervalMs: 3_600_000 });
  if (opts.leading ?? true) await master.becomeLeader();
  const app = buildMasterHttp({
    logger: opts.logger ?? silent,
    authorizer: opts.authorizer,
    current: () => (opts.built === false ? undefined : master),
    leader: opts.leader ?? (() => (master.leading ? master.info : undefined)),
    secrets: opts.secrets,
  });
  opts.beforeReady?.(app);
  await app.ready();
  return {
    master,
    app,
    rolesSnapshot: () =>
      JSON.stringify(
        [...master.roles.values()].map((r) => ({
          name: r.name,
          weight: r.weight,
          guarantee: r.quota?.guarantee?.toList(),
          limit: r.quota?.limit?.toList(),
        })),
      ),
  };
}
