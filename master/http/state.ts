/** `GET /master/state` (also `/state`, `/master/state.json`): Mesos's state shape (state-json.ts). */
import { Type } from 'typebox';
import type { AgoraPlugin } from '../../sdk/http/index.js';
import { masterState } from '../state-json.js';
import { type MasterHttpOptions, ready } from './context.js';

const List = Type.Array(Type.Unknown());
/** The top level; entries of the lists are as state-json.ts builds them. */
export const MasterStateResponse = Type.Object({
  version: Type.String(),
  id: Type.String(),
  pid: Type.String(),
  hostname: Type.String(),
  leader: Type.Optional(Type.String()),
  leader_info: Type.Optional(Type.Unknown()),
  /** When this master last became the leader; absent while it never has. */
  elected_time: Type.Optional(Type.Number()),
  start_time: Type.Number(),
  activated_slaves: Type.Integer(),
  deactivated_slaves: Type.Integer(),
  unreachable_slaves: Type.Integer(),
  slaves: List,
  unreachable_agents: List,
  gone_agents: Type.Array(Type.String()),
  frameworks: List,
  completed_frameworks: List,
});

export const stateRoutes: AgoraPlugin<MasterHttpOptions> = async (app, opts) => {
  for (const url of ['/master/state', '/state', '/master/state.json']) {
    app.get(url, { config: { action: 'view_state' }, schema: { response: { 200: MasterStateResponse } } }, async () =>
      masterState(ready(opts)),
    );
  }
};
