/** `GET /health`: answered by any master, leading or not, without touching its state. */
import { Type } from 'typebox';
import type { AgoraPlugin } from '../../sdk/http/index.js';
import type { MasterHttpOptions } from './context.js';

const Health = Type.Object({ healthy: Type.Boolean(), leading: Type.Boolean() });

export const healthRoutes: AgoraPlugin<MasterHttpOptions> = async (app, opts) => {
  app.get('/health', { config: { action: 'view_health' }, schema: { response: { 200: Health } } }, async () => ({
    healthy: true,
    leading: opts.current()?.leading ?? false,
  }));
};
