/** `GET /metrics/snapshot` (also `/master/metrics/snapshot`): Mesos's metric keys, plus each role's dominant share. */
import { Type } from 'typebox';
import type { AgoraPlugin } from '../../sdk/http/index.js';
import { metricsSnapshot } from '../state-json.js';
import { type MasterHttpOptions, ready } from './context.js';
import { roleViews } from './role-views.js';

export const MetricsResponse = Type.Record(Type.String(), Type.Number());

export const metricsRoutes: AgoraPlugin<MasterHttpOptions> = async (app, opts) => {
  const snapshot = async () => {
    const m = ready(opts);
    const out = metricsSnapshot(m);
    for (const v of roleViews(m)) out[`allocator/mesos/roles/${v.name}/shares/dominant`] = v.dominantShare;
    Object.assign(out, opts.events?.metrics() ?? {});
    return out;
  };
  for (const url of ['/metrics/snapshot', '/master/metrics/snapshot']) {
    app.get(url, { config: { action: 'view_metrics' }, schema: { response: { 200: MetricsResponse } } }, snapshot);
  }
};
