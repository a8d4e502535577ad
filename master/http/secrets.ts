/**
 * The secrets API (docs/secrets.md): `PUT /secrets/<path>` creates or updates (body
 * `{"value": "..."}`), `GET /secrets` lists names and versions, `GET /secrets/<path>` shows one's
 * metadata, `DELETE /secrets/<path>` removes it. Values are write-only: no route returns one.
 * Authorized per name with the ACLs create_secrets, update_secrets, view_secrets, delete_secrets.
 */
import { Type } from 'typebox';
import { type AgoraPlugin, httpErrors, viewer } from '../../sdk/http/index.js';
import { SecretsDisabled } from '../../sdk/secrets/errors.js';
import { MAX_SECRET_VALUE_BYTES } from '../../sdk/secrets/names.js';
import { NoLeader } from '../errors.js';
import type { SecretStore } from '../secrets/store.js';
import type { MasterHttpOptions } from './context.js';

export interface SecretsHttpOptions {
  /** False without `--secrets_key_file`: every route answers 503 AGORA_SECRETS_DISABLED. */
  enabled: boolean;
  /** The store, once the master's Store is open. */
  store: () => SecretStore | undefined;
}

const Meta = Type.Object({
  name: Type.String(),
  version: Type.Integer(),
  created_at: Type.Number(),
  updated_at: Type.Number(),
});
const Params = Type.Object({ '*': Type.String({ maxLength: 1024 }) });
const PutBody = Type.Object(
  { value: Type.String({ maxLength: MAX_SECRET_VALUE_BYTES }) },
  { additionalProperties: false },
);

export const secretsRoutes: AgoraPlugin<MasterHttpOptions & { secrets?: SecretsHttpOptions }> = async (app, opts) => {
  const store = (): SecretStore => {
    if (!opts.secrets?.enabled) {
      throw new SecretsDisabled(
        'secrets are disabled on this master: start it with --secrets_key_file FILE (32 random bytes, mode 0600)',
      );
    }
    const s = opts.secrets.store();
    if (!s) throw new NoLeader('the master is starting; retry in a few seconds');
    return s;
  };
  const nameOf = (p: { '*': string }) => `/${p['*']}`;

  app.get(
    '/secrets',
    { config: { action: 'list_secrets' }, schema: { response: { 200: Type.Object({ secrets: Type.Array(Meta) }) } } },
    async (req) => {
      const may = viewer(app, req);
      return { secrets: (await store().list()).filter((m) => may('view_secrets', m.name)) };
    },
  );
  app.get(
    '/secrets/*',
    { config: { action: 'view_secrets' }, schema: { params: Params, response: { 200: Meta } } },
    async (req) => store().get(nameOf(req.params)),
  );
  app.put(
    '/secrets/*',
    {
      config: { action: 'put_secrets' },
      schema: { params: Params, body: PutBody, response: { 200: Meta, 201: Meta } },
    },
    async (req, reply) => {
      const s = store();
      const name = nameOf(req.params);
      const exists = await s.get(name).then(
        () => true,
        () => false,
      );
      const action = exists ? 'update_secrets' : 'create_secrets';
      if (!viewer(app, req)(action, name)) throw new httpErrors.Forbidden(`not allowed to '${action}' on '${name}'`);
      const out = await s.put(name, req.body.value);
      return reply.code(out.created ? 201 : 200).send(out.meta);
    },
  );
  app.delete('/secrets/*', { config: { action: 'delete_secrets' }, schema: { params: Params } }, async (req, reply) => {
    await store().delete(nameOf(req.params));
    return reply.code(204).send();
  });
};
