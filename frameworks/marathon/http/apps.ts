/** `/v2/apps`: list, create, update (PUT partial by default, PATCH), delete, restart, tasks, versions. */

import type { AgoraPlugin } from 'agora/sdk';
import { Type } from 'typebox';
import { allApps, putApp, removeApp } from '../core/groups.js';
import { isActive } from '../core/instances.js';
import type { MarathonService } from '../core/service.js';
import { type AppDef, absoluteId, type Json, normaliseApp, SpecError } from '../core/spec.js';
import { AlreadyExists, UnknownId } from '../errors.js';
import { changeAnswer, EmbedValue, flag, type MarathonHttpContext, READ, WRITE } from './context.js';
import { appJson, parseEmbed, taskJson } from './views.js';

const ListQuery = Type.Object({
  cmd: Type.Optional(Type.String({ maxLength: 1000 })),
  id: Type.Optional(Type.String({ maxLength: 1000 })),
  label: Type.Optional(Type.String({ maxLength: 1000 })),
  embed: EmbedValue,
});
const ChangeQuery = Type.Object({
  force: Type.Optional(Type.String({ maxLength: 8 })),
  partialUpdate: Type.Optional(Type.String({ maxLength: 8 })),
  embed: EmbedValue,
  host: Type.Optional(Type.String({ maxLength: 255 })),
  scale: Type.Optional(Type.String({ maxLength: 8 })),
  wipe: Type.Optional(Type.String({ maxLength: 8 })),
});
const Body = Type.Unknown();

/** A label selector as Marathon takes it: `key`, `key==value`, `key!=value`, `key in (a, b)`, `key notin (a)`; comma-joined. */
export function labelMatches(selector: string, labels: Record<string, string>): boolean {
  return selector
    .split(/,(?![^(]*\))/)
    .map((s) => s.trim())
    .filter(Boolean)
    .every((term) => {
      let m = /^(.+?)\s*(==|!=)\s*(.*)$/.exec(term);
      if (m) return m[2] === '==' ? labels[m[1]] === m[3] : labels[m[1]] !== m[3];
      m = /^(.+?)\s+(in|notin)\s*\((.*)\)$/.exec(term);
      if (m) {
        const set = m[3].split(',').map((s) => s.trim());
        const has = m[1] in labels && set.includes(labels[m[1]]);
        return m[2] === 'in' ? has : !has;
      }
      return term in labels;
    });
}

/** The existing app merged with a partial update (the fields given replace those of the app). */
function merged(existing: AppDef, patch: Json): Json {
  const out: Json = { ...existing, ...patch, id: existing.id };
  delete out.version;
  delete out.versionInfo;
  if (patch.cmd !== undefined && patch.args === undefined) delete out.args;
  if (patch.args !== undefined && patch.cmd === undefined) delete out.cmd;
  return out;
}

