/**
 * Mesos's smaller classic master endpoints, as its web UI and scrapers read them: `/flags`
 * (`/master/flags`), `/version`, `/master/frameworks` (`/frameworks`), `/master/slaves`
 * (`/slaves`), `/master/maintenance/schedule` (Agora has no maintenance: an empty schedule), and
 * `POST /master/teardown` (form `frameworkId=...`, under the `teardown_frameworks` ACL).
 */
import { Type } from 'typebox';
import { type AgoraPlugin, viewer } from '../../sdk/http/index.js';
import { InvalidOperatorCall } from '../errors.js';
import { masterState } from '../state-json.js';
import { BUILD_INFO } from './build-info.js';
import { type MasterHttpOptions, ready } from './context.js';
import { publicFlags } from './flags.js';
import { teardownFor } from './operator-admin.js';
import { visibleFrameworks } from './state.js';

const List = Type.Array(Type.Unknown());

export const classicRoutes: AgoraPlugin<MasterHttpOptions> = async (app, opts) => {
  for (const url of ['/flags', '/master/flags']) {
    app.get(
      url,
      {
        config: { action: 'view_flags' },
        schema: { response: { 200: Type.Object({ flags: Type.Record(Type.String(), Type.String()) }) } },
      },
      async () => ({ flags: publicFlags(opts.flags) }),
    );
  }
  for (const url of ['/version', '/master/version']) {
    app.get(url, { config: { action: 'view_version' } }, async () => ({ ...BUILD_INFO }));
  }
  for (const url of ['/master/frameworks', '/frameworks']) {
    app.get(
      url,
      {
        config: { action: 'view_state' },
        schema: {
          response: {
            200: Type.Object({ frameworks: List, completed_frameworks: List, unregistered_frameworks: List }),
          },
        },
      },
      async (req) => {
        const master = ready(opts);
        const s = masterState(master);
        const visible = visibleFrameworks(master, viewer(app, req));
        return {
          frameworks: visible(s.frameworks),
          completed_frameworks: visible(s.completed_frameworks),
          unregistered_frameworks: [],
        };
      },
    );
  }
  for (const url of ['/master/slaves', '/slaves']) {
    app.get(
      url,
      {
        config: { action: 'view_state' },
        schema: { response: { 200: Type.Object({ slaves: List, recovered_slaves: List }) } },
      },
      async () => {
        const s = masterState(ready(opts));
        return { slaves: s.slaves, recovered_slaves: [] };
      },
    );
  }
  app.get('/master/maintenance/schedule', { config: { action: 'view_state' } }, async () => ({ windows: [] }));
  app.get('/master/maintenance/status', { config: { action: 'view_state' } }, async () => ({
    draining_machines: [],
    down_machines: [],
  }));

  // Mesos's classic teardown takes a form; JSON works too. Only this plugin parses forms.
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: 4096 },
    (_req, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))),
  );
  app.post(
    '/master/teardown',
    {
      // Authenticated as the v1 operator API; authorized on the framework's principal in the handler.
      config: { action: 'operator_api' },
      schema: {
        body: Type.Object(
          { frameworkId: Type.String({ minLength: 1, maxLength: 256 }) },
          { additionalProperties: false },
        ),
      },
    },
    async (req, reply) => {
      const { frameworkId } = req.body as { frameworkId?: string };
      if (!frameworkId) throw new InvalidOperatorCall('POST /master/teardown needs frameworkId');
      await teardownFor(app, ready(opts), req.access?.principal, frameworkId);
      return reply.code(200).send();
    },
  );
};
