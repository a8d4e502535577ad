/** `GET /health`. */
import { Type } from 'typebox';
import type { AgoraPlugin } from '../../sdk/http/index.js';
import type { AgentHttpOptions } from './context.js';

const Health = Type.Object({ healthy: Type.Boolean(), registered: Type.Boolean() });

export const healthRoutes: AgoraPlugin<AgentHttpOptions> = async (app, { agent }) => {
  app.get('/health', { config: { action: 'view_health' }, schema: { response: { 200: Health } } }, async () => ({
    healthy: true,
    registered: agent.connected,
  }));
};