export function appRoutes(ctx: MarathonHttpContext): AgoraPlugin {
  return async (app) => {
    app.get('/v2/apps', { config: { action: READ }, schema: { querystring: ListQuery } }, async (req) => {
      const s = ctx.service();
      const q = req.query;
      const embed = parseEmbed(q.embed, 'apps', false);
      let apps = allApps(s.root);
      if (q.cmd) apps = apps.filter((a) => (a.cmd ?? '').includes(q.cmd as string));
      if (q.id) apps = apps.filter((a) => a.id.includes(q.id as string));
      if (q.label) apps = apps.filter((a) => labelMatches(q.label as string, a.labels));
      return { apps: apps.map((a) => appJson(a, s.scheduler, embed)) };
    });

    app.post(
      '/v2/apps',
      { config: { action: WRITE }, schema: { querystring: ChangeQuery, body: Body } },
      async (req, reply) => {
        const s = ctx.service();
        const def = normaliseApp(req.body, '/', s.nowIso(), s.role);
        if (s.findApp(def.id)) throw new AlreadyExists(`An app with id [${def.id}] already exists.`);
        if (s.findGroup(def.id)) throw new AlreadyExists(`A group with id [${def.id}] already exists.`);
        s.events.emit('api_post_event', { clientIp: req.ip, uri: `/v2/apps${def.id}`, appDefinition: def });
        const d = await s.deploy(putApp(s.root, def, s.nowIso()), { force: flag(req.query.force) });
        const created = s.requireApp(def.id);
        return reply
          .status(201)
          .header('location', `/v2/apps${def.id}`)
          .header('marathon-deployment-id', d.id)
          .send(appJson(created, s.scheduler, { ...parseEmbed(undefined, 'app', false), tasks: true }));
      },
    );

    const batch = async (
      req: { body: unknown; query: { force?: string; partialUpdate?: string }; ip: string },
      partialDefault: boolean,
    ) => {
      const s = ctx.service();
      if (!Array.isArray(req.body)) throw new SpecError([{ path: '/', errors: ['error.expected.jsarray'] }]);
      const partial = req.query.partialUpdate === undefined ? partialDefault : flag(req.query.partialUpdate);
      let target = s.root;
      for (const raw of req.body as Json[]) {
        const id = absoluteId(String(raw?.id ?? ''), '/');
        const existing = s.findApp(id);
        const def = normaliseApp(existing && partial ? merged(existing, raw) : raw, '/', s.nowIso(), s.role);
        target = putApp(target, def, s.nowIso());
      }
      return changeAnswer(await s.deploy(target, { force: flag(req.query.force) }));
    };
    app.put('/v2/apps', { config: { action: WRITE }, schema: { querystring: ChangeQuery, body: Body } }, (req) =>
      batch(req, true),
    );
    app.patch('/v2/apps', { config: { action: WRITE }, schema: { querystring: ChangeQuery, body: Body } }, (req) =>
      batch(req, true),
    );

    // /v2/apps/{id}[/restart|/tasks[/{taskId}]|/versions[/{version}]]: app ids hold slashes.
    const parse = (rest: string) => {
      const path = `/${rest}`.replace(/\/+$/, '');
      let m = /^(.*)\/tasks\/([^/]+)$/.exec(path);
      if (m) return { id: absoluteId(m[1]), sub: 'task', arg: decodeURIComponent(m[2]) };
      m = /^(.*)\/versions\/([^/]+)$/.exec(path);
      if (m) return { id: absoluteId(m[1]), sub: 'version', arg: decodeURIComponent(m[2]) };
      m = /^(.*)\/(tasks|versions|restart)$/.exec(path);
      if (m) return { id: absoluteId(m[1]), sub: m[2] };
      return { id: absoluteId(path), sub: '' };
    };
    const Params = Type.Object({ '*': Type.String({ maxLength: 2000 }) });

    app.get(
      '/v2/apps/*',
      { config: { action: READ }, schema: { params: Params, querystring: ChangeQuery } },
      async (req) => {
        const s = ctx.service();
        const { id, sub, arg } = parse(req.params['*']);
        // An app id may end in "tasks" or "versions": prefer the app when one has that id.
        if (sub !== '' && s.findApp(absoluteId(req.params['*'])) && !s.findApp(id))
          return single(s, absoluteId(req.params['*']), req.query.embed);
        if (sub === '') return single(s, id, req.query.embed);
        const def = s.requireApp(id);
        if (sub === 'tasks')
          return {
            tasks: s.scheduler
              .instancesOf(id)
              .filter(isActive)
              .map((i) => taskJson(i, def)),
          };
        await s.settled();
        if (sub === 'versions') return { versions: (await s.repo.appVersions(id)).sort().reverse() };
        if (sub === 'version') {
          const v = await s.repo.loadAppVersion(id, arg as string);
          if (!v) throw new UnknownId(`App '${id}' does not exist in version ${arg}`);
          return v;
        }
        throw new UnknownId(`no route for GET /v2/apps/${req.params['*']}`);
      },
    );

    const update = async (
      req: { params: { '*': string }; body: unknown; query: { force?: string; partialUpdate?: string }; ip: string },
      partialDefault: boolean,
      reply: { status(n: number): unknown },
    ) => {
      const s = ctx.service();
      const { id } = parse(req.params['*']);
      const body = (req.body ?? {}) as Json;
      if (typeof body !== 'object' || Array.isArray(body))
        throw new SpecError([{ path: '/', errors: ['error.expected.jsobject'] }]);
      const existing = s.findApp(id);
      const force = flag(req.query.force);
      if (existing && typeof body.version === 'string' && Object.keys(body).length <= 2) {
        await s.settled();
        // Roll back to a stored version.
        const v = await s.repo.loadAppVersion(id, body.version);
        if (!v) throw new UnknownId(`App '${id}' does not exist in version ${body.version}`);
        const { version: _v, versionInfo: _vi, ...rest } = v;
        const def = normaliseApp(rest, '/', s.nowIso(), s.role);
        return changeAnswer(await s.deploy(putApp(s.root, def, s.nowIso()), { force }));
      }
      const partial = req.query.partialUpdate === undefined ? partialDefault : flag(req.query.partialUpdate);
      const raw = existing && partial ? merged(existing, body) : { ...body, id };
      const def = normaliseApp({ ...raw, id }, '/', s.nowIso(), s.role);
      s.events.emit('api_post_event', { clientIp: req.ip, uri: `/v2/apps${id}`, appDefinition: def });
      const d = await s.deploy(putApp(s.root, def, s.nowIso()), { force });
      if (!existing) reply.status(201);
      return changeAnswer(d);
    };
    app.put(
      '/v2/apps/*',
      { config: { action: WRITE }, schema: { params: Params, querystring: ChangeQuery, body: Body } },
      (req, reply) => update(req, true, reply),
    );
    app.patch(
      '/v2/apps/*',
      { config: { action: WRITE }, schema: { params: Params, querystring: ChangeQuery, body: Body } },
      (req, reply) => update(req, true, reply),
    );

    app.post(
      '/v2/apps/*',
      { config: { action: WRITE }, schema: { params: Params, querystring: ChangeQuery, body: Type.Optional(Body) } },
      async (req) => {
        const s = ctx.service();
        const { id, sub } = parse(req.params['*']);
        if (sub !== 'restart') throw new UnknownId(`no route for POST /v2/apps/${req.params['*']}`);
        s.requireApp(id);
        return changeAnswer(await s.deploy(s.root, { force: flag(req.query.force), restart: new Set([id]) }));
      },
    );

    app.delete(
      '/v2/apps/*',
      { config: { action: WRITE }, schema: { params: Params, querystring: ChangeQuery } },
      async (req) => {
        const s = ctx.service();
        const { id, sub, arg } = parse(req.params['*']);
        const q = req.query;
        if (sub === '') {
          s.requireApp(id);
          const d = await s.deploy(removeApp(s.root, id, s.nowIso()), { force: flag(q.force) });
          return changeAnswer(d);
        }
        const def = s.requireApp(id);
        if (sub === 'tasks' || sub === 'task') {
          let ids = s.scheduler.instancesOf(id).filter(isActive);
          if (sub === 'task') {
            ids = ids.filter((i) => i.taskId === arg);
            if (ids.length === 0) throw new UnknownId(`Task '${arg}' does not exist`);
          }
          if (q.host) ids = ids.filter((i) => i.host === q.host);
          const before = ids.map((i) => taskJson(i, def));
          const out = await s.killTasks(
            ids.map((i) => i.taskId),
            { scale: flag(q.scale), wipe: flag(q.wipe), force: flag(q.force) },
          );
          if (out.deployment) return changeAnswer(out.deployment);
          return sub === 'task' ? { task: before[0] } : { tasks: before };
        }
        throw new UnknownId(`no route for DELETE /v2/apps/${req.params['*']}`);
      },
    );
  };
}

function single(s: MarathonService, id: string, embed: string | string[] | undefined): Record<string, unknown> {
  const def = s.requireApp(id);
  return { app: appJson(def, s.scheduler, parseEmbed(embed, 'app', true)) };
}
