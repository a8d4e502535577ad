/**
 * Leader handling: a master that is not the leader answers `/health` and `/master/redirect`
 * itself and sends every other request to the leader (307), or answers 503 while none is known.
 */
import type { AgoraPlugin } from '../../sdk/http/index.js';
import { NoLeader } from '../errors.js';
import type { MasterHttpOptions } from './context.js';

/** Paths any master answers itself, leading or not. */
export const LOCAL_PATHS: ReadonlySet<string> = new Set(['/health', '/master/redirect']);

const plugin: AgoraPlugin<MasterHttpOptions> = async (app, opts) => {
  const leaderUrl = (path: string): string | undefined => {
    const l = opts.leader();
    return l ? `http://${l.address.ip}:${l.address.port}${path}` : undefined;
  };
  app.addHook('onRequest', async (req, reply) => {
    const master = opts.current();
    if (master?.leading || LOCAL_PATHS.has(req.url.split('?')[0])) return;
    const to = leaderUrl(req.url);
    if (to && opts.leader()?.id !== master?.info.id) return reply.redirect(to, 307);
    throw new NoLeader('no leading master is elected yet; retry in a few seconds (see /master/redirect)');
  });
  app.get('/master/redirect', { config: { action: 'view_leader' } }, async (_req, reply) => {
    const to = leaderUrl('');
    if (!to) throw new NoLeader('no leading master is elected yet');
    return reply.redirect(to, 307);
  });
};
// Not encapsulated: the redirect hook applies to every route of the server it is registered on.
(plugin as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;
export const redirectRoutes = plugin;
