/** `POST /api/v1`: Mesos's v1 operator API, for the calls Agora implements (MARK_AGENT_GONE). */
import { type Static, Type } from 'typebox';
import type { AgoraPlugin } from '../../sdk/http/index.js';
import { InvalidOperatorCall, UnknownAgent } from '../errors.js';
import { type MasterHttpOptions, ready } from './context.js';

export const SUPPORTED_CALLS = ['MARK_AGENT_GONE'] as const;

export const OperatorCall = Type.Object(
  {
    type: Type.String({ maxLength: 64 }),
    mark_agent_gone: Type.Optional(
      Type.Object({ agent_id: Type.Object({ value: Type.String({ minLength: 1, maxLength: 256 }) }) }),
    ),
  },
  { additionalProperties: false },
);
export type OperatorCall = Static<typeof OperatorCall>;

/** The agent id a MARK_AGENT_GONE call names; refuses any other call. */
export function markGoneTarget(call: OperatorCall): string {
  if (call.type !== 'MARK_AGENT_GONE') {
    throw new InvalidOperatorCall(
      `unsupported operator call ${JSON.stringify(call.type)}; supported: ${SUPPORTED_CALLS.join(', ')}`,
    );
  }
  const id = call.mark_agent_gone?.agent_id.value;
  if (id === undefined) throw new InvalidOperatorCall('MARK_AGENT_GONE needs mark_agent_gone.agent_id.value');
  return id;
}

export const operatorRoutes: AgoraPlugin<MasterHttpOptions> = async (app, opts) => {
  app.post(
    '/api/v1',
    {
      config: { action: 'mark_agent_gone' },
      schema: { body: OperatorCall, response: { 200: Type.Object({}) } },
    },
    async (req) => {
      const id = markGoneTarget(req.body);
      const outcome = await ready(opts).markGone(id);
      if (outcome === 'unknown') throw new UnknownAgent(`unknown agent ${id}`);
      return {};
    },
  );
};
